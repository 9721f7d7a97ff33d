/*-------------------------------------------------------------------------
 *
 * localtime.c
 *	  Local wall-clock times across daylight-saving changes.
 *
 * A time written without offset is a wall-clock time of a zone (the
 * utility's, or the column's own).  Most wall times are one instant.  When
 * daylight saving time ends, an hour of wall times happens twice (in
 * America/New_York, 01:00 to 01:59 on the first Sunday of November, first
 * at -04:00 and then at -05:00); when it starts, an hour never happens
 * (02:00 to 02:59 on the second Sunday of March).  PostgreSQL reads a
 * repeated time as the later instant and a skipped one with the offset in
 * force before the change; gridflow does the same unless the utility's
 * ambiguous_local_time says otherwise, and flags both so that DQ can count
 * them.  The classification follows PostgreSQL's own
 * DetermineTimeZoneOffset().
 *
 * Each column keeps a small cache of the normal wall hours it has seen, so
 * that the common case costs one look-up.  A utility's local midnights and
 * days (gf_local_to_timestamptz(), gf_local_date(): partitions, days,
 * wide layouts) read its zone as PostgreSQL does, with caches of their own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pgtime.h"
#include "utils/datetime.h"

#include "localtime.h"
#include "parse.h"

/*
 * UTC offset (seconds west, as PostgreSQL counts) of a wall time (seconds
 * since 1970-01-01 00:00, as if UTC): PostgreSQL's own reading,
 * DetermineTimeZoneOffset().
 */
