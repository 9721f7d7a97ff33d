/*-------------------------------------------------------------------------
 *
 * refresh.c
 *	  After an ingest: the product rows and daily summaries of the service
 *	  points whose reads changed, computed again from the stored reads by
 *	  the product writer (product.c, experience.c), as a build computes
 *	  them.
 *
 * For each service point (and for the reads without one) the ingest knows
 * the earliest local day it changed, d.  Every product row and daily
 * summary of its days from d on is deleted and written again from its
 * reads (with estimation, from the longest gap estimated before d: the
 * estimates of a gap that ends on d come before it).  The validation
 * rules over a series (gap, zero_run, flat_line, high_low) and estimation
 * need what comes before: the previous read, the run of identical values
 * open at d's midnight, the daily totals of the high_low days before d,
 * the reference weeks before a gap.  So the reads are read from a context
 * start that many days before d (and two more) and fed to the writer, which
 * decides their rules but does not write those before d
 * (gf_product_set_window()).  Of those, only the reads of the run open at
 * d's midnight can change (the reads after it may make it longer or
 * shorter): their quality code and flags are updated where they differ,
 * and the summaries of their days computed again.  Only a run too short
 * before d to fail its rule can change, and when the service point had no
 * product row from d on (reads appended) it was not flagged: then only the
 * reads it now flags are updated.
 *
 * The context is enough unless the run open at d's midnight began with
 * the first read of the context and is too short there to fail zero_run
 * or flat_line (it may have begun earlier and be long enough), or a series
 * has no read in the context before d yet has one earlier (its first read
 * from d on follows a gap): then the service point is done again from its
 * first read.  The regression tests
 * compare ingests with gridflow_rebuild() of the same files.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attmap.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupconvert.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/snapmgr.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "gridflow.h"
#include "keytable.h"
#include "localtime.h"

/* service points per query */
#define REFRESH_BATCH 1000
/* reads per fetch */
#define REFRESH_FETCH 5000
/* margin around a local day's midnight: more than any clock change */
#define DAY_MARGIN_USECS (INT64CONST(3) * USECS_PER_HOUR)

/* a service point (or the reads without one) to refresh */
typedef struct RefreshSp
{
	bool		sp_null;
	text	   *sp;
	DateADT		from;			/* the earliest day it changed */
	bool		replaced;		/* it had product rows from from on */
} RefreshSp;

/* what the refresh knows of one series (meter, channel) of the service point */
typedef struct SeriesTrack
{
	bool		before;			/* a read before from */
	bool		after;			/* a read from from on */
	bool		run_open;		/* the last read before from is in a run */
	bool		run_first;		/* ... that began with the series' first read */
	int64		run_len;		/* its reads */
	double		run_value;
	TimestampTz run_start;
	text	   *meter;
	text	   *channel;
} SeriesTrack;

/* a month of the utility's reads, read by service point and time */
typedef struct ReadLeaf
{
	GfIndexCursor c;			/* on (service_point_id, interval_start_ts, ...) */
	AttrMap    *map;			/* its columns to the reads' (NULL: the same) */
	bool		has_upper;		/* its reads start before upper */
	TimestampTz upper;
} ReadLeaf;

/* a read before from, its rules decided */
typedef struct BeforeRead
{
	SeriesTrack *track;
	TimestampTz start;
	int16		quality_code;
	char	   *flags;			/* comma-separated; NULL: none */
	bool		run_flagged;	/* flags has zero_run or flat_line */
} BeforeRead;

typedef struct Refresh
{
	GfUtility  *u;
	Oid			reads;
	Oid			products;
	Oid			days;
	GfLoadTargets t;
	GfDays	   *written;		/* the days written or emptied (out) */
	GfDays	   *resummarize;	/* days before from whose reads changed */
	int			ctx_days;		/* context before from */
	bool		gap;			/* rules that need context */
	bool		runs;
	/* the reads' columns (in the fetched rows) */
	int			r_sp;
	int			r_meter;
	int			r_channel;
	int			r_start;
	int			r_value;
	/* the current service point */
	RefreshSp  *cur;
	bool		full;
	MemoryContext group_cxt;
	GfKeyTable *series;			/* (meter, channel) -> SeriesTrack */
	BeforeRead *before;
	int			nbefore;
	int			before_cap;
	bool		have_last;
	TimestampTz last_start;
	StringInfoData key;
	/* updates of reads before from (this batch) */
	int			nupd;
	int			upd_cap;
	Datum	   *upd_sp;
	Datum	   *upd_meter;
	Datum	   *upd_channel;
	Datum	   *upd_start;
	Datum	   *upd_code;
	Datum	   *upd_flags;
	bool	   *upd_flags_null;
	/* service points to do again from their first read (this batch) */
	RefreshSp **redo;
	int			nredo;
	SPIPlanPtr	earlier_plan[2];	/* read_before_context()'s, without and with a service point */
	/* the utility's reads, month by month */
	TupleDesc	rdesc;
	ReadLeaf   *leaves;
	int			nleaves;
	TupleTableSlot *conv;		/* a read of a leaf with other columns */
	Snapshot	snapshot;
	MemoryContext batch_cxt;	/* the reads fed since the last flush */
} Refresh;

