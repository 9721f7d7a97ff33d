/*-------------------------------------------------------------------------
 *
 * load.c
 *	  The files of one kind of one utility into landing and standardized,
 *	  each in one pass.
 *
 * Each record of a file is landed as read (packed into
 * landing.source_chunk, landing.c) or rejected with its reason, its mapped
 * columns are parsed straight into the standardized table's types
 * (mapping.c; a value that does not parse rejects the record), what the
 * utility's configuration asks beyond mapping columns is applied (conform.c:
 * units, channels, local times, wide layouts), and the record goes through
 * the dedup of its file kind (dedup.c).  When the load ends the kept rows
 * are written in the order of their index (standardized.c), so a build is
 * deterministic; reads also go to the product writer (product.c), which
 * writes their product rows and daily summaries.  Service points and
 * meters stay in memory while their utility is built, for those product
 * rows.
 *
 * What the code knows is the common model (service point, meter and
 * interval columns); which file column feeds which standardized column,
 * and how to parse it, comes from gridflow.column_map.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/buffile.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "conform.h"
#include "load.h"

static GfBulk *
target_of(GfLoadTargets *t, GfFileKind kind)
{
	switch (kind)
	{
		case GF_KIND_SERVICE_POINT:
			return t->service_point;
		case GF_KIND_METER:
			return t->meter;
		case GF_KIND_INTERVAL:
			return t->interval;
		case GF_KIND_ASSIGNMENT:
			return t->assignment;
	}
	return NULL;
}

/*
 * Start loading files of kind f->kind for utility u into t (incremental
 * when t->incremental).  Files are added with gf_load_file(), in batch
 * order; gf_load_end() writes the rows.
 */
GfLoad *
gf_load_begin(GfLoadTargets *t, GfUtility *u, GfSourceFile *f)
{
	GfLoad	   *l = palloc0(sizeof(GfLoad));
	LoadPlan   *p = &l->plan;

	l->t = t;
	l->u = u;
	l->f = f;
	l->std = target_of(t, f->kind);
	l->interval = (f->kind == GF_KIND_INTERVAL);
	l->incremental = t->incremental;
	gf_map_plan(p, u, f, gf_bulk_tupdesc(l->std));

	/*
	 * Reads are dropped at the end; service points and meters of a full
	 * load stay while the utility is built, for the product rows of its
	 * reads.
	 */
	l->dedup_cxt = AllocSetContextCreate((l->interval || l->incremental) ?
										 CurrentMemoryContext : u->cxt,
										 "gridflow dedup", ALLOCSET_DEFAULT_SIZES);
	l->row_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow row",
									   ALLOCSET_DEFAULT_SIZES);
	l->apply_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow apply",
										 ALLOCSET_DEFAULT_SIZES);
	l->keys = gf_keytable_create(l->dedup_cxt, 4096, sizeof(GfDedupRow));
	gf_arena_init(&l->tuples, l->dedup_cxt);
	l->row.values = palloc0(sizeof(Datum) * p->natts);
	l->row.isnull = palloc0(sizeof(bool) * p->natts);
	l->row.tptr = palloc0(sizeof(char *) * p->natts);
	l->row.tlen = palloc0(sizeof(uint32) * p->natts);
	l->pvalues = palloc0(sizeof(Datum) * p->natts);
	l->form_values = palloc0(sizeof(Datum) * p->natts);
	l->form_text = palloc((Size) VARATT_SHORT_MAX * p->natts);
	l->pisnull = palloc0(sizeof(bool) * p->natts);
	initStringInfo(&l->keybuf);
	l->kept_slot = MakeSingleTupleTableSlot(p->desc, &TTSOpsMinimalTuple);
	l->maxbatches = 8;
	l->batches = palloc(sizeof(LoadBatch) * l->maxbatches);
	gf_dedup_begin(l);

	if (l->incremental)
	{
		for (int i = 0; i < p->nkeys; i++)
			l->probe_atts[l->nprobe++] = p->keys[i];
		l->probe_atts[l->nprobe++] = p->att_utility;
		l->probe = !gf_bulk_table_empty(l->std);
		if (l->interval)
			l->days = gf_days_create(CurrentMemoryContext);
		/* reads reach service points through what the meter tables hold now */
		if (l->interval && u->sp_via_meter)
			gf_meter_map_load(u);
	}
	return l;
}

