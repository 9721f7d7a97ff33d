/*-------------------------------------------------------------------------
 *
 * emit.c
 *	  Product rows and daily usage, computed while the standardized reads
 *	  of a utility are written.
 *
 * For every kept read the emitter writes its product.usage_interval row
 * (the read, its meter's and its service point's attributes from the rows
 * the build keeps in memory, its local day, and whether meter and service
 * point are known) and folds it into the daily summary of its service
 * point, local day and channel: exact sum (fsum.c), count, peak and pit
 * (peakpit.c).  Reads arrive grouped by service point (the loader writes
 * them in index order), so the days of one service point are complete when
 * the next one starts: they are written then, and memory holds one service
 * point's days at a time.  The result is what gridflow.product_source and
 * gridflow.experience_source define in SQL; the regression tests check
 * that both agree.  Which product column comes from where is decided by
 * name, once: from the read if it has the column, else from the meter,
 * else from the service point.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "fsum.h"
#include "gridflow.h"
#include "localtime.h"
#include "keytable.h"
#include "peakpit.h"

/*
 * Look-ups remembered per kept file: the reads of a service point come
 * together, each of its meters several times in turn.
 */
#define LOOKUP_WAYS 8

typedef enum ProductSource
{
	PS_READ,
	PS_METER,
	PS_SERVICE_POINT,
	PS_LOCAL_DATE,
	PS_SERVICE_POINT_KNOWN,
	PS_METER_KNOWN
} ProductSource;

typedef enum DayColumn
{
	DC_UTILITY,
	DC_SERVICE_POINT,
	DC_LOCAL_DATE,
	DC_CHANNEL,
	DC_BUCKET_START,
	DC_BUCKET_END,
	DC_TOTAL,
	DC_COUNT,
	DC_PEAK_VALUE,
	DC_PEAK_TS,
	DC_PIT_VALUE,
	DC_PIT_TS
} DayColumn;

static const char *const day_column_names[] = {
	"utility_id", "service_point_id", "local_date", "channel", "bucket_start",
	"bucket_end", "total_usage", "interval_count", "peak_usage_value",
	"peak_usage_ts", "pit_usage_value", "pit_usage_ts"
};

/* one daily summary being accumulated */
typedef struct DayAgg
{
	int64		count;
	PeakPitState pp;
	FSum		sum;
} DayAgg;

struct GfEmitter
{
	GfLoadTargets *t;
	GfUtility  *u;
	MemoryContext cxt;
	/* the read */
	int			r_sp;
	int			r_meter;
	int			r_start;
	int			r_channel;
	int			r_value;
	/* product columns */
	int			pnatts;
	ProductSource *psrc;
	int		   *patt;
	TupleTableSlot *meter_slot;
	TupleTableSlot *sp_slot;
	/* the last meters and service points looked up (reads come sorted) */
	struct LastLookup
	{
		struct
		{
			StringInfoData id;
			bool		valid;
			bool		found;
			MinimalTuple tuple;
		}			way[LOOKUP_WAYS];
		int			next;		/* way to reuse next */
		MinimalTuple stored;	/* the tuple in the slot */
	}			last_meter, last_sp;
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

static void flush_days(GfEmitter *em);

static void *
grow_partials(void *ctx, void *old, int old_cap, int new_cap)
{
	if (old == NULL)
		return MemoryContextAlloc((MemoryContext) ctx, sizeof(double) * new_cap);
	return repalloc(old, sizeof(double) * new_cap);
}

/* Start the product and daily rows of utility u's reads. */
GfEmitter *
gf_emit_begin(GfLoadTargets *t, GfUtility *u, TupleDesc rdesc)
{
	GfEmitter  *em;
	MemoryContext cxt;
	TupleDesc	pdesc = gf_bulk_tupdesc(t->product);
	TupleDesc	ddesc = gf_bulk_tupdesc(t->experience);
	/* a shard's build from staged reads (shard.c) writes no dimensions */
	TupleDesc	mdesc = t->meter ? gf_bulk_tupdesc(t->meter) :
		gf_relation_desc("standardized", "meter");
	TupleDesc	sdesc = t->service_point ? gf_bulk_tupdesc(t->service_point) :
		gf_relation_desc("standardized", "service_point");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow emitter",
								ALLOCSET_DEFAULT_SIZES);
	em = MemoryContextAllocZero(cxt, sizeof(GfEmitter));
	em->t = t;
	em->u = u;
	em->cxt = cxt;
	em->r_sp = gf_attnum(rdesc, "service_point_id", false);
	em->r_meter = gf_attnum(rdesc, "meter_id", false);
	em->r_start = gf_attnum(rdesc, "interval_start_ts", false);
	em->r_channel = gf_attnum(rdesc, "channel", false);
	em->r_value = gf_attnum(rdesc, "value", false);

