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
 * and hands the read to the daily summaries (experience.c).  The rules of
 * one read alone (off_grid, negative, ceiling) are decided when the read
 * comes; those of a series (gap, zero_run, flat_line, spike, high_low, as
 * gridflow.vee_rule enables them for the utility) over the reads of one
 * service point, meter and channel in time order.  Reads come grouped by
 * service point and in time order within it, so each series is seen whole
 * and in order: its reads are held back (copied) until their local day is
 * complete and no open run of identical values can still flag them, then
 * written.  Memory holds about one local day per series of the current
 * service point, and the daily totals of the last high_low days.  The
 * result is what gridflow.product_source defines in SQL; the regression
 * tests check that both agree.  With estimation (gridflow.vee_estimation),
 * the gap before each read is filled, when the read is written, by rows of
 * quality code 9 (linear) or 8 (reference days, estimate.c keeps the
 * series' recent weeks): estimate_gap(); product_source has no such rows.
 * Which product column comes from where is decided by name,
 * once: from the read if it has the column, else from the meter, else
 * from the service point.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "aggregates.h"
#include "estimate.h"
#include "fsum.h"
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
 * The validation rules a read can fail, as bits, in the order vee_flags
 * lists them (the order of gridflow.product_source).
 */
#define VEE_OFF_GRID	0x01
#define VEE_NEGATIVE	0x02
#define VEE_CEILING		0x04
#define VEE_GAP			0x08
#define VEE_ZERO_RUN	0x10
#define VEE_FLAT_LINE	0x20
#define VEE_SPIKE		0x40
#define VEE_HIGH_LOW	0x80
#define VEE_COMBINATIONS 256

static const char *const vee_rule_names[] = {
	"off_grid", "negative", "ceiling", "gap", "zero_run", "flat_line", "spike", "high_low"
};

/* a read held back until the rules of its series are decided */
typedef struct VeeRead
{
	struct VeeRead *next;
	MinimalTuple tuple;			/* the read, copied */
	DateADT		local_date;
	double		value;
	bool		value_null;
	uint8		failed;			/* VEE_* bits */
	/* for estimation: where the read is on its series' grid */
	bool		end_null;
	bool		duration_null;
	bool		day_res;		/* a read of a day's resolution */
	int32		duration;
	TimestampTz start;
	TimestampTz end;
} VeeRead;

/* the reads of one service point, meter and channel, in time order */
typedef struct VeeSeries
{
	VeeRead    *head;			/* held back, oldest first */
	VeeRead    *tail;
	VeeRead    *day_first;		/* first read of the current day (NULL: none yet) */
	VeeRead    *held;			/* first read of the open run, while it may still be flagged */
	DateADT		day;			/* the current local day */
	FSum		day_sum;		/* its total */
	bool		day_any;		/* some read of it has a value */
	/* the previous read (gap) */
	bool		has_prev;
	bool		prev_end_null;
	bool		prev_day_res;
	TimestampTz prev_end;
	/* the open run of identical values (zero_run, flat_line) */
	bool		run_open;
	bool		run_flagged;
	double		run_value;
	int64		run_len;
	int32		run_min;		/* reads that make it fail (0: never) */
	uint8		run_bit;
	/* high_low: the totals of the latest days that have a value */
	int			nhist;
	int			hist_cap;
	DateADT    *hist_date;
	double	   *hist_total;
	/* estimation: the last read written, and the reference days */
	VeeRead    *last;
	GfEstHistory *est;
} VeeSeries;


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
	int			r_quality;		/* the sender's quality (gf_quality_code) */
	int			r_duration;
	int			r_end;
	/* vee_flags of each combination of failed rules (0: NULL; built when first needed) */
	Datum		vee_flags[VEE_COMBINATIONS];
	/* the series rules: the series of the current service point */
	bool		series;			/* some series rule is enabled */
	TupleDesc	rdesc;
	Datum	   *rv;				/* a held read, deformed */
	bool	   *rn;
	MemoryContext group_cxt;	/* the current service point's series */
	GfKeyTable *group;			/* (meter, channel) -> VeeSeries * */
	bool		group_open;
	bool		group_sp_null;
	StringInfoData group_sp;
	StringInfoData series_key;
	double	   *median_buf;
	int			median_cap;
	/* estimation: the read's columns an estimated row keeps (the others are NULL) */
	bool	   *est_keep;
	double	   *est_values;
	int64		est_values_cap;
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
	/* gf_product_set_window(): reads before from_day go to before() */
	DateADT		from_day;
	GfProductBeforeFn before;
	void	   *before_arg;
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
	em->r_end = gf_attnum(rdesc, "interval_end_ts", false);
	em->r_quality = gf_attnum(rdesc, "quality", false);
	em->rdesc = rdesc;
	em->from_day = DATEVAL_NOBEGIN;
	/* estimation, too, sees the reads of each series in order (when decided) */
	em->series = (u->vee_gap || u->vee_zero_run > 0 || u->vee_flat_line > 0 || u->vee_spike ||
				  u->vee_high_low || u->est_enabled);

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
		initStringInfo(&em->group_sp);
		initStringInfo(&em->series_key);
		if (em->series)
		{
			em->rv = palloc(sizeof(Datum) * rdesc->natts);
			em->rn = palloc(sizeof(bool) * rdesc->natts);
			em->group_cxt = AllocSetContextCreate(cxt, "gridflow series", ALLOCSET_DEFAULT_SIZES);
		}
		if (u->est_enabled)
		{
			static const char *const keep[] = {"utility_id", "service_point_id", "meter_id",
				"channel", "interval_start_ts", "interval_end_ts", "duration_seconds",
			"time_resolution", "value", "unit"};

			em->est_keep = palloc0(sizeof(bool) * rdesc->natts);
			for (int k = 0; k < lengthof(keep); k++)
			{
				int			a = gf_attnum(rdesc, keep[k], true);

				if (a >= 0)
					em->est_keep[a] = true;
			}
		}
		MemoryContextSwitchTo(old);
	}
	em->days = gf_day_writer_begin(t, u, cxt);
	return em;
}

