/*-------------------------------------------------------------------------
 *
 * localtime.h
 *	  Local wall-clock times of a time zone across daylight-saving changes
 *	  (localtime.c): the columns' own zones, with the policy of repeated
 *	  hours, and a utility's local days and midnights.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_LOCALTIME_H
#define GRIDFLOW_LOCALTIME_H

#include "gridflow.h"

#define GF_UNIX_TO_PG_USEC \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC)

/*
 * localtime.c: wall-clock times of a time zone.  A wall time is normal
 * (one instant), repeated (the hour repeated when daylight saving time
 * ends: two instants) or skipped (the hour skipped when it starts: none;
 * PostgreSQL reads it with the offset in force before the change).
 */
typedef enum GfLocalKind
{
	GF_WALL_NORMAL,
	GF_WALL_SKIPPED,
	GF_WALL_REPEATED
} GfLocalKind;

/* gridflow.utility.ambiguous_local_time */
typedef enum GfAmbiguity
{
	GF_AMBIGUOUS_LATER,
	GF_AMBIGUOUS_EARLIER,
	GF_AMBIGUOUS_IN_ORDER,
	GF_AMBIGUOUS_REJECT
} GfAmbiguity;

/* what parsing a record's local times met (ParsedRow.local_flags) */
#define GF_LOCAL_AMBIGUOUS		0x01	/* a time in a repeated hour */
#define GF_LOCAL_NONEXISTENT	0x02	/* a time in a skipped hour */
#define GF_LOCAL_IN_ORDER		0x04	/* the interval start was repeated, to
										 * be resolved in file order */
#define GF_LOCAL_COLUMN_SHIFT	8		/* then one bit per timestamp column */

#define GF_ZONE_CACHE 256

/* The local times of one column: its zone, with a cache of normal hours. */
typedef struct GfZone
{
	int64		hour[GF_ZONE_CACHE];	/* wall hour, or PG_INT64_MIN */
	int32		east[GF_ZONE_CACHE];	/* its offset, seconds east of UTC */
	pg_tz	   *tz;
	GfAmbiguity policy;
	int			mark;			/* flag bit of this column (0: none) */
	TimestampTz later;			/* in order: the later instant of the last
								 * repeated time */
	const char *source;			/* header name, for rejects */
	const char *target;
} GfZone;

extern void gf_zone_init(GfZone *z, pg_tz *tz, GfAmbiguity policy, int mark);
extern TimestampTz gf_zone_resolve(GfZone *z, int64 wall_usec, int *flags);
extern GfLocalKind gf_wall_classify(pg_tz *tz, int64 wall_sec, int64 *earlier, int64 *later);

/*
 * A local wall time (microseconds since 1970-01-01 00:00, as if UTC) of the
 * zone as an instant.  Normal hours are answered from the cache; repeated
 * and skipped ones are resolved by the column's policy and flagged.
 */
static inline TimestampTz
gf_zone_local(GfZone *z, int64 wall_usec, int *flags)
{
	int64		hour = wall_usec >= 0 ? wall_usec / USECS_PER_HOUR :
		-((-wall_usec + USECS_PER_HOUR - 1) / USECS_PER_HOUR);
	int			slot = (int) ((uint64) hour % GF_ZONE_CACHE);

	if (z->hour[slot] == hour)
		return wall_usec - (int64) z->east[slot] * USECS_PER_SEC - GF_UNIX_TO_PG_USEC;
	return gf_zone_resolve(z, wall_usec, flags);
}

/*
 * A utility's own zone, as PostgreSQL's timestamptz input and output read
 * it (a repeated time is the later instant, a skipped one takes the offset
 * before the change), with the caches of GfUtility.
 */
extern TimestampTz gf_local_to_timestamptz(GfUtility *u, int64 wall_usec);
extern int32 gf_local_date(GfUtility *u, TimestampTz ts);	/* a DateADT */
extern int64 gf_local_timestamp(GfUtility *u, TimestampTz ts);	/* a Timestamp */

#endif							/* GRIDFLOW_LOCALTIME_H */
