/*-------------------------------------------------------------------------
 *
 * conform.c
 *	  What a utility's configuration asks of each record beyond mapping
 *	  columns: local times across daylight-saving changes, units, what
 *	  channels imply, and wide layouts.
 *
 * The build reads the configuration (gridflow.utility.ambiguous_local_time,
 * gridflow.unit, gridflow.channel, the layout columns of
 * gridflow.source_file, column_map.time_zone and unit) once.  For each file
 * the loader asks for a plan; it is NULL when the file needs nothing of
 * this, and then the loader only counts the local times its parser flags.
 * Otherwise, for each parsed record, gf_conform_record():
 *
 *	- counts local times in a repeated or skipped hour, rejects the record
 *	  for a repeated time under ambiguous_local_time = reject, and under
 *	  in_order takes the later instant for the second record of a series
 *	  (meter, service point, channel) at the same repeated time;
 *	- converts columns with a unit into the common unit (minutes to seconds),
 *	  and the value by its unit: the record's unit column, else the value's
 *	  column_map.unit, else its channel's unit; the read's unit column then
 *	  names the common unit;
 *	- gives a read without duration the one its channel implies;
 *	- for a wide layout, unpivots the record into its reads (wide.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "conform.h"

/* a mapped numeric column converted from its unit */
typedef struct ScaledColumn
{
	int			att;
	int			src;			/* field in the file */
	Oid			type;
	const GfUnitInfo *unit;
	const char *source;
	const char *target;
} ScaledColumn;

struct GfConform
{
	GfUtilityConform *ua;
	List	   *zones;			/* the file's timestamp columns */
	/* in order: repeated interval starts seen, by series and earlier instant */
	GfKeyTable *repeated;
	MemoryContext cxt;
	int			att_sp;
	int			att_meter;
	int			att_channel;
	int			att_start;
	int			att_duration;
	int			att_value;
	int			att_unit;
	/* units */
	int			nscaled;
	ScaledColumn *scaled;
	bool		unit_mapped;	/* the read's unit comes from a column */
	const char *unit_source;
	const GfUnitInfo *value_unit;	/* column_map.unit of value */
	GfKeyTable *channels;		/* interval files of a utility with channels */
	GfWide	   *wide;
	StringInfoData key;
};

static GfAmbiguity
ambiguity_from_name(const char *s)
{
	if (strcmp(s, "earlier") == 0)
		return GF_AMBIGUOUS_EARLIER;
	if (strcmp(s, "in_order") == 0)
		return GF_AMBIGUOUS_IN_ORDER;
	if (strcmp(s, "reject") == 0)
		return GF_AMBIGUOUS_REJECT;
	return GF_AMBIGUOUS_LATER;
}

static GfWideDst
wide_dst_from_name(const char *s)
{
	if (strcmp(s, "wall_clock_split") == 0)
		return GF_WIDE_WALL_SPLIT;
	if (strcmp(s, "wall_clock_earlier") == 0)
		return GF_WIDE_WALL_EARLIER;
	if (strcmp(s, "wall_clock_later") == 0)
		return GF_WIDE_WALL_LATER;
	return GF_WIDE_ELAPSED;
}

/*
 * The configuration of utility u beyond gridflow.utility's policies, into
 * cxt.  Called by the build inside its SPI connection.  Configuration is
 * read as a writing query reads (read_only false): with a snapshot that
 * sees what this transaction wrote, such as the coordinator's configuration
 * a shard has just applied (shard.c), not the snapshot of the statement
 * that called the build.
 */
