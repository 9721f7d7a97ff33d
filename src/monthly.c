/*-------------------------------------------------------------------------
 *
 * monthly.c
 *	  experience.monthly_usage of a build, rolled up from the days as the
 *	  daily writer (experience.c) writes them.
 *
 * The days of a service point are written together, in the order of their
 * local day, so its months are complete when its last day is written:
 * they are written then, in the order of the table's key, and memory holds
 * one service point's months at a time.  The result is what
 * gridflow.monthly_source defines in SQL over experience.daily_usage (and
 * gf_month_rollup_sql() runs for shards): per service point,
 * local month and channel, the days with data, the reads, the exact total
 * and the mean per day, the peak day and the peak read, the earliest on
 * ties (gf_peak_pit_add(), as the aggregate gridflow.peak_pit does).  An
 * ingest's months (gf_month_refresh()) are rolled up by the same writer
 * from the stored days of each (service point, month) whose days it
 * wrote.  The regression tests compare a rebuild's months with an
 * ingest's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "aggregates.h"
#include "gridflow.h"
#include "keytable.h"

typedef enum MonthColumn
{
	MC_UTILITY,
	MC_SERVICE_POINT,
	MC_MONTH_START,
	MC_CHANNEL,
	MC_UNIT,
	MC_RESOLUTION,
	MC_DAY_COUNT,
	MC_INTERVAL_COUNT,
	MC_TOTAL,
	MC_AVG_DAILY,
	MC_PEAK_DAY,
	MC_PEAK_DAY_USAGE,
	MC_PEAK_VALUE,
	MC_PEAK_TS
} MonthColumn;

static const char *const month_column_names[] = {
	"utility_id", "service_point_id", "month_start", "channel", "unit", "time_resolution", "day_count",
	"interval_count", "total_usage", "avg_daily_usage", "peak_day", "peak_day_usage", "peak_usage_value",
	"peak_usage_ts"
};

/* one month of one channel of the current service point */
typedef struct MonthAgg
{
	DateADT		month_start;
	char	   *channel;
	uint32		chlen;
	int32		day_count;
	int32		day_days;		/* days of time_resolution 'day' */
	int64		interval_count;
	bool		unit_null;		/* a day without unit */
	bool		unit_mixed;		/* days of several units */
	text	   *unit;			/* the unit of the first day */
	int64		totals;			/* days with a total */
	FSum		total;
	PeakPitState peak_day;		/* over the days' totals, at their midnights (UTC) */
	PeakPitState peak_read;		/* over the days' peaks, at their times */
} MonthAgg;

struct GfMonthWriter
{
	GfBulk	   *out;
	GfUtility  *u;
	int			mnatts;
	MonthColumn *mcol;
	/* daily_usage columns read */
	TupleDesc	day_desc;
	int			d_sp,
				d_local_date,
				d_channel,
				d_unit,
				d_resolution,
				d_total,
				d_count,
				d_peak,
				d_peak_ts;
	/* the months of the current service point */
	MemoryContext cxt;
	text	   *sp;
	MonthAgg  **months;			/* each apart: an FSum points into itself */
	int			nmonths;
	int			maxmonths;
	int			last;			/* the month of the last day */
};

/* Start the months of utility u's days, written into out, in memory context parent. */
GfMonthWriter *
gf_month_writer_begin(GfBulk *out, GfUtility *u, MemoryContext parent)
{
	GfMonthWriter *mw = MemoryContextAllocZero(parent, sizeof(GfMonthWriter));
	TupleDesc	mdesc = gf_bulk_tupdesc(out);

	mw->out = out;
	mw->u = u;
	mw->mnatts = mdesc->natts;
	mw->mcol = MemoryContextAlloc(parent, sizeof(MonthColumn) * mdesc->natts);
	for (int i = 0; i < mdesc->natts; i++)
	{
		const char *name = NameStr(TupleDescAttr(mdesc, i)->attname);
		int			k;

		for (k = 0; k < lengthof(month_column_names); k++)
			if (strcmp(name, month_column_names[k]) == 0)
				break;
		if (k == lengthof(month_column_names))
			elog(ERROR, "gridflow: no source for column \"%s\" of experience.monthly_usage", name);
		mw->mcol[i] = (MonthColumn) k;
	}
	mw->cxt = AllocSetContextCreate(parent, "gridflow months", ALLOCSET_DEFAULT_SIZES);
	mw->last = -1;
	return mw;
}