/* one file being read into a load */
typedef struct ReadingFile
{
	GfLoad	   *l;
	GfReader   *r;
	int64		batch_id;
	GfLoadStats *stats;
	GfChunkWriter chunks;
	CsvRecord	rec;			/* the record being read */
	GfConform  *conform;		/* what the configuration asks beyond mapping */
	GfWide	   *wide;			/* a wide layout: the reads of one record */
	bool		meter_links;	/* meters whose file links their service points */
} ReadingFile;

/* A standardized-stage reject of the record, naming a column if op. */
static void
reject_record(ReadingFile *fr, const char *reason, const char *detail, const ColumnOp *op)
{
	gf_reject_write(fr->l->t->reject, fr->l->u->utility_datum, fr->batch_id, &fr->rec,
					"standardized", reason, detail, op ? op->source : NULL, op ? op->target : NULL);
	fr->stats->rows_invalid++;
}

/*
 * The record just read (st: a record or a reject): landed, or rejected;
 * its mapped columns parsed into l->row, its key columns checked, and what
 * the configuration asks of it applied.  False when it gives no row.
 */
static bool
read_record(ReadingFile *fr, CsvStatus st)
{
	GfLoad	   *l = fr->l;
	LoadPlan   *p = &l->plan;
	ParsedRow  *row = &l->row;
	CsvRecord  *rec = &fr->rec;
	GfLoadStats *stats = fr->stats;
	ColumnOp   *bad;
	ParseResult result = PARSE_OK;
	int			missing = -1;

	if (st == CSV_REJECT)
	{
		gf_reject_landing(l->t->reject, l->u->utility_datum, fr->batch_id, rec, fr->r->header.nfields);
		stats->records_rejected++;
		return false;
	}
	gf_chunk_add(&fr->chunks, (int64) rec->first_line, rec->raw, rec->raw_len);
	stats->records_read++;

	bad = gf_map_parse(p, l->u, rec, row, &result);
	if (bad != NULL)
	{
		char	   *shown = gf_reject_text(rec->fields[bad->src].data,
										   rec->fields[bad->src].len, 200);

		reject_record(fr, "invalid_value",
					  psprintf("invalid %s \"%s\" for column \"%s\": %s",
							   gf_map_type_name(bad->type), shown, bad->target,
							   gf_parse_result_text(result)),
					  bad);
		return false;
	}
	for (int i = 0; i < p->nrequired && missing < 0; i++)
		if (row->isnull[p->required[i]])
			missing = p->required[i];
	if (missing >= 0)
	{
		ColumnOp   *op = &p->ops[gf_map_op_index(p, missing)];

		reject_record(fr, "missing_key",
					  psprintf("no value for key column \"%s\"", op->target), op);
		return false;
	}
	/* units, channels, local times, wide layouts (conform.c) */
	if (fr->conform != NULL || row->local_flags != 0)
	{
		GfConformReject rj;

		if (!gf_conform_record(fr->conform, rec, row->values, row->isnull, row->tptr, row->tlen,
							 row->local_flags, stats, &rj))
		{
			ColumnOp	op = {.source = rj.source, .target = rj.target};

			reject_record(fr, rj.reason, rj.detail, (rj.source && rj.target) ? &op : NULL);
			return false;
		}
	}
	return true;
}

/*
 * One row of the record (of a wide record, one of its reads), in l->row:
 * its interval end, its meter links and assignments, then the dedup.
 */
