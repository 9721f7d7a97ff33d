/*-------------------------------------------------------------------------
 *
 * build.c
 *	  gridflow_build(drop_dir): every layer, from one drop, in the caller's
 *	  transaction; gridflow_rebuild(): every layer again from the files of
 *	  the recorded batches.
 *
 * Both truncate the layer tables (so a failure rolls back to the previous
 * state, and under wal_level = minimal nothing below is WAL-logged), then
 * stream the files of every utility, utility by utility and kind by kind,
 * through the loader: landing, standardized, and for reads their product
 * rows and daily summaries (product.c, experience.c).  The files of one
 * kind are de-duplicated together, in batch order, so a rebuild ends where
 * the incremental loads of the same files ended.  Indexes are built once at
 * the end, then the tables are analyzed.  Builds, rebuilds and ingests
 * exclude one another through a lock on gridflow.batch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "conform.h"
#include "gridflow.h"

PG_FUNCTION_INFO_V1(gridflow_build);
PG_FUNCTION_INFO_V1(gridflow_rebuild);

typedef GfBuildBatch BuildBatch;
typedef GfConfigFile BuildFile;
typedef GfBuildStep BuildStep;

static const char *const kind_order[] = {"service_point", "meter", "assignment", "interval"};
static const GfFileKind kind_value[] = {GF_KIND_SERVICE_POINT, GF_KIND_METER, GF_KIND_ASSIGNMENT,
GF_KIND_INTERVAL};

/* Run one SQL statement through SPI; an ERROR if it fails. */
void
gf_spi_exec(const char *sql, int expected)
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
 * Read the configuration: enabled utilities (all of them if all_utilities)
 * in build order, and for each its files in kind order with their column
 * maps, their paths below drop_dir (if given).  Everything is copied into
 * cxt.
 */
List *
gf_read_config(const char *drop_dir, bool all_utilities, MemoryContext cxt)
{
	List	   *files = NIL;
	List	   *utilities = NIL;
	MemoryContext old;
	ListCell   *lc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (SPI_execute(all_utilities ?
					"SELECT utility_id, time_zone, service_point_link, meter_link_policy, "
					"interval_dedup_policy FROM gridflow.utility "
					"ORDER BY build_order, utility_id" :
					"SELECT utility_id, time_zone, service_point_link, meter_link_policy, "
					"interval_dedup_policy FROM gridflow.utility WHERE enabled "
					"ORDER BY build_order, utility_id", false, 0) != SPI_OK_SELECT)
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
		gf_conform_read_utility(u, cxt);
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
									  2, types, args, NULL, false, 0) != SPI_OK_SELECT)
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
			bf->file.rel_path = rel;
			bf->file.path = drop_dir ? psprintf("%s/%s", drop_dir, rel) : NULL;
			bf->file.delimiter = gf_file_dialect_byte(spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2),
													  "delimiter", kind_order[k], u->utility_id);
			bf->file.quote = gf_file_dialect_byte(spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3),
												  "quote", kind_order[k], u->utility_id);
			if (bf->file.delimiter == bf->file.quote)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("delimiter and quote of the %s file of utility \"%s\" are the same",
								kind_order[k], u->utility_id)));
			MemoryContextSwitchTo(old);

			if (SPI_execute_with_args("SELECT target_column::text, source_column, format, null_values "
									  "FROM gridflow.column_map WHERE utility_id = $1 AND file_kind = $2 "
									  "ORDER BY target_column",
									  2, types, args, NULL, false, 0) != SPI_OK_SELECT)
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

				CHECK_FOR_INTERRUPTS();
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
					{
						CHECK_FOR_INTERRUPTS();
						if (!enulls[j])
							m->nulls[m->nnulls++] = TextDatumGetCString(elems[j]);
					}
				}
			}
			files = lappend(files, bf);
			MemoryContextSwitchTo(old);
			gf_conform_read_file(u, &bf->file, cxt);
		}
	}
	SPI_finish();
	return files;
}

