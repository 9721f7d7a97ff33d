/*-------------------------------------------------------------------------
 *
 * shard.c
 *	  Shards, the shard's side: the work a coordinator queues in
 *	  gridflow.shard_task, done when the coordinator reads the view
 *	  gridflow.shard_run (distribute.c).
 *
 * Everything arrives through postgres_fdw, in the remote transaction that
 * the coordinator's transaction opened here: the task rows, the
 * configuration of the utility in them (copied over this database's, as a
 * reference table would be), and for a utility split by hash its service
 * points, meters, assignments and this shard's reads, in the stage tables.
 * The coordinator then scans gridflow.shard_run, whose function does the
 * tasks in order and returns what each wrote; the work commits or rolls
 * back with the coordinator.
 *
 * A whole utility (build_utility) is built from the shard's own drop
 * directory by the same code as gridflow_build(), replacing that utility's
 * rows only, with the batch numbers the coordinator gave.  A hash part
 * (build_hash_part) takes the staged dimensions, then writes the staged
 * reads into its month partitions in service point order while the
 * product writer (product.c) makes their product rows and daily
 * summaries, as a build does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
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
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "gridflow.h"
#include "keytable.h"

PG_FUNCTION_INFO_V1(gridflow_shard_run_tasks);

/* one row of gridflow.shard_task */
typedef struct ShardTask
{
	int64		task_id;
	char	   *tag;
	char	   *operation;
	char	   *utility_id;
	char	   *drop_dir;
	int64		build_id;
	List	   *kinds;			/* of char * */
	List	   *batch_ids;		/* of int64 *, as kinds */
	char	   *configuration;	/* jsonb as text */
	char	   *version;
} ShardTask;

/* Run one statement through SPI; the rows it processed. */
static uint64
spi_rows(const char *sql, int expected)
{
	uint64		rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 0) != expected)
		elog(ERROR, "gridflow: \"%s\" failed", sql);
	rows = SPI_processed;
	SPI_finish();
	return rows;
}

static double
ms_since(TimestampTz start)
{
	return (double) (GetCurrentTimestamp() - start) / 1000.0;
}

/*
 * The tasks that caller queued in this transaction, in order.  Tasks of
 * other transactions are never done: those that committed (left by an
 * earlier transaction of the owner) are deleted, those of transactions
 * still running are not visible.  Only the owner of the extension writes
 * the queue (70_distribute.sql); binding the work to the transaction and
 * the role that queued it means that nothing queued beforehand, by
 * whomever, runs in a coordinator's build.
 */
static List *
read_tasks(Oid caller, MemoryContext cxt)
{
	List	   *tasks = NIL;
	MemoryContext old;
	Datum		arg = CStringGetDatum(GetUserNameFromId(caller, false));
	Oid			type = NAMEOID;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("DELETE FROM gridflow.shard_task "
					"WHERE xact_id OPERATOR(pg_catalog.<>) pg_catalog.pg_current_xact_id()",
					false, 0) != SPI_OK_DELETE)
		elog(ERROR, "gridflow: could not clear gridflow.shard_task");
	if (SPI_processed > 0)
		ereport(WARNING,
				(errmsg("deleted " UINT64_FORMAT " task(s) of gridflow.shard_task queued by other transactions",
						SPI_processed),
				 errdetail("A shard does only the work queued in the transaction that reads gridflow.shard_run.")));
	if (SPI_execute_with_args("SELECT task_id, tag, operation, utility_id, drop_dir, build_id, "
							  "file_kinds, batch_ids, configuration::text, gridflow_version "
							  "FROM gridflow.shard_task "
							  "WHERE xact_id OPERATOR(pg_catalog.=) pg_catalog.pg_current_xact_id() "
							  "AND queued_by OPERATOR(pg_catalog.=) $1 ORDER BY task_id",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.shard_task");
	old = MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ShardTask  *t = palloc0(sizeof(ShardTask));
		bool		isnull;
		Datum		d;

		t->task_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		t->tag = SPI_getvalue(tup, desc, 2);
		t->operation = SPI_getvalue(tup, desc, 3);
		t->utility_id = SPI_getvalue(tup, desc, 4);
		t->drop_dir = SPI_getvalue(tup, desc, 5);
		t->build_id = DatumGetInt64(SPI_getbinval(tup, desc, 6, &isnull));
		d = SPI_getbinval(tup, desc, 7, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *nulls;
			int			n;

			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &nulls, &n);
			for (int k = 0; k < n; k++)
				t->kinds = lappend(t->kinds, nulls[k] ? pstrdup("") : TextDatumGetCString(elems[k]));
		}
		d = SPI_getbinval(tup, desc, 8, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *nulls;
			int			n;

			deconstruct_array(DatumGetArrayTypeP(d), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
							  &elems, &nulls, &n);
			for (int k = 0; k < n; k++)
			{
				int64	   *id = palloc(sizeof(int64));

				*id = nulls[k] ? 0 : DatumGetInt64(elems[k]);
				t->batch_ids = lappend(t->batch_ids, id);
			}
		}
		t->configuration = SPI_getvalue(tup, desc, 9);
		t->version = SPI_getvalue(tup, desc, 10);
		tasks = lappend(tasks, t);
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	return tasks;
}

