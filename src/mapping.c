/*-------------------------------------------------------------------------
 *
 * mapping.c
 *	  A record of a utility file into the types of its standardized table,
 *	  as gridflow.column_map says.
 *
 * The plan of a file kind checks the configuration against the table once:
 * which header column feeds which standardized column, how it is parsed
 * (text, integers, doubles, timestamps in a format and a zone) and which
 * strings mean NULL; which columns make the natural key and which must be
 * given.  Per record, the mapped fields are parsed straight into datums
 * (text columns point into the record) and the natural key is encoded for
 * the dedup (dedup.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "conform.h"
#include "load.h"

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

const char *
gf_map_type_name(ValueType t)
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
		 att == p->att_value_sum || att == p->att_end || att == p->att_resolution);
}

int
gf_map_op_index(const LoadPlan *p, int att)
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
void
gf_map_plan(LoadPlan *p, GfUtility *u, GfSourceFile *f, TupleDesc desc)
{
	const char *what = gf_kind_name(f->kind);

	memset(p, 0, sizeof(LoadPlan));
	gf_conform_plan_start(f);
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
	p->att_resolution = gf_attnum(desc, "time_resolution", true);
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
			op->zone = gf_conform_zone(u, f, m, att == p->att_start);
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
		if (gf_map_op_index(p, p->required[i]) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column_map of utility \"%s\" does not map %s column \"%s\"",
							u->utility_id, what,
							NameStr(TupleDescAttr(desc, p->required[i])->attname)),
					 errhint("Every %s file must give this column.", what)));
	if (f->kind == GF_KIND_INTERVAL && !u->sp_via_meter && gf_map_op_index(p, p->att_sp) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("utility \"%s\" takes service points from its reads, but its interval file does not map service_point_id",
						u->utility_id),
				 errhint("Map service_point_id, or set service_point_link to 'meter'.")));
}

/*
 * Parse the mapped fields of rec into row.  Returns the failing op (and
 * its result) or NULL.
 */
ColumnOp *
gf_map_parse(LoadPlan *p, GfUtility *u, const CsvRecord *rec, ParsedRow *row,
			 ParseResult *result)
{
	for (int i = 0; i < p->natts; i++)
		row->isnull[i] = true;
	row->local_flags = 0;
	row->start_has_time = true;

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
					if (op->att == p->att_start)
						row->start_has_time = ts.has_time;
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

/* The key of row, in buf (as gf_encode_text_key() encodes text parts). */
void
gf_map_key(LoadPlan *p, ParsedRow *row, StringInfo buf)
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
MinimalTuple
gf_map_form_tuple(LoadPlan *p, ParsedRow *row, MemoryContext tmp)
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
bool
gf_map_row_differs(LoadPlan *p, ParsedRow *row, TupleTableSlot *kept)
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

/* The key of a kept tuple, encoded as gf_map_key() encodes a parsed row. */
void
gf_map_key_slot(LoadPlan *p, TupleTableSlot *slot, StringInfo buf)
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

/* Datum of a parsed column for another table (text copied), or NULL. */
bool
gf_map_datum(LoadPlan *p, ParsedRow *row, int att, Datum *v)
{
	if (att < 0 || row->isnull[att])
		return false;
	if (TupleDescAttr(p->desc, att)->atttypid == TEXTOID)
		*v = PointerGetDatum(cstring_to_text_with_len(row->tptr[att], (int) row->tlen[att]));
	else
		*v = row->values[att];
	return true;
}

