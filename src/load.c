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
#include "executor/tuptable.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/buffile.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "adapt.h"
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
	GfZone	   *zone;			/* timestamps: local times (adapt.h) */
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

/*
 * Local day (as a PostgreSQL date) of an instant in the utility's zone.
 * The offset is cached per UTC hour when it is the same at both ends of
 * the hour.
 */
int32
gf_local_date(GfUtility *u, TimestampTz ts)
{
	int64		hour = ts >= 0 ? ts / USECS_PER_HOUR : -((-ts + USECS_PER_HOUR - 1) / USECS_PER_HOUR);
	int			slot = (int) ((uint64) hour % GF_TZ_CACHE);
	int			offset;			/* seconds west of UTC */
	int64		local;

	if (u->utccache->hour[slot] == hour)
		offset = u->utccache->offset[slot];
	else
	{
		struct pg_tm tm;
		fsec_t		fsec;
		int			start,
					end;

		if (timestamp2tm(hour * USECS_PER_HOUR, &start, &tm, &fsec, NULL, u->tz) != 0 ||
			timestamp2tm(hour * USECS_PER_HOUR + USECS_PER_HOUR - 1, &end, &tm, &fsec, NULL, u->tz) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		if (start == end)
		{
			u->utccache->hour[slot] = hour;
			u->utccache->offset[slot] = start;
			offset = start;
		}
		else if (timestamp2tm(ts, &offset, &tm, &fsec, NULL, u->tz) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
	}
	local = ts - (int64) offset * USECS_PER_SEC;
	return (int32) (local >= 0 ? local / USECS_PER_DAY : -((-local + USECS_PER_DAY - 1) / USECS_PER_DAY));
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
	p->att_source_rows = gf_attnum(desc, "source_rows", f->kind == GF_KIND_ASSIGNMENT);
	p->att_conflicting = gf_attnum(desc, "conflicting_rows", f->kind == GF_KIND_ASSIGNMENT);
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
						  csv_reason_text(rec->reason), rec->reason_offset);
	write_reject(rej, batch_id, rec, "landing", csv_reason_code(rec->reason), detail, NULL);
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
						v = gf_zone_local(op->zone, ts_wall_usec(&ts), &row->local_flags);
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

/* The key of row, in buf. */
static void
encode_key(LoadPlan *p, ParsedRow *row, StringInfo buf)
{
	resetStringInfo(buf);
	for (int i = 0; i < p->nkeys; i++)
	{
		int			att = p->keys[i];

		if (row->isnull[att])
			appendStringInfoChar(buf, '\0');
		else if (TupleDescAttr(p->desc, att)->atttypid == TEXTOID)
			gf_encode_text_key(buf, row->tptr[att], row->tlen[att]);
		else
		{
			int64		v = DatumGetInt64(row->values[att]);

			appendStringInfoChar(buf, '\1');
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
meter_map_add(GfUtility *u, LoadPlan *p, ParsedRow *row)
{
	GfMeterMap *map = u->meters;
	MemoryContext old;
	bool		found;
	GfMeterLinks *l;
	Datum		sp = (Datum) 0;
	bool		sp_null = (p->att_sp < 0 || row->isnull[p->att_sp]);

	if (map == NULL)
	{
		map = MemoryContextAllocZero(u->cxt, sizeof(GfMeterMap));
		map->cxt = u->cxt;
		map->keys = gf_keytable_create(u->cxt, 1024, sizeof(GfMeterLinks));
		u->meters = map;
	}
	l = gf_keytable_find(map->keys, row->tptr[p->att_meter], row->tlen[p->att_meter],
						 gf_key_hash(row->tptr[p->att_meter], row->tlen[p->att_meter]),
						 true, &found);
	old = MemoryContextSwitchTo(map->cxt);
	if (!sp_null)
		sp = PointerGetDatum(cstring_to_text_with_len(row->tptr[p->att_sp],
													  (int) row->tlen[p->att_sp]));
	if (!found)
	{
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

/* Pointer and length of a text datum stored in a kept tuple. */
static inline void
text_parts(Datum d, const char **p, uint32 *len)
{
	text	   *t = DatumGetTextPP(d);

	*p = VARDATA_ANY(t);
	*len = VARSIZE_ANY_EXHDR(t);
}

/*
 * Write the kept rows of the file in the order of their index; reads also
 * go to the emitter for their product row and daily summary.
 */
static uint32
emit_rows(LoadPlan *p, GfUtility *u, GfBulk *std, GfKeyTable *keys, int64 batch_id,
		  GfEmitter *em)
{
	TupleTableSlot *kept = MakeSingleTupleTableSlot(p->desc, &TTSOpsMinimalTuple);
	uint32		n = keys->nentries;
	RowOrder   *order = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(RowOrder) * Max(n, 1));
	bool		interval = (p->kind == GF_KIND_INTERVAL);
	int			key_att = (p->kind == GF_KIND_METER) ? p->att_meter : p->att_sp;

	/* where each row goes (and, for reads, its service point) */
	for (uint32 e = 0; e < n; e++)
	{
		GfDedupRow *d = gf_keytable_payload(keys, e);
		RowOrder   *o = &order[e];

		CHECK_FOR_INTERRUPTS();
		memset(o, 0, sizeof(RowOrder));
		o->entry = e;
		ExecStoreMinimalTuple(d->tuple, kept, false);
		slot_getallattrs(kept);
		if (!interval)
			text_parts(kept->tts_values[key_att], &o->k1, &o->l1);
		else
		{
			o->k1_null = kept->tts_isnull[p->att_sp];
			o->sp = kept->tts_values[p->att_sp];
			if (u->sp_via_meter)
			{
				text	   *m = DatumGetTextPP(kept->tts_values[p->att_meter]);

				o->k1_null = !meter_map_resolve(u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m),
												DatumGetTimestampTz(kept->tts_values[p->att_start]),
												&o->sp);
			}
			if (!o->k1_null)
				text_parts(o->sp, &o->k1, &o->l1);
			o->ts = DatumGetTimestampTz(kept->tts_values[p->att_start]);
			text_parts(kept->tts_values[p->att_meter], &o->k2, &o->l2);
			text_parts(kept->tts_values[gf_attnum(p->desc, "channel", false)], &o->k3, &o->l3);
		}
	}
	qsort(order, n, sizeof(RowOrder), row_order_cmp);

	for (uint32 i = 0; i < n; i++)
	{
		RowOrder   *o = &order[i];
		GfDedupRow *d = gf_keytable_payload(keys, o->entry);
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

		if (interval)
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
			slot->tts_values[p->att_sp] = o->sp;
			slot->tts_isnull[p->att_sp] = o->k1_null;
			gf_emit_read(em, slot);
		}
		gf_bulk_store(std, d->tuple->t_len);
	}
	/* the rows point into the dedup memory: write them before it goes */
	gf_bulk_flush(std);
	if (em)
		gf_emit_flush(em);
	ExecDropSingleTupleTableSlot(kept);
	pfree(order);
	return n;
}

/*
 * Bounded memory for reads.  The dedup of a read file keeps every distinct
 * key in memory while that fits gridflow.build_memory.  When it no longer
 * does, the kept entries and every later record are written to temporary
 * files partitioned by a hash of the read's service point, and each
 * partition is then de-duplicated and written on its own (recursively
 * partitioned if it is still too big).  A service point's reads all land
 * in one partition, so its daily summaries stay complete; records of a key
 * keep their file order, so keep_first, keep_last and sum give the same
 * rows as in memory.
 */

/* what one record (or an entry moved to a partition) brings to its key */
typedef struct DedupIn
{
	int64		line_no;
	int32		source_rows;
	int32		conflicting_rows;
	bool		first_value_null;
	bool		value_sum_any;
	double		first_value;
	double		value_sum;
} DedupIn;

/* record header in a partition file, followed by the minimal tuple */
typedef struct SpillHeader
{
	uint32		tuple_len;
	DedupIn		in;
} SpillHeader;

typedef struct Spill
{
	int			nparts;
	uint64		seed;
	BufFile   **files;
} Spill;

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
		d->line_no = in->line_no;
		d->source_rows = in->source_rows;
		d->conflicting_rows = in->conflicting_rows;
		d->first_value = in->first_value;
		d->first_value_null = in->first_value_null;
		d->value_sum = in->value_sum;
		d->value_sum_any = in->value_sum_any;
		return true;
	}
	/* an entry moved to a partition always comes before its key's later records */
	if (in->source_rows != 1)
		elog(ERROR, "gridflow: partitioned records out of order");
	if (d->source_rows < PG_INT32_MAX)
		d->source_rows++;
	differs = (in->first_value_null != d->first_value_null) ||
		(!in->first_value_null && in->first_value != d->first_value);
	if (differs && d->conflicting_rows < PG_INT32_MAX)
		d->conflicting_rows++;
	if (in->value_sum_any)
	{
		d->value_sum += in->value_sum;
		d->value_sum_any = true;
	}
	if (policy == GF_KEEP_LAST)
	{
		d->line_no = in->line_no;
		return true;
	}
	return false;
}

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

/* Memory the dedup of a file uses, with what writing its rows will need. */
static Size
dedup_memory(GfKeyTable *keys, GfArena *tuples)
{
	return keys->arena.allocated + tuples->allocated +
		(Size) keys->nbuckets * sizeof(GfKeyBucket) +
		(Size) keys->capacity * sizeof(char *) +
		(Size) keys->nentries * sizeof(RowOrder);
}

static Size
build_memory_budget(void)
{
	return (Size) gf_build_memory_kb * 1024;
}

static Spill *
spill_create(int nparts, uint64 seed)
{
	Spill	   *s = palloc(sizeof(Spill));

	s->nparts = nparts;
	s->seed = seed;
	s->files = palloc(sizeof(BufFile *) * nparts);
	for (int i = 0; i < nparts; i++)
		s->files[i] = BufFileCreateTemp(false);
	return s;
}

/* Partition of a read: hash of its service point (NULL: partition 0). */
static int
spill_part(Spill *s, const char *sp, uint32 len, bool sp_null)
{
	if (sp_null)
		return 0;
	return (int) (hash_bytes_extended((const unsigned char *) sp, (int) len, s->seed) %
				  (uint64) s->nparts);
}

/* Partition of a kept tuple (its service point, resolved through the meter). */
static int
spill_part_tuple(Spill *s, LoadPlan *p, GfUtility *u, TupleTableSlot *slot)
{
	Datum		sp = slot->tts_values[p->att_sp];
	bool		sp_null = slot->tts_isnull[p->att_sp];
	text	   *t;

	if (u->sp_via_meter)
	{
		text	   *m = DatumGetTextPP(slot->tts_values[p->att_meter]);

		sp_null = !meter_map_resolve(u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m),
									 DatumGetTimestampTz(slot->tts_values[p->att_start]), &sp);
	}
	if (sp_null)
		return 0;
	t = DatumGetTextPP(sp);
	return spill_part(s, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), false);
}