/*
 * Insert the batch row of a file about to be read (with its checksum, when
 * it is known beforehand), numbered batch_id or, if that is 0, the next
 * number; returns its number.
 */
static int64
batch_insert(int64 batch_id, int64 build_id, const char *utility_id, GfFileKind kind,
			 const char *path, const uint8 *sha256)
{
	Datum		args[6];
	Oid			types[6] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID, INT8OID};
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	int64		id;

	args[0] = Int64GetDatum(build_id);
	args[1] = CStringGetTextDatum(utility_id);
	args[2] = CStringGetTextDatum(gf_kind_name(kind));
	args[3] = CStringGetTextDatum(path);
	if (sha256 != NULL)
		args[4] = PointerGetDatum(gf_sha256_bytea(sha256));
	else
		nulls[4] = 'n';
	args[5] = Int64GetDatum(batch_id);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(batch_id == 0 ?
							  "INSERT INTO gridflow.batch (build_id, utility_id, file_kind, "
							  "file_path, content_sha256, started_at) "
							  "VALUES ($1, $2, $3, $4, $5, clock_timestamp()) RETURNING batch_id" :
							  "INSERT INTO gridflow.batch (batch_id, build_id, utility_id, file_kind, "
							  "file_path, content_sha256, started_at) "
							  "VALUES ($6, $1, $2, $3, $4, $5, clock_timestamp()) RETURNING batch_id",
							  6, types, args, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "gridflow: could not record batch");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

int64
gf_batch_begin(int64 build_id, const char *utility_id, GfFileKind kind, const char *path,
			   const uint8 *sha256)
{
	return batch_insert(0, build_id, utility_id, kind, path, sha256);
}

/* SHA-256 digest as a bytea. */
bytea *
gf_sha256_bytea(const uint8 *digest)
{
	bytea	   *b = palloc(VARHDRSZ + 32);

	SET_VARSIZE(b, VARHDRSZ + 32);
	memcpy(VARDATA(b), digest, 32);
	return b;
}

/* Record the figures of a loaded file. */
void
gf_batch_end(int64 batch_id, GfLoadStats *s)
{
	Datum		args[12];
	Oid			types[12] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
	TEXTARRAYOID, INT4OID, BYTEAOID, INT8OID, INT8OID};
	Datum	   *hdr;
	int			n = list_length(s->header);
	int			i = 0;
	ListCell   *lc;

	hdr = palloc(sizeof(Datum) * Max(n, 1));
	foreach(lc, s->header)
	{
		CHECK_FOR_INTERRUPTS();
		hdr[i++] = CStringGetTextDatum((char *) lfirst(lc));
	}
	args[0] = Int64GetDatum(batch_id);
	args[1] = Int64GetDatum(s->file_bytes);
	args[2] = Int64GetDatum(s->records_read);
	args[3] = Int64GetDatum(s->records_rejected);
	args[4] = Int64GetDatum(s->rows_invalid);
	args[5] = Int64GetDatum(s->rows_duplicate);
	args[6] = Int64GetDatum(s->rows_kept);
	args[7] = PointerGetDatum(construct_array(hdr, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[8] = Int32GetDatum(s->spilled_partitions);
	args[9] = PointerGetDatum(gf_sha256_bytea(s->sha256));
	args[10] = Int64GetDatum(s->rows_matched);
	args[11] = Int64GetDatum(s->rows_replaced);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("UPDATE gridflow.batch SET file_bytes = $2, records_read = $3, "
							  "records_rejected = $4, rows_invalid = $5, rows_duplicate = $6, "
							  "rows_kept = $7, header = $8, spill_partitions = $9, "
							  "content_sha256 = $10, rows_matched = $11, rows_replaced = $12, "
							  "finished_at = clock_timestamp(), status = 'loaded' WHERE batch_id = $1",
							  12, types, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "gridflow: could not record batch figures");
	SPI_finish();
	/* local times and unpivoted reads, when there are any */
	gf_conform_record_batch(batch_id, s);
}

/* Start the build's log row; returns its id. */
int64
gf_build_begin(const char *operation, const char *drop_dir)
{
	Datum		args[3];
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;
	int64		id;

	args[0] = CStringGetTextDatum(operation);
	if (drop_dir != NULL)
		args[1] = CStringGetTextDatum(drop_dir);
	else
		nulls[1] = 'n';
	/* the build runs as the extension owner: record who called it */
	args[2] = CStringGetTextDatum(GetUserNameFromId(gf_calling_role(), false));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("INSERT INTO gridflow.build (operation, drop_dir, started_at, built_by) "
							  "VALUES ($1, $2, clock_timestamp(), $3) RETURNING build_id",
							  3, types, args, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "gridflow: could not record build");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

/*
 * The drop directory a build function was given (its first argument; NULL
 * means the shipped sample), canonical, into drop_dir (MAXPGPATH bytes).
 */
void
gf_drop_dir_arg(FunctionCallInfo fcinfo, char *drop_dir)
{
	if (PG_ARGISNULL(0))
		gf_sample_dir(drop_dir, MAXPGPATH);
	else
	{
		char	   *d = text_to_cstring(PG_GETARG_TEXT_PP(0));

		if (strlen(d) >= MAXPGPATH)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("drop directory path is too long")));
		strlcpy(drop_dir, d, MAXPGPATH);
		canonicalize_path(drop_dir);
	}
}