static void
add_row(ReadingFile *fr)
{
	GfLoad	   *l = fr->l;
	LoadPlan   *p = &l->plan;
	GfUtility  *u = l->u;
	GfSourceFile *f = l->f;
	ParsedRow  *row = &l->row;
	CsvRecord  *rec = &fr->rec;
	GfLoadStats *stats = fr->stats;
	bool		interval = l->interval;
	double		value = 0;
	bool		value_null = true;
	DedupIn		in;

	/*
	 * A read whose start has no time of day (a date alone) is of day
	 * resolution: when in the day it was taken is unknown.  A duration of 0
	 * (or none) is unknown too: duration and end stay NULL.
	 */
	if (interval && p->att_resolution >= 0)
	{
		row->isnull[p->att_resolution] = false;
		row->tptr[p->att_resolution] = row->start_has_time ? "interval" : "day";
		row->tlen[p->att_resolution] = row->start_has_time ? 8 : 3;
	}
	if (interval && p->att_duration >= 0 && !row->isnull[p->att_duration] &&
		DatumGetInt32(row->values[p->att_duration]) == 0)
		row->isnull[p->att_duration] = true;
	if (interval && p->att_end >= 0)
	{
		TimestampTz start = DatumGetTimestampTz(row->values[p->att_start]);
		bool		known = (p->att_duration >= 0 && !row->isnull[p->att_duration]);
		int64		dur = known ? DatumGetInt32(row->values[p->att_duration]) : 0;
		TimestampTz end = start + dur * USECS_PER_SEC;

		if (dur < 0 || !IS_VALID_TIMESTAMP(end))
		{
			ColumnOp   *op = &p->ops[gf_map_op_index(p, p->att_duration)];

			reject_record(fr, "invalid_value",
						  psprintf("invalid duration %lld for column \"%s\": %s",
								   (long long) dur, op->target,
								   dur < 0 ? "negative" : "interval ends out of range"),
						  op);
			return;
		}
		row->values[p->att_end] = TimestampTzGetDatum(end);
		row->isnull[p->att_end] = !known;
	}
	if (interval && p->att_value >= 0 && !row->isnull[p->att_value])
	{
		value = DatumGetFloat8(row->values[p->att_value]);
		value_null = false;
	}

	/* incremental loads read the meter map from the tables when they need it */
	if (fr->meter_links && !l->incremental)
		gf_meter_map_add(u, p, row);
	if (f->kind == GF_KIND_METER && p->att_sp >= 0 && !row->isnull[p->att_sp])
	{
		gf_std_write_assignment(l->t->assignment, u, p, row, fr->batch_id,
								(int64) rec->first_line, l->t->dq);
		stats->assignments++;
	}
	/* an assignment file: every row is kept, in file order */
	if (f->kind == GF_KIND_ASSIGNMENT)
	{
		if (u->sp_via_meter && !l->incremental)
			gf_meter_map_add(u, p, row);
		gf_std_write_assignment(l->t->assignment, u, p, row, fr->batch_id,
								(int64) rec->first_line, l->t->dq);
		stats->assignments++;
		return;
	}

	memset(&in, 0, sizeof(in));
	in.batch_id = fr->batch_id;
	in.line_no = (int64) rec->first_line;
	in.last_batch_id = fr->batch_id;
	in.source_rows = 1;
	in.first_value = in.value_sum = value;
	in.first_value_null = value_null;
	in.value_sum_any = !value_null;

	gf_map_key(p, row, &l->keybuf);
	gf_dedup_add(l, fr->r, stats, row, &in, rec->first_line);
}

/*
 * Read one file of the load as batch batch_id: landing, rejects, and its
 * records into the dedup.  stats must live until gf_load_end(), which
 * completes them.
 */
void
gf_load_file(GfLoad *l, const char *path, int64 batch_id, GfLoadStats *stats)
{
	LoadPlan   *p = &l->plan;
	GfUtility  *u = l->u;
	GfSourceFile *f = l->f;
	GfReader   *r;
	ReadingFile	fr;
	TimestampTz t0 = GetCurrentTimestamp();

	memset(stats, 0, sizeof(GfLoadStats));
	if (l->nbatches == l->maxbatches)
	{
		l->maxbatches *= 2;
		l->batches = repalloc(l->batches, sizeof(LoadBatch) * l->maxbatches);
	}
	l->batches[l->nbatches].batch_id = batch_id;
	l->batches[l->nbatches].stats = stats;
	l->nbatches++;

	r = gf_reader_open(path, f->delimiter, f->quote);
	if (f->espi)
		gf_espi_attach(r);		/* its readings as CSV records (espi.c) */
	if (!gf_reader_read_header(r))
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("%s file \"%s\" of utility \"%s\" is empty",
						gf_kind_name(f->kind), path, u->utility_id),
				 errdetail("It has no header line."),
				 errhint("A utility file starts with a header line, even when it has no rows.")));
	for (size_t i = 0; i < r->header.nstored; i++)
	{
		CHECK_FOR_INTERRUPTS();
		stats->header = lappend(stats->header, pstrdup(r->header.fields[i].data));
	}
	for (int i = 0; i < p->nops; i++)
		p->ops[i].src = gf_reader_column(r, p->ops[i].source);

	memset(&fr, 0, sizeof(fr));
	fr.l = l;
	fr.r = r;
	fr.batch_id = batch_id;
	fr.stats = stats;
	/* what the configuration asks beyond mapping columns (conform.c); often nothing */
	fr.conform = gf_conform_begin(u, f, r, p->desc);
	fr.wide = gf_conform_wide(fr.conform);
	fr.meter_links = (f->kind == GF_KIND_METER && u->sp_via_meter &&
					  gf_map_op_index(p, p->att_sp) >= 0);
	gf_chunk_begin(&fr.chunks, l->t->landing, batch_id, u->utility_datum);

	/* per-record allocations, rejects' included, go away with the record */
	l->file_cxt = MemoryContextSwitchTo(l->row_cxt);
	for (;;)
	{
		MemoryContextReset(l->row_cxt);

		/* a wide record gives its reads one at a time before the next record */
		if (fr.wide == NULL || !gf_wide_pending(fr.wide))
		{
			CsvStatus	st = gf_reader_next(r, &fr.rec);

			if (st == CSV_EOF)
				break;
			if (!read_record(&fr, st))
				continue;
		}
		if (fr.wide != NULL)
		{
			if (!gf_wide_take(fr.wide, l->row.values, l->row.isnull))
				continue;
			l->row.start_has_time = true;	/* the column gives the time of day */
		}
		add_row(&fr);
	}
	gf_dedup_flush(l, r, stats);
	MemoryContextSwitchTo(l->file_cxt);
	stats->file_bytes = (int64) r->bytes_read;
	if (fr.wide != NULL)
		gf_wide_stats(fr.wide, stats);	/* its duplicates are completed by gf_load_end() */
	gf_reader_close(r);
	memcpy(stats->sha256, r->sha256_digest, sizeof(stats->sha256));
	gf_chunk_end(&fr.chunks);
	stats->read_ms = (double) (GetCurrentTimestamp() - t0) / 1000.0;
}

