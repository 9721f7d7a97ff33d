/*-------------------------------------------------------------------------
 *
 * landing.c
 *	  Landed records, packed: the writer that fills the storage of
 *	  landing.source_record (gridflow_store.source_chunk),
 *	  and gridflow.chunk_records(), which unpacks a chunk for the
 *	  landing.source_record view; the records that could not be used, in
 *	  landing.reject.
 *
 * A chunk holds consecutive valid records of one file, a couple of
 * kilobytes at a time (small enough to stay in the heap page, untoasted),
 * each as varint(line number - previous line number), varint(length), the
 * record's bytes.  Writing a file's records this way costs about what
 * copying its bytes costs, instead of a heap tuple per record.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "gridflow.h"

/* bytes of records per chunk (a chunk row stays below the toast threshold) */
#define GF_CHUNK_TARGET 1800

PG_FUNCTION_INFO_V1(gridflow_chunk_records);

/* Write v as a varint at d (room for ten bytes); returns the bytes written. */
static inline int
put_varint(char *d, uint64 v)
{
	int			n = 0;

	do
	{
		d[n] = (char) (v & 0x7F);
		v >>= 7;
		if (v)
			d[n] |= (char) 0x80;
		n++;
	} while (v);
	return n;
}

/* Read a varint at *pos; false if the data ends or the value is too long. */
static bool
get_varint(const unsigned char *data, size_t len, size_t *pos, uint64 *out)
{
	uint64		v = 0;
	int			shift = 0;

	while (*pos < len && shift < 64)
	{
		unsigned char b = data[(*pos)++];

		v |= (uint64) (b & 0x7F) << shift;
		if (!(b & 0x80))
		{
			*out = v;
			return true;
		}
		shift += 7;
	}
	return false;
}

void
gf_chunk_begin(GfChunkWriter *w, GfBulk *bulk, int64 batch_id, Datum utility)
{
	w->bulk = bulk;
	w->batch_id = batch_id;
	w->utility = utility;
	initStringInfo(&w->buf);
	w->records = 0;
	w->first_line = w->last_line = 0;
}

/* Write the chunk being filled. */
static void
chunk_flush(GfChunkWriter *w)
{
	TupleTableSlot *slot;
	bytea	   *data;

	if (w->records == 0)
		return;
	slot = gf_bulk_slot(w->bulk);
	data = MemoryContextAlloc(gf_bulk_memory(w->bulk), VARHDRSZ + w->buf.len);
	SET_VARSIZE(data, VARHDRSZ + w->buf.len);
	memcpy(VARDATA(data), w->buf.data, w->buf.len);
	slot->tts_values[0] = Int64GetDatum(w->batch_id);
	slot->tts_values[1] = Int64GetDatum(w->first_line);
	slot->tts_values[2] = Int64GetDatum(w->last_line);
	slot->tts_values[3] = Int32GetDatum(w->records);
	slot->tts_values[4] = PointerGetDatum(data);
	slot->tts_values[5] = w->utility;
	memset(slot->tts_isnull, 0, sizeof(bool) * 6);
	gf_bulk_store(w->bulk, w->buf.len + 64);
	resetStringInfo(&w->buf);
	w->records = 0;
}

/* Add one valid record, starting on line, to the batch's chunks. */
void
gf_chunk_add(GfChunkWriter *w, int64 line, const char *raw, size_t len)
{
	if (w->records > 0 && w->buf.len + len + 20 > GF_CHUNK_TARGET)
		chunk_flush(w);
	if (w->records == 0)
	{
		w->first_line = line;
		w->last_line = 0;
	}
	enlargeStringInfo(&w->buf, (int) len + 20);
	w->buf.len += put_varint(w->buf.data + w->buf.len, (uint64) (line - w->last_line));
	w->buf.len += put_varint(w->buf.data + w->buf.len, (uint64) len);
	memcpy(w->buf.data + w->buf.len, raw, len);
	w->buf.len += (int) len;
	w->buf.data[w->buf.len] = '\0';
	w->last_line = line;
	w->records++;
}

void
gf_chunk_end(GfChunkWriter *w)
{
	chunk_flush(w);
	pfree(w->buf.data);
}

/*
 * A reject of record rec of batch batch_id of a utility: its stage
 * ("landing" or "standardized"), reason code and detail, and the file and
 * standardized columns it concerns (NULL: none).
 */