/*
 * The rows of a dimension of a utility (its staged partition if staged, a
 * shard's build; else its partition, an ingest's refresh), in memory as a
 * build keeps them (GfKept: by id, for the product rows), in cxt.
 */
GfKept *
gf_kept_from_table(GfUtility *u, GfStore t, const char *id_column, bool staged,
				   MemoryContext cxt)
{
	GfKept	   *k;
	Portal		portal;
	StringInfoData key;
	int			id_att;
	Oid			rel = gf_store_partition(t, u->utility_id, staged, false);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	k = palloc(sizeof(GfKept));
	k->desc = gf_relation_desc("gridflow_store", gf_store[t].table);
	k->keys = gf_keytable_create(cxt, 1024, sizeof(GfDedupRow));
	initStringInfo(&key);
	MemoryContextSwitchTo(old);
	id_att = gf_attnum(k->desc, id_column, false);
	if (!OidIsValid(rel))
		return k;				/* none yet */

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_open(NULL,
							 SPI_prepare(psprintf("SELECT * FROM %s", gf_qualified_name(rel)),
										 0, NULL),
							 NULL, NULL, false);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			bool		isnull;
			Datum		id = heap_getattr(tup, id_att + 1, SPI_tuptable->tupdesc, &isnull);
			text	   *txt;
			GfDedupRow *d;
			bool		found;

			CHECK_FOR_INTERRUPTS();
			if (isnull)
				continue;
			txt = DatumGetTextPP(id);
			resetStringInfo(&key);
			gf_encode_text_key(&key, VARDATA_ANY(txt), VARSIZE_ANY_EXHDR(txt));
			d = gf_keytable_find(k->keys, key.data, (uint32) key.len,
								 gf_key_hash(key.data, (uint32) key.len), true, &found);
			if (!found)
			{
				old = MemoryContextSwitchTo(cxt);
				d->tuple = minimal_tuple_from_heap_tuple(tup);
				d->tuple_cap = d->tuple->t_len;
				MemoryContextSwitchTo(old);
			}
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	return k;
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

/* vee_flags of the combination of failed rules c (not 0) */
static Datum
vee_flags_of(GfProductWriter *em, int c)
{
	if (em->vee_flags[c] == (Datum) 0)
	{
		MemoryContext old = MemoryContextSwitchTo(em->cxt);
		Datum		names[lengthof(vee_rule_names)];
		int			n = 0;

		for (int b = 0; b < lengthof(vee_rule_names); b++)
			if (c & (1 << b))
				names[n++] = CStringGetTextDatum(vee_rule_names[b]);
		em->vee_flags[c] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false,
														   TYPALIGN_INT));
		MemoryContextSwitchTo(old);
	}
	return em->vee_flags[c];
}

/*
 * spike: value above ratio times third (the third-largest value of its
 * day), when third is at least floor; as float8 compares (NaN largest),
 * without an error where ratio times third overflows (then nothing is
 * above it).
 */
