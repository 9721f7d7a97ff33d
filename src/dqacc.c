/*-------------------------------------------------------------------------
 *
 * dqacc.c
 *	  The DQ figures of a build, gathered while its writers write: every
 *	  kept service point and meter, every meter-assignment row
 *	  (standardized.c), every kept read (handed to the product writer),
 *	  every product row (product.c) and every day (experience.c) passes
 *	  here once, so the figures gridflow.dq_refresh() would otherwise
 *	  compute by scanning the new partitions again are ready when the
 *	  build ends.
 *
 * What is gathered is exactly what dq_refresh()'s SQL gathers from the
 * relations (40_dq.sql): the keyed figures and completeness of service
 * points and meters, meters naming unknown service points, multi-premise
 * meters; per batch, channel and unit of the reads; the number of reads
 * of each value of each unit; per batch of the products, with the
 * distinct unknown meters and service points; the days in total, per
 * local day and channel, per month and channel and per unit; the
 * validation figures of the products (per channel, the reads by quality
 * code, the reads and service-point days each rule flagged, the gaps; per
 * channel, duration and day length, the series days by their reads),
 * one service point at a time; and where
 * reads reach service points through meters, the meter-link figures
 * (dq.c's gf_link_figures_*(): a utility's meters and assignment rows are
 * written before its reads, so each read is matched as it passes).  The
 * figures are handed to SQL by gridflow.dq_build_figures(), and from there
 * on stored by the same statements as those gridflow.dq_refresh() computes
 * by scanning in SQL.  An ingest gathers them here too, reading the
 * utility's partitions once each in the build's order
 * (gf_dq_acc_gather()): the regression tests compare an ingest's figures
 * with a rebuild's, and the SQL computation with the build's.  Exact sums are Shewchuk
 * partials (fsum.c) added in the order the rows are written, the order a
 * scan of the new partition reads them in.
 *
 * Memory: a few figures per group (batches x channels x units, local days
 * x channels), one entry per distinct value of the reads, per service
 * point, per meter of the assignment rows (with its rows, where reads
 * link through meters) and per distinct unknown meter and service point;
 * it lives until the build's figures are stored (gf_dq_acc_reset()) or
 * its transaction ends.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "aggregates.h"
#include "gridflow.h"
#include "keytable.h"
#include "localtime.h"

/* an exact sum with its count of values (NULL when there are none) */
typedef struct AccSum
{
	int64		count;
	FSum		sum;
} AccSum;

/* a float8 minimum and maximum as min() and max() find them (NaN largest) */
typedef struct AccRange
{
	bool		any;
	double		min;
	double		max;
} AccRange;

/* the least and greatest of int64 values: timestamps, dates (none: !any) */
typedef struct AccBounds
{
	bool		any;
	int64		min;
	int64		max;
} AccBounds;

/* a text value of a group: its bytes, or NULL */
typedef struct AccText
{
	bool		isnull;
	uint32		len;
	char	   *data;
} AccText;

/* one unit over the rows of a group: the unit when all have the same one */
typedef struct AccUnit
{
	bool		any_null;
	bool		mixed;
	bool		any;
	AccText		unit;
} AccUnit;

/* reads, per batch, channel and unit */
typedef struct ReadGroup
{
	int64		batch_id;
	AccText		channel;
	AccText		unit;
	int64		n,
				src,
				dup_keys,
				conf_keys,
				conf_rows,
				resent,
				c_sp,
				c_m,
				c_ts,
				c_v,
				zeros,
				negatives;
	AccSum		kept;
	AccSum		source;
	AccRange	range;
	struct ReadGroup *next;
} ReadGroup;

/* the reads of one value of one unit: the value first seen, and how many */
typedef struct ValueCount
{
	double		value;
	int64		reads;
} ValueCount;

typedef struct ValueUnit
{
	AccText		unit;
	GfKeyTable *values;			/* normalized value -> ValueCount */
	struct ValueUnit *next;
} ValueUnit;

/* products, per batch */
typedef struct ProductGroup
{
	int64		batch_id;
	int64		n,
				orphan,
				unknown_meter,
				ready,
				without_sp,
				with_value,
				zeros,
				negatives,
				null_ts,
				before_2020;
	AccSum		value;
	AccRange	range;
	AccBounds	days;			/* local days */
	AccBounds	starts;			/* start timestamps */
	struct ProductGroup *next;
} ProductGroup;

/* days per local day and channel, or per month and channel */
typedef struct DayGroup
{
	AccUnit		unit;
	int64		service_points; /* months: distinct; days: one per row */
	int64		last_sp;		/* months: the service point counted last */
	int64		days;
	int64		reads;
	AccSum		total;
	AccRange	peak;
	int64		estimated;		/* estimated_count added up */
	int64		questionable;	/* questionable_count added up */
	AccSum		estimated_usage;
} DayGroup;

/*
 * A meter of the assignment rows (dq.multi_premise_meters): its rows, the
 * distinct service points they name, their installations, its service
 * point in the meter file and its first row of an assignment file.
 */
/* distinct service points of a meter listed in its AssignedMeter */
#define ACC_SPS_LISTED 8

typedef struct AssignedMeter
{
	int64		rows;
	int			nsps;
	int			maxsps;
	AccText		first_sp;		/* the first distinct service point */
	AccText	   *more_sps;		/* the others */
	AccBounds	installed;
	bool		meter_known;	/* its kept meter row, and that row's service point */
	AccText		meter_sp;
	bool		have_assigned;	/* its first assignment-file row (batch, line) */
	int64		assigned_batch;
	int64		assigned_line;
	AccText		assigned_sp;
} AssignedMeter;

/*
 * Validation (VEE) of a channel: its product rows by quality code, the
 * reads and service-point days each rule flagged, the gaps.
 */
#define VEE_MAX_RULES 16

typedef struct VeeChannel
{
	AccText		channel;
	int64		reads,
				valid,
				questionable,
				estimated;
	int			nrules;
	char	   *rule[VEE_MAX_RULES];
	int64		rule_reads[VEE_MAX_RULES];
	int64		rule_days[VEE_MAX_RULES];
	int64		gaps;
	int64		gap_intervals;	/* floor(seconds / duration) added up */
	double		gap_seconds;
	bool		any_gap_seconds;
	double		longest_gap;
	int64		unestimated_gaps;	/* of the gaps, those not estimated */
	int64		unestimated_intervals;
	/* estimated rows and the gaps they fill: [0] linear (9), [1] reference (8) */
	int64		est_intervals[2];
	int64		est_gaps[2];
	struct VeeChannel *next;
} VeeChannel;

/* a series (meter, channel) of the current service point: its last read */
typedef struct VeeSeriesLast
{
	bool		any;
	bool		end_null;
	TimestampTz end;
	bool		duration_null;
	int32		duration;
	bool		estimated;		/* the series' last row is an estimate */
} VeeSeriesLast;

/* days of the series by their reads, per channel, duration and day length */
typedef struct VeeCountGroup
{
	int64		days,
				complete,
				short_days,
				over_days;
} VeeCountGroup;

/* days per unit */
typedef struct DayUnit
{
	AccText		unit;
	int64		n,
				day_days;
	AccSum		total;
	struct DayUnit *next;
} DayUnit;

typedef struct GfDqAcc
{
	char	   *utility_id;
	MemoryContext cxt;
	struct GfDqAcc *next;

	/* attribute numbers (0-based) of the columns read, per descriptor */
	TupleDesc	read_desc;
	int			r_batch,
				r_channel,
				r_unit,
				r_source_rows,
				r_conflicting,
				r_last_batch,
				r_value,
				r_value_sum,
				r_sp,
				r_meter,
				r_start;
	TupleDesc	product_desc;
	int			p_batch,
				p_sp_known,
				p_meter_known,
				p_sp,
				p_meter,
				p_value,
				p_local_date,
				p_start;
	TupleDesc	day_desc;
	int			d_sp,
				d_local_date,
				d_channel,
				d_unit,
				d_resolution,
				d_total,
				d_count,
				d_peak,
				d_estimated,
				d_questionable,
				d_estimated_usage;

	TupleDesc	sp_desc;
	int			s_source_rows,
				s_conflicting,
				s_sp,
				s_city,
				s_zip;
	TupleDesc	meter_desc;
	int			m_source_rows,
				m_conflicting,
				m_meter,
				m_sp;
	TupleDesc	assignment_desc;
	int			a_meter,
				a_sp,
				a_installed,
				a_removed,
				a_batch,
				a_line;
	GfLinkFigures *link;		/* reads reach service points through meters */
	GfUtility  *u;

	/* validation figures of the products */
	int			p_channel,
				p_quality,
				p_flags,
				p_end,
				p_duration,
				p_resolution;
	VeeChannel *vee_channels;
	VeeChannel *last_vee;
	Datum		last_flags;		/* the last vee_flags array seen, and its rules */
	VeeChannel *last_flags_channel;
	int			nflags;
	int			flag_index[VEE_MAX_RULES];
	bool		vee_have_sp;	/* the current service point of the products */
	bool		vee_sp_null;
	StringInfoData vee_sp;
	MemoryContext vee_sp_cxt;	/* its series, series days and flagged days */
	GfKeyTable *vee_series;		/* meter + channel -> VeeSeriesLast */
	GfKeyTable *vee_series_days;	/* meter, channel, day, duration, intervals -> reads */
	GfKeyTable *vee_flag_days;	/* channel, rule, day: no payload */
	GfKeyTable *vee_counts;		/* channel, duration, day seconds -> VeeCountGroup */

	/* service points, meters (as dq_refresh() reads them), assignment rows */
	int64		sp_figures[8];	/* n, src, dup_keys, conf_keys, conf_rows, c_sp, c_city, c_zip */
	int64		meter_figures[9];	/* n, src, dup_keys, conf_keys, conf_rows, c_m, c_sp,
									 * orphan_ids, orphan_rows */
	int64		assignment_figures[2];	/* rows, multi-premise meters */
	GfKeyTable *sp_ids;			/* the service points: no payload */
	GfKeyTable *meter_orphans;	/* service points of meters not among them */
	GfKeyTable *assigned;		/* '\1' meter ('\0': NULL) -> AssignedMeter */
	GfArena		texts;			/* the AccText strings */
	GfKeyTable *assigned_pairs; /* (meter, service point) of meters naming
								 * many (assigned_pair()) */

	ReadGroup  *reads;
	ReadGroup  *last_read;
	ValueUnit  *value_units;
	ValueUnit  *last_value_unit;
	ProductGroup *products;
	ProductGroup *last_product;
	GfKeyTable *orphan_meters;	/* ids: no payload */
	GfKeyTable *orphan_sps;

	/* the days in total */
	int64		days;
	AccSum		day_total;
	AccRange	day_peak;
	int64		sp_days;
	int64		sps;
	int64		sp_seq;			/* which service point's days these are */
	StringInfoData last_sp;
	bool		have_last;
	DateADT		last_date;
	GfKeyTable *channels;		/* non-null channels: no payload */
	GfKeyTable *day_groups;		/* date + channel -> DayGroup */
	GfKeyTable *month_groups;	/* month + channel -> DayGroup */
	DayUnit    *day_units;
	DayUnit    *last_day_unit;
	StringInfoData keybuf;
} GfDqAcc;