/*
 * Write the load's rows (and, for reads of a full load, their product rows
 * and daily summaries); complete the figures of its batches.  Returns the
 * milliseconds spent writing.
 */
double
gf_load_end(GfLoad *l)
{
	TimestampTz t0 = GetCurrentTimestamp();
	GfUtility  *u = l->u;

	/* reads staged for shards (no product writer) have no products here */
	if (l->interval && !l->incremental && l->t->product != NULL)
		l->em = gf_product_begin(l->t, u, l->plan.desc);
	if (l->spill != NULL)
	{
		if (l->keys != NULL)
			gf_dedup_spill_keys(l);
		for (int i = 0; i < l->spill->nparts; i++)
		{
			(void) gf_dedup_partition(l, l->spill->files[i], 1);
			BufFileClose(l->spill->files[i]);
		}
	}
	else
		(void) gf_std_write_kept(l, l->keys);
	if (l->em != NULL)
		gf_product_end(l->em);
	l->em = NULL;

	for (int i = 0; i < l->nbatches; i++)
	{
		GfLoadStats *s = l->batches[i].stats;

		if (l->f->kind == GF_KIND_ASSIGNMENT)
		{
			/* every row of an assignment file is kept */
			s->rows_kept = s->assignments;
			s->rows_duplicate = 0;
		}
		else if (s->unpivoted)
			s->rows_duplicate = s->unpivoted_reads - s->rows_kept;
		else
			s->rows_duplicate = s->records_read - s->rows_invalid - s->rows_kept;
	}

	ExecDropSingleTupleTableSlot(l->kept_slot);
	MemoryContextDelete(l->row_cxt);
	MemoryContextDelete(l->apply_cxt);
	if (l->interval || l->incremental || l->f->kind == GF_KIND_ASSIGNMENT)
	{
		/* what the caller reads from the load outlives its dedup memory */
		if (l->new_ids != NIL || l->seen_ids != NIL)
		{
			List	   *n = NIL;
			List	   *s = NIL;
			ListCell   *lc;
			MemoryContext old = MemoryContextSwitchTo(MemoryContextGetParent(l->dedup_cxt));

			foreach(lc, l->new_ids)
				n = lappend(n, pstrdup(lfirst(lc)));
			foreach(lc, l->seen_ids)
				s = lappend(s, pstrdup(lfirst(lc)));
			l->new_ids = n;
			l->seen_ids = s;
			MemoryContextSwitchTo(old);
		}
		MemoryContextDelete(l->dedup_cxt);
	}
	else
	{
		GfKept	   *k = MemoryContextAlloc(u->cxt, sizeof(GfKept));

		k->keys = l->keys;
		k->desc = l->plan.desc;
		if (l->f->kind == GF_KIND_SERVICE_POINT)
			u->kept_service_points = k;
		else
			u->kept_meters = k;
	}
	return (double) (GetCurrentTimestamp() - t0) / 1000.0;
}

/* What an incremental load changed (valid after gf_load_end()). */
GfDays *
gf_load_days(GfLoad *l)
{
	return l->days;
}

List *
gf_load_new_ids(GfLoad *l)
{
	return l->new_ids;
}

List *
gf_load_seen_ids(GfLoad *l)
{
	return l->seen_ids;
}
