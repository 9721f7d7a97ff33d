/*-------------------------------------------------------------------------
 *
 * product.c
 *	  product.usage_interval: the product row of each standardized read of
 *	  a utility, written while the reads are (standardized.c).
 *
 * For every kept read the product writer writes its product row (the
 * read, its meter's and its service point's attributes from the rows the
 * build keeps in memory, its local day, whether meter and service point
 * are known, and its quality code and the validation rules it failed)
 * and hands the read to the daily summaries (experience.c).  The rules
 * applied here are those of one read alone (off_grid, negative, ceiling,
 * as gridflow.vee_rule enables them for the utility).  The result is what
 * gridflow.product_source defines in SQL; the regression tests check that
 * both agree.  Which product column comes from where is decided by name,
 * once: from the read if it has the column, else from the meter, else
 * from the service point.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "gridflow.h"
#include "keytable.h"
#include "localtime.h"

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
	PS_METER_KNOWN,
	PS_QUALITY_CODE,
	PS_VEE_FLAGS,
	PS_RAW_VALUE
} ProductSource;

/*
 * The validation rules a read can fail here, as bits, in the order
 * vee_flags lists them (the order of gridflow.product_source).
 */
#define VEE_OFF_GRID	0x01
#define VEE_NEGATIVE	0x02
#define VEE_CEILING		0x04
#define VEE_COMBINATIONS 8

/* ESPI QualityOfReading (gridflow.quality_code) */
#define QUALITY_VALID			0
#define QUALITY_QUESTIONABLE	10

struct GfProductWriter
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
	int			r_unit;
	int			r_resolution;
	int			r_duration;
	/* vee_flags of each combination of failed rules (0: NULL) */
	Datum		vee_flags[VEE_COMBINATIONS];
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
	StringInfoData key;
	GfDayWriter *days;			/* the daily summaries (experience.c) */
};

/* Start the product and daily rows of utility u's reads. */
GfProductWriter *
gf_product_begin(GfLoadTargets *t, GfUtility *u, TupleDesc rdesc)
{
	GfProductWriter  *em;
	MemoryContext cxt;
	TupleDesc	pdesc = gf_bulk_tupdesc(t->product);
	/* a shard's build from staged reads (shard.c) writes no dimensions */
	TupleDesc	mdesc = t->meter ? gf_bulk_tupdesc(t->meter) :
		gf_relation_desc("gridflow_store", "meter");
	TupleDesc	sdesc = t->service_point ? gf_bulk_tupdesc(t->service_point) :
		gf_relation_desc("gridflow_store", "service_point");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow product",
								ALLOCSET_DEFAULT_SIZES);
	em = MemoryContextAllocZero(cxt, sizeof(GfProductWriter));
	em->t = t;
	em->u = u;
	em->cxt = cxt;
	em->r_sp = gf_attnum(rdesc, "service_point_id", false);
	em->r_meter = gf_attnum(rdesc, "meter_id", false);
	em->r_start = gf_attnum(rdesc, "interval_start_ts", false);
	em->r_channel = gf_attnum(rdesc, "channel", false);
	em->r_value = gf_attnum(rdesc, "value", false);
	em->r_unit = gf_attnum(rdesc, "unit", false);
	em->r_resolution = gf_attnum(rdesc, "time_resolution", false);
	em->r_duration = gf_attnum(rdesc, "duration_seconds", false);

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
		else if (strcmp(name, "quality_code") == 0 && a->atttypid == INT2OID)
			em->psrc[i] = PS_QUALITY_CODE;
		else if (strcmp(name, "vee_flags") == 0 && a->atttypid == TEXTARRAYOID)
			em->psrc[i] = PS_VEE_FLAGS;
		else if (strcmp(name, "raw_value") == 0 && a->atttypid == FLOAT8OID)
			em->psrc[i] = PS_RAW_VALUE, src = em->r_value;
		else
			elog(ERROR, "gridflow: no source for column \"%s\" of product.usage_interval", name);
		if (em->psrc[i] == PS_RAW_VALUE &&
			TupleDescAttr(rdesc, src)->atttypid != a->atttypid)
			elog(ERROR, "gridflow: column \"%s\" of product.usage_interval has another type than its source", name);
		if (from != NULL && TupleDescAttr(from, src)->atttypid != a->atttypid)
			elog(ERROR, "gridflow: column \"%s\" of product.usage_interval has another type than its source", name);
		em->patt[i] = src;
	}

	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		em->meter_slot = MakeSingleTupleTableSlot(mdesc, &TTSOpsMinimalTuple);
		em->sp_slot = MakeSingleTupleTableSlot(sdesc, &TTSOpsMinimalTuple);
		initStringInfo(&em->key);
		for (int w = 0; w < LOOKUP_WAYS; w++)
		{
			initStringInfo(&em->last_meter.way[w].id);
			initStringInfo(&em->last_sp.way[w].id);
		}
		em->vee_flags[0] = (Datum) 0;
		for (int c = 1; c < VEE_COMBINATIONS; c++)
		{
			Datum		names[3];
			int			n = 0;

			if (c & VEE_OFF_GRID)
				names[n++] = CStringGetTextDatum("off_grid");
			if (c & VEE_NEGATIVE)
				names[n++] = CStringGetTextDatum("negative");
			if (c & VEE_CEILING)
				names[n++] = CStringGetTextDatum("ceiling");
			em->vee_flags[c] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false,
															   TYPALIGN_INT));
		}
		MemoryContextSwitchTo(old);
	}
	em->days = gf_day_writer_begin(t, u, cxt);
	return em;
}