	em->pnatts = pdesc->natts;
	em->psrc = MemoryContextAlloc(cxt, sizeof(ProductSource) * pdesc->natts);
	em->patt = MemoryContextAlloc(cxt, sizeof(int) * pdesc->natts);
	for (int i = 0; i < pdesc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(pdesc, i);
		const char *name = NameStr(a->attname);
		int			src;
		TupleDesc	from = NULL;

		if ((src = gf_attnum(rdesc, name, true)) >= 0)
			em->psrc[i] = PS_READ, from = rdesc;
		else if ((src = gf_attnum(mdesc, name, true)) >= 0)
			em->psrc[i] = PS_METER, from = mdesc;
		else if ((src = gf_attnum(sdesc, name, true)) >= 0)
			em->psrc[i] = PS_SERVICE_POINT, from = sdesc;
		else if (strcmp(name, "local_date") == 0 && a->atttypid == DATEOID)
			em->psrc[i] = PS_LOCAL_DATE;
		else if (strcmp(name, "service_point_known") == 0 && a->atttypid == BOOLOID)
			em->psrc[i] = PS_SERVICE_POINT_KNOWN;
		else if (strcmp(name, "meter_known") == 0 && a->atttypid == BOOLOID)
			em->psrc[i] = PS_METER_KNOWN;
		else
			elog(ERROR, "gridflow: no source for column \"%s\" of product.usage_interval", name);
		if (from != NULL && TupleDescAttr(from, src)->atttypid != a->atttypid)
			elog(ERROR, "gridflow: column \"%s\" of product.usage_interval has another type than its source", name);
		em->patt[i] = src;
	}

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

	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		em->meter_slot = MakeSingleTupleTableSlot(mdesc, &TTSOpsMinimalTuple);
		em->sp_slot = MakeSingleTupleTableSlot(sdesc, &TTSOpsMinimalTuple);
		initStringInfo(&em->key);
		initStringInfo(&em->cur_sp);
		for (int w = 0; w < LOOKUP_WAYS; w++)
		{
			initStringInfo(&em->last_meter.way[w].id);
			initStringInfo(&em->last_sp.way[w].id);
		}
		MemoryContextSwitchTo(old);
	}
	em->days_cxt = AllocSetContextCreate(cxt, "gridflow days", ALLOCSET_DEFAULT_SIZES);
	em->days = gf_keytable_create(em->days_cxt, 64, sizeof(DayAgg));
	em->have_sp = false;
	return em;
}

/*
 * The kept row of a text key in a kept file, in slot; false if absent.
 * Reads come sorted by service point, so the answer is often one of the
 * last few.
 */
static bool
lookup_kept(GfEmitter *em, GfKept *kept, text *id, TupleTableSlot *slot,
			struct LastLookup *last)
{
	GfDedupRow *d;
	const char *p = VARDATA_ANY(id);
	uint32		len = VARSIZE_ANY_EXHDR(id);
	int			w;

	if (kept == NULL)
		return false;
	for (w = 0; w < LOOKUP_WAYS; w++)
		if (last->way[w].valid && (uint32) last->way[w].id.len == len &&
			memcmp(last->way[w].id.data, p, len) == 0)
			break;
	if (w == LOOKUP_WAYS)
	{
		w = last->next;
		last->next = (last->next + 1) % LOOKUP_WAYS;
		resetStringInfo(&last->way[w].id);
		appendBinaryStringInfo(&last->way[w].id, p, (int) len);
		last->way[w].valid = true;
		resetStringInfo(&em->key);
		gf_encode_text_key(&em->key, p, len);
		d = gf_keytable_find(kept->keys, em->key.data, (uint32) em->key.len,
							 gf_key_hash(em->key.data, (uint32) em->key.len), false, NULL);
		last->way[w].found = (d != NULL);
		last->way[w].tuple = d ? d->tuple : NULL;
	}
	if (!last->way[w].found)
		return false;
	if (last->stored != last->way[w].tuple)
	{
		ExecStoreMinimalTuple(last->way[w].tuple, slot, false);
		slot_getallattrs(slot);
		last->stored = last->way[w].tuple;
	}
	return true;
}