/* the accumulators of the build under way, one per utility */
static MemoryContext acc_cxt = NULL;
static GfDqAcc *accs = NULL;

static void
acc_context_gone(void *arg)
{
	acc_cxt = NULL;
	accs = NULL;
}

/* Forget every accumulator (before a build, and once its figures are stored). */
void
gf_dq_acc_reset(void)
{
	if (acc_cxt != NULL)
		MemoryContextDelete(acc_cxt);	/* its callback clears both */
	acc_cxt = NULL;
	accs = NULL;
}

/* The accumulator of utility_id in this build, or NULL. */
GfDqAcc *
gf_dq_acc_get(const char *utility_id)
{
	for (GfDqAcc *a = accs; a != NULL; a = a->next)
		if (strcmp(a->utility_id, utility_id) == 0)
			return a;
	return NULL;
}

/*
 * The accumulator of utility_id, made on first use: it lives in the
 * transaction, and is forgotten when it ends.
 */
GfDqAcc *
gf_dq_acc_begin(GfUtility *u)
{
	const char *utility_id = u->utility_id;
	bool		meter_link = u->sp_via_meter;
	GfDqAcc    *a = gf_dq_acc_get(utility_id);
	MemoryContext old;

	if (a != NULL)
		return a;
	if (acc_cxt == NULL)
	{
		MemoryContextCallback *cb;

		acc_cxt = AllocSetContextCreate(TopTransactionContext, "gridflow DQ figures",
										ALLOCSET_DEFAULT_SIZES);
		cb = MemoryContextAlloc(acc_cxt, sizeof(MemoryContextCallback));
		cb->func = acc_context_gone;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(acc_cxt, cb);
	}
	old = MemoryContextSwitchTo(acc_cxt);
	a = palloc0(sizeof(GfDqAcc));
	a->utility_id = pstrdup(utility_id);
	a->cxt = acc_cxt;
	gf_arena_init(&a->texts, acc_cxt);
	a->orphan_meters = gf_keytable_create(acc_cxt, 64, 0);
	a->orphan_sps = gf_keytable_create(acc_cxt, 64, 0);
	a->channels = gf_keytable_create(acc_cxt, 8, 0);
	a->sp_ids = gf_keytable_create(acc_cxt, 1024, 0);
	a->meter_orphans = gf_keytable_create(acc_cxt, 64, 0);
	a->assigned = gf_keytable_create(acc_cxt, 1024, sizeof(AssignedMeter));
	if (meter_link)
		a->link = gf_link_figures_create(acc_cxt);
	a->u = u;
	initStringInfo(&a->vee_sp);
	a->vee_sp_cxt = AllocSetContextCreate(acc_cxt, "gridflow DQ series", ALLOCSET_DEFAULT_SIZES);
	a->vee_series = gf_keytable_create(a->vee_sp_cxt, 16, sizeof(VeeSeriesLast));
	a->vee_series_days = gf_keytable_create(a->vee_sp_cxt, 64, sizeof(int64));
	a->vee_flag_days = gf_keytable_create(a->vee_sp_cxt, 16, 0);
	a->vee_counts = gf_keytable_create(acc_cxt, 16, sizeof(VeeCountGroup));
	a->day_groups = gf_keytable_create(acc_cxt, 256, sizeof(DayGroup));
	a->month_groups = gf_keytable_create(acc_cxt, 64, sizeof(DayGroup));
	initStringInfo(&a->last_sp);
	initStringInfo(&a->keybuf);
	a->next = accs;
	accs = a;
	MemoryContextSwitchTo(old);
	return a;
}

/* ---------------------------------------------------------------------
 * Small figures
 * ---------------------------------------------------------------------
 */

static inline void
sum_add(GfDqAcc *a, AccSum *s, bool isnull, Datum d)
{
	if (isnull)
		return;
	if (s->count == 0)
		gf_fsum_init(&s->sum);
	gf_fsum_add(&s->sum, DatumGetFloat8(d), gf_fsum_grow, a->cxt);
	s->count++;
}

static inline void
range_add(AccRange *r, bool isnull, Datum d)
{
	double		v;

	if (isnull)
		return;
	v = DatumGetFloat8(d);
	if (!r->any)
	{
		r->any = true;
		r->min = r->max = v;
		return;
	}
	if (float8_lt(v, r->min))
		r->min = v;
	if (float8_gt(v, r->max))
		r->max = v;
}

static inline void
bounds_add(AccBounds *b, int64 x)
{
	if (!b->any)
	{
		b->any = true;
		b->min = b->max = x;
	}
	else
	{
		b->min = Min(b->min, x);
		b->max = Max(b->max, x);
	}
}

static inline bool
text_equals(const AccText *t, bool isnull, Datum d)
{
	text	   *x;

	if (isnull || t->isnull)
		return isnull == t->isnull;
	x = DatumGetTextPP(d);
	return VARSIZE_ANY_EXHDR(x) == t->len && memcmp(VARDATA_ANY(x), t->data, t->len) == 0;
}

static void
text_keep(GfDqAcc *a, AccText *t, bool isnull, Datum d)
{
	t->isnull = isnull;
	if (!isnull)
	{
		text	   *x = DatumGetTextPP(d);

		t->len = VARSIZE_ANY_EXHDR(x);
		/* kept as long as the figures: no chunk header per string */
		t->data = gf_arena_alloc(&a->texts, t->len + 1);
		memcpy(t->data, VARDATA_ANY(x), t->len);
		t->data[t->len] = '\0';
	}
}

static Datum
text_datum(const AccText *t, bool *isnull)
{
	*isnull = t->isnull;
	return t->isnull ? (Datum) 0 : PointerGetDatum(cstring_to_text_with_len(t->data, (int) t->len));
}

/* the unit of a group: CASE WHEN bool_and(unit IS NOT NULL) AND min(unit) = max(unit) */
static void
unit_add(GfDqAcc *a, AccUnit *u, bool isnull, Datum d)
{
	if (isnull)
	{
		u->any_null = true;
		return;
	}
	if (!u->any)
	{
		u->any = true;
		text_keep(a, &u->unit, false, d);
	}
	else if (!u->mixed && !text_equals(&u->unit, false, d))
		u->mixed = true;
}

static Datum
unit_datum(const AccUnit *u, bool *isnull)
{
	if (u->any_null || u->mixed || !u->any)
	{
		*isnull = true;
		return (Datum) 0;
	}
	return text_datum(&u->unit, isnull);
}

/* the id of a text in a set (keys only) */
static void
set_add(GfKeyTable *t, Datum d)
{
	text	   *x = DatumGetTextPP(d);
	const char *s = VARDATA_ANY(x);
	uint32		len = VARSIZE_ANY_EXHDR(x);
	bool		found;

	(void) gf_keytable_find(t, s, len, gf_key_hash(s, len), true, &found);
}

/* ---------------------------------------------------------------------
 * The rows, as the writers write them
 * ---------------------------------------------------------------------
 */