void
gf_reject_write(GfBulk *rej, Datum utility, int64 batch_id, const CsvRecord *rec,
				const char *stage, const char *reason, const char *detail,
				const char *source, const char *target)
{
	TupleTableSlot *slot = gf_bulk_slot(rej);
	MemoryContext old = MemoryContextSwitchTo(gf_bulk_memory(rej));
	TupleDesc	desc = slot->tts_tupleDescriptor;
	char	   *text = gf_reject_text(rec->raw, rec->raw_len, (size_t) gf_reject_record_bytes);

	for (int i = 0; i < desc->natts; i++)
	{
		const char *name = NameStr(TupleDescAttr(desc, i)->attname);
		Datum		v = (Datum) 0;
		bool		isnull = false;

		if (strcmp(name, "batch_id") == 0)
			v = Int64GetDatum(batch_id);
		else if (strcmp(name, "utility_id") == 0)
			v = utility;
		else if (strcmp(name, "line_no") == 0)
			v = Int64GetDatum((int64) rec->first_line);
		else if (strcmp(name, "end_line_no") == 0)
			v = Int64GetDatum((int64) rec->last_line);
		else if (strcmp(name, "stage") == 0)
			v = CStringGetTextDatum(stage);
		else if (strcmp(name, "reason") == 0)
			v = CStringGetTextDatum(reason);
		else if (strcmp(name, "detail") == 0)
			v = CStringGetTextDatum(detail);
		else if (strcmp(name, "source_column") == 0 && source != NULL)
			v = CStringGetTextDatum(source);
		else if (strcmp(name, "target_column") == 0 && target != NULL)
			v = CStringGetTextDatum(target);
		else if (strcmp(name, "record") == 0)
			v = CStringGetTextDatum(text);
		else if (strcmp(name, "record_bytes") == 0)
			v = Int64GetDatum((int64) rec->raw_total);
		else
			isnull = true;
		slot->tts_values[i] = v;
		slot->tts_isnull[i] = isnull;
	}
	MemoryContextSwitchTo(old);
	gf_bulk_store(rej, rec->raw_len > 256 ? 256 : rec->raw_len + 128);
}

/* The reject of a record that is not a valid row of the file. */
void
gf_reject_landing(GfBulk *rej, Datum utility, int64 batch_id, const CsvRecord *rec,
				  size_t expected)
{
	char	   *detail;

	if (rec->reason == CSV_REASON_FIELD_COUNT)
		detail = psprintf("%zu fields where the header has %zu", rec->nfields, expected);
	else if (rec->reason == CSV_REASON_TOO_LONG)
		detail = psprintf("record of " UINT64_FORMAT " bytes, more than gridflow.max_record_bytes (%d)",
						  rec->raw_total, gf_max_record_bytes);
	else
		detail = psprintf("%s at byte " UINT64_FORMAT " of the record",
						  gf_csv_reason_text(rec->reason), rec->reason_offset);
	gf_reject_write(rej, utility, batch_id, rec, "landing", gf_csv_reason_code(rec->reason),
					detail, NULL, NULL);
}

/* The packed landing table has the columns gf_chunk_*() write. */
void
gf_check_landing_layout(GfBulk *landing)
{
	TupleDesc	d = gf_bulk_tupdesc(landing);

	if (d->natts != 6 || gf_attnum(d, "batch_id", true) != 0 ||
		gf_attnum(d, "first_line", true) != 1 || gf_attnum(d, "last_line", true) != 2 ||
		gf_attnum(d, "records", true) != 3 || gf_attnum(d, "data", true) != 4 ||
		gf_attnum(d, "utility_id", true) != 5)
		elog(ERROR, "gridflow: unexpected layout of gridflow_store.source_chunk");
}

/*
 * A record of a chunk is text only if it is UTF-8: the loader lands only
 * records the tokenizer found valid, but chunk_records() takes any bytea,
 * and text that is not valid UTF-8 would be stored wherever its result is
 * (and make a dump of that table unrestorable).
 */
static void
check_record_text(const char *s, int len, uint64 line)
{
	int			ok = pg_encoding_verifymbstr(PG_UTF8, s, len);

	if (ok < len)
	{
		char		bytes[8 * 5 + 1];
		char	   *b = bytes;

		for (int i = ok; i < len && i < ok + 8; i++)
			b += sprintf(b, "%s0x%02x", i > ok ? " " : "", (unsigned char) s[i]);
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid byte sequence for encoding \"UTF8\": %s", bytes),
				 errdetail("The record of line " UINT64_FORMAT " of the landing chunk is not valid UTF-8 at byte %d.",
						   line, ok + 1),
				 errhint("Landed records are valid UTF-8: this bytea is not a chunk the loader wrote.")));
	}
}

/* SQL: gridflow.chunk_records(data bytea) RETURNS SETOF (line_no, record) */
Datum
gridflow_chunk_records(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	const unsigned char *data = (const unsigned char *) VARDATA_ANY(b);
	size_t		len = VARSIZE_ANY_EXHDR(b);
	size_t		pos = 0;
	uint64		line = 0;

	/* the records are UTF-8, which a database of another encoding would misread */
	gf_check_database_encoding();
	InitMaterializedSRF(fcinfo, 0);
	while (pos < len)
	{
		uint64		delta,
					n;
		Datum		values[2];
		bool		nulls[2] = {false, false};

		CHECK_FOR_INTERRUPTS();
		if (!get_varint(data, len, &pos, &delta) || !get_varint(data, len, &pos, &n) ||
			n > len - pos)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid landing chunk at byte %zu", pos)));
		if (delta > (uint64) PG_INT64_MAX - line)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid landing chunk at byte %zu", pos),
					 errdetail("Its line numbers run past the largest bigint.")));
		line += delta;
		check_record_text((const char *) data + pos, (int) n, line);
		values[0] = Int64GetDatum((int64) line);
		values[1] = PointerGetDatum(cstring_to_text_with_len((const char *) data + pos, (int) n));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		pos += n;
	}
	return (Datum) 0;
}
