/*-------------------------------------------------------------------------
 *
 * fsum.h
 *	  Exact summation of doubles (Shewchuk's algorithm, as in Python's
 *	  math.fsum): the result is the exact sum correctly rounded, whatever
 *	  the order of the terms, so totals computed in C, by parallel workers
 *	  or partition by partition are bit-for-bit the same.
 *
 * Free of PostgreSQL headers (unit-tested as plain C).  The state keeps a
 * short list of non-overlapping partial sums: a few inline, more in memory
 * obtained from the caller's allocator.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_FSUM_H
#define GRIDFLOW_FSUM_H

#include <stdbool.h>
#include <stdint.h>

#define FSUM_INLINE 6

typedef struct FSum
{
	int			n;				/* partials in use */
	int			cap;			/* capacity of p */
	double	   *p;				/* the partials: inline or allocated */
	double		inline_p[FSUM_INLINE];
	double		special;		/* sum of non-finite terms (inf, nan) */
	bool		has_special;
	bool		overflow;		/* a partial overflowed: inexact */
	double		naive;			/* plain running sum, used on overflow */
} FSum;

typedef void *(*FSumGrow) (void *ctx, void *old, int old_cap, int new_cap);

extern void gf_fsum_init(FSum *s);
extern void gf_fsum_add(FSum *s, double x, FSumGrow grow, void *ctx);
extern void gf_fsum_merge(FSum *s, const FSum *other, FSumGrow grow, void *ctx);
extern double gf_fsum_result(const FSum *s);

#endif							/* GRIDFLOW_FSUM_H */
