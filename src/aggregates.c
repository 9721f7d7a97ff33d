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
#include "utils/array.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "aggregates.h"

PG_FUNCTION_INFO_V1(gridflow_peak_pit_state_transfn);
PG_FUNCTION_INFO_V1(gridflow_peak_pit_state_combinefn);
PG_FUNCTION_INFO_V1(gridflow_peak_pit_finalfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_state_transfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_state_combinefn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_finalfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_partials_finalfn);

/* the internal-state functions of 0.1.0 and 0.2.0 (see the end) */
PG_FUNCTION_INFO_V1(gridflow_peak_pit_transfn);
PG_FUNCTION_INFO_V1(gridflow_peak_pit_combinefn);
PG_FUNCTION_INFO_V1(gridflow_peak_pit_serialfn);
PG_FUNCTION_INFO_V1(gridflow_peak_pit_deserialfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_transfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_combinefn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_serialfn);
PG_FUNCTION_INFO_V1(gridflow_exact_sum_deserialfn);

/*
 * The transition states are bytea values, not internal: PostgreSQL's
 * parallel workers send them as they are, and Citus ships them between
 * workers and the coordinator through bytea's own input and output (it
 * combines partial aggregates only of states that are not of a pseudo
 * type).  Each state is a plain struct behind the varlena header, in the
 * byte order of the machine that made it; the first word after the header
 * says which state it is (and, read in another byte order, does not
 * match).  Any bytea can reach these functions (an aggregate of a user's
 * may name them, with an initial value of its own), so every state read is
 * checked first: a bytea that is not a state is an error.
 *
 * The transition and combine functions change the state they are given in
 * place, as PostgreSQL's own float8_accum does: only when called as an
 * aggregate (the state is then the aggregate's own copy), and only when it
 * is a plain, aligned varlena with room enough.  Otherwise they return a
 * new state, made in the current memory context, which the aggregate
 * copies into its own context before it frees the old one.
 *
 * The final functions only read the state, so the aggregates of internal
 * state that databases not yet updated from 0.1.0 or 0.2.0 define (their
 * transition, combine, serialization and deserialization functions are at
 * the end of this file) share them: their state is the same struct, kept
 * in the aggregate's memory context.
 */
#define GF_STATE_KIND_MASK	0xFFFFFF00u
#define GF_PEAK_PIT_KIND	0x47465000u /* 'G' 'F' 'P', byte 0: flags */
#define GF_EXACT_SUM_KIND	0x47465300u /* 'G' 'F' 'S', byte 0: flags */

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s can only be called as part of an aggregate", fname)));
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

static void invalid_state(const char *aggregate) pg_attribute_noreturn();

static void
invalid_state(const char *aggregate)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid state of %s", aggregate),
			 errdetail("The bytea given is not a state made by the aggregate's own functions on a machine of this byte order.")));
}

/*
 * May the state d be changed in place?  Only a plain varlena (4-byte
 * header, neither compressed nor external) at an aligned address: a
 * short-header copy from a tuple is read, and replaced.
 */
static inline bool
state_in_place(Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);

	return !VARATT_IS_EXTENDED(v) && ((uintptr_t) v % MAXIMUM_ALIGNOF) == 0;
}

/* ---------------------------------------------------------------------
 * peak_pit
 * ---------------------------------------------------------------------
 */

/*
 * The state of peak_pit: the flags (has a value, peak time NULL, pit time
 * NULL) in the low byte of the first word, then the two values and times.
 * No padding: every byte of it is written.
 */
typedef struct PeakPitFlat
{
	int32		vl_len_;
	uint32		kind_flags;
	double		peak_value;
	double		pit_value;
	int64		peak_ts;
	int64		pit_ts;
} PeakPitFlat;

#define PP_HAS_VALUE	1
#define PP_PEAK_TS_NULL	2
#define PP_PIT_TS_NULL	4

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

