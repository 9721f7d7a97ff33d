/*-------------------------------------------------------------------------
 *
 * dedup.c
 *	  The records of a load folded into one row per natural key.
 *
 * The dedup table of a load is a hash of the natural key that numbers keys
 * in the order they were first seen.  The first record of a key is kept as
 * a minimal tuple; later records only update the key's statistics
 * (records, records that disagree with the first, sum of values) or, under
 * keep_last, replace the kept tuple.  An incremental load first looks up
 * the row that earlier batches left for a new key and starts from it, as
 * if their records had just been read.  Reads whose keys outgrow
 * gridflow.build_memory go to partition files (spill.c), each
 * de-duplicated on its own at the end.  Memory grows with distinct keys,
 * not with records.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/buffile.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "load.h"

/* Make tup the kept tuple of d (copied into the arena). */
static void
dedup_store_tuple(GfDedupRow *d, MinimalTuple tup, GfArena *tuples)
{
	if (d->tuple == NULL || tup->t_len > d->tuple_cap)
	{
		d->tuple = gf_arena_alloc(tuples, tup->t_len);
		d->tuple_cap = tup->t_len;
	}
	memcpy(d->tuple, tup, tup->t_len);
}

/*
 * Make the parsed row the kept tuple of d: gf_map_form_tuple() and
 * dedup_store_tuple() in one, formed straight into the arena, with short
 * text values built in place rather than allocated.
 */
static void
store_row(GfLoad *l, GfDedupRow *d, ParsedRow *row)
{
	LoadPlan   *p = &l->plan;
	Datum	   *values = l->form_values;
	char	   *text = l->form_text;
	bool		hasnull = false;
	Size		hoff;
	Size		data_len;
	Size		len;
	MinimalTuple tup;

	for (int i = 0; i < p->natts; i++)
	{
		values[i] = row->values[i];
		if (row->isnull[i])
		{
			hasnull = true;
			continue;
		}
		if (TupleDescAttr(p->desc, i)->atttypid != TEXTOID)
			continue;
		if (row->tlen[i] <= VARATT_SHORT_MAX - VARHDRSZ_SHORT)
		{
			SET_VARSIZE_SHORT(text, row->tlen[i] + VARHDRSZ_SHORT);
			memcpy(text + VARHDRSZ_SHORT, row->tptr[i], row->tlen[i]);
			values[i] = PointerGetDatum(text);
			text += VARATT_SHORT_MAX;
		}
		else
			values[i] = PointerGetDatum(cstring_to_text_with_len(row->tptr[i],
																 (int) row->tlen[i]));
	}

	/* as heap_form_minimal_tuple() */
	hoff = SizeofMinimalTupleHeader;
	if (hasnull)
		hoff += BITMAPLEN(p->natts);
	hoff = MAXALIGN(hoff);
	data_len = heap_compute_data_size(p->desc, values, row->isnull);
	len = hoff + data_len;
	if (d->tuple == NULL || len > d->tuple_cap)
	{
		d->tuple = gf_arena_alloc(&l->tuples, len);
		d->tuple_cap = len;
	}
	tup = d->tuple;
	memset(tup, 0, len);
	tup->t_len = len;
	HeapTupleHeaderSetNatts(tup, p->natts);
	tup->t_hoff = hoff + MINIMAL_TUPLE_OFFSET;
	heap_fill_tuple(p->desc, values, row->isnull, (char *) tup + hoff, data_len,
					&tup->t_infomask, hasnull ? tup->t_bits : NULL);
}

/*
 * Incremental loads: the row that earlier batches left for a key (whose
 * columns are in l->pvalues / l->pisnull) becomes the key's state, as if
 * their records had just been read; false if there is none.
 */
