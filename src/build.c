/*-------------------------------------------------------------------------
 *
 * build.c
 *	  gridflow_build(drop_dir): every layer, from one drop, in the caller's
 *	  transaction; gridflow_rebuild(): every layer again from the files of
 *	  the recorded batches.
 *
 * Both write every utility into new partitions of the layers, made apart
 * in the build's transaction (so a failure leaves the previous state, and
 * under wal_level = minimal nothing below is WAL-logged), streaming the
 * files of every utility, utility by utility and kind by kind, through the
 * loader: landing, standardized, and for reads their product rows and
 * daily summaries (product.c, experience.c).  The files of one kind are
 * de-duplicated together, in batch order, so a rebuild ends where the
 * incremental loads of the same files ended.  Each partition's indexes are
 * built once it is written; at the end the new partitions are analyzed and
 * swapped in (swap.c), under locks held for the catalog changes alone, so
 * that readers read the previous build until the new one commits.
 * Builds, rebuilds and ingests exclude one another through a lock on
 * gridflow.batch.
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

static double
ms_since(TimestampTz start)
{
	return (double) (GetCurrentTimestamp() - start) / 1000.0;
}

/* End a writer (building its indexes); its rows, and the time taken into *ms. */
static int64
end_writer(GfBulk *b, double *ms, const char *table)
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

/*
 * What a build empties.  The layers it does not: it makes every utility's
 * partitions anew, apart, and swaps them in when it ends (swap.c); the
 * partitions a failed build left are not there (its transaction made
 * them).  GF_SCOPE_ALL and GF_SCOPE_COORDINATOR: the history of batches,
 * which a build starts again from 1 (a rebuild keeps it), and on a
 * coordinator what its last build staged for the shards.  GF_SCOPE_UTILITY:
 * the batches of one utility, and the batches whose numbers its new ones
 * take.
 */
static void
clear_history(GfBuildScope scope, bool rebuild, List *files)
{
	if (scope == GF_SCOPE_COORDINATOR)
		gf_spi_exec("TRUNCATE gridflow.shard_stage_read", SPI_OK_UTILITY);
	if (scope != GF_SCOPE_UTILITY)
	{
		/*
		 * Row by row, and the numbers restarted by the sequence alone:
		 * readers of the batches go on (ALTER TABLE ... RESTART would lock
		 * them out until the build commits).
		 */
		if (!rebuild)
		{
			gf_spi_exec("DELETE FROM gridflow.batch", SPI_OK_DELETE);
			gf_spi_exec("SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('gridflow.batch', 'batch_id'), 1, false)",
						SPI_OK_SELECT);
		}
		return;
	}
	/* one utility */
	{
		GfUtility  *u = ((GfConfigFile *) linitial(files))->utility;
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
		gf_spi_exec(psprintf("DELETE FROM gridflow.batch WHERE utility_id OPERATOR(pg_catalog.=) %s "
							 "OR batch_id IN (%s)", quote_literal_cstr(u->utility_id), taken.data),
					SPI_OK_DELETE);
	}
}