static int64
midnight_usecs(DateADT d)
{
	/* local wall clock, Unix epoch */
	return ((int64) d + POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

static TimestampTz
day_start(GfUtility *u, DateADT d)
{
	return gf_local_to_timestamptz(u, midnight_usecs(d)) - DAY_MARGIN_USECS;
}

static TimestampTz
day_end(GfUtility *u, DateADT d)
{
	return gf_local_to_timestamptz(u, midnight_usecs(d + 1)) + DAY_MARGIN_USECS;
}

static void
run_sql(const char *sql, int nargs, Oid *types, Datum *args, int expect)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, args, NULL, false, 0);

	if (rc != expect)
		elog(ERROR, "gridflow: refresh statement failed: %s", SPI_result_code_string(rc));
}

static SeriesTrack *
track_of(Refresh *rf, text *meter, text *channel, bool create)
{
	uint32		mlen = VARSIZE_ANY_EXHDR(meter);
	SeriesTrack *s;
	bool		found;

	resetStringInfo(&rf->key);
	appendBinaryStringInfo(&rf->key, (char *) &mlen, sizeof(mlen));
	appendBinaryStringInfo(&rf->key, VARDATA_ANY(meter), (int) mlen);
	appendBinaryStringInfo(&rf->key, VARDATA_ANY(channel), (int) VARSIZE_ANY_EXHDR(channel));
	s = gf_keytable_find(rf->series, rf->key.data, (uint32) rf->key.len,
						 gf_key_hash(rf->key.data, (uint32) rf->key.len), create, &found);
	if (s != NULL && !found)
	{
		MemoryContext old = MemoryContextSwitchTo(rf->group_cxt);

		memset(s, 0, sizeof(SeriesTrack));
		s->meter = (text *) pg_detoast_datum_copy((struct varlena *) meter);
		s->channel = (text *) pg_detoast_datum_copy((struct varlena *) channel);
		MemoryContextSwitchTo(old);
	}
	return s;
}

/* the product writer's reads before from: kept until the group ends */
static void
before_read(void *arg, Datum *rv, bool *rn, int32 local_date, int quality_code,
			Datum vee_flags, bool vee_flags_null)
{
	Refresh    *rf = (Refresh *) arg;
	SeriesTrack *s = track_of(rf, DatumGetTextPP(rv[rf->r_meter]),
							  DatumGetTextPP(rv[rf->r_channel]), false);
	BeforeRead *b;
	MemoryContext old;

	(void) local_date;
	if (s == NULL)
		elog(ERROR, "gridflow: refresh: a read of an unknown series");

	/*
	 * Only the reads of the run open at from's midnight may be updated:
	 * runs only move forward, so a read before the series' current run
	 * (the reads fed so far) is in none of them.
	 */
	if (!rf->runs || !s->run_open || DatumGetTimestampTz(rv[rf->r_start]) < s->run_start)
		return;
	old = MemoryContextSwitchTo(rf->group_cxt);
	if (rf->nbefore == rf->before_cap)
	{
		rf->before_cap = Max(256, rf->before_cap * 2);
		rf->before = rf->before ? repalloc(rf->before, sizeof(BeforeRead) * rf->before_cap) :
			palloc(sizeof(BeforeRead) * rf->before_cap);
	}
	b = &rf->before[rf->nbefore++];
	b->track = s;
	b->start = DatumGetTimestampTz(rv[rf->r_start]);
	b->quality_code = (int16) quality_code;
	b->flags = NULL;
	b->run_flagged = false;
	if (!vee_flags_null)
	{
		Datum	   *elems;
		int			n;
		StringInfoData buf;

		deconstruct_array(DatumGetArrayTypeP(vee_flags), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, NULL, &n);
		initStringInfo(&buf);
		for (int i = 0; i < n; i++)
		{
			char	   *f = TextDatumGetCString(elems[i]);

			if (i > 0)
				appendStringInfoChar(&buf, ',');
			appendStringInfoString(&buf, f);
			if (strcmp(f, "zero_run") == 0 || strcmp(f, "flat_line") == 0)
				b->run_flagged = true;
		}
		b->flags = buf.data;
	}
	MemoryContextSwitchTo(old);
}

static void
add_update(Refresh *rf, BeforeRead *b)
{
	if (rf->nupd == rf->upd_cap)
	{
		int			cap = Max(256, rf->upd_cap * 2);

#define GROW(a, type) (rf->a = rf->a ? repalloc(rf->a, sizeof(type) * cap) : palloc(sizeof(type) * cap))
		GROW(upd_sp, Datum);
		GROW(upd_meter, Datum);
		GROW(upd_channel, Datum);
		GROW(upd_start, Datum);
		GROW(upd_code, Datum);
		GROW(upd_flags, Datum);
		GROW(upd_flags_null, bool);
#undef GROW
		rf->upd_cap = cap;
	}
	rf->upd_sp[rf->nupd] = rf->cur->sp_null ? (Datum) 0 : PointerGetDatum(rf->cur->sp);
	rf->upd_meter[rf->nupd] = PointerGetDatum(pg_detoast_datum_copy((struct varlena *) b->track->meter));
	rf->upd_channel[rf->nupd] = PointerGetDatum(pg_detoast_datum_copy((struct varlena *) b->track->channel));
	rf->upd_start[rf->nupd] = TimestampTzGetDatum(b->start);
	rf->upd_code[rf->nupd] = Int16GetDatum(b->quality_code);
	rf->upd_flags_null[rf->nupd] = (b->flags == NULL);
	rf->upd_flags[rf->nupd] = b->flags ? CStringGetTextDatum(b->flags) : (Datum) 0;
	rf->nupd++;
}