/*
 * One standardized read (values set in the slot, valid until the product
 * writer is flushed): its product row and its share of the day.
 */
void
gf_emit_read(GfEmitter *em, TupleTableSlot *read)
{
	GfUtility  *u = em->u;
	Datum	   *rv = read->tts_values;
	bool	   *rn = read->tts_isnull;
	TimestampTz start = DatumGetTimestampTz(rv[em->r_start]);
	DateADT		local_date = gf_local_date(u, start);
	bool		meter_known;
	bool		sp_known;
	TupleTableSlot *p = gf_bulk_slot(em->t->product);

	meter_known = lookup_kept(em, u->kept_meters, DatumGetTextPP(rv[em->r_meter]),
							  em->meter_slot, &em->last_meter);
	sp_known = !rn[em->r_sp] &&
		lookup_kept(em, u->kept_service_points, DatumGetTextPP(rv[em->r_sp]), em->sp_slot,
					&em->last_sp);

	for (int i = 0; i < em->pnatts; i++)
	{
		int			src = em->patt[i];

		switch (em->psrc[i])
		{
			case PS_READ:
				p->tts_values[i] = rv[src];
				p->tts_isnull[i] = rn[src];
				break;
			case PS_METER:
				p->tts_values[i] = meter_known ? em->meter_slot->tts_values[src] : (Datum) 0;
				p->tts_isnull[i] = !meter_known || em->meter_slot->tts_isnull[src];
				break;
			case PS_SERVICE_POINT:
				p->tts_values[i] = sp_known ? em->sp_slot->tts_values[src] : (Datum) 0;
				p->tts_isnull[i] = !sp_known || em->sp_slot->tts_isnull[src];
				break;
			case PS_LOCAL_DATE:
				p->tts_values[i] = DateADTGetDatum(local_date);
				p->tts_isnull[i] = false;
				break;
			case PS_SERVICE_POINT_KNOWN:
				p->tts_values[i] = BoolGetDatum(sp_known);
				p->tts_isnull[i] = false;
				break;
			case PS_METER_KNOWN:
				p->tts_values[i] = BoolGetDatum(meter_known);
				p->tts_isnull[i] = false;
				break;
		}
	}
	gf_bulk_store(em->t->product, 256);

	/* the day: (service point, local day, channel); reads without a service point are not summarized */
	if (!rn[em->r_sp])
	{
		text	   *sp = DatumGetTextPP(rv[em->r_sp]);
		text	   *ch = DatumGetTextPP(rv[em->r_channel]);
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
			gf_fsum_init(&day->sum);
		if (!rn[em->r_value])
		{
			double		v = DatumGetFloat8(rv[em->r_value]);

			gf_fsum_add(&day->sum, v, grow_partials, em->days_cxt);
			day->count++;
			gf_peak_pit_add(&day->pp, v, start, false);
		}
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
flush_days(GfEmitter *em)
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
					isnull = !day->pp.has_value || day->pp.peak_ts_null;
					break;
				case DC_PIT_VALUE:
					v = Float8GetDatum(day->pp.pit_value);
					isnull = !day->pp.has_value;
					break;
				case DC_PIT_TS:
					v = TimestampTzGetDatum(day->pp.pit_ts);
					isnull = !day->pp.has_value || day->pp.pit_ts_null;
					break;
			}
			slot->tts_values[c] = v;
			slot->tts_isnull[c] = isnull;
		}
		MemoryContextSwitchTo(old);
		gf_bulk_store(out, 128);
		em->t->experience_rows++;
	}
	MemoryContextReset(em->days_cxt);
	em->days = gf_keytable_create(em->days_cxt, 64, sizeof(DayAgg));
	em->have_sp = false;
}

/*
 * Write the product rows still buffered (before the memory of the reads
 * they point to goes away).
 */
void
gf_emit_flush(GfEmitter *em)
{
	gf_bulk_flush(em->t->product);
}

/* Write what is left (buffered product rows, the last days); free. */
void
gf_emit_end(GfEmitter *em)
{
	flush_days(em);
	gf_bulk_flush(em->t->product);
	ExecDropSingleTupleTableSlot(em->meter_slot);
	ExecDropSingleTupleTableSlot(em->sp_slot);
	MemoryContextDelete(em->cxt);
}