static bool
seed_existing(GfLoad *l, GfDedupRow *d, GfArena *tuples)
{
	LoadPlan   *p = &l->plan;
	ItemPointerData tid;
	TupleTableSlot *slot;
	MinimalTuple tup;
	MemoryContext old;

	l->pvalues[p->att_utility] = l->u->utility_datum;
	l->pisnull[p->att_utility] = false;
	slot = gf_bulk_lookup(l->std, l->probe_atts, l->nprobe, l->pvalues, l->pisnull, &tid);
	if (slot == NULL)
		return false;
	slot_getallattrs(slot);
	d->batch_id = DatumGetInt64(slot->tts_values[p->att_batch]);
	d->line_no = DatumGetInt64(slot->tts_values[p->att_line]);
	d->last_batch_id = DatumGetInt64(slot->tts_values[p->att_last_batch]);
	d->source_rows = DatumGetInt32(slot->tts_values[p->att_source_rows]);
	d->conflicting_rows = DatumGetInt32(slot->tts_values[p->att_conflicting]);
	if (p->att_first_value >= 0)
	{
		d->first_value_null = slot->tts_isnull[p->att_first_value];
		d->first_value = d->first_value_null ? 0 : DatumGetFloat8(slot->tts_values[p->att_first_value]);
	}
	if (p->att_value_sum >= 0)
	{
		d->value_sum_any = !slot->tts_isnull[p->att_value_sum];
		d->value_sum = d->value_sum_any ? DatumGetFloat8(slot->tts_values[p->att_value_sum]) : 0;
	}
	d->existing = true;
	d->changed = false;
	d->tid = tid;

	old = MemoryContextSwitchTo(l->apply_cxt);
	if (l->interval && l->u->sp_via_meter)
	{
		/* kept reads of such utilities carry no service point until written */
		bool	   *isnull = palloc(sizeof(bool) * p->natts);

		memcpy(isnull, slot->tts_isnull, sizeof(bool) * p->natts);
		isnull[p->att_sp] = true;
		tup = heap_form_minimal_tuple(p->desc, slot->tts_values, isnull);
	}
	else
		tup = ExecCopySlotMinimalTuple(slot);
	MemoryContextSwitchTo(old);
	dedup_store_tuple(d, tup, tuples);
	return true;
}

/* seed_existing() for a parsed record. */
static bool
seed_from_row(GfLoad *l, GfDedupRow *d, ParsedRow *row, GfArena *tuples)
{
	LoadPlan   *p = &l->plan;
	MemoryContext old = MemoryContextSwitchTo(l->apply_cxt);
	bool		found;

	for (int i = 0; i < p->nkeys; i++)
	{
		int			att = p->keys[i];

		l->pisnull[att] = row->isnull[att];
		if (row->isnull[att])
			continue;
		if (TupleDescAttr(p->desc, att)->atttypid == TEXTOID)
			l->pvalues[att] = PointerGetDatum(cstring_to_text_with_len(row->tptr[att],
																	   (int) row->tlen[att]));
		else
			l->pvalues[att] = row->values[att];
	}
	if (l->interval && l->u->sp_via_meter)
		l->pisnull[p->att_sp] =
			!gf_meter_resolve(l->u, row->tptr[p->att_meter], row->tlen[p->att_meter],
							  DatumGetTimestampTz(row->values[p->att_start]),
							  &l->pvalues[p->att_sp]);
	MemoryContextSwitchTo(old);
	found = seed_existing(l, d, tuples);
	MemoryContextReset(l->apply_cxt);
	return found;
}

/* seed_existing() for a record read back from a partition file. */
static bool
seed_from_slot(GfLoad *l, GfDedupRow *d, TupleTableSlot *slot, GfArena *tuples)
{
	LoadPlan   *p = &l->plan;
	bool		found;

	for (int i = 0; i < p->nkeys; i++)
	{
		int			att = p->keys[i];

		l->pisnull[att] = slot->tts_isnull[att];
		l->pvalues[att] = slot->tts_values[att];
	}
	if (l->interval && l->u->sp_via_meter)
	{
		text	   *m = DatumGetTextPP(slot->tts_values[p->att_meter]);

		l->pisnull[p->att_sp] =
			!gf_meter_resolve(l->u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m),
							  DatumGetTimestampTz(slot->tts_values[p->att_start]),
							  &l->pvalues[p->att_sp]);
	}
	found = seed_existing(l, d, tuples);
	MemoryContextReset(l->apply_cxt);
	return found;
}

/*
 * Fold a record into its key's state; true when in's tuple must become the
 * kept tuple (first record of the key, or keep_last).
 */