static inline bool
vee_is_spike(double value, double third, double ratio, double floor)
{
	if (!float8_ge(third, floor))
		return false;
	if (float8_gt(third, DBL_MAX / ratio))
		return false;
	return float8_gt(value, ratio * third);
}

/* high_low: total below low times median or above high times median */
static inline bool
vee_is_outside(double total, double median, double low, double high)
{
	return float8_lt(total, low * median) || float8_gt(total, high * median);
}

PG_FUNCTION_INFO_V1(gridflow_vee_spike);
PG_FUNCTION_INFO_V1(gridflow_vee_outside);

/* gridflow.vee_spike(value, third, ratio, floor): the spike rule's test */
Datum
gridflow_vee_spike(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(vee_is_spike(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
								PG_GETARG_FLOAT8(3)));
}

/* gridflow.vee_outside(total, median, low, high): the high_low rule's test */
Datum
gridflow_vee_outside(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(vee_is_outside(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
								  PG_GETARG_FLOAT8(3)));
}

/* The rules of the read alone that values rv/rn fail (VEE_* bits). */
static int
read_rules(GfProductWriter *em, Datum *rv, bool *rn, TimestampTz start, DateADT local_date)
{
	GfUtility  *u = em->u;
	int			failed = 0;

	/* NaN compares as PostgreSQL's float8 does */
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
	return failed;
}

/*
 * The product row of a read (values rv/rn, valid until the product writer
 * is flushed) that failed the rules of bits failed, and its share of the
 * day.  estimated: 0 for a read; for an estimated row (estimate_gap()), its
 * quality code (8 or 9): raw_value and vee_flags NULL.
 */
static void
write_read(GfProductWriter *em, Datum *rv, bool *rn, DateADT local_date, int failed, Size bytes,
		   int estimated)
{
	GfUtility  *u = em->u;

	/*
	 * an estimate's code; else the sender's code, or what the rules say
	 * (gridflow.product_source)
	 */
	int			quality = estimated ? estimated :
		gf_quality_code(u, rn[em->r_quality] ? NULL : DatumGetTextPP(rv[em->r_quality]),
						failed != 0);
	TimestampTz start = DatumGetTimestampTz(rv[em->r_start]);
	bool		meter_known;
	bool		sp_known;
	TupleTableSlot *p;

	if (local_date < em->from_day)
	{
		if (em->before != NULL)
			em->before(em->before_arg, rv, rn, local_date, quality,
					   (failed && !estimated) ? vee_flags_of(em, failed) : (Datum) 0,
					   !(failed && !estimated));
		return;
	}
	p = gf_bulk_slot(em->t->product);
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
				p->tts_values[i] = Int16GetDatum((int16) quality);
				p->tts_isnull[i] = false;
				break;
			case PS_VEE_FLAGS:
				p->tts_values[i] = failed ? vee_flags_of(em, failed) : (Datum) 0;
				p->tts_isnull[i] = (failed == 0);
				break;
			case PS_RAW_VALUE:
				p->tts_values[i] = estimated ? (Datum) 0 : rv[src];
				p->tts_isnull[i] = estimated || rn[src];
				break;
		}
	}

	/*
	 * the day: (service point, local day, channel); reads without a service
	 * point are not summarized.  Before the row is stored: storing may
	 * flush the rows, and the memory of a held read's copy with them.
	 */
	if (!rn[em->r_sp])
		gf_day_add(em->days, DatumGetTextPP(rv[em->r_sp]), DatumGetTextPP(rv[em->r_channel]),
				   rn[em->r_unit] ? NULL : DatumGetTextPP(rv[em->r_unit]),
				   !rn[em->r_resolution] && VARSIZE_ANY_EXHDR(DatumGetTextPP(rv[em->r_resolution])) == 3,
				   local_date, start, rn[em->r_value],
				   rn[em->r_value] ? 0 : DatumGetFloat8(rv[em->r_value]),
				   quality,
				   rn[em->r_duration] ? -1 : DatumGetInt32(rv[em->r_duration]));
	if (em->t->dq != NULL)
		gf_dq_acc_product(em->t->dq, p);
	gf_bulk_store(em->t->product, bytes);
}

/*
 * A copy of held read r in the product writer's memory (which lives until
 * it is flushed), deformed into em->rv/em->rn; its size.
 */