static int
wall_offset(pg_tz *tz, int64 wall_sec)
{
	struct pg_tm tm;
	int64		days = wall_sec >= 0 ? wall_sec / SECS_PER_DAY :
		-((-wall_sec + SECS_PER_DAY - 1) / SECS_PER_DAY);
	int64		rem = wall_sec - days * SECS_PER_DAY;

	memset(&tm, 0, sizeof(tm));
	gf_civil_from_days(days, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_hour = (int) (rem / SECS_PER_HOUR);
	tm.tm_min = (int) (rem / SECS_PER_MINUTE % 60);
	tm.tm_sec = (int) (rem % 60);
	tm.tm_isdst = -1;
	return DetermineTimeZoneOffset(&tm, tz);
}

/* Set up the local times of a column. */
void
gf_zone_init(GfZone *z, pg_tz *tz, GfAmbiguity policy, int mark)
{
	for (int i = 0; i < GF_ZONE_CACHE; i++)
		z->hour[i] = PG_INT64_MIN;
	z->tz = tz;
	z->policy = policy;
	z->mark = mark;
	z->later = 0;
	z->source = z->target = NULL;
}

/*
 * What a wall time (seconds since 1970-01-01 00:00, as if UTC) is in tz,
 * with its instants in seconds since the Unix epoch: *earlier and *later
 * are the same for a normal time; for a skipped one both are PostgreSQL's
 * reading (the offset before the change).
 */
GfLocalKind
gf_wall_classify(pg_tz *tz, int64 wall_sec, int64 *earlier, int64 *later)
{
	pg_time_t	prev = (pg_time_t) (wall_sec - SECS_PER_DAY);
	long int	before_gmtoff,
				after_gmtoff;
	int			before_isdst,
				after_isdst;
	pg_time_t	boundary;
	int64		before,
				after;
	int			res;

	res = pg_next_dst_boundary(&prev, &before_gmtoff, &before_isdst, &boundary,
							   &after_gmtoff, &after_isdst, tz);
	if (res < 0)
	{
		/* out of the zone's range: PostgreSQL's own answer */
		*earlier = *later = wall_sec + wall_offset(tz, wall_sec);
		return GF_WALL_NORMAL;
	}
	if (res == 0)
	{
		/* no change after prev: one offset */
		*earlier = *later = wall_sec - before_gmtoff;
		return GF_WALL_NORMAL;
	}
	before = wall_sec - before_gmtoff;
	after = wall_sec - after_gmtoff;
	if (before < boundary && after < boundary)
	{
		*earlier = *later = before;
		return GF_WALL_NORMAL;
	}
	if (before >= boundary && after >= boundary)
	{
		*earlier = *later = after;
		return GF_WALL_NORMAL;
	}
	if (before < boundary)
	{
		/* valid on both sides of the change: the clock went back */
		*earlier = before;
		*later = after;
		return GF_WALL_REPEATED;
	}
	/* valid on neither side: the clock jumped over it */
	*earlier = *later = before;
	return GF_WALL_SKIPPED;
}

/*
 * The instant of a wall time that the cache does not answer.  The wall
 * hour is cached when it is normal throughout.
 */
TimestampTz
gf_zone_resolve(GfZone *z, int64 wall_usec, int *flags)
{
	int64		wall_sec = wall_usec >= 0 ? wall_usec / USECS_PER_SEC :
		-((-wall_usec + USECS_PER_SEC - 1) / USECS_PER_SEC);
	int64		frac = wall_usec - wall_sec * USECS_PER_SEC;
	int64		hour = wall_sec >= 0 ? wall_sec / SECS_PER_HOUR :
		-((-wall_sec + SECS_PER_HOUR - 1) / SECS_PER_HOUR);
	int64		e1,
				l1,
				e2,
				l2,
				earlier,
				later;
	GfLocalKind k1,
				k2,
				kind;

	k1 = gf_wall_classify(z->tz, hour * SECS_PER_HOUR, &e1, &l1);
	k2 = gf_wall_classify(z->tz, hour * SECS_PER_HOUR + SECS_PER_HOUR - 1, &e2, &l2);
	if (k1 == GF_WALL_NORMAL && k2 == GF_WALL_NORMAL &&
		e2 - e1 == SECS_PER_HOUR - 1)
	{
		int			slot = (int) ((uint64) hour % GF_ZONE_CACHE);

		z->hour[slot] = hour;
		z->east[slot] = (int32) (hour * SECS_PER_HOUR - e1);
		return wall_usec - (int64) z->east[slot] * USECS_PER_SEC - GF_UNIX_TO_PG_USEC;
	}

	kind = gf_wall_classify(z->tz, wall_sec, &earlier, &later);
	if (kind == GF_WALL_SKIPPED)
		*flags |= GF_LOCAL_NONEXISTENT | z->mark;
	else if (kind == GF_WALL_REPEATED)
	{
		*flags |= GF_LOCAL_AMBIGUOUS | z->mark;
		switch (z->policy)
		{
			case GF_AMBIGUOUS_EARLIER:
				later = earlier;
				break;
			case GF_AMBIGUOUS_IN_ORDER:
				/* the earlier for now; the loader decides with the record's key */
				*flags |= GF_LOCAL_IN_ORDER;
				z->later = later * USECS_PER_SEC + frac - GF_UNIX_TO_PG_USEC;
				later = earlier;
				break;
			case GF_AMBIGUOUS_LATER:
			case GF_AMBIGUOUS_REJECT:
				break;
		}
	}
	return later * USECS_PER_SEC + frac - GF_UNIX_TO_PG_USEC;
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
		int			start = wall_offset(u->tz, hour * SECS_PER_HOUR);
		int			end = wall_offset(u->tz, hour * SECS_PER_HOUR + SECS_PER_HOUR - 1);

		if (start == end)
		{
			u->tzcache->hour[slot] = hour;
			u->tzcache->offset[slot] = start;
			offset = start;
		}
		else
			offset = wall_offset(u->tz, wall_sec);
	}
	return wall_usec + (int64) offset * USECS_PER_SEC - GF_UNIX_TO_PG_USEC;
}

/*
 * Local wall-clock time of an instant in the utility's zone, as a
 * PostgreSQL timestamp (what timezone(zone, ts) gives).  The offset is
 * cached per UTC hour when it is the same at both ends of the hour.
 */
int64
gf_local_timestamp(GfUtility *u, TimestampTz ts)
{
	int64		hour = ts >= 0 ? ts / USECS_PER_HOUR : -((-ts + USECS_PER_HOUR - 1) / USECS_PER_HOUR);
	int			slot = (int) ((uint64) hour % GF_TZ_CACHE);
	int			offset;			/* seconds west of UTC */

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
	return ts - (int64) offset * USECS_PER_SEC;
}

/* Local day (as a PostgreSQL date) of an instant in the utility's zone. */
int32
gf_local_date(GfUtility *u, TimestampTz ts)
{
	int64		local = gf_local_timestamp(u, ts);

	return (int32) (local >= 0 ? local / USECS_PER_DAY : -((-local + USECS_PER_DAY - 1) / USECS_PER_DAY));
}
