/*-------------------------------------------------------------------------
 *
 * aggregates.c
 *	  The SQL aggregates of gridflow, which the build's own daily
 *	  aggregation (experience.c) matches bit for bit.
 *
 * gridflow.peak_pit(value, ts): the largest and the smallest value of a
 * group, each with its timestamp.  Ties go to the earliest timestamp (a
 * NULL timestamp counts as later than any), so the result does not depend
 * on the order rows arrive in: partial states from parallel workers or
 * partitions combine to the same answer.  Values compare as PostgreSQL
 * compares float8 (NaN above everything).
 *
 * gridflow.exact_sum(double precision): the exact sum of the values,
 * correctly rounded, over fsum.c.  Unlike sum(float8) its result does not
 * depend on the order of the rows, so parallel plans, partitions and the
 * build's own aggregation all give the same bits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "aggregates.h"

PG_FUNCTION_INFO_V1(gridflow_peak_pit_transfn);
PG_FUNCTION_INFO_V1(gridflow_peak_pit_combinefn);
PG_FUNCTION_INFO_V1(gridflow_peak_pit_serialfn);
PG_FUNCTION_INFO_V1(gridflow_peak_pit_deserialfn);
PG_FUNCTION_INFO_V1(gridflow_peak_pit_finalfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_transfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_combinefn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_serialfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_deserialfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_finalfn);

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return aggcontext;
}

/* fsum's allocator: partials live in the memory context ctx. */
void *
gf_fsum_grow(void *ctx, void *old, int old_cap, int new_cap)
{
	if (old == NULL)
		return MemoryContextAlloc((MemoryContext) ctx, sizeof(double) * new_cap);
	return repalloc(old, sizeof(double) * new_cap);
}

/* ---------------------------------------------------------------------
 * peak_pit
 * ---------------------------------------------------------------------
 */

/* Is timestamp a (null_a) earlier than b (null_b)? NULL is latest. */
static inline bool
ts_earlier(TimestampTz a, bool null_a, TimestampTz b, bool null_b)
{
	if (null_a)
		return false;
	if (null_b)
		return true;
	return a < b;
}

/* Fold one (value, ts) into the state. */
void
gf_peak_pit_add(PeakPitState *s, double v, TimestampTz ts, bool ts_null)
{
	int			c;

	if (!s->has_value)
	{
		s->has_value = true;
		s->peak_value = s->pit_value = v;
		s->peak_ts = s->pit_ts = ts;
		s->peak_ts_null = s->pit_ts_null = ts_null;
		return;
	}
	c = float8_cmp_internal(v, s->peak_value);
	if (c > 0 || (c == 0 && ts_earlier(ts, ts_null, s->peak_ts, s->peak_ts_null)))
	{
		s->peak_value = v;
		s->peak_ts = ts;
		s->peak_ts_null = ts_null;
	}
	c = float8_cmp_internal(v, s->pit_value);
	if (c < 0 || (c == 0 && ts_earlier(ts, ts_null, s->pit_ts, s->pit_ts_null)))
	{
		s->pit_value = v;
		s->pit_ts = ts;
		s->pit_ts_null = ts_null;
	}
}

/* Transition: state, value, timestamp. */
Datum
gridflow_peak_pit_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow_peak_pit_transfn");
	PeakPitState *s;

	if (PG_ARGISNULL(0))
		s = MemoryContextAllocZero(aggcontext, sizeof(PeakPitState));
	else
		s = (PeakPitState *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1))
		gf_peak_pit_add(s, PG_GETARG_FLOAT8(1),
					 PG_ARGISNULL(2) ? 0 : PG_GETARG_TIMESTAMPTZ(2),
					 PG_ARGISNULL(2));
	PG_RETURN_POINTER(s);
}

/* Combine two partial states. */
Datum
gridflow_peak_pit_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow_peak_pit_combinefn");
	PeakPitState *a = PG_ARGISNULL(0) ? NULL : (PeakPitState *) PG_GETARG_POINTER(0);
	PeakPitState *b = PG_ARGISNULL(1) ? NULL : (PeakPitState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
	{
		a = MemoryContextAlloc(aggcontext, sizeof(PeakPitState));
		*a = *b;
		PG_RETURN_POINTER(a);
	}
	if (b->has_value)
	{
		gf_peak_pit_add(a, b->peak_value, b->peak_ts, b->peak_ts_null);
		gf_peak_pit_add(a, b->pit_value, b->pit_ts, b->pit_ts_null);
	}
	PG_RETURN_POINTER(a);
}