static Size
deform_copy(GfProductWriter *em, VeeRead *r)
{
	MemoryContext rows = gf_bulk_memory(em->t->product);
	MinimalTuple copy = MemoryContextAlloc(rows, r->tuple->t_len);
	HeapTupleData htup;

	memcpy(copy, r->tuple, r->tuple->t_len);
	htup.t_len = copy->t_len + MINIMAL_TUPLE_OFFSET;
	htup.t_data = (HeapTupleHeader) ((char *) copy - MINIMAL_TUPLE_OFFSET);
	ItemPointerSetInvalid(&htup.t_self);
	htup.t_tableOid = InvalidOid;
	heap_deform_tuple(&htup, em->rdesc, em->rv, em->rn);
	return 256 + copy->t_len;
}

/*
 * Estimation: a row of series s written (a read, or an estimate of quality
 * code estimated), for the reference days.
 */
static void
est_note(GfProductWriter *em, VeeSeries *s, TimestampTz start, DateADT local_date, int32 duration,
		 bool duration_null, bool value_null, double value, bool valid)
{
	int64		wall;

	/* no gap is long enough for the reference days */
	if (em->u->est_max_reference_seconds <= em->u->est_max_interpolation_seconds)
		return;
	wall = gf_local_timestamp(em->u, start) - (int64) local_date * USECS_PER_DAY;
	if (s->est == NULL)
		s->est = gf_est_history_create(em->group_cxt, em->u->est_reference_weeks);
	gf_est_history_add(s->est, local_date, wall, duration_null ? -1 : duration, value_null, value,
					   valid);
}

/*
 * Estimation: fill the gap between the series' last written read a and
 * read b (whose rules are decided), if it is one the utility estimates
 * (gridflow.vee_estimation): a and b of the same duration, neither of a
 * day's resolution, b starting a whole number n >= 1 of intervals after a
 * ends.  Up to max_interpolation_seconds by linear interpolation (code 9),
 * when a and b have values and fail no rule but gap; longer, up to
 * max_reference_seconds, from the reference days (code 8), when every
 * missing interval has one.  The estimated rows take a's columns but the
 * interval and the value; their lineage is NULL.  Written before b, in
 * time order, through write_read() like the reads.
 */
static void
estimate_gap(GfProductWriter *em, VeeSeries *s, VeeRead *b)
{
	GfUtility  *u = em->u;
	VeeRead    *a = s->last;
	int64		step;
	int64		gap;
	int64		n;
	int64		seconds;
	int			quality;

	if (a == NULL || a->end_null || a->duration_null || a->duration <= 0 || a->day_res ||
		b->day_res || b->duration_null || b->duration != a->duration || b->start <= a->end)
		return;
	step = (int64) a->duration * USECS_PER_SEC;
	gap = b->start - a->end;
	if (gap % step != 0)
		return;
	n = gap / step;
	seconds = gap / USECS_PER_SEC;
	if (seconds <= u->est_max_interpolation_seconds)
	{
		/* a neighbour that failed a rule (the gap it follows aside) blocks it */
		if (a->value_null || b->value_null || (a->failed & ~VEE_GAP) != 0 ||
			(b->failed & ~VEE_GAP) != 0)
			return;
		quality = GF_QUALITY_ESTIMATED_LINEAR;
	}
	else if (seconds <= u->est_max_reference_seconds)
		quality = GF_QUALITY_ESTIMATED_REFERENCE;
	else
		return;

	if (em->est_values_cap < n)
	{
		em->est_values_cap = Max(n, 96);
		if (em->est_values)
			pfree(em->est_values);
		em->est_values = MemoryContextAlloc(em->cxt, sizeof(double) * em->est_values_cap);
	}
	if (quality == GF_QUALITY_ESTIMATED_LINEAR)
	{
		for (int64 k = 1; k <= n; k++)
			em->est_values[k - 1] = gf_est_linear(a->value, b->value, k, n);
	}
	else
	{
		DateADT		first_day = gf_local_date(u, a->end);

		/* every interval from the days before the gap's first, or none */
		if (s->est == NULL)
			return;
		for (int64 k = 1; k <= n; k++)
		{
			TimestampTz t = a->end + (k - 1) * step;
			DateADT		day = gf_local_date(u, t);
			int64		wall = gf_local_timestamp(u, t) - (int64) day * USECS_PER_DAY;

			CHECK_FOR_INTERRUPTS();
			if (!gf_est_reference(s->est, day, wall, a->duration, first_day, u->est_reference_days,
								  &em->est_values[k - 1]))
				return;
		}
	}

	for (int64 k = 1; k <= n; k++)
	{
		TimestampTz t = a->end + (k - 1) * step;
		DateADT		day = gf_local_date(u, t);
		Size		bytes;

		CHECK_FOR_INTERRUPTS();
		bytes = deform_copy(em, a);
		for (int i = 0; i < em->rdesc->natts; i++)
			if (!em->est_keep[i])
				em->rn[i] = true;
		em->rv[em->r_start] = TimestampTzGetDatum(t);
		em->rn[em->r_start] = false;
		em->rv[em->r_end] = TimestampTzGetDatum(t + step);
		em->rn[em->r_end] = false;
		em->rv[em->r_value] = Float8GetDatum(em->est_values[k - 1]);
		em->rn[em->r_value] = false;
		est_note(em, s, t, day, a->duration, false, false, em->est_values[k - 1], false);
		write_read(em, em->rv, em->rn, day, 0, bytes, quality);
	}
}

