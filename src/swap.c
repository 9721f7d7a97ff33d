/*-------------------------------------------------------------------------
 *
 * swap.c
 *	  The end of a build: the partitions it made in gridflow_next replace
 *	  the utilities' partitions in gridflow_store, under locks held only for
 *	  the catalog changes that the replacement is.
 *
 * A build writes every utility it builds into new partitions, apart
 * (partition.c), while readers go on reading the previous build: it takes
 * no lock they would wait for.  When it is done, each table of
 * gridflow_store is locked ACCESS EXCLUSIVE, in the order of gf_store[]
 * (the one order builds, ingests and the documented reader paths share),
 * the old partitions are detached and dropped, the new ones moved into
 * gridflow_store and attached (their CHECK on utility_id spares the scan),
 * and the tables' statistics as a whole are taken again.  The locks are
 * held until the build's transaction commits: the swap is the last thing
 * a build does.
 *
 * A reader holding a table the swap needs makes it wait, but readers
 * never wait long for the swap, and never in a deadlock.  Before each
 * attempt the swap waits, holding no lock that readers want, for the
 * transactions that hold the tables to end (as CREATE INDEX CONCURRENTLY
 * waits for older transactions); an attempt then has a short while for
 * all its locks (GF_SWAP_ATTEMPT_MS, doubled by each failed attempt, but
 * always less than half of deadlock_timeout), and when they are not
 * granted in time (readers came in between) gives every lock it took back
 * (a subtransaction rolled back) and starts again.  So a report that
 * reads one layer, then another, in one transaction is never caught
 * between the swap's locks, readers queued behind the swap's request wait
 * no longer than one attempt, and no reader fails because of a swap;
 * readers whose statements all outlast an attempt, one after the other
 * without a pause, make it wait until there is one.  The build's
 * statement_timeout or lock_timeout, or a cancel, ends the waiting.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/vacuum.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "gridflow.h"

/*
 * How long the first attempt waits for all its locks; each failed attempt
 * doubles it, up to half of deadlock_timeout (and at most
 * GF_SWAP_ATTEMPT_MAX_MS).  A reader that waits for a lock the swap holds
 * started waiting after the attempt began, so the attempt gives up before
 * the reader's deadlock_timeout runs out: when the two wait for each
 * other, the swap, not the reader, is the one that gives up.
 */
#define GF_SWAP_ATTEMPT_MS 50
#define GF_SWAP_ATTEMPT_MAX_MS 500

/* one partition to replace: the old one (if any), the new one (if any) */
typedef struct SwapItem
{
	GfStore		t;
	char	   *utility_id;
	Oid			old;
	Oid			staged;
} SwapItem;

/*
 * What to replace: for every table, the staged partition of each utility
 * of the list, and the partition it replaces (a utility's partition here
 * that the build made nothing for is dropped: a utility a coordinator's
 * shard now reads has no landing chunks here); with drop_others, also the
 * local partitions of utilities that are not in the list (a full build
 * holds every utility, so the others are gone).  Partitions that are a
 * shard's (distribute.c) are left as they are.
 */
static List *
plan_swap(List *utilities, bool drop_others)
{
	List	   *plan = NIL;

	for (int t = 0; t < GF_STORE_TABLES; t++)
	{
		ListCell   *lc;

		foreach(lc, utilities)
		{
			char	   *uid = lfirst(lc);
			Oid			staged = gf_store_partition((GfStore) t, uid, true, false);
			Oid			old = get_relname_relid(gf_partition_name(gf_store[t].table, uid, ""),
												get_namespace_oid("gridflow_store", false));
			SwapItem   *item;

			/* a shard's partition stays; so does one this build made nothing for, if a shard's */
			if (OidIsValid(old) && gf_partition_is_distributed(old))
				old = InvalidOid;
			if (!OidIsValid(staged) && !OidIsValid(old))
				continue;
			if (OidIsValid(old))
				old = gf_store_partition((GfStore) t, uid, false, false);
			item = palloc0(sizeof(SwapItem));
			item->t = (GfStore) t;
			item->utility_id = uid;
			item->staged = staged;
			item->old = old;
			plan = lappend(plan, item);
		}
		if (drop_others)
		{
			foreach(lc, gf_store_partitions((GfStore) t, true))
			{
				Oid			relid = lfirst_oid(lc);
				char	   *uid = gf_partition_utility(relid);
				bool		built = false;
				ListCell   *uc;

				foreach(uc, utilities)
					if (uid != NULL && strcmp(uid, lfirst(uc)) == 0)
						built = true;
				if (!built)
				{
					SwapItem   *item = palloc0(sizeof(SwapItem));

					item->t = (GfStore) t;
					item->utility_id = uid;
					item->old = relid;
					plan = lappend(plan, item);
				}
			}
		}
	}
	return plan;
}

