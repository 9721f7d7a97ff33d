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

static double
ms_since(TimestampTz start)
{
	return (double) (GetCurrentTimestamp() - start) / 1000.0;
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

/* Hex of a SHA-256 digest, for messages. */
static char *
sha256_hex(const uint8 *d)
{
	char	   *s = palloc(65);

	for (int i = 0; i < 32; i++)
		snprintf(s + 2 * i, 3, "%02x", d[i]);
	return s;
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
					bb->batch_id = gf_batch_insert(bb->batch_id, build_id, bf->utility->utility_id,
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
	((GfBuildStep *) llast(*steps))->rows = (int64) spi_count("SELECT sum(records)::bigint FROM landing.source_chunk");
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