/* "a = EXCLUDED.a, ..." for the columns of a table but its key */
static char *
excluded_set(const char *schema, const char *table, const char *key)
{
	TupleDesc	desc = gf_relation_desc(schema, table);
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);
		const char *name = quote_identifier(NameStr(a->attname));

		if (a->attisdropped || strcmp(NameStr(a->attname), key) == 0)
			continue;
		appendStringInfo(&buf, "%s%s = EXCLUDED.%s", buf.len > 0 ? ", " : "", name, name);
	}
	return buf.data;
}

/*
 * The coordinator's configuration of the task's utility, over this
 * database's: its row, its files, column maps, channels and validation
 * rules replaced, every unit added or updated.
 */
static void
apply_configuration(ShardTask *t)
{
	Datum		args[2];
	Oid			types[2] = {TEXTOID, TEXTOID};
	const char *sql[] = {
		"INSERT INTO gridflow.unit SELECT x.* FROM pg_catalog.jsonb_populate_recordset("
		"NULL::gridflow.unit, $1::jsonb OPERATOR(pg_catalog.->) 'unit') x "
		"ON CONFLICT (unit) DO UPDATE SET %s",
		"INSERT INTO gridflow.utility SELECT x.* FROM pg_catalog.jsonb_populate_record("
		"NULL::gridflow.utility, $1::jsonb OPERATOR(pg_catalog.->) 'utility') x "
		"WHERE x.utility_id OPERATOR(pg_catalog.=) $2 "
		"ON CONFLICT (utility_id) DO UPDATE SET %s",
		"DELETE FROM gridflow.source_file WHERE utility_id OPERATOR(pg_catalog.=) $2 AND $1 IS NOT NULL",
		"DELETE FROM gridflow.channel WHERE utility_id OPERATOR(pg_catalog.=) $2 AND $1 IS NOT NULL",
		"DELETE FROM gridflow.vee_rule WHERE utility_id OPERATOR(pg_catalog.=) $2 AND $1 IS NOT NULL",
		"INSERT INTO gridflow.source_file SELECT x.* FROM pg_catalog.jsonb_populate_recordset("
		"NULL::gridflow.source_file, $1::jsonb OPERATOR(pg_catalog.->) 'source_file') x "
		"WHERE x.utility_id OPERATOR(pg_catalog.=) $2",
		"INSERT INTO gridflow.column_map SELECT x.* FROM pg_catalog.jsonb_populate_recordset("
		"NULL::gridflow.column_map, $1::jsonb OPERATOR(pg_catalog.->) 'column_map') x "
		"WHERE x.utility_id OPERATOR(pg_catalog.=) $2",
		"INSERT INTO gridflow.channel SELECT x.* FROM pg_catalog.jsonb_populate_recordset("
		"NULL::gridflow.channel, $1::jsonb OPERATOR(pg_catalog.->) 'channel') x "
		"WHERE x.utility_id OPERATOR(pg_catalog.=) $2",
		"INSERT INTO gridflow.vee_rule SELECT x.* FROM pg_catalog.jsonb_populate_recordset("
		"NULL::gridflow.vee_rule, $1::jsonb OPERATOR(pg_catalog.->) 'vee_rule') x "
		"WHERE x.utility_id OPERATOR(pg_catalog.=) $2",
	};

	args[0] = CStringGetTextDatum(t->configuration);
	args[1] = CStringGetTextDatum(t->utility_id);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int i = 0; i < lengthof(sql); i++)
	{
		char	   *q = (char *) sql[i];
		int			rc;

		if (i == 0)
			q = psprintf(sql[i], excluded_set("gridflow", "unit", "unit"));
		else if (i == 1)
			q = psprintf(sql[i], excluded_set("gridflow", "utility", "utility_id"));
		rc = SPI_execute_with_args(q, 2, types, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT && rc != SPI_OK_DELETE)
			elog(ERROR, "gridflow: could not copy the configuration of utility \"%s\": %s",
				 t->utility_id, SPI_result_code_string(rc));
		if (i == 1 && SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the coordinator sent no configuration row for utility \"%s\"", t->utility_id)));
	}
	SPI_finish();
}

