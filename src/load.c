/*-------------------------------------------------------------------------
 *
 * load.c
 *	  One source file into landing and standardized, in one pass.
 *
 * Each record of the file is landed as read (or rejected with its reason),
 * its mapped columns are parsed straight into the standardized table's
 * types (a value that does not parse rejects the record), and the record
 * goes through the dedup table of its file kind: a hash of the natural key
 * that numbers keys in the order they were first seen.  The first record
 * of a key is kept as a minimal tuple; later records only update the key's
 * statistics (records, records that disagree with the first, sum of
 * values) or, under keep_last, replace the kept tuple.  When the file ends
 * the kept rows are written in first-seen order, so a build is
 * deterministic.  Memory grows with distinct keys, not with records.
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
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "gridflow.h"
#include "keytable.h"
#include "parse.h"

#define UNIX_TO_PG_USEC \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC)

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
	int			nnulls;
	char	  **nulls;
} ColumnOp;

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
	int			att_source_rows;
	int			att_conflicting;
	int			att_value_sum;
	int			att_sp;
	int			att_meter;
	int			att_start;
	int			att_end;
	int			att_duration;
	int			att_value;
	int			att_installed;
	int			att_removed;
} LoadPlan;

/* one record, parsed */
typedef struct ParsedRow
{
	Datum	   *values;
	bool	   *isnull;
	const char **tptr;			/* text columns point into the record */
	uint32	   *tlen;
} ParsedRow;

/* what the dedup keeps per key */
typedef struct DedupRow
{
	MinimalTuple tuple;			/* the kept row */
	uint32		tuple_cap;
	int64		line_no;		/* of the kept row */
	int32		source_rows;
	int32		conflicting_rows;
	double		first_value;
	double		value_sum;
	bool		first_value_null;
	bool		value_sum_any;
} DedupRow;

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
	GfKeyTable *keys;
	GfMeterLinks *links;
	uint32		cap;
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
	}
	return "unknown";
}

/* Per-build state of a utility. */
void
gf_utility_init(GfUtility *u, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);

	u->cxt = cxt;
	u->tz = pg_tzset(u->time_zone);
	if (u->tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" of utility \"%s\" is not recognized",
						u->time_zone, u->utility_id),
				 errhint("Set gridflow.utility.time_zone to a name from pg_timezone_names.")));
	u->utility_datum = CStringGetTextDatum(u->utility_id);
	u->tzcache = palloc(sizeof(GfTzCache));
	for (int i = 0; i < GF_TZ_CACHE; i++)
		u->tzcache->hour[i] = PG_INT64_MIN;
	u->meters = NULL;
	MemoryContextSwitchTo(old);
}

