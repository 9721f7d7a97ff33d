/*-------------------------------------------------------------------------
 *
 * aggregates.h
 *	  What the SQL aggregates (aggregates.c) share with the build's own
 *	  daily aggregation (experience.c): the state of peak_pit, the
 *	  allocator of exact sums and their overflow error.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_AGGREGATES_H
#define GRIDFLOW_AGGREGATES_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "fsum.h"

typedef struct PeakPitState
{
	bool		has_value;
	bool		peak_ts_null;
	bool		pit_ts_null;
	double		peak_value;
	double		pit_value;
	TimestampTz peak_ts;
	TimestampTz pit_ts;
} PeakPitState;

extern void gf_peak_pit_add(PeakPitState *s, double v, TimestampTz ts, bool ts_null);

/* exact sums: partials allocated in the memory context ctx (FSumGrow) */
extern void *gf_fsum_grow(void *ctx, void *old, int old_cap, int new_cap);
extern void gf_sum_overflow(const char *what) pg_attribute_noreturn();
extern Datum gf_fsum_partials_datum(const FSum *sum);

#endif							/* GRIDFLOW_AGGREGATES_H */