/* The state in d (any bytea), checked, as a PeakPitState. */
static void
pp_load(Datum d, PeakPitState *s)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(d);
	PeakPitFlat f;

	if (VARSIZE_ANY_EXHDR(v) != sizeof(PeakPitFlat) - VARHDRSZ)
		invalid_state("gridflow.peak_pit");
	memcpy((char *) &f + VARHDRSZ, VARDATA_ANY(v), sizeof(PeakPitFlat) - VARHDRSZ);
	if ((f.kind_flags & GF_STATE_KIND_MASK) != GF_PEAK_PIT_KIND ||
		(f.kind_flags & ~(GF_STATE_KIND_MASK | PP_HAS_VALUE | PP_PEAK_TS_NULL | PP_PIT_TS_NULL)) != 0)
		invalid_state("gridflow.peak_pit");
	s->has_value = (f.kind_flags & PP_HAS_VALUE) != 0;
	s->peak_ts_null = (f.kind_flags & PP_PEAK_TS_NULL) != 0;
	s->pit_ts_null = (f.kind_flags & PP_PIT_TS_NULL) != 0;
	s->peak_value = f.peak_value;
	s->pit_value = f.pit_value;
	s->peak_ts = f.peak_ts;
	s->pit_ts = f.pit_ts;
}

/*
 * The state s as the new value of the aggregate's state old (NULL: none):
 * written over old when it may be changed in place, otherwise a new bytea
 * in the memory context cxt.
 */
static Datum
pp_store(const PeakPitState *s, Datum old, bool old_null, MemoryContext cxt)
{
	PeakPitFlat *f;

	if (!old_null && state_in_place(old))
		f = (PeakPitFlat *) DatumGetPointer(old);
	else
	{
		f = MemoryContextAlloc(cxt, sizeof(PeakPitFlat));
		SET_VARSIZE(f, sizeof(PeakPitFlat));
	}
	f->kind_flags = GF_PEAK_PIT_KIND | (s->has_value ? PP_HAS_VALUE : 0) |
		(s->peak_ts_null ? PP_PEAK_TS_NULL : 0) | (s->pit_ts_null ? PP_PIT_TS_NULL : 0);
	f->peak_value = s->peak_value;
	f->pit_value = s->pit_value;
	f->peak_ts = s->peak_ts;
	f->pit_ts = s->pit_ts;
	return PointerGetDatum(f);
}

/* Transition: state, value, timestamp; new states in cxt. */
static Datum
pp_transition(FunctionCallInfo fcinfo, MemoryContext cxt)
{
	PeakPitState s = {0};

	if (!PG_ARGISNULL(0))
		pp_load(PG_GETARG_DATUM(0), &s);
	if (!PG_ARGISNULL(1))
		gf_peak_pit_add(&s, PG_GETARG_FLOAT8(1),
						PG_ARGISNULL(2) ? 0 : PG_GETARG_TIMESTAMPTZ(2),
						PG_ARGISNULL(2));
	return pp_store(&s, PG_GETARG_DATUM(0), PG_ARGISNULL(0), cxt);
}

/* The state a with the state b combined into it (written over a). */
static Datum
pp_combine(Datum a, Datum b)
{
	PeakPitState sa;
	PeakPitState sb;

	pp_load(a, &sa);
	pp_load(b, &sb);
	if (sb.has_value)
	{
		gf_peak_pit_add(&sa, sb.peak_value, sb.peak_ts, sb.peak_ts_null);
		gf_peak_pit_add(&sa, sb.pit_value, sb.pit_ts, sb.pit_ts_null);
	}
	return pp_store(&sa, a, false, CurrentMemoryContext);
}

Datum
gridflow_peak_pit_state_transfn(PG_FUNCTION_ARGS)
{
	(void) agg_context(fcinfo, "gridflow.peak_pit_transfn");
	PG_RETURN_DATUM(pp_transition(fcinfo, CurrentMemoryContext));
}

/* Combine two partial states (strict: both are there). */
Datum
gridflow_peak_pit_state_combinefn(PG_FUNCTION_ARGS)
{
	(void) agg_context(fcinfo, "gridflow.peak_pit_combinefn");
	PG_RETURN_DATUM(pp_combine(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)));
}