/*
 * The kept row of a text key in a kept file, in slot; false if absent.
 * Reads come sorted by service point, so the answer is often one of the
 * last few.
 */
static bool
lookup_kept(GfProductWriter *em, GfKept *kept, text *id, TupleTableSlot *slot,
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
gf_product_read(GfProductWriter *em, TupleTableSlot *read)
{
	GfUtility  *u = em->u;
	Datum	   *rv = read->tts_values;
	bool	   *rn = read->tts_isnull;
	TimestampTz start = DatumGetTimestampTz(rv[em->r_start]);
	DateADT		local_date = gf_local_date(u, start);
	bool		meter_known;
	bool		sp_known;
	int			failed = 0;
	TupleTableSlot *p = gf_bulk_slot(em->t->product);

	if (em->t->dq != NULL)
		gf_dq_acc_read(em->t->dq, read);

	/* the rules of the read alone (NaN compares as PostgreSQL's float8 does) */
	if (!rn[em->r_value])
	{
		float8		value = DatumGetFloat8(rv[em->r_value]);

		if (u->vee_negative && float8_lt(value, 0.0))
			failed |= VEE_NEGATIVE;
		if (u->vee_ceiling && float8_ge(value, u->vee_ceiling_max))
			failed |= VEE_CEILING;
	}
	if (u->vee_off_grid && !rn[em->r_duration])
	{
		int32		duration = DatumGetInt32(rv[em->r_duration]);

		/* the grid: multiples of the duration from the local midnight */
		if (duration > 0 && SECS_PER_DAY % duration == 0)
		{
			int64		local = gf_local_timestamp(u, start);
			int64		of_day = local - (int64) local_date * USECS_PER_DAY;

			if (of_day % ((int64) duration * USECS_PER_SEC) != 0)
				failed |= VEE_OFF_GRID;
		}
	}

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
			case PS_QUALITY_CODE:
				p->tts_values[i] = Int16GetDatum(failed ? QUALITY_QUESTIONABLE : QUALITY_VALID);
				p->tts_isnull[i] = false;
				break;
			case PS_VEE_FLAGS:
				p->tts_values[i] = em->vee_flags[failed];
				p->tts_isnull[i] = (failed == 0);
				break;
			case PS_RAW_VALUE:
				p->tts_values[i] = rv[src];
				p->tts_isnull[i] = rn[src];
				break;
		}
	}
	if (em->t->dq != NULL)
		gf_dq_acc_product(em->t->dq, p);
	gf_bulk_store(em->t->product, 256);

	/* the day: (service point, local day, channel); reads without a service point are not summarized */
	if (!rn[em->r_sp])
		gf_day_add(em->days, DatumGetTextPP(rv[em->r_sp]), DatumGetTextPP(rv[em->r_channel]),
				   rn[em->r_unit] ? NULL : DatumGetTextPP(rv[em->r_unit]),
				   !rn[em->r_resolution] && VARSIZE_ANY_EXHDR(DatumGetTextPP(rv[em->r_resolution])) == 3,
				   local_date, start, rn[em->r_value],
				   rn[em->r_value] ? 0 : DatumGetFloat8(rv[em->r_value]));
}

/*
 * Write the product rows still buffered (before the memory of the reads
 * they point to goes away).
 */
void
gf_product_flush(GfProductWriter *em)
{
	gf_bulk_flush(em->t->product);
}

/* Write what is left (the last days, buffered product rows); free. */
void
gf_product_end(GfProductWriter *em)
{
	gf_day_writer_end(em->days);
	gf_bulk_flush(em->t->product);
	ExecDropSingleTupleTableSlot(em->meter_slot);
	ExecDropSingleTupleTableSlot(em->sp_slot);
	MemoryContextDelete(em->cxt);
}