/*
 * Does the series of track s have a read before the context start?  (Its
 * first read from from on then follows a read the context did not see.)
 */
static bool
read_before_context(Refresh *rf, SeriesTrack *s, TimestampTz context)
{
	Oid			types[4] = {TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		none = rf->cur->sp_null;
	bool		found;
	int			rc;

	/* prepared once per refresh: it runs for each series new to the context */
	if (rf->earlier_plan[none] == NULL)
	{
		rf->earlier_plan[none] =
			SPI_prepare(psprintf("SELECT 1 FROM %s r WHERE %s "
								 "AND r.interval_start_ts OPERATOR(pg_catalog.<) $2 "
								 "AND r.meter_id OPERATOR(pg_catalog.=) $3 "
								 "AND r.channel OPERATOR(pg_catalog.=) $4 LIMIT 1",
								 gf_qualified_name(rf->reads),
								 none ? "r.service_point_id IS NULL AND $1::text IS NULL" :
								 "r.service_point_id OPERATOR(pg_catalog.=) $1"),
						4, types);
		if (rf->earlier_plan[none] == NULL)
			elog(ERROR, "gridflow: refresh look-up could not be prepared: %s",
				 SPI_result_code_string(SPI_result));
	}
	args[0] = none ? (Datum) 0 : PointerGetDatum(rf->cur->sp);
	nulls[0] = none ? 'n' : ' ';
	args[1] = TimestampTzGetDatum(context);
	args[2] = PointerGetDatum(s->meter);
	args[3] = PointerGetDatum(s->channel);
	rc = SPI_execute_plan(rf->earlier_plan[none], args, nulls, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "gridflow: refresh look-up failed: %s", SPI_result_code_string(rc));
	found = (SPI_processed > 0);
	SPI_freetuptable(SPI_tuptable);
	return found;
}

/* The current service point's reads are all fed: decide what it needs. */
static void
end_group(Refresh *rf, GfProductWriter *em, TimestampTz context)
{
	GfUtility  *u = rf->u;
	bool		redo = false;

	if (rf->cur == NULL)
		return;
	gf_product_finish_group(em);
	if (!rf->full)
	{
		for (uint32 e = 0; e < rf->series->nentries && !redo; e++)
		{
			SeriesTrack *s = gf_keytable_payload(rf->series, e);

			if (!s->after)
				continue;		/* nothing of it changed */
			if (s->run_open && s->run_first &&
				s->run_len < (float8_eq(s->run_value, 0.0) ? u->vee_zero_run : u->vee_flat_line))
				redo = true;	/* its run, which may have begun before the
								 * context, may be long enough to fail a rule */
			else if (rf->gap && !s->before && read_before_context(rf, s, context))
				redo = true;	/* its previous read is before the context */
		}
	}
	if (redo)
		rf->redo[rf->nredo++] = rf->cur;
	else if (rf->runs)
		for (int i = 0; i < rf->nbefore; i++)
		{
			BeforeRead *b = &rf->before[i];
			SeriesTrack *s = b->track;
			int32		min;

			if (!s->run_open || b->start < s->run_start)
				continue;

			/*
			 * The run's flag changes only if the run before from is too
			 * short to fail its rule by itself (its reads before the
			 * context are counted: else it was done again from its first
			 * read).  Without product rows from from on before this
			 * refresh (reads appended), the run was not flagged: only
			 * the reads it now flags change.
			 */
			min = float8_eq(s->run_value, 0.0) ? u->vee_zero_run : u->vee_flat_line;
			if (min <= 0 || s->run_len >= min)
				continue;
			if (!rf->cur->replaced && !b->run_flagged)
				continue;
			add_update(rf, b);
		}
	rf->cur = NULL;
	rf->nbefore = 0;
	rf->before_cap = 0;
	rf->before = NULL;
	MemoryContextReset(rf->group_cxt);
	rf->series = NULL;
}

static void
begin_group(Refresh *rf, GfProductWriter *em, RefreshSp *sp)
{
	rf->cur = sp;
	rf->series = gf_keytable_create(rf->group_cxt, 16, sizeof(SeriesTrack));
	rf->have_last = false;
	gf_product_set_window(em, sp->from, before_read, rf);
}

/* A read of the current service point (in rdesc's slot). */
static void
feed(Refresh *rf, GfProductWriter *em, TupleTableSlot *slot)
{
	Datum	   *rv = slot->tts_values;
	bool	   *rn = slot->tts_isnull;
	TimestampTz start = DatumGetTimestampTz(rv[rf->r_start]);
	DateADT		local_date = gf_local_date(rf->u, start);
	SeriesTrack *s = track_of(rf, DatumGetTextPP(rv[rf->r_meter]),
							  DatumGetTextPP(rv[rf->r_channel]), true);

	if (rf->have_last && start < rf->last_start)
		elog(ERROR, "gridflow: refresh: the reads of a service point are not in time order");
	rf->have_last = true;
	rf->last_start = start;
	if (local_date < rf->cur->from)
	{
		bool		first = !s->before;

		s->before = true;
		/* runs of identical values, as the product writer sees them */
		if (!rn[rf->r_value] && s->run_open && float8_eq(DatumGetFloat8(rv[rf->r_value]), s->run_value))
			s->run_len++;
		else
		{
			s->run_len = 1;
			s->run_open = !rn[rf->r_value];
			s->run_value = s->run_open ? DatumGetFloat8(rv[rf->r_value]) : 0;
			s->run_start = start;
			s->run_first = first;
		}
	}
	else
	{
		s->after = true;
		if (rf->cur->sp_null)
			gf_days_add(rf->written, NULL, 0, true, local_date);
		else
			gf_days_add(rf->written, VARDATA_ANY(rf->cur->sp), VARSIZE_ANY_EXHDR(rf->cur->sp),
						false, local_date);
	}
	gf_product_read(em, slot);
}

/* The upper bound of a month leaf of the reads, if it is a timestamp. */
static bool
leaf_upper(Oid leaf, TimestampTz *upper)
{
	Datum		lo,
				hi;
	Oid			type;

	if (!gf_leaf_range(leaf, &lo, &hi, &type) || type != TIMESTAMPTZOID)
		return false;
	*upper = DatumGetTimestampTz(hi);
	return true;
}

/*
 * Open the months of the utility's reads (rf->reads), in the order of
 * their bounds, for reading by service point and time.
 */
static void
open_reads(Refresh *rf)
{
	Relation	parent = table_open(rf->reads, AccessShareLock);
	PartitionDesc pd;

	rf->rdesc = CreateTupleDescCopy(RelationGetDescr(parent));
	rf->r_sp = gf_attnum(rf->rdesc, "service_point_id", false);
	rf->r_meter = gf_attnum(rf->rdesc, "meter_id", false);
	rf->r_channel = gf_attnum(rf->rdesc, "channel", false);
	rf->r_start = gf_attnum(rf->rdesc, "interval_start_ts", false);
	rf->r_value = gf_attnum(rf->rdesc, "value", false);
	rf->conv = MakeSingleTupleTableSlot(rf->rdesc, &TTSOpsVirtual);
	rf->batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow refresh reads",
										  ALLOCSET_DEFAULT_SIZES);
	CommandCounterIncrement();
	rf->snapshot = RegisterSnapshot(GetLatestSnapshot());
	if (parent->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		elog(ERROR, "gridflow: the reads of utility \"%s\" are not partitioned by month",
			 rf->u->utility_id);
	/* the leaves of a range-partitioned table come in the order of their bounds */
	pd = RelationGetPartitionDesc(parent, true);
	if (RelationGetPartitionKey(parent)->strategy != PARTITION_STRATEGY_RANGE ||
		partition_bound_has_default(pd->boundinfo))
		elog(ERROR, "gridflow: the reads of utility \"%s\" are not partitioned by month",
			 rf->u->utility_id);
	rf->leaves = palloc0(sizeof(ReadLeaf) * Max(pd->nparts, 1));
	for (int i = 0; i < pd->nparts; i++)
	{
		ReadLeaf   *leaf = &rf->leaves[rf->nleaves++];

		if (get_rel_relkind(pd->oids[i]) != RELKIND_RELATION)
			elog(ERROR, "gridflow: a month of the reads of utility \"%s\" is not a table",
				 rf->u->utility_id);
		gf_index_cursor_open(&leaf->c, pd->oids[i], "service_point_id", "interval_start_ts",
							 rf->snapshot, 2);
		leaf->map = build_attrmap_by_name_if_req(RelationGetDescr(leaf->c.rel), rf->rdesc);
		leaf->has_upper = leaf_upper(pd->oids[i], &leaf->upper);
	}
	table_close(parent, NoLock);
}

static void
close_reads(Refresh *rf)
{
	for (int i = 0; i < rf->nleaves; i++)
		gf_index_cursor_close(&rf->leaves[i].c);
	rf->nleaves = 0;
	ExecDropSingleTupleTableSlot(rf->conv);
	UnregisterSnapshot(rf->snapshot);
}

/*
 * Refresh service points sps[0..n) (all of them without one, sp_null, or
 * none), from their first read if full.
 */
static void
refresh_batch(Refresh *rf, RefreshSp **sps, int n, bool full)
{
	GfUtility  *u = rf->u;
	bool		none = sps[0]->sp_null;
	Datum	   *sp_d = palloc(sizeof(Datum) * n);
	Datum	   *from_d = palloc(sizeof(Datum) * n);
	Datum	   *lo_d = palloc(sizeof(Datum) * n);
	Datum	   *ctx_d = palloc(sizeof(Datum) * n);
	Oid			types[4] = {TEXTARRAYOID, DATEARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		args[4];
	const char *products = gf_qualified_name(rf->products);
	const char *daily = gf_qualified_name(rf->days);
	const char *list;
	GfProductWriter *em;
	TupleTableSlot *slot;
	int			pending = 0;
	TimestampTz context = 0;

	Assert(!none || n == 1);
	for (int i = 0; i < n; i++)
	{
		sp_d[i] = none ? CStringGetTextDatum("") : PointerGetDatum(sps[i]->sp);
		from_d[i] = DateADTGetDatum(sps[i]->from);
		lo_d[i] = TimestampTzGetDatum(day_start(u, sps[i]->from));
		ctx_d[i] = TimestampTzGetDatum(full ? DT_NOBEGIN :
									   day_start(u, sps[i]->from - rf->ctx_days));
	}
	args[0] = PointerGetDatum(construct_array(sp_d, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = PointerGetDatum(construct_array(from_d, n, DATEOID, sizeof(DateADT), true,
											  TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_array(lo_d, n, TIMESTAMPTZOID, sizeof(TimestampTz),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[3] = PointerGetDatum(construct_array(ctx_d, n, TIMESTAMPTZOID, sizeof(TimestampTz),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	list = "ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::date[]), "
		"pg_catalog.unnest($3::timestamptz[]), pg_catalog.unnest($4::timestamptz[])) "
		"WITH ORDINALITY AS t(sp, d, lo, ctx, n)";

	/*
	 * The rows from the earliest changed day on go; which service points
	 * had any is remembered (the runs before it may change).
	 */
	run_sql(psprintf("DELETE FROM %s p USING %s WHERE %s "
					 "AND p.interval_start_ts OPERATOR(pg_catalog.>=) t.lo "
					 "AND p.local_date OPERATOR(pg_catalog.>=) t.d RETURNING t.n",
					 products, list,
					 none ? "p.service_point_id IS NULL" :
					 "p.service_point_id OPERATOR(pg_catalog.=) t.sp"),
			4, types, args, SPI_OK_DELETE_RETURNING);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		k = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
													SPI_tuptable->tupdesc, 1, &isnull));

		if (isnull || k < 1 || k > n)
			elog(ERROR, "gridflow: refresh: a deleted product row of a service point not asked for");
		sps[k - 1]->replaced = true;
	}
	SPI_freetuptable(SPI_tuptable);
	if (!none)
	{
		/* their months are rolled up again, even if no read is left in a day */
		run_sql(psprintf("DELETE FROM %s e USING %s WHERE "
						 "e.service_point_id OPERATOR(pg_catalog.=) t.sp "
						 "AND e.local_date OPERATOR(pg_catalog.>=) t.d "
						 "RETURNING e.service_point_id, e.local_date", daily, list),
				4, types, args, SPI_OK_DELETE_RETURNING);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			text	   *sp = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 1, &isnull));
			Datum		date = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2,
											 &isnull);

			gf_days_add(rf->written, VARDATA_ANY(sp), VARSIZE_ANY_EXHDR(sp), false,
						DatumGetDateADT(date));
		}
		SPI_freetuptable(SPI_tuptable);
	}

	/*
	 * The reads from the context start on, by service point and time:
	 * through the index on (service_point_id, interval_start_ts) of each
	 * month, in the months' order, copied (the buffered product rows point
	 * into them until they are flushed).
	 */
	rf->full = full;
	rf->nredo = 0;
	em = gf_product_begin(&rf->t, u, rf->rdesc);
	slot = MakeSingleTupleTableSlot(rf->rdesc, &TTSOpsHeapTuple);
	for (int i = 0; i < n; i++)
	{
		TimestampTz ctx = DatumGetTimestampTz(ctx_d[i]);
		bool		begun = false;

		for (int l = 0; l < rf->nleaves; l++)
		{
			ReadLeaf   *leaf = &rf->leaves[l];
			ScanKeyData sk[2];
			int			nk = 0;

			if (!full && leaf->has_upper && leaf->upper <= ctx)
				continue;		/* the month ends before the context */
			if (none)
				ScanKeyEntryInitialize(&sk[nk++], SK_ISNULL | SK_SEARCHNULL, 1, InvalidStrategy,
									   InvalidOid, InvalidOid, InvalidOid, (Datum) 0);
			else
				gf_index_key(&sk[nk++], leaf->c.idx, 1, BTEqualStrategyNumber,
							 PointerGetDatum(sps[i]->sp));
			/* (-infinity when full: the scan has two keys) */
			gf_index_key(&sk[nk++], leaf->c.idx, 2, BTGreaterEqualStrategyNumber,
						 TimestampTzGetDatum(ctx));
			index_rescan(leaf->c.scan, sk, nk, NULL, 0);
			while (index_getnext_slot(leaf->c.scan, ForwardScanDirection, leaf->c.slot))
			{
				TupleTableSlot *src = leaf->c.slot;
				HeapTuple	tup;
				MemoryContext old;

				CHECK_FOR_INTERRUPTS();
				if (leaf->map != NULL)
					src = execute_attr_map_slot(leaf->map, leaf->c.slot, rf->conv);
				old = MemoryContextSwitchTo(rf->batch_cxt);
				tup = ExecCopySlotHeapTuple(src);
				MemoryContextSwitchTo(old);
				if (!begun)
				{
					end_group(rf, em, context);
					context = ctx;
					begin_group(rf, em, sps[i]);
					begun = true;
				}
				ExecStoreHeapTuple(tup, slot, false);
				slot_getallattrs(slot);
				feed(rf, em, slot);
				if (++pending >= REFRESH_FETCH)
				{
					/* the buffered rows point into the copied reads */
					gf_product_flush(em);
					ExecClearTuple(slot);
					MemoryContextReset(rf->batch_cxt);
					pending = 0;
				}
			}
		}
	}
	end_group(rf, em, context);
	gf_product_end(em);
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextReset(rf->batch_cxt);
	gf_bulk_flush(rf->t.experience);

	/* the reads before the changed days whose run changed */
	if (rf->nupd > 0)
	{
		Oid			utypes[7] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
		INT2ARRAYOID, TEXTARRAYOID, TEXTOID};
		Datum		uargs[7];
		int			dims[1] = {rf->nupd};
		int			lbs[1] = {1};
		bool	   *sp_nulls = palloc(sizeof(bool) * rf->nupd);

		for (int i = 0; i < rf->nupd; i++)
			sp_nulls[i] = none;
		uargs[0] = PointerGetDatum(construct_md_array(rf->upd_sp, sp_nulls, 1, dims, lbs,
													  TEXTOID, -1, false, TYPALIGN_INT));
		uargs[1] = PointerGetDatum(construct_array(rf->upd_meter, rf->nupd, TEXTOID, -1, false,
												   TYPALIGN_INT));
		uargs[2] = PointerGetDatum(construct_array(rf->upd_channel, rf->nupd, TEXTOID, -1, false,
												   TYPALIGN_INT));
		uargs[3] = PointerGetDatum(construct_array(rf->upd_start, rf->nupd, TIMESTAMPTZOID,
												   sizeof(TimestampTz), FLOAT8PASSBYVAL,
												   TYPALIGN_DOUBLE));
		uargs[4] = PointerGetDatum(construct_array(rf->upd_code, rf->nupd, INT2OID, sizeof(int16),
												   true, TYPALIGN_SHORT));
		uargs[5] = PointerGetDatum(construct_md_array(rf->upd_flags, rf->upd_flags_null, 1, dims,
													  lbs, TEXTOID, -1, false, TYPALIGN_INT));
		uargs[6] = u->utility_datum;
		if (SPI_execute_with_args(psprintf("UPDATE %s p SET quality_code = x.q, vee_flags = x.f "
										   "FROM (SELECT x.sp, x.meter, x.channel, x.ts, x.q, "
										   "pg_catalog.string_to_array(x.f, ',') AS f "
										   "FROM ROWS FROM (pg_catalog.unnest($1::text[]), "
										   "pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]), "
										   "pg_catalog.unnest($4::timestamptz[]), "
										   "pg_catalog.unnest($5::smallint[]), pg_catalog.unnest($6::text[])) "
										   "AS x(sp, meter, channel, ts, q, f)) x "
										   "WHERE %s AND p.interval_start_ts OPERATOR(pg_catalog.=) x.ts "
										   "AND p.utility_id OPERATOR(pg_catalog.=) $7 "
										   "AND p.meter_id OPERATOR(pg_catalog.=) x.meter "
										   "AND p.channel OPERATOR(pg_catalog.=) x.channel "
										   "AND (p.quality_code IS DISTINCT FROM x.q "
										   "OR p.vee_flags IS DISTINCT FROM x.f) "
										   "RETURNING p.service_point_id, p.local_date",
										   products,
										   none ? "p.service_point_id IS NULL" :
										   "p.service_point_id OPERATOR(pg_catalog.=) x.sp"),
								  7, utypes, uargs, NULL, false, 0) != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "gridflow: could not update the product rows of utility \"%s\"",
				 u->utility_id);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		sp_null;
			bool		date_null;
			Datum		sp = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &sp_null);
			Datum		date = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2,
											 &date_null);

			if (sp_null)
				continue;		/* reads without a service point have no days */
			gf_days_add(rf->resummarize, VARDATA_ANY(DatumGetTextPP(sp)),
						VARSIZE_ANY_EXHDR(DatumGetTextPP(sp)), false, DatumGetDateADT(date));
		}
		SPI_freetuptable(SPI_tuptable);
		rf->nupd = 0;
	}

	/* the service points whose context was too short, from their first read */
	if (rf->nredo > 0)
	{
		RefreshSp **redo = palloc(sizeof(RefreshSp *) * rf->nredo);
		int			nredo = rf->nredo;

		Assert(!full);
		memcpy(redo, rf->redo, sizeof(RefreshSp *) * nredo);
		CommandCounterIncrement();
		refresh_batch(rf, redo, nredo, true);
	}
}