/* gridflow.peak_pit composite, or NULL when no value was seen. */
Datum
gridflow_peak_pit_finalfn(PG_FUNCTION_ARGS)
{
	PeakPitState s;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	(void) agg_context(fcinfo, "gridflow.peak_pit_finalfn");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	pp_load(PG_GETARG_DATUM(0), &s);
	if (!s.has_value)
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "gridflow_peak_pit_finalfn: return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Float8GetDatum(s.peak_value);
	values[1] = TimestampTzGetDatum(s.peak_ts);
	nulls[1] = s.peak_ts_null;
	values[2] = Float8GetDatum(s.pit_value);
	values[3] = TimestampTzGetDatum(s.pit_ts);
	nulls[3] = s.pit_ts_null;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---------------------------------------------------------------------
 * exact_sum
 * ---------------------------------------------------------------------
 */

/*
 * The state of exact_sum and exact_sum_partials: the flags of the FSum
 * (has special, overflow) in the low byte of the first word, the partials
 * in use and room for cap of them, the count of values added, the FSum's
 * special and naive sums, then the partials.  Every byte is written (the
 * room past n is zeroed when made).
 */
typedef struct ExactSumFlat
{
	int32		vl_len_;
	uint32		kind_flags;
	int32		n;
	int32		cap;
	int64		count;
	double		special;
	double		naive;
	double		p[FLEXIBLE_ARRAY_MEMBER];
} ExactSumFlat;

#define ES_HAS_SPECIAL	1
#define ES_OVERFLOW		2
#define ES_HEADER		offsetof(ExactSumFlat, p)
#define ES_INITIAL_CAP	4
/* far above what non-overlapping partials of doubles can number */
#define ES_MAX_CAP		(1 << 16)

/*
 * The header of the state in v (a detoasted bytea, any header), checked
 * against its size.
 */
static void
es_header(const struct varlena *v, ExactSumFlat *h)
{
	Size		len = VARSIZE_ANY_EXHDR(v);

	if (len < ES_HEADER - VARHDRSZ)
		invalid_state("gridflow.exact_sum");
	memcpy((char *) h + VARHDRSZ, VARDATA_ANY(v), ES_HEADER - VARHDRSZ);
	if ((h->kind_flags & GF_STATE_KIND_MASK) != GF_EXACT_SUM_KIND ||
		(h->kind_flags & ~(GF_STATE_KIND_MASK | ES_HAS_SPECIAL | ES_OVERFLOW)) != 0 ||
		h->cap < 0 || h->cap > ES_MAX_CAP || h->n < 0 || h->n > h->cap || h->count < 0 ||
		len != ES_HEADER - VARHDRSZ + sizeof(double) * (Size) h->cap)
		invalid_state("gridflow.exact_sum");
}

/*
 * The state in d, checked, as a state that may be changed in place and
 * has room for more partials: d itself when it may be changed in place
 * (in_place) and has the room, otherwise a new copy in the memory context
 * cxt.  NULL (isnull) gives a new empty state.
 */
static ExactSumFlat *
es_writable(Datum d, bool isnull, bool in_place, int more, MemoryContext cxt)
{
	ExactSumFlat h;
	ExactSumFlat *s;
	struct varlena *v = NULL;
	int			cap;

	if (isnull)
	{
		memset(&h, 0, sizeof(h));
		h.kind_flags = GF_EXACT_SUM_KIND;
	}
	else
	{
		v = PG_DETOAST_DATUM_PACKED(d);
		es_header(v, &h);
		if (in_place && (Pointer) v == DatumGetPointer(d) && state_in_place(d) &&
			h.cap - h.n >= more)
			return (ExactSumFlat *) v;
	}
	/* the room it had, or twice that when more is needed */
	cap = Max(ES_INITIAL_CAP, h.cap);
	if (h.n + more > cap)
		cap = Max(h.n + more, 2 * h.cap);
	if (cap > ES_MAX_CAP)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("exact sum needs more than %d partial sums", ES_MAX_CAP)));
	s = MemoryContextAllocZero(cxt, ES_HEADER + sizeof(double) * cap);
	SET_VARSIZE(s, ES_HEADER + sizeof(double) * cap);
	s->kind_flags = h.kind_flags;
	s->n = h.n;
	s->cap = cap;
	s->count = h.count;
	s->special = h.special;
	s->naive = h.naive;
	if (v != NULL && h.n > 0)
		memcpy(s->p, VARDATA_ANY(v) + (ES_HEADER - VARHDRSZ), sizeof(double) * h.n);
	return s;
}

/* The FSum of a state s made by es_writable (its partials in place). */
static void
es_fsum(ExactSumFlat *s, FSum *f)
{
	memset(f, 0, sizeof(FSum));
	f->n = s->n;
	f->cap = s->cap;
	f->p = s->p;
	f->special = s->special;
	f->has_special = (s->kind_flags & ES_HAS_SPECIAL) != 0;
	f->overflow = (s->kind_flags & ES_OVERFLOW) != 0;
	f->naive = s->naive;
}

