/*-------------------------------------------------------------------------
 *
 * spill.c
 *	  The reads of a load past gridflow.build_memory, in temporary files
 *	  partitioned by ranges of service points.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/buffile.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "load.h"

/*
 * Bounded memory for reads.  The dedup of the reads keeps every distinct
 * key in memory while that fits gridflow.build_memory.  When it no longer
 * does, the keys in memory stay there, and so do later records of those
 * keys (most records, when keys repeat), but no key is added: the records
 * of the other keys are written to temporary files partitioned by ranges
 * of the read's service point.  When the load ends (or earlier, should the
 * kept rows in memory outgrow the budget under keep_last), the keys in
 * memory follow, complete, to their partitions, and each partition is then
 * de-duplicated and written on its own, in the order of the ranges
 * (recursively partitioned if it is still too big).  A service point's
 * reads all land in one partition, so its daily summaries stay complete,
 * and the rows are written in index order as in memory; a key is either in
 * memory or in its partition file, and its records keep their arrival
 * order, so keep_first, keep_last and sum give the same rows as in memory.
 */

/* record header in a partition file, followed by the minimal tuple */
typedef struct SpillHeader
{
	uint32		tuple_len;
	DedupIn		in;
} SpillHeader;


#define SPILL_SAMPLES 4096

#if PG_VERSION_NUM >= 160000
#define gf_buffile_read(f, p, n) BufFileReadMaybeEOF((f), (p), (n), true)
#else
#define gf_buffile_read(f, p, n) BufFileRead((f), (p), (n))
#endif

/* The service point of a kept tuple (resolved through the meter); NULL if none. */
static text *
tuple_service_point(LoadPlan *p, GfUtility *u, TupleTableSlot *slot)
{
	Datum		sp = slot->tts_values[p->att_sp];
	bool		sp_null = slot->tts_isnull[p->att_sp];

	if (u->sp_via_meter)
	{
		text	   *m = DatumGetTextPP(slot->tts_values[p->att_meter]);

		sp_null = !gf_meter_resolve(u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m),
									DatumGetTimestampTz(slot->tts_values[p->att_start]), &sp);
	}
	return sp_null ? NULL : DatumGetTextPP(sp);
}

typedef struct SpillSample
{
	const char *sp;
	uint32		len;
} SpillSample;

static int
spill_sample_cmp(const void *x, const void *y)
{
	const SpillSample *a = (const SpillSample *) x;
	const SpillSample *b = (const SpillSample *) y;

	return gf_bytes_cmp(a->sp, a->len, b->sp, b->len);
}

/*
 * nparts partition files, bounded by the service points of a sample of
 * keys (the entries of a dedup table; slot is a work slot for its tuples).
 */
Spill *
gf_spill_create(int nparts, LoadPlan *p, GfUtility *u, GfKeyTable *keys, TupleTableSlot *slot)
{
	Spill	   *s = palloc(sizeof(Spill));
	uint32		n = keys->nentries;
	uint32		stride = Max(1, n / SPILL_SAMPLES);
	SpillSample *samples = palloc(sizeof(SpillSample) * (n / stride + 1));
	int			nsamples = 0;

	s->nparts = nparts;
	s->files = palloc(sizeof(BufFile *) * nparts);
	for (int i = 0; i < nparts; i++)
		s->files[i] = BufFileCreateTemp(false);

	for (uint32 e = 0; e < n; e += stride)
	{
		GfDedupRow *d = gf_keytable_payload(keys, e);
		text	   *sp;

		ExecStoreMinimalTuple(d->tuple, slot, false);
		slot_getallattrs(slot);
		sp = tuple_service_point(p, u, slot);
		if (sp != NULL)
		{
			samples[nsamples].len = VARSIZE_ANY_EXHDR(sp);
			samples[nsamples].sp = pnstrdup(VARDATA_ANY(sp), samples[nsamples].len);
			nsamples++;
		}
		ExecClearTuple(slot);
	}
	qsort(samples, nsamples, sizeof(SpillSample), spill_sample_cmp);
	s->nbounds = nsamples > 0 ? nparts - 1 : 0;
	s->bounds = palloc(sizeof(char *) * Max(s->nbounds, 1));
	s->bound_lens = palloc(sizeof(uint32) * Max(s->nbounds, 1));
	for (int i = 0; i < s->nbounds; i++)
	{
		SpillSample *b = &samples[(int) ((int64) (i + 1) * nsamples / nparts)];

		s->bounds[i] = b->sp;
		s->bound_lens[i] = b->len;
	}
	return s;
}