static void
spill_write(Spill *s, int part, const DedupIn *in, MinimalTuple tup)
{
	SpillHeader h;

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
		in.line_no = d->line_no;
		in.source_rows = d->source_rows;
		in.conflicting_rows = d->conflicting_rows;
		in.first_value_null = d->first_value_null;
		in.value_sum_any = d->value_sum_any;
		in.first_value = d->first_value;
		in.value_sum = d->value_sum;
		ExecStoreMinimalTuple(d->tuple, slot, false);
		slot_getallattrs(slot);
		spill_write(s, spill_part_tuple(s, p, u, slot), &in, d->tuple);
		ExecClearTuple(slot);
	}
}

/* Partitions for a file whose keys outgrow memory after a fraction of it. */
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
process_partition(LoadPlan *p, GfUtility *u, GfBulk *std, BufFile *f, int depth,
				  int64 batch_id, GfEmitter *em)
{
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
		if (dedup_apply(d, found, &in, u->policy))
			dedup_store_tuple(d, tup, &tuples);
		ExecClearTuple(slot);

		if (++records % 1024 == 0 && depth < SPILL_MAX_DEPTH &&
			dedup_memory(keys, &tuples) > build_memory_budget())
		{
			sub = spill_create(4, (uint64) depth + 1);
			spill_entries(sub, p, u, keys, slot);
			keys = NULL;
		}
	}
	MemoryContextSwitchTo(old);
	if (sub != NULL)
	{
		for (int i = 0; i < sub->nparts; i++)
		{
			kept += process_partition(p, u, std, sub->files[i], depth + 1, batch_id, em);
			BufFileClose(sub->files[i]);
		}
	}
	else
		kept = emit_rows(p, u, std, keys, batch_id, em);
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(cxt);
	return kept;
}

