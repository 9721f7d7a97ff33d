/*-------------------------------------------------------------------------
 *
 * load.c
 *	  One source file into landing and standardized, in one pass.
 *
 * Each record of the file is landed as read (packed into
 * landing.source_chunk) or rejected with its reason, its mapped columns are
 * parsed straight into the standardized table's types (a value that does
 * not parse rejects the record), and the record goes through the dedup
 * table of its file kind: a hash of the natural key that numbers keys in
 * the order they were first seen.  The first record of a key is kept as a
 * minimal tuple; later records only update the key's statistics (records,
 * records that disagree with the first, sum of values) or, under keep_last,
 * replace the kept tuple.  When the file ends the kept rows are written in
 * first-seen order, so a build is deterministic; reads also go to the
 * emitter (emit.c), which writes their product rows and daily summaries.
 * Service points and meters stay in memory while their utility is built,
 * for those product rows.  Memory grows with distinct keys, not with
 * records.
 *
 * What the code knows is the common model (service point, meter and
 * interval columns); which file column feeds which standardized column,
 * and how to parse it, comes from gridflow.column_map.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/buffile.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "adapt.h"
#include "gridflow.h"
#include "localtime.h"
#include "keytable.h"
#include "parse.h"

typedef enum ValueType
{
	VT_TEXT,
	VT_INT4,
	VT_INT8,
	VT_FLOAT8,
	VT_TIMESTAMPTZ
} ValueType;

/* one mapped column: where it comes from and how it is parsed */
typedef struct ColumnOp
{
	int			att;			/* 0-based attribute of the target table */
	int			src;			/* field index in the file */
	ValueType	type;
	TsFormat	fmt;
	const char *source;			/* header name */
	const char *target;
	/*
	 * column_map.null_values: a short list is compared in turn, a longer one
	 * is looked up in a set, so that a field costs its length and not the
	 * list's
	 */
	int			nnulls;
	char	  **nulls;
	uint32	   *null_lens;
	GfKeyTable *null_set;		/* of the strings, when there are many */
	uint64		null_seed;		/* of its hash */
	GfZone	   *zone;			/* timestamps: local times (adapt.h) */
} ColumnOp;

/* null_values up to this many are compared in turn */
#define NULL_LIST_MAX 8

/* how one file kind is standardized */
typedef struct LoadPlan
{
	GfFileKind	kind;
	TupleDesc	desc;
	int			natts;
	int			nops;
	ColumnOp   *ops;
	int			nkeys;
	int			keys[4];
	int			nrequired;
	int			required[4];
	/* columns the code gives meaning to (-1: not in this kind) */
	int			att_utility;
	int			att_batch;
	int			att_line;
	int			att_last_batch;
	int			att_source_rows;
	int			att_conflicting;
	int			att_first_value;
	int			att_value_sum;
	int			att_sp;
	int			att_meter;
	int			att_start;
	int			att_channel;
	int			att_end;
	int			att_duration;
	int			att_value;
	int			att_installed;
	int			att_removed;
	bool	   *is_text;		/* per column: text, its bytes at tptr/tlen */
} LoadPlan;

/* one record, parsed */
typedef struct ParsedRow
{
	Datum	   *values;
	bool	   *isnull;
	const char **tptr;			/* text columns point into the record */
	uint32	   *tlen;
	int			local_flags;	/* GF_LOCAL_*: repeated or skipped local times */
} ParsedRow;

typedef struct GfAssign
{
	Datum		sp;
	TimestampTz installed;
	TimestampTz removed;
	bool		has_installed;
	bool		has_removed;
} GfAssign;

typedef struct GfMeterLinks
{
	Datum		first_sp;		/* service point of the meter's first row */
	bool		first_sp_null;
	int			nassign;
	int			cap;
	GfAssign   *assign;			/* rows with a service point, in file order */
} GfMeterLinks;

struct GfMeterMap
{
	GfKeyTable *keys;			/* meter id -> GfMeterLinks */
	MemoryContext cxt;
};

const char *
gf_kind_name(GfFileKind kind)
{
	switch (kind)
	{
		case GF_KIND_SERVICE_POINT:
			return "service_point";
		case GF_KIND_METER:
			return "meter";
		case GF_KIND_INTERVAL:
			return "interval";
		case GF_KIND_ASSIGNMENT:
			return "assignment";
	}
	return "unknown";
}

/*
 * Per-build state of a utility.  What rows of every table point to (the
 * utility id) lives in build_cxt; what is kept only while the utility is
 * built (its service points and meters) goes in a child context.
 */
void
gf_utility_init(GfUtility *u, MemoryContext build_cxt)
{
	MemoryContext old = MemoryContextSwitchTo(build_cxt);

	u->cxt = AllocSetContextCreate(build_cxt, "gridflow utility", ALLOCSET_DEFAULT_SIZES);
	u->tz = pg_tzset(u->time_zone);
	if (u->tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" of utility \"%s\" is not recognized",
						u->time_zone, u->utility_id),
				 errhint("Set gridflow.utility.time_zone to a name from pg_timezone_names.")));
	u->utility_datum = CStringGetTextDatum(u->utility_id);
	u->tzcache = palloc(sizeof(GfTzCache));
	u->utccache = palloc(sizeof(GfTzCache));
	for (int i = 0; i < GF_TZ_CACHE; i++)
		u->tzcache->hour[i] = u->utccache->hour[i] = PG_INT64_MIN;
	u->meters = NULL;
	u->kept_service_points = NULL;
	u->kept_meters = NULL;
	MemoryContextSwitchTo(old);
}

/* Free what the utility kept in memory for its build. */
void
gf_utility_done(GfUtility *u)
{
	MemoryContextDelete(u->cxt);
	u->cxt = NULL;
	u->meters = NULL;
	u->kept_service_points = NULL;
	u->kept_meters = NULL;
}