/* the entry of a meter of the assignment rows (NULL: one entry of its own) */
static AssignedMeter *
assigned_meter(GfDqAcc *a, bool isnull, Datum meter, bool insert)
{
	AssignedMeter *m;
	bool		found;

	resetStringInfo(&a->keybuf);
	if (isnull)
		appendStringInfoChar(&a->keybuf, '\0');
	else
	{
		text	   *t = DatumGetTextPP(meter);

		appendStringInfoChar(&a->keybuf, '\1');
		appendBinaryStringInfo(&a->keybuf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	}
	m = gf_keytable_find(a->assigned, a->keybuf.data, (uint32) a->keybuf.len,
						 gf_key_hash(a->keybuf.data, (uint32) a->keybuf.len), insert, &found);
	if (m != NULL && !found)
		memset(m, 0, sizeof(AssignedMeter));
	return m;
}

/*
 * Is (meter, service point) a pair seen before?  Records it if not.  Only
 * meters naming more than ACC_SPS_LISTED - 1 service points use the table,
 * so that a meter named with millions of them costs a look-up per row.
 */
static bool
assigned_pair(GfDqAcc *a, bool meter_null, Datum meter, const char *sp, uint32 sp_len)
{
	uint32		meter_len = 0;
	bool		found;

	if (a->assigned_pairs == NULL)
		a->assigned_pairs = gf_keytable_create(a->cxt, 64, 0);
	resetStringInfo(&a->keybuf);
	appendStringInfoChar(&a->keybuf, meter_null ? '\0' : '\1');
	if (!meter_null)
		meter_len = VARSIZE_ANY_EXHDR(DatumGetTextPP(meter));
	appendBinaryStringInfo(&a->keybuf, (char *) &meter_len, sizeof(meter_len));
	if (!meter_null)
		appendBinaryStringInfo(&a->keybuf, VARDATA_ANY(DatumGetTextPP(meter)), meter_len);
	appendBinaryStringInfo(&a->keybuf, sp, sp_len);
	(void) gf_keytable_find(a->assigned_pairs, a->keybuf.data, (uint32) a->keybuf.len,
							gf_key_hash(a->keybuf.data, (uint32) a->keybuf.len), true, &found);
	return found;
}

/* the keyed figures of a kept service point or meter row */
static void
dimension_keys(int64 *f, TupleTableSlot *slot, int source_rows, int conflicting)
{
	f[0]++;
	if (!slot->tts_isnull[source_rows])
	{
		int32		src = DatumGetInt32(slot->tts_values[source_rows]);

		f[1] += src;
		if (src > 1)
			f[2]++;
	}
	if (!slot->tts_isnull[conflicting])
	{
		int32		conf = DatumGetInt32(slot->tts_values[conflicting]);

		if (conf > 0)
			f[3]++;
		f[4] += conf;
	}
}

/*
 * A kept service point or meter (the standardized row, every column set).
 * A utility's service points are written before its meters (its files
 * are read in that order), so a meter's service point is known or not.
 */
void
gf_dq_acc_dimension(GfDqAcc *a, GfFileKind kind, TupleTableSlot *slot)
{
	Datum	   *v = slot->tts_values;
	bool	   *n = slot->tts_isnull;

	if (kind == GF_KIND_SERVICE_POINT)
	{
		if (a->sp_desc != slot->tts_tupleDescriptor)
		{
			TupleDesc	d = slot->tts_tupleDescriptor;

			a->sp_desc = d;
			a->s_source_rows = gf_attnum(d, "source_rows", false);
			a->s_conflicting = gf_attnum(d, "conflicting_rows", false);
			a->s_sp = gf_attnum(d, "service_point_id", false);
			a->s_city = gf_attnum(d, "city", false);
			a->s_zip = gf_attnum(d, "zip", false);
		}
		dimension_keys(a->sp_figures, slot, a->s_source_rows, a->s_conflicting);
		a->sp_figures[5] += !n[a->s_sp];
		a->sp_figures[6] += !n[a->s_city];
		a->sp_figures[7] += !n[a->s_zip];
		if (!n[a->s_sp])
			set_add(a->sp_ids, v[a->s_sp]);
	}
	else if (kind == GF_KIND_METER)
	{
		if (a->meter_desc != slot->tts_tupleDescriptor)
		{
			TupleDesc	d = slot->tts_tupleDescriptor;

			a->meter_desc = d;
			a->m_source_rows = gf_attnum(d, "source_rows", false);
			a->m_conflicting = gf_attnum(d, "conflicting_rows", false);
			a->m_meter = gf_attnum(d, "meter_id", false);
			a->m_sp = gf_attnum(d, "service_point_id", false);
		}
		dimension_keys(a->meter_figures, slot, a->m_source_rows, a->m_conflicting);
		a->meter_figures[5] += !n[a->m_meter];
		if (a->link != NULL && !n[a->m_meter])
			gf_link_figures_meter(a->link, DatumGetTextPP(v[a->m_meter]),
								  n[a->m_sp] ? NULL : DatumGetTextPP(v[a->m_sp]));
		if (!n[a->m_meter])
		{
			/*
			 * Its rows of the meter file naming a service point are written
			 * (as assignment rows) before it: a meter without any is no
			 * multi-premise meter.
			 */
			AssignedMeter *m = assigned_meter(a, false, v[a->m_meter], false);

			if (m != NULL)
			{
				m->meter_known = true;
				text_keep(a, &m->meter_sp, n[a->m_sp], v[a->m_sp]);
			}
		}
		if (!n[a->m_sp])
		{
			text	   *sp = DatumGetTextPP(v[a->m_sp]);
			bool		found;

			a->meter_figures[6]++;
			(void) gf_keytable_find(a->sp_ids, VARDATA_ANY(sp), VARSIZE_ANY_EXHDR(sp),
									gf_key_hash(VARDATA_ANY(sp), VARSIZE_ANY_EXHDR(sp)), false, &found);
			if (!found)
			{
				a->meter_figures[8]++;
				set_add(a->meter_orphans, v[a->m_sp]);
			}
		}
	}
}

/*
 * A meter-assignment row (of a meter or an assignment file): counted, and
 * its meter is multi-premise once its rows name two service points.
 */
void
gf_dq_acc_assignment(GfDqAcc *a, GfFileKind kind, TupleTableSlot *slot)
{
	Datum	   *v = slot->tts_values;
	bool	   *n = slot->tts_isnull;
	text	   *sp;
	AssignedMeter *m;
	bool		found;

	if (a->assignment_desc != slot->tts_tupleDescriptor)
	{
		TupleDesc	d = slot->tts_tupleDescriptor;

		a->assignment_desc = d;
		a->a_meter = gf_attnum(d, "meter_id", false);
		a->a_sp = gf_attnum(d, "service_point_id", false);
		a->a_installed = gf_attnum(d, "installed_at", false);
		a->a_removed = gf_attnum(d, "removed_at", false);
		a->a_batch = gf_attnum(d, "batch_id", false);
		a->a_line = gf_attnum(d, "line_no", false);
	}
	a->assignment_figures[0]++;
	if (a->link != NULL && !n[a->a_meter])
		gf_link_figures_assignment(a->link, DatumGetTextPP(v[a->a_meter]),
								   n[a->a_sp] ? NULL : DatumGetTextPP(v[a->a_sp]),
								   !n[a->a_installed], DatumGetTimestampTz(v[a->a_installed]),
								   !n[a->a_removed], DatumGetTimestampTz(v[a->a_removed]),
								   DatumGetInt64(v[a->a_batch]), DatumGetInt64(v[a->a_line]),
								   kind == GF_KIND_ASSIGNMENT);

	m = assigned_meter(a, n[a->a_meter], v[a->a_meter], true);
	m->rows++;
	if (!n[a->a_installed])
		bounds_add(&m->installed, DatumGetTimestampTz(v[a->a_installed]));
	if (kind == GF_KIND_ASSIGNMENT)
	{
		int64		batch = DatumGetInt64(v[a->a_batch]);
		int64		line = DatumGetInt64(v[a->a_line]);

		if (!m->have_assigned || batch < m->assigned_batch ||
			(batch == m->assigned_batch && line < m->assigned_line))
		{
			m->have_assigned = true;
			m->assigned_batch = batch;
			m->assigned_line = line;
			text_keep(a, &m->assigned_sp, n[a->a_sp], v[a->a_sp]);
		}
	}
	if (n[a->a_sp])
		return;

	/* a service point it did not name yet? */
	sp = DatumGetTextPP(v[a->a_sp]);
	if (m->nsps >= ACC_SPS_LISTED)
	{
		/* past a few, (meter, service point) pairs are looked up in a table */
		if (!assigned_pair(a, n[a->a_meter], v[a->a_meter], VARDATA_ANY(sp), VARSIZE_ANY_EXHDR(sp)))
			m->nsps++;
		return;
	}
	found = false;
	for (int i = 0; i < m->nsps && !found; i++)
	{
		const AccText *x = i == 0 ? &m->first_sp : &m->more_sps[i - 1];

		found = (x->len == VARSIZE_ANY_EXHDR(sp) && memcmp(x->data, VARDATA_ANY(sp), x->len) == 0);
	}
	if (found)
		return;
	if (m->nsps == ACC_SPS_LISTED - 1)
	{
		/* the list is full: its service points, and this one, go to the table */
		(void) assigned_pair(a, n[a->a_meter], v[a->a_meter], m->first_sp.data, m->first_sp.len);
		for (int i = 0; i < m->nsps - 1; i++)
			(void) assigned_pair(a, n[a->a_meter], v[a->a_meter], m->more_sps[i].data, m->more_sps[i].len);
		(void) assigned_pair(a, n[a->a_meter], v[a->a_meter], VARDATA_ANY(sp), VARSIZE_ANY_EXHDR(sp));
		m->nsps++;
		return;
	}
	if (m->nsps == 0)
		text_keep(a, &m->first_sp, false, v[a->a_sp]);
	else
	{
		if (m->nsps - 1 == m->maxsps)
		{
			m->maxsps = Max(2, m->maxsps * 2);
			m->more_sps = m->more_sps == NULL ?
				MemoryContextAlloc(a->cxt, sizeof(AccText) * m->maxsps) :
				repalloc(m->more_sps, sizeof(AccText) * m->maxsps);
		}
		text_keep(a, &m->more_sps[m->nsps - 1], false, v[a->a_sp]);
	}
	if (++m->nsps == 2)
		a->assignment_figures[1]++;
}

/* A kept read (the standardized row, every column set). */
void
gf_dq_acc_read(GfDqAcc *a, TupleTableSlot *slot)
{
	Datum	   *v = slot->tts_values;
	bool	   *n = slot->tts_isnull;
	ReadGroup  *g = a->last_read;
	int64		batch_id;

	if (a->read_desc != slot->tts_tupleDescriptor)
	{
		TupleDesc	d = slot->tts_tupleDescriptor;

		a->read_desc = d;
		a->r_batch = gf_attnum(d, "batch_id", false);
		a->r_channel = gf_attnum(d, "channel", false);
		a->r_unit = gf_attnum(d, "unit", false);
		a->r_source_rows = gf_attnum(d, "source_rows", false);
		a->r_conflicting = gf_attnum(d, "conflicting_rows", false);
		a->r_last_batch = gf_attnum(d, "last_batch_id", false);
		a->r_value = gf_attnum(d, "value", false);
		a->r_value_sum = gf_attnum(d, "source_value_sum", false);
		a->r_sp = gf_attnum(d, "service_point_id", false);
		a->r_meter = gf_attnum(d, "meter_id", false);
		a->r_start = gf_attnum(d, "interval_start_ts", false);
	}
	batch_id = DatumGetInt64(v[a->r_batch]);

	/* its group: most often the last one */
	if (g == NULL || g->batch_id != batch_id ||
		!text_equals(&g->channel, n[a->r_channel], v[a->r_channel]) ||
		!text_equals(&g->unit, n[a->r_unit], v[a->r_unit]))
	{
		for (g = a->reads; g != NULL; g = g->next)
			if (g->batch_id == batch_id &&
				text_equals(&g->channel, n[a->r_channel], v[a->r_channel]) &&
				text_equals(&g->unit, n[a->r_unit], v[a->r_unit]))
				break;
		if (g == NULL)
		{
			g = MemoryContextAllocZero(a->cxt, sizeof(ReadGroup));
			g->batch_id = batch_id;
			text_keep(a, &g->channel, n[a->r_channel], v[a->r_channel]);
			text_keep(a, &g->unit, n[a->r_unit], v[a->r_unit]);
			g->next = a->reads;
			a->reads = g;
		}
		a->last_read = g;
	}

	g->n++;
	if (!n[a->r_source_rows])
	{
		int32		src = DatumGetInt32(v[a->r_source_rows]);

		g->src += src;
		if (src > 1)
			g->dup_keys++;
	}
	if (!n[a->r_conflicting])
	{
		int32		conf = DatumGetInt32(v[a->r_conflicting]);

		g->conf_rows += conf;
		if (conf > 0)
			g->conf_keys++;
	}
	if (!n[a->r_last_batch] && DatumGetInt64(v[a->r_last_batch]) != batch_id)
		g->resent++;
	sum_add(a, &g->kept, n[a->r_value], v[a->r_value]);
	sum_add(a, &g->source, n[a->r_value_sum], v[a->r_value_sum]);
	g->c_sp += !n[a->r_sp];
	g->c_m += !n[a->r_meter];
	g->c_ts += !n[a->r_start];
	if (a->link != NULL)
		gf_link_figures_read(a->link, n[a->r_meter] ? NULL : DatumGetTextPP(v[a->r_meter]),
							 n[a->r_start] ? 0 : DatumGetTimestampTz(v[a->r_start]));
	if (!n[a->r_value])
	{
		double		x = DatumGetFloat8(v[a->r_value]);
		ValueUnit  *vu = a->last_value_unit;
		double		key;
		ValueCount *vc;
		bool		found;

		g->c_v++;
		range_add(&g->range, false, v[a->r_value]);
		if (float8_eq(x, 0.0))
			g->zeros++;
		if (float8_lt(x, 0.0))
			g->negatives++;

		/* the distribution of the values of its unit */
		if (vu == NULL || !text_equals(&vu->unit, n[a->r_unit], v[a->r_unit]))
		{
			for (vu = a->value_units; vu != NULL; vu = vu->next)
				if (text_equals(&vu->unit, n[a->r_unit], v[a->r_unit]))
					break;
			if (vu == NULL)
			{
				vu = MemoryContextAllocZero(a->cxt, sizeof(ValueUnit));
				text_keep(a, &vu->unit, n[a->r_unit], v[a->r_unit]);
				vu->values = gf_keytable_create(a->cxt, 1024, sizeof(ValueCount));
				vu->next = a->value_units;
				a->value_units = vu;
			}
			a->last_value_unit = vu;
		}
		/* values equal as float8 share an entry: -0 is 0, every NaN one NaN */
		key = isnan(x) ? get_float8_nan() : (x == 0.0 ? 0.0 : x);
		vc = gf_keytable_find(vu->values, (const char *) &key, sizeof(key),
							  gf_key_hash((const char *) &key, sizeof(key)), true, &found);
		if (!found)
		{
			vc->value = x;
			vc->reads = 0;
		}
		vc->reads++;
	}
}

/* the validation figures of a channel (non-NULL) */
static VeeChannel *
vee_channel(GfDqAcc *a, Datum channel)
{
	VeeChannel *c = a->last_vee;

	if (c != NULL && text_equals(&c->channel, false, channel))
		return c;
	for (c = a->vee_channels; c != NULL; c = c->next)
		if (text_equals(&c->channel, false, channel))
			break;
	if (c == NULL)
	{
		c = MemoryContextAllocZero(a->cxt, sizeof(VeeChannel));
		text_keep(a, &c->channel, false, channel);
		c->next = a->vee_channels;
		a->vee_channels = c;
	}
	a->last_vee = c;
	return c;
}

/* the index of rule (a C string) among the channel's */
static int
vee_rule_index(GfDqAcc *a, VeeChannel *c, const char *rule)
{
	for (int i = 0; i < c->nrules; i++)
		if (strcmp(c->rule[i], rule) == 0)
			return i;
	if (c->nrules == VEE_MAX_RULES)
		elog(ERROR, "gridflow: more than %d validation rules in the DQ figures", VEE_MAX_RULES);
	c->rule[c->nrules] = MemoryContextStrdup(a->cxt, rule);
	return c->nrules++;
}

/* the length in seconds of a local day of the utility (82,800, 86,400 or 90,000) */
static int32
vee_day_seconds(GfDqAcc *a, DateADT d)
{
	int64		midnight = (int64) (d + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)) * USECS_PER_DAY;

	return (int32) ((gf_local_to_timestamptz(a->u, midnight + USECS_PER_DAY) -
					 gf_local_to_timestamptz(a->u, midnight)) / USECS_PER_SEC);
}

