/*-------------------------------------------------------------------------
 *
 * build.c
 *	  gridflow_build(drop_dir): every layer, from one drop, in the caller's
 *	  transaction.
 *
 * The build truncates the layer tables (so a failure rolls back to the
 * previous build, and under wal_level = minimal nothing below is
 * WAL-logged), then streams every configured file of every enabled
 * utility, utility by utility, through the loader: landing, standardized,
 * and for reads their product rows and daily summaries (emit.c).  Indexes
 * are built once at the end, then the tables are analyzed.  Concurrent
 * builds queue on the TRUNCATE's locks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "adapt.h"
#include "gridflow.h"

PG_FUNCTION_INFO_V1(gridflow_build);

typedef struct BuildFile
{
	GfUtility  *utility;
	GfSourceFile file;
} BuildFile;

typedef struct BuildStep
{
	const char *step;
	const char *table;
	int64		rows;
	double		ms;
} BuildStep;

static const char *const kind_order[] = {"service_point", "meter", "assignment", "interval"};
static const GfFileKind kind_value[] = {GF_KIND_SERVICE_POINT, GF_KIND_METER, GF_KIND_ASSIGNMENT,
GF_KIND_INTERVAL};

/* Run one SQL statement through SPI; an ERROR if it fails. */
static void
spi_exec(const char *sql, int expected)
{
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute(sql, false, 0);
	if (rc != expected)
		elog(ERROR, "gridflow: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
	SPI_finish();
}

/* The bigint result of a one-value query (0 for NULL). */
static uint64
spi_count(const char *sql)
{
	bool		isnull;
	int64		v;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "gridflow: \"%s\" failed", sql);
	v = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return isnull ? 0 : (uint64) v;
}

static char *
spi_text(HeapTuple tup, TupleDesc desc, int col)
{
	return SPI_getvalue(tup, desc, col);
}

static double
ms_since(TimestampTz start)
{
	return (double) (GetCurrentTimestamp() - start) / 1000.0;
}

/*
 * Read the configuration: enabled utilities in build order, and for each
 * its files in kind order with their column maps.  Everything is copied
 * into cxt.
 */