static ValueType
value_type_for(Oid typid, const char *column)
{
	switch (typid)
	{
		case TEXTOID:
			return VT_TEXT;
		case INT4OID:
			return VT_INT4;
		case INT8OID:
			return VT_INT8;
		case FLOAT8OID:
			return VT_FLOAT8;
		case TIMESTAMPTZOID:
			return VT_TIMESTAMPTZ;
	}
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("gridflow cannot load column \"%s\" of type %s",
					column, format_type_be(typid))));
	return VT_TEXT;				/* keep compiler quiet */
}

static const char *
value_type_name(ValueType t)
{
	switch (t)
	{
		case VT_TEXT:
			return "text";
		case VT_INT4:
			return "integer";
		case VT_INT8:
			return "bigint";
		case VT_FLOAT8:
			return "double precision";
		case VT_TIMESTAMPTZ:
			return "timestamp";
	}
	return "value";
}

/* Is this column filled by gridflow rather than by a mapping? */
static bool
is_managed(const LoadPlan *p, int att)
{
	return att >= 0 &&
		(att == p->att_utility || att == p->att_batch || att == p->att_line ||
		 att == p->att_last_batch || att == p->att_source_rows ||
		 att == p->att_conflicting || att == p->att_first_value ||
		 att == p->att_value_sum || att == p->att_end);
}

static int
op_for_att(const LoadPlan *p, int att)
{
	for (int i = 0; i < p->nops; i++)
		if (p->ops[i].att == att)
			return i;
	return -1;
}

/* How op finds its null_values (see ColumnOp). */
static void
set_null_values(ColumnOp *op)
{
	op->null_lens = palloc(sizeof(uint32) * Max(op->nnulls, 1));
	for (int k = 0; k < op->nnulls; k++)
	{
		CHECK_FOR_INTERRUPTS();
		op->null_lens[k] = (uint32) strlen(op->nulls[k]);
	}
	if (op->nnulls <= NULL_LIST_MAX)
		return;
	op->null_seed = pg_prng_uint64(&pg_global_prng_state);
	op->null_set = gf_keytable_create(CurrentMemoryContext, (uint32) op->nnulls, 0);
	for (int k = 0; k < op->nnulls; k++)
	{
		CHECK_FOR_INTERRUPTS();
		(void) gf_keytable_find(op->null_set, op->nulls[k], op->null_lens[k],
								gf_key_hash_seeded(op->nulls[k], op->null_lens[k], op->null_seed),
								true, NULL);
	}
}

/* Is field f one of op's null_values? */
static inline bool
is_null_value(const ColumnOp *op, const CsvField *f)
{
	if (op->null_set != NULL)
		return gf_keytable_find(op->null_set, f->data, (uint32) f->len,
								gf_key_hash_seeded(f->data, (uint32) f->len, op->null_seed),
								false, NULL) != NULL;
	for (int k = 0; k < op->nnulls; k++)
		if (op->null_lens[k] == f->len && memcmp(op->nulls[k], f->data, f->len) == 0)
			return true;
	return false;
}

/* Check the configuration of file f against the target table; build the plan. */
static void
build_plan(LoadPlan *p, GfUtility *u, GfSourceFile *f, TupleDesc desc)
{
	const char *what = gf_kind_name(f->kind);

	memset(p, 0, sizeof(LoadPlan));
	gf_adapt_plan_start(f);
	p->kind = f->kind;
	p->desc = desc;
	p->natts = desc->natts;
	p->is_text = palloc(sizeof(bool) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
		p->is_text[i] = (TupleDescAttr(desc, i)->atttypid == TEXTOID);
	p->att_utility = gf_attnum(desc, "utility_id", false);
	p->att_batch = gf_attnum(desc, "batch_id", false);
	p->att_line = gf_attnum(desc, "line_no", false);
	p->att_last_batch = gf_attnum(desc, "last_batch_id", f->kind == GF_KIND_ASSIGNMENT);
	p->att_source_rows = gf_attnum(desc, "source_rows", f->kind == GF_KIND_ASSIGNMENT);
	p->att_conflicting = gf_attnum(desc, "conflicting_rows", f->kind == GF_KIND_ASSIGNMENT);
	p->att_first_value = gf_attnum(desc, "first_value", true);
	p->att_value_sum = gf_attnum(desc, "source_value_sum", true);
	p->att_sp = gf_attnum(desc, "service_point_id", true);
	p->att_meter = gf_attnum(desc, "meter_id", true);
	p->att_start = gf_attnum(desc, "interval_start_ts", true);
	p->att_channel = gf_attnum(desc, "channel", true);
	p->att_end = gf_attnum(desc, "interval_end_ts", true);
	p->att_duration = gf_attnum(desc, "duration_seconds", true);
	p->att_value = gf_attnum(desc, "value", true);
	p->att_installed = gf_attnum(desc, "installed_at", true);
	p->att_removed = gf_attnum(desc, "removed_at", true);

	p->ops = palloc0(sizeof(ColumnOp) * Max(f->nmaps, 1));
	for (int i = 0; i < f->nmaps; i++)
	{
		GfColumnMap *m = &f->maps[i];
		ColumnOp   *op = &p->ops[p->nops];
		int			att = gf_attnum(desc, m->target, true);

		if (att < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column_map of utility \"%s\" maps %s column \"%s\", which does not exist",
							u->utility_id, what, m->target),
					 errhint("Map to a column of the standardized %s table.", what)));
		if (is_managed(p, att))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column_map of utility \"%s\" maps %s column \"%s\", which gridflow fills itself",
							u->utility_id, what, m->target)));
		if (f->kind == GF_KIND_INTERVAL && att == p->att_sp && u->sp_via_meter)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("utility \"%s\" reaches service points through meters, but its interval file maps service_point_id",
							u->utility_id),
					 errhint("Set service_point_link to 'read' or remove the mapping.")));
		op->att = att;
		op->type = value_type_for(TupleDescAttr(desc, att)->atttypid, m->target);
		op->source = m->source;
		op->target = m->target;
		op->nnulls = m->nnulls;
		op->nulls = m->nulls;
		set_null_values(op);
		if (op->type == VT_TIMESTAMPTZ)
		{
			if (gf_ts_format_compile(m->format, &op->fmt) != PARSE_OK)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid timestamp format \"%s\" for %s column \"%s\" of utility \"%s\"",
								m->format, what, m->target, u->utility_id),
						 errhint("Use iso8601, epoch, or a pattern of YYYY MM DD HH24 MI SS US TZ.")));
			op->zone = gf_adapt_zone(u, f, m, att == p->att_start);
		}
		else if (m->format != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("format given for %s column \"%s\" of utility \"%s\", which is not a timestamp",
							what, m->target, u->utility_id)));
		p->nops++;
	}

	/* natural keys and required columns of the common model */
	switch (f->kind)
	{
		case GF_KIND_SERVICE_POINT:
			p->keys[p->nkeys++] = p->att_sp;
			p->required[p->nrequired++] = p->att_sp;
			break;
		case GF_KIND_METER:
			p->keys[p->nkeys++] = p->att_meter;
			p->required[p->nrequired++] = p->att_meter;
			break;
		case GF_KIND_INTERVAL:
			p->keys[p->nkeys++] = p->att_sp;
			p->keys[p->nkeys++] = p->att_meter;
			p->keys[p->nkeys++] = p->att_start;
			p->keys[p->nkeys++] = gf_attnum(desc, "channel", false);
			p->required[p->nrequired++] = p->att_meter;
			p->required[p->nrequired++] = p->att_start;
			p->required[p->nrequired++] = gf_attnum(desc, "channel", false);
			break;
		case GF_KIND_ASSIGNMENT:
			p->required[p->nrequired++] = p->att_meter;
			p->required[p->nrequired++] = p->att_sp;
			break;
	}
	for (int i = 0; i < p->nrequired; i++)
		if (op_for_att(p, p->required[i]) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column_map of utility \"%s\" does not map %s column \"%s\"",
							u->utility_id, what,
							NameStr(TupleDescAttr(desc, p->required[i])->attname)),
					 errhint("Every %s file must give this column.", what)));
	if (f->kind == GF_KIND_INTERVAL && !u->sp_via_meter && op_for_att(p, p->att_sp) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("utility \"%s\" takes service points from its reads, but its interval file does not map service_point_id",
						u->utility_id),
				 errhint("Map service_point_id, or set service_point_link to 'meter'.")));
}

