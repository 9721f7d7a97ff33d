/*-------------------------------------------------------------------------
 *
 * config.c
 *	  The configuration a build works from: the kinds of utility files,
 *	  and the per-build state of a utility.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/memutils.h"

#include "gridflow.h"

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
