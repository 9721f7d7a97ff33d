/*-------------------------------------------------------------------------
 *
 * fsum.c
 *	  Exact summation of doubles (see fsum.h); no PostgreSQL headers.
 *
 * The algorithm keeps the running sum as a list of non-overlapping
 * partials in increasing magnitude (J. R. Shewchuk, "Adaptive Precision
 * Floating-Point Arithmetic and Fast Robust Geometric Predicates", 1997),
 * with the final half-even rounding step of CPython's math.fsum.
 *
 *-------------------------------------------------------------------------
 */
#include "fsum.h"

#include <math.h>
#include <string.h>

void
gf_fsum_init(FSum *s)
{
	memset(s, 0, sizeof(FSum));
	s->p = s->inline_p;
	s->cap = FSUM_INLINE;
}

/* Make room for one more partial. */
static bool
reserve(FSum *s, FSumGrow grow, void *ctx)
{
	double	   *np;
	int			ncap;

	if (s->n < s->cap)
		return true;
	ncap = s->cap * 2;
	if (s->p == s->inline_p)
	{
		np = grow(ctx, NULL, 0, ncap);
		if (np == NULL)
			return false;
		memcpy(np, s->inline_p, sizeof(double) * s->n);
	}
	else
	{
		np = grow(ctx, s->p, s->cap, ncap);
		if (np == NULL)
			return false;
	}
	s->p = np;
	s->cap = ncap;
	return true;
}

void
gf_fsum_add(FSum *s, double x, FSumGrow grow, void *ctx)
{
	double		xsave = x;
	int			i = 0;

	s->naive += x;
	if (!isfinite(x))
	{
		s->special += x;
		s->has_special = true;
		return;
	}
	if (s->overflow)
		return;
	for (int j = 0; j < s->n; j++)
	{
		double		y = s->p[j];
		double		hi,
					lo;

		if (fabs(x) < fabs(y))
		{
			double		t = x;

			x = y;
			y = t;
		}
		hi = x + y;
		lo = y - (hi - x);
		if (lo != 0.0)
			s->p[i++] = lo;
		x = hi;
	}
	s->n = i;
	if (x != 0.0)
	{
		if (!isfinite(x))
		{
			/* the exact sum left the range of double */
			(void) xsave;
			s->overflow = true;
			return;
		}
		if (!reserve(s, grow, ctx))
		{
			s->overflow = true;
			return;
		}
		s->p[s->n++] = x;
	}
}

void
gf_fsum_merge(FSum *s, const FSum *other, FSumGrow grow, void *ctx)
{
	double		naive = s->naive + other->naive;

	for (int j = 0; j < other->n; j++)
		gf_fsum_add(s, other->p[j], grow, ctx);
	if (other->has_special)
	{
		s->special += other->special;
		s->has_special = true;
	}
	if (other->overflow)
		s->overflow = true;
	s->naive = naive;
}

double
gf_fsum_result(const FSum *s)
{
	double		hi = 0.0;
	double		lo = 0.0;
	int			n = s->n;

	if (s->has_special)
		return s->special;
	if (s->overflow)
		return s->naive;
	if (n > 0)
	{
		hi = s->p[--n];
		while (n > 0)
		{
			double		x = hi;
			double		y = s->p[--n];

			hi = x + y;
			lo = y - (hi - x);
			if (lo != 0.0)
				break;
		}
		/* half-even rounding across partials */
		if (n > 0 && ((lo < 0.0 && s->p[n - 1] < 0.0) ||
					  (lo > 0.0 && s->p[n - 1] > 0.0)))
		{
			double		y = lo * 2.0;
			double		x = hi + y;

			if (y == x - hi)
				hi = x;
		}
	}
	return hi;
}