void
gf_conform_read_utility(GfUtility *u, MemoryContext cxt)
{
	GfUtilityConform *ua = MemoryContextAllocZero(cxt, sizeof(GfUtilityConform));
	Datum		arg = CStringGetTextDatum(u->utility_id);
	Oid			type = TEXTOID;

	if (SPI_execute_with_args("SELECT ambiguous_local_time FROM gridflow.utility WHERE utility_id = $1",
							  1, &type, &arg, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "gridflow: could not read gridflow.utility");
	ua->ambiguity = ambiguity_from_name(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	ua->units = gf_units_read(cxt);
	ua->channels = gf_channels_read(u->utility_id, ua->units, cxt);
	u->conform = ua;
}

/*
 * The layout of file f and the time zones and units of its columns, into
 * cxt (inside the build's SPI connection).
 */
void
gf_conform_read_file(GfUtility *u, GfSourceFile *f, MemoryContext cxt)
{
	GfFileConform *fa = MemoryContextAllocZero(cxt, sizeof(GfFileConform));
	Datum		args[2];
	Oid			types[2] = {TEXTOID, TEXTOID};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;

	if (f->kind == GF_KIND_ASSIGNMENT)
		u->conform->has_assignment_file = true;
	args[0] = CStringGetTextDatum(u->utility_id);
	args[1] = CStringGetTextDatum(gf_kind_name(f->kind));
	if (SPI_execute_with_args("SELECT layout, wide_columns, wide_interval_seconds, wide_dst "
							  "FROM gridflow.source_file WHERE utility_id = $1 AND file_kind = $2",
							  2, types, args, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "gridflow: could not read gridflow.source_file");
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	fa->wide = strcmp(SPI_getvalue(tup, desc, 1), "wide") == 0;
	if (fa->wide)
	{
		Datum	   *elems;
		bool	   *enulls;
		int			n;

		d = SPI_getbinval(tup, desc, 2, &isnull);
		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &enulls, &n);
		fa->wide_columns = MemoryContextAlloc(cxt, sizeof(char *) * Max(n, 1));
		for (int i = 0; i < n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (enulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("wide_columns of the interval file of utility \"%s\" has a NULL element",
								u->utility_id)));
			fa->wide_columns[fa->nwide++] = MemoryContextStrdup(cxt, TextDatumGetCString(elems[i]));
		}
		fa->wide_seconds = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		fa->wide_dst = wide_dst_from_name(SPI_getvalue(tup, desc, 4));
	}

	if (SPI_execute_with_args("SELECT target_column::text, time_zone, unit FROM gridflow.column_map "
							  "WHERE utility_id = $1 AND file_kind = $2 "
							  "AND (time_zone IS NOT NULL OR unit IS NOT NULL) ORDER BY target_column",
							  2, types, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.column_map");
	fa->cols = MemoryContextAllocZero(cxt, sizeof(GfColumnConform) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		GfColumnConform *c = &fa->cols[fa->ncols++];
		char	   *tz = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		char	   *unit = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);

		CHECK_FOR_INTERRUPTS();
		c->target = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		if (tz != NULL)
		{
			if (pg_tzset(tz) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("time zone \"%s\" of %s column \"%s\" of utility \"%s\" is not recognized",
								tz, gf_kind_name(f->kind), c->target, u->utility_id),
						 errhint("Set gridflow.column_map.time_zone to a name from pg_timezone_names, or to NULL for the utility's time zone.")));
			c->time_zone = MemoryContextStrdup(cxt, tz);
		}
		if (unit != NULL)
			c->unit = gf_units_find(u->conform->units, unit, strlen(unit));
	}
	f->conform = fa;
}

static GfColumnConform *
column_conform(GfFileConform *fa, const char *target)
{
	for (int i = 0; i < fa->ncols; i++)
		if (strcmp(fa->cols[i].target, target) == 0)
			return &fa->cols[i];
	return NULL;
}

/* A new plan of file f begins: forget the zones of an earlier one. */
void
gf_conform_plan_start(GfSourceFile *f)
{
	if (f->conform != NULL)
		f->conform->zones = NIL;
}

/*
 * The local times of timestamp column m of file f: in the column's own
 * time zone or the utility's, with the utility's rule for repeated times
 * (in_order only for the start of a long layout's reads; other columns
 * take the later instant).
 */
GfZone *
gf_conform_zone(GfUtility *u, GfSourceFile *f, const GfColumnMap *m, bool start)
{
	GfFileConform *fa = f->conform;
	GfColumnConform *c = column_conform(fa, m->target);
	GfZone	   *z = palloc(sizeof(GfZone));
	GfAmbiguity policy = u->conform->ambiguity;
	int			n = list_length(fa->zones);

	if (policy == GF_AMBIGUOUS_IN_ORDER && !(start && !fa->wide))
		policy = GF_AMBIGUOUS_LATER;
	gf_zone_init(z, (c && c->time_zone) ? pg_tzset(c->time_zone) : u->tz, policy,
				 n < 31 - GF_LOCAL_COLUMN_SHIFT ? 1 << (GF_LOCAL_COLUMN_SHIFT + n) : 0);
	z->source = m->source;
	z->target = m->target;
	fa->zones = lappend(fa->zones, z);
	return z;
}

static bool
is_mapped(GfSourceFile *f, const char *target)
{
	for (int i = 0; i < f->nmaps; i++)
		if (strcmp(f->maps[i].target, target) == 0)
			return true;
	return false;
}

static const char *
source_of(GfSourceFile *f, const char *target)
{
	for (int i = 0; i < f->nmaps; i++)
		if (strcmp(f->maps[i].target, target) == 0)
			return f->maps[i].source;
	return NULL;
}

/*
 * The plan of file f (its header read by r, standardized into a table of
 * descriptor desc), or NULL when its records need nothing from here.
 */
GfConform *
gf_conform_begin(GfUtility *u, GfSourceFile *f, GfReader *r, TupleDesc desc)
{
	GfFileConform *fa = f->conform;
	GfUtilityConform *ua = u->conform;
	GfConform    *a;
	bool		interval = (f->kind == GF_KIND_INTERVAL);
	List	   *zones = fa->zones;	/* made by the load's plan (gf_conform_zone) */

	if (f->kind == GF_KIND_METER && u->sp_via_meter && is_mapped(f, "service_point_id") &&
		ua->has_assignment_file)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("utility \"%s\" has an assignment file, but its meter file maps service_point_id",
						u->utility_id),
				 errdetail("Meters reach their service points through one file."),
				 errhint("Remove the service_point_id mapping of the meter file, or the assignment file.")));
	if (fa->wide && (is_mapped(f, "value") || is_mapped(f, "duration_seconds")))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the wide interval file of utility \"%s\" maps value or duration_seconds",
						u->utility_id),
				 errdetail("A wide layout gives its values in wide_columns and their length in wide_interval_seconds."),
				 errhint("Remove those column_map rows.")));

	a = palloc0(sizeof(GfConform));
	a->ua = ua;
	a->zones = zones;
	a->att_sp = gf_attnum(desc, "service_point_id", true);
	a->att_meter = gf_attnum(desc, "meter_id", true);
	a->att_channel = gf_attnum(desc, "channel", true);
	a->att_start = gf_attnum(desc, "interval_start_ts", true);
	a->att_duration = gf_attnum(desc, "duration_seconds", true);
	a->att_value = gf_attnum(desc, "value", true);
	a->att_unit = interval ? gf_attnum(desc, "unit", true) : -1;

	/* columns with a unit */
	a->scaled = palloc0(sizeof(ScaledColumn) * Max(fa->ncols, 1));
	for (int i = 0; i < fa->ncols; i++)
	{
		GfColumnConform *c = &fa->cols[i];
		int			att = gf_attnum(desc, c->target, true);
		Oid			type;
		ScaledColumn *s;

		if (c->unit == NULL || att < 0 || !is_mapped(f, c->target))
			continue;
		type = TupleDescAttr(desc, att)->atttypid;
		if (type != INT4OID && type != INT8OID && type != FLOAT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unit given for %s column \"%s\" of utility \"%s\", which is not a number",
							gf_kind_name(f->kind), c->target, u->utility_id)));
		if ((att == a->att_duration) != c->unit->is_time)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unit \"%s\" does not fit %s column \"%s\" of utility \"%s\"",
							c->unit->unit, gf_kind_name(f->kind), c->target, u->utility_id),
					 errhint("duration_seconds takes a unit of time (s, min, h); other columns a unit of their values.")));
		if (interval && att == a->att_value)
		{
			a->value_unit = c->unit;
			continue;
		}
		s = &a->scaled[a->nscaled++];
		s->att = att;
		s->type = type;
		s->unit = c->unit;
		s->target = c->target;
		s->source = source_of(f, c->target);
		s->src = gf_reader_column(r, s->source);
	}
	if (a->att_unit >= 0 && is_mapped(f, "unit"))
	{
		a->unit_mapped = true;
		a->unit_source = source_of(f, "unit");
	}
	if (interval)
		a->channels = ua->channels;
	if (fa->wide)
		a->wide = gf_wide_begin(u, f, r, desc);

	if (a->wide == NULL && a->nscaled == 0 && !a->unit_mapped && a->value_unit == NULL &&
		a->channels == NULL && ua->ambiguity != GF_AMBIGUOUS_REJECT &&
		!(ua->ambiguity == GF_AMBIGUOUS_IN_ORDER && interval))
	{
		pfree(a->scaled);
		pfree(a);
		return NULL;
	}
	a->cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow conform", ALLOCSET_SMALL_SIZES);
	initStringInfo(&a->key);
	return a;
}