/* The first day of the month of a local day (infinite days stay as they are). */
DateADT
gf_month_start(DateADT d)
{
	int			y,
				m,
				day;

	if (DATE_NOT_FINITE(d))
		return d;
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	return date2j(y, m, 1) - POSTGRES_EPOCH_JDATE;
}

/* a local day as local_date::timestamp read as UTC, and back */
static TimestampTz
day_ts(DateADT d)
{
	if (DATE_IS_NOBEGIN(d))
		return DT_NOBEGIN;
	if (DATE_IS_NOEND(d))
		return DT_NOEND;
	return (TimestampTz) d * USECS_PER_DAY;
}

static DateADT
ts_day(TimestampTz ts)
{
	if (TIMESTAMP_IS_NOBEGIN(ts))
		return DATEVAL_NOBEGIN;
	if (TIMESTAMP_IS_NOEND(ts))
		return DATEVAL_NOEND;
	return (DateADT) (ts / USECS_PER_DAY);
}

/*
 * A day (experience.daily_usage row, every column set) of the current
 * service point, or the first of the next one.
 */
void
gf_month_add_day(GfMonthWriter *mw, TupleTableSlot *day)
{
	Datum	   *v = day->tts_values;
	bool	   *n = day->tts_isnull;
	text	   *ch;
	DateADT		date,
				month;
	MonthAgg   *m = NULL;

	if (mw->day_desc != day->tts_tupleDescriptor)
	{
		TupleDesc	d = day->tts_tupleDescriptor;

		mw->day_desc = d;
		mw->d_sp = gf_attnum(d, "service_point_id", false);
		mw->d_local_date = gf_attnum(d, "local_date", false);
		mw->d_channel = gf_attnum(d, "channel", false);
		mw->d_unit = gf_attnum(d, "unit", false);
		mw->d_resolution = gf_attnum(d, "time_resolution", false);
		mw->d_total = gf_attnum(d, "total_usage", false);
		mw->d_count = gf_attnum(d, "interval_count", false);
		mw->d_peak = gf_attnum(d, "peak_usage_value", false);
		mw->d_peak_ts = gf_attnum(d, "peak_usage_ts", false);
	}
	/* the writer always sets the key */
	if (n[mw->d_sp] || n[mw->d_local_date] || n[mw->d_channel])
		elog(ERROR, "gridflow: a day without service point, local day or channel");
	if (mw->sp == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(mw->cxt);

		mw->sp = DatumGetTextPCopy(v[mw->d_sp]);
		MemoryContextSwitchTo(old);
	}
	date = DatumGetDateADT(v[mw->d_local_date]);
	month = gf_month_start(date);
	ch = DatumGetTextPP(v[mw->d_channel]);

	/* its month: most often the last one, or one of the few channels' */
	if (mw->last >= 0)
	{
		MonthAgg   *l = mw->months[mw->last];

		if (l->month_start == month && l->chlen == VARSIZE_ANY_EXHDR(ch) &&
			memcmp(l->channel, VARDATA_ANY(ch), l->chlen) == 0)
			m = l;
	}
	for (int i = mw->nmonths - 1; m == NULL && i >= 0; i--)
	{
		MonthAgg   *x = mw->months[i];

		if (x->month_start == month && x->chlen == VARSIZE_ANY_EXHDR(ch) &&
			memcmp(x->channel, VARDATA_ANY(ch), x->chlen) == 0)
		{
			m = x;
			mw->last = i;
		}
		else if (x->month_start < month)
			break;				/* the days come in order: an earlier month is done */
	}
	if (m == NULL)
	{
		if (mw->nmonths == mw->maxmonths)
		{
			mw->maxmonths = Max(8, mw->maxmonths * 2);
			mw->months = mw->months == NULL ?
				MemoryContextAlloc(mw->cxt, sizeof(MonthAgg *) * mw->maxmonths) :
				repalloc(mw->months, sizeof(MonthAgg *) * mw->maxmonths);
		}
		mw->last = mw->nmonths++;
		m = MemoryContextAllocZero(mw->cxt, sizeof(MonthAgg));
		mw->months[mw->last] = m;
		m->month_start = month;
		m->chlen = VARSIZE_ANY_EXHDR(ch);
		m->channel = MemoryContextAlloc(mw->cxt, m->chlen + 1);
		memcpy(m->channel, VARDATA_ANY(ch), m->chlen);
		m->channel[m->chlen] = '\0';
		gf_fsum_init(&m->total);
	}

	m->day_count++;
	if (n[mw->d_unit])
		m->unit_null = true;
	else if (m->unit == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(mw->cxt);

		m->unit = DatumGetTextPCopy(v[mw->d_unit]);
		MemoryContextSwitchTo(old);
	}
	else if (!m->unit_mixed)
	{
		text	   *u = DatumGetTextPP(v[mw->d_unit]);

		if (VARSIZE_ANY_EXHDR(u) != VARSIZE_ANY_EXHDR(m->unit) ||
			memcmp(VARDATA_ANY(u), VARDATA_ANY(m->unit), VARSIZE_ANY_EXHDR(u)) != 0)
			m->unit_mixed = true;
	}
	if (!n[mw->d_resolution])
	{
		text	   *r = DatumGetTextPP(v[mw->d_resolution]);

		if (VARSIZE_ANY_EXHDR(r) == 3 && memcmp(VARDATA_ANY(r), "day", 3) == 0)
			m->day_days++;
	}
	if (!n[mw->d_count])
		m->interval_count += DatumGetInt32(v[mw->d_count]);
	if (!n[mw->d_total])
	{
		double		t = DatumGetFloat8(v[mw->d_total]);

		gf_fsum_add(&m->total, t, gf_fsum_grow, mw->cxt);
		m->totals++;
		gf_peak_pit_add(&m->peak_day, t, day_ts(date), false);
	}
	if (!n[mw->d_peak])
		gf_peak_pit_add(&m->peak_read, DatumGetFloat8(v[mw->d_peak]),
						n[mw->d_peak_ts] ? 0 : DatumGetTimestampTz(v[mw->d_peak_ts]), n[mw->d_peak_ts]);
}