/* The configured files of one utility, their batches numbered as given. */
static List *
utility_files(ShardTask *t, MemoryContext cxt, bool with_batches)
{
	List	   *config = gf_read_config(t->drop_dir, true, cxt);
	List	   *files = NIL;
	ListCell   *lc;

	foreach(lc, config)
	{
		GfConfigFile *cf = lfirst(lc);
		ListCell   *kc;
		ListCell   *ic;

		if (strcmp(cf->utility->utility_id, t->utility_id) != 0)
			continue;
		if (with_batches)
		{
			forboth(kc, t->kinds, ic, t->batch_ids)
			{
				if (strcmp(lfirst(kc), gf_kind_name(cf->file.kind)) == 0)
				{
					GfBuildBatch *bb = MemoryContextAllocZero(cxt, sizeof(GfBuildBatch));

					bb->path = cf->file.path;
					bb->batch_id = *(int64 *) lfirst(ic);
					cf->batches = lappend(cf->batches, bb);
				}
			}
			if (cf->batches == NIL)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("the coordinator numbered no batch for the %s file of utility \"%s\"",
								gf_kind_name(cf->file.kind), t->utility_id)));
		}
		files = lappend(files, cf);
	}
	if (files == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("utility \"%s\" has no files configured on this shard", t->utility_id)));
	return files;
}

/* A whole utility: the same build as gridflow_build(), for its rows only. */
static List *
build_utility(ShardTask *t, MemoryContext cxt)
{
	GfBuildSecurity security;
	List	   *files;
	List	   *steps = NIL;
	int64		build_id;

	if (t->drop_dir == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the coordinator sent no drop directory for utility \"%s\"", t->utility_id)));
	/* the caller (the coordinator's user mapping) must be able to read it */
	gf_build_enter(t->drop_dir, &security);
	files = utility_files(t, cxt, true);
	build_id = gf_build_begin("build", t->drop_dir);
	gf_build_layers(files, build_id, GF_SCOPE_UTILITY, false, &steps);
	gf_build_end(build_id);
	gf_swap_layers(list_make1(t->utility_id), false, build_id, &steps);
	gf_build_leave(&security);
	return steps;
}

/*
 * A hash part of a utility: the staged dimensions replace the utility's,
 * then the staged reads go, in service point order, into the utility's
 * month partitions here with their product rows and daily summaries.
 */