/* The wide layout of the plan, or NULL. */
GfWide *
gf_conform_wide(GfConform *a)
{
	return a ? a->wide : NULL;
}

/* Append a text column of the row to the key (NULL as a zero byte). */
static void
key_text(StringInfo key, bool isnull, const char *p, uint32 len)
{
	if (isnull)
		appendStringInfoChar(key, '\0');
	else
		gf_encode_text_key(key, p, len);
}

/*
 * In order: the first record of a series at a repeated time keeps the
 * earlier instant, a later one takes the later instant.
 */
static void
resolve_in_order(GfConform *a, Datum *values, bool *isnull, const char **tptr, uint32 *tlen)
{
	TimestampTz earlier = DatumGetTimestampTz(values[a->att_start]);
	GfZone	   *z = NULL;
	ListCell   *lc;
	bool		found;
	int32	   *seen;

	foreach(lc, a->zones)
		if (((GfZone *) lfirst(lc))->policy == GF_AMBIGUOUS_IN_ORDER)
			z = lfirst(lc);
	if (z == NULL)
		return;
	if (a->repeated == NULL)
		a->repeated = gf_keytable_create(a->cxt, 64, sizeof(int32));
	resetStringInfo(&a->key);
	key_text(&a->key, a->att_sp < 0 || isnull[a->att_sp],
			 a->att_sp >= 0 ? tptr[a->att_sp] : NULL, a->att_sp >= 0 ? tlen[a->att_sp] : 0);
	key_text(&a->key, isnull[a->att_meter], tptr[a->att_meter], tlen[a->att_meter]);
	key_text(&a->key, isnull[a->att_channel], tptr[a->att_channel], tlen[a->att_channel]);
	appendBinaryStringInfo(&a->key, (char *) &earlier, sizeof(earlier));
	seen = gf_keytable_find(a->repeated, a->key.data, (uint32) a->key.len,
							gf_key_hash(a->key.data, (uint32) a->key.len), true, &found);
	if (found)
		values[a->att_start] = TimestampTzGetDatum(z->later);
	(*seen)++;
}

