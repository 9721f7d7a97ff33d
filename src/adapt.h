/*-------------------------------------------------------------------------
 *
 * adapt.h
 *	  Adapting a utility's own layout to the common model, by configuration:
 *	  local times across daylight-saving changes (localtime.c), units and
 *	  channels (units.c), wide layouts with one column per interval
 *	  (layout.c), and the per-file plan and per-record step that ties them
 *	  to the loader (adapt.c).
 *
 * The loader (load.c) calls into these through a few narrow hooks; a file
 * that uses none of them costs the loader nothing per record but a test of
 * a NULL pointer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_ADAPT_H
#define GRIDFLOW_ADAPT_H

#include "gridflow.h"
#include "keytable.h"

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

/* units.c: gridflow.unit and gridflow.channel */
typedef struct GfUnitInfo
{
	const char *unit;
	double		factor;			/* to common_unit */
	const char *common_unit;
	uint32		common_len;
	bool		is_time;		/* common unit is seconds */
} GfUnitInfo;

typedef struct GfChannelInfo
{
	int32		duration;		/* seconds; 0: not given */
	const GfUnitInfo *unit;		/* NULL: not given */
} GfChannelInfo;

extern GfKeyTable *gf_units_read(MemoryContext cxt);
extern const GfUnitInfo *gf_units_find(GfKeyTable *units, const char *s, size_t len);
extern GfKeyTable *gf_channels_read(const char *utility_id, GfKeyTable *units, MemoryContext cxt);
extern const GfChannelInfo *gf_channels_find(GfKeyTable *channels, const char *s, uint32 len);
extern bool gf_scale_int(Datum *v, bool is_int8, double factor);

/* per-utility and per-file configuration beyond utility/source_file/column_map */
typedef struct GfUtilityAdapt
{
	GfAmbiguity ambiguity;
	GfKeyTable *units;			/* gridflow.unit: lower-case unit -> GfUnitInfo */
	GfKeyTable *channels;		/* the utility's gridflow.channel rows, or NULL */
	bool		has_assignment_file;
} GfUtilityAdapt;

typedef enum GfWideDst
{
	GF_WIDE_ELAPSED,
	GF_WIDE_WALL_SPLIT,
	GF_WIDE_WALL_EARLIER,
	GF_WIDE_WALL_LATER
} GfWideDst;

typedef struct GfColumnAdapt
{
	char	   *target;
	char	   *time_zone;		/* NULL: the utility's */
	const GfUnitInfo *unit;		/* NULL: none */
} GfColumnAdapt;

typedef struct GfFileAdapt
{
	bool		wide;
	int			nwide;
	char	  **wide_columns;
	int32		wide_seconds;
	GfWideDst	wide_dst;
	int			ncols;
	GfColumnAdapt *cols;
	List	   *zones;			/* of GfZone *, made for the current load */
} GfFileAdapt;

/* layout.c: wide layouts */
typedef struct GfWide GfWide;

/* why a record is rejected by an adaptation */
typedef struct GfAdaptReject
{
	const char *reason;
	char	   *detail;
	const char *source;			/* file column, or NULL */
	const char *target;			/* standardized column, or NULL */
} GfAdaptReject;

extern GfWide *gf_wide_begin(GfUtility *u, GfSourceFile *f, GfReader *r, TupleDesc desc);
extern bool gf_wide_record(GfWide *w, const CsvRecord *rec, TimestampTz day,
						   double factor, GfLoadStats *stats, GfAdaptReject *rj);
extern bool gf_wide_pending(GfWide *w);
extern bool gf_wide_take(GfWide *w, Datum *values, bool *isnull);
extern void gf_wide_stats(GfWide *w, GfLoadStats *stats);

/* adapt.c: the per-file plan and the per-record step */
typedef struct GfAdapt GfAdapt;

extern void gf_adapt_read_utility(GfUtility *u, MemoryContext cxt);
extern void gf_adapt_read_file(GfUtility *u, GfSourceFile *f, MemoryContext cxt);
extern GfZone *gf_adapt_zone(GfUtility *u, GfSourceFile *f, const GfColumnMap *m, bool start);
extern GfAdapt *gf_adapt_begin(GfUtility *u, GfSourceFile *f, GfReader *r, TupleDesc desc);
extern bool gf_adapt_record(GfAdapt *a, const CsvRecord *rec, Datum *values, bool *isnull,
							const char **tptr, uint32 *tlen, int local_flags,
							GfLoadStats *stats, GfAdaptReject *rj);
extern GfWide *gf_adapt_wide(GfAdapt *a);
extern void gf_adapt_record_batch(int64 batch_id, const GfLoadStats *stats);
extern void gf_adapt_plan_start(GfSourceFile *f);

#endif							/* GRIDFLOW_ADAPT_H */