/* Add the standardized-stage reject of a landed record. */
static void
write_reject(GfBulk *rej, int64 batch_id, const CsvRecord *rec, const char *stage,
			 const char *reason, const char *detail, const ColumnOp *op)
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
		else if (strcmp(name, "source_column") == 0 && op != NULL)
			v = CStringGetTextDatum(op->source);
		else if (strcmp(name, "target_column") == 0 && op != NULL)
			v = CStringGetTextDatum(op->target);
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

/* Reject of a record that is not a valid row of the file. */
static void
write_landing_reject(GfBulk *rej, int64 batch_id, const CsvRecord *rec, size_t expected)
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
	write_reject(rej, batch_id, rec, "landing", gf_csv_reason_code(rec->reason), detail, NULL);
}

/*
 * Parse the mapped fields of rec into row.  Returns the failing op (and
 * its result) or NULL.
 */
static ColumnOp *
parse_row(LoadPlan *p, GfUtility *u, const CsvRecord *rec, ParsedRow *row,
		  ParseResult *result)
{
	for (int i = 0; i < p->natts; i++)
		row->isnull[i] = true;
	row->local_flags = 0;

	for (int i = 0; i < p->nops; i++)
	{
		ColumnOp   *op = &p->ops[i];
		const CsvField *f = &rec->fields[op->src];
		ParseResult r = PARSE_OK;
		bool		isnull = (f->len == 0 && !f->quoted);

		if (!isnull && op->nnulls > 0 && is_null_value(op, f))
			isnull = true;
		if (isnull)
			continue;

		switch (op->type)
		{
			case VT_TEXT:
				row->tptr[op->att] = f->data;
				row->tlen[op->att] = (uint32) f->len;
				break;
			case VT_INT4:
				{
					int32		v;

					r = gf_parse_int32(f->data, f->len, &v);
					row->values[op->att] = Int32GetDatum(v);
					break;
				}
			case VT_INT8:
				{
					int64		v;

					r = gf_parse_int64(f->data, f->len, &v);
					row->values[op->att] = Int64GetDatum(v);
					break;
				}
			case VT_FLOAT8:
				{
					double		v;

					r = gf_parse_double(f->data, f->len, &v);
					row->values[op->att] = Float8GetDatum(v);
					break;
				}
			case VT_TIMESTAMPTZ:
				{
					ParsedTimestamp ts;
					TimestampTz v;

					r = gf_ts_parse(&op->fmt, f->data, f->len, &ts, NULL);
					if (r != PARSE_OK)
						break;
					if (ts.has_offset)
						v = gf_ts_wall_usec(&ts) - (int64) ts.offset_seconds * USECS_PER_SEC -
							GF_UNIX_TO_PG_USEC;
					else
						v = gf_zone_local(op->zone, gf_ts_wall_usec(&ts), &row->local_flags);
					if (!IS_VALID_TIMESTAMP(v))
						r = PARSE_RANGE;
					row->values[op->att] = TimestampTzGetDatum(v);
					break;
				}
		}
		if (r == PARSE_EMPTY)
			continue;			/* only blanks: NULL */
		if (r != PARSE_OK)
		{
			*result = r;
			return op;
		}
		row->isnull[op->att] = false;
	}
	return NULL;
}

/* Append a text key part to buf (the encoding of every single-text key). */
void
gf_encode_text_key(StringInfo buf, const char *s, uint32 len)
{
	appendStringInfoChar(buf, '\1');
	appendBinaryStringInfo(buf, (char *) &len, sizeof(len));
	appendBinaryStringInfo(buf, s, (int) len);
}