/*
 * Write a held read of series s (its copy goes to the product writer's
 * memory), after the estimates of the gap before it; free it (with
 * estimation, the series' last read is kept until the next one).
 */
static void
release_read(GfProductWriter *em, VeeSeries *s, VeeRead *r)
{
	Size		bytes;

	if (em->u->est_enabled)
		estimate_gap(em, s, r);
	bytes = deform_copy(em, r);
	if (em->u->est_enabled)
		est_note(em, s, r->start, r->local_date, r->duration, r->duration_null, r->value_null,
				 r->value, r->failed == 0);
	write_read(em, em->rv, em->rn, r->local_date, r->failed, bytes, 0);
	if (em->u->est_enabled)
	{
		if (s->last != NULL)
		{
			pfree(s->last->tuple);
			pfree(s->last);
		}
		r->next = NULL;
		s->last = r;
		return;
	}
	pfree(r->tuple);
	pfree(r);
}

/* Write the reads of series s that no rule can flag any more. */
static void
release_decided(GfProductWriter *em, VeeSeries *s)
{
	while (s->head != NULL && s->head != s->day_first && s->head != s->held)
	{
		VeeRead    *r = s->head;

		CHECK_FOR_INTERRUPTS();
		s->head = r->next;
		if (s->head == NULL)
			s->tail = NULL;
		release_read(em, s, r);
	}
}

static int
float8_order(const void *a, const void *b)
{
	return float8_cmp_internal(*(const double *) a, *(const double *) b);
}

/* The median of v[0..n) (n > 0; sorted in place), as percentile_cont(0.5) computes it. */
static double
vee_median(double *v, int n)
{
	double		lo;
	double		hi;

	qsort(v, n, sizeof(double), float8_order);
	if (n % 2 == 1)
		return v[n / 2];
	lo = v[n / 2 - 1];
	hi = v[n / 2];
	return lo + (0.5 * (hi - lo));
}

/*
 * gridflow.vee_prior_median(local_date, day_total, days, min_days), as a
 * window aggregate over a series' reads in time order (the frame from the
 * first read to the current one): the median of the totals of the days in
 * the days days before the current read's day that have a total (the
 * reads of a day all carry its total, or NULL when it has no value), when
 * there are at least min_days of them; else NULL.  What high_low compares a
 * day's total with.
 */
typedef struct PriorDays
{
	int			n;
	int			cap;
	DateADT		current;		/* the day of the latest read */
	int32		days;
	int32		min_days;
	DateADT    *date;
	double	   *total;
	double	   *scratch;
} PriorDays;

PG_FUNCTION_INFO_V1(gridflow_vee_prior_median_transfn);
PG_FUNCTION_INFO_V1(gridflow_vee_prior_median_finalfn);

Datum
gridflow_vee_prior_median_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	PriorDays  *st = PG_ARGISNULL(0) ? NULL : (PriorDays *) PG_GETARG_POINTER(0);
	DateADT		day;
	int			drop = 0;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "gridflow_vee_prior_median_transfn called in non-aggregate context");
	if (st == NULL)
	{
		st = MemoryContextAllocZero(aggcxt, sizeof(PriorDays));
		st->days = -1;
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		PG_RETURN_POINTER(st);
	day = PG_GETARG_DATEADT(1);
	st->current = day;
	st->days = Min(PG_GETARG_INT32(3), 36600);
	st->min_days = PG_GETARG_INT32(4);
	/* the days of the window: [day - days, day] */
	while (drop < st->n && st->date[drop] < day - st->days)
		drop++;
	if (drop > 0)
	{
		memmove(st->date, st->date + drop, sizeof(DateADT) * (st->n - drop));
		memmove(st->total, st->total + drop, sizeof(double) * (st->n - drop));
		st->n -= drop;
	}
	if (!PG_ARGISNULL(2) && (st->n == 0 || st->date[st->n - 1] != day))
	{
		if (st->n == st->cap)
		{
			st->cap = Max(16, st->cap * 2);
			st->date = st->date ? repalloc(st->date, sizeof(DateADT) * st->cap) :
				MemoryContextAlloc(aggcxt, sizeof(DateADT) * st->cap);
			st->total = st->total ? repalloc(st->total, sizeof(double) * st->cap) :
				MemoryContextAlloc(aggcxt, sizeof(double) * st->cap);
			st->scratch = st->scratch ? repalloc(st->scratch, sizeof(double) * st->cap) :
				MemoryContextAlloc(aggcxt, sizeof(double) * st->cap);
		}
		st->date[st->n] = day;
		st->total[st->n] = PG_GETARG_FLOAT8(2);
		st->n++;
	}
	PG_RETURN_POINTER(st);
}