/*
 * Load every BuildFile's batches into new partitions of the layers, kind
 * by kind and utility by utility; steps gets the figures of each table.
 * The partitions are made apart (gridflow_next) and swapped in by the
 * caller, last (gf_swap_layers()).  A build records the batches as it
 * goes (numbered in order, or as the coordinator numbered them: a batch_id
 * set beforehand); a rebuild loads the recorded ones and checks that each
 * file still has the content it had.  A utility placed remotely
 * (distribute.c) only gets its batches numbered; one whose reads are
 * staged has its reads written to gridflow.shard_stage_read, without
 * products and days (its shards make them).
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
	double		read_ms = 0;
	double		write_ms[4] = {0, 0, 0, 0};
	int64		rows[GF_STORE_TABLES] = {0};
	double		index_ms[GF_STORE_TABLES] = {0};
	int64		landed = 0;
	int64		staged_rows = 0;
	double		staged_ms = 0;
	bool		local_reads = (scope != GF_SCOPE_COORDINATOR);
	ListCell   *lc;

	phase_cb.callback = build_phase_callback;
	phase_cb.arg = &phase;
	phase_cb.previous = error_context_stack;
	error_context_stack = &phase_cb;

	clear_history(scope, rebuild, files);
	gf_dq_acc_reset();
	memset(&t, 0, sizeof(t));

	foreach(lc, files)
	{
		BuildFile  *bf = lfirst(lc);
		ListCell   *next = lnext(files, lc);
		bool		first_of_utility = (foreach_current_index(lc) == 0 ||
										((BuildFile *) list_nth(files, foreach_current_index(lc) - 1))->utility != bf->utility);
		bool		last_of_utility = (next == NULL ||
									   ((BuildFile *) lfirst(next))->utility != bf->utility);
		GfUtility  *u = bf->utility;
		GfPlacement place = u->placement;

		if (first_of_utility && place != GF_PLACE_REMOTE)
		{
			/* the utility's new partitions, written apart */
			t.landing = gf_store_writer(u, GF_STORE_CHUNK, true);
			t.reject = gf_store_writer(u, GF_STORE_REJECT, true);
			t.service_point = gf_store_writer(u, GF_STORE_SERVICE_POINT, true);
			t.meter = gf_store_writer(u, GF_STORE_METER, true);
			t.assignment = gf_store_writer(u, GF_STORE_ASSIGNMENT, true);
			gf_check_landing_layout(t.landing);
			if (place == GF_PLACE_STAGED)
				t.interval = gf_bulk_begin(gf_relation_oid("gridflow", "shard_stage_read"));
			else
			{
				local_reads = true;
				/* the DQ figures of its reads, products and days, as they are written */
				t.dq = gf_dq_acc_begin(u);
				t.interval = gf_store_writer(u, GF_STORE_READ, true);
				t.product = gf_store_writer(u, GF_STORE_PRODUCT, true);
				t.experience = gf_store_writer(u, GF_STORE_DAY, true);
				/* the months, rolled up from the days as they are written */
				t.month = gf_store_writer(u, GF_STORE_MONTH, true);
				t.months = gf_month_writer_begin(t.month, u, CurrentMemoryContext);
			}
		}

		if (bf->batches != NIL && place == GF_PLACE_REMOTE)
		{
			ListCell   *bc;

			/* numbered here, read and built by its shard */
			foreach(bc, bf->batches)
			{
				BuildBatch *bb = lfirst(bc);

				bb->batch_id = gf_batch_begin(build_id, u->utility_id, bf->file.kind, bb->path, NULL);
			}
		}
		else if (bf->batches != NIL)
		{
			GfLoad	   *load;
			ListCell   *bc;
			double		ms;

			load = gf_load_begin(&t, u, &bf->file);
			foreach(bc, bf->batches)
			{
				BuildBatch *bb = lfirst(bc);

				phase = psprintf("reading the %s file of utility %s", gf_kind_name(bf->file.kind),
								 u->utility_id);
				if (!rebuild)
					bb->batch_id = gf_batch_insert(bb->batch_id, build_id, u->utility_id,
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
				landed += bb->stats.records_read;
				gf_progress_notice(psprintf("read %s %s file %s (%lld bytes)", u->utility_id,
											gf_kind_name(bf->file.kind), bb->path,
											(long long) bb->stats.file_bytes),
								   bb->stats.records_read + bb->stats.records_rejected, bb->stats.read_ms);
			}
			phase = psprintf(bf->file.kind == GF_KIND_INTERVAL && place != GF_PLACE_STAGED ?
							 "writing the %s rows of utility %s, with their products and days" :
							 "writing the %s rows of utility %s",
							 gf_kind_name(bf->file.kind), u->utility_id);
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
			gf_progress_notice(psprintf("write %s %s rows", u->utility_id,
										gf_kind_name(bf->file.kind)), -1, ms);
		}

		if (last_of_utility && place != GF_PLACE_REMOTE)
		{
			/* the utility's partitions are complete: index them */
			phase = psprintf("indexing the new partitions of utility %s", u->utility_id);
			(void) end_writer(t.landing, &index_ms[GF_STORE_CHUNK], "landing.source_record");
			rows[GF_STORE_REJECT] += end_writer(t.reject, &index_ms[GF_STORE_REJECT], "landing.reject");
			rows[GF_STORE_SERVICE_POINT] += end_writer(t.service_point, &index_ms[GF_STORE_SERVICE_POINT],
													   "standardized.service_point");
			rows[GF_STORE_METER] += end_writer(t.meter, &index_ms[GF_STORE_METER], "standardized.meter");
			rows[GF_STORE_ASSIGNMENT] += end_writer(t.assignment, &index_ms[GF_STORE_ASSIGNMENT],
													"standardized.meter_assignment");
			if (place == GF_PLACE_STAGED)
				staged_rows += (int64) gf_bulk_end(t.interval);
			else
			{
				rows[GF_STORE_READ] += end_writer(t.interval, &index_ms[GF_STORE_READ],
												  "standardized.interval_read");
				rows[GF_STORE_PRODUCT] += end_writer(t.product, &index_ms[GF_STORE_PRODUCT],
													 "product.usage_interval");
				rows[GF_STORE_DAY] += end_writer(t.experience, &index_ms[GF_STORE_DAY],
												 "experience.daily_usage");
				gf_month_writer_end(t.months);
				rows[GF_STORE_MONTH] += end_writer(t.month, &index_ms[GF_STORE_MONTH],
												   "experience.monthly_usage");
			}
			phase = NULL;
			memset(&t, 0, sizeof(t));
		}
		/* its service points and meters are no longer needed */
		if (last_of_utility)
			gf_utility_done(u);
	}

	gf_build_add_step(steps, "landing", "landing.source_record", landed, read_ms + index_ms[GF_STORE_CHUNK]);
	gf_build_add_step(steps, "landing", "landing.reject", rows[GF_STORE_REJECT], index_ms[GF_STORE_REJECT]);
	gf_build_add_step(steps, "standardized", "standardized.service_point", rows[GF_STORE_SERVICE_POINT],
					  write_ms[GF_KIND_SERVICE_POINT] + index_ms[GF_STORE_SERVICE_POINT]);
	gf_build_add_step(steps, "standardized", "standardized.meter", rows[GF_STORE_METER],
					  write_ms[GF_KIND_METER] + index_ms[GF_STORE_METER]);
	gf_build_add_step(steps, "standardized", "standardized.meter_assignment", rows[GF_STORE_ASSIGNMENT],
					  index_ms[GF_STORE_ASSIGNMENT]);
	if (local_reads)
	{
		gf_build_add_step(steps, "standardized", "standardized.interval_read", rows[GF_STORE_READ],
						  write_ms[GF_KIND_INTERVAL] + index_ms[GF_STORE_READ]);
		gf_build_add_step(steps, "product", "product.usage_interval", rows[GF_STORE_PRODUCT],
						  index_ms[GF_STORE_PRODUCT]);
		gf_build_add_step(steps, "experience", "experience.daily_usage", rows[GF_STORE_DAY],
						  index_ms[GF_STORE_DAY]);
		gf_build_add_step(steps, "experience", "experience.monthly_usage", rows[GF_STORE_MONTH],
						  index_ms[GF_STORE_MONTH]);
	}
	if (staged_rows > 0)
		gf_build_add_step(steps, "stage", "gridflow.shard_stage_read", staged_rows, staged_ms);
	error_context_stack = phase_cb.previous;
}

/* The utilities of a build's files, once each, in order. */
List *
gf_build_utilities(List *files)
{
	List	   *ids = NIL;
	ListCell   *lc;

	foreach(lc, files)
	{
		char	   *uid = ((BuildFile *) lfirst(lc))->utility->utility_id;

		if (ids == NIL || strcmp(llast(ids), uid) != 0)
			ids = lappend(ids, uid);
	}
	return ids;
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

	gf_drop_dir_arg(fcinfo, drop_dir, "gridflow_build");
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
	gf_swap_layers(gf_build_utilities(files), true, build_id, &steps);
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
	gf_swap_layers(gf_build_utilities(files), true, build_id, &steps);
	gf_build_add_step(&steps, "total", NULL, -1, ms_since(start));
	gf_build_return_steps(rsinfo, steps);

	gf_build_leave(&security);
	MemoryContextDelete(build_cxt);
	return (Datum) 0;
}