/* UTC offset (seconds west, as PostgreSQL counts) of a local wall time. */
static int
tz_offset_at(pg_tz *tz, int64 wall_sec)
{
	struct pg_tm tm;
	int64		days = wall_sec >= 0 ? wall_sec / SECS_PER_DAY :
		-((-wall_sec + SECS_PER_DAY - 1) / SECS_PER_DAY);
	int64		rem = wall_sec - days * SECS_PER_DAY;

	memset(&tm, 0, sizeof(tm));
	civil_from_days(days, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_hour = (int) (rem / SECS_PER_HOUR);
	tm.tm_min = (int) (rem / SECS_PER_MINUTE % 60);
	tm.tm_sec = (int) (rem % 60);
	tm.tm_isdst = -1;
	return DetermineTimeZoneOffset(&tm, tz);
}

/*
 * A wall-clock time of the utility's zone as timestamptz, with the same
 * rules as PostgreSQL's timestamptz input.  The offset is cached per wall
 * hour when it is the same at both ends of the hour.
 */
TimestampTz
gf_local_to_timestamptz(GfUtility *u, int64 wall_usec)
{
	int64		wall_sec = wall_usec >= 0 ? wall_usec / USECS_PER_SEC :
		-((-wall_usec + USECS_PER_SEC - 1) / USECS_PER_SEC);
	int64		hour = wall_sec >= 0 ? wall_sec / SECS_PER_HOUR :
		-((-wall_sec + SECS_PER_HOUR - 1) / SECS_PER_HOUR);
	int			slot = (int) ((uint64) hour % GF_TZ_CACHE);
	int			offset;

	if (u->tzcache->hour[slot] == hour)
		offset = u->tzcache->offset[slot];
	else
	{
		int			start = tz_offset_at(u->tz, hour * SECS_PER_HOUR);
		int			end = tz_offset_at(u->tz, hour * SECS_PER_HOUR + SECS_PER_HOUR - 1);

		if (start == end)
		{
			u->tzcache->hour[slot] = hour;
			u->tzcache->offset[slot] = start;
			offset = start;
		}
		else
			offset = tz_offset_at(u->tz, wall_sec);
	}
	return wall_usec + (int64) offset * USECS_PER_SEC - UNIX_TO_PG_USEC;
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
		 att == p->att_source_rows || att == p->att_conflicting ||
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

/* Check the configuration of file f against the target table; build the plan. */
static void
build_plan(LoadPlan *p, GfUtility *u, GfSourceFile *f, TupleDesc desc)
{
	const char *what = gf_kind_name(f->kind);

	memset(p, 0, sizeof(LoadPlan));
	p->kind = f->kind;
	p->desc = desc;
	p->natts = desc->natts;
	p->att_utility = gf_attnum(desc, "utility_id", false);
	p->att_batch = gf_attnum(desc, "batch_id", false);
	p->att_line = gf_attnum(desc, "line_no", false);
	p->att_source_rows = gf_attnum(desc, "source_rows", false);
	p->att_conflicting = gf_attnum(desc, "conflicting_rows", false);
	p->att_value_sum = gf_attnum(desc, "source_value_sum", true);
	p->att_sp = gf_attnum(desc, "service_point_id", true);
	p->att_meter = gf_attnum(desc, "meter_id", true);
	p->att_start = gf_attnum(desc, "interval_start_ts", true);
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
		if (op->type == VT_TIMESTAMPTZ)
		{
			if (ts_format_compile(m->format, &op->fmt) != PARSE_OK)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid timestamp format \"%s\" for %s column \"%s\" of utility \"%s\"",
								m->format, what, m->target, u->utility_id),
						 errhint("Use iso8601, epoch, or a pattern of YYYY MM DD HH24 MI SS US TZ.")));
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
						  csv_reason_text(rec->reason), rec->reason_offset);
	write_reject(rej, batch_id, rec, "landing", csv_reason_code(rec->reason), detail, NULL);
}