/* The key of row, in buf (as gf_encode_text_key() encodes text parts). */
static void
encode_key(LoadPlan *p, ParsedRow *row, StringInfo buf)
{
	int			need = 0;
	char	   *d;

	for (int i = 0; i < p->nkeys; i++)
	{
		int			att = p->keys[i];

		if (row->isnull[att])
			need += 1;
		else if (TupleDescAttr(p->desc, att)->atttypid == TEXTOID)
			need += 1 + sizeof(uint32) + (int) row->tlen[att];
		else
			need += 1 + sizeof(int64);
	}
	resetStringInfo(buf);
	enlargeStringInfo(buf, need);
	d = buf->data;
	for (int i = 0; i < p->nkeys; i++)
	{
		int			att = p->keys[i];

		if (row->isnull[att])
			*d++ = '\0';
		else if (TupleDescAttr(p->desc, att)->atttypid == TEXTOID)
		{
			uint32		len = row->tlen[att];

			*d++ = '\1';
			memcpy(d, &len, sizeof(len));
			d += sizeof(len);
			memcpy(d, row->tptr[att], len);
			d += len;
		}
		else
		{
			int64		v = DatumGetInt64(row->values[att]);

			*d++ = '\1';
			memcpy(d, &v, sizeof(v));
			d += sizeof(v);
		}
	}
	buf->len = need;
	buf->data[need] = '\0';
}

/* Form the row as a minimal tuple (text columns become text datums here). */
static MinimalTuple
form_row(LoadPlan *p, ParsedRow *row, MemoryContext tmp)
{
	MemoryContext old = MemoryContextSwitchTo(tmp);
	Datum	   *values = palloc(sizeof(Datum) * p->natts);
	MinimalTuple tup;

	for (int i = 0; i < p->natts; i++)
	{
		values[i] = row->values[i];
		if (!row->isnull[i] && TupleDescAttr(p->desc, i)->atttypid == TEXTOID)
			values[i] = PointerGetDatum(cstring_to_text_with_len(row->tptr[i],
																 (int) row->tlen[i]));
	}
	tup = heap_form_minimal_tuple(p->desc, values, row->isnull);
	MemoryContextSwitchTo(old);
	return tup;
}

/* Does the parsed row differ from the kept tuple in any mapped non-key column? */
static bool
row_differs(LoadPlan *p, ParsedRow *row, TupleTableSlot *kept)
{
	slot_getallattrs(kept);
	for (int i = 0; i < p->nops; i++)
	{
		int			att = p->ops[i].att;
		bool		is_key = false;

		for (int k = 0; k < p->nkeys; k++)
			if (p->keys[k] == att)
				is_key = true;
		if (is_key)
			continue;
		if (row->isnull[att] != kept->tts_isnull[att])
			return true;
		if (row->isnull[att])
			continue;
		if (p->ops[i].type == VT_TEXT)
		{
			text	   *t = DatumGetTextPP(kept->tts_values[att]);

			if (VARSIZE_ANY_EXHDR(t) != row->tlen[att] ||
				memcmp(VARDATA_ANY(t), row->tptr[att], row->tlen[att]) != 0)
				return true;
		}
		else if (kept->tts_values[att] != row->values[att])
			return true;
	}
	return false;
}

/* The meter map of a utility, created empty if it has none. */
static GfMeterMap *
meter_map(GfUtility *u)
{
	if (u->meters == NULL)
	{
		MemoryContext cxt = AllocSetContextCreate(u->cxt, "gridflow meters",
												  ALLOCSET_DEFAULT_SIZES);
		GfMeterMap *map = MemoryContextAllocZero(cxt, sizeof(GfMeterMap));

		map->cxt = cxt;
		map->keys = gf_keytable_create(cxt, 1024, sizeof(GfMeterLinks));
		u->meters = map;
	}
	return u->meters;
}

/*
 * One row of the meter map: a meter (its first row sets its first service
 * point) and, if the row is an assignment and names a service point, one
 * assignment, kept only for effective-dated links (the others read the
 * first service point alone, so the map holds a meter, not its rows).
 */
static void
meter_map_add_row(GfUtility *u, const char *meter, uint32 len, Datum sp, bool sp_null,
				  bool assignment, bool has_installed, TimestampTz installed,
				  bool has_removed, TimestampTz removed)
{
	GfMeterMap *map = meter_map(u);
	MemoryContext old;
	bool		found;
	GfMeterLinks *l;

	/* only effective-dated links look past a meter's first service point */
	if (!u->effective_dated)
		assignment = false;
	l = gf_keytable_find(map->keys, meter, len, gf_key_hash(meter, len), true, &found);
	if (found && (sp_null || !assignment))
		return;					/* nothing more to keep of this row */
	old = MemoryContextSwitchTo(map->cxt);
	if (!sp_null)
		sp = PointerGetDatum(DatumGetTextPCopy(sp));
	if (!found)
	{
		l->first_sp = sp;
		l->first_sp_null = sp_null;
	}
	if (!sp_null && assignment)
	{
		GfAssign   *a;

		if (l->nassign == l->cap)
		{
			l->cap = l->cap ? l->cap * 2 : 4;
			l->assign = l->assign ? repalloc(l->assign, sizeof(GfAssign) * l->cap) :
				palloc(sizeof(GfAssign) * l->cap);
		}
		a = &l->assign[l->nassign++];
		a->sp = sp;
		a->has_installed = has_installed;
		a->installed = has_installed ? installed : 0;
		a->has_removed = has_removed;
		a->removed = has_removed ? removed : 0;
	}
	MemoryContextSwitchTo(old);
}