Datum
gridflow_vee_prior_median_finalfn(PG_FUNCTION_ARGS)
{
	PriorDays  *st = PG_ARGISNULL(0) ? NULL : (PriorDays *) PG_GETARG_POINTER(0);
	int			n;

	if (st == NULL || st->days < 0)
		PG_RETURN_NULL();
	/* the days before the current one (the state itself is left as it is) */
	n = st->n;
	if (n > 0 && st->date[n - 1] == st->current)
		n--;
	if (n == 0 || n < st->min_days)
		PG_RETURN_NULL();
	memcpy(st->scratch, st->total, sizeof(double) * n);
	PG_RETURN_FLOAT8(vee_median(st->scratch, n));
}

/*
 * The current day of series s is complete: spike (its reads against the
 * third-largest value of the day) and high_low (its total against the
 * median total of the previous days).
 */
static void
finish_day(GfProductWriter *em, VeeSeries *s)
{
	GfUtility  *u = em->u;
	double		total;

	if (s->day_first == NULL)
		return;
	if (u->vee_spike)
	{
		double		top[3] = {0, 0, 0};
		int			n = 0;

		/* the three largest values, as float8 orders them (NaN largest) */
		for (VeeRead *r = s->day_first; r != NULL; r = r->next)
		{
			int			k;

			if (r->value_null)
				continue;
			for (k = Min(n, 3); k > 0 && float8_gt(r->value, top[k - 1]); k--)
				if (k < 3)
					top[k] = top[k - 1];
			if (k < 3)
				top[k] = r->value;
			if (n < 3)
				n++;
		}
		if (n == 3)
			for (VeeRead *r = s->day_first; r != NULL; r = r->next)
				if (!r->value_null &&
					vee_is_spike(r->value, top[2], u->vee_spike_ratio, u->vee_spike_floor))
					r->failed |= VEE_SPIKE;
	}
	if (u->vee_high_low && s->day_any)
	{
		int			keep = 0;
		DateADT		first = s->day - u->vee_high_low_days;

		total = gf_fsum_result(&s->day_sum);
		if (unlikely(!isfinite(total) && !s->day_sum.has_special))
			gf_sum_overflow(psprintf("a day of a series (utility \"%s\")", u->utility_id));
		/* the days of the window: [day - days, day) */
		while (keep < s->nhist && s->hist_date[keep] < first)
			keep++;
		if (keep > 0)
		{
			memmove(s->hist_date, s->hist_date + keep, sizeof(DateADT) * (s->nhist - keep));
			memmove(s->hist_total, s->hist_total + keep, sizeof(double) * (s->nhist - keep));
			s->nhist -= keep;
		}
		if (s->nhist >= u->vee_high_low_min_days && s->nhist > 0)
		{
			double		median;
			int			n = s->nhist;

			if (em->median_cap < n)
			{
				em->median_cap = Max(n, 32);
				em->median_buf = em->median_buf ?
					repalloc(em->median_buf, sizeof(double) * em->median_cap) :
					MemoryContextAlloc(em->cxt, sizeof(double) * em->median_cap);
			}
			memcpy(em->median_buf, s->hist_total, sizeof(double) * n);
			median = vee_median(em->median_buf, n);
			if (vee_is_outside(total, median, u->vee_high_low_low, u->vee_high_low_high))
				for (VeeRead *r = s->day_first; r != NULL; r = r->next)
					r->failed |= VEE_HIGH_LOW;
		}
		if (s->nhist == s->hist_cap)
		{
			s->hist_cap = Max(8, s->hist_cap * 2);
			s->hist_date = s->hist_date ? repalloc(s->hist_date, sizeof(DateADT) * s->hist_cap) :
				MemoryContextAlloc(em->group_cxt, sizeof(DateADT) * s->hist_cap);
			s->hist_total = s->hist_total ? repalloc(s->hist_total, sizeof(double) * s->hist_cap) :
				MemoryContextAlloc(em->group_cxt, sizeof(double) * s->hist_cap);
		}
		s->hist_date[s->nhist] = s->day;
		s->hist_total[s->nhist] = total;
		s->nhist++;
	}
	s->day_first = NULL;
}