/* The catalog changes of the swap (every table locked already). */
static void
swap_partitions(List *plan)
{
	ListCell   *lc;

	foreach(lc, plan)
	{
		SwapItem   *item = lfirst(lc);
		const char *qparent = gf_qualified_name(gf_store_oid(item->t));

		if (OidIsValid(item->old))
		{
			const char *qold = gf_qualified_name(item->old);

			gf_spi_exec(psprintf("ALTER TABLE %s DETACH PARTITION %s", qparent, qold), SPI_OK_UTILITY);
			gf_spi_exec(psprintf("DROP TABLE %s", qold), SPI_OK_UTILITY);
		}
		if (OidIsValid(item->staged))
		{
			List	   *tree = find_all_inheritors(item->staged, NoLock, NULL);
			ListCell   *tc;

			foreach(tc, tree)
				gf_spi_exec(psprintf("ALTER TABLE %s SET SCHEMA gridflow_store",
									 gf_qualified_name(lfirst_oid(tc))),
							SPI_OK_UTILITY);
			gf_spi_exec(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%s)",
								 qparent, gf_qualified_name(item->staged),
								 quote_literal_cstr(item->utility_id)),
						SPI_OK_UTILITY);
		}
	}
}

/*
 * Before an attempt: wait, holding no lock that readers want, for the
 * transactions that hold any table the plan changes to end (as CREATE
 * INDEX CONCURRENTLY waits for older transactions), table by table in the
 * order of gf_store[]; say so the first time, and every 20 attempts.
 */
static void
wait_for_readers(List *plan, int attempt)
{
	for (int t = 0; t < GF_STORE_TABLES; t++)
	{
		ListCell   *lc;

		foreach(lc, plan)
			if (((SwapItem *) lfirst(lc))->t == t)
			{
				Oid			relid = gf_store_oid((GfStore) t);
				LOCKTAG		tag;
				int			holders;

				SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
				(void) GetLockConflicts(&tag, AccessExclusiveLock, &holders);
				if (holders == 0)
					break;
				if (attempt == 1 || attempt % 20 == 0)
					ereport(NOTICE,
							(errmsg("gridflow: waiting for %d transaction%s reading %s to end, to swap in the new build",
									holders, holders == 1 ? "" : "s", gf_store[t].view),
							 errdetail("The build holds no lock that readers wait for meanwhile.")));
				WaitForLockers(tag, AccessExclusiveLock, false);
				break;
			}
	}
}

/*
 * One attempt: lock the tables the plan changes, in the order of
 * gf_store[], all within timeout_ms, and swap.  false, with every lock of
 * the attempt released, when the locks were not granted in time.
 */
static bool
try_swap(List *plan, int timeout_ms)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool done = false;
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		int			nest = NewGUCNestLevel();

		for (int t = 0; t < GF_STORE_TABLES; t++)
		{
			ListCell   *lc;

			foreach(lc, plan)
				if (((SwapItem *) lfirst(lc))->t == t)
				{
					long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);

					/* what is left of the attempt's time, for this lock */
					(void) set_config_option("lock_timeout", psprintf("%ld", Max(left, 1)),
											 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
					LockRelationOid(gf_store_oid((GfStore) t), AccessExclusiveLock);
					break;
				}
		}
		swap_partitions(plan);
		AtEOXact_GUC(true, nest);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		done = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return done;
}

/*
 * The statistics of the tables the swap changed, as a whole (each
 * partition was analyzed before the swap): the inherited statistics of
 * each table, from a sample of its partitions.
 */
