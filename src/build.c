/*-------------------------------------------------------------------------
 *
 * build.c
 *	  gridflow_build(drop_dir): every layer, from one drop, in the caller's
 *	  transaction.
 *
 * The build truncates the layer tables (so a failure rolls back to the
 * previous build, and under wal_level = minimal nothing below is
 * WAL-logged), then streams every configured file of every enabled
 * utility through the loader into landing and standardized, bulk-loads
 * product and experience from their defining views, rebuilds indexes and
 * analyzes.  Concurrent builds queue on the TRUNCATE's locks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

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

static const char *const kind_order[] = {"service_point", "meter", "interval"};

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
			bf->file.kind = (GfFileKind) k;
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
	Datum		args[8];
	Oid			types[8] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
	TEXTARRAYOID};
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
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("UPDATE gridflow.batch SET file_bytes = $2, records_read = $3, "
							  "records_rejected = $4, rows_invalid = $5, rows_duplicate = $6, "
							  "rows_kept = $7, header = $8, finished_at = clock_timestamp(), "
							  "status = 'loaded' WHERE batch_id = $1",
							  8, types, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "gridflow: could not record batch figures");
	SPI_finish();
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

/* End a bulk writer (rebuilding its indexes) and log it as a step. */
static void
end_target(List **steps, GfBulk *b, const char *step, const char *table, double load_ms)
{
	TimestampTz t0 = GetCurrentTimestamp();
	int64		rows = (int64) gf_bulk_end(b);

	add_step(steps, step, table, rows, load_ms + ms_since(t0));
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
	double		load_ms;
	int64		rows;
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

	spi_exec("TRUNCATE landing.source_record, landing.reject, standardized.service_point, "
			 "standardized.meter, standardized.meter_assignment, standardized.interval_read, "
			 "product.usage_interval, experience.daily_usage, gridflow.batch",
			 SPI_OK_UTILITY);
	build_id = build_begin(drop_dir);

	t.landing = gf_bulk_begin(gf_relation_oid("landing", "source_record"));
	t.reject = gf_bulk_begin(gf_relation_oid("landing", "reject"));
	t.service_point = gf_bulk_begin(gf_relation_oid("standardized", "service_point"));
	t.meter = gf_bulk_begin(gf_relation_oid("standardized", "meter"));
	t.assignment = gf_bulk_begin(gf_relation_oid("standardized", "meter_assignment"));
	t.interval = gf_bulk_begin(gf_relation_oid("standardized", "interval_read"));
	{
		TupleDesc	d = gf_bulk_tupdesc(t.landing);

		if (d->natts != 3 || gf_attnum(d, "batch_id", true) != 0 ||
			gf_attnum(d, "line_no", true) != 1 || gf_attnum(d, "record", true) != 2)
			elog(ERROR, "gridflow: unexpected layout of landing.source_record");
	}

	t0 = GetCurrentTimestamp();
	foreach(lc, files)
	{
		BuildFile  *bf = lfirst(lc);
		GfLoadStats stats;

		batch_begin(++batch_id, build_id, bf);
		gf_load_file(&t, bf->utility, &bf->file, batch_id, &stats);
		batch_end(batch_id, &stats);
	}
	load_ms = ms_since(t0);

	end_target(&steps, t.landing, "landing", "landing.source_record", load_ms);
	end_target(&steps, t.reject, "landing", "landing.reject", 0);
	end_target(&steps, t.service_point, "standardized", "standardized.service_point", 0);
	end_target(&steps, t.meter, "standardized", "standardized.meter", 0);
	end_target(&steps, t.assignment, "standardized", "standardized.meter_assignment", 0);
	end_target(&steps, t.interval, "standardized", "standardized.interval_read", 0);

	t0 = GetCurrentTimestamp();
	rows = (int64) gf_bulk_insert_query(gf_relation_oid("product", "usage_interval"),
										"SELECT * FROM gridflow.product_source");
	add_step(&steps, "product", "product.usage_interval", rows, ms_since(t0));

	t0 = GetCurrentTimestamp();
	rows = (int64) gf_bulk_insert_query(gf_relation_oid("experience", "daily_usage"),
										"SELECT * FROM gridflow.experience_source");
	add_step(&steps, "experience", "experience.daily_usage", rows, ms_since(t0));

	t0 = GetCurrentTimestamp();
	spi_exec("ANALYZE landing.source_record, landing.reject, standardized.service_point, "
			 "standardized.meter, standardized.meter_assignment, standardized.interval_read, "
			 "product.usage_interval, experience.daily_usage, gridflow.batch",
			 SPI_OK_UTILITY);
	add_step(&steps, "analyze", NULL, -1, ms_since(t0));

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
