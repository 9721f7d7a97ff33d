/*-------------------------------------------------------------------------
 *
 * ingest.c
 *	  gridflow_ingest(path, utility_id, file_kind): new files added to what
 *	  the layers hold, in the caller's transaction.
 *
 * Each file is a batch.  A file whose content (SHA-256) was loaded before
 * for the same utility and kind is not loaded again.  Otherwise its
 * records land and are de-duplicated as a build does it, except that the
 * first time a key is seen the row an earlier batch left for it is looked
 * up (through the table's unique index) and becomes the key's state, as if
 * the earlier records had just been read: the utility's dedup policy then
 * decides between the original and the new records exactly as a rebuild
 * of all the files would.  Rows that change are replaced (delete and
 * insert, indexes maintained).
 *
 * Product rows and daily summaries are then refreshed for the service
 * points whose reads changed: new or replaced reads, reads of service
 * points or meters that a dimension batch added, and reads that a meter
 * batch links to another service point.  Each service point's rows from
 * its earliest changed day on are written again from the stored reads by
 * the product writer a build uses (refresh.c), and the months of the days
 * written rolled up again, so an ingest ends where gridflow_rebuild() of
 * the same files ends; the regression tests compare the two.
 *
 * Ingests of one utility queue on its configuration row (FOR NO KEY
 * UPDATE); ingests of different utilities run side by side; builds and
 * rebuilds exclude all of them (gf_lock_history()).  Everything happens in
 * the caller's transaction: readers see the state before or after, never
 * a half.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "gridflow.h"
#include "localtime.h"
#include "keytable.h"

PG_FUNCTION_INFO_V1(gridflow_ingest);

/* what one utility's ingest works on */
typedef struct IngestUtility
{
	GfUtility  *u;
	Oid			reads;			/* its partitions (InvalidOid: none yet) */
	Oid			products;
	Oid			days;
	GfRoute    *reads_route;	/* their months */
	GfRoute    *products_route;
	GfRoute    *days_route;
	MemoryContext cxt;			/* of the whole ingest */
	bool		loaded;			/* a file of it was loaded (not unchanged) */
} IngestUtility;

/* The utility's partitions, created if create, else looked up. */
static void
utility_partitions(IngestUtility *iu, bool create)
{
	if (OidIsValid(iu->reads))
		return;
	if (!create && !OidIsValid(gf_store_partition(GF_STORE_READ, iu->u->utility_id, false, false)))
		return;
	{
		MemoryContext old = MemoryContextSwitchTo(iu->cxt);

		iu->reads = gf_store_partition(GF_STORE_READ, iu->u->utility_id, false, true);
		iu->products = gf_store_partition(GF_STORE_PRODUCT, iu->u->utility_id, false, true);
		iu->days = gf_store_partition(GF_STORE_DAY, iu->u->utility_id, false, true);
		iu->reads_route = gf_month_route(iu->u, GF_STORE_READ, iu->reads);
		iu->products_route = gf_month_route(iu->u, GF_STORE_PRODUCT, iu->products);
		iu->days_route = gf_month_route(iu->u, GF_STORE_DAY, iu->days);
		MemoryContextSwitchTo(old);
	}
}

/*
 * Refresh the product rows and daily summaries of the service points of
 * days, from their earliest day in it on (refresh.c); the days written
 * go into days too.
 */
static void
refresh_days(IngestUtility *iu, GfDays *days)
{
	GfDays	   *written;
	TimestampTz t0;

	if (gf_days_count(days) == 0)
		return;
	utility_partitions(iu, true);
	written = gf_days_create(CurrentMemoryContext);
	t0 = GetCurrentTimestamp();
	gf_refresh_products(iu->u, iu->reads, iu->products, iu->days, iu->products_route,
						iu->days_route, days, written);
	gf_progress_notice(psprintf("ingest: refresh %s products and days (service-point days written)",
								iu->u->utility_id), gf_days_count(written),
					   (double) (GetCurrentTimestamp() - t0) / 1000.0);
	t0 = GetCurrentTimestamp();
	/* the months of the days written, rolled up again from their days */
	(void) gf_month_refresh(iu->u, iu->days_route,
							gf_store_partition(GF_STORE_MONTH, iu->u->utility_id, false, true),
							written);
	gf_progress_notice(psprintf("ingest: roll %s months up", iu->u->utility_id), -1,
					   (double) (GetCurrentTimestamp() - t0) / 1000.0);
	for (uint32 i = 0; i < gf_days_count(written); i++)
	{
		Datum		sp;
		bool		sp_null;
		int32		d = gf_days_entry(written, i, &sp, &sp_null);

		if (sp_null)
			gf_days_add(days, NULL, 0, true, d);
		else
			gf_days_add(days, VARDATA_ANY(DatumGetTextPP(sp)), VARSIZE_ANY_EXHDR(DatumGetTextPP(sp)),
						false, d);
	}
}

