/*-------------------------------------------------------------------------
 *
 * experience.c
 *	  experience.daily_usage: the daily summaries of a utility's reads,
 *	  folded as the product writer (product.c) hands them over.
 *
 * Each read with a service point is folded into the summary of its
 * service point, local day and channel: exact sum (fsum.c), count, peak
 * and pit (aggregates.c), with local-midnight buckets (23 or 25 hours on
 * daylight-saving days).  Reads arrive grouped by service point (the
 * loader writes them in index order), so the days of one service point
 * are complete when the next one starts: they are written then, in the
 * order of the table's key, and memory holds one service point's days at
 * a time.  The result is what gridflow.experience_source defines in SQL;
 * the regression tests check that both agree.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "aggregates.h"
#include "gridflow.h"
#include "keytable.h"
#include "localtime.h"

typedef enum DayColumn
{
	DC_UTILITY,
	DC_SERVICE_POINT,
	DC_LOCAL_DATE,
	DC_CHANNEL,
	DC_UNIT,
	DC_RESOLUTION,
	DC_BUCKET_START,
	DC_BUCKET_END,
	DC_TOTAL,
	DC_COUNT,
	DC_PEAK_VALUE,
	DC_PEAK_TS,
	DC_PIT_VALUE,
	DC_PIT_TS,
	DC_ESTIMATED_COUNT,
	DC_QUESTIONABLE_COUNT,
	DC_ESTIMATED_USAGE,
	DC_COVERAGE
} DayColumn;

static const char *const day_column_names[] = {
	"utility_id", "service_point_id", "local_date", "channel", "unit", "time_resolution", "bucket_start",
	"bucket_end", "total_usage", "interval_count", "peak_usage_value",
	"peak_usage_ts", "pit_usage_value", "pit_usage_ts", "estimated_count", "questionable_count",
	"estimated_usage", "coverage"
};

/* one daily summary being accumulated */
typedef struct DayAgg
{
	int64		count;
	PeakPitState pp;
	FSum		sum;
	text	   *unit;			/* of its reads, while they agree */
	bool		unit_mixed;		/* reads of several units (or some of none) */
	bool		day_resolution; /* a read without its time of day */
	int64		estimated;		/* reads of quality codes 8 and 9 */
	int64		questionable;	/* reads of quality code 10 */
	FSum		estimated_sum;	/* their values (when estimated > 0) */
	int64		valid_seconds;	/* duration of the valid reads with a value */
	bool		no_duration;	/* a read without a duration */
} DayAgg;

struct GfDayWriter
{
	GfLoadTargets *t;
	GfUtility  *u;
	/* experience columns */
	int			dnatts;
	DayColumn  *dcol;
	/* the days of the current service point */
	MemoryContext days_cxt;
	GfKeyTable *days;
	StringInfoData cur_sp;
	bool		have_sp;
	StringInfoData key;
};

static void flush_days(GfDayWriter *em);

/* Start the daily summaries of utility u's reads, in memory context cxt. */
GfDayWriter *
gf_day_writer_begin(GfLoadTargets *t, GfUtility *u, MemoryContext cxt)
{
	GfDayWriter *em = MemoryContextAllocZero(cxt, sizeof(GfDayWriter));
	TupleDesc	ddesc = gf_bulk_tupdesc(t->experience);
	MemoryContext old;

	em->t = t;
	em->u = u;
	em->dnatts = ddesc->natts;
	em->dcol = MemoryContextAlloc(cxt, sizeof(DayColumn) * ddesc->natts);
	for (int i = 0; i < ddesc->natts; i++)
	{
		const char *name = NameStr(TupleDescAttr(ddesc, i)->attname);
		int			k;

		for (k = 0; k < lengthof(day_column_names); k++)
			if (strcmp(name, day_column_names[k]) == 0)
				break;
		if (k == lengthof(day_column_names))
			elog(ERROR, "gridflow: no source for column \"%s\" of experience.daily_usage", name);
		em->dcol[i] = (DayColumn) k;
	}
	old = MemoryContextSwitchTo(cxt);
	initStringInfo(&em->key);
	initStringInfo(&em->cur_sp);
	MemoryContextSwitchTo(old);
	em->days_cxt = AllocSetContextCreate(cxt, "gridflow days", ALLOCSET_DEFAULT_SIZES);
	em->days = gf_keytable_create(em->days_cxt, 64, sizeof(DayAgg));
	em->have_sp = false;
	return em;
}

/*
 * A read of service point sp on local_date, channel ch, in unit (NULL:
 * none), starting at start (only its day when day_resolution), of quality
 * code quality and duration seconds (not above 0: unknown): its share of the
 * day (a NULL value is counted in no figure but questionable_count).
 */
