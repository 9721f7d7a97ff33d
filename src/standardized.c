/*-------------------------------------------------------------------------
 *
 * standardized.c
 *	  The kept rows of a load written into the standardized tables, in the
 *	  order of their unique index, and the meter-assignment rows.
 *
 * Service points and meters are written by id, reads by service point
 * (resolved through the meter where the utility links them so), start,
 * meter and channel: the index builds find their input sorted, and the
 * reads of a service point come together, so the product writer
 * (product.c) completes its days one service point at a time.  An
 * incremental load replaces the rows of earlier batches and marks the
 * service-point days whose reads changed (dayset.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "load.h"

/*
 * Where a kept row goes in its table's unique index: service points and
 * meters by id; reads by service point (NULL last), start, meter and
 * channel.  Rows are written in this order (the utility id is the same for
 * all of them), so the index builds find their input sorted and product
 * rows of a service point sit together on disk.
 */
typedef struct RowOrder
{
	uint64		prefix;			/* k1's first bytes after the prefix all share */
	const char *k1;				/* id, or the read's service point */
	const char *k2;				/* read: meter */
	const char *k3;				/* read: channel */
	uint32		l1,
				l2,
				l3;
	bool		k1_null;
	uint32		entry;
	int64		ts;				/* read: start */
	Datum		sp;				/* read: its service point (resolved) */
} RowOrder;

static int
row_order_cmp(const void *x, const void *y)
{
	const RowOrder *a = (const RowOrder *) x;
	const RowOrder *b = (const RowOrder *) y;
	int			c;

	if (a->k1_null != b->k1_null)
		return a->k1_null ? 1 : -1;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	if (!a->k1_null && (c = gf_bytes_cmp(a->k1, a->l1, b->k1, b->l1)) != 0)
		return c;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if ((c = gf_bytes_cmp(a->k2, a->l2, b->k2, b->l2)) != 0)
		return c;
	if ((c = gf_bytes_cmp(a->k3, a->l3, b->k3, b->l3)) != 0)
		return c;
	return (a->entry > b->entry) - (a->entry < b->entry);
}

/*
 * The order of a read as integers, for sorting: its service point (NULL
 * last), start, meter and channel, each string by its first bytes after
 * the prefix that all rows share (eight, sixteen for meters); the strings
 * themselves (in the RowOrder of the entry) decide only when those are
 * equal and some string is longer.  Text values hold no zero byte, so zero
 * padding keeps their order.
 */
typedef struct ReadSortItem
{
	uint64		sp;
	int64		ts;
	uint64		meter[2];
	uint64		channel;
	GfDedupRow *d;				/* the entry's state, for writing */
	uint32		entry;
	bool		sp_null;
} ReadSortItem;

typedef struct ReadSortArg
{
	const RowOrder *order;		/* by entry */
	bool		sp_exact;		/* every service point is in its prefix */
	bool		meter_exact;
	bool		channel_exact;
} ReadSortArg;

static int
read_sort_cmp(const void *x, const void *y, void *arg)
{
	const ReadSortItem *a = (const ReadSortItem *) x;
	const ReadSortItem *b = (const ReadSortItem *) y;
	const ReadSortArg *sa = (const ReadSortArg *) arg;
	const RowOrder *oa = &sa->order[a->entry];
	const RowOrder *ob = &sa->order[b->entry];
	int			c;

	if (a->sp_null != b->sp_null)
		return a->sp_null ? 1 : -1;
	if (a->sp != b->sp)
		return a->sp < b->sp ? -1 : 1;
	if (!a->sp_null && !sa->sp_exact && (c = gf_bytes_cmp(oa->k1, oa->l1, ob->k1, ob->l1)) != 0)
		return c;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->meter[0] != b->meter[0])
		return a->meter[0] < b->meter[0] ? -1 : 1;
	if (a->meter[1] != b->meter[1])
		return a->meter[1] < b->meter[1] ? -1 : 1;
	if (!sa->meter_exact && (c = gf_bytes_cmp(oa->k2, oa->l2, ob->k2, ob->l2)) != 0)
		return c;
	if (a->channel != b->channel)
		return a->channel < b->channel ? -1 : 1;
	if (!sa->channel_exact && (c = gf_bytes_cmp(oa->k3, oa->l3, ob->k3, ob->l3)) != 0)
		return c;
	return (a->entry > b->entry) - (a->entry < b->entry);
}