/*
 * After a service-point or meter batch: the days of the reads whose product
 * rows take attributes from a service point or meter the batch added, and,
 * for utilities whose reads reach service points through meters, the reads
 * of the batch's meters whose service point is now another one (their new
 * versions are written, both service points' days refreshed).
 */
static void
dimension_days(IngestUtility *iu, GfFileKind kind, List *new_ids, List *seen_ids,
			   GfDays *days)
{
	GfUtility  *u = iu->u;
	GfKeyTable *ids;
	Relation	rel;
	TupleTableSlot *slot;
	TableScanDesc scan;
	Snapshot	snapshot;
	int			att_sp,
				att_meter,
				att_start;
	List	   *moved = NIL;
	List	   *leaves;
	ListCell   *lc;
	ListCell   *leaf;
	bool		relink = ((kind == GF_KIND_METER || kind == GF_KIND_ASSIGNMENT) && u->sp_via_meter);
	bool		every_read = (kind == GF_KIND_ASSIGNMENT);	/* its meters are not listed */
	int			seen_only = 2;

	utility_partitions(iu, false);
	if (!OidIsValid(iu->reads) || (new_ids == NIL && !relink) ||
		(kind == GF_KIND_ASSIGNMENT && !relink))
		return;

	/* ids of interest: 1 = new, 2 = seen only */
	ids = gf_keytable_create(CurrentMemoryContext, 1024, sizeof(int));
	foreach(lc, relink ? seen_ids : NIL)
	{
		const char *id = lfirst(lc);
		bool		found;

		*(int *) gf_keytable_find(ids, id, (uint32) strlen(id),
								  gf_key_hash(id, (uint32) strlen(id)), true, &found) = 2;
	}
	foreach(lc, new_ids)
	{
		const char *id = lfirst(lc);
		bool		found;

		*(int *) gf_keytable_find(ids, id, (uint32) strlen(id),
								  gf_key_hash(id, (uint32) strlen(id)), true, &found) = 1;
	}
	if (relink)
		gf_meter_map_load(u);

	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	rel = table_open(iu->reads, AccessShareLock);
	att_sp = gf_attnum(RelationGetDescr(rel), "service_point_id", false);
	att_meter = gf_attnum(RelationGetDescr(rel), "meter_id", false);
	att_start = gf_attnum(RelationGetDescr(rel), "interval_start_ts", false);
	table_close(rel, NoLock);
	/* every month of the utility's reads */
	leaves = find_all_inheritors(iu->reads, AccessShareLock, NULL);
	foreach(leaf, leaves)
	{
		if (get_rel_relkind(lfirst_oid(leaf)) != RELKIND_RELATION)
			continue;
		rel = table_open(lfirst_oid(leaf), AccessShareLock);
		slot = table_slot_create(rel, NULL);
		scan = table_beginscan(rel, snapshot, 0, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			text	   *key;
			int		   *what;
			TimestampTz ts;
			bool		sp_null;
			Datum		sp;
			int32		date;

			CHECK_FOR_INTERRUPTS();
			slot_getsomeattrs(slot, Max(att_sp, Max(att_meter, att_start)) + 1);
			sp_null = slot->tts_isnull[att_sp];
			sp = slot->tts_values[att_sp];
			if (kind == GF_KIND_SERVICE_POINT && sp_null)
				continue;
			key = DatumGetTextPP(slot->tts_values[kind == GF_KIND_SERVICE_POINT ? att_sp : att_meter]);
			what = every_read ? &seen_only :
				gf_keytable_find(ids, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
								 gf_key_hash(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)),
								 false, NULL);
			if (what == NULL)
				continue;
			ts = DatumGetTimestampTz(slot->tts_values[att_start]);
			date = gf_local_date(u, ts);
			if (relink)
			{
				Datum		now_sp;
				bool		now_null = !gf_meter_resolve(u, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
														 ts, &now_sp);
				bool		differs = (now_null != sp_null);

				if (!differs && !now_null)
				{
					text	   *a = DatumGetTextPP(sp);
					text	   *b = DatumGetTextPP(now_sp);

					differs = VARSIZE_ANY_EXHDR(a) != VARSIZE_ANY_EXHDR(b) ||
						memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) != 0;
				}
				if (differs)
				{
					HeapTuple	copy = ExecCopySlotHeapTuple(slot);

					copy->t_self = slot->tts_tid;
					moved = lappend(moved, copy);
					if (!now_null)
					{
						text	   *b = DatumGetTextPP(now_sp);

						gf_days_add(days, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), false, date);
					}
				}
				else if (*what != 1)
					continue;
			}
			if (sp_null)
				gf_days_add(days, NULL, 0, true, date);
			else
			{
				text	   *t = DatumGetTextPP(sp);

				gf_days_add(days, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), false, date);
			}
		}
		table_endscan(scan);
		ExecDropSingleTupleTableSlot(slot);
		table_close(rel, NoLock);
	}
	UnregisterSnapshot(snapshot);

	/* the reads that now belong to another service point: new versions */
	if (moved != NIL)
	{
		GfBulk	   *b = gf_bulk_begin_routed(iu->reads, true, iu->reads_route);
		TupleDesc	desc = gf_bulk_tupdesc(b);

		foreach(lc, moved)
		{
			HeapTuple	tup = lfirst(lc);
			TupleTableSlot *out = gf_bulk_slot(b);
			text	   *m;

			CHECK_FOR_INTERRUPTS();
			heap_deform_tuple(tup, desc, out->tts_values, out->tts_isnull);
			m = DatumGetTextPP(out->tts_values[att_meter]);
			out->tts_isnull[att_sp] =
				!gf_meter_resolve(u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m),
								  DatumGetTimestampTz(out->tts_values[att_start]),
								  &out->tts_values[att_sp]);
			gf_bulk_delete(b, &tup->t_self);
			gf_bulk_store(b, tup->t_len);
		}
		(void) gf_bulk_end(b);
	}
}