static bool
reject(GfConformReject *rj, const char *reason, char *detail, const char *source, const char *target)
{
	rj->reason = reason;
	rj->detail = detail;
	rj->source = source;
	rj->target = target;
	return false;
}

/*
 * The step of one parsed record (values, isnull and, for text columns,
 * tptr/tlen as the loader parsed them; local_flags from its timestamp
 * columns).  a may be NULL: then only the local times are counted.  false
 * rejects the record, with *rj saying why.
 */
bool
gf_conform_record(GfConform *a, const CsvRecord *rec, Datum *values, bool *isnull,
				  const char **tptr, uint32 *tlen, int local_flags,
				  GfLoadStats *stats, GfConformReject *rj)
{
	const GfChannelInfo *ch = NULL;
	const GfUnitInfo *unit = NULL;
	double		factor = 1.0;

	if (local_flags & GF_LOCAL_AMBIGUOUS)
		stats->local_ambiguous++;
	if (local_flags & GF_LOCAL_NONEXISTENT)
		stats->local_nonexistent++;
	if (a == NULL)
		return true;
	if ((local_flags & GF_LOCAL_AMBIGUOUS) && a->ua->ambiguity == GF_AMBIGUOUS_REJECT)
	{
		ListCell   *lc;

		foreach(lc, a->zones)
		{
			GfZone	   *z = lfirst(lc);

			if (z->mark != 0 && (local_flags & z->mark))
				return reject(rj, "ambiguous_local_time",
							  psprintf("the local time in column \"%s\" happens twice in %s (the hour repeated when daylight saving time ends), and the utility's ambiguous_local_time is reject",
									   z->source, pg_get_timezone_name(z->tz)),
							  z->source, z->target);
		}
		return reject(rj, "ambiguous_local_time",
					  pstrdup("a local time happens twice (the hour repeated when daylight saving time ends), and the utility's ambiguous_local_time is reject"),
					  NULL, NULL);
	}
	/* columns in another unit */
	for (int i = 0; i < a->nscaled; i++)
	{
		ScaledColumn *s = &a->scaled[i];

		if (isnull[s->att])
			continue;
		if (s->type == FLOAT8OID)
		{
			double		x = DatumGetFloat8(values[s->att]) * s->unit->factor;

			if (!isfinite(x))
				return reject(rj, "invalid_value",
							  psprintf("value \"%s\" for column \"%s\" is out of range in %s",
									   gf_reject_text(rec->fields[s->src].data, rec->fields[s->src].len, 200),
									   s->target, s->unit->common_unit),
							  s->source, s->target);
			values[s->att] = Float8GetDatum(x);
		}
		else if (!gf_scale_int(&values[s->att], s->type == INT8OID, s->unit->factor))
			return reject(rj, "invalid_value",
						  psprintf("invalid integer \"%s\" for column \"%s\": in %s it is not a whole number of %s",
								   gf_reject_text(rec->fields[s->src].data, rec->fields[s->src].len, 200),
								   s->target, s->unit->unit, s->unit->common_unit),
						  s->source, s->target);
	}

	/* what the channel implies */
	if (a->channels != NULL && a->att_channel >= 0 && !isnull[a->att_channel])
		ch = gf_channels_find(a->channels, tptr[a->att_channel], tlen[a->att_channel]);
	if (ch != NULL && ch->duration > 0 && a->wide == NULL && a->att_duration >= 0 &&
		isnull[a->att_duration])
	{
		values[a->att_duration] = Int32GetDatum(ch->duration);
		isnull[a->att_duration] = false;
	}

	/* the unit of the value: the record's, the column's, the channel's */
	if (a->unit_mapped && !isnull[a->att_unit])
	{
		unit = gf_units_find(a->ua->units, tptr[a->att_unit], tlen[a->att_unit]);
		if (unit == NULL || unit->is_time)
			return reject(rj, "unknown_unit",
						  psprintf("%s \"%s\" for column \"unit\"%s",
								   unit ? "unit" : "unknown unit",
								   gf_reject_text(tptr[a->att_unit], tlen[a->att_unit], 200),
								   unit ? " is a duration, not a unit of values" :
								   " (gridflow.unit lists the units gridflow knows)"),
						  a->unit_source, "unit");
	}
	if (unit == NULL)
		unit = a->value_unit;
	if (unit == NULL && ch != NULL)
		unit = ch->unit;
	if (unit != NULL && a->att_unit >= 0)
	{
		factor = unit->factor;
		tptr[a->att_unit] = unit->common_unit;
		tlen[a->att_unit] = unit->common_len;
		isnull[a->att_unit] = false;
		if (a->wide == NULL && a->att_value >= 0 && !isnull[a->att_value] && factor != 1.0)
		{
			double		x = DatumGetFloat8(values[a->att_value]) * factor;

			if (!isfinite(x))
				return reject(rj, "invalid_value",
							  psprintf("value %g in %s is out of range in %s",
									   DatumGetFloat8(values[a->att_value]), unit->unit, unit->common_unit),
							  NULL, "value");
			values[a->att_value] = Float8GetDatum(x);
		}
	}

	/* a repeated start, once the record is known to be kept */
	if (local_flags & GF_LOCAL_IN_ORDER)
		resolve_in_order(a, values, isnull, tptr, tlen);

	if (a->wide != NULL)
		return gf_wide_record(a->wide, rec, DatumGetTimestampTz(values[a->att_start]),
							  factor, stats, rj);
	return true;
}

/* Record the file's figures on local times and unpivoted reads in its batch. */
void
gf_conform_record_batch(int64 batch_id, const GfLoadStats *stats)
{
	Datum		args[4];
	Oid			types[4] = {INT8OID, INT8OID, INT8OID, INT8OID};
	char		nulls[4] = {' ', ' ', ' ', ' '};

	if (stats->local_ambiguous == 0 && stats->local_nonexistent == 0 && !stats->unpivoted)
		return;
	args[0] = Int64GetDatum(batch_id);
	args[1] = Int64GetDatum(stats->local_ambiguous);
	args[2] = Int64GetDatum(stats->local_nonexistent);
	args[3] = Int64GetDatum(stats->unpivoted_reads);
	if (!stats->unpivoted)
		nulls[3] = 'n';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("UPDATE gridflow.batch SET ambiguous_local_times = $2, "
							  "nonexistent_local_times = $3, unpivoted_reads = $4 WHERE batch_id = $1",
							  4, types, args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "gridflow: could not record batch figures");
	SPI_finish();
}