/*
 * The bytes that every string of a part of the rows (1: k1, 2: k2, 3: k3)
 * shares at its start; *exact tells whether each string ends within width
 * bytes after it.
 */
static uint32
common_prefix(const RowOrder *order, uint32 n, int part, uint32 width, bool *exact)
{
	const char *first = NULL;
	uint32		common = PG_UINT32_MAX;
	uint32		maxlen = 0;

	for (uint32 e = 0; e < n; e++)
	{
		const RowOrder *o = &order[e];
		const char *s = part == 1 ? o->k1 : part == 2 ? o->k2 : o->k3;
		uint32		len = part == 1 ? o->l1 : part == 2 ? o->l2 : o->l3;
		uint32		k = 0;

		if (part == 1 && o->k1_null)
			continue;
		maxlen = Max(maxlen, len);
		if (first == NULL)
		{
			first = s;
			common = len;
			continue;
		}
		while (k < common && k < len && s[k] == first[k])
			k++;
		common = k;
	}
	if (first == NULL)
		common = 0;
	*exact = (maxlen <= common + width);
	return common;
}

/* The eight bytes of s after its first skip bytes, as a big-endian integer. */
static inline uint64
prefix_after(const char *s, uint32 len, uint32 skip)
{
	uint64		v = 0;

	for (uint32 k = 0; k < 8; k++)
		v = (v << 8) | (skip + k < len ? (unsigned char) s[skip + k] : 0);
	return v;
}

/* Pointer and length of a text datum stored in a kept tuple. */
static inline void
text_parts(Datum d, const char **p, uint32 *len)
{
	text	   *t = DatumGetTextPP(d);

	*p = VARDATA_ANY(t);
	*len = VARSIZE_ANY_EXHDR(t);
}

/*
 * Write the kept rows in the order of their index; reads also go to the
 * product writer for their product row and daily summary (full loads) or
 * mark their service point's day for refreshing (incremental loads, where
 * a row of an earlier batch is replaced by its new version).
 */