static bool
dedup_apply(GfDedupRow *d, bool found, const DedupIn *in, GfDedupPolicy policy)
{
	bool		differs;

	if (!found)
	{
		d->batch_id = in->batch_id;
		d->line_no = in->line_no;
		d->last_batch_id = in->last_batch_id;
		d->source_rows = in->source_rows;
		d->conflicting_rows = in->conflicting_rows;
		d->first_value = in->first_value;
		d->first_value_null = in->first_value_null;
		d->value_sum = in->value_sum;
		d->value_sum_any = in->value_sum_any;
		d->existing = in->existing;
		d->changed = in->changed;
		d->tid = in->tid;
		return true;
	}
	/* an entry moved to a partition always comes before its key's later records */
	if (in->moved)
		elog(ERROR, "gridflow: partitioned records out of order");
	if (d->source_rows < PG_INT32_MAX)
		d->source_rows++;
	d->last_batch_id = in->batch_id;
	differs = (in->first_value_null != d->first_value_null) ||
		(!in->first_value_null && in->first_value != d->first_value);
	if (differs && d->conflicting_rows < PG_INT32_MAX)
		d->conflicting_rows++;
	if (in->value_sum_any)
	{
		d->value_sum += in->value_sum;
		d->value_sum_any = true;
		if (policy == GF_SUM)
			d->changed = true;
	}
	if (policy == GF_KEEP_LAST)
	{
		d->batch_id = in->batch_id;
		d->line_no = in->line_no;
		d->changed = true;
		return true;
	}
	return false;
}

/* A service point or meter record whose key was there already. */
static void
dedup_same_key(GfDedupRow *d, LoadPlan *p, ParsedRow *row, TupleTableSlot *kept_slot,
			   int64 batch_id)
{
	if (d->source_rows < PG_INT32_MAX)
		d->source_rows++;
	d->last_batch_id = batch_id;
	ExecStoreMinimalTuple(d->tuple, kept_slot, false);
	if (gf_map_row_differs(p, row, kept_slot) && d->conflicting_rows < PG_INT32_MAX)
		d->conflicting_rows++;
	ExecClearTuple(kept_slot);
}

/* Memory the dedup uses, with what writing its rows will need. */
static Size
dedup_memory(GfKeyTable *keys, GfArena *tuples)
{
	return keys->arena.allocated + tuples->allocated +
		(Size) keys->nbuckets * sizeof(GfKeyBucket) +
		(Size) keys->capacity * sizeof(char *) +
		(Size) keys->nentries * gf_std_sort_bytes();
}

/*
 * De-duplicate one partition file and write its rows; partition it again
 * if its keys do not fit in memory either.
 */