static List *
read_config(const char *drop_dir, MemoryContext cxt)
{
	List	   *files = NIL;
	List	   *utilities = NIL;
	MemoryContext old;
	ListCell   *lc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (SPI_execute("SELECT utility_id, time_zone, service_point_link, meter_link_policy, "
					"interval_dedup_policy FROM gridflow.utility WHERE enabled "
					"ORDER BY build_order, utility_id", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.utility");
	old = MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		GfUtility  *u = palloc0(sizeof(GfUtility));
		char	   *policy = spi_text(tup, desc, 5);

		u->utility_id = spi_text(tup, desc, 1);
		u->time_zone = spi_text(tup, desc, 2);
		u->sp_via_meter = strcmp(spi_text(tup, desc, 3), "meter") == 0;
		u->effective_dated = strcmp(spi_text(tup, desc, 4), "effective_dated") == 0;
		u->policy = strcmp(policy, "keep_last") == 0 ? GF_KEEP_LAST :
			strcmp(policy, "sum") == 0 ? GF_SUM : GF_KEEP_FIRST;
		utilities = lappend(utilities, u);
	}
	MemoryContextSwitchTo(old);

	foreach(lc, utilities)
	{
		GfUtility  *u = lfirst(lc);

		gf_utility_init(u, cxt);
		gf_adapt_read_utility(u, cxt);
		for (int k = 0; k < lengthof(kind_order); k++)
		{
			Datum		args[2];
			Oid			types[2] = {TEXTOID, TEXTOID};
			BuildFile  *bf;
			char	   *rel;

			args[0] = CStringGetTextDatum(u->utility_id);
			args[1] = CStringGetTextDatum(kind_order[k]);
			if (SPI_execute_with_args("SELECT file_path, delimiter, quote FROM gridflow.source_file "
									  "WHERE utility_id = $1 AND file_kind = $2",
									  2, types, args, NULL, true, 0) != SPI_OK_SELECT)
				elog(ERROR, "gridflow: could not read gridflow.source_file");
			if (SPI_processed == 0)
				continue;

			old = MemoryContextSwitchTo(cxt);
			bf = palloc0(sizeof(BuildFile));
			bf->utility = u;
			bf->file.kind = kind_value[k];
			rel = spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			if (is_absolute_path(rel) || path_contains_parent_reference(rel))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("file_path \"%s\" of utility \"%s\" must be relative to the drop directory, without \"..\"",
								rel, u->utility_id)));
			bf->file.path = psprintf("%s/%s", drop_dir, rel);
			bf->file.delimiter = spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)[0];
			bf->file.quote = spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3)[0];
			if (bf->file.delimiter == bf->file.quote)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("delimiter and quote of the %s file of utility \"%s\" are the same",
								kind_order[k], u->utility_id)));
			MemoryContextSwitchTo(old);

			if (SPI_execute_with_args("SELECT target_column::text, source_column, format, null_values "
									  "FROM gridflow.column_map WHERE utility_id = $1 AND file_kind = $2 "
									  "ORDER BY target_column",
									  2, types, args, NULL, true, 0) != SPI_OK_SELECT)
				elog(ERROR, "gridflow: could not read gridflow.column_map");
			old = MemoryContextSwitchTo(cxt);
			bf->file.nmaps = (int) SPI_processed;
			bf->file.maps = palloc0(sizeof(GfColumnMap) * Max(SPI_processed, 1));
			for (uint64 i = 0; i < SPI_processed; i++)
			{
				HeapTuple	tup = SPI_tuptable->vals[i];
				TupleDesc	desc = SPI_tuptable->tupdesc;
				GfColumnMap *m = &bf->file.maps[i];
				bool		isnull;
				Datum		arr;

				m->target = spi_text(tup, desc, 1);
				m->source = spi_text(tup, desc, 2);
				m->format = spi_text(tup, desc, 3);
				arr = SPI_getbinval(tup, desc, 4, &isnull);
				if (!isnull)
				{
					Datum	   *elems;
					bool	   *enulls;
					int			n;

					deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false,
									  TYPALIGN_INT, &elems, &enulls, &n);
					m->nulls = palloc(sizeof(char *) * Max(n, 1));
					for (int j = 0; j < n; j++)
						if (!enulls[j])
							m->nulls[m->nnulls++] = TextDatumGetCString(elems[j]);
				}
			}
			files = lappend(files, bf);
			MemoryContextSwitchTo(old);
			gf_adapt_read_file(u, &bf->file, cxt);
		}
	}
	SPI_finish();
	return files;
}

/* Insert the batch row of a file about to be read. */
static void
batch_begin(int64 batch_id, int64 build_id, BuildFile *bf)
{
	Datum		args[5];
	Oid			types[5] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID};

	args[0] = Int64GetDatum(batch_id);
	args[1] = Int64GetDatum(build_id);
	args[2] = CStringGetTextDatum(bf->utility->utility_id);
	args[3] = CStringGetTextDatum(gf_kind_name(bf->file.kind));
	args[4] = CStringGetTextDatum(bf->file.path);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("INSERT INTO gridflow.batch (batch_id, build_id, utility_id, file_kind, "
							  "file_path, started_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())",
							  5, types, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "gridflow: could not record batch");
	SPI_finish();
}

