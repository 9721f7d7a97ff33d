/*-------------------------------------------------------------------------
 *
 * peakpit.h
 *	  State of the peak/pit aggregate, shared by the SQL aggregate and the
 *	  build's own daily aggregation.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_PEAKPIT_H
#define GRIDFLOW_PEAKPIT_H

#include "postgres.h"

#include "datatype/timestamp.h"

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

#endif							/* GRIDFLOW_PEAKPIT_H */