/* The service point's series are complete: decide and write their reads. */
static void
finish_group(GfProductWriter *em)
{
	if (!em->group_open)
		return;
	for (uint32 e = 0; e < em->group->nentries; e++)
	{
		VeeSeries  *s = *(VeeSeries **) gf_keytable_payload(em->group, e);

		CHECK_FOR_INTERRUPTS();
		finish_day(em, s);
		s->held = NULL;
		release_decided(em, s);
	}
	MemoryContextReset(em->group_cxt);
	em->group = NULL;
	em->group_open = false;
}

/* A read of series s: hold it back, apply the rules it can decide. */
static void
series_read(GfProductWriter *em, VeeSeries *s, Datum *rv, bool *rn, DateADT local_date,
			int failed)
{
	GfUtility  *u = em->u;
	VeeRead    *r;
	bool		day_res;
	MemoryContext old;

	if (s->day_first != NULL && local_date != s->day)
	{
		finish_day(em, s);
		release_decided(em, s);
	}

	/* the read and its copy live as long as the service point's series */
	old = MemoryContextSwitchTo(em->group_cxt);
	r = palloc(sizeof(VeeRead));
	r->next = NULL;
	r->tuple = heap_form_minimal_tuple(em->rdesc, rv, rn);
	MemoryContextSwitchTo(old);
	r->local_date = local_date;
	r->value_null = rn[em->r_value];
	r->value = r->value_null ? 0 : DatumGetFloat8(rv[em->r_value]);
	r->failed = (uint8) failed;
	r->start = DatumGetTimestampTz(rv[em->r_start]);
	r->end_null = rn[em->r_end];
	r->end = rn[em->r_end] ? 0 : DatumGetTimestampTz(rv[em->r_end]);
	r->duration_null = rn[em->r_duration];
	r->duration = rn[em->r_duration] ? 0 : DatumGetInt32(rv[em->r_duration]);
	if (s->tail)
		s->tail->next = r;
	else
		s->head = r;
	s->tail = r;

	if (s->day_first == NULL)
	{
		s->day_first = r;
		s->day = local_date;
		s->day_any = false;
		gf_fsum_init(&s->day_sum);
	}
	if (!r->value_null)
	{
		s->day_any = true;
		if (u->vee_high_low)
			gf_fsum_add(&s->day_sum, r->value, gf_fsum_grow, em->group_cxt);
	}

	/* gap: an interval missing since the previous read ends (reads of a day's resolution aside) */
	day_res = !rn[em->r_resolution] &&
		VARSIZE_ANY_EXHDR(DatumGetTextPP(rv[em->r_resolution])) == 3 &&
		memcmp(VARDATA_ANY(DatumGetTextPP(rv[em->r_resolution])), "day", 3) == 0;
	if (u->vee_gap && s->has_prev && !s->prev_end_null && !s->prev_day_res && !day_res &&
		s->prev_end < DatumGetTimestampTz(rv[em->r_start]))
		r->failed |= VEE_GAP;
	r->day_res = day_res;
	s->has_prev = true;
	s->prev_end_null = rn[em->r_end];
	s->prev_end = rn[em->r_end] ? 0 : DatumGetTimestampTz(rv[em->r_end]);
	s->prev_day_res = day_res;

	/* runs of identical values: zero_run (zeros), flat_line (others) */
	if (!r->value_null && s->run_open && float8_eq(r->value, s->run_value))
	{
		s->run_len++;
		if (s->run_flagged)
			r->failed |= s->run_bit;
		else if (s->run_min > 0 && s->run_len >= s->run_min)
		{
			for (VeeRead *x = s->held; x != NULL; x = x->next)
				x->failed |= s->run_bit;
			s->run_flagged = true;
			s->held = NULL;
		}
	}
	else
	{
		s->held = NULL;
		s->run_flagged = false;
		s->run_open = !r->value_null;
		if (s->run_open)
		{
			bool		zero = float8_eq(r->value, 0.0);

			s->run_value = r->value;
			s->run_len = 1;
			s->run_min = zero ? u->vee_zero_run : u->vee_flat_line;
			s->run_bit = zero ? VEE_ZERO_RUN : VEE_FLAT_LINE;
			if (s->run_min > 0)
				s->held = r;
		}
	}
	release_decided(em, s);
}

