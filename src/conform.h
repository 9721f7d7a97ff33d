/*-------------------------------------------------------------------------
 *
 * conform.h
 *	  Adapting a utility's own layout to the common model, by configuration:
 *	  units and channels (units.c), wide layouts with one column per
 *	  interval (wide.c), and the per-file plan and per-record step that
 *	  ties them and the local times of localtime.h to the loader (conform.c).
 *
 * The loader (load.c) calls into these through a few narrow hooks; a file
 * that uses none of them costs the loader nothing per record but a test of
 * a NULL pointer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_CONFORM_H
#define GRIDFLOW_CONFORM_H

#include "gridflow.h"
#include "keytable.h"
#include "localtime.h"

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
typedef struct GfUtilityConform
{
	GfAmbiguity ambiguity;
	GfKeyTable *units;			/* gridflow.unit: lower-case unit -> GfUnitInfo */
	GfKeyTable *channels;		/* the utility's gridflow.channel rows, or NULL */
	bool		has_assignment_file;
} GfUtilityConform;

typedef enum GfWideDst
{
	GF_WIDE_ELAPSED,
	GF_WIDE_WALL_SPLIT,
	GF_WIDE_WALL_EARLIER,
	GF_WIDE_WALL_LATER
} GfWideDst;

typedef struct GfColumnConform
{
	char	   *target;
	char	   *time_zone;		/* NULL: the utility's */
	const GfUnitInfo *unit;		/* NULL: none */
} GfColumnConform;

typedef struct GfFileConform
{
	bool		wide;
	int			nwide;
	char	  **wide_columns;
	int32		wide_seconds;
	GfWideDst	wide_dst;
	int			ncols;
	GfColumnConform *cols;
	List	   *zones;			/* of GfZone *, made for the current load */
} GfFileConform;

/* wide.c: wide layouts */
typedef struct GfWide GfWide;

/* why a record is rejected by an adaptation */
typedef struct GfConformReject
{
	const char *reason;
	char	   *detail;
	const char *source;			/* file column, or NULL */
	const char *target;			/* standardized column, or NULL */
} GfConformReject;

extern GfWide *gf_wide_begin(GfUtility *u, GfSourceFile *f, GfReader *r, TupleDesc desc);
extern bool gf_wide_record(GfWide *w, const CsvRecord *rec, TimestampTz day,
						   double factor, GfLoadStats *stats, GfConformReject *rj);
extern bool gf_wide_pending(GfWide *w);
extern bool gf_wide_take(GfWide *w, Datum *values, bool *isnull);
extern void gf_wide_stats(GfWide *w, GfLoadStats *stats);

/* conform.c: the per-file plan and the per-record step */
typedef struct GfConform GfConform;

extern void gf_conform_read_utility(GfUtility *u, MemoryContext cxt);
extern void gf_conform_read_file(GfUtility *u, GfSourceFile *f, MemoryContext cxt);
extern GfZone *gf_conform_zone(GfUtility *u, GfSourceFile *f, const GfColumnMap *m, bool start);
extern GfConform *gf_conform_begin(GfUtility *u, GfSourceFile *f, GfReader *r, TupleDesc desc);
extern bool gf_conform_record(GfConform *a, const CsvRecord *rec, Datum *values, bool *isnull,
							  const char **tptr, uint32 *tlen, int local_flags,
							  GfLoadStats *stats, GfConformReject *rj);
extern GfWide *gf_conform_wide(GfConform *a);
extern void gf_conform_record_batch(int64 batch_id, const GfLoadStats *stats);
extern void gf_conform_plan_start(GfSourceFile *f);

#endif							/* GRIDFLOW_CONFORM_H */