static int
month_cmp(const void *x, const void *y)
{
	const MonthAgg *a = *(const MonthAgg *const *) x;
	const MonthAgg *b = *(const MonthAgg *const *) y;

	if (a->month_start != b->month_start)
		return a->month_start < b->month_start ? -1 : 1;
	return gf_bytes_cmp(a->channel, a->chlen, b->channel, b->chlen);
}

/* The current service point's days are all added: write its months. */
void
gf_month_flush(GfMonthWriter *mw)
{
	GfUtility  *u = mw->u;

	if (mw->nmonths == 0)
	{
		MemoryContextReset(mw->cxt);
		mw->sp = NULL;
		mw->months = NULL;
		mw->maxmonths = 0;
		mw->last = -1;
		return;
	}
	qsort(mw->months, mw->nmonths, sizeof(MonthAgg *), month_cmp);
	for (int i = 0; i < mw->nmonths; i++)
	{
		MonthAgg   *m = mw->months[i];
		TupleTableSlot *slot = gf_bulk_slot(mw->out);
		MemoryContext old;
		double		total = 0;

		CHECK_FOR_INTERRUPTS();
		if (m->totals > 0)
		{
			total = gf_fsum_result(&m->total);
			if (unlikely(!isfinite(total) && !m->total.has_special))
				gf_sum_overflow(psprintf("the days of service point \"%s\", channel \"%s\" in the month of %s (utility \"%s\")",
										 text_to_cstring(mw->sp), m->channel,
										 DatumGetCString(DirectFunctionCall1(date_out,
																			 DateADTGetDatum(m->month_start))),
										 u->utility_id));
		}
		if (m->interval_count > PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("integer out of range"),
					 errdetail("The reads of a month of service point \"%s\" exceed the range of interval_count.",
							   text_to_cstring(mw->sp))));
		old = MemoryContextSwitchTo(gf_bulk_memory(mw->out));
		for (int c = 0; c < mw->mnatts; c++)
		{
			Datum		v = (Datum) 0;
			bool		isnull = false;

			switch (mw->mcol[c])
			{
				case MC_UTILITY:
					v = u->utility_datum;
					break;
				case MC_SERVICE_POINT:
					v = PointerGetDatum(DatumGetTextPCopy(PointerGetDatum(mw->sp)));
					break;
				case MC_MONTH_START:
					v = DateADTGetDatum(m->month_start);
					break;
				case MC_CHANNEL:
					v = PointerGetDatum(cstring_to_text_with_len(m->channel, (int) m->chlen));
					break;
				case MC_UNIT:
					isnull = (m->unit == NULL || m->unit_null || m->unit_mixed);
					v = isnull ? (Datum) 0 : PointerGetDatum(DatumGetTextPCopy(PointerGetDatum(m->unit)));
					break;
				case MC_RESOLUTION:
					v = CStringGetTextDatum(m->day_days > 0 ? "day" : "interval");
					break;
				case MC_DAY_COUNT:
					v = Int32GetDatum(m->day_count);
					break;
				case MC_INTERVAL_COUNT:
					v = Int32GetDatum((int32) m->interval_count);
					break;
				case MC_TOTAL:
					v = Float8GetDatum(total);
					isnull = (m->totals == 0);
					break;
				case MC_AVG_DAILY:
					v = Float8GetDatum(total / (double) m->day_count);
					isnull = (m->totals == 0);
					break;
				case MC_PEAK_DAY:
					v = DateADTGetDatum(ts_day(m->peak_day.peak_ts));
					isnull = !m->peak_day.has_value;
					break;
				case MC_PEAK_DAY_USAGE:
					v = Float8GetDatum(m->peak_day.peak_value);
					isnull = !m->peak_day.has_value;
					break;
				case MC_PEAK_VALUE:
					v = Float8GetDatum(m->peak_read.peak_value);
					isnull = !m->peak_read.has_value;
					break;
				case MC_PEAK_TS:
					v = TimestampTzGetDatum(m->peak_read.peak_ts);
					isnull = !m->peak_read.has_value || m->peak_read.peak_ts_null;
					break;
			}
			slot->tts_values[c] = v;
			slot->tts_isnull[c] = isnull;
		}
		MemoryContextSwitchTo(old);
		gf_bulk_store(mw->out, 128);
	}
	MemoryContextReset(mw->cxt);
	mw->sp = NULL;
	mw->months = NULL;
	mw->nmonths = 0;
	mw->maxmonths = 0;
	mw->last = -1;
}