void
gf_day_add(GfDayWriter *em, text *sp, text *ch, text *unit, bool day_resolution,
		   int32 local_date, TimestampTz start, bool value_null, double v, int quality,
		   int32 seconds)
{
	uint32		splen = VARSIZE_ANY_EXHDR(sp);
	uint32		chlen = VARSIZE_ANY_EXHDR(ch);
	DayAgg	   *day;
	bool		found;

	if (em->have_sp &&
		(splen != (uint32) em->cur_sp.len || memcmp(VARDATA_ANY(sp), em->cur_sp.data, splen) != 0))
		flush_days(em);
	if (!em->have_sp)
	{
		resetStringInfo(&em->cur_sp);
		appendBinaryStringInfo(&em->cur_sp, VARDATA_ANY(sp), (int) splen);
		em->have_sp = true;
	}
	resetStringInfo(&em->key);
	appendBinaryStringInfo(&em->key, (char *) &local_date, sizeof(local_date));
	appendBinaryStringInfo(&em->key, VARDATA_ANY(ch), (int) chlen);
	day = gf_keytable_find(em->days, em->key.data, (uint32) em->key.len,
						   gf_key_hash(em->key.data, (uint32) em->key.len), true, &found);
	if (!found)
	{
		gf_fsum_init(&day->sum);
		day->unit = unit ? (text *) MemoryContextAlloc(em->days_cxt, VARSIZE_ANY(unit)) : NULL;
		if (unit)
			memcpy(day->unit, unit, VARSIZE_ANY(unit));
		day->unit_mixed = (unit == NULL);
	}
	else if (!day->unit_mixed &&
			 (unit == NULL || VARSIZE_ANY_EXHDR(unit) != VARSIZE_ANY_EXHDR(day->unit) ||
			  memcmp(VARDATA_ANY(unit), VARDATA_ANY(day->unit), VARSIZE_ANY_EXHDR(unit)) != 0))
		day->unit_mixed = true;
	if (day_resolution)
		day->day_resolution = true;
	if (seconds <= 0)
		day->no_duration = true;
	if (quality == GF_QUALITY_QUESTIONABLE)
		day->questionable++;
	else if (quality == GF_QUALITY_ESTIMATED_REFERENCE || quality == GF_QUALITY_ESTIMATED_LINEAR)
	{
		if (day->estimated++ == 0)
			gf_fsum_init(&day->estimated_sum);
		if (!value_null)
			gf_fsum_add(&day->estimated_sum, v, gf_fsum_grow, em->days_cxt);
	}
	else if (quality == GF_QUALITY_VALID && !value_null && seconds > 0)
		day->valid_seconds += seconds;
	if (!value_null)
	{
		gf_fsum_add(&day->sum, v, gf_fsum_grow, em->days_cxt);
		day->count++;
		gf_peak_pit_add(&day->pp, v, start, false);
	}
}

/* a daily summary's key, decoded, for ordering the rows */
typedef struct DayKey
{
	const char *ch;
	uint32		chlen;
	DateADT		local_date;
	uint32		entry;
} DayKey;

/* the order of experience.daily_usage's primary key within a service point */
static int
day_key_cmp(const void *x, const void *y)
{
	const DayKey *a = (const DayKey *) x;
	const DayKey *b = (const DayKey *) y;

	if (a->local_date != b->local_date)
		return a->local_date < b->local_date ? -1 : 1;
	return gf_bytes_cmp(a->ch, a->chlen, b->ch, b->chlen);
}