uint32
gf_std_write_kept(GfLoad *l, GfKeyTable *keys)
{
	LoadPlan   *p = &l->plan;
	GfUtility  *u = l->u;
	GfBulk	   *std = l->std;
	TupleTableSlot *kept = MakeSingleTupleTableSlot(p->desc, &TTSOpsMinimalTuple);
	uint32		n = keys->nentries;
	RowOrder   *order = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(RowOrder) * Max(n, 1));
	ReadSortItem *items = NULL;
	bool		interval = l->interval;
	int			key_att = (p->kind == GF_KIND_METER) ? p->att_meter : p->att_sp;
	int			natts_needed;

	/* the attributes the order needs come first in the tables; deform only those */
	if (interval)
		natts_needed = Max(Max(p->att_sp, p->att_meter), Max(p->att_start, p->att_channel)) + 1;
	else
		natts_needed = key_att + 1;

	/* where each row goes (and, for reads, its service point) */
	for (uint32 e = 0; e < n; e++)
	{
		GfDedupRow *d = gf_keytable_payload(keys, e);
		RowOrder   *o = &order[e];

		CHECK_FOR_INTERRUPTS();
		memset(o, 0, sizeof(RowOrder));
		o->entry = e;
		ExecStoreMinimalTuple(d->tuple, kept, false);
		slot_getsomeattrs(kept, natts_needed);
		if (!interval)
			text_parts(kept->tts_values[key_att], &o->k1, &o->l1);
		else
		{
			o->k1_null = kept->tts_isnull[p->att_sp];
			o->sp = kept->tts_values[p->att_sp];
			if (u->sp_via_meter)
			{
				text	   *m = DatumGetTextPP(kept->tts_values[p->att_meter]);

				o->k1_null = !gf_meter_resolve(u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m),
											   DatumGetTimestampTz(kept->tts_values[p->att_start]),
											   &o->sp);
			}
			if (!o->k1_null)
				text_parts(o->sp, &o->k1, &o->l1);
			o->ts = DatumGetTimestampTz(kept->tts_values[p->att_start]);
			text_parts(kept->tts_values[p->att_meter], &o->k2, &o->l2);
			text_parts(kept->tts_values[p->att_channel], &o->k3, &o->l3);
		}
	}

	if (interval)
	{
		/* reads: sort integer keys, the strings only where those tie */
		ReadSortArg arg;
		uint32		sp_skip = common_prefix(order, n, 1, 8, &arg.sp_exact);
		uint32		meter_skip = common_prefix(order, n, 2, 16, &arg.meter_exact);
		uint32		channel_skip = common_prefix(order, n, 3, 8, &arg.channel_exact);

		arg.order = order;
		items = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ReadSortItem) * Max(n, 1));
		for (uint32 e = 0; e < n; e++)
		{
			RowOrder   *o = &order[e];
			ReadSortItem *it = &items[e];

			memset(it, 0, sizeof(ReadSortItem));
			it->entry = e;
			it->d = gf_keytable_payload(keys, e);
			it->sp_null = o->k1_null;
			if (!o->k1_null)
				it->sp = prefix_after(o->k1, o->l1, sp_skip);
			it->ts = o->ts;
			it->meter[0] = prefix_after(o->k2, o->l2, meter_skip);
			it->meter[1] = prefix_after(o->k2, o->l2, meter_skip + 8);
			it->channel = prefix_after(o->k3, o->l3, channel_skip);
		}
		qsort_arg(items, n, sizeof(ReadSortItem), read_sort_cmp, &arg);
	}
	else
	{
		/*
		 * Ids tend to share a prefix ("SP-000..."): compare the eight bytes
		 * after it as one integer first, so most comparisons are one.
		 */
		bool		exact;
		uint32		common = common_prefix(order, n, 1, 8, &exact);

		for (uint32 e = 0; e < n; e++)
			order[e].prefix = prefix_after(order[e].k1, order[e].l1, common);
		qsort(order, n, sizeof(RowOrder), row_order_cmp);
	}

	for (uint32 i = 0; i < n; i++)
	{
		RowOrder   *o = interval ? &order[items[i].entry] : &order[i];
		GfDedupRow *d = interval ? items[i].d : gf_keytable_payload(keys, o->entry);
		TupleTableSlot *slot = gf_bulk_slot(std);

		CHECK_FOR_INTERRUPTS();

		/* rows are visited out of memory order: fetch the next ones ahead */
		if (interval && i + 16 < n)
		{
			gf_prefetch(&order[items[i + 16].entry]);
			gf_prefetch(items[i + 16].d);
		}
		if (interval && i + 8 < n)
		{
			const char *t = (const char *) items[i + 8].d->tuple;

			gf_prefetch(t);
			gf_prefetch(t + 64);
			gf_prefetch(t + 128);
		}

		ExecStoreMinimalTuple(d->tuple, kept, false);
		slot_getallattrs(kept);
		memcpy(slot->tts_values, kept->tts_values, sizeof(Datum) * p->natts);
		memcpy(slot->tts_isnull, kept->tts_isnull, sizeof(bool) * p->natts);

		slot->tts_values[p->att_utility] = u->utility_datum;
		slot->tts_isnull[p->att_utility] = false;
		slot->tts_values[p->att_batch] = Int64GetDatum(d->batch_id);
		slot->tts_isnull[p->att_batch] = false;
		slot->tts_values[p->att_line] = Int64GetDatum(d->line_no);
		slot->tts_isnull[p->att_line] = false;
		slot->tts_values[p->att_last_batch] = Int64GetDatum(d->last_batch_id);
		slot->tts_isnull[p->att_last_batch] = false;
		slot->tts_values[p->att_source_rows] = Int32GetDatum(d->source_rows);
		slot->tts_isnull[p->att_source_rows] = false;
		slot->tts_values[p->att_conflicting] = Int32GetDatum(d->conflicting_rows);
		slot->tts_isnull[p->att_conflicting] = false;

		if (interval)
		{
			if (p->att_first_value >= 0)
			{
				slot->tts_values[p->att_first_value] = Float8GetDatum(d->first_value);
				slot->tts_isnull[p->att_first_value] = d->first_value_null;
			}
			if (p->att_value_sum >= 0)
			{
				slot->tts_values[p->att_value_sum] = Float8GetDatum(d->value_sum);
				slot->tts_isnull[p->att_value_sum] = !d->value_sum_any;
			}
			if (u->policy == GF_SUM && p->att_value >= 0)
			{
				slot->tts_values[p->att_value] = Float8GetDatum(d->value_sum);
				slot->tts_isnull[p->att_value] = !d->value_sum_any;
			}
			slot->tts_values[p->att_sp] = o->sp;
			slot->tts_isnull[p->att_sp] = o->k1_null;
			if (l->em != NULL)
				gf_product_read(l->em, slot);
			else if (l->days != NULL && (!d->existing || d->changed))
				gf_days_add(l->days, o->k1, o->l1, o->k1_null, gf_local_date(u, o->ts));
		}
		else if (l->incremental)
		{
			MemoryContext old = MemoryContextSwitchTo(l->dedup_cxt);
			char	   *id = pnstrdup(o->k1, o->l1);

			l->seen_ids = lappend(l->seen_ids, id);
			if (!d->existing)
				l->new_ids = lappend(l->new_ids, id);
			MemoryContextSwitchTo(old);
		}
		else if (l->t->dq != NULL)
			gf_dq_acc_dimension(l->t->dq, p->kind, slot);
		if (d->existing)
		{
			/* the row of an earlier batch makes way for its new version */
			gf_bulk_delete(std, &d->tid);
			if (d->changed)
				gf_load_batch_stats(l, d->last_batch_id)->rows_replaced++;
		}
		gf_bulk_store(std, d->tuple->t_len);
	}
	/* the rows point into the dedup memory: write them before it goes */
	gf_bulk_flush(std);
	if (l->em)
		gf_product_flush(l->em);
	ExecDropSingleTupleTableSlot(kept);
	pfree(order);
	if (items != NULL)
		pfree(items);
	return n;
}