/* The meter map of a utility: add one row of its meter file. */
static void
meter_map_add(GfUtility *u, LoadPlan *p, ParsedRow *row)
{
	bool		sp_null = (p->att_sp < 0 || row->isnull[p->att_sp]);
	bool		has_installed = p->att_installed >= 0 && !row->isnull[p->att_installed];
	bool		has_removed = p->att_removed >= 0 && !row->isnull[p->att_removed];
	Datum		sp = (Datum) 0;

	if (!sp_null)
		sp = PointerGetDatum(cstring_to_text_with_len(row->tptr[p->att_sp],
													  (int) row->tlen[p->att_sp]));
	meter_map_add_row(u, row->tptr[p->att_meter], row->tlen[p->att_meter], sp, sp_null,
					  true, has_installed,
					  has_installed ? DatumGetTimestampTz(row->values[p->att_installed]) : 0,
					  has_removed,
					  has_removed ? DatumGetTimestampTz(row->values[p->att_removed]) : 0);
	if (!sp_null)
		pfree(DatumGetPointer(sp));
}

/*
 * The meter map of a utility from what earlier batches left in the
 * standardized tables: each meter's first service point is that of its
 * kept (first) row, its assignments are the meter-assignment rows in
 * arrival order.  The same map as reading all of its meter files again.
 */
void
gf_meter_map_load(GfUtility *u)
{
	Datum		arg = u->utility_datum;
	Oid			argtype = TEXTOID;
	bool		from_assignment_file = (u->adapt != NULL && u->adapt->has_assignment_file);

	if (u->meters != NULL)
		MemoryContextDelete(u->meters->cxt);
	u->meters = NULL;
	(void) meter_map(u);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/*
	 * Meters linked by their meter file start from their first row (kept in
	 * standardized.meter); meters linked by an assignment file start from
	 * their first assignment, as when the file is read.
	 */
	if (!from_assignment_file)
	{
		if (SPI_execute_with_args("SELECT meter_id, service_point_id FROM standardized.meter "
								  "WHERE utility_id OPERATOR(pg_catalog.=) $1",
								  1, &argtype, &arg, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "gridflow: could not read standardized.meter");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			bool		mnull,
						snull;
			text	   *m = DatumGetTextPP(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &mnull));
			Datum		sp = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &snull);

			CHECK_FOR_INTERRUPTS();
			/* the first service point only: the assignments follow */
			meter_map_add_row(u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m), sp, snull,
							  false, false, 0, false, 0);
		}
	}
	if (u->effective_dated || from_assignment_file)
	{
		if (SPI_execute_with_args("SELECT meter_id, service_point_id, installed_at, removed_at "
								  "FROM standardized.meter_assignment "
								  "WHERE utility_id OPERATOR(pg_catalog.=) $1 ORDER BY batch_id, line_no",
								  1, &argtype, &arg, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "gridflow: could not read standardized.meter_assignment");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		mnull,
						snull,
						inull,
						rnull;
			text	   *m = DatumGetTextPP(SPI_getbinval(tup, desc, 1, &mnull));
			Datum		sp = SPI_getbinval(tup, desc, 2, &snull);
			Datum		inst = SPI_getbinval(tup, desc, 3, &inull);
			Datum		rem = SPI_getbinval(tup, desc, 4, &rnull);

			CHECK_FOR_INTERRUPTS();
			meter_map_add_row(u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m), sp, snull,
							  true, !inull, inull ? 0 : DatumGetTimestampTz(inst),
							  !rnull, rnull ? 0 : DatumGetTimestampTz(rem));
		}
	}
	SPI_finish();
}

/* Service point of a read through its meter; false when there is none. */
bool
gf_meter_resolve(GfUtility *u, const char *meter, uint32 len, TimestampTz ts, Datum *sp)
{
	GfMeterMap *map = u->meters;
	GfMeterLinks *l;
	int			best = -1;

	if (map == NULL)
		return false;
	l = gf_keytable_find(map->keys, meter, len, gf_key_hash(meter, len), false, NULL);
	if (l == NULL)
		return false;
	if (!u->effective_dated)
	{
		*sp = l->first_sp;
		return !l->first_sp_null;
	}
	/* effective-dated: installed by ts and not removed; latest installation wins */
	for (int i = 0; i < l->nassign; i++)
	{
		GfAssign   *a = &l->assign[i];

		if ((a->has_installed && a->installed > ts) || (a->has_removed && a->removed <= ts))
			continue;
		if (best < 0 ||
			(a->has_installed &&
			 (!l->assign[best].has_installed || a->installed > l->assign[best].installed)))
			best = i;
	}
	if (best < 0)
		return false;
	*sp = l->assign[best].sp;
	return true;
}

/* Datum of a parsed column for another table (text copied), or NULL. */
static bool
parsed_datum(LoadPlan *p, ParsedRow *row, int att, Datum *v)
{
	if (att < 0 || row->isnull[att])
		return false;
	if (TupleDescAttr(p->desc, att)->atttypid == TEXTOID)
		*v = PointerGetDatum(cstring_to_text_with_len(row->tptr[att], (int) row->tlen[att]));
	else
		*v = row->values[att];
	return true;
}

/* One meter-assignment row (every meter row that names a service point). */
static void
write_assignment(GfBulk *b, GfUtility *u, LoadPlan *p, ParsedRow *row, int64 batch_id,
				 int64 line_no)
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
			present = parsed_datum(p, row, p->att_meter, &v);
		else if (strcmp(name, "service_point_id") == 0)
			present = parsed_datum(p, row, p->att_sp, &v);
		else if (strcmp(name, "installed_at") == 0)
			present = parsed_datum(p, row, p->att_installed, &v);
		else if (strcmp(name, "removed_at") == 0)
			present = parsed_datum(p, row, p->att_removed, &v);
		else
			present = false;
		slot->tts_values[i] = v;
		slot->tts_isnull[i] = !present;
	}
	MemoryContextSwitchTo(old);
	gf_bulk_store(b, 96);
}

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

int
gf_bytes_cmp(const char *a, uint32 la, const char *b, uint32 lb)
{
	int			c = memcmp(a, b, Min(la, lb));

	if (c != 0)
		return c;
	return (la > lb) - (la < lb);
}

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
 * What one record (or an entry moved to a partition) brings to its key:
 * the same fields as GfDedupRow, without the kept tuple.
 */