/* A build needs at least one configured file. */
void
gf_require_config_files(List *files)
{
	if (files == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no utility files are configured"),
				 errhint("Enable a utility in gridflow.utility and list its files in gridflow.source_file.")));
}

/*
 * The statistics target of the ANALYZE that ends a build, as
 * gridflow.statistics_target says (callers skip ANALYZE when it is 0);
 * returns the GUC nest level to give AtEOXact_GUC(true, ...) after it.
 */
int
gf_statistics_begin(void)
{
	int			nest = NewGUCNestLevel();

	if (gf_statistics_target > 0)
		(void) set_config_option("default_statistics_target",
								 psprintf("%d", gf_statistics_target),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	return nest;
}

void
gf_build_add_step(List **steps, const char *step, const char *table, int64 rows, double ms)
{
	BuildStep  *s = palloc(sizeof(BuildStep));

	s->step = step;
	s->table = table;
	s->rows = rows;
	s->ms = ms;
	*steps = lappend(*steps, s);
}

/* A NOTICE per phase when gridflow.progress is on. */
void
gf_progress_notice(const char *what, int64 rows, double ms)
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

	gf_progress_notice(psprintf("index %s", table), -1, index_ms);
	gf_build_add_step(steps, step, table, rows, write_ms + index_ms);
}

/* End the writer of a utility partition (indexing it); returns its rows. */
static int64
end_partition(GfBulk *b, double *ms, const char *table)
{
	TimestampTz t0 = GetCurrentTimestamp();
	int64		rows = (int64) gf_bulk_end(b);
	double		index_ms = ms_since(t0);

	*ms += index_ms;
	gf_progress_notice(psprintf("index a partition of %s", table), rows, index_ms);
	return rows;
}

/* The packed landing table has the columns gf_chunk_*() write. */
void
gf_check_landing_layout(GfBulk *landing)
{
	TupleDesc	d = gf_bulk_tupdesc(landing);

	if (d->natts != 5 || gf_attnum(d, "batch_id", true) != 0 ||
		gf_attnum(d, "first_line", true) != 1 || gf_attnum(d, "last_line", true) != 2 ||
		gf_attnum(d, "records", true) != 3 || gf_attnum(d, "data", true) != 4)
		elog(ERROR, "gridflow: unexpected layout of landing.source_chunk");
}

/* Return the steps as the function's result rows. */
void
gf_build_return_steps(ReturnSetInfo *rsinfo, List *steps)
{
	ListCell   *lc;

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
}