/* State to bytea, for parallel workers. */
Datum
gridflow_peak_pit_serialfn(PG_FUNCTION_ARGS)
{
	PeakPitState *s = (PeakPitState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	(void) agg_context(fcinfo, "gridflow_peak_pit_serialfn");
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, (s->has_value ? 1 : 0) | (s->peak_ts_null ? 2 : 0) |
				(s->pit_ts_null ? 4 : 0));
	pq_sendfloat8(&buf, s->peak_value);
	pq_sendint64(&buf, s->peak_ts);
	pq_sendfloat8(&buf, s->pit_value);
	pq_sendint64(&buf, s->pit_ts);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* bytea to state. */
Datum
gridflow_peak_pit_deserialfn(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	PeakPitState *s;
	StringInfoData buf;
	int			flags;

	(void) agg_context(fcinfo, "gridflow_peak_pit_deserialfn");
	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	s = palloc(sizeof(PeakPitState));
	flags = pq_getmsgbyte(&buf);
	s->has_value = (flags & 1) != 0;
	s->peak_ts_null = (flags & 2) != 0;
	s->pit_ts_null = (flags & 4) != 0;
	s->peak_value = pq_getmsgfloat8(&buf);
	s->peak_ts = pq_getmsgint64(&buf);
	s->pit_value = pq_getmsgfloat8(&buf);
	s->pit_ts = pq_getmsgint64(&buf);
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(s);
}

/* gridflow.peak_pit composite, or NULL when no value was seen. */
Datum
gridflow_peak_pit_finalfn(PG_FUNCTION_ARGS)
{
	PeakPitState *s;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	(void) agg_context(fcinfo, "gridflow_peak_pit_finalfn");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (PeakPitState *) PG_GETARG_POINTER(0);
	if (!s->has_value)
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "gridflow_peak_pit_finalfn: return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Float8GetDatum(s->peak_value);
	values[1] = TimestampTzGetDatum(s->peak_ts);
	nulls[1] = s->peak_ts_null;
	values[2] = Float8GetDatum(s->pit_value);
	values[3] = TimestampTzGetDatum(s->pit_ts);
	nulls[3] = s->pit_ts_null;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---------------------------------------------------------------------
 * exact_sum
 * ---------------------------------------------------------------------
 */

typedef struct ExactSumState
{
	MemoryContext cxt;			/* where partials grow */
	int64		count;
	FSum		sum;
} ExactSumState;

static ExactSumState *
new_state(MemoryContext cxt)
{
	ExactSumState *s = MemoryContextAlloc(cxt, sizeof(ExactSumState));

	s->cxt = cxt;
	s->count = 0;
	gf_fsum_init(&s->sum);
	return s;
}

Datum
gridflow_exact_sum_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow_exact_sum_transfn");
	ExactSumState *s;

	s = PG_ARGISNULL(0) ? new_state(aggcontext) : (ExactSumState *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1))
	{
		gf_fsum_add(&s->sum, PG_GETARG_FLOAT8(1), gf_fsum_grow, s->cxt);
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
	gf_fsum_merge(&a->sum, &b->sum, gf_fsum_grow, a->cxt);
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
 * gridflow.exact_sum_partials(double precision): the state of exact_sum as
 * an array of non-overlapping doubles whose exact sum is the exact sum of
 * the values (Shewchuk's partials).  Stored, such arrays let sums be
 * combined later without a second rounding: exact_sum() over the elements
 * of several arrays is the correctly rounded sum of all their values.  An
 * empty sum gives {0}; a non-finite one its one special value.
 */
PG_FUNCTION_INFO_V1(gridflow_exact_sum_partials_finalfn);

Datum
gridflow_exact_sum_partials_finalfn(PG_FUNCTION_ARGS)
{
	ExactSumState *s;

	(void) agg_context(fcinfo, "gridflow_exact_sum_partials_finalfn");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (ExactSumState *) PG_GETARG_POINTER(0);
	if (s->count == 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(gf_fsum_partials_datum(&s->sum));
}

/*
 * The partials of an exact sum of at least one value as a float8[] (what
 * gridflow.exact_sum_partials() returns): {0} for a zero sum, the one
 * special value of a non-finite one.
 */
Datum
gf_fsum_partials_datum(const FSum *sum)
{
	Datum	   *elems;
	int			n;

	if (sum->overflow && !sum->has_special)
		gf_sum_overflow(NULL);
	if (sum->has_special)
	{
		elems = palloc(sizeof(Datum));
		elems[0] = Float8GetDatum(sum->special);
		n = 1;
	}
	else
	{
		n = Max(sum->n, 1);
		elems = palloc(sizeof(Datum) * n);
		elems[0] = Float8GetDatum(0.0);
		for (int i = 0; i < sum->n; i++)
			elems[i] = Float8GetDatum(sum->p[i]);
	}
	return PointerGetDatum(construct_array(elems, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
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