static void
analyze_tables(List *plan)
{
	VacuumParams params;
	bool		done[GF_STORE_TABLES] = {false};
	int			nest = gf_statistics_begin();
	ListCell   *lc;

	memset(&params, 0, sizeof(params));
	params.options = VACOPT_ANALYZE;
	params.freeze_min_age = -1;
	params.freeze_table_age = -1;
	params.multixact_freeze_min_age = -1;
	params.multixact_freeze_table_age = -1;
	params.log_min_duration = -1;
	params.index_cleanup = VACOPTVALUE_UNSPECIFIED;
	params.truncate = VACOPTVALUE_UNSPECIFIED;
	foreach(lc, plan)
	{
		SwapItem   *item = lfirst(lc);

		if (done[item->t] || item->t == GF_STORE_CHUNK)
			continue;
		done[item->t] = true;
		CommandCounterIncrement();
		analyze_rel(gf_store_oid(item->t), NULL, &params, NIL, true, NULL);
	}
	AtEOXact_GUC(true, nest);
}

/*
 * Store the data-quality figures of each utility built (build_id 0: none,
 * a shard building part of a utility), from the partitions the build made,
 * or for a utility whose layers are a shard's, from those that reach it;
 * steps gets a "dq" step.  With drop_others, the figures of the utilities
 * not built stop being current.
 */
static void
refresh_dq(List *utilities, bool drop_others, int64 build_id, List *plan, List **steps)
{
	TimestampTz start = GetCurrentTimestamp();
	ListCell   *lc;

	if (build_id == 0)
		return;
	foreach(lc, utilities)
	{
		char	   *uid = lfirst(lc);
		Oid			rels[GF_STORE_TABLES];
		ListCell   *pc;

		for (int t = 0; t < GF_STORE_TABLES; t++)
		{
			Oid			live = get_relname_relid(gf_partition_name(gf_store[t].table, uid, ""),
												 get_namespace_oid("gridflow_store", false));

			/* a shard's partitions are read where they are */
			rels[t] = OidIsValid(live) && gf_partition_is_distributed(live) ? live : InvalidOid;
		}
		foreach(pc, plan)
		{
			SwapItem   *item = lfirst(pc);

			if (OidIsValid(item->staged) && item->utility_id != NULL && strcmp(item->utility_id, uid) == 0)
				rels[item->t] = item->staged;
		}
		CHECK_FOR_INTERRUPTS();
		/* what the build gathered while writing, for the layers it wrote */
		gf_dq_refresh(uid, build_id, rels, gf_dq_acc_get(uid) != NULL);
	}
	gf_dq_acc_reset();
	if (drop_others)
		gf_dq_forget_others(utilities);
	gf_dq_refresh_total(drop_others);
	gf_build_add_step(steps, "dq", NULL, -1, (double) (GetCurrentTimestamp() - start) / 1000.0);
}

/* what the end of a build is doing, for the context of its errors (and cancels) */
static void
swap_phase_callback(void *arg)
{
	const char *const *what = arg;

	if (*what != NULL)
		errcontext("gridflow build: %s", *what);
}

/*
 * Where the layers of reads are distributed with Citus (citus.c): the rows
 * of the utilities built are deleted from the Citus tables (the layers of
 * reads, and the dimensions as reference tables; with drop_others every
 * row), and the new partitions' rows moved there; the
 * partitions, emptied, are swapped in as every other (readers read the
 * distributed tables through the views).  Citus commits the workers' part
 * with the build's transaction (two-phase), so readers see the previous
 * build until then.  steps gets a "citus" step per table.
 */