/* Record the figures of a loaded file. */
static void
batch_end(int64 batch_id, GfLoadStats *s)
{
	Datum		args[9];
	Oid			types[9] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
	TEXTARRAYOID, INT4OID};
	Datum	   *hdr;
	int			n = list_length(s->header);
	int			i = 0;
	ListCell   *lc;

	hdr = palloc(sizeof(Datum) * Max(n, 1));
	foreach(lc, s->header)
		hdr[i++] = CStringGetTextDatum((char *) lfirst(lc));
	args[0] = Int64GetDatum(batch_id);
	args[1] = Int64GetDatum(s->file_bytes);
	args[2] = Int64GetDatum(s->records_read);
	args[3] = Int64GetDatum(s->records_rejected);
	args[4] = Int64GetDatum(s->rows_invalid);
	args[5] = Int64GetDatum(s->rows_duplicate);
	args[6] = Int64GetDatum(s->rows_kept);
	args[7] = PointerGetDatum(construct_array(hdr, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[8] = Int32GetDatum(s->spilled_partitions);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("UPDATE gridflow.batch SET file_bytes = $2, records_read = $3, "
							  "records_rejected = $4, rows_invalid = $5, rows_duplicate = $6, "
							  "rows_kept = $7, header = $8, spill_partitions = $9, "
							  "finished_at = clock_timestamp(), status = 'loaded' WHERE batch_id = $1",
							  9, types, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "gridflow: could not record batch figures");
	SPI_finish();
}

/*
 * The partition of schema.table for a utility, created if missing (named
 * table_utility, in lower case).  Each utility's reads go to their own
 * partitions, whose indexes are built from rows written in index order.
 */
static Oid
utility_partition(const char *schema, const char *table, const char *utility_id)
{
	Oid			nsp = get_namespace_oid(schema, false);
	char	   *name = psprintf("%s_%s", table, utility_id);
	Oid			relid;

	for (char *c = name; *c; c++)
		*c = pg_tolower((unsigned char) *c);
	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("utility id \"%s\" is too long to name its partitions", utility_id)));
	relid = get_relname_relid(name, nsp);
	if (!OidIsValid(relid))
	{
		const char *qname = quote_qualified_identifier(schema, name);

		spi_exec(psprintf("CREATE TABLE %s PARTITION OF %s FOR VALUES IN (%s)",
						  qname, quote_qualified_identifier(schema, table),
						  quote_literal_cstr(utility_id)),
				 SPI_OK_UTILITY);
		spi_exec(psprintf("COMMENT ON TABLE %s IS %s", qname,
						  quote_literal_cstr(psprintf("Partition of %s.%s for utility %s, created by gridflow_build",
													  schema, table, utility_id))),
				 SPI_OK_UTILITY);
		relid = get_relname_relid(name, nsp);
	}
	if (!OidIsValid(relid) || !get_rel_relispartition(relid) ||
		get_partition_parent(relid, false) != gf_relation_oid(schema, table))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s.%s\" is not a partition of %s.%s", schema, name, schema, table)));
	return relid;
}