/* The landed copy of a record. */
static void
write_landing(GfBulk *landing, int64 batch_id, const CsvRecord *rec)
{
	TupleTableSlot *slot = gf_bulk_slot(landing);
	text	   *t = MemoryContextAlloc(gf_bulk_memory(landing), VARHDRSZ + rec->raw_len);

	SET_VARSIZE(t, VARHDRSZ + rec->raw_len);
	memcpy(VARDATA(t), rec->raw, rec->raw_len);
	slot->tts_values[0] = Int64GetDatum(batch_id);
	slot->tts_values[1] = Int64GetDatum((int64) rec->first_line);
	slot->tts_values[2] = PointerGetDatum(t);
	slot->tts_isnull[0] = slot->tts_isnull[1] = slot->tts_isnull[2] = false;
	gf_bulk_store(landing, rec->raw_len + 40);
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

	for (int i = 0; i < p->nops; i++)
	{
		ColumnOp   *op = &p->ops[i];
		const CsvField *f = &rec->fields[op->src];
		ParseResult r = PARSE_OK;
		bool		isnull = (f->len == 0 && !f->quoted);

		for (int k = 0; !isnull && k < op->nnulls; k++)
			if (strlen(op->nulls[k]) == f->len && memcmp(op->nulls[k], f->data, f->len) == 0)
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

					r = parse_int32(f->data, f->len, &v);
					row->values[op->att] = Int32GetDatum(v);
					break;
				}
			case VT_INT8:
				{
					int64		v;

					r = parse_int64(f->data, f->len, &v);
					row->values[op->att] = Int64GetDatum(v);
					break;
				}
			case VT_FLOAT8:
				{
					double		v;

					r = parse_double(f->data, f->len, &v);
					row->values[op->att] = Float8GetDatum(v);
					break;
				}
			case VT_TIMESTAMPTZ:
				{
					ParsedTimestamp ts;
					TimestampTz v;

					r = ts_parse(&op->fmt, f->data, f->len, &ts, NULL);
					if (r != PARSE_OK)
						break;
					if (ts.has_offset)
						v = ts_wall_usec(&ts) - (int64) ts.offset_seconds * USECS_PER_SEC -
							UNIX_TO_PG_USEC;
					else
						v = gf_local_to_timestamptz(u, ts_wall_usec(&ts));
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

/* Append the key of row to buf. */
static void
encode_key(LoadPlan *p, ParsedRow *row, StringInfo buf)
{
	resetStringInfo(buf);
	for (int i = 0; i < p->nkeys; i++)
	{
		int			att = p->keys[i];

		if (row->isnull[att])
		{
			appendStringInfoChar(buf, '\0');
			continue;
		}
		appendStringInfoChar(buf, '\1');
		if (TupleDescAttr(p->desc, att)->atttypid == TEXTOID)
		{
			uint32		len = row->tlen[att];

			appendBinaryStringInfo(buf, (char *) &len, sizeof(len));
			appendBinaryStringInfo(buf, row->tptr[att], (int) len);
		}
		else
		{
			int64		v = DatumGetInt64(row->values[att]);

			appendBinaryStringInfo(buf, (char *) &v, sizeof(v));
		}
	}
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

/* The meter map of a utility: add one row of its meter file. */
static void
meter_map_add(GfUtility *u, LoadPlan *p, ParsedRow *row, bool first_row_of_meter)
{
	GfMeterMap *map = u->meters;
	MemoryContext old;
	int64		e;
	bool		found;
	GfMeterLinks *l;
	Datum		sp = (Datum) 0;
	bool		sp_null = (p->att_sp < 0 || row->isnull[p->att_sp]);

	if (map == NULL)
	{
		old = MemoryContextSwitchTo(u->cxt);
		map = palloc0(sizeof(GfMeterMap));
		map->cxt = u->cxt;
		map->keys = gf_keytable_create(u->cxt, 1024);
		map->cap = 1024;
		map->links = palloc0(sizeof(GfMeterLinks) * map->cap);
		u->meters = map;
		MemoryContextSwitchTo(old);
	}
	e = gf_keytable_find(map->keys, row->tptr[p->att_meter], row->tlen[p->att_meter],
						 gf_key_hash(row->tptr[p->att_meter], row->tlen[p->att_meter]),
						 true, &found);
	if ((uint32) e >= map->cap)
	{
		uint32		ncap = map->cap * 2;

		map->links = repalloc_huge(map->links, sizeof(GfMeterLinks) * ncap);
		memset(map->links + map->cap, 0, sizeof(GfMeterLinks) * (ncap - map->cap));
		map->cap = ncap;
	}
	l = &map->links[e];
	old = MemoryContextSwitchTo(map->cxt);
	if (!sp_null)
		sp = PointerGetDatum(cstring_to_text_with_len(row->tptr[p->att_sp],
													  (int) row->tlen[p->att_sp]));
	if (!found)
	{
		Assert(first_row_of_meter);
		l->first_sp = sp;
		l->first_sp_null = sp_null;
	}
	if (!sp_null)
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
		a->has_installed = p->att_installed >= 0 && !row->isnull[p->att_installed];
		a->installed = a->has_installed ? DatumGetTimestampTz(row->values[p->att_installed]) : 0;
		a->has_removed = p->att_removed >= 0 && !row->isnull[p->att_removed];
		a->removed = a->has_removed ? DatumGetTimestampTz(row->values[p->att_removed]) : 0;
	}
	MemoryContextSwitchTo(old);
}

/* Service point of a read through its meter; false when there is none. */
static bool
meter_map_resolve(GfUtility *u, const char *meter, uint32 len, TimestampTz ts, Datum *sp)
{
	GfMeterMap *map = u->meters;
	int64		e;
	GfMeterLinks *l;
	int			best = -1;

	if (map == NULL)
		return false;
	e = gf_keytable_find(map->keys, meter, len, gf_key_hash(meter, len), false, NULL);
	if (e < 0)
		return false;
	l = &map->links[e];
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
	}
	return NULL;
}

/* Write the kept rows of the file, in first-seen order. */
static void
emit_rows(LoadPlan *p, GfUtility *u, GfBulk *std, GfKeyTable *keys, DedupRow *rows,
		  int64 batch_id)
{
	TupleTableSlot *kept = MakeSingleTupleTableSlot(p->desc, &TTSOpsMinimalTuple);

	for (uint32 e = 0; e < keys->nentries; e++)
	{
		DedupRow   *d = &rows[e];
		TupleTableSlot *slot = gf_bulk_slot(std);

		CHECK_FOR_INTERRUPTS();
		ExecStoreMinimalTuple(d->tuple, kept, false);
		slot_getallattrs(kept);
		memcpy(slot->tts_values, kept->tts_values, sizeof(Datum) * p->natts);
		memcpy(slot->tts_isnull, kept->tts_isnull, sizeof(bool) * p->natts);

		slot->tts_values[p->att_utility] = u->utility_datum;
		slot->tts_isnull[p->att_utility] = false;
		slot->tts_values[p->att_batch] = Int64GetDatum(batch_id);
		slot->tts_isnull[p->att_batch] = false;
		slot->tts_values[p->att_line] = Int64GetDatum(d->line_no);
		slot->tts_isnull[p->att_line] = false;
		slot->tts_values[p->att_source_rows] = Int32GetDatum(d->source_rows);
		slot->tts_isnull[p->att_source_rows] = false;
		slot->tts_values[p->att_conflicting] = Int32GetDatum(d->conflicting_rows);
		slot->tts_isnull[p->att_conflicting] = false;

		if (p->kind == GF_KIND_INTERVAL)
		{
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
			if (u->sp_via_meter)
			{
				text	   *m = DatumGetTextPP(kept->tts_values[p->att_meter]);
				Datum		sp;

				if (meter_map_resolve(u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m),
									  DatumGetTimestampTz(kept->tts_values[p->att_start]),
									  &sp))
				{
					slot->tts_values[p->att_sp] = sp;
					slot->tts_isnull[p->att_sp] = false;
				}
			}
		}
		gf_bulk_store(std, d->tuple->t_len);
	}
	/* the rows point into the dedup memory: write them before it goes */
	gf_bulk_flush(std);
	ExecDropSingleTupleTableSlot(kept);
}