/*
 * The rows of the current service point are all there: fold its series
 * days into the interval counts and its flagged days into the rules'.
 */
static void
vee_flush_sp(GfDqAcc *a)
{
	if (!a->vee_have_sp)
		return;
	for (uint32 i = 0; i < a->vee_series_days->nentries; i++)
	{
		uint32		len;
		const char *key = gf_keytable_key(a->vee_series_days, i, &len);
		int64		reads = *(int64 *) gf_keytable_payload(a->vee_series_days, i);
		const char *p = key;
		uint32		meter_len;
		DateADT		date;
		bool		duration_null;
		int32		duration;
		bool		intervals;
		int32		day_seconds;
		int32		expected;
		VeeCountGroup *g;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		/* [meter NULL][meter length][meter][day][duration NULL][duration][intervals][channel] */
		p += 1;
		memcpy(&meter_len, p, sizeof(meter_len));
		p += sizeof(meter_len) + meter_len;
		memcpy(&date, p, sizeof(date));
		p += sizeof(date);
		duration_null = (*p++ != 0);
		memcpy(&duration, p, sizeof(duration));
		p += sizeof(duration);
		intervals = (*p++ != 0);
		if (!intervals || duration_null || duration <= 0)
			continue;
		day_seconds = vee_day_seconds(a, date);
		expected = day_seconds / duration;
		resetStringInfo(&a->keybuf);
		appendBinaryStringInfo(&a->keybuf, (char *) &duration, sizeof(duration));
		appendBinaryStringInfo(&a->keybuf, (char *) &day_seconds, sizeof(day_seconds));
		appendBinaryStringInfo(&a->keybuf, p, (int) (len - (p - key)));
		g = gf_keytable_find(a->vee_counts, a->keybuf.data, (uint32) a->keybuf.len,
							 gf_key_hash(a->keybuf.data, (uint32) a->keybuf.len), true, &found);
		if (!found)
			memset(g, 0, sizeof(VeeCountGroup));
		g->days++;
		if (reads == expected)
			g->complete++;
		else if (reads < expected)
			g->short_days++;
		else
			g->over_days++;
	}
	for (uint32 i = 0; i < a->vee_flag_days->nentries; i++)
	{
		uint32		len;
		const char *key = gf_keytable_key(a->vee_flag_days, i, &len);
		VeeChannel *c;
		int			rule;

		/* [channel's figures][rule index][day] */
		memcpy(&c, key, sizeof(c));
		memcpy(&rule, key + sizeof(c), sizeof(rule));
		c->rule_days[rule]++;
	}
	MemoryContextReset(a->vee_sp_cxt);
	a->vee_series = gf_keytable_create(a->vee_sp_cxt, 16, sizeof(VeeSeriesLast));
	a->vee_series_days = gf_keytable_create(a->vee_sp_cxt, 64, sizeof(int64));
	a->vee_flag_days = gf_keytable_create(a->vee_sp_cxt, 16, 0);
	a->vee_have_sp = false;
}

/*
 * The validation figures of a product row (what dq_refresh()'s SQL finds
 * in the products): a utility's rows come grouped by service point, and
 * the rows of a series (service point, meter, channel) in time order, so
 * the series days, the flagged days and each read's previous read (for
 * the length of a gap) are known one service point at a time.
 */