/* Write the days of the current service point, in key order; forget them. */
static void
flush_days(GfDayWriter *em)
{
	GfUtility  *u = em->u;
	GfBulk	   *out = em->t->experience;
	uint32		n = em->days->nentries;
	DayKey	   *keys;

	if (!em->have_sp)
		return;
	keys = MemoryContextAlloc(em->days_cxt, sizeof(DayKey) * Max(n, 1));
	for (uint32 e = 0; e < n; e++)
	{
		uint32		keylen;
		const char *key = gf_keytable_key(em->days, e, &keylen);
		DayKey	   *k = &keys[e];

		memcpy(&k->local_date, key, sizeof(k->local_date));
		k->ch = key + sizeof(k->local_date);
		k->chlen = keylen - sizeof(k->local_date);
		k->entry = e;
	}
	qsort(keys, n, sizeof(DayKey), day_key_cmp);

	for (uint32 i = 0; i < n; i++)
	{
		DayAgg	   *day = gf_keytable_payload(em->days, keys[i].entry);
		DateADT		local_date = keys[i].local_date;
		TupleTableSlot *slot = gf_bulk_slot(out);
		MemoryContext old;
		int64		midnight;

		CHECK_FOR_INTERRUPTS();
		midnight = (int64) (local_date + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)) * USECS_PER_DAY;
		old = MemoryContextSwitchTo(gf_bulk_memory(out));
		for (int c = 0; c < em->dnatts; c++)
		{
			Datum		v = (Datum) 0;
			bool		isnull = false;

			switch (em->dcol[c])
			{
				case DC_UTILITY:
					v = u->utility_datum;
					break;
				case DC_SERVICE_POINT:
					v = PointerGetDatum(cstring_to_text_with_len(em->cur_sp.data, em->cur_sp.len));
					break;
				case DC_LOCAL_DATE:
					v = DateADTGetDatum(local_date);
					break;
				case DC_CHANNEL:
					v = PointerGetDatum(cstring_to_text_with_len(keys[i].ch, (int) keys[i].chlen));
					break;
				case DC_UNIT:
					/* a copy: the day's memory goes before a writer that buffers rows flushes */
					v = day->unit_mixed ? (Datum) 0 :
						PointerGetDatum(pg_detoast_datum_copy((struct varlena *) day->unit));
					isnull = day->unit_mixed;
					break;
				case DC_RESOLUTION:
					v = CStringGetTextDatum(day->day_resolution ? "day" : "interval");
					break;
				case DC_BUCKET_START:
					v = TimestampTzGetDatum(gf_local_to_timestamptz(u, midnight));
					break;
				case DC_BUCKET_END:
					v = TimestampTzGetDatum(gf_local_to_timestamptz(u, midnight + USECS_PER_DAY));
					break;
				case DC_TOTAL:
					v = Float8GetDatum(gf_fsum_result(&day->sum));
					if (unlikely(!isfinite(DatumGetFloat8(v)) && !day->sum.has_special))
						gf_sum_overflow(psprintf("service point \"%.*s\", channel \"%.*s\" on %s (utility \"%s\")",
												 em->cur_sp.len, em->cur_sp.data,
												 (int) keys[i].chlen, keys[i].ch,
												 DatumGetCString(DirectFunctionCall1(date_out,
																					 DateADTGetDatum(local_date))),
												 u->utility_id));
					break;
				case DC_COUNT:
					v = Int32GetDatum((int32) day->count);
					break;
				case DC_PEAK_VALUE:
					v = Float8GetDatum(day->pp.peak_value);
					isnull = !day->pp.has_value;
					break;
				case DC_PEAK_TS:
					v = TimestampTzGetDatum(day->pp.peak_ts);
					isnull = !day->pp.has_value || day->pp.peak_ts_null || day->day_resolution;
					break;
				case DC_PIT_VALUE:
					v = Float8GetDatum(day->pp.pit_value);
					isnull = !day->pp.has_value;
					break;
				case DC_PIT_TS:
					v = TimestampTzGetDatum(day->pp.pit_ts);
					isnull = !day->pp.has_value || day->pp.pit_ts_null || day->day_resolution;
					break;
				case DC_ESTIMATED_COUNT:
					v = Int32GetDatum((int32) day->estimated);
					break;
				case DC_QUESTIONABLE_COUNT:
					v = Int32GetDatum((int32) day->questionable);
					break;
				case DC_ESTIMATED_USAGE:
					v = Float8GetDatum(day->estimated > 0 ? gf_fsum_result(&day->estimated_sum) : 0.0);
					break;
				case DC_COVERAGE:
					{
						/* the valid reads' seconds over the day's (23, 24 or 25 hours) */
						int64		day_usecs = gf_local_to_timestamptz(u, midnight + USECS_PER_DAY) -
							gf_local_to_timestamptz(u, midnight);

						v = Float8GetDatum((double) day->valid_seconds /
										   (double) (day_usecs / USECS_PER_SEC));
						isnull = day->no_duration;
					}
					break;
			}
			slot->tts_values[c] = v;
			slot->tts_isnull[c] = isnull;
		}
		MemoryContextSwitchTo(old);
		if (em->t->dq != NULL)
			gf_dq_acc_day(em->t->dq, slot);
		if (em->t->months != NULL)
			gf_month_add_day(em->t->months, slot);
		gf_bulk_store(out, 128);
		em->t->experience_rows++;
	}
	/* the service point's months are complete too */
	if (em->t->months != NULL)
		gf_month_flush(em->t->months);
	MemoryContextReset(em->days_cxt);
	em->days = gf_keytable_create(em->days_cxt, 64, sizeof(DayAgg));
	em->have_sp = false;
}

/* Write the days of the last service point. */
void
gf_day_writer_end(GfDayWriter *em)
{
	flush_days(em);
}