/* Hex of a SHA-256 digest, for messages. */
static char *
sha256_hex(const uint8 *d)
{
	char	   *s = palloc(65);

	for (int i = 0; i < 32; i++)
		snprintf(s + 2 * i, 3, "%02x", d[i]);
	return s;
}

/*
 * Builds, rebuilds and ingests exclude one another on gridflow.batch:
 * builds and rebuilds take it in EXCLUSIVE mode (readers go on), ingests
 * in ROW EXCLUSIVE mode (so that ingests of different utilities run side
 * by side; ingests of one utility queue on its configuration row).
 */
void
gf_lock_history(bool exclusive)
{
	LockRelationOid(gf_relation_oid("gridflow", "batch"),
					exclusive ? ExclusiveLock : RowExclusiveLock);
}

/*
 * A writer of schema.table's rows for utility u, routed to its month
 * partitions (made as needed; a build may replace partitions of an older
 * shape, since it emptied them).
 */
GfBulk *
gf_month_writer(GfUtility *u, const char *schema, const char *table, const char *range_column)
{
	Oid			parent = gf_utility_partition(schema, table, u->utility_id, range_column, true);
	Relation	rel = table_open(parent, AccessShareLock);
	GfRoute    *route = gf_month_route(u, schema, table, parent, RelationGetDescr(rel), true);

	table_close(rel, NoLock);
	return gf_bulk_begin_routed(parent, false, route);
}

/* A subquery of the batch numbers of a utility. */
static char *
utility_batches(const char *utility_id)
{
	return psprintf("(SELECT b.batch_id FROM gridflow.batch b WHERE b.utility_id OPERATOR(pg_catalog.=) %s)",
					quote_literal_cstr(utility_id));
}

/*
 * Empty what a build writes.  GF_SCOPE_ALL: every layer and the history.
 * GF_SCOPE_COORDINATOR: the same, but of the layers of reads only the
 * partitions that are tables of this database (the foreign ones are the
 * shards', which build them).  GF_SCOPE_UTILITY: the rows of one utility
 * (its batches, landed records, rejects, dimensions and partitions), and
 * the batches whose numbers its new ones take.
 */
static void
clear_layers(GfBuildScope scope, bool rebuild, List *files)
{
	if (scope == GF_SCOPE_ALL)
	{
		gf_spi_exec(rebuild ?
					"TRUNCATE landing.source_chunk, landing.reject, standardized.service_point, "
					"standardized.meter, standardized.meter_assignment, standardized.interval_read, "
					"product.usage_interval, experience.daily_usage" :
					"TRUNCATE landing.source_chunk, landing.reject, standardized.service_point, "
					"standardized.meter, standardized.meter_assignment, standardized.interval_read, "
					"product.usage_interval, experience.daily_usage, gridflow.batch RESTART IDENTITY",
					SPI_OK_UTILITY);
		return;
	}
	if (scope == GF_SCOPE_COORDINATOR)
	{
		gf_spi_exec("TRUNCATE landing.source_chunk, landing.reject, standardized.service_point, "
					"standardized.meter, standardized.meter_assignment, gridflow.shard_stage_read, "
					"gridflow.batch RESTART IDENTITY",
					SPI_OK_UTILITY);
		gf_local_partitions_command("TRUNCATE ", NULL);
		return;
	}
	/* one utility */
	{
		GfUtility  *u = ((GfConfigFile *) linitial(files))->utility;
		const char *uid = quote_literal_cstr(u->utility_id);
		const char *mine = utility_batches(u->utility_id);
		StringInfoData taken;
		ListCell   *lc;

		initStringInfo(&taken);
		foreach(lc, files)
		{
			ListCell   *bc;

			foreach(bc, ((GfConfigFile *) lfirst(lc))->batches)
				appendStringInfo(&taken, "%s" INT64_FORMAT, taken.len > 0 ? ", " : "",
								 ((BuildBatch *) lfirst(bc))->batch_id);
		}
		if (taken.len == 0)
			appendStringInfoString(&taken, "NULL");
		gf_spi_exec(psprintf("DELETE FROM landing.source_chunk WHERE batch_id IN %s "
							 "OR batch_id IN (%s)", mine, taken.data), SPI_OK_DELETE);
		gf_spi_exec(psprintf("DELETE FROM landing.reject WHERE batch_id IN %s "
							 "OR batch_id IN (%s)", mine, taken.data), SPI_OK_DELETE);
		gf_spi_exec(psprintf("DELETE FROM gridflow.batch WHERE utility_id OPERATOR(pg_catalog.=) %s "
							 "OR batch_id IN (%s)", uid, taken.data), SPI_OK_DELETE);
		gf_spi_exec(psprintf("DELETE FROM standardized.service_point WHERE utility_id OPERATOR(pg_catalog.=) %s", uid),
					SPI_OK_DELETE);
		gf_spi_exec(psprintf("DELETE FROM standardized.meter WHERE utility_id OPERATOR(pg_catalog.=) %s", uid),
					SPI_OK_DELETE);
		gf_spi_exec(psprintf("DELETE FROM standardized.meter_assignment WHERE utility_id OPERATOR(pg_catalog.=) %s", uid),
					SPI_OK_DELETE);
		gf_local_partitions_command("TRUNCATE ", u->utility_id);
	}
}