static void
vee_product(GfDqAcc *a, TupleTableSlot *slot)
{
	Datum	   *v = slot->tts_values;
	bool	   *n = slot->tts_isnull;
	bool		sp_null = n[a->p_sp];
	text	   *sp = sp_null ? NULL : DatumGetTextPP(v[a->p_sp]);
	VeeChannel *c;
	int16		quality;
	text	   *channel;
	bool		meter_null = n[a->p_meter];
	text	   *meter = meter_null ? NULL : DatumGetTextPP(v[a->p_meter]);
	uint32		meter_len = meter_null ? 0 : VARSIZE_ANY_EXHDR(meter);
	DateADT		date = n[a->p_local_date] ? 0 : DatumGetDateADT(v[a->p_local_date]);
	bool		duration_null = n[a->p_duration];
	int32		duration = duration_null ? 0 : DatumGetInt32(v[a->p_duration]);
	bool		intervals;
	char		flag;
	bool		found;
	int64	   *reads;
	VeeSeriesLast *last;
	bool		gap = false;
	int			series_len;

	/* the next service point: the last one's rows are all there */
	if (!a->vee_have_sp || a->vee_sp_null != sp_null ||
		(!sp_null && ((uint32) a->vee_sp.len != VARSIZE_ANY_EXHDR(sp) ||
					  memcmp(a->vee_sp.data, VARDATA_ANY(sp), a->vee_sp.len) != 0)))
	{
		vee_flush_sp(a);
		a->vee_have_sp = true;
		a->vee_sp_null = sp_null;
		resetStringInfo(&a->vee_sp);
		if (!sp_null)
			appendBinaryStringInfo(&a->vee_sp, VARDATA_ANY(sp), VARSIZE_ANY_EXHDR(sp));
	}
	/* rows without a channel are in no channel's figures (nor series) */
	if (n[a->p_channel])
		return;
	channel = DatumGetTextPP(v[a->p_channel]);
	c = vee_channel(a, v[a->p_channel]);
	quality = DatumGetInt16(v[a->p_quality]);
	c->reads++;
	if (quality == GF_QUALITY_VALID)
		c->valid++;
	else if (quality == GF_QUALITY_QUESTIONABLE)
		c->questionable++;
	else if (quality == GF_QUALITY_ESTIMATED_REFERENCE || quality == GF_QUALITY_ESTIMATED_LINEAR)
		c->estimated++;

	/* its series (meter, channel), and its series day */
	intervals = n[a->p_resolution] ||
		!(VARSIZE_ANY_EXHDR(DatumGetTextPP(v[a->p_resolution])) == 3 &&
		  memcmp(VARDATA_ANY(DatumGetTextPP(v[a->p_resolution])), "day", 3) == 0);
	resetStringInfo(&a->keybuf);
	flag = meter_null ? 1 : 0;
	appendBinaryStringInfo(&a->keybuf, &flag, 1);
	appendBinaryStringInfo(&a->keybuf, (char *) &meter_len, sizeof(meter_len));
	if (!meter_null)
		appendBinaryStringInfo(&a->keybuf, VARDATA_ANY(meter), meter_len);
	series_len = a->keybuf.len;
	appendBinaryStringInfo(&a->keybuf, VARDATA_ANY(channel), VARSIZE_ANY_EXHDR(channel));
	last = gf_keytable_find(a->vee_series, a->keybuf.data, (uint32) a->keybuf.len,
							gf_key_hash(a->keybuf.data, (uint32) a->keybuf.len), true, &found);
	if (!found)
		memset(last, 0, sizeof(VeeSeriesLast));
	/*
	 * an estimated row: counted per method, with the gap it fills (its first
	 * row); not a read of its series day, nor the read a gap is measured from
	 */
	if (quality == GF_QUALITY_ESTIMATED_REFERENCE || quality == GF_QUALITY_ESTIMATED_LINEAR)
	{
		int			m = quality == GF_QUALITY_ESTIMATED_LINEAR ? 0 : 1;

		c->est_intervals[m]++;
		if (!last->estimated)
			c->est_gaps[m]++;
		last->estimated = true;
		return;
	}
	a->keybuf.len = series_len;
	appendBinaryStringInfo(&a->keybuf, (char *) &date, sizeof(date));
	flag = duration_null ? 1 : 0;
	appendBinaryStringInfo(&a->keybuf, &flag, 1);
	appendBinaryStringInfo(&a->keybuf, (char *) &duration, sizeof(duration));
	flag = intervals ? 1 : 0;
	appendBinaryStringInfo(&a->keybuf, &flag, 1);
	appendBinaryStringInfo(&a->keybuf, VARDATA_ANY(channel), VARSIZE_ANY_EXHDR(channel));
	reads = gf_keytable_find(a->vee_series_days, a->keybuf.data, (uint32) a->keybuf.len,
							 gf_key_hash(a->keybuf.data, (uint32) a->keybuf.len), true, &found);
	if (!found)
		*reads = 0;
	(*reads)++;

	/* the rules it failed: their reads, and (per service point) their days */
	if (!n[a->p_flags])
	{
		/* the writer hands over one array per combination of rules: decode each once per channel */
		if (v[a->p_flags] != a->last_flags || c != a->last_flags_channel)
		{
			Datum	   *elems;
			bool	   *nulls;
			int			nelems;

			deconstruct_array(DatumGetArrayTypeP(v[a->p_flags]), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &nulls, &nelems);
			a->nflags = 0;
			for (int i = 0; i < nelems && a->nflags < VEE_MAX_RULES; i++)
				if (!nulls[i])
					a->flag_index[a->nflags++] = vee_rule_index(a, c, TextDatumGetCString(elems[i]));
			a->last_flags = v[a->p_flags];
			a->last_flags_channel = c;
		}
		for (int i = 0; i < a->nflags; i++)
		{
			int			rule = a->flag_index[i];
			char		key[sizeof(VeeChannel *) + sizeof(int) + sizeof(DateADT)];

			c->rule_reads[rule]++;
			memcpy(key, &c, sizeof(c));
			memcpy(key + sizeof(c), &rule, sizeof(rule));
			memcpy(key + sizeof(c) + sizeof(rule), &date, sizeof(date));
			(void) gf_keytable_find(a->vee_flag_days, key, sizeof(key), gf_key_hash(key, sizeof(key)), true,
									&found);
			if (strcmp(c->rule[rule], "gap") == 0)
				gap = true;
		}
	}

	/* a gap: the time since the end of the series' read before (of the same meter) */
	if (gap && !meter_null && last->any && !last->end_null)
	{
		TimestampTz start = DatumGetTimestampTz(v[a->p_start]);
		double		seconds = (double) (start - last->end) / USECS_PER_SEC;

		c->gaps++;
		c->gap_seconds += seconds;
		if (!c->any_gap_seconds || seconds > c->longest_gap)
			c->longest_gap = seconds;
		c->any_gap_seconds = true;
		if (!last->duration_null && last->duration != 0)
			c->gap_intervals += (int64) floor(seconds / (double) last->duration);
		/* not filled by estimates: the row before is the read */
		if (!last->estimated)
		{
			c->unestimated_gaps++;
			if (!last->duration_null && last->duration != 0)
				c->unestimated_intervals += (int64) floor(seconds / (double) last->duration);
		}
	}
	last->estimated = false;
	last->any = true;
	last->end_null = n[a->p_end];
	last->end = n[a->p_end] ? 0 : DatumGetTimestampTz(v[a->p_end]);
	last->duration_null = duration_null;
	last->duration = duration;
}