/* The FSum f back into s. */
static void
es_store(ExactSumFlat *s, const FSum *f)
{
	Assert(f->p == s->p && f->n <= s->cap);
	s->n = f->n;
	s->special = f->special;
	s->naive = f->naive;
	s->kind_flags = GF_EXACT_SUM_KIND | (f->has_special ? ES_HAS_SPECIAL : 0) |
		(f->overflow ? ES_OVERFLOW : 0);
}

/*
 * fsum's allocator for a state: never called, as every state is given room
 * for the partials an addition can make before it is made.
 */
static void *
es_no_grow(void *ctx, void *old, int old_cap, int new_cap)
{
	elog(ERROR, "gridflow: exact_sum state without room for a partial sum");
	return NULL;
}

/*
 * Transition: the state (a new one in cxt when it is NULL or has no room
 * for another partial) with the value added.
 */
static ExactSumFlat *
es_transition(FunctionCallInfo fcinfo, MemoryContext cxt)
{
	ExactSumFlat *s;

	/* an addition makes at most one partial more */
	s = es_writable(PG_GETARG_DATUM(0), PG_ARGISNULL(0), true, 1, cxt);
	if (!PG_ARGISNULL(1))
	{
		FSum		f;

		es_fsum(s, &f);
		gf_fsum_add(&f, PG_GETARG_FLOAT8(1), es_no_grow, NULL);
		es_store(s, &f);
		s->count++;
	}
	return s;
}

/*
 * The state a with the state b added exactly: a itself, or a new state in
 * cxt when a has no room for b's partials.
 */
static ExactSumFlat *
es_combine(Datum a_datum, Datum b_datum, MemoryContext cxt)
{
	struct varlena *bv;
	ExactSumFlat bh;
	ExactSumFlat *a;
	FSum		fa;
	FSum		fb;

	bv = PG_DETOAST_DATUM_PACKED(b_datum);
	es_header(bv, &bh);
	/* merging adds b's partials one by one: at most one more each */
	a = es_writable(a_datum, false, true, bh.n, cxt);
	es_fsum(a, &fa);
	memset(&fb, 0, sizeof(FSum));
	fb.n = bh.n;
	fb.cap = bh.n;
	fb.p = bh.n > 0 ? palloc(sizeof(double) * bh.n) : NULL;
	if (bh.n > 0)
		memcpy(fb.p, VARDATA_ANY(bv) + (ES_HEADER - VARHDRSZ), sizeof(double) * bh.n);
	fb.special = bh.special;
	fb.has_special = (bh.kind_flags & ES_HAS_SPECIAL) != 0;
	fb.overflow = (bh.kind_flags & ES_OVERFLOW) != 0;
	fb.naive = bh.naive;
	gf_fsum_merge(&fa, &fb, es_no_grow, NULL);
	es_store(a, &fa);
	a->count += bh.count;
	if (fb.p != NULL)
		pfree(fb.p);
	return a;
}

Datum
gridflow_exact_sum_state_transfn(PG_FUNCTION_ARGS)
{
	(void) agg_context(fcinfo, "gridflow.exact_sum_transfn");
	PG_RETURN_POINTER(es_transition(fcinfo, CurrentMemoryContext));
}

/* Combine two partial states (strict: both are there), exactly. */
Datum
gridflow_exact_sum_state_combinefn(PG_FUNCTION_ARGS)
{
	(void) agg_context(fcinfo, "gridflow.exact_sum_combinefn");
	PG_RETURN_POINTER(es_combine(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), CurrentMemoryContext));
}

/*
 * The state of a final function, read only: the aggregate's state itself
 * when it can be read in place, otherwise a copy.  NULL when there is no
 * value.
 */
static ExactSumFlat *
es_final_state(FunctionCallInfo fcinfo)
{
	ExactSumFlat *s;

	if (PG_ARGISNULL(0))
		return NULL;
	s = es_writable(PG_GETARG_DATUM(0), false, true, 0, CurrentMemoryContext);
	return s->count == 0 ? NULL : s;
}