/* Partition of a read by its service point: its range; NULL the last. */
int
gf_spill_part(Spill *s, const char *sp, uint32 len, bool sp_null)
{
	int			lo = 0;
	int			hi = s->nbounds;

	if (sp_null)
		return s->nparts - 1;
	/* the first bound above sp */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (gf_bytes_cmp(s->bounds[mid], s->bound_lens[mid], sp, len) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Partition of a kept tuple (its service point, resolved through the meter). */
int
gf_spill_part_tuple(Spill *s, LoadPlan *p, GfUtility *u, TupleTableSlot *slot)
{
	text	   *t = tuple_service_point(p, u, slot);

	if (t == NULL)
		return gf_spill_part(s, NULL, 0, true);
	return gf_spill_part(s, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), false);
}

void
gf_spill_write(Spill *s, int part, const DedupIn *in, MinimalTuple tup)
{
	SpillHeader h;

	memset(&h, 0, sizeof(h));
	h.tuple_len = tup->t_len;
	h.in = *in;
	BufFileWrite(s->files[part], &h, sizeof(h));
	BufFileWrite(s->files[part], tup, tup->t_len);
}

/* Next record of a partition file; false at its end. */
bool
gf_spill_read(BufFile *f, DedupIn *in, StringInfo buf)
{
	SpillHeader h;
	size_t		n = gf_buffile_read(f, &h, sizeof(h));

	if (n == 0)
		return false;
	if (n != sizeof(h))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read gridflow temporary file")));
	resetStringInfo(buf);
	enlargeStringInfo(buf, (int) h.tuple_len);
	if (gf_buffile_read(f, buf->data, h.tuple_len) != h.tuple_len)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read gridflow temporary file")));
	buf->len = (int) h.tuple_len;
	*in = h.in;
	return true;
}

/* Move every entry of a dedup table to partitions. */
void
gf_spill_entries(Spill *s, LoadPlan *p, GfUtility *u, GfKeyTable *keys, TupleTableSlot *slot)
{
	for (uint32 e = 0; e < keys->nentries; e++)
	{
		GfDedupRow *d = gf_keytable_payload(keys, e);
		DedupIn		in;

		CHECK_FOR_INTERRUPTS();
		memset(&in, 0, sizeof(in));
		in.batch_id = d->batch_id;
		in.line_no = d->line_no;
		in.last_batch_id = d->last_batch_id;
		in.source_rows = d->source_rows;
		in.conflicting_rows = d->conflicting_rows;
		in.first_value_null = d->first_value_null;
		in.value_sum_any = d->value_sum_any;
		in.first_value = d->first_value;
		in.value_sum = d->value_sum;
		in.moved = true;
		in.existing = d->existing;
		in.changed = d->changed;
		in.tid = d->tid;
		ExecStoreMinimalTuple(d->tuple, slot, false);
		slot_getallattrs(slot);
		gf_spill_write(s, gf_spill_part_tuple(s, p, u, slot), &in, d->tuple);
		ExecClearTuple(slot);
	}
}

/* Partitions for reads whose keys outgrow memory after a fraction of a file. */
int
gf_spill_partitions(Size used, double fraction_read)
{
	double		expected = (double) used / Max(fraction_read, 0.01);
	double		want = expected * 1.5 / (double) gf_build_memory_budget();
	int			n = 4;

	while (n < want && n < 1024)
		n *= 2;
	return n;
}