uint64
gf_dedup_partition(GfLoad *l, BufFile *f, int depth)
{
	LoadPlan   *p = &l->plan;
	GfUtility  *u = l->u;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow partition",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	GfKeyTable *keys = gf_keytable_create(cxt, 4096, sizeof(GfDedupRow));
	GfArena		tuples;
	TupleTableSlot *slot = MakeSingleTupleTableSlot(p->desc, &TTSOpsMinimalTuple);
	StringInfoData tupbuf;
	StringInfoData keybuf;
	Spill	   *sub = NULL;
	DedupIn		in;
	uint64		records = 0;
	uint64		kept = 0;

	gf_arena_init(&tuples, cxt);
	initStringInfo(&tupbuf);
	initStringInfo(&keybuf);
	if (BufFileSeek(f, 0, 0, SEEK_SET) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not rewind gridflow temporary file")));
	while (gf_spill_read(f, &in, &tupbuf))
	{
		MinimalTuple tup = (MinimalTuple) tupbuf.data;
		GfDedupRow *d;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		ExecStoreMinimalTuple(tup, slot, false);
		slot_getallattrs(slot);
		if (sub != NULL)
		{
			gf_spill_write(sub, gf_spill_part_tuple(sub, p, u, slot), &in, tup);
			ExecClearTuple(slot);
			continue;
		}
		gf_map_key_slot(p, slot, &keybuf);
		d = gf_keytable_find(keys, keybuf.data, (uint32) keybuf.len,
							 gf_key_hash(keybuf.data, (uint32) keybuf.len), true, &found);
		if (!found && !in.moved)
		{
			/* a record whose key this load has not seen yet */
			if (l->probe && seed_from_slot(l, d, slot, &tuples))
			{
				found = true;
				gf_load_batch_stats(l, in.batch_id)->rows_matched++;
			}
			else
				gf_load_batch_stats(l, in.batch_id)->rows_kept++;
		}
		if (dedup_apply(d, found, &in, u->policy))
			dedup_store_tuple(d, tup, &tuples);
		ExecClearTuple(slot);

		if (++records % 1024 == 0 && depth < SPILL_MAX_DEPTH &&
			dedup_memory(keys, &tuples) > gf_build_memory_budget())
		{
			sub = gf_spill_create(4, p, u, keys, slot);
			gf_spill_entries(sub, p, u, keys, slot);
			keys = NULL;
		}
	}
	MemoryContextSwitchTo(old);
	if (sub != NULL)
	{
		for (int i = 0; i < sub->nparts; i++)
		{
			kept += gf_dedup_partition(l, sub->files[i], depth + 1);
			BufFileClose(sub->files[i]);
		}
	}
	else
		kept = gf_std_write_kept(l, keys);
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(cxt);
	return kept;
}

/*
 * Records are de-duplicated a batch at a time, so that the cache misses of
 * their look-ups overlap (keytable.h): a batch holds parsed records with
 * copies of their text fields and keys, and is applied in file order,
 * record by record, exactly as each record would have been when read.
 */
#define READ_BATCH 32
#define READ_BATCH_TEXT (64 * 1024)

typedef struct PendingRead
{
	ParsedRow	row;			/* text columns point into the batch's text */
	DedupIn		in;
	uint64		line;			/* for the error context */
	uint64		bytes_read;		/* of the file when the record was read */
	const char *key;
	uint32		keylen;
	uint32		hash;
} PendingRead;

typedef struct ReadBatch
{
	int			n;
	PendingRead recs[READ_BATCH];
	char	   *text;
	Size		text_cap;
	Size		text_used;
} ReadBatch;

/* The record batch of a load (l->plan set). */
void
gf_dedup_begin(GfLoad *l)
{
	LoadPlan   *p = &l->plan;
	ReadBatch  *b = palloc0(sizeof(ReadBatch));

	for (int i = 0; i < READ_BATCH; i++)
	{
		b->recs[i].row.values = palloc0(sizeof(Datum) * p->natts);
		b->recs[i].row.isnull = palloc0(sizeof(bool) * p->natts);
		b->recs[i].row.tptr = palloc0(sizeof(char *) * p->natts);
		b->recs[i].row.tlen = palloc0(sizeof(uint32) * p->natts);
	}
	b->text_cap = READ_BATCH_TEXT;
	b->text = palloc(b->text_cap);
	l->batch = b;
}

/* Move the keys in memory to the partition files; free them. */
void
gf_dedup_spill_keys(GfLoad *l)
{
	gf_spill_entries(l->spill, &l->plan, l->u, l->keys, l->kept_slot);
	MemoryContextReset(l->dedup_cxt);
	l->keys = NULL;
}

/*
 * Fold one parsed record (in: what it brings) into the dedup of the load,
 * or into its partition file once the reads are partitioned.  bytes_read
 * is how much of the file was read when the record was.
 */
static void
dedup_record(GfLoad *l, ParsedRow *row, const DedupIn *in, const char *key, uint32 keylen,
			 uint32 hash, uint64 bytes_read, off_t file_size, GfLoadStats *stats)
{
	LoadPlan   *p = &l->plan;
	GfUtility  *u = l->u;
	bool		interval = l->interval;
	bool		found = false;
	GfDedupRow *d = NULL;

	/* partitioned: keys in memory then stay there, and so do their records */
	if (l->spill != NULL && l->keys != NULL)
		d = gf_keytable_find(l->keys, key, keylen, hash, false, &found);
	if (l->spill != NULL && d == NULL)
	{
		/* a key the memory does not hold: the record goes to its service point's file */
		MinimalTuple tup = gf_map_form_tuple(p, row, l->apply_cxt);
		const char *sp = NULL;
		uint32		splen = 0;
		bool		sp_null = true;
		Datum		spd;

		if (u->sp_via_meter)
		{
			if (gf_meter_resolve(u, row->tptr[p->att_meter], row->tlen[p->att_meter],
								 DatumGetTimestampTz(row->values[p->att_start]), &spd))
			{
				text	   *spt = DatumGetTextPP(spd);

				sp = VARDATA_ANY(spt);
				splen = VARSIZE_ANY_EXHDR(spt);
				sp_null = false;
			}
		}
		else if (!row->isnull[p->att_sp])
		{
			sp = row->tptr[p->att_sp];
			splen = row->tlen[p->att_sp];
			sp_null = false;
		}
		gf_spill_write(l->spill, gf_spill_part(l->spill, sp, splen, sp_null), in, tup);
		MemoryContextReset(l->apply_cxt);
		return;
	}

	if (d == NULL)
		d = gf_keytable_find(l->keys, key, keylen, hash, true, &found);
	if (!found)
	{
		if (l->probe && seed_from_row(l, d, row, &l->tuples))
		{
			found = true;
			stats->rows_matched++;
		}
		else
			stats->rows_kept++;
	}
	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(l->apply_cxt);

		(void) dedup_apply(d, false, in, u->policy);
		store_row(l, d, row);
		MemoryContextSwitchTo(old);
		MemoryContextReset(l->apply_cxt);
	}
	else if (!interval)
		dedup_same_key(d, p, row, l->kept_slot, in->batch_id);
	else if (dedup_apply(d, true, in, u->policy))
	{
		MemoryContext old = MemoryContextSwitchTo(l->apply_cxt);

		store_row(l, d, row);
		MemoryContextSwitchTo(old);
		MemoryContextReset(l->apply_cxt);
	}

	/*
	 * Reads whose keys outgrow memory go to partition files: those of new
	 * keys from then on, and at the end of the load the keys in memory (see
	 * "Bounded memory").  Should the kept rows in memory grow past the
	 * budget (keep_last), they go to the files at once.
	 */
	if (interval && ++l->since_check >= 1024)
	{
		Size		used = dedup_memory(l->keys, &l->tuples);
		Size		budget = gf_build_memory_budget();

		l->since_check = 0;
		if (l->spill == NULL && used > budget - budget / 16)
		{
			double		fraction = file_size > 0 ?
				(double) bytes_read / (double) file_size : 1.0;

			l->spill = gf_spill_create(gf_spill_partitions(used, fraction), p, u, l->keys,
									l->kept_slot);
			stats->spilled_partitions = l->spill->nparts;
		}
		else if (l->spill != NULL && used > budget)
			gf_dedup_spill_keys(l);
	}
}