/*
 * Analyze what a build wrote: every table (GF_SCOPE_ALL), or the shared
 * tables and this database's own partitions of the layers of reads (the
 * shards analyze theirs), or the shared tables and one utility's
 * partitions.
 */
static void
analyze_layers(GfBuildScope scope, List *files)
{
	if (scope == GF_SCOPE_ALL)
		gf_spi_exec("ANALYZE landing.reject, standardized.service_point, "
					"standardized.meter, standardized.meter_assignment, standardized.interval_read, "
					"product.usage_interval, experience.daily_usage, gridflow.batch",
					SPI_OK_UTILITY);
	else
	{
		gf_spi_exec("ANALYZE landing.reject, standardized.service_point, "
					"standardized.meter, standardized.meter_assignment, gridflow.batch",
					SPI_OK_UTILITY);
		gf_local_partitions_command("ANALYZE ", scope == GF_SCOPE_UTILITY ?
									((GfConfigFile *) linitial(files))->utility->utility_id : NULL);
	}
}

/*
 * Load every BuildFile's batches into the layers, kind by kind and utility
 * by utility, after emptying what scope says; steps gets the figures of
 * each table.  A build records the batches as it goes (numbered in order,
 * or as the coordinator numbered them: a batch_id set beforehand); a
 * rebuild loads the recorded ones and checks that each file still has the
 * content it had.  A utility placed remotely (distribute.c) only gets its
 * batches numbered; one whose reads are staged has its reads written to
 * gridflow.shard_stage_read, without products and days (its shards make
 * them).
 */
/* what a build is doing, for the context of its errors (and cancels) */
static void
build_phase_callback(void *arg)
{
	const char *const *what = arg;

	if (*what != NULL)
		errcontext("gridflow build: %s", *what);
}