/*
 * INSERT of the daily summaries of daily (a table like
 * experience.daily_usage) from the product rows that query source returns
 * (tz: the SQL of the utility's time zone): what
 * gridflow.experience_source defines.
 */
static char *
day_summary_sql(const char *daily, const char *source, const char *tz)
{
	return psprintf(	"INSERT INTO %s (utility_id, service_point_id, local_date, channel, unit, "
					  "time_resolution, bucket_start, bucket_end, total_usage, interval_count, "
					  "peak_usage_value, peak_usage_ts, pit_usage_value, pit_usage_ts, "
					  "estimated_count, questionable_count, estimated_usage, coverage) "
					  "SELECT s.utility_id, s.service_point_id, s.local_date, s.channel, "
					  "CASE WHEN s.units = s.reads AND s.unit_min = s.unit_max THEN s.unit_min END, "
					  "CASE WHEN s.day_reads > 0 THEN 'day' ELSE 'interval' END, "
					  "pg_catalog.timezone(%s, s.local_date::timestamp), "
					  "pg_catalog.timezone(%s, (s.local_date + 1)::timestamp), "
					  "s.total_usage, s.interval_count, (s.pp).peak_value, "
					  "CASE WHEN s.day_reads = 0 THEN (s.pp).peak_ts END, "
					  "(s.pp).pit_value, CASE WHEN s.day_reads = 0 THEN (s.pp).pit_ts END, "
					  "s.estimated_count, s.questionable_count, s.estimated_usage, "
					  "CASE WHEN NOT s.no_duration THEN s.valid_seconds::double precision / "
					  "EXTRACT(epoch FROM pg_catalog.timezone(%s, (s.local_date + 1)::timestamp) - "
					  "pg_catalog.timezone(%s, s.local_date::timestamp))::double precision END "
					  "FROM (SELECT p.utility_id, p.service_point_id, p.local_date, p.channel, "
					  "pg_catalog.count(*) AS reads, pg_catalog.count(p.unit) AS units, "
					  "pg_catalog.min(p.unit) AS unit_min, pg_catalog.max(p.unit) AS unit_max, "
					  "pg_catalog.count(*) FILTER (WHERE p.time_resolution = 'day') AS day_reads, "
					  "gridflow.exact_sum(p.value) AS total_usage, "
					  "pg_catalog.count(p.value)::integer AS interval_count, "
					  "gridflow.peak_pit(p.value, p.interval_start_ts) AS pp, "
					  "pg_catalog.count(*) FILTER (WHERE p.quality_code = ANY (ARRAY[8, 9]::smallint[]))::integer "
					  "AS estimated_count, "
					  "pg_catalog.count(*) FILTER (WHERE p.quality_code = 10::smallint)::integer AS questionable_count, "
					  "coalesce(gridflow.exact_sum(p.value) FILTER (WHERE p.quality_code = ANY (ARRAY[8, 9]::smallint[])), "
					  "0::double precision) AS estimated_usage, "
					  "coalesce(pg_catalog.sum(p.duration_seconds) FILTER (WHERE p.quality_code = 0::smallint "
					  "AND p.value IS NOT NULL AND p.duration_seconds > 0), 0) AS valid_seconds, "
					  "pg_catalog.bool_or(p.duration_seconds IS NULL OR p.duration_seconds <= 0) AS no_duration "
					  "FROM (%s) p WHERE p.service_point_id IS NOT NULL "
					  "GROUP BY p.utility_id, p.service_point_id, p.local_date, p.channel) s",
					daily, tz, tz, tz, tz, source);
}