static List *
build_hash_part(ShardTask *t, MemoryContext cxt)
{
	GfBuildSecurity security;
	List	   *files;
	List	   *steps = NIL;
	GfUtility  *u;
	GfLoadTargets targets;
	GfProductWriter  *em;
	Portal		portal;
	Datum		arg;
	Oid			type = TEXTOID;
	TimestampTz t0 = GetCurrentTimestamp();
	const char *uid = quote_literal_cstr(t->utility_id);
	static const GfStore dims[] = {GF_STORE_SERVICE_POINT, GF_STORE_METER, GF_STORE_ASSIGNMENT};
	int64		rows[3];
	int64		reads = 0;

	gf_build_enter(NULL, &security);
	files = utility_files(t, cxt, false);
	u = ((GfConfigFile *) linitial(files))->utility;

	/*
	 * The utility's new partitions here, swapped in at the end: the staged
	 * dimensions, and landing and rejects empty (the coordinator holds
	 * them); its batches here, whatever built them, go.
	 */
	gf_spi_exec(psprintf("DELETE FROM gridflow.batch WHERE utility_id OPERATOR(pg_catalog.=) %s", uid),
				SPI_OK_DELETE);
	(void) gf_store_partition(GF_STORE_CHUNK, t->utility_id, true, true);
	(void) gf_store_partition(GF_STORE_REJECT, t->utility_id, true, true);
	for (int i = 0; i < lengthof(dims); i++)
	{
		Oid			staged = gf_store_partition(dims[i], t->utility_id, true, true);

		rows[i] = (int64) spi_rows(psprintf("INSERT INTO %s SELECT * FROM gridflow.shard_stage_%s "
											"WHERE utility_id OPERATOR(pg_catalog.=) %s",
											gf_qualified_name(staged), gf_store[dims[i]].table, uid),
								   SPI_OK_INSERT);
		gf_spi_exec(psprintf("DELETE FROM gridflow.shard_stage_%s WHERE utility_id OPERATOR(pg_catalog.=) %s",
							 gf_store[dims[i]].table, uid), SPI_OK_DELETE);
	}
	for (int i = 0; i < lengthof(dims); i++)
		gf_build_add_step(&steps, "standardized", (char *) gf_store[dims[i]].view, rows[i], 0);
	gf_build_add_step(&steps, "dimensions", NULL, -1, ms_since(t0));

	/* the reads, their products and days */
	t0 = GetCurrentTimestamp();
	CommandCounterIncrement();
	u->kept_service_points = gf_kept_from_table(u, GF_STORE_SERVICE_POINT, "service_point_id", true, u->cxt);
	u->kept_meters = gf_kept_from_table(u, GF_STORE_METER, "meter_id", true, u->cxt);
	memset(&targets, 0, sizeof(targets));
	targets.interval = gf_store_writer(u, GF_STORE_READ, true);
	targets.product = gf_store_writer(u, GF_STORE_PRODUCT, true);
	targets.experience = gf_store_writer(u, GF_STORE_DAY, true);
	em = gf_product_begin(&targets, u, gf_bulk_tupdesc(targets.interval));

	arg = u->utility_datum;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* grouped by service point, as the product writer needs them */
	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT * FROM gridflow.shard_stage_read "
									   "WHERE utility_id OPERATOR(pg_catalog.=) $1 "
									   "ORDER BY service_point_id COLLATE \"C\", interval_start_ts, "
									   "meter_id COLLATE \"C\", channel COLLATE \"C\"",
									   1, &type, &arg, NULL, false, 0);
	for (;;)
	{
		TupleDesc	desc;

		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		desc = SPI_tuptable->tupdesc;
		if (desc->natts != gf_bulk_tupdesc(targets.interval)->natts)
			elog(ERROR, "gridflow: gridflow.shard_stage_read does not have the columns of standardized.interval_read");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			TupleTableSlot *slot = gf_bulk_slot(targets.interval);
			HeapTuple	tup = SPI_tuptable->vals[i];

			CHECK_FOR_INTERRUPTS();
			heap_deform_tuple(tup, desc, slot->tts_values, slot->tts_isnull);
			gf_product_read(em, slot);
			gf_bulk_store(targets.interval, tup->t_len);
			reads++;
		}
		/* the rows point into the fetched tuples: write them before they go */
		gf_bulk_flush(targets.interval);
		gf_product_flush(em);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	gf_product_end(em);
	{
		double		write_ms = ms_since(t0);
		TimestampTz i0 = GetCurrentTimestamp();
		int64		r = (int64) gf_bulk_end(targets.interval);
		int64		p = (int64) gf_bulk_end(targets.product);
		int64		e = (int64) gf_bulk_end(targets.experience);

		gf_build_add_step(&steps, "standardized", "standardized.interval_read", r, write_ms);
		gf_build_add_step(&steps, "product", "product.usage_interval", p, 0);
		gf_build_add_step(&steps, "experience", "experience.daily_usage", e, ms_since(i0));
		i0 = GetCurrentTimestamp();
		e = (int64) gf_month_rollup(gf_store_partition(GF_STORE_DAY, u->utility_id, true, false),
									gf_store_partition(GF_STORE_MONTH, u->utility_id, true, true),
									(Datum) 0, (Datum) 0);
		gf_build_add_step(&steps, "experience", "experience.monthly_usage", e, ms_since(i0));
	}
	gf_spi_exec(psprintf("DELETE FROM gridflow.shard_stage_read WHERE utility_id OPERATOR(pg_catalog.=) %s",
						 uid), SPI_OK_DELETE);
	gf_utility_done(u);
	(void) reads;
	/* analyzed and swapped in, as a build ends (the coordinator keeps the DQ of the whole utility) */
	gf_swap_layers(list_make1(t->utility_id), false, 0, &steps);
	gf_build_leave(&security);
	return steps;
}