void
gf_build_layers(List *files, int64 build_id, GfBuildScope scope, bool rebuild, List **steps)
{
	ErrorContextCallback phase_cb;
	const char *phase = NULL;
	GfLoadTargets t;
	TimestampTz t0;
	double		read_ms = 0;
	double		write_ms[4] = {0, 0, 0, 0};
	int64		partition_rows[3] = {0, 0, 0};
	double		partition_ms[3] = {0, 0, 0};
	int64		staged_rows = 0;
	double		staged_ms = 0;
	bool		local_reads = (scope != GF_SCOPE_COORDINATOR);
	ListCell   *lc;

	phase_cb.callback = build_phase_callback;
	phase_cb.arg = &phase;
	phase_cb.previous = error_context_stack;
	error_context_stack = &phase_cb;

	clear_layers(scope, rebuild, files);

	memset(&t, 0, sizeof(t));
	t.landing = gf_bulk_begin(gf_relation_oid("landing", "source_chunk"));
	t.reject = gf_bulk_begin(gf_relation_oid("landing", "reject"));
	t.service_point = gf_bulk_begin(gf_relation_oid("standardized", "service_point"));
	t.meter = gf_bulk_begin(gf_relation_oid("standardized", "meter"));
	t.assignment = gf_bulk_begin(gf_relation_oid("standardized", "meter_assignment"));
	gf_check_landing_layout(t.landing);

	foreach(lc, files)
	{
		BuildFile  *bf = lfirst(lc);
		ListCell   *next = lnext(files, lc);
		bool		last_of_utility = (next == NULL ||
									   ((BuildFile *) lfirst(next))->utility != bf->utility);
		GfPlacement place = bf->utility->placement;

		if (bf->batches != NIL && place == GF_PLACE_REMOTE)
		{
			ListCell   *bc;

			/* numbered here, read and built by its shard */
			foreach(bc, bf->batches)
			{
				BuildBatch *bb = lfirst(bc);

				bb->batch_id = gf_batch_begin(build_id, bf->utility->utility_id,
											  bf->file.kind, bb->path, NULL);
			}
		}
		else if (bf->batches != NIL)
		{
			GfLoad	   *load;
			ListCell   *bc;
			double		ms;

			/*
			 * Each utility's reads, products and days go to its own
			 * partitions, month by month; or the reads to the stage.
			 */
			if (t.interval == NULL && place == GF_PLACE_STAGED)
				t.interval = gf_bulk_begin(gf_relation_oid("gridflow", "shard_stage_read"));
			else if (t.interval == NULL)
			{
				local_reads = true;
				t.interval = gf_month_writer(bf->utility, "standardized", "interval_read",
											 "interval_start_ts");
				t.product = gf_month_writer(bf->utility, "product", "usage_interval", "local_date");
				t.experience = gf_month_writer(bf->utility, "experience", "daily_usage", "local_date");
			}

			load = gf_load_begin(&t, bf->utility, &bf->file);
			foreach(bc, bf->batches)
			{
				BuildBatch *bb = lfirst(bc);

				phase = psprintf("reading the %s file of utility %s", gf_kind_name(bf->file.kind),
								 bf->utility->utility_id);
				if (!rebuild)
					bb->batch_id = batch_insert(bb->batch_id, build_id, bf->utility->utility_id,
												bf->file.kind, bb->path, NULL);
				gf_load_file(load, bb->path, bb->batch_id, &bb->stats);
				if (rebuild && bb->sha256 != NULL &&
					(VARSIZE_ANY_EXHDR(bb->sha256) != 32 ||
					 memcmp(VARDATA_ANY(bb->sha256), bb->stats.sha256, 32) != 0))
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("file \"%s\" of batch " INT64_FORMAT " has changed since it was loaded",
									bb->path, bb->batch_id),
							 errdetail("Its SHA-256 is now %s.", sha256_hex(bb->stats.sha256)),
							 errhint("Put the file back as it was, or start the history again with gridflow_build().")));
				read_ms += bb->stats.read_ms;
				gf_progress_notice(psprintf("read %s %s file %s (%lld bytes)", bf->utility->utility_id,
								  gf_kind_name(bf->file.kind), bb->path,
								  (long long) bb->stats.file_bytes),
						 bb->stats.records_read + bb->stats.records_rejected, bb->stats.read_ms);
			}
			phase = psprintf(bf->file.kind == GF_KIND_INTERVAL && place != GF_PLACE_STAGED ?
							 "writing the %s rows of utility %s, with their products and days" :
							 "writing the %s rows of utility %s",
							 gf_kind_name(bf->file.kind), bf->utility->utility_id);
			ms = gf_load_end(load);
			phase = NULL;
			if (place == GF_PLACE_STAGED && bf->file.kind == GF_KIND_INTERVAL)
				staged_ms += ms;
			else
				write_ms[bf->file.kind] += ms;
			if (!rebuild)
				foreach(bc, bf->batches)
					gf_batch_end(((BuildBatch *) lfirst(bc))->batch_id,
								 &((BuildBatch *) lfirst(bc))->stats);
			gf_progress_notice(psprintf("write %s %s rows", bf->utility->utility_id,
							  gf_kind_name(bf->file.kind)), -1, ms);
		}

		if (last_of_utility)
		{
			/* the utility's partitions are complete: index them */
			if (t.interval != NULL && place == GF_PLACE_STAGED)
			{
				staged_rows += (int64) gf_bulk_end(t.interval);
				t.interval = NULL;
			}
			else if (t.interval != NULL)
			{
				partition_rows[0] += end_partition(t.interval, &partition_ms[0], "standardized.interval_read");
				partition_rows[1] += end_partition(t.product, &partition_ms[1], "product.usage_interval");
				partition_rows[2] += end_partition(t.experience, &partition_ms[2], "experience.daily_usage");
				t.interval = t.product = t.experience = NULL;
				/* months of an earlier build that this one did not fill */
				gf_drop_empty_months(gf_utility_partition("standardized", "interval_read",
														  bf->utility->utility_id, "interval_start_ts", true));
				gf_drop_empty_months(gf_utility_partition("product", "usage_interval",
														  bf->utility->utility_id, "local_date", true));
				gf_drop_empty_months(gf_utility_partition("experience", "daily_usage",
														  bf->utility->utility_id, "local_date", true));
			}
			/* its service points and meters are no longer needed */
			gf_utility_done(bf->utility);
		}
	}

	end_target(steps, t.landing, "landing", "landing.source_record", read_ms);
	/* row count of the view, not of its chunks */
	((BuildStep *) llast(*steps))->rows = (int64) spi_count("SELECT sum(records)::bigint FROM landing.source_chunk");
	end_target(steps, t.reject, "landing", "landing.reject", 0);
	end_target(steps, t.service_point, "standardized", "standardized.service_point",
			   write_ms[GF_KIND_SERVICE_POINT]);
	end_target(steps, t.meter, "standardized", "standardized.meter", write_ms[GF_KIND_METER]);
	end_target(steps, t.assignment, "standardized", "standardized.meter_assignment", 0);
	if (local_reads)
	{
		gf_build_add_step(steps, "standardized", "standardized.interval_read", partition_rows[0],
				 write_ms[GF_KIND_INTERVAL] + partition_ms[0]);
		gf_build_add_step(steps, "product", "product.usage_interval", partition_rows[1], partition_ms[1]);
		gf_build_add_step(steps, "experience", "experience.daily_usage", partition_rows[2], partition_ms[2]);
	}
	if (staged_rows > 0)
		gf_build_add_step(steps, "stage", "gridflow.shard_stage_read", staged_rows, staged_ms);

	if (gf_statistics_target != 0)
	{
		int			nest = gf_statistics_begin();

		t0 = GetCurrentTimestamp();
		/* the packed landing chunks are read whole or by key: no statistics */
		analyze_layers(scope, files);
		AtEOXact_GUC(true, nest);
		gf_build_add_step(steps, "analyze", NULL, -1, ms_since(t0));
		gf_progress_notice("analyze", -1, ms_since(t0));
	}
	error_context_stack = phase_cb.previous;
}