typedef struct DedupIn
{
	int64		batch_id;
	int64		line_no;
	int64		last_batch_id;
	int32		source_rows;
	int32		conflicting_rows;
	bool		first_value_null;
	bool		value_sum_any;
	bool		moved;			/* an entry moved to a partition, not a record */
	bool		existing;
	bool		changed;
	double		first_value;
	double		value_sum;
	ItemPointerData tid;
} DedupIn;

typedef struct Spill Spill;

/* a batch of a load and its figures */
typedef struct LoadBatch
{
	int64		batch_id;
	GfLoadStats *stats;
} LoadBatch;

/*
 * A load: the files of one kind of one utility, de-duplicated together in
 * the order they are added (their batches' order), written at the end.
 */
struct GfLoad
{
	GfLoadTargets *t;
	GfUtility  *u;
	GfSourceFile *f;			/* configuration of the kind */
	GfBulk	   *std;
	LoadPlan	plan;
	bool		interval;
	bool		incremental;
	bool		probe;			/* look up rows of earlier batches */
	int			nprobe;
	int			probe_atts[8];	/* the natural key, with the utility */
	Datum	   *pvalues;
	bool	   *pisnull;
	MemoryContext dedup_cxt;
	MemoryContext row_cxt;		/* a record's allocations, rejects' included */
	MemoryContext apply_cxt;	/* rows formed while a batch is applied */
	MemoryContext file_cxt;		/* the context gf_load_file() was called in */
	Datum	   *form_values;	/* store_row()'s datums */
	char	   *form_text;		/* ... and their short text values */
	GfKeyTable *keys;
	GfArena		tuples;
	ParsedRow	row;
	StringInfoData keybuf;
	TupleTableSlot *kept_slot;
	Spill	   *spill;
	struct ReadBatch *batch;	/* records waiting for the dedup */
	int			since_check;
	int			nbatches;
	int			maxbatches;
	LoadBatch  *batches;
	GfEmitter  *em;
	/* what an incremental load changed */
	GfDays	   *days;			/* reads: service-point days to refresh */
	List	   *new_ids;		/* service points, meters: ids first seen */
	List	   *seen_ids;		/* ... every id the load had */
};

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
 * Make the parsed row the kept tuple of d: form_row() and
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

static GfLoadStats *
batch_stats(GfLoad *l, int64 batch_id)
{
	for (int i = l->nbatches - 1; i >= 0; i--)
		if (l->batches[i].batch_id == batch_id)
			return l->batches[i].stats;
	elog(ERROR, "gridflow: batch " INT64_FORMAT " is not part of this load", batch_id);
	return NULL;
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
 * Write the kept rows in the order of their index; reads also go to the
 * emitter for their product row and daily summary (full loads) or mark
 * their service point's day for refreshing (incremental loads, where a row
 * of an earlier batch is replaced by its new version).
 */
static uint32
emit_rows(GfLoad *l, GfKeyTable *keys)
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
				gf_emit_read(l->em, slot);
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
		if (d->existing)
		{
			/* the row of an earlier batch makes way for its new version */
			gf_bulk_delete(std, &d->tid);
			if (d->changed)
				batch_stats(l, d->last_batch_id)->rows_replaced++;
		}
		gf_bulk_store(std, d->tuple->t_len);
	}
	/* the rows point into the dedup memory: write them before it goes */
	gf_bulk_flush(std);
	if (l->em)
		gf_emit_flush(l->em);
	ExecDropSingleTupleTableSlot(kept);
	pfree(order);
	if (items != NULL)
		pfree(items);
	return n;
}

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

/*
 * Partitions are ranges of service points (NULL last), bounded by a sample
 * of the keys in memory when the reads are partitioned: written one after
 * the other, they give the rows in the order of the index, as in memory.
 */
struct Spill
{
	int			nparts;
	int			nbounds;		/* partition i < nbounds ends before bound i */
	const char **bounds;
	uint32	   *bound_lens;
	BufFile   **files;
};

#define SPILL_SAMPLES 4096

#define SPILL_MAX_DEPTH 4

#if PG_VERSION_NUM >= 160000
#define gf_buffile_read(f, p, n) BufFileReadMaybeEOF((f), (p), (n), true)
#else
#define gf_buffile_read(f, p, n) BufFileRead((f), (p), (n))
#endif

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
	if (row_differs(p, row, kept_slot) && d->conflicting_rows < PG_INT32_MAX)
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
		(Size) keys->nentries * (sizeof(RowOrder) + sizeof(ReadSortItem));
}

static Size
build_memory_budget(void)
{
	return (Size) gf_build_memory_kb * 1024;
}

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
static Spill *
spill_create(int nparts, LoadPlan *p, GfUtility *u, GfKeyTable *keys, TupleTableSlot *slot)
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
static int
spill_part(Spill *s, const char *sp, uint32 len, bool sp_null)
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
static int
spill_part_tuple(Spill *s, LoadPlan *p, GfUtility *u, TupleTableSlot *slot)
{
	text	   *t = tuple_service_point(p, u, slot);

	if (t == NULL)
		return spill_part(s, NULL, 0, true);
	return spill_part(s, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), false);
}

static void
spill_write(Spill *s, int part, const DedupIn *in, MinimalTuple tup)
{
	SpillHeader h;

	memset(&h, 0, sizeof(h));
	h.tuple_len = tup->t_len;
	h.in = *in;
	BufFileWrite(s->files[part], &h, sizeof(h));
	BufFileWrite(s->files[part], tup, tup->t_len);
}

/* Next record of a partition file; false at its end. */
static bool
spill_read(BufFile *f, DedupIn *in, StringInfo buf)
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