/* Start the build's log row; returns its id. */
static int64
build_begin(const char *drop_dir)
{
	Datum		args[2];
	Oid			types[2] = {TEXTOID, TEXTOID};
	bool		isnull;
	int64		id;

	args[0] = CStringGetTextDatum(drop_dir);
	/* the build runs as the extension owner: record who called it */
	args[1] = CStringGetTextDatum(GetUserNameFromId(gf_calling_role(), false));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("INSERT INTO gridflow.build (drop_dir, started_at, built_by) "
							  "VALUES ($1, clock_timestamp(), $2) RETURNING build_id",
							  2, types, args, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "gridflow: could not record build");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

static void
add_step(List **steps, const char *step, const char *table, int64 rows, double ms)
{
	BuildStep  *s = palloc(sizeof(BuildStep));

	s->step = step;
	s->table = table;
	s->rows = rows;
	s->ms = ms;
	*steps = lappend(*steps, s);
}

/* A NOTICE per phase when gridflow.progress is on. */
static void
progress(const char *what, int64 rows, double ms)
{
	if (!gf_progress)
		return;
	if (rows >= 0)
		ereport(NOTICE,
				(errmsg("gridflow: %s: " INT64_FORMAT " rows in %.0f ms", what, rows, ms)));
	else
		ereport(NOTICE,
				(errmsg("gridflow: %s: %.0f ms", what, ms)));
}

/*
 * End a bulk writer (rebuilding its indexes) and log it as a step whose
 * time is write_ms plus the index build.
 */
static void
end_target(List **steps, GfBulk *b, const char *step, const char *table, double write_ms)
{
	TimestampTz t0 = GetCurrentTimestamp();
	int64		rows = (int64) gf_bulk_end(b);
	double		index_ms = ms_since(t0);

	progress(psprintf("index %s", table), -1, index_ms);
	add_step(steps, step, table, rows, write_ms + index_ms);
}

/* End the writer of a utility partition (indexing it); returns its rows. */
static int64
end_partition(GfBulk *b, double *ms, const char *table)
{
	TimestampTz t0 = GetCurrentTimestamp();
	int64		rows = (int64) gf_bulk_end(b);
	double		index_ms = ms_since(t0);

	*ms += index_ms;
	progress(psprintf("index a partition of %s", table), rows, index_ms);
	return rows;
}

/* SQL: gridflow_build(drop_dir) RETURNS SETOF (step, table_name, row_count, elapsed_ms) */
Datum
gridflow_build(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	GfBuildSecurity security;
	char		drop_dir[MAXPGPATH];
	MemoryContext build_cxt;
	List	   *files;
	List	   *steps = NIL;
	GfLoadTargets t;
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz t0;
	int64		build_id;
	int64		batch_id = 0;
	double		read_ms = 0;
	double		write_ms[4] = {0, 0, 0, 0};
	int64		partition_rows[3] = {0, 0, 0};
	double		partition_ms[3] = {0, 0, 0};
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		gf_sample_dir(drop_dir, sizeof(drop_dir));
	else
	{
		char	   *d = text_to_cstring(PG_GETARG_TEXT_PP(0));

		if (strlen(d) >= MAXPGPATH)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("drop directory path is too long")));
		strlcpy(drop_dir, d, sizeof(drop_dir));
		canonicalize_path(drop_dir);
	}
	gf_check_database_encoding();
	/* the caller's rights checked, the build runs as the extension owner */
	gf_build_enter(drop_dir, &security);

	InitMaterializedSRF(fcinfo, 0);
	build_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow build",
									  ALLOCSET_DEFAULT_SIZES);

	files = read_config(drop_dir, build_cxt);
	if (files == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no utility files are configured"),
				 errhint("Enable a utility in gridflow.utility and list its files in gridflow.source_file.")));

	spi_exec("TRUNCATE landing.source_chunk, landing.reject, standardized.service_point, "
			 "standardized.meter, standardized.meter_assignment, standardized.interval_read, "
			 "product.usage_interval, experience.daily_usage, gridflow.batch",
			 SPI_OK_UTILITY);
	build_id = build_begin(drop_dir);

	memset(&t, 0, sizeof(t));
	t.landing = gf_bulk_begin(gf_relation_oid("landing", "source_chunk"));
	t.reject = gf_bulk_begin(gf_relation_oid("landing", "reject"));
	t.service_point = gf_bulk_begin(gf_relation_oid("standardized", "service_point"));
	t.meter = gf_bulk_begin(gf_relation_oid("standardized", "meter"));
	t.assignment = gf_bulk_begin(gf_relation_oid("standardized", "meter_assignment"));
	{
		TupleDesc	d = gf_bulk_tupdesc(t.landing);

		if (d->natts != 5 || gf_attnum(d, "batch_id", true) != 0 ||
			gf_attnum(d, "first_line", true) != 1 || gf_attnum(d, "last_line", true) != 2 ||
			gf_attnum(d, "records", true) != 3 || gf_attnum(d, "data", true) != 4)
			elog(ERROR, "gridflow: unexpected layout of landing.source_chunk");
	}

	foreach(lc, files)
	{
		BuildFile  *bf = lfirst(lc);
		GfLoadStats stats;
		ListCell   *next = lnext(files, lc);
		bool		last_of_utility = (next == NULL ||
									   ((BuildFile *) lfirst(next))->utility != bf->utility);

		/* each utility's reads, products and days go to its own partitions */
		if (t.interval == NULL)
		{
			t.interval = gf_bulk_begin(utility_partition("standardized", "interval_read",
														 bf->utility->utility_id));
			t.product = gf_bulk_begin(utility_partition("product", "usage_interval",
														bf->utility->utility_id));
			t.experience = gf_bulk_begin(utility_partition("experience", "daily_usage",
														   bf->utility->utility_id));
		}

		batch_begin(++batch_id, build_id, bf);
		gf_load_file(&t, bf->utility, &bf->file, batch_id, &stats);
		batch_end(batch_id, &stats);
		gf_adapt_record_batch(batch_id, &stats);
		read_ms += stats.read_ms;
		write_ms[bf->file.kind] += stats.write_ms;
		progress(psprintf("read %s %s file (%lld bytes)", bf->utility->utility_id,
						  gf_kind_name(bf->file.kind), (long long) stats.file_bytes),
				 stats.records_read + stats.records_rejected, stats.read_ms);
		progress(psprintf("write %s %s rows", bf->utility->utility_id,
						  gf_kind_name(bf->file.kind)),
				 stats.rows_kept, stats.write_ms);

		if (last_of_utility)
		{
			/* the utility's partitions are complete: index them */
			partition_rows[0] += end_partition(t.interval, &partition_ms[0], "standardized.interval_read");
			partition_rows[1] += end_partition(t.product, &partition_ms[1], "product.usage_interval");
			partition_rows[2] += end_partition(t.experience, &partition_ms[2], "experience.daily_usage");
			t.interval = t.product = t.experience = NULL;
			/* its service points and meters are no longer needed */
			gf_utility_done(bf->utility);
		}
	}

	end_target(&steps, t.landing, "landing", "landing.source_record", read_ms);
	/* row count of the view, not of its chunks */
	((BuildStep *) llast(steps))->rows = (int64) spi_count("SELECT sum(records_read)::bigint FROM gridflow.batch");
	end_target(&steps, t.reject, "landing", "landing.reject", 0);
	end_target(&steps, t.service_point, "standardized", "standardized.service_point",
			   write_ms[GF_KIND_SERVICE_POINT]);
	end_target(&steps, t.meter, "standardized", "standardized.meter", write_ms[GF_KIND_METER]);
	end_target(&steps, t.assignment, "standardized", "standardized.meter_assignment", 0);
	add_step(&steps, "standardized", "standardized.interval_read", partition_rows[0],
			 write_ms[GF_KIND_INTERVAL] + partition_ms[0]);
	add_step(&steps, "product", "product.usage_interval", partition_rows[1], partition_ms[1]);
	add_step(&steps, "experience", "experience.daily_usage", partition_rows[2], partition_ms[2]);

	if (gf_statistics_target != 0)
	{
		int			nest = NewGUCNestLevel();

		t0 = GetCurrentTimestamp();
		if (gf_statistics_target > 0)
			(void) set_config_option("default_statistics_target",
									 psprintf("%d", gf_statistics_target),
									 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
									 true, 0, false);
		spi_exec("ANALYZE landing.source_chunk, landing.reject, standardized.service_point, "
				 "standardized.meter, standardized.meter_assignment, standardized.interval_read, "
				 "product.usage_interval, experience.daily_usage, gridflow.batch",
				 SPI_OK_UTILITY);
		AtEOXact_GUC(true, nest);
		add_step(&steps, "analyze", NULL, -1, ms_since(t0));
		progress("analyze", -1, ms_since(t0));
	}

	{
		char	   *sql = psprintf("UPDATE gridflow.build SET finished_at = clock_timestamp() "
								   "WHERE build_id = " INT64_FORMAT, build_id);

		spi_exec(sql, SPI_OK_UPDATE);
	}
	add_step(&steps, "total", NULL, -1, ms_since(start));

	foreach(lc, steps)
	{
		BuildStep  *s = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(s->step);
		if (s->table)
			values[1] = CStringGetTextDatum(s->table);
		else
			nulls[1] = true;
		values[2] = Int64GetDatum(s->rows);
		nulls[2] = (s->rows < 0);
		values[3] = Float8GetDatum(s->ms);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	gf_build_leave(&security);
	MemoryContextDelete(build_cxt);
	return (Datum) 0;
}