/* One meter-assignment row (every meter row that names a service point). */
void
gf_std_write_assignment(GfBulk *b, GfUtility *u, LoadPlan *p, ParsedRow *row, int64 batch_id,
						int64 line_no, GfDqAcc *dq)
{
	TupleTableSlot *slot = gf_bulk_slot(b);
	TupleDesc	desc = slot->tts_tupleDescriptor;
	MemoryContext old = MemoryContextSwitchTo(gf_bulk_memory(b));

	for (int i = 0; i < desc->natts; i++)
	{
		const char *name = NameStr(TupleDescAttr(desc, i)->attname);
		Datum		v = (Datum) 0;
		bool		present = true;

		if (strcmp(name, "utility_id") == 0)
			v = u->utility_datum;
		else if (strcmp(name, "batch_id") == 0)
			v = Int64GetDatum(batch_id);
		else if (strcmp(name, "line_no") == 0)
			v = Int64GetDatum(line_no);
		else if (strcmp(name, "meter_id") == 0)
			present = gf_map_datum(p, row, p->att_meter, &v);
		else if (strcmp(name, "service_point_id") == 0)
			present = gf_map_datum(p, row, p->att_sp, &v);
		else if (strcmp(name, "installed_at") == 0)
			present = gf_map_datum(p, row, p->att_installed, &v);
		else if (strcmp(name, "removed_at") == 0)
			present = gf_map_datum(p, row, p->att_removed, &v);
		else
			present = false;
		slot->tts_values[i] = v;
		slot->tts_isnull[i] = !present;
	}
	MemoryContextSwitchTo(old);
	if (dq != NULL)
		gf_dq_acc_assignment(dq, p->kind, slot);
	gf_bulk_store(b, 96);
}


/* Memory that writing a kept row takes for its ordering. */
Size
gf_std_sort_bytes(void)
{
	return sizeof(RowOrder) + sizeof(ReadSortItem);
}