/* A product row. */
void
gf_dq_acc_product(GfDqAcc *a, TupleTableSlot *slot)
{
	Datum	   *v = slot->tts_values;
	bool	   *n = slot->tts_isnull;
	ProductGroup *g = a->last_product;
	int64		batch_id;
	bool		sp_known,
				meter_known;

	if (a->product_desc != slot->tts_tupleDescriptor)
	{
		TupleDesc	d = slot->tts_tupleDescriptor;

		a->product_desc = d;
		a->p_batch = gf_attnum(d, "batch_id", false);
		a->p_sp_known = gf_attnum(d, "service_point_known", false);
		a->p_meter_known = gf_attnum(d, "meter_known", false);
		a->p_sp = gf_attnum(d, "service_point_id", false);
		a->p_meter = gf_attnum(d, "meter_id", false);
		a->p_value = gf_attnum(d, "value", false);
		a->p_local_date = gf_attnum(d, "local_date", false);
		a->p_start = gf_attnum(d, "interval_start_ts", false);
		a->p_channel = gf_attnum(d, "channel", false);
		a->p_quality = gf_attnum(d, "quality_code", false);
		a->p_flags = gf_attnum(d, "vee_flags", false);
		a->p_end = gf_attnum(d, "interval_end_ts", false);
		a->p_duration = gf_attnum(d, "duration_seconds", false);
		a->p_resolution = gf_attnum(d, "time_resolution", false);
		a->last_flags = (Datum) 0;
	}
	/* an estimated row (no batch): only in the validation figures */
	if (n[a->p_batch])
	{
		vee_product(a, slot);
		return;
	}
	batch_id = DatumGetInt64(v[a->p_batch]);
	if (g == NULL || g->batch_id != batch_id)
	{
		for (g = a->products; g != NULL; g = g->next)
			if (g->batch_id == batch_id)
				break;
		if (g == NULL)
		{
			g = MemoryContextAllocZero(a->cxt, sizeof(ProductGroup));
			g->batch_id = batch_id;
			g->next = a->products;
			a->products = g;
		}
		a->last_product = g;
	}

	sp_known = !n[a->p_sp_known] && DatumGetBool(v[a->p_sp_known]);
	meter_known = !n[a->p_meter_known] && DatumGetBool(v[a->p_meter_known]);
	g->n++;
	if (!n[a->p_sp_known] && !sp_known)
	{
		g->orphan++;
		if (!n[a->p_sp])
			set_add(a->orphan_sps, v[a->p_sp]);
	}
	if (!n[a->p_meter_known] && !meter_known)
	{
		g->unknown_meter++;
		if (!n[a->p_meter])
			set_add(a->orphan_meters, v[a->p_meter]);
	}
	if (sp_known && meter_known)
		g->ready++;
	g->without_sp += n[a->p_sp];
	if (!n[a->p_value])
	{
		double		x = DatumGetFloat8(v[a->p_value]);

		g->with_value++;
		sum_add(a, &g->value, false, v[a->p_value]);
		range_add(&g->range, false, v[a->p_value]);
		if (float8_eq(x, 0.0))
			g->zeros++;
		if (float8_lt(x, 0.0))
			g->negatives++;
	}
	if (!n[a->p_local_date])
		bounds_add(&g->days, DatumGetDateADT(v[a->p_local_date]));
	if (n[a->p_start])
		g->null_ts++;
	else
	{
		TimestampTz ts = DatumGetTimestampTz(v[a->p_start]);

		bounds_add(&g->starts, ts);
		/* 2020-01-01 00:00:00+00 */
		if (ts < (TimestampTz) (date2j(2020, 1, 1) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY)
			g->before_2020++;
	}
	vee_product(a, slot);
}

/* the group of a day or month and channel */
static DayGroup *
day_group(GfDqAcc *a, GfKeyTable *t, DateADT date, text *channel)
{
	bool		found;
	DayGroup   *g;

	resetStringInfo(&a->keybuf);
	appendBinaryStringInfo(&a->keybuf, (char *) &date, sizeof(date));
	appendBinaryStringInfo(&a->keybuf, VARDATA_ANY(channel), VARSIZE_ANY_EXHDR(channel));
	g = gf_keytable_find(t, a->keybuf.data, (uint32) a->keybuf.len,
						 gf_key_hash(a->keybuf.data, (uint32) a->keybuf.len), true, &found);
	if (!found)
	{
		memset(g, 0, sizeof(DayGroup));
		g->last_sp = -1;
	}
	return g;
}

static void
day_group_add(GfDqAcc *a, DayGroup *g, TupleTableSlot *slot, bool month)
{
	Datum	   *v = slot->tts_values;
	bool	   *n = slot->tts_isnull;

	unit_add(a, &g->unit, n[a->d_unit], v[a->d_unit]);
	g->days++;
	if (!month)
		g->service_points++;
	else if (g->last_sp != a->sp_seq)
	{
		g->service_points++;
		g->last_sp = a->sp_seq;
	}
	if (!n[a->d_count])
		g->reads += DatumGetInt32(v[a->d_count]);
	sum_add(a, &g->total, n[a->d_total], v[a->d_total]);
	range_add(&g->peak, n[a->d_peak], v[a->d_peak]);
	if (!n[a->d_estimated])
		g->estimated += DatumGetInt32(v[a->d_estimated]);
	if (!n[a->d_questionable])
		g->questionable += DatumGetInt32(v[a->d_questionable]);
	sum_add(a, &g->estimated_usage, n[a->d_estimated_usage], v[a->d_estimated_usage]);
}

/*
 * A day (experience.daily_usage row).  The days of a service point come
 * together, in the order of their local day (experience.c), so its
 * distinct days and the distinct service points of each month are
 * counted as they change.
 */
void
gf_dq_acc_day(GfDqAcc *a, TupleTableSlot *slot)
{
	Datum	   *v = slot->tts_values;
	bool	   *n = slot->tts_isnull;
	text	   *sp;
	DateADT		date;
	bool		new_sp;
	DayUnit    *du = a->last_day_unit;

	if (a->day_desc != slot->tts_tupleDescriptor)
	{
		TupleDesc	d = slot->tts_tupleDescriptor;

		a->day_desc = d;
		a->d_sp = gf_attnum(d, "service_point_id", false);
		a->d_local_date = gf_attnum(d, "local_date", false);
		a->d_channel = gf_attnum(d, "channel", false);
		a->d_unit = gf_attnum(d, "unit", false);
		a->d_resolution = gf_attnum(d, "time_resolution", false);
		a->d_total = gf_attnum(d, "total_usage", false);
		a->d_count = gf_attnum(d, "interval_count", false);
		a->d_peak = gf_attnum(d, "peak_usage_value", false);
		a->d_estimated = gf_attnum(d, "estimated_count", false);
		a->d_questionable = gf_attnum(d, "questionable_count", false);
		a->d_estimated_usage = gf_attnum(d, "estimated_usage", false);
	}
	/* the writer always sets these (the table's key) */
	if (n[a->d_sp] || n[a->d_local_date])
		elog(ERROR, "gridflow: a day without service point or local day");
	sp = DatumGetTextPP(v[a->d_sp]);
	date = DatumGetDateADT(v[a->d_local_date]);

	a->days++;
	sum_add(a, &a->day_total, n[a->d_total], v[a->d_total]);
	range_add(&a->day_peak, n[a->d_peak], v[a->d_peak]);

	new_sp = !a->have_last || (uint32) a->last_sp.len != VARSIZE_ANY_EXHDR(sp) ||
		memcmp(a->last_sp.data, VARDATA_ANY(sp), a->last_sp.len) != 0;
	if (new_sp)
	{
		resetStringInfo(&a->last_sp);
		appendBinaryStringInfo(&a->last_sp, VARDATA_ANY(sp), VARSIZE_ANY_EXHDR(sp));
		a->sps++;
		a->sp_seq++;
		a->sp_days++;
		a->last_date = date;
		a->have_last = true;
	}
	else if (date != a->last_date)
	{
		if (date < a->last_date)
			elog(ERROR, "gridflow: the days of service point \"%s\" are not in order", a->last_sp.data);
		a->sp_days++;
		a->last_date = date;
	}

	if (!n[a->d_channel])
	{
		text	   *ch = DatumGetTextPP(v[a->d_channel]);

		set_add(a->channels, v[a->d_channel]);
		day_group_add(a, day_group(a, a->day_groups, date, ch), slot, false);
		day_group_add(a, day_group(a, a->month_groups, gf_month_start(date), ch), slot, true);
	}

	if (du == NULL || !text_equals(&du->unit, n[a->d_unit], v[a->d_unit]))
	{
		for (du = a->day_units; du != NULL; du = du->next)
			if (text_equals(&du->unit, n[a->d_unit], v[a->d_unit]))
				break;
		if (du == NULL)
		{
			du = MemoryContextAllocZero(a->cxt, sizeof(DayUnit));
			text_keep(a, &du->unit, n[a->d_unit], v[a->d_unit]);
			du->next = a->day_units;
			a->day_units = du;
		}
		a->last_day_unit = du;
	}
	du->n++;
	sum_add(a, &du->total, n[a->d_total], v[a->d_total]);
	if (!n[a->d_resolution])
	{
		text	   *r = DatumGetTextPP(v[a->d_resolution]);

		if (VARSIZE_ANY_EXHDR(r) == 3 && memcmp(VARDATA_ANY(r), "day", 3) == 0)
			du->day_days++;
	}
}

/* ---------------------------------------------------------------------
 * gridflow.dq_build_figures(utility_id text, part text) RETURNS SETOF record
 * ---------------------------------------------------------------------
 */

static Datum
partials_datum(const AccSum *s, bool *isnull)
{
	*isnull = (s->count == 0);
	return s->count == 0 ? (Datum) 0 : gf_fsum_partials_datum(&s->sum);
}

static Datum
sum_datum(const AccSum *s, bool *isnull)
{
	double		r;

	*isnull = (s->count == 0);
	if (s->count == 0)
		return (Datum) 0;
	r = gf_fsum_result(&s->sum);
	if (!isfinite(r) && !s->sum.has_special)
		gf_sum_overflow(NULL);
	return Float8GetDatum(r);
}

static int
value_count_cmp(const void *x, const void *y)
{
	return float8_cmp_internal(((const ValueCount *) x)->value, ((const ValueCount *) y)->value);
}

/* the columns of each part, as the SQL that reads it names them */
typedef struct FigurePart
{
	const char *name;
	int			natts;
	Oid			types[20];
} FigurePart;

static const FigurePart parts[] = {
	{"reads", 19, {INT8OID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
	FLOAT8ARRAYOID, FLOAT8ARRAYOID, INT8OID, INT8OID, INT8OID, INT8OID, FLOAT8OID, FLOAT8OID, INT8OID, INT8OID}},
	{"values", 3, {TEXTOID, FLOAT8ARRAYOID, INT8ARRAYOID}},
	{"products", 18, {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, FLOAT8ARRAYOID, FLOAT8OID,
	FLOAT8OID, INT8OID, INT8OID, DATEOID, DATEOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, INT8OID}},
	{"orphans", 2, {INT8OID, INT8OID}},
	{"days", 7, {INT8OID, FLOAT8ARRAYOID, INT8OID, FLOAT8OID, INT8OID, INT8OID, TEXTARRAYOID}},
	{"day_groups", 10, {DATEOID, TEXTOID, TEXTOID, INT8OID, INT8OID, FLOAT8OID, FLOAT8OID, INT8OID, INT8OID,
	FLOAT8OID}},
	{"month_groups", 11, {DATEOID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, FLOAT8OID, FLOAT8OID, INT8OID,
	INT8OID, FLOAT8OID}},
	{"day_units", 5, {TEXTOID, INT8OID, FLOAT8ARRAYOID, INT8OID, INT8OID}},
	{"service_points", 8, {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID}},
	{"meters", 9, {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID}},
	{"assignments", 2, {INT8OID, INT8OID}},
	{"meter_link", GF_LINK_FIGURES, {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID}},
	{"multi_premise_meters", 6, {TEXTOID, INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID}},
	{"vee_quality", 5, {TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID}},
	{"vee_flags", 4, {TEXTOID, TEXTOID, INT8OID, INT8OID}},
	{"vee_interval_counts", 7, {TEXTOID, INT4OID, INT4OID, INT8OID, INT8OID, INT8OID, INT8OID}},
	{"vee_gaps", 7, {TEXTOID, INT8OID, INT8OID, FLOAT8OID, FLOAT8OID, INT8OID, INT8OID}},
	{"vee_estimates", 4, {TEXTOID, INT4OID, INT8OID, INT8OID}},
};

/* one row of int64 figures */
static void
put_figures(const int64 *f, int n, Tuplestorestate *ts, TupleDesc desc)
{
	Datum		v[9];
	bool		nl[9] = {0};

	for (int i = 0; i < n; i++)
		v[i] = Int64GetDatum(f[i]);
	tuplestore_putvalues(ts, desc, v, nl);
}

static void
put_day_groups(GfDqAcc *a, GfKeyTable *t, bool month, Tuplestorestate *ts, TupleDesc desc)
{
	for (uint32 i = 0; i < t->nentries; i++)
	{
		DayGroup   *g = gf_keytable_payload(t, i);
		uint32		len;
		const char *key = gf_keytable_key(t, i, &len);
		DateADT		date;
		Datum		v[11];
		bool		nl[11] = {0};
		int			c = 0;

		CHECK_FOR_INTERRUPTS();
		memcpy(&date, key, sizeof(date));
		v[c++] = DateADTGetDatum(date);
		v[c++] = PointerGetDatum(cstring_to_text_with_len(key + sizeof(date), (int) (len - sizeof(date))));
		v[c] = unit_datum(&g->unit, &nl[c]);
		c++;
		if (month)
			v[c++] = Int64GetDatum(g->service_points);
		v[c++] = Int64GetDatum(g->days);
		v[c++] = Int64GetDatum(g->reads);
		v[c] = sum_datum(&g->total, &nl[c]);
		c++;
		nl[c] = !g->peak.any;
		v[c++] = Float8GetDatum(g->peak.max);
		v[c++] = Int64GetDatum(g->estimated);
		v[c++] = Int64GetDatum(g->questionable);
		v[c] = sum_datum(&g->estimated_usage, &nl[c]);
		c++;
		tuplestore_putvalues(ts, desc, v, nl);
	}
}

PG_FUNCTION_INFO_V1(gridflow_dq_build_figures);

Datum
gridflow_dq_build_figures(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *utility_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *part = text_to_cstring(PG_GETARG_TEXT_PP(1));
	const FigurePart *fp = NULL;
	GfDqAcc    *a = gf_dq_acc_get(utility_id);
	TupleDesc	desc;
	Tuplestorestate *ts;

	for (int i = 0; i < lengthof(parts); i++)
		if (strcmp(parts[i].name, part) == 0)
			fp = &parts[i];
	if (fp == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown part \"%s\" of the DQ figures", part)));
	if (a == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no DQ figures of utility \"%s\" were gathered in this transaction", utility_id),
				 errdetail("A build gathers them while it writes the utility's layers; they are read when it stores them.")));
	InitMaterializedSRF(fcinfo, 0);
	desc = rsinfo->setDesc;
	ts = rsinfo->setResult;
	if (desc->natts != fp->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the DQ figures \"%s\" have %d columns, not %d", part, fp->natts, desc->natts)));
	for (int i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->atttypid != fp->types[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the DQ figures \"%s\" is of type %s, not %s", i + 1, part,
							format_type_be(fp->types[i]), format_type_be(TupleDescAttr(desc, i)->atttypid))));

	if (strcmp(part, "reads") == 0)
	{
		for (ReadGroup *g = a->reads; g != NULL; g = g->next)
		{
			Datum		v[19];
			bool		nl[19] = {0};
			int			c = 0;

			v[c++] = Int64GetDatum(g->batch_id);
			v[c] = text_datum(&g->channel, &nl[c]);
			c++;
			v[c] = text_datum(&g->unit, &nl[c]);
			c++;
			v[c++] = Int64GetDatum(g->n);
			v[c++] = Int64GetDatum(g->src);
			v[c++] = Int64GetDatum(g->dup_keys);
			v[c++] = Int64GetDatum(g->conf_keys);
			v[c++] = Int64GetDatum(g->conf_rows);
			v[c++] = Int64GetDatum(g->resent);
			v[c] = partials_datum(&g->kept, &nl[c]);
			c++;
			v[c] = partials_datum(&g->source, &nl[c]);
			c++;
			v[c++] = Int64GetDatum(g->c_sp);
			v[c++] = Int64GetDatum(g->c_m);
			v[c++] = Int64GetDatum(g->c_ts);
			v[c++] = Int64GetDatum(g->c_v);
			nl[c] = !g->range.any;
			v[c++] = Float8GetDatum(g->range.min);
			nl[c] = !g->range.any;
			v[c++] = Float8GetDatum(g->range.max);
			v[c++] = Int64GetDatum(g->zeros);
			v[c++] = Int64GetDatum(g->negatives);
			tuplestore_putvalues(ts, desc, v, nl);
		}
	}
	else if (strcmp(part, "values") == 0)
	{
		for (ValueUnit *vu = a->value_units; vu != NULL; vu = vu->next)
		{
			uint32		nv = vu->values->nentries;
			ValueCount *sorted = palloc(sizeof(ValueCount) * Max(nv, 1));
			Datum	   *vals = palloc(sizeof(Datum) * Max(nv, 1));
			Datum	   *counts = palloc(sizeof(Datum) * Max(nv, 1));
			Datum		v[3];
			bool		nl[3] = {0};

			for (uint32 i = 0; i < nv; i++)
				sorted[i] = *(ValueCount *) gf_keytable_payload(vu->values, i);
			qsort(sorted, nv, sizeof(ValueCount), value_count_cmp);
			for (uint32 i = 0; i < nv; i++)
			{
				vals[i] = Float8GetDatum(sorted[i].value);
				counts[i] = Int64GetDatum(sorted[i].reads);
			}
			v[0] = text_datum(&vu->unit, &nl[0]);
			v[1] = PointerGetDatum(construct_array(vals, (int) nv, FLOAT8OID, sizeof(float8),
												   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			v[2] = PointerGetDatum(construct_array(counts, (int) nv, INT8OID, sizeof(int64),
												   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			tuplestore_putvalues(ts, desc, v, nl);
			pfree(sorted);
			pfree(vals);
			pfree(counts);
		}
	}
	else if (strcmp(part, "products") == 0)
	{
		for (ProductGroup *g = a->products; g != NULL; g = g->next)
		{
			Datum		v[18];
			bool		nl[18] = {0};
			int			c = 0;

			v[c++] = Int64GetDatum(g->batch_id);
			v[c++] = Int64GetDatum(g->n);
			v[c++] = Int64GetDatum(g->orphan);
			v[c++] = Int64GetDatum(g->unknown_meter);
			v[c++] = Int64GetDatum(g->ready);
			v[c++] = Int64GetDatum(g->without_sp);
			v[c++] = Int64GetDatum(g->with_value);
			v[c] = partials_datum(&g->value, &nl[c]);
			c++;
			nl[c] = !g->range.any;
			v[c++] = Float8GetDatum(g->range.min);
			nl[c] = !g->range.any;
			v[c++] = Float8GetDatum(g->range.max);
			v[c++] = Int64GetDatum(g->zeros);
			v[c++] = Int64GetDatum(g->negatives);
			nl[c] = !g->days.any;
			v[c++] = DateADTGetDatum((DateADT) g->days.min);
			nl[c] = !g->days.any;
			v[c++] = DateADTGetDatum((DateADT) g->days.max);
			nl[c] = !g->starts.any;
			v[c++] = TimestampTzGetDatum(g->starts.min);
			nl[c] = !g->starts.any;
			v[c++] = TimestampTzGetDatum(g->starts.max);
			v[c++] = Int64GetDatum(g->null_ts);
			v[c++] = Int64GetDatum(g->before_2020);
			tuplestore_putvalues(ts, desc, v, nl);
		}
	}
	else if (strcmp(part, "orphans") == 0)
	{
		Datum		v[2];
		bool		nl[2] = {0};

		v[0] = Int64GetDatum((int64) a->orphan_meters->nentries);
		v[1] = Int64GetDatum((int64) a->orphan_sps->nentries);
		tuplestore_putvalues(ts, desc, v, nl);
	}
	else if (strcmp(part, "days") == 0)
	{
		Datum		v[7];
		bool		nl[7] = {0};
		Datum	   *chs = palloc(sizeof(Datum) * Max(a->channels->nentries, 1));

		for (uint32 i = 0; i < a->channels->nentries; i++)
		{
			uint32		len;
			const char *k = gf_keytable_key(a->channels, i, &len);

			chs[i] = PointerGetDatum(cstring_to_text_with_len(k, (int) len));
		}
		v[0] = Int64GetDatum(a->days);
		v[1] = partials_datum(&a->day_total, &nl[1]);
		v[2] = Int64GetDatum(a->day_total.count);
		nl[3] = !a->day_peak.any;
		v[3] = Float8GetDatum(a->day_peak.max);
		v[4] = Int64GetDatum(a->sp_days);
		v[5] = Int64GetDatum(a->sps);
		v[6] = PointerGetDatum(construct_array(chs, (int) a->channels->nentries, TEXTOID, -1, false,
											   TYPALIGN_INT));
		tuplestore_putvalues(ts, desc, v, nl);
	}
	else if (strcmp(part, "day_groups") == 0)
		put_day_groups(a, a->day_groups, false, ts, desc);
	else if (strcmp(part, "month_groups") == 0)
		put_day_groups(a, a->month_groups, true, ts, desc);
	else if (strcmp(part, "service_points") == 0)
		put_figures(a->sp_figures, 8, ts, desc);
	else if (strcmp(part, "meters") == 0)
	{
		a->meter_figures[7] = a->meter_orphans->nentries;
		put_figures(a->meter_figures, 9, ts, desc);
	}
	else if (strcmp(part, "assignments") == 0)
		put_figures(a->assignment_figures, 2, ts, desc);
	else if (strncmp(part, "vee_", 4) == 0)
	{
		vee_flush_sp(a);
		if (strcmp(part, "vee_interval_counts") == 0)
		{
			for (uint32 i = 0; i < a->vee_counts->nentries; i++)
			{
				uint32		len;
				const char *key = gf_keytable_key(a->vee_counts, i, &len);
				VeeCountGroup *g = gf_keytable_payload(a->vee_counts, i);
				int32		duration;
				int32		day_seconds;
				Datum		v[7];
				bool		nl[7] = {0};

				/* [duration][day seconds][channel] */
				memcpy(&duration, key, sizeof(duration));
				memcpy(&day_seconds, key + sizeof(duration), sizeof(day_seconds));
				v[0] = PointerGetDatum(cstring_to_text_with_len(key + 2 * sizeof(int32),
																(int) (len - 2 * sizeof(int32))));
				v[1] = Int32GetDatum(duration);
				v[2] = Int32GetDatum(day_seconds);
				v[3] = Int64GetDatum(g->days);
				v[4] = Int64GetDatum(g->complete);
				v[5] = Int64GetDatum(g->short_days);
				v[6] = Int64GetDatum(g->over_days);
				tuplestore_putvalues(ts, desc, v, nl);
			}
		}
		else
			for (VeeChannel *c = a->vee_channels; c != NULL; c = c->next)
			{
				Datum		v[7];
				bool		nl[7] = {0};
				bool		isnull;

				v[0] = text_datum(&c->channel, &isnull);
				if (strcmp(part, "vee_quality") == 0)
				{
					v[1] = Int64GetDatum(c->reads);
					v[2] = Int64GetDatum(c->valid);
					v[3] = Int64GetDatum(c->questionable);
					v[4] = Int64GetDatum(c->estimated);
					tuplestore_putvalues(ts, desc, v, nl);
				}
				else if (strcmp(part, "vee_flags") == 0)
					for (int r = 0; r < c->nrules; r++)
					{
						v[1] = CStringGetTextDatum(c->rule[r]);
						v[2] = Int64GetDatum(c->rule_reads[r]);
						v[3] = Int64GetDatum(c->rule_days[r]);
						tuplestore_putvalues(ts, desc, v, nl);
					}
				else if (strcmp(part, "vee_estimates") == 0)
					for (int m = 0; m < 2; m++)
					{
						v[1] = Int32GetDatum(m == 0 ? GF_QUALITY_ESTIMATED_LINEAR :
											 GF_QUALITY_ESTIMATED_REFERENCE);
						v[2] = Int64GetDatum(c->est_gaps[m]);
						v[3] = Int64GetDatum(c->est_intervals[m]);
						tuplestore_putvalues(ts, desc, v, nl);
					}
				else
				{
					v[1] = Int64GetDatum(c->gaps);
					v[2] = Int64GetDatum(c->gap_intervals);
					v[3] = Float8GetDatum(c->gap_seconds);
					nl[4] = !c->any_gap_seconds;
					v[4] = Float8GetDatum(c->longest_gap);
					v[5] = Int64GetDatum(c->unestimated_gaps);
					v[6] = Int64GetDatum(c->unestimated_intervals);
					tuplestore_putvalues(ts, desc, v, nl);
				}
			}
	}
	else if (strcmp(part, "multi_premise_meters") == 0)
	{
		for (uint32 i = 0; i < a->assigned->nentries; i++)
		{
			AssignedMeter *m = gf_keytable_payload(a->assigned, i);
			uint32		len;
			const char *key = gf_keytable_key(a->assigned, i, &len);
			Datum		v[6];
			bool		nl[6] = {0};

			CHECK_FOR_INTERRUPTS();
			if (m->nsps < 2)
				continue;
			nl[0] = (key[0] == '\0');
			v[0] = nl[0] ? (Datum) 0 : PointerGetDatum(cstring_to_text_with_len(key + 1, (int) len - 1));
			v[1] = Int64GetDatum(m->nsps);
			v[2] = Int64GetDatum(m->rows);
			nl[3] = nl[4] = !m->installed.any;
			v[3] = TimestampTzGetDatum(m->installed.min);
			v[4] = TimestampTzGetDatum(m->installed.max);
			/* coalesce(the meter file's, the first assignment-file row's) */
			if (m->meter_known && !m->meter_sp.isnull)
				v[5] = text_datum(&m->meter_sp, &nl[5]);
			else if (m->have_assigned)
				v[5] = text_datum(&m->assigned_sp, &nl[5]);
			else
				nl[5] = true;
			tuplestore_putvalues(ts, desc, v, nl);
		}
	}
	else if (strcmp(part, "meter_link") == 0)
	{
		int64		counts[GF_LINK_FIGURES];

		if (a->link == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("no meter-link figures of utility \"%s\" were gathered", utility_id),
					 errdetail("They are gathered for utilities whose reads reach service points through meters.")));
		gf_link_figures_counts(a->link, counts);
		put_figures(counts, GF_LINK_FIGURES, ts, desc);
	}
	else
	{
		for (DayUnit *du = a->day_units; du != NULL; du = du->next)
		{
			Datum		v[5];
			bool		nl[5] = {0};

			v[0] = text_datum(&du->unit, &nl[0]);
			v[1] = Int64GetDatum(du->n);
			v[2] = partials_datum(&du->total, &nl[2]);
			v[3] = Int64GetDatum(du->total.count);
			v[4] = Int64GetDatum(du->day_days);
			tuplestore_putvalues(ts, desc, v, nl);
		}
	}
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * An ingest's figures, gathered from the layers
 * ---------------------------------------------------------------------
 */

/*
 * Feed hook with the rows of query (a cursor over one of the utility's
 * relations, in the order the build writes them); assignment rows come
 * with a column saying whether an assignment file (not a meter file) made
 * each.
 */
static void
gather_rows(GfDqAcc *a, const char *query, int hook)
{
	Portal		portal = SPI_cursor_open_with_args(NULL, query, 1, (Oid[]) {TEXTOID},
												   &a->u->utility_datum, NULL, false, 0);
	TupleTableSlot *slot = NULL;
	TupleDesc	desc = NULL;
	int			file_att = -1;

	for (;;)
	{
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		if (slot == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(a->cxt);

			desc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
			slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
			MemoryContextSwitchTo(old);
			file_att = gf_attnum(desc, "gridflow_assignment_file", true);
		}
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			CHECK_FOR_INTERRUPTS();
			ExecStoreHeapTuple(SPI_tuptable->vals[i], slot, false);
			slot_getallattrs(slot);
			switch (hook)
			{
				case 0:
					gf_dq_acc_dimension(a, GF_KIND_SERVICE_POINT, slot);
					break;
				case 1:
					gf_dq_acc_dimension(a, GF_KIND_METER, slot);
					break;
				case 2:
					gf_dq_acc_assignment(a, DatumGetBool(slot->tts_values[file_att]) ?
										 GF_KIND_ASSIGNMENT : GF_KIND_METER, slot);
					break;
				case 3:
					gf_dq_acc_read(a, slot);
					break;
				case 4:
					gf_dq_acc_product(a, slot);
					break;
				case 5:
					gf_dq_acc_day(a, slot);
					break;
			}
			ExecClearTuple(slot);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	if (slot != NULL)
		ExecDropSingleTupleTableSlot(slot);
}

/*
 * The DQ figures of utility u (its partitions rels, by GfStore; InvalidOid:
 * none) gathered from what its layers hold, as a build gathers them while
 * writing: each relation read once, in the order the build writes it
 * (dimensions, assignment rows, reads, products by service point and
 * time, days by service point).  An ingest's figures, stored by
 * gf_dq_refresh(..., true).
 */
void
gf_dq_acc_gather(GfUtility *u, const Oid *rels)
{
	GfDqAcc    *a;
	static const struct
	{
		GfStore		store;
		int			hook;
		const char *order;
	}			steps[] = {
		{GF_STORE_SERVICE_POINT, 0, "r.service_point_id"},
		{GF_STORE_METER, 1, "r.meter_id"},
		{GF_STORE_ASSIGNMENT, 2, "r.batch_id, r.line_no"},
		{GF_STORE_READ, 3, NULL},	/* in any order */
		{GF_STORE_PRODUCT, 4, "r.service_point_id, r.interval_start_ts, r.utility_id, r.meter_id, r.channel"},
		{GF_STORE_DAY, 5, "r.service_point_id, r.local_date, r.channel"},
	};

	a = gf_dq_acc_begin(u);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int i = 0; i < lengthof(steps); i++)
	{
		const char *rel;

		if (!OidIsValid(rels[steps[i].store]))
			continue;
		rel = gf_qualified_name(rels[steps[i].store]);
		gather_rows(a,
					steps[i].hook == 2 ?
					psprintf("SELECT r.*, coalesce(b.file_kind OPERATOR(pg_catalog.=) 'assignment', false) "
							 "AS gridflow_assignment_file FROM %s r "
							 "LEFT JOIN gridflow.batch b ON b.batch_id OPERATOR(pg_catalog.=) r.batch_id "
							 "WHERE r.utility_id OPERATOR(pg_catalog.=) $1 ORDER BY %s", rel, steps[i].order) :
					psprintf("SELECT r.* FROM %s r WHERE r.utility_id OPERATOR(pg_catalog.=) $1%s%s",
							 rel, steps[i].order ? " ORDER BY " : "",
							 steps[i].order ? steps[i].order : ""),
					steps[i].hook);
	}
	SPI_finish();
}