/*
 * Load file f of utility u as batch batch_id: landing, rejects and the
 * standardized rows of its kind (and, for reads, product and experience).
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
	GfKeyTable *keys;
	GfArena		tuples;
	ParsedRow	row;
	StringInfoData keybuf;
	TupleTableSlot *kept_slot;
	GfChunkWriter chunks;
	CsvRecord	rec;
	CsvStatus	st = CSV_RECORD;
	bool		interval = (f->kind == GF_KIND_INTERVAL);
	TimestampTz t0 = GetCurrentTimestamp();
	Spill	   *spill = NULL;
	GfEmitter  *em = NULL;
	DedupIn		in;
	int			since_check = 0;
	GfAdapt    *adapt;
	GfWide	   *wide;
	bool		meter_links;

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
	/* what the configuration asks beyond mapping columns (adapt.c); often nothing */
	adapt = gf_adapt_begin(u, f, r, plan.desc);
	wide = gf_adapt_wide(adapt);
	meter_links = (f->kind == GF_KIND_METER && u->sp_via_meter && op_for_att(&plan, plan.att_sp) >= 0);

	/*
	 * Reads are dropped with the file; service points and meters stay while
	 * the utility is built, for the product rows of its reads.
	 */
	dedup_cxt = AllocSetContextCreate(interval ? CurrentMemoryContext : u->cxt,
									  "gridflow dedup", ALLOCSET_DEFAULT_SIZES);
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow row",
									ALLOCSET_DEFAULT_SIZES);
	keys = gf_keytable_create(dedup_cxt, 4096, sizeof(GfDedupRow));
	gf_arena_init(&tuples, dedup_cxt);
	row.values = palloc0(sizeof(Datum) * plan.natts);
	row.isnull = palloc0(sizeof(bool) * plan.natts);
	row.tptr = palloc0(sizeof(char *) * plan.natts);
	row.tlen = palloc0(sizeof(uint32) * plan.natts);
	initStringInfo(&keybuf);
	kept_slot = MakeSingleTupleTableSlot(plan.desc, &TTSOpsMinimalTuple);
	gf_chunk_begin(&chunks, t->landing, batch_id);

	while ((wide != NULL && gf_wide_pending(wide)) || (st = gf_reader_next(r, &rec)) != CSV_EOF)
	{
		ColumnOp   *bad;
		ParseResult result = PARSE_OK;
		bool		found;
		GfDedupRow *d;
		double		value = 0;
		bool		value_null = true;

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
		/* units, channels, local times, wide layouts (adapt.c) */
		if (adapt != NULL || row.local_flags != 0)
		{
			GfAdaptReject rj;

			if (!gf_adapt_record(adapt, &rec, row.values, row.isnull, row.tptr, row.tlen,
								 row.local_flags, stats, &rj))
			{
				ColumnOp	op = {.source = rj.source, .target = rj.target};

				write_reject(t->reject, batch_id, &rec, "standardized", rj.reason, rj.detail,
							 (rj.source && rj.target) ? &op : NULL);
				stats->rows_invalid++;
				continue;
			}
		}
next_read:
		if (wide != NULL && !gf_wide_take(wide, row.values, row.isnull))
			continue;
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

		if (meter_links)
			meter_map_add(u, &plan, &row);
		if (f->kind == GF_KIND_METER && plan.att_sp >= 0 && !row.isnull[plan.att_sp])
		{
			write_assignment(t->assignment, u, &plan, &row, batch_id, (int64) rec.first_line);
			stats->assignments++;
		}
		/* an assignment file: every row is kept, in file order */
		if (f->kind == GF_KIND_ASSIGNMENT)
		{
			if (u->sp_via_meter)
				meter_map_add(u, &plan, &row);
			write_assignment(t->assignment, u, &plan, &row, batch_id, (int64) rec.first_line);
			stats->assignments++;
			continue;
		}

		in.line_no = (int64) rec.first_line;
		in.source_rows = 1;
		in.conflicting_rows = 0;
		in.first_value = in.value_sum = value;
		in.first_value_null = value_null;
		in.value_sum_any = !value_null;

		if (spill != NULL)
		{
			/* partitioned: the record goes to its service point's file */
			MinimalTuple tup = form_row(&plan, &row, row_cxt);
			const char *sp = NULL;
			uint32		splen = 0;
			bool		sp_null = true;
			Datum		spd;

			if (u->sp_via_meter)
			{
				if (meter_map_resolve(u, row.tptr[plan.att_meter], row.tlen[plan.att_meter],
									  DatumGetTimestampTz(row.values[plan.att_start]), &spd))
				{
					text	   *st = DatumGetTextPP(spd);

					sp = VARDATA_ANY(st);
					splen = VARSIZE_ANY_EXHDR(st);
					sp_null = false;
				}
			}
			else if (!row.isnull[plan.att_sp])
			{
				sp = row.tptr[plan.att_sp];
				splen = row.tlen[plan.att_sp];
				sp_null = false;
			}
			spill_write(spill, spill_part(spill, sp, splen, sp_null), &in, tup);
			MemoryContextReset(row_cxt);
			continue;
		}

		encode_key(&plan, &row, &keybuf);
		d = gf_keytable_find(keys, keybuf.data, (uint32) keybuf.len,
							 gf_key_hash(keybuf.data, (uint32) keybuf.len), true, &found);
		if (!found || !interval)
		{
			if (found)
			{
				/* service points and meters: compare the whole row with the kept one */
				if (d->source_rows < PG_INT32_MAX)
					d->source_rows++;
				ExecStoreMinimalTuple(d->tuple, kept_slot, false);
				if (row_differs(&plan, &row, kept_slot) && d->conflicting_rows < PG_INT32_MAX)
					d->conflicting_rows++;
				ExecClearTuple(kept_slot);
			}
			else
			{
				(void) dedup_apply(d, false, &in, u->policy);
				dedup_store_tuple(d, form_row(&plan, &row, row_cxt), &tuples);
				MemoryContextReset(row_cxt);
			}
		}
		else if (dedup_apply(d, true, &in, u->policy))
		{
			dedup_store_tuple(d, form_row(&plan, &row, row_cxt), &tuples);
			MemoryContextReset(row_cxt);
		}

		/* reads whose keys outgrow memory go to partition files */
		if (interval && ++since_check >= 1024)
		{
			Size		used = dedup_memory(keys, &tuples);

			since_check = 0;
			if (used > build_memory_budget())
			{
				double		fraction = r->size_at_open > 0 ?
					(double) r->bytes_read / (double) r->size_at_open : 1.0;

				spill = spill_create(spill_partitions(used, fraction), 0);
				spill_entries(spill, &plan, u, keys, kept_slot);
				MemoryContextReset(dedup_cxt);
				keys = NULL;
				stats->spilled_partitions = spill->nparts;
			}
		}
	}
	stats->file_bytes = (int64) r->bytes_read;
	gf_reader_close(r);
	gf_chunk_end(&chunks);
	stats->read_ms = (double) (GetCurrentTimestamp() - t0) / 1000.0;

	t0 = GetCurrentTimestamp();
	if (interval)
		em = gf_emit_begin(t, u, plan.desc);
	if (spill != NULL)
	{
		for (int i = 0; i < spill->nparts; i++)
		{
			stats->rows_kept += process_partition(&plan, u, std, spill->files[i], 1, batch_id, em);
			BufFileClose(spill->files[i]);
		}
	}
	else
		stats->rows_kept = emit_rows(&plan, u, std, keys, batch_id, em);
	if (em != NULL)
		gf_emit_end(em);
	stats->write_ms = (double) (GetCurrentTimestamp() - t0) / 1000.0;
	stats->rows_duplicate = stats->records_read - stats->rows_invalid - stats->rows_kept;
	if (f->kind == GF_KIND_ASSIGNMENT)
	{
		stats->rows_kept = stats->assignments;
		stats->rows_duplicate = 0;
	}
	if (wide != NULL)
		gf_wide_stats(wide, stats);

	ExecDropSingleTupleTableSlot(kept_slot);
	MemoryContextDelete(row_cxt);
	if (interval)
		MemoryContextDelete(dedup_cxt);
	else if (f->kind != GF_KIND_ASSIGNMENT)
	{
		GfKept	   *k = MemoryContextAlloc(u->cxt, sizeof(GfKept));

		k->keys = keys;
		k->desc = plan.desc;
		if (f->kind == GF_KIND_SERVICE_POINT)
			u->kept_service_points = k;
		else
			u->kept_meters = k;
	}
}