/*
 * The monthly rollup (experience.monthly_usage) of the days of relation
 * days, as SQL: what gridflow.monthly_source defines over
 * experience.daily_usage.  The month's total is the exact sum of its days'
 * totals; its peak day and its peak read are the earliest on ties.
 */
const char *
gf_month_rollup_sql(const char *days)
{
	return psprintf("SELECT s.utility_id, s.service_point_id, s.month_start, s.channel, "
					"CASE WHEN s.units OPERATOR(pg_catalog.=) s.day_count "
					"AND s.unit_min OPERATOR(pg_catalog.=) s.unit_max THEN s.unit_min END AS unit, "
					"CASE WHEN s.day_days OPERATOR(pg_catalog.>) 0 THEN 'day' ELSE 'interval' END AS time_resolution, "
					"s.day_count, s.interval_count, s.total_usage, "
					"s.total_usage OPERATOR(pg_catalog./) s.day_count AS avg_daily_usage, "
					"pg_catalog.timezone('UTC', (s.pd).peak_ts)::date AS peak_day, "
					"(s.pd).peak_value AS peak_day_usage, "
					"(s.pr).peak_value AS peak_usage_value, (s.pr).peak_ts AS peak_usage_ts "
					"FROM (SELECT d.utility_id, d.service_point_id, "
					"pg_catalog.date_trunc('month', d.local_date::timestamp)::date AS month_start, "
					"d.channel, pg_catalog.count(*)::integer AS day_count, "
					"pg_catalog.count(d.unit)::integer AS units, "
					"pg_catalog.min(d.unit) AS unit_min, pg_catalog.max(d.unit) AS unit_max, "
					"pg_catalog.count(*) FILTER (WHERE d.time_resolution OPERATOR(pg_catalog.=) 'day') AS day_days, "
					"pg_catalog.sum(d.interval_count)::integer AS interval_count, "
					"gridflow.exact_sum(d.total_usage) AS total_usage, "
					"gridflow.peak_pit(d.total_usage, pg_catalog.timezone('UTC', d.local_date::timestamp)) AS pd, "
					"gridflow.peak_pit(d.peak_usage_value, d.peak_usage_ts) AS pr "
					"FROM %s d "
					"GROUP BY d.utility_id, d.service_point_id, "
					"pg_catalog.date_trunc('month', d.local_date::timestamp)::date, d.channel) s",
					days);
}

/*
 * Write into relation months the rollup of the days of relation days: all
 * of them (sps is 0), or those of the service points and months of the
 * arrays sps (text[]) and months_start (date[], first days), whose rows in
 * months are replaced.  Returns the rows written.
 */
uint64
gf_month_rollup(Oid days, Oid months, Datum sps, Datum months_start)
{
	const char *qdays = gf_qualified_name(days);
	const char *qmonths = gf_qualified_name(months);
	const char *columns = gf_column_list(months);
	Oid			types[2] = {TEXTARRAYOID, DATEARRAYOID};
	Datum		args[2] = {sps, months_start};
	uint64		rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (sps == (Datum) 0)
	{
		if (SPI_execute(psprintf("INSERT INTO %s (%s) SELECT %s FROM (%s) r", qmonths, columns, columns,
								 gf_month_rollup_sql(qdays)), false, 0) != SPI_OK_INSERT)
			elog(ERROR, "gridflow: could not roll the days up into months");
	}
	else
	{
		const char *wanted =
			"SELECT x.sp, x.m FROM ROWS FROM (pg_catalog.unnest($1::text[]), "
			"pg_catalog.unnest($2::date[])) AS x(sp, m)";
		const char *days_of = psprintf("(SELECT d.* FROM %s d JOIN (%s) w "
									   "ON d.service_point_id OPERATOR(pg_catalog.=) w.sp "
									   "AND d.local_date OPERATOR(pg_catalog.>=) w.m "
									   "AND d.local_date OPERATOR(pg_catalog.<) (w.m OPERATOR(pg_catalog.+) '1 month'::interval)::date)",
									   qdays, wanted);

		if (SPI_execute_with_args(psprintf("DELETE FROM %s o USING (%s) w "
										   "WHERE o.service_point_id OPERATOR(pg_catalog.=) w.sp "
										   "AND o.month_start OPERATOR(pg_catalog.=) w.m",
										   qmonths, wanted),
								  2, types, args, NULL, false, 0) != SPI_OK_DELETE ||
			SPI_execute_with_args(psprintf("INSERT INTO %s (%s) SELECT %s FROM (%s) r", qmonths,
										   columns, columns, gf_month_rollup_sql(days_of)),
								  2, types, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "gridflow: could not roll the days up into months");
	}
	rows = SPI_processed;
	SPI_finish();
	return rows;
}