/* The key of a kept tuple, encoded as encode_key() encodes a parsed row. */
static void
encode_key_slot(LoadPlan *p, TupleTableSlot *slot, StringInfo buf)
{
	resetStringInfo(buf);
	for (int i = 0; i < p->nkeys; i++)
	{
		int			att = p->keys[i];

		if (slot->tts_isnull[att])
			appendStringInfoChar(buf, '\0');
		else if (TupleDescAttr(p->desc, att)->atttypid == TEXTOID)
		{
			text	   *t = DatumGetTextPP(slot->tts_values[att]);

			gf_encode_text_key(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		}
		else
		{
			int64		v = DatumGetInt64(slot->tts_values[att]);

			appendStringInfoChar(buf, '\1');
			appendBinaryStringInfo(buf, (char *) &v, sizeof(v));
		}
	}
}

/* Move every entry of a dedup table to partitions. */
static void
spill_entries(Spill *s, LoadPlan *p, GfUtility *u, GfKeyTable *keys, TupleTableSlot *slot)
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
		spill_write(s, spill_part_tuple(s, p, u, slot), &in, d->tuple);
		ExecClearTuple(slot);
	}
}

/* Partitions for reads whose keys outgrow memory after a fraction of a file. */
static int
spill_partitions(Size used, double fraction_read)
{
	double		expected = (double) used / Max(fraction_read, 0.01);
	double		want = expected * 1.5 / (double) build_memory_budget();
	int			n = 4;

	while (n < want && n < 1024)
		n *= 2;
	return n;
}

/*
 * De-duplicate one partition file and write its rows; partition it again
 * if its keys do not fit in memory either.
 */
static uint64
process_partition(GfLoad *l, BufFile *f, int depth)
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
	while (spill_read(f, &in, &tupbuf))
	{
		MinimalTuple tup = (MinimalTuple) tupbuf.data;
		GfDedupRow *d;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		ExecStoreMinimalTuple(tup, slot, false);
		slot_getallattrs(slot);
		if (sub != NULL)
		{
			spill_write(sub, spill_part_tuple(sub, p, u, slot), &in, tup);
			ExecClearTuple(slot);
			continue;
		}
		encode_key_slot(p, slot, &keybuf);
		d = gf_keytable_find(keys, keybuf.data, (uint32) keybuf.len,
							 gf_key_hash(keybuf.data, (uint32) keybuf.len), true, &found);
		if (!found && !in.moved)
		{
			/* a record whose key this load has not seen yet */
			if (l->probe && seed_from_slot(l, d, slot, &tuples))
			{
				found = true;
				batch_stats(l, in.batch_id)->rows_matched++;
			}
			else
				batch_stats(l, in.batch_id)->rows_kept++;
		}
		if (dedup_apply(d, found, &in, u->policy))
			dedup_store_tuple(d, tup, &tuples);
		ExecClearTuple(slot);

		if (++records % 1024 == 0 && depth < SPILL_MAX_DEPTH &&
			dedup_memory(keys, &tuples) > build_memory_budget())
		{
			sub = spill_create(4, p, u, keys, slot);
			spill_entries(sub, p, u, keys, slot);
			keys = NULL;
		}
	}
	MemoryContextSwitchTo(old);
	if (sub != NULL)
	{
		for (int i = 0; i < sub->nparts; i++)
		{
			kept += process_partition(l, sub->files[i], depth + 1);
			BufFileClose(sub->files[i]);
		}
	}
	else
		kept = emit_rows(l, keys);
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

/* Move the keys in memory to the partition files; free them. */
static void
spill_memory(GfLoad *l)
{
	spill_entries(l->spill, &l->plan, l->u, l->keys, l->kept_slot);
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
		MinimalTuple tup = form_row(p, row, l->apply_cxt);
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
		spill_write(l->spill, spill_part(l->spill, sp, splen, sp_null), in, tup);
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
		Size		budget = build_memory_budget();

		l->since_check = 0;
		if (l->spill == NULL && used > budget - budget / 16)
		{
			double		fraction = file_size > 0 ?
				(double) bytes_read / (double) file_size : 1.0;

			l->spill = spill_create(spill_partitions(used, fraction), p, u, l->keys,
									l->kept_slot);
			stats->spilled_partitions = l->spill->nparts;
		}
		else if (l->spill != NULL && used > budget)
			spill_memory(l);
	}
}

