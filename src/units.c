/*-------------------------------------------------------------------------
 *
 * units.c
 *	  Units and channels: gridflow.unit and gridflow.channel.
 *
 * A utility may write values in Wh or kWh (even row by row, with a unit
 * column), durations in minutes, or leave the interval length to the
 * channel.  gridflow.unit says what a unit is in the common units (kWh,
 * kvarh, kW, kvar, seconds); gridflow.channel what a channel implies.
 * Both are read once per build into hash tables; units are matched
 * case-insensitively, channels exactly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "conform.h"

#define GF_UNIT_MAX 64			/* longer strings are no unit */

/* Lower-case s into buf (at most GF_UNIT_MAX bytes), blanks trimmed; its length, or -1. */
static int
unit_key(const char *s, size_t len, char *buf)
{
	while (len > 0 && (s[0] == ' ' || s[0] == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len > GF_UNIT_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] + ('a' - 'A')) : s[i];
	return (int) len;
}

/* The unit table, in cxt (called inside an SPI connection). */
GfKeyTable *
gf_units_read(MemoryContext cxt)
{
	GfKeyTable *t = gf_keytable_create(cxt, 64, sizeof(GfUnitInfo));

	if (SPI_execute("SELECT unit, factor, common_unit FROM gridflow.unit ORDER BY unit",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.unit");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *unit = SPI_getvalue(tup, desc, 1);
		char	   *common = SPI_getvalue(tup, desc, 3);
		bool		isnull;
		double		factor = DatumGetFloat8(SPI_getbinval(tup, desc, 2, &isnull));
		char		key[GF_UNIT_MAX];
		int			klen = unit_key(unit, strlen(unit), key);
		GfUnitInfo *info;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (klen < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unit \"%s\" of gridflow.unit is blank or longer than %d bytes",
							unit, GF_UNIT_MAX)));
		if (isnull || !isfinite(factor) || factor <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unit \"%s\" of gridflow.unit has factor %s", unit,
							isnull ? "NULL" : SPI_getvalue(tup, desc, 2)),
					 errdetail("A factor is a finite number above zero."),
					 errhint("Correct the row of gridflow.unit.")));
		info = gf_keytable_find(t, key, (uint32) klen, gf_key_hash(key, (uint32) klen), true, &found);
		info->unit = MemoryContextStrdup(cxt, unit);
		info->factor = factor;
		info->common_unit = MemoryContextStrdup(cxt, common);
		info->common_len = (uint32) strlen(common);
		info->is_time = strcmp(common, "s") == 0;
	}
	return t;
}

/* The unit named by s (case-insensitive, blanks aside), or NULL. */
const GfUnitInfo *
gf_units_find(GfKeyTable *units, const char *s, size_t len)
{
	char		key[GF_UNIT_MAX];
	int			klen = unit_key(s, len, key);

	if (klen < 0 || units == NULL)
		return NULL;
	return gf_keytable_find(units, key, (uint32) klen, gf_key_hash(key, (uint32) klen), false, NULL);
}

/* A utility's channel rows (NULL if it has none), in cxt (inside SPI). */
GfKeyTable *
gf_channels_read(const char *utility_id, GfKeyTable *units, MemoryContext cxt)
{
	GfKeyTable *t = NULL;
	Datum		arg = CStringGetTextDatum(utility_id);
	Oid			type = TEXTOID;

	if (SPI_execute_with_args("SELECT channel, duration_seconds, unit FROM gridflow.channel "
							  "WHERE utility_id = $1 ORDER BY channel",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.channel");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *channel = SPI_getvalue(tup, desc, 1);
		char	   *unit = SPI_getvalue(tup, desc, 3);
		bool		isnull;
		Datum		d = SPI_getbinval(tup, desc, 2, &isnull);
		GfChannelInfo *info;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (t == NULL)
			t = gf_keytable_create(cxt, 64, sizeof(GfChannelInfo));
		info = gf_keytable_find(t, channel, (uint32) strlen(channel),
								gf_key_hash(channel, (uint32) strlen(channel)), true, &found);
		info->duration = isnull ? 0 : DatumGetInt32(d);
		info->unit = unit ? gf_units_find(units, unit, strlen(unit)) : NULL;
		if (info->unit != NULL && info->unit->is_time)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unit \"%s\" of channel \"%s\" of utility \"%s\" is a duration",
							unit, channel, utility_id),
					 errhint("The unit of a channel is the unit of its values, such as kWh.")));
	}
	return t;
}

/* What a channel implies, or NULL. */
const GfChannelInfo *
gf_channels_find(GfKeyTable *channels, const char *s, uint32 len)
{
	return gf_keytable_find(channels, s, len, gf_key_hash(s, len), false, NULL);
}

/*
 * Scale an integer datum by factor in place; false when the result is not
 * a whole number or does not fit.
 */
bool
gf_scale_int(Datum *v, bool is_int8, double factor)
{
	double		x = (is_int8 ? (double) DatumGetInt64(*v) : (double) DatumGetInt32(*v)) * factor;
	double		r = rint(x);

	if (fabs(x - r) > 1e-9 * Max(1.0, fabs(x)))
		return false;
	if (is_int8)
	{
		if (!FLOAT8_FITS_IN_INT64(r))
			return false;
		*v = Int64GetDatum((int64) r);
	}
	else
	{
		if (!FLOAT8_FITS_IN_INT32(r))
			return false;
		*v = Int32GetDatum((int32) r);
	}
	return true;
}