/*
 * The daily summaries of days (of service points), computed again from
 * their product rows.
 */
static void
resummarize(Refresh *rf)
{
	GfUtility  *u = rf->u;
	uint32		n = gf_days_count(rf->resummarize);
	Datum	   *sps;
	Datum	   *dates;
	Datum	   *los;
	Datum	   *his;
	Datum		args[6];
	Oid			types[6] = {TEXTARRAYOID, DATEARRAYOID, TIMESTAMPTZARRAYOID,
	TIMESTAMPTZARRAYOID, TEXTOID, TEXTOID};
	const char *days_sql =
		"SELECT x.sp, x.d, x.lo, x.hi FROM ROWS FROM (pg_catalog.unnest($1::text[]), "
		"pg_catalog.unnest($2::date[]), pg_catalog.unnest($3::timestamptz[]), "
		"pg_catalog.unnest($4::timestamptz[])) AS x(sp, d, lo, hi)";

	if (n == 0)
		return;
	sps = palloc(sizeof(Datum) * n);
	dates = palloc(sizeof(Datum) * n);
	los = palloc(sizeof(Datum) * n);
	his = palloc(sizeof(Datum) * n);
	for (uint32 i = 0; i < n; i++)
	{
		bool		sp_null;
		int32		d = gf_days_entry(rf->resummarize, i, &sps[i], &sp_null);

		Assert(!sp_null);
		dates[i] = DateADTGetDatum(d);
		los[i] = TimestampTzGetDatum(day_start(u, d));
		his[i] = TimestampTzGetDatum(day_end(u, d));
		gf_days_add(rf->written, VARDATA_ANY(DatumGetTextPP(sps[i])),
					VARSIZE_ANY_EXHDR(DatumGetTextPP(sps[i])), false, d);
	}
	args[0] = PointerGetDatum(construct_array(sps, (int) n, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = PointerGetDatum(construct_array(dates, (int) n, DATEOID, sizeof(DateADT), true,
											  TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_array(los, (int) n, TIMESTAMPTZOID, sizeof(TimestampTz),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[3] = PointerGetDatum(construct_array(his, (int) n, TIMESTAMPTZOID, sizeof(TimestampTz),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[4] = CStringGetTextDatum(u->time_zone);
	args[5] = u->utility_datum;
	run_sql(psprintf("DELETE FROM %s e USING (%s) t "
					 "WHERE e.service_point_id OPERATOR(pg_catalog.=) t.sp "
					 "AND e.local_date OPERATOR(pg_catalog.=) t.d",
					 gf_qualified_name(rf->days), days_sql),
			6, types, args, SPI_OK_DELETE);
	run_sql(day_summary_sql(gf_qualified_name(rf->days),
							   psprintf("SELECT p.* FROM %s p JOIN (%s) t "
										"ON p.service_point_id OPERATOR(pg_catalog.=) t.sp "
										"AND p.interval_start_ts OPERATOR(pg_catalog.>=) t.lo "
										"AND p.interval_start_ts OPERATOR(pg_catalog.<) t.hi "
										"AND p.local_date OPERATOR(pg_catalog.=) t.d "
										"WHERE p.utility_id OPERATOR(pg_catalog.=) $6",
										gf_qualified_name(rf->products), days_sql), "$5"),
			6, types, args, SPI_OK_INSERT);
}

/*
 * Refresh the product rows and daily summaries of utility u (its
 * partitions reads, products and days, their month routes) after an ingest
 * changed the service-point days of changed; the days written go into
 * written.
 */
void
gf_refresh_products(GfUtility *u, Oid reads, Oid products, Oid days,
					GfRoute *products_route, GfRoute *days_route, GfDays *changed,
					GfDays *written)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow refresh",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	uint32		n = gf_days_count(changed);
	GfKeyTable *byid = gf_keytable_create(cxt, 1024, sizeof(RefreshSp *));
	RefreshSp  *none = NULL;
	RefreshSp **sps = palloc(sizeof(RefreshSp *) * Max(n, 1));
	int			nsp = 0;
	Refresh    *rf = palloc0(sizeof(Refresh));
	GfKept	   *kept_sp = u->kept_service_points;
	GfKept	   *kept_meter = u->kept_meters;

	/* the earliest changed day of each service point */
	for (uint32 i = 0; i < n; i++)
	{
		Datum		sp;
		bool		sp_null;
		DateADT		d = gf_days_entry(changed, i, &sp, &sp_null);
		RefreshSp **e;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (sp_null)
		{
			if (none == NULL)
			{
				none = palloc0(sizeof(RefreshSp));
				none->sp_null = true;
				none->from = d;
			}
			else
				none->from = Min(none->from, d);
			continue;
		}
		e = gf_keytable_find(byid, VARDATA_ANY(DatumGetTextPP(sp)),
							 VARSIZE_ANY_EXHDR(DatumGetTextPP(sp)),
							 gf_key_hash(VARDATA_ANY(DatumGetTextPP(sp)),
										 VARSIZE_ANY_EXHDR(DatumGetTextPP(sp))), true, &found);
		if (!found)
		{
			*e = palloc0(sizeof(RefreshSp));
			(*e)->sp = DatumGetTextPP(sp);
			(*e)->from = d;
			sps[nsp++] = *e;
		}
		else
			(*e)->from = Min((*e)->from, d);
	}

	rf->u = u;
	rf->reads = reads;
	rf->products = products;
	rf->days = days;
	rf->written = written;
	rf->resummarize = gf_days_create(cxt);
	rf->gap = u->vee_gap;
	rf->runs = (u->vee_zero_run > 0 || u->vee_flat_line > 0);

	/*
	 * With estimation, the estimates of a gap that ends on a changed day
	 * begin up to the longest gap estimated before it: from there on.  The
	 * context: high_low's days, or the reference weeks before the earliest
	 * gap (and the gap itself), and two more.
	 */
	if (u->est_enabled)
	{
		int			est_days = (int) ((u->est_longest_gap_seconds + SECS_PER_DAY - 1) / SECS_PER_DAY) + 1;

		for (int i = 0; i < nsp; i++)
			sps[i]->from -= est_days;
		if (none != NULL)
			none->from -= est_days;
		rf->ctx_days = 7 * u->est_reference_weeks + est_days;
	}
	if (u->vee_high_low)
		rf->ctx_days = Max(rf->ctx_days, u->vee_high_low_days);
	if (rf->gap || rf->runs || u->vee_high_low || u->est_enabled)
		rf->ctx_days += 2;
	rf->group_cxt = AllocSetContextCreate(cxt, "gridflow refresh service point",
										  ALLOCSET_DEFAULT_SIZES);
	rf->redo = palloc(sizeof(RefreshSp *) * REFRESH_BATCH);
	initStringInfo(&rf->key);
	rf->t.incremental = true;
	rf->t.product = gf_bulk_begin_routed(products, true, products_route);
	rf->t.experience = gf_bulk_begin_routed(days, true, days_route);

	/* the product rows take their meter's and service point's attributes */
	u->kept_service_points = gf_kept_from_table(u, GF_STORE_SERVICE_POINT, "service_point_id",
												false, cxt);
	u->kept_meters = gf_kept_from_table(u, GF_STORE_METER, "meter_id", false, cxt);

	open_reads(rf);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int from = 0; from < nsp; from += REFRESH_BATCH)
		refresh_batch(rf, sps + from, Min(nsp - from, REFRESH_BATCH), false);
	if (none != NULL)
		refresh_batch(rf, &none, 1, false);
	(void) gf_bulk_end(rf->t.product);
	(void) gf_bulk_end(rf->t.experience);
	CommandCounterIncrement();
	resummarize(rf);
	SPI_finish();
	close_reads(rf);

	u->kept_service_points = kept_sp;
	u->kept_meters = kept_meter;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}
