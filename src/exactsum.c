/*-------------------------------------------------------------------------
 *
 * exactsum.c
 *	  gridflow.exact_sum(double precision): the exact sum of the values,
 *	  correctly rounded, over fsum.c.  Unlike sum(float8) its result does
 *	  not depend on the order of the rows, so parallel plans, partitions and
 *	  the build's own aggregation all give the same bits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "libpq/pqformat.h"

#include "fsum.h"
#include "gridflow.h"

PG_FUNCTION_INFO_V1(gridflow_exact_sum_transfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_combinefn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_serialfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_deserialfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_finalfn);

typedef struct ExactSumState
{
	MemoryContext cxt;			/* where partials grow */
	int64		count;
	FSum		sum;
} ExactSumState;

/* fsum's allocator: partials live in the aggregate's context. */
static void *
grow_partials(void *ctx, void *old, int old_cap, int new_cap)
{
	if (old == NULL)
		return MemoryContextAlloc((MemoryContext) ctx, sizeof(double) * new_cap);
	return repalloc(old, sizeof(double) * new_cap);
}

static ExactSumState *
new_state(MemoryContext cxt)
{
	ExactSumState *s = MemoryContextAlloc(cxt, sizeof(ExactSumState));

	s->cxt = cxt;
	s->count = 0;
	gf_fsum_init(&s->sum);
	return s;
}

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return aggcontext;
}

Datum
gridflow_exact_sum_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow_exact_sum_transfn");
	ExactSumState *s;

	s = PG_ARGISNULL(0) ? new_state(aggcontext) : (ExactSumState *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1))
	{
		gf_fsum_add(&s->sum, PG_GETARG_FLOAT8(1), grow_partials, s->cxt);
		s->count++;
	}
	PG_RETURN_POINTER(s);
}

Datum
gridflow_exact_sum_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow_exact_sum_combinefn");
	ExactSumState *a = PG_ARGISNULL(0) ? NULL : (ExactSumState *) PG_GETARG_POINTER(0);
	ExactSumState *b = PG_ARGISNULL(1) ? NULL : (ExactSumState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = new_state(aggcontext);
	gf_fsum_merge(&a->sum, &b->sum, grow_partials, a->cxt);
	a->count += b->count;
	PG_RETURN_POINTER(a);
}

Datum
gridflow_exact_sum_serialfn(PG_FUNCTION_ARGS)
{
	ExactSumState *s = (ExactSumState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	(void) agg_context(fcinfo, "gridflow_exact_sum_serialfn");
	pq_begintypsend(&buf);
	pq_sendint64(&buf, s->count);
	pq_sendbyte(&buf, (s->sum.has_special ? 1 : 0) | (s->sum.overflow ? 2 : 0));
	pq_sendfloat8(&buf, s->sum.special);
	pq_sendfloat8(&buf, s->sum.naive);
	pq_sendint32(&buf, s->sum.n);
	for (int i = 0; i < s->sum.n; i++)
		pq_sendfloat8(&buf, s->sum.p[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
gridflow_exact_sum_deserialfn(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow_exact_sum_deserialfn");
	ExactSumState *s = new_state(aggcontext);
	StringInfoData buf;
	int			flags;
	int			n;

	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	s->count = pq_getmsgint64(&buf);
	flags = pq_getmsgbyte(&buf);
	s->sum.has_special = (flags & 1) != 0;
	s->sum.overflow = (flags & 2) != 0;
	s->sum.special = pq_getmsgfloat8(&buf);
	s->sum.naive = pq_getmsgfloat8(&buf);
	n = pq_getmsgint(&buf, 4);
	if (n < 0 || n > (buf.len - buf.cursor) / 8)
		elog(ERROR, "gridflow: invalid exact_sum state");
	if (n > s->sum.cap)
	{
		s->sum.p = MemoryContextAlloc(aggcontext, sizeof(double) * n);
		s->sum.cap = n;
	}
	for (int i = 0; i < n; i++)
		s->sum.p[i] = pq_getmsgfloat8(&buf);
	s->sum.n = n;
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(s);
}

Datum
gridflow_exact_sum_finalfn(PG_FUNCTION_ARGS)
{
	ExactSumState *s;

	(void) agg_context(fcinfo, "gridflow_exact_sum_finalfn");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (ExactSumState *) PG_GETARG_POINTER(0);
	if (s->count == 0)
		PG_RETURN_NULL();
	{
		double		r = gf_fsum_result(&s->sum);

		if (!isfinite(r) && !s->sum.has_special)
			gf_sum_overflow(NULL);
		PG_RETURN_FLOAT8(r);
	}
}

/*
 * An exact sum of finite values that overflows double precision: an error,
 * as PostgreSQL's own sums of double precision raise (infinite or NaN terms
 * give an infinite or NaN sum, as there).  what, when not NULL, says whose
 * sum it was.
 */
void
gf_sum_overflow(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value out of range: overflow"),
			 what ? errdetail("The sum of the values of %s exceeds the range of double precision.", what) :
			 errdetail("The sum of the values exceeds the range of double precision.")));
}