/* one file to ingest */
typedef struct IngestFile
{
	IngestUtility *iu;
	GfConfigFile *cf;
	char	   *path;
} IngestFile;

/*
 * What the ingest is doing, for its errors: their context names the phase
 * (and the file and line, when reading), not the SQL gridflow runs inside.
 */
static const char *ingest_phase = NULL;

static char *
ingest_context(const char *context)
{
	StringInfoData buf;

	initStringInfo(&buf);
	/* the reader's own line: gridflow file "...", line N */
	for (const char *c = context; c != NULL && *c;)
	{
		const char *end = strchr(c, '\n');
		size_t		len = end ? (size_t) (end - c) : strlen(c);

		if (strncmp(c, "gridflow file \"", 15) == 0)
			appendStringInfo(&buf, "%.*s\n", (int) len, c);
		c = end ? end + 1 : NULL;
	}
	appendStringInfo(&buf, "gridflow ingest: %s", ingest_phase ? ingest_phase : "preparing");
	return buf.data;
}

/* A configured file the drop does not have: a NOTICE and a result row. */
static void
put_missing(ReturnSetInfo *rsinfo, GfConfigFile *cf)
{
	Datum		values[12];
	bool		nulls[12];

	ereport(NOTICE,
			(errmsg("the drop has no %s file of utility \"%s\": \"%s\" is not there",
					gf_kind_name(cf->file.kind), cf->utility->utility_id, cf->file.path)));
	for (int i = 0; i < lengthof(nulls); i++)
		nulls[i] = true;
	values[1] = CStringGetTextDatum(cf->utility->utility_id);
	values[2] = CStringGetTextDatum(gf_kind_name(cf->file.kind));
	values[3] = CStringGetTextDatum(cf->file.path);
	values[4] = CStringGetTextDatum("missing");
	nulls[1] = nulls[2] = nulls[3] = nulls[4] = false;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* The output row of one file. */
static void
put_result(ReturnSetInfo *rsinfo, IngestFile *f, int64 batch_id, const char *outcome,
		   int64 same_as, GfLoadStats *s, int64 days, double ms)
{
	Datum		values[12];
	bool		nulls[12];

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(batch_id);
	nulls[0] = (batch_id == 0);
	values[1] = CStringGetTextDatum(f->iu->u->utility_id);
	values[2] = CStringGetTextDatum(gf_kind_name(f->cf->file.kind));
	values[3] = CStringGetTextDatum(f->path);
	values[4] = CStringGetTextDatum(outcome);
	values[5] = Int64GetDatum(same_as);
	nulls[5] = (same_as == 0);
	values[6] = Int64GetDatum(s ? s->records_read : 0);
	values[7] = Int64GetDatum(s ? s->rows_kept : 0);
	values[8] = Int64GetDatum(s ? s->rows_matched : 0);
	values[9] = Int64GetDatum(s ? s->rows_replaced : 0);
	values[10] = Int64GetDatum(days);
	values[11] = Float8GetDatum(ms);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* The batch that already loaded this content, or 0. */
static int64
same_content(const char *utility_id, GfFileKind kind, const uint8 *digest)
{
	Datum		args[3];
	Oid			types[3] = {TEXTOID, TEXTOID, BYTEAOID};
	int64		id = 0;

	args[0] = CStringGetTextDatum(utility_id);
	args[1] = CStringGetTextDatum(gf_kind_name(kind));
	args[2] = PointerGetDatum(gf_sha256_bytea(digest));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT batch_id FROM gridflow.batch WHERE utility_id = $1 "
							  "AND file_kind = $2 AND content_sha256 = $3",
							  3, types, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.batch");
	if (SPI_processed > 0)
	{
		bool		isnull;

		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	return id;
}

/* count, max and sum of the batch numbers, under the active snapshot */
static char *
batch_fingerprint(void)
{
	char	   *fp;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT count(*) || ' ' || coalesce(max(batch_id), 0) || ' ' || "
					"coalesce(sum(batch_id), 0) FROM gridflow.batch", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "gridflow: could not read gridflow.batch");
	fp = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	fp = MemoryContextStrdup(TopTransactionContext, fp);
	SPI_finish();
	return fp;
}

/*
 * Under REPEATABLE READ or SERIALIZABLE the transaction's snapshot may
 * predate a load that committed while this ingest waited for its locks:
 * merging into what that snapshot shows would be wrong, so refuse, as
 * PostgreSQL refuses to update a row changed since the snapshot.  Under
 * READ COMMITTED every statement sees the latest state and this does not
 * arise.
 */
static void
check_snapshot_current(void)
{
	char	   *mine;
	char	   *latest;

	if (!IsolationUsesXactSnapshot())
		return;
	mine = batch_fingerprint();
	PushActiveSnapshot(GetLatestSnapshot());
	latest = batch_fingerprint();
	PopActiveSnapshot();
	if (strcmp(mine, latest) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent gridflow load"),
				 errdetail("Files were loaded or the layers rebuilt after this transaction's snapshot was taken."),
				 errhint("Retry the transaction, or ingest under READ COMMITTED.")));
}

/* Wait for, and hold, the utility's configuration row. */
static void
lock_utility(const char *utility_id)
{
	Datum		arg = CStringGetTextDatum(utility_id);
	Oid			type = TEXTOID;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT 1 FROM gridflow.utility WHERE utility_id = $1 "
							  "FOR NO KEY UPDATE",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("utility \"%s\" does not exist", utility_id)));
	SPI_finish();
}

