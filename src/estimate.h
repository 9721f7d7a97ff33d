/*-------------------------------------------------------------------------
 *
 * estimate.h
 *	  The reference days of one series, for estimation (estimate.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef GF_ESTIMATE_H
#define GF_ESTIMATE_H

#include "utils/date.h"

typedef struct GfEstHistory GfEstHistory;

extern GfEstHistory *gf_est_history_create(MemoryContext cxt, int weeks);
extern void gf_est_history_add(GfEstHistory *h, DateADT day, int64 wall_usec, int32 duration,
							   bool value_null, double value, bool valid);
extern bool gf_est_reference(GfEstHistory *h, DateADT day, int64 wall_usec, int32 duration,
							 DateADT before, int days, double *mean);
extern double gf_est_linear(double a, double b, int64 k, int64 n);

#endif							/* GF_ESTIMATE_H */
