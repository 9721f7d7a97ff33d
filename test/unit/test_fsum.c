/*
 * Unit tests of the exact summation (src/fsum.c), plain C, no server.
 */
#include "fsum.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int	failures = 0;
static int	checks = 0;

static void *
grow(void *ctx, void *old, int old_cap, int new_cap)
{
	(void) ctx;
	(void) old_cap;
	return realloc(old, sizeof(double) * new_cap);
}

static double
sum_of(const double *v, int n)
{
	FSum		s;
	double		r;

	gf_fsum_init(&s);
	for (int i = 0; i < n; i++)
		gf_fsum_add(&s, v[i], grow, NULL);
	r = gf_fsum_result(&s);
	if (s.p != s.inline_p)
		free(s.p);
	return r;
}

static void
expect(const char *name, double got, double want)
{
	checks++;
	if (!(got == want || (isnan(got) && isnan(want))))
	{
		failures++;
		fprintf(stderr, "FAIL %s: got %.17g, want %.17g\n", name, got, want);
	}
}

/* xorshift for reproducible shuffles */
static unsigned long long rng = 88172645463325252ULL;
static unsigned long long
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int
main(void)
{
	double		a[] = {0.1, 0.2, 0.3};
	double		b[] = {1e16, 1.0, -1e16};
	double		c[] = {1e-16, 1.0, 1e16};
	double		d[] = {1e308, 1e308, -1e308};
	double		e[] = {1.0, INFINITY};
	double		big[1000];
	double		first,
				again;

	expect("empty", sum_of(NULL, 0), 0.0);
	expect("0.1+0.2+0.3", sum_of(a, 3), 0.6);	/* naive gives 0.6000000000000001 */
	expect("cancellation", sum_of(b, 3), 1.0);	/* naive gives 0 */
	expect("half-even across partials", sum_of(c, 3), 10000000000000002.0);
	expect("infinity", sum_of(e, 2), INFINITY);
	expect("intermediate overflow falls back", sum_of(d, 3), INFINITY);

	/* any order gives the same bits */
	for (int i = 0; i < 1000; i++)
		big[i] = (double) (next() % 1000000) / 1000.0 * ((next() & 1) ? 1 : -1) *
			pow(10.0, (double) (next() % 12) - 6);
	first = sum_of(big, 1000);
	for (int round = 0; round < 50; round++)
	{
		for (int i = 999; i > 0; i--)
		{
			int			j = (int) (next() % (unsigned long long) (i + 1));
			double		t = big[i];

			big[i] = big[j];
			big[j] = t;
		}
		again = sum_of(big, 1000);
		expect("order independence", again, first);
	}

	/* merging partial states equals adding everything to one */
	{
		FSum		s1,
					s2;

		gf_fsum_init(&s1);
		gf_fsum_init(&s2);
		for (int i = 0; i < 500; i++)
			gf_fsum_add(&s1, big[i], grow, NULL);
		for (int i = 500; i < 1000; i++)
			gf_fsum_add(&s2, big[i], grow, NULL);
		gf_fsum_merge(&s1, &s2, grow, NULL);
		expect("merge", gf_fsum_result(&s1), first);
		if (s1.p != s1.inline_p)
			free(s1.p);
		if (s2.p != s2.inline_p)
			free(s2.p);
	}

	if (failures)
	{
		fprintf(stderr, "%d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("fsum unit tests: %d checks passed\n", checks);
	return 0;
}