/*
 * Load file f of utility u as batch batch_id: landing, rejects and the
 * standardized rows of its kind.
 */
void
gf_load_file(GfLoadTargets *t, GfUtility *u, GfSourceFile *f, int64 batch_id,
			 GfLoadStats *stats)
{
	GfBulk	   *std = target_of(t, f->kind);
	LoadPlan	plan;
	GfReader   *r;
	MemoryContext dedup_cxt;
	MemoryContext row_cxt;
	MemoryContext outer_cxt;
	GfKeyTable *keys;
	DedupRow   *rows;
	uint32		rows_cap = 4096;
	GfArena		tuples;
	ParsedRow	row;
	StringInfoData keybuf;
	TupleTableSlot *kept_slot;
	CsvRecord	rec;
	CsvStatus	st;
	bool		interval = (f->kind == GF_KIND_INTERVAL);

	memset(stats, 0, sizeof(GfLoadStats));
	build_plan(&plan, u, f, gf_bulk_tupdesc(std));

	r = gf_reader_open(f->path, f->delimiter, f->quote);
	if (!gf_reader_read_header(r))
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("%s file \"%s\" of utility \"%s\" is empty",
						gf_kind_name(f->kind), f->path, u->utility_id),
				 errdetail("It has no header line."),
				 errhint("A utility file starts with a header line, even when it has no rows.")));
	for (size_t i = 0; i < r->header.nstored; i++)
		stats->header = lappend(stats->header, pstrdup(r->header.fields[i].data));
	for (int i = 0; i < plan.nops; i++)
		plan.ops[i].src = gf_reader_column(r, plan.ops[i].source);

	dedup_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow dedup",
									  ALLOCSET_DEFAULT_SIZES);
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow row",
									ALLOCSET_DEFAULT_SIZES);
	keys = gf_keytable_create(dedup_cxt, 4096);
	rows = MemoryContextAllocHuge(dedup_cxt, sizeof(DedupRow) * rows_cap);
	gf_arena_init(&tuples, dedup_cxt);
	row.values = palloc0(sizeof(Datum) * plan.natts);
	row.isnull = palloc0(sizeof(bool) * plan.natts);
	row.tptr = palloc0(sizeof(char *) * plan.natts);
	row.tlen = palloc0(sizeof(uint32) * plan.natts);
	initStringInfo(&keybuf);
	kept_slot = MakeSingleTupleTableSlot(plan.desc, &TTSOpsMinimalTuple);

	/* per-record allocations, rejects' included, go away with the record */
	outer_cxt = MemoryContextSwitchTo(row_cxt);
	while ((st = gf_reader_next(r, &rec)) != CSV_EOF)
	{
		ColumnOp   *bad;
		ParseResult result = PARSE_OK;
		uint32		hash;
		int64		e;
		bool		found;
		DedupRow   *d;
		double		value = 0;
		bool		value_null = true;

		MemoryContextReset(row_cxt);	/* the paths that continue skip the end */
		if (st == CSV_REJECT)
		{
			write_landing_reject(t->reject, batch_id, &rec, r->header.nfields);
			stats->records_rejected++;
			continue;
		}
		write_landing(t->landing, batch_id, &rec);
		stats->records_read++;

		bad = parse_row(&plan, u, &rec, &row, &result);
		if (bad != NULL)
		{
			char	   *shown = gf_reject_text(rec.fields[bad->src].data,
											   rec.fields[bad->src].len, 200);

			write_reject(t->reject, batch_id, &rec, "standardized", "invalid_value",
						 psprintf("invalid %s \"%s\" for column \"%s\": %s",
								  value_type_name(bad->type), shown, bad->target,
								  parse_result_text(result)),
						 bad);
			stats->rows_invalid++;
			continue;
		}
		{
			int			missing = -1;

			for (int i = 0; i < plan.nrequired && missing < 0; i++)
				if (row.isnull[plan.required[i]])
					missing = plan.required[i];
			if (missing >= 0)
			{
				ColumnOp   *op = &plan.ops[op_for_att(&plan, missing)];

				write_reject(t->reject, batch_id, &rec, "standardized", "missing_key",
							 psprintf("no value for key column \"%s\"", op->target),
							 op);
				stats->rows_invalid++;
				continue;
			}
		}
		if (interval && plan.att_end >= 0)
		{
			TimestampTz start = DatumGetTimestampTz(row.values[plan.att_start]);
			int64		dur = (plan.att_duration >= 0 && !row.isnull[plan.att_duration]) ?
				DatumGetInt32(row.values[plan.att_duration]) : 0;
			TimestampTz end = start + dur * USECS_PER_SEC;

			if (dur < 0 || !IS_VALID_TIMESTAMP(end))
			{
				ColumnOp   *op = &plan.ops[op_for_att(&plan, plan.att_duration)];

				write_reject(t->reject, batch_id, &rec, "standardized", "invalid_value",
							 psprintf("invalid duration %lld for column \"%s\": %s",
									  (long long) dur, op->target,
									  dur < 0 ? "negative" : "interval ends out of range"),
							 op);
				stats->rows_invalid++;
				continue;
			}
			row.values[plan.att_end] = TimestampTzGetDatum(end);
			row.isnull[plan.att_end] = false;
		}
		if (interval && plan.att_value >= 0 && !row.isnull[plan.att_value])
		{
			value = DatumGetFloat8(row.values[plan.att_value]);
			value_null = false;
		}

		encode_key(&plan, &row, &keybuf);
		hash = gf_key_hash(keybuf.data, (uint32) keybuf.len);
		e = gf_keytable_find(keys, keybuf.data, (uint32) keybuf.len, hash, true, &found);

		if (f->kind == GF_KIND_METER && u->sp_via_meter)
			meter_map_add(u, &plan, &row, !found);
		if (f->kind == GF_KIND_METER && plan.att_sp >= 0 && !row.isnull[plan.att_sp])
		{
			write_assignment(t->assignment, u, &plan, &row, batch_id, (int64) rec.first_line);
			stats->assignments++;
		}

		if (!found)
		{
			MinimalTuple tup;

			if ((uint32) e >= rows_cap)
			{
				rows_cap *= 2;
				rows = repalloc_huge(rows, sizeof(DedupRow) * rows_cap);
			}
			d = &rows[e];
			tup = form_row(&plan, &row, row_cxt);
			d->tuple = gf_arena_alloc(&tuples, tup->t_len);
			d->tuple_cap = tup->t_len;
			memcpy(d->tuple, tup, tup->t_len);
			d->line_no = (int64) rec.first_line;
			d->source_rows = 1;
			d->conflicting_rows = 0;
			d->first_value = value;
			d->first_value_null = value_null;
			d->value_sum = value;
			d->value_sum_any = !value_null;
		}
		else
		{
			bool		differs;

			d = &rows[e];
			if (d->source_rows < PG_INT32_MAX)
				d->source_rows++;
			if (interval)
				differs = (value_null != d->first_value_null) ||
					(!value_null && value != d->first_value);
			else
			{
				ExecStoreMinimalTuple(d->tuple, kept_slot, false);
				differs = row_differs(&plan, &row, kept_slot);
				ExecClearTuple(kept_slot);
			}
			if (differs && d->conflicting_rows < PG_INT32_MAX)
				d->conflicting_rows++;
			if (!value_null)
			{
				d->value_sum += value;
				d->value_sum_any = true;
			}
			if (interval && u->policy == GF_KEEP_LAST)
			{
				MinimalTuple tup = form_row(&plan, &row, row_cxt);

				if (tup->t_len > d->tuple_cap)
				{
					d->tuple = gf_arena_alloc(&tuples, tup->t_len);
					d->tuple_cap = tup->t_len;
				}
				memcpy(d->tuple, tup, tup->t_len);
				d->line_no = (int64) rec.first_line;
			}
		}
		MemoryContextReset(row_cxt);
	}
	MemoryContextSwitchTo(outer_cxt);
	stats->file_bytes = (int64) r->bytes_read;
	gf_reader_close(r);

	emit_rows(&plan, u, std, keys, rows, batch_id);
	stats->rows_kept = keys->nentries;
	stats->rows_duplicate = stats->records_read - stats->rows_invalid - stats->rows_kept;

	ExecDropSingleTupleTableSlot(kept_slot);
	MemoryContextDelete(row_cxt);
	MemoryContextDelete(dedup_cxt);
}