static void
move_to_citus(List *plan, List *utilities, bool drop_others, List **steps)
{
	int64		rows[GF_STORE_TABLES] = {0};
	double		ms[GF_STORE_TABLES] = {0};
	TimestampTz t0 = GetCurrentTimestamp();
	ListCell   *lc;

	gf_citus_clear_layers(utilities, drop_others);
	gf_build_add_step(steps, "citus", "previous rows deleted", -1,
					  (double) (GetCurrentTimestamp() - t0) / 1000.0);
	foreach(lc, plan)
	{
		SwapItem   *item = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (gf_citus_store(item->t) && OidIsValid(item->staged))
		{
			t0 = GetCurrentTimestamp();
			rows[item->t] += gf_citus_load_layer(item->t, item->staged);
			ms[item->t] += (double) (GetCurrentTimestamp() - t0) / 1000.0;
		}
	}
	for (int t = 0; t < GF_STORE_TABLES; t++)
		if (gf_citus_store(t))
			gf_build_add_step(steps, "citus", gf_store[t].view, rows[t], ms[t]);
}

/*
 * Swap in the partitions a build made for utilities, and with drop_others
 * drop those of the utilities it did not build; steps gets an "analyze"
 * step (the new partitions) and a "swap" step (from the first attempt to
 * lock the tables to the end).  The build's last step.
 */
void
gf_swap_layers(List *utilities, bool drop_others, int64 build_id, List **steps)
{
	TimestampTz start = GetCurrentTimestamp();
	List	   *plan = plan_swap(utilities, drop_others);
	ListCell   *lc;
	int			attempts = 0;
	TimestampTz locked;
	ErrorContextCallback phase_cb;
	const char *phase = NULL;

	if (plan == NIL)
	{
		refresh_dq(utilities, drop_others, build_id, NIL, steps);
		return;
	}
	phase_cb.callback = swap_phase_callback;
	phase_cb.arg = &phase;
	phase_cb.previous = error_context_stack;
	error_context_stack = &phase_cb;
	/* the old partitions out of the extension, so that they can be dropped */
	foreach(lc, plan)
	{
		SwapItem   *item = lfirst(lc);

		if (OidIsValid(item->old))
			gf_partition_release(item->old);
	}
	CommandCounterIncrement();
	/* the new ones are analyzed before readers can see them */
	phase = "analyzing the new partitions";
	if (gf_statistics_target != 0)
	{
		int			nest = gf_statistics_begin();
		StringInfoData sql;

		initStringInfo(&sql);
		foreach(lc, plan)
		{
			SwapItem   *item = lfirst(lc);

			/* the packed landing chunks are read whole or by key: no statistics */
			if (OidIsValid(item->staged) && item->t != GF_STORE_CHUNK)
				appendStringInfo(&sql, "%s%s", sql.len > 0 ? ", " : "ANALYZE ",
								 gf_qualified_name(item->staged));
		}
		if (sql.len > 0)
			gf_spi_exec(sql.data, SPI_OK_UTILITY);
		AtEOXact_GUC(true, nest);
	}
	gf_build_add_step(steps, "analyze", NULL, -1, (double) (GetCurrentTimestamp() - start) / 1000.0);

	/* the data-quality figures of the new partitions, before readers wait */
	phase = "computing the data-quality figures";
	refresh_dq(utilities, drop_others, build_id, plan, steps);

	/* on Citus, the new rows of the layers of reads go to the workers */
	if (gf_citus_layers())
	{
		phase = "moving the layers of reads into the distributed tables";
		move_to_citus(plan, utilities, drop_others, steps);
	}

	locked = GetCurrentTimestamp();
	phase = "swapping in the new partitions";
	for (;;)
	{
		int			cap = Max(GF_SWAP_ATTEMPT_MS, Min(GF_SWAP_ATTEMPT_MAX_MS, DeadlockTimeout / 2));
		int			timeout = GF_SWAP_ATTEMPT_MS << Min(attempts, 10);

		attempts++;
		wait_for_readers(plan, attempts);
		if (try_swap(plan, Min(timeout, cap)))
			break;
		CHECK_FOR_INTERRUPTS();
	}
	phase = "analyzing the layers as a whole";
	if (gf_statistics_target != 0)
		analyze_tables(plan);
	error_context_stack = phase_cb.previous;
	gf_build_add_step(steps, "swap", NULL, -1, (double) (GetCurrentTimestamp() - locked) / 1000.0);
	gf_progress_notice(psprintf("swap in (%d attempts)", attempts), -1,
					   (double) (GetCurrentTimestamp() - locked) / 1000.0);
}