/*
 * One standardized read (values set in the slot, valid until the product
 * writer is flushed): its product row and its share of the day, now or,
 * with series rules, once they are decided.
 */
void
gf_product_read(GfProductWriter *em, TupleTableSlot *read)
{
	GfUtility  *u = em->u;
	Datum	   *rv = read->tts_values;
	bool	   *rn = read->tts_isnull;
	TimestampTz start = DatumGetTimestampTz(rv[em->r_start]);
	DateADT		local_date = gf_local_date(u, start);
	int			failed = read_rules(em, rv, rn, start, local_date);
	text	   *meter;
	text	   *channel;
	VeeSeries **sp;
	bool		found;

	/* the DQ figures of the read as it was kept */
	if (em->t->dq != NULL)
		gf_dq_acc_read(em->t->dq, read);
	if (!em->series)
	{
		write_read(em, rv, rn, local_date, failed, 256, 0);
		return;
	}

	/* the service point's group: the reads of the last one are complete */
	if (em->group_open)
	{
		bool		same = rn[em->r_sp] ? em->group_sp_null :
			(!em->group_sp_null &&
			 VARSIZE_ANY_EXHDR(DatumGetTextPP(rv[em->r_sp])) == (Size) em->group_sp.len &&
			 memcmp(VARDATA_ANY(DatumGetTextPP(rv[em->r_sp])), em->group_sp.data,
					em->group_sp.len) == 0);

		if (!same)
			finish_group(em);
	}
	if (!em->group_open)
	{
		em->group_open = true;
		em->group_sp_null = rn[em->r_sp];
		resetStringInfo(&em->group_sp);
		if (!rn[em->r_sp])
			appendBinaryStringInfo(&em->group_sp, VARDATA_ANY(DatumGetTextPP(rv[em->r_sp])),
								   (int) VARSIZE_ANY_EXHDR(DatumGetTextPP(rv[em->r_sp])));
		em->group = gf_keytable_create(em->group_cxt, 16, sizeof(VeeSeries *));
	}

	/* the series: (meter, channel) */
	meter = DatumGetTextPP(rv[em->r_meter]);
	channel = DatumGetTextPP(rv[em->r_channel]);
	{
		uint32		mlen = VARSIZE_ANY_EXHDR(meter);

		resetStringInfo(&em->series_key);
		appendBinaryStringInfo(&em->series_key, (char *) &mlen, sizeof(mlen));
		appendBinaryStringInfo(&em->series_key, VARDATA_ANY(meter), (int) mlen);
		appendBinaryStringInfo(&em->series_key, VARDATA_ANY(channel),
							   (int) VARSIZE_ANY_EXHDR(channel));
	}
	sp = gf_keytable_find(em->group, em->series_key.data, (uint32) em->series_key.len,
						  gf_key_hash(em->series_key.data, (uint32) em->series_key.len),
						  true, &found);
	if (!found)
		*sp = MemoryContextAllocZero(em->group_cxt, sizeof(VeeSeries));
	series_read(em, *sp, rv, rn, local_date, failed);
}

/*
 * From now on, reads whose local day is before from_day are not written:
 * each is handed to before() (if not NULL) with the quality code and the
 * vee_flags the rules give it, once they are decided.  Call between
 * service points (after gf_product_finish_group()).  A refresh uses it to
 * compute the rules of a series from earlier reads it does not write again.
 */
void
gf_product_set_window(GfProductWriter *em, DateADT from_day, GfProductBeforeFn before,
					  void *arg)
{
	em->from_day = from_day;
	em->before = before;
	em->before_arg = arg;
}

/*
 * The reads of the current service point are complete: decide and write
 * (or hand to before()) every read still held back.
 */
void
gf_product_finish_group(GfProductWriter *em)
{
	if (em->series)
		finish_group(em);
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

/* Write what is left (held reads, the last days, buffered product rows); free. */
void
gf_product_end(GfProductWriter *em)
{
	if (em->series)
		finish_group(em);
	gf_day_writer_end(em->days);
	gf_bulk_flush(em->t->product);
	ExecDropSingleTupleTableSlot(em->meter_slot);
	ExecDropSingleTupleTableSlot(em->sp_slot);
	MemoryContextDelete(em->cxt);
}