/* Apply the batched records, in order. */
static void
batch_process(GfLoad *l, GfReader *r, GfLoadStats *stats)
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
static void
batch_add(GfLoad *l, GfReader *r, GfLoadStats *stats, ParsedRow *row, const DedupIn *in,
		  uint64 line)
{
	LoadPlan   *p = &l->plan;
	ReadBatch  *b = l->batch;
	Size		need = (Size) l->keybuf.len;
	PendingRead *pr;
	char	   *dst;

	/* text columns, those the configuration sets (adapt.c) included */
	for (int i = 0; i < p->natts; i++)
		if (p->is_text[i] && !row->isnull[i])
			need += row->tlen[i];
	if (b->text_used + need > b->text_cap)
	{
		if (b->n > 0)
			batch_process(l, r, stats);
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
		batch_process(l, r, stats);
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
	build_plan(p, u, f, gf_bulk_tupdesc(l->std));

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
	{
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
	GfLoadTargets *t = l->t;
	GfSourceFile *f = l->f;
	ParsedRow  *row = &l->row;
	GfReader   *r;
	GfChunkWriter chunks;
	CsvRecord	rec;
	CsvStatus	st = CSV_RECORD;
	bool		interval = l->interval;
	TimestampTz t0 = GetCurrentTimestamp();
	DedupIn		in;
	GfAdapt    *adapt;
	GfWide	   *wide;
	bool		meter_links;

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
	/* what the configuration asks beyond mapping columns (adapt.c); often nothing */
	adapt = gf_adapt_begin(u, f, r, p->desc);
	wide = gf_adapt_wide(adapt);
	meter_links = (f->kind == GF_KIND_METER && u->sp_via_meter && op_for_att(p, p->att_sp) >= 0);
	gf_chunk_begin(&chunks, t->landing, batch_id);

	/* per-record allocations, rejects' included, go away with the record */
	l->file_cxt = MemoryContextSwitchTo(l->row_cxt);
	while ((wide != NULL && gf_wide_pending(wide)) || (st = gf_reader_next(r, &rec)) != CSV_EOF)
	{
		ColumnOp   *bad;
		ParseResult result = PARSE_OK;
		double		value = 0;
		bool		value_null = true;

		MemoryContextReset(l->row_cxt);	/* the paths that continue skip the end */

		/* the next read of a wide record */
		if (wide != NULL && gf_wide_pending(wide))
			goto next_read;
		if (st == CSV_REJECT)
		{
			write_landing_reject(t->reject, batch_id, &rec, r->header.nfields);
			stats->records_rejected++;
			continue;
		}
		gf_chunk_add(&chunks, (int64) rec.first_line, rec.raw, rec.raw_len);
		stats->records_read++;

		bad = parse_row(p, u, &rec, row, &result);
		if (bad != NULL)
		{
			char	   *shown = gf_reject_text(rec.fields[bad->src].data,
											   rec.fields[bad->src].len, 200);

			write_reject(t->reject, batch_id, &rec, "standardized", "invalid_value",
						 psprintf("invalid %s \"%s\" for column \"%s\": %s",
								  value_type_name(bad->type), shown, bad->target,
								  gf_parse_result_text(result)),
						 bad);
			stats->rows_invalid++;
			continue;
		}
		{
			int			missing = -1;

			for (int i = 0; i < p->nrequired && missing < 0; i++)
				if (row->isnull[p->required[i]])
					missing = p->required[i];
			if (missing >= 0)
			{
				ColumnOp   *op = &p->ops[op_for_att(p, missing)];

				write_reject(t->reject, batch_id, &rec, "standardized", "missing_key",
							 psprintf("no value for key column \"%s\"", op->target),
							 op);
				stats->rows_invalid++;
				continue;
			}
		}
		/* units, channels, local times, wide layouts (adapt.c) */
		if (adapt != NULL || row->local_flags != 0)
		{
			GfAdaptReject rj;

			if (!gf_adapt_record(adapt, &rec, row->values, row->isnull, row->tptr, row->tlen,
								 row->local_flags, stats, &rj))
			{
				ColumnOp	op = {.source = rj.source, .target = rj.target};

				write_reject(t->reject, batch_id, &rec, "standardized", rj.reason, rj.detail,
							 (rj.source && rj.target) ? &op : NULL);
				stats->rows_invalid++;
				continue;
			}
		}
next_read:
		if (wide != NULL && !gf_wide_take(wide, row->values, row->isnull))
			continue;
		if (interval && p->att_end >= 0)
		{
			TimestampTz start = DatumGetTimestampTz(row->values[p->att_start]);
			int64		dur = (p->att_duration >= 0 && !row->isnull[p->att_duration]) ?
				DatumGetInt32(row->values[p->att_duration]) : 0;
			TimestampTz end = start + dur * USECS_PER_SEC;

			if (dur < 0 || !IS_VALID_TIMESTAMP(end))
			{
				ColumnOp   *op = &p->ops[op_for_att(p, p->att_duration)];

				write_reject(t->reject, batch_id, &rec, "standardized", "invalid_value",
							 psprintf("invalid duration %lld for column \"%s\": %s",
									  (long long) dur, op->target,
									  dur < 0 ? "negative" : "interval ends out of range"),
							 op);
				stats->rows_invalid++;
				continue;
			}
			row->values[p->att_end] = TimestampTzGetDatum(end);
			row->isnull[p->att_end] = false;
		}
		if (interval && p->att_value >= 0 && !row->isnull[p->att_value])
		{
			value = DatumGetFloat8(row->values[p->att_value]);
			value_null = false;
		}

		/* incremental loads read the meter map from the tables when they need it */
		if (meter_links && !l->incremental)
			meter_map_add(u, p, row);
		if (f->kind == GF_KIND_METER && p->att_sp >= 0 && !row->isnull[p->att_sp])
		{
			write_assignment(t->assignment, u, p, row, batch_id, (int64) rec.first_line);
			stats->assignments++;
		}
		/* an assignment file: every row is kept, in file order */
		if (f->kind == GF_KIND_ASSIGNMENT)
		{
			if (u->sp_via_meter && !l->incremental)
				meter_map_add(u, p, row);
			write_assignment(t->assignment, u, p, row, batch_id, (int64) rec.first_line);
			stats->assignments++;
			continue;
		}

		memset(&in, 0, sizeof(in));
		in.batch_id = batch_id;
		in.line_no = (int64) rec.first_line;
		in.last_batch_id = batch_id;
		in.source_rows = 1;
		in.first_value = in.value_sum = value;
		in.first_value_null = value_null;
		in.value_sum_any = !value_null;

		encode_key(p, row, &l->keybuf);
		batch_add(l, r, stats, row, &in, rec.first_line);
	}
	if (l->batch != NULL && l->batch->n > 0)
		batch_process(l, r, stats);
	MemoryContextSwitchTo(l->file_cxt);
	stats->file_bytes = (int64) r->bytes_read;
	if (wide != NULL)
		gf_wide_stats(wide, stats);		/* its duplicates are completed by gf_load_end() */
	gf_reader_close(r);
	memcpy(stats->sha256, r->sha256_digest, sizeof(stats->sha256));
	gf_chunk_end(&chunks);
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
		l->em = gf_emit_begin(l->t, u, l->plan.desc);
	if (l->spill != NULL)
	{
		if (l->keys != NULL)
			spill_memory(l);
		for (int i = 0; i < l->spill->nparts; i++)
		{
			(void) process_partition(l, l->spill->files[i], 1);
			BufFileClose(l->spill->files[i]);
		}
	}
	else
		(void) emit_rows(l, l->keys);
	if (l->em != NULL)
		gf_emit_end(l->em);
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