/* Record the end of a run. */
void
gf_build_end(int64 build_id)
{
	gf_spi_exec(psprintf("UPDATE gridflow.build SET finished_at = clock_timestamp() "
						 "WHERE build_id = " INT64_FORMAT, build_id),
				SPI_OK_UPDATE);
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
	TimestampTz start = GetCurrentTimestamp();
	int64		build_id;
	ListCell   *lc;

	gf_drop_dir_arg(fcinfo, drop_dir);
	gf_check_database_encoding();
	/* the caller's rights checked, the build runs as the extension owner */
	gf_build_enter(drop_dir, &security);

	InitMaterializedSRF(fcinfo, 0);
	build_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow build",
									  ALLOCSET_DEFAULT_SIZES);

	gf_lock_history(true);
	gf_refuse_distributed(NULL, "gridflow_build()");
	files = gf_read_config(drop_dir, false, build_cxt);
	gf_require_config_files(files);
	/* one batch per configured file */
	foreach(lc, files)
	{
		BuildFile  *bf = lfirst(lc);
		BuildBatch *bb = MemoryContextAllocZero(build_cxt, sizeof(BuildBatch));

		bb->path = bf->file.path;
		bf->batches = list_make1(bb);
	}

	build_id = gf_build_begin("build", drop_dir);
	gf_build_layers(files, build_id, GF_SCOPE_ALL, false, &steps);
	gf_build_end(build_id);
	gf_build_add_step(&steps, "total", NULL, -1, ms_since(start));
	gf_build_return_steps(rsinfo, steps);

	gf_build_leave(&security);
	MemoryContextDelete(build_cxt);
	return (Datum) 0;
}