/* Apply the batched records, in order. */
static void
apply_batch(GfLoad *l, GfReader *r, GfLoadStats *stats)
{
	ReadBatch  *b = l->batch;
	uint64		saved_line = r->cur_line;

	/* partition files and what they hold outlive the record being read */
	MemoryContext old = MemoryContextSwitchTo(l->file_cxt);

	if (l->keys != NULL)
	{
		for (int i = 0; i < b->n; i++)
			gf_keytable_prefetch_bucket(l->keys, b->recs[i].hash);
		for (int i = 0; i < b->n; i++)
			gf_keytable_prefetch_entry(l->keys, b->recs[i].hash);
	}
	for (int i = 0; i < b->n; i++)
	{
		PendingRead *pr = &b->recs[i];

		r->cur_line = pr->line;
		dedup_record(l, &pr->row, &pr->in, pr->key, pr->keylen, pr->hash,
					 pr->bytes_read, r->size_at_open, stats);
	}
	r->cur_line = saved_line;
	b->n = 0;
	b->text_used = 0;
	MemoryContextSwitchTo(old);
}

/* Add a parsed record to the batch (its key is in l->keybuf); apply a full batch. */
void
gf_dedup_add(GfLoad *l, GfReader *r, GfLoadStats *stats, ParsedRow *row, const DedupIn *in,
			 uint64 line)
{
	LoadPlan   *p = &l->plan;
	ReadBatch  *b = l->batch;
	Size		need = (Size) l->keybuf.len;
	PendingRead *pr;
	char	   *dst;

	/* text columns, those the configuration sets (conform.c) included */
	for (int i = 0; i < p->natts; i++)
		if (p->is_text[i] && !row->isnull[i])
			need += row->tlen[i];
	if (b->text_used + need > b->text_cap)
	{
		if (b->n > 0)
			apply_batch(l, r, stats);
		if (need > b->text_cap)
		{
			b->text = repalloc_huge(b->text, need);
			b->text_cap = need;
		}
	}

	pr = &b->recs[b->n++];
	dst = b->text + b->text_used;
	memcpy(pr->row.values, row->values, sizeof(Datum) * p->natts);
	memcpy(pr->row.isnull, row->isnull, sizeof(bool) * p->natts);
	for (int att = 0; att < p->natts; att++)
	{
		if (!p->is_text[att] || row->isnull[att])
			continue;
		memcpy(dst, row->tptr[att], row->tlen[att]);
		pr->row.tptr[att] = dst;
		pr->row.tlen[att] = row->tlen[att];
		dst += row->tlen[att];
	}
	memcpy(dst, l->keybuf.data, l->keybuf.len);
	pr->key = dst;
	pr->keylen = (uint32) l->keybuf.len;
	pr->hash = gf_key_hash(pr->key, pr->keylen);
	dst += l->keybuf.len;
	b->text_used = dst - b->text;
	pr->in = *in;
	pr->line = line;
	pr->bytes_read = r->bytes_read;
	if (b->n == READ_BATCH)
		apply_batch(l, r, stats);
}

/* Apply the records still batched (at the end of a file). */
void
gf_dedup_flush(GfLoad *l, GfReader *r, GfLoadStats *stats)
{
	if (l->batch != NULL && l->batch->n > 0)
		apply_batch(l, r, stats);
}