/* The last service point's months are written (gf_month_flush()): free. */
void
gf_month_writer_end(GfMonthWriter *mw)
{
	gf_month_flush(mw);
	MemoryContextDelete(mw->cxt);
}

/* ---------------------------------------------------------------------
 * An ingest's months
 * ---------------------------------------------------------------------
 */

/* a (service point, month) to roll up again */
typedef struct MonthKey
{
	text	   *sp;
	int32		month;			/* gf_month_of_date() */
} MonthKey;

static int
month_key_cmp(const void *x, const void *y)
{
	const MonthKey *a = x;
	const MonthKey *b = y;
	int			c = gf_bytes_cmp(VARDATA_ANY(a->sp), VARSIZE_ANY_EXHDR(a->sp),
								 VARDATA_ANY(b->sp), VARSIZE_ANY_EXHDR(b->sp));

	if (c != 0)
		return c;
	return a->month < b->month ? -1 : (a->month > b->month ? 1 : 0);
}

static bool
same_text(text *a, text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* the first day of month m (gf_month_of_date()) */
static DateADT
month_first_day(int32 m)
{
	return date2j(m / 12, m % 12 + 1, 1) - POSTGRES_EPOCH_JDATE;
}

/* the days of one month partition, read by service point and day */
typedef struct DayLeaf
{
	int32		month;
	GfIndexCursor c;			/* c.rel NULL: no leaf of that month */
} DayLeaf;

/*
 * An ingest's months: those of the (service point, month)s of the days in
 * written (the service-point days an ingest wrote or emptied), rolled up
 * again from the days stored in the utility's partition of
 * experience.daily_usage (days_route: its months) into months (its
 * partition of experience.monthly_usage), whose rows of those months are
 * replaced.  The days are read through the index on (service_point_id,
 * local_date) of their month, in order, and rolled up by the month writer
 * a build uses.  Returns the rows written.
 */
uint64
gf_month_refresh(GfUtility *u, GfRoute *days_route, Oid months, GfDays *written)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow month refresh",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	uint32		n = gf_days_count(written);
	GfKeyTable *seen = gf_keytable_create(cxt, 256, 0);
	MonthKey   *keys = palloc(sizeof(MonthKey) * Max(n, 1));
	int			nkeys = 0;
	StringInfoData k;
	Snapshot	snapshot;
	Relation	mrel;
	Relation	midx;
	IndexScanDesc mscan;
	TupleTableSlot *mslot;
	ScanKeyData sk[3];
	DayLeaf    *leaves = NULL;
	int			nleaves = 0;
	GfBulk	   *out;
	GfMonthWriter *mw;
	uint64		rows;

	initStringInfo(&k);
	for (uint32 i = 0; i < n; i++)
	{
		Datum		sp;
		bool		sp_null;
		int32		month = gf_month_of_date(gf_days_entry(written, i, &sp, &sp_null));
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (sp_null)
			continue;			/* reads without a service point have no days */
		resetStringInfo(&k);
		appendBinaryStringInfo(&k, (char *) &month, sizeof(month));
		appendBinaryStringInfo(&k, VARDATA_ANY(DatumGetTextPP(sp)),
							   (int) VARSIZE_ANY_EXHDR(DatumGetTextPP(sp)));
		(void) gf_keytable_find(seen, k.data, (uint32) k.len,
								gf_key_hash(k.data, (uint32) k.len), true, &found);
		if (found)
			continue;
		keys[nkeys].sp = DatumGetTextPP(sp);
		keys[nkeys].month = month;
		nkeys++;
	}
	if (nkeys == 0)
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		return 0;
	}
	qsort(keys, nkeys, sizeof(MonthKey), month_key_cmp);

	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());

	/* the months' rows go */
	mrel = table_open(months, RowExclusiveLock);
	midx = gf_leading_index(mrel, "service_point_id", "month_start", RowExclusiveLock);
	mslot = table_slot_create(mrel, NULL);
	mscan = index_beginscan(mrel, midx, snapshot, 2, 0);
	for (int i = 0; i < nkeys; i++)
	{
		CHECK_FOR_INTERRUPTS();
		gf_index_key(&sk[0], midx, 1, BTEqualStrategyNumber, PointerGetDatum(keys[i].sp));
		gf_index_key(&sk[1], midx, 2, BTEqualStrategyNumber,
				  DateADTGetDatum(month_first_day(keys[i].month)));
		index_rescan(mscan, sk, 2, NULL, 0);
		while (index_getnext_slot(mscan, ForwardScanDirection, mslot))
			simple_table_tuple_delete(mrel, &mslot->tts_tid, snapshot);
	}
	index_endscan(mscan);
	ExecDropSingleTupleTableSlot(mslot);
	index_close(midx, RowExclusiveLock);
	table_close(mrel, NoLock);

	/* and are written again from their days */
	out = gf_bulk_begin_indexed(months);
	mw = gf_month_writer_begin(out, u, cxt);
	for (int i = 0; i < nkeys; i++)
	{
		DayLeaf    *leaf = NULL;
		DateADT		first = month_first_day(keys[i].month);

		CHECK_FOR_INTERRUPTS();
		if (i > 0 && !same_text(keys[i].sp, keys[i - 1].sp))
			gf_month_flush(mw);
		for (int l = 0; l < nleaves; l++)
			if (leaves[l].month == keys[i].month)
				leaf = &leaves[l];
		if (leaf == NULL)
		{
			Oid			relid = days_route->leaf(days_route->arg, keys[i].month, false);

			leaves = leaves ? repalloc(leaves, sizeof(DayLeaf) * (nleaves + 1)) :
				palloc(sizeof(DayLeaf));
			leaf = &leaves[nleaves++];
			memset(leaf, 0, sizeof(DayLeaf));
			leaf->month = keys[i].month;
			if (OidIsValid(relid))
				gf_index_cursor_open(&leaf->c, relid, "service_point_id", "local_date", snapshot, 3);
		}
		if (leaf->c.rel == NULL)
			continue;			/* no day of that month anywhere */
		gf_index_key(&sk[0], leaf->c.idx, 1, BTEqualStrategyNumber, PointerGetDatum(keys[i].sp));
		gf_index_key(&sk[1], leaf->c.idx, 2, BTGreaterEqualStrategyNumber, DateADTGetDatum(first));
		gf_index_key(&sk[2], leaf->c.idx, 2, BTLessStrategyNumber,
				  DateADTGetDatum(month_first_day(keys[i].month + 1)));
		index_rescan(leaf->c.scan, sk, 3, NULL, 0);
		while (index_getnext_slot(leaf->c.scan, ForwardScanDirection, leaf->c.slot))
		{
			slot_getallattrs(leaf->c.slot);
			gf_month_add_day(mw, leaf->c.slot);
		}
	}
	gf_month_writer_end(mw);
	rows = gf_bulk_end(out);
	for (int l = 0; l < nleaves; l++)
		gf_index_cursor_close(&leaves[l].c);
	UnregisterSnapshot(snapshot);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return rows;
}