/*
 * SQL: gridflow.shard_run_tasks() RETURNS SETOF (tag, task_id, utility_id,
 * step, table_name, row_count, elapsed_ms): do the queued tasks, in order;
 * what each wrote, then its total.  The view gridflow.shard_run returns
 * the same, for the coordinator's foreign table.
 */
Datum
gridflow_shard_run_tasks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	GfBuildSecurity security;
	MemoryContext cxt;
	MemoryContext old;
	List	   *tasks;
	char	   *version;
	Oid			caller;
	ListCell   *lc;

	gf_check_database_encoding();
	InitMaterializedSRF(fcinfo, 0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow shard", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/* the tasks are read, and the configuration written, as the owner */
	caller = gf_calling_role();
	gf_build_enter(NULL, &security);
	gf_lock_history(true);
	tasks = read_tasks(caller, cxt);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT extversion FROM pg_catalog.pg_extension "
					"WHERE extname OPERATOR(pg_catalog.=) 'gridflow'", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "gridflow: could not read the version of the extension");
	version = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	gf_build_leave(&security);

	foreach(lc, tasks)
	{
		ShardTask  *t = lfirst(lc);
		TimestampTz start = GetCurrentTimestamp();
		List	   *steps;
		ListCell   *sc;

		CHECK_FOR_INTERRUPTS();
		if (strcmp(t->version, version) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("this shard has gridflow %s and its coordinator gridflow %s", version, t->version),
					 errhint("Install the same version of gridflow on every node (ALTER EXTENSION gridflow UPDATE).")));
		gf_build_enter(NULL, &security);
		apply_configuration(t);
		gf_build_leave(&security);
		CommandCounterIncrement();

		if (strcmp(t->operation, "build_utility") == 0)
			steps = build_utility(t, cxt);
		else if (strcmp(t->operation, "build_hash_part") == 0)
			steps = build_hash_part(t, cxt);
		else
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("unknown shard task \"%s\"", t->operation)));
		gf_build_add_step(&steps, "total", NULL, -1, ms_since(start));

		foreach(sc, steps)
		{
			GfBuildStep *s = lfirst(sc);
			Datum		values[7];
			bool		nulls[7] = {false, false, false, false, false, false, false};

			values[0] = CStringGetTextDatum(t->tag);
			values[1] = Int64GetDatum(t->task_id);
			values[2] = CStringGetTextDatum(t->utility_id);
			values[3] = CStringGetTextDatum(psprintf("%s %s: %s", t->utility_id,
													 strcmp(t->operation, "build_utility") == 0 ?
													 "build" : "hash part", s->step));
			if (s->table)
				values[4] = CStringGetTextDatum(s->table);
			else
				nulls[4] = true;
			values[5] = Int64GetDatum(s->rows);
			nulls[5] = (s->rows < 0);
			values[6] = Float8GetDatum(s->ms);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		CommandCounterIncrement();
	}

	/* done: nothing of this transaction stays queued */
	gf_build_enter(NULL, &security);
	gf_spi_exec("DELETE FROM gridflow.shard_task "
				"WHERE xact_id OPERATOR(pg_catalog.=) pg_catalog.pg_current_xact_id()", SPI_OK_DELETE);
	gf_build_leave(&security);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}