Datum
gridflow_exact_sum_finalfn(PG_FUNCTION_ARGS)
{
	ExactSumFlat *s;
	FSum		f;
	double		r;

	(void) agg_context(fcinfo, "gridflow.exact_sum_finalfn");
	s = es_final_state(fcinfo);
	if (s == NULL)
		PG_RETURN_NULL();
	es_fsum(s, &f);
	r = gf_fsum_result(&f);
	if (!isfinite(r) && !f.has_special)
		gf_sum_overflow(NULL);
	PG_RETURN_FLOAT8(r);
}

/*
 * gridflow.exact_sum_partials(double precision): the state of exact_sum as
 * an array of non-overlapping doubles whose exact sum is the exact sum of
 * the values (Shewchuk's partials).  Stored, such arrays let sums be
 * combined later without a second rounding: exact_sum() over the elements
 * of several arrays is the correctly rounded sum of all their values.  An
 * empty sum gives {0}; a non-finite one its one special value.
 */
Datum
gridflow_exact_sum_partials_finalfn(PG_FUNCTION_ARGS)
{
	ExactSumFlat *s;
	FSum		f;

	(void) agg_context(fcinfo, "gridflow.exact_sum_partials_finalfn");
	s = es_final_state(fcinfo);
	if (s == NULL)
		PG_RETURN_NULL();
	es_fsum(s, &f);
	PG_RETURN_DATUM(gf_fsum_partials_datum(&f));
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

/* ---------------------------------------------------------------------
 * The aggregates of internal state of 0.1.0 and 0.2.0
 * ---------------------------------------------------------------------
 *
 * A database not yet updated (ALTER EXTENSION gridflow UPDATE) still
 * defines exact_sum and peak_pit with an internal state over these
 * functions.  Their state is the same struct as the bytea state, but an
 * internal value is passed by reference unmanaged: PostgreSQL neither
 * copies nor frees it.  So every state they make is made in the
 * aggregate's memory context, a state replaced by a larger one is freed
 * here, and the combine functions are not strict.
 */

Datum
gridflow_peak_pit_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow.peak_pit_transfn");

	/* a state of this aggregate is always written in place */
	PG_RETURN_DATUM(pp_transition(fcinfo, aggcontext));
}

Datum
gridflow_peak_pit_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow.peak_pit_combinefn");
	PeakPitState s;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(0))
	{
		pp_load(PG_GETARG_DATUM(1), &s);
		PG_RETURN_DATUM(pp_store(&s, (Datum) 0, true, aggcontext));
	}
	PG_RETURN_DATUM(pp_combine(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)));
}

Datum
gridflow_peak_pit_serialfn(PG_FUNCTION_ARGS)
{
	PeakPitState s;

	(void) agg_context(fcinfo, "gridflow.peak_pit_serialfn");
	pp_load(PG_GETARG_DATUM(0), &s);
	PG_RETURN_DATUM(pp_store(&s, (Datum) 0, true, CurrentMemoryContext));
}

Datum
gridflow_peak_pit_deserialfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow.peak_pit_deserialfn");
	PeakPitState s;

	pp_load(PG_GETARG_DATUM(0), &s);
	PG_RETURN_DATUM(pp_store(&s, (Datum) 0, true, aggcontext));
}

Datum
gridflow_exact_sum_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow.exact_sum_transfn");
	ExactSumFlat *s = es_transition(fcinfo, aggcontext);

	if (!PG_ARGISNULL(0) && (Pointer) s != PG_GETARG_POINTER(0))
		pfree(PG_GETARG_POINTER(0));
	PG_RETURN_POINTER(s);
}

Datum
gridflow_exact_sum_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow.exact_sum_combinefn");
	ExactSumFlat *a;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(es_writable(PG_GETARG_DATUM(1), false, false, 0, aggcontext));
	a = es_combine(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), aggcontext);
	if ((Pointer) a != PG_GETARG_POINTER(0))
		pfree(PG_GETARG_POINTER(0));
	PG_RETURN_POINTER(a);
}

Datum
gridflow_exact_sum_serialfn(PG_FUNCTION_ARGS)
{
	(void) agg_context(fcinfo, "gridflow.exact_sum_serialfn");
	PG_RETURN_POINTER(es_writable(PG_GETARG_DATUM(0), false, false, 0, CurrentMemoryContext));
}

Datum
gridflow_exact_sum_deserialfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "gridflow.exact_sum_deserialfn");

	PG_RETURN_POINTER(es_writable(PG_GETARG_DATUM(0), false, false, 0, aggcontext));
}