/* Ingest one file as a new batch; one result row. */
static void
ingest_file(ReturnSetInfo *rsinfo, IngestFile *f, int64 build_id)
{
	IngestUtility *iu = f->iu;
	GfUtility  *u = iu->u;
	GfFileKind	kind = f->cf->file.kind;
	TimestampTz start = GetCurrentTimestamp();
	uint8		digest[32];
	int64		same_as;
	int64		batch_id;
	GfLoadTargets t;
	GfLoadStats stats;
	GfLoad	   *load;
	GfDays	   *days;
	int64		ndays;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow ingest file",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	ingest_phase = psprintf("checking whether the %s file of utility %s was loaded before",
							gf_kind_name(kind), u->utility_id);
	gf_file_sha256(f->path, digest);
	same_as = same_content(u->utility_id, kind, digest);
	if (same_as != 0)
	{
		ereport(NOTICE,
				(errmsg("%s file \"%s\" of utility \"%s\" was loaded before as batch " INT64_FORMAT ": nothing to do",
						gf_kind_name(kind), f->path, u->utility_id, same_as)));
		MemoryContextSwitchTo(old);
		put_result(rsinfo, f, 0, "unchanged", same_as, NULL, 0,
				   (double) (GetCurrentTimestamp() - start) / 1000.0);
		ingest_phase = NULL;
		MemoryContextDelete(cxt);
		return;
	}

	/*
	 * The checksum goes in with the batch row: should another transaction
	 * be loading the same content (which the utility's lock prevents under
	 * READ COMMITTED), the unique constraint stops one of them.
	 */
	iu->loaded = true;
	batch_id = gf_batch_begin(build_id, u->utility_id, kind, f->path, digest);
	CommandCounterIncrement();

	memset(&t, 0, sizeof(t));
	t.incremental = true;
	t.landing = gf_store_writer(u, GF_STORE_CHUNK, false);
	t.reject = gf_store_writer(u, GF_STORE_REJECT, false);
	gf_check_landing_layout(t.landing);
	switch (kind)
	{
		case GF_KIND_SERVICE_POINT:
			t.service_point = gf_store_writer(u, GF_STORE_SERVICE_POINT, false);
			break;
		case GF_KIND_METER:
			t.meter = gf_store_writer(u, GF_STORE_METER, false);
			t.assignment = gf_store_writer(u, GF_STORE_ASSIGNMENT, false);
			break;
		case GF_KIND_ASSIGNMENT:
			t.assignment = gf_store_writer(u, GF_STORE_ASSIGNMENT, false);
			break;
		case GF_KIND_INTERVAL:
			utility_partitions(iu, true);
			t.interval = gf_bulk_begin_routed(iu->reads, true, iu->reads_route);
			break;
	}

	load = gf_load_begin(&t, u, &f->cf->file);
	ingest_phase = psprintf("reading the %s file of utility %s", gf_kind_name(kind), u->utility_id);
	gf_load_file(load, f->path, batch_id, &stats);
	gf_progress_notice(psprintf("ingest: read %s %s file %s (%lld bytes)", u->utility_id,
								gf_kind_name(kind), f->path, (long long) stats.file_bytes),
					   stats.records_read + stats.records_rejected, stats.read_ms);
	ingest_phase = psprintf("writing the %s rows of utility %s", gf_kind_name(kind), u->utility_id);
	stats.write_ms = gf_load_end(load);
	gf_progress_notice(psprintf("ingest: write %s %s rows (new %lld, matched %lld)",
								u->utility_id, gf_kind_name(kind),
								(long long) stats.rows_kept, (long long) stats.rows_matched),
					   -1, stats.write_ms);
	if (memcmp(stats.sha256, digest, sizeof(digest)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("file \"%s\" changed while it was ingested", f->path),
				 errhint("Ingest files once they are complete (write them elsewhere and rename them into the drop).")));

	(void) gf_bulk_end(t.landing);
	(void) gf_bulk_end(t.reject);
	if (t.service_point)
		(void) gf_bulk_end(t.service_point);
	if (t.meter)
		(void) gf_bulk_end(t.meter);
	if (t.assignment)
		(void) gf_bulk_end(t.assignment);
	if (t.interval)
		(void) gf_bulk_end(t.interval);
	gf_batch_end(batch_id, &stats);
	CommandCounterIncrement();

	/* what the batch changed, and the products and days that depend on it */
	if (kind == GF_KIND_INTERVAL)
		days = gf_load_days(load);
	else
	{
		days = gf_days_create(cxt);
		ingest_phase = psprintf("finding the reads that the %s rows of utility %s link anew",
								gf_kind_name(kind), u->utility_id);
		dimension_days(iu, kind, gf_load_new_ids(load), gf_load_seen_ids(load), days);
		CommandCounterIncrement();
	}
	{
		TimestampTz t0 = GetCurrentTimestamp();

		ingest_phase = psprintf("refreshing the products and days of utility %s", u->utility_id);
		refresh_days(iu, days);
		/* the service-point days written again */
		ndays = gf_days_count(days);
		gf_progress_notice(psprintf("ingest: refresh %s products and days (service-point days)", u->utility_id), ndays,
						   (double) (GetCurrentTimestamp() - t0) / 1000.0);
	}
	CommandCounterIncrement();

	MemoryContextSwitchTo(old);
	put_result(rsinfo, f, batch_id, "loaded", 0, &stats, ndays,
			   (double) (GetCurrentTimestamp() - start) / 1000.0);
	ingest_phase = NULL;
	MemoryContextDelete(cxt);
}