/*
 * SQL: gridflow_rebuild() RETURNS SETOF (step, table_name, row_count,
 * elapsed_ms): every layer again from the files of the recorded batches,
 * with today's configuration.  The history stays; each file must still
 * have the content it had when it was loaded.
 */
Datum
gridflow_rebuild(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	GfBuildSecurity security;
	MemoryContext build_cxt;
	MemoryContext old;
	List	   *files;
	List	   *steps = NIL;
	TimestampTz start = GetCurrentTimestamp();
	int64		build_id;
	ListCell   *lc;

	gf_check_database_encoding();
	gf_build_enter(NULL, &security);

	InitMaterializedSRF(fcinfo, 0);
	build_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow build",
									  ALLOCSET_DEFAULT_SIZES);

	gf_lock_history(true);
	gf_refuse_distributed(NULL, "gridflow_rebuild()");
	files = gf_read_config(NULL, true, build_cxt);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT batch_id, utility_id, file_kind, file_path, content_sha256 "
					"FROM gridflow.batch WHERE status = 'loaded' ORDER BY batch_id",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.batch");
	old = MemoryContextSwitchTo(build_cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		batch_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		char	   *utility_id = SPI_getvalue(tup, desc, 2);
		char	   *kind = SPI_getvalue(tup, desc, 3);
		Datum		sha = SPI_getbinval(tup, desc, 5, &isnull);
		BuildFile  *target = NULL;
		BuildBatch *bb;

		foreach(lc, files)
		{
			BuildFile  *bf = lfirst(lc);

			if (strcmp(bf->utility->utility_id, utility_id) == 0 &&
				strcmp(gf_kind_name(bf->file.kind), kind) == 0)
				target = bf;
		}
		if (target == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("batch " INT64_FORMAT " is a %s file of utility \"%s\", which has no such file configured any more",
							batch_id, kind, utility_id),
					 errhint("Configure the file again in gridflow.source_file, or start the history again with gridflow_build().")));
		bb = palloc0(sizeof(BuildBatch));
		bb->batch_id = batch_id;
		bb->path = SPI_getvalue(tup, desc, 4);
		bb->sha256 = isnull ? NULL : DatumGetByteaPCopy(sha);
		target->batches = lappend(target->batches, bb);
	}
	MemoryContextSwitchTo(old);
	SPI_finish();

	build_id = gf_build_begin("rebuild", NULL);
	gf_build_layers(files, build_id, GF_SCOPE_ALL, true, &steps);
	gf_build_end(build_id);
	gf_build_add_step(&steps, "total", NULL, -1, ms_since(start));
	gf_build_return_steps(rsinfo, steps);

	gf_build_leave(&security);
	MemoryContextDelete(build_cxt);
	return (Datum) 0;
}