/*
 * The DQ figures of what utility u's partitions hold after an ingest,
 * gathered by reading each once in C (dqacc.c), as a build gathers them
 * while writing.
 */
static void
dq_refresh_current(GfUtility *u, int64 build_id)
{
	Oid			rels[GF_STORE_TABLES];
	TimestampTz t0 = GetCurrentTimestamp();

	for (int t = 0; t < GF_STORE_TABLES; t++)
		rels[t] = gf_store_partition((GfStore) t, u->utility_id, false, false);
	gf_dq_acc_reset();
	gf_dq_acc_gather(u, rels);
	gf_progress_notice(psprintf("ingest: gather %s data-quality figures", u->utility_id), -1,
					   (double) (GetCurrentTimestamp() - t0) / 1000.0);
	t0 = GetCurrentTimestamp();
	gf_dq_refresh(u->utility_id, build_id, rels, true);
	gf_dq_acc_reset();
	gf_progress_notice(psprintf("ingest: store %s data-quality figures", u->utility_id), -1,
					   (double) (GetCurrentTimestamp() - t0) / 1000.0);
}

/*
 * SQL: gridflow_ingest(path text, utility_id text DEFAULT NULL,
 * file_kind text DEFAULT NULL) RETURNS SETOF record
 */
Datum
gridflow_ingest(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	GfBuildSecurity security;
	char		path[MAXPGPATH];
	char	   *utility_id = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *kind_name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	MemoryContext cxt;
	MemoryContext old;
	struct stat st;
	bool		is_dir;
	List	   *config;
	List	   *files = NIL;
	List	   *missing = NIL;
	List	   *utilities = NIL;
	int64		build_id;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the path to ingest must not be NULL")));
	{
		char	   *p = text_to_cstring(PG_GETARG_TEXT_PP(0));

		if (strlen(p) >= MAXPGPATH)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("path is too long")));
		strlcpy(path, p, sizeof(path));
		canonicalize_path(path);
	}
	if (kind_name != NULL && strcmp(kind_name, "service_point") != 0 &&
		strcmp(kind_name, "meter") != 0 && strcmp(kind_name, "assignment") != 0 &&
		strcmp(kind_name, "interval") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid file kind \"%s\"", kind_name),
				 errhint("Use service_point, meter, assignment or interval.")));
	gf_check_database_encoding();

	/* the caller's rights first, then what the path is */
	{
		char	   *resolved = gf_check_file_access(path);

		if (stat(resolved, &st) < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open \"%s\": %m", path)));
		is_dir = S_ISDIR(st.st_mode);
	}
	if (!is_dir && utility_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the utility of file \"%s\" is not given", path),
				 errhint("Pass the utility_id, e.g. gridflow_ingest('%s', 'UTILITY1').", path)));
	if (is_dir && kind_name != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("file_kind is given for a directory"),
				 errhint("Give the path of the file, or leave file_kind out to ingest every file of the drop.")));
	gf_build_enter(is_dir ? path : NULL, &security);

	InitMaterializedSRF(fcinfo, 0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow ingest",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	gf_lock_history(false);
	config = gf_read_config(is_dir ? path : NULL, false, cxt);
	if (utility_id != NULL)
	{
		bool		known = false;

		foreach(lc, config)
			if (strcmp(((GfConfigFile *) lfirst(lc))->utility->utility_id, utility_id) == 0)
				known = true;
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("utility \"%s\" is not an enabled utility with configured files", utility_id),
					 errhint("See gridflow.utility and gridflow.source_file.")));
	}

	/* the files: those of the drop that exist, or the one file given */
	foreach(lc, config)
	{
		GfConfigFile *cf = lfirst(lc);
		IngestFile *f;
		IngestUtility *iu = NULL;
		ListCell   *uc;

		if (utility_id != NULL && strcmp(cf->utility->utility_id, utility_id) != 0)
			continue;
		if (is_dir)
		{
			struct stat fst;

			if (stat(cf->file.path, &fst) < 0 && errno == ENOENT)
			{
				/* the drop does not have this file: said below */
				missing = lappend(missing, cf);
				continue;
			}
		}
		else if (kind_name != NULL)
		{
			if (strcmp(gf_kind_name(cf->file.kind), kind_name) != 0)
				continue;
		}
		foreach(uc, utilities)
			if (((IngestUtility *) lfirst(uc))->u == cf->utility)
				iu = lfirst(uc);
		if (iu == NULL)
		{
			iu = palloc0(sizeof(IngestUtility));
			iu->u = cf->utility;
			iu->cxt = cxt;
			utilities = lappend(utilities, iu);
		}
		f = palloc0(sizeof(IngestFile));
		f->iu = iu;
		f->cf = cf;
		f->path = is_dir ? cf->file.path : pstrdup(path);
		files = lappend(files, f);
	}
	if (!is_dir && kind_name == NULL)
	{
		/* a single file without its kind: the configured file of that name */
		List	   *match = NIL;
		const char *base = last_dir_separator(path) ? last_dir_separator(path) + 1 : path;

		foreach(lc, files)
		{
			IngestFile *f = lfirst(lc);
			const char *rel = f->cf->file.rel_path;
			const char *cbase = last_dir_separator(rel) ? last_dir_separator(rel) + 1 : rel;

			if (strcmp(cbase, base) == 0)
				match = lappend(match, f);
		}
		if (list_length(match) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot tell which file of utility \"%s\" \"%s\" is", utility_id, path),
					 errdetail("%s", list_length(match) == 0 ?
							   "Its name is not the name of a configured file of the utility." :
							   "Several configured files of the utility have that name."),
					 errhint("Pass the file_kind: service_point, meter, assignment or interval.")));
		files = match;
	}
	if (files == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("no file to ingest in \"%s\"", path),
				 errdetail("None of the files that gridflow.source_file configures%s%s is there.",
						   utility_id ? " for utility " : "", utility_id ? utility_id : ""),
				 errhint("A drop directory holds the files at the paths of gridflow.source_file.")));

	/* ingests of one utility queue here, in utility order (no deadlock) */
	foreach(lc, utilities)
	{
		gf_refuse_distributed(((IngestUtility *) lfirst(lc))->u->utility_id, "gridflow_ingest()");
		lock_utility(((IngestUtility *) lfirst(lc))->u->utility_id);
	}
	check_snapshot_current();

	build_id = gf_build_begin("ingest", path);
	foreach(lc, missing)
		put_missing(rsinfo, lfirst(lc));
	ingest_phase = NULL;
	PG_TRY();
	{
		foreach(lc, files)
			ingest_file(rsinfo, lfirst(lc), build_id);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		edata->context = ingest_context(edata->context);
		ingest_phase = NULL;
		ReThrowError(edata);
	}
	PG_END_TRY();
	/*
	 * the data-quality figures of the utilities a file was loaded for (those
	 * of the others stay as their last run left them: dq.current_run)
	 */
	ingest_phase = "computing the data-quality figures";
	{
		bool		any = false;

		foreach(lc, utilities)
		{
			IngestUtility *iu = lfirst(lc);

			if (!iu->loaded)
				continue;
			dq_refresh_current(iu->u, build_id);
			any = true;
		}
		if (any)
			gf_dq_refresh_total(false);
	}
	ingest_phase = NULL;
	gf_build_end(build_id);

	gf_build_leave(&security);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}
