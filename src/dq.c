/*-------------------------------------------------------------------------
 *
 * dq.c
 *	  The stored data-quality figures: at the end of a build and of an
 *	  ingest, gridflow.dq_refresh() (40_dq.sql) computes the figures of
 *	  each utility the run loaded, from the relations that hold its rows,
 *	  and stores them for the dq views to read.
 *
 * A build computes them from the partitions it made (before they are
 * swapped in, so that readers are not kept waiting by the computation),
 * or, for a utility whose layers are a shard's, from the partitions that
 * reach the shard; an ingest from the utility's partitions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "gridflow.h"
#include "keytable.h"

/* the layers gridflow.dq_refresh() reads, in the order of its arguments */
static const GfStore refresh_tables[] = {GF_STORE_READ, GF_STORE_PRODUCT, GF_STORE_DAY,
GF_STORE_SERVICE_POINT, GF_STORE_METER, GF_STORE_ASSIGNMENT};

/*
 * The DQ computations' sorts and hashes may use the memory of a build
 * rather than spill; returns the GUC nest level to give AtEOXact_GUC(true,
 * ...) after them.
 */
static int
dq_memory_begin(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("work_mem", psprintf("%d", gf_build_memory_kb), PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

/*
 * Store the DQ figures of utility_id for run build_id, reading the
 * relations rels[GfStore] (InvalidOid: the utility has no such rows).
 */
void
gf_dq_refresh(const char *utility_id, int64 build_id, const Oid *rels, bool gathered)
{
	Oid			types[3 + lengthof(refresh_tables)];
	Datum		args[3 + lengthof(refresh_tables)];
	char		nulls[3 + lengthof(refresh_tables)];
	int			nest;

	types[0] = INT8OID;
	args[0] = Int64GetDatum(build_id);
	nulls[0] = ' ';
	types[1] = TEXTOID;
	args[1] = CStringGetTextDatum(utility_id);
	nulls[1] = ' ';
	for (int i = 0; i < lengthof(refresh_tables); i++)
	{
		Oid			relid = rels[refresh_tables[i]];

		types[2 + i] = REGCLASSOID;
		args[2 + i] = ObjectIdGetDatum(relid);
		nulls[2 + i] = OidIsValid(relid) ? ' ' : 'n';
	}
	types[2 + lengthof(refresh_tables)] = BOOLOID;
	args[2 + lengthof(refresh_tables)] = BoolGetDatum(gathered);
	nulls[2 + lengthof(refresh_tables)] = ' ';
	nest = dq_memory_begin();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT gridflow.dq_refresh($1, $2, $3, $4, $5, $6, $7, $8, $9)",
							  lengthof(args), types, args, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not compute the data-quality figures of utility %s", utility_id);
	SPI_finish();
	AtEOXact_GUC(true, nest);
}

/*
 * After the utilities of a run: the figures of all together; clear (a
 * build of every utility): those of earlier runs are forgotten.
 */
void
gf_dq_refresh_total(bool clear)
{
	int			nest = dq_memory_begin();

	gf_spi_exec(psprintf("SELECT gridflow.dq_refresh_total(%s)", clear ? "true" : "false"), SPI_OK_SELECT);
	AtEOXact_GUC(true, nest);
}

/*
 * After a build of every utility: the figures of the utilities it did not
 * build (their layers are gone) are no longer current.
 */
void
gf_dq_forget_others(List *utilities)
{
	StringInfoData list;
	ListCell   *lc;

	initStringInfo(&list);
	foreach(lc, utilities)
		appendStringInfo(&list, "%s%s", list.len > 0 ? ", " : "", quote_literal_cstr(lfirst(lc)));
	if (list.len == 0)
		appendStringInfoString(&list, "NULL");
	gf_spi_exec(psprintf("DELETE FROM dq.current_run WHERE utility_id NOT IN (%s) OR utility_id IS NULL",
						 list.data), SPI_OK_DELETE);
	gf_spi_exec(psprintf("DELETE FROM dq.value_distribution WHERE utility_id NOT IN (%s)", list.data),
				SPI_OK_DELETE);
	gf_spi_exec(psprintf("DELETE FROM gridflow_store.utility_daily_usage WHERE utility_id NOT IN (%s)", list.data),
				SPI_OK_DELETE);
	gf_spi_exec(psprintf("DELETE FROM gridflow_store.utility_monthly_usage WHERE utility_id NOT IN (%s)", list.data),
				SPI_OK_DELETE);
}

/*
 * SQL: gridflow.value_quantiles(vals float8[], counts bigint[]) RETURNS
 * (q1, median, q3, iqr_outliers): the exact quartiles of a distribution of
 * values (counts[i] reads of value vals[i], in any order, a value possibly
 * more than once), as percentile_cont() computes them over the values
 * themselves: the same interpolation in the same floating-point steps, and
 * NaN above every other value as PostgreSQL sorts it.  iqr_outliers counts
 * the values outside Q1 - 1.5 IQR .. Q3 + 1.5 IQR.  All NULL (and 0
 * outliers) for no value.
 */
typedef struct ValueCount
{
	double		v;
	int64		n;
} ValueCount;

static int
value_count_cmp(const void *a, const void *b)
{
	double		x = ((const ValueCount *) a)->v;
	double		y = ((const ValueCount *) b)->v;

	/* as float8_cmp_internal: NaN equal to itself, above everything else */
	if (isnan(x))
		return isnan(y) ? 0 : 1;
	if (isnan(y))
		return -1;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/* the value of 0-based rank k (cum[i]: reads up to and including i) */
static double
value_at_rank(const ValueCount *vc, const int64 *cum, int n, int64 k)
{
	int			lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (cum[mid] > k)
			hi = mid;
		else
			lo = mid + 1;
	}
	return vc[lo].v;
}

PG_FUNCTION_INFO_V1(gridflow_value_quantiles);

Datum
gridflow_value_quantiles(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {true, true, true, false};
	Datum	   *vd,
			   *cd;
	bool	   *vnull,
			   *cnull;
	int			nv,
				nc,
				n = 0;
	ValueCount *vc;
	int64	   *cum;
	int64		total = 0,
				outliers = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "gridflow_value_quantiles: return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[3] = Int64GetDatum(0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &vd, &vnull, &nv);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &cd, &cnull, &nc);
	if (nv != nc)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("values and counts differ in length (%d and %d)", nv, nc)));
	vc = palloc(sizeof(ValueCount) * Max(nv, 1));
	for (int i = 0; i < nv; i++)
	{
		int64		c;

		if (vnull[i] || cnull[i])
			continue;
		c = DatumGetInt64(cd[i]);
		if (c < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a count of a distribution is negative: " INT64_FORMAT, c)));
		if (c == 0)
			continue;
		vc[n].v = DatumGetFloat8(vd[i]);
		vc[n].n = c;
		n++;
	}
	if (n == 0)
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	qsort(vc, n, sizeof(ValueCount), value_count_cmp);
	cum = palloc(sizeof(int64) * n);
	for (int i = 0; i < n; i++)
	{
		if (pg_add_s64_overflow(total, vc[i].n, &total))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the counts of a distribution add up to more than a bigint holds")));
		cum[i] = total;
	}
	{
		static const double pct[3] = {0.25, 0.5, 0.75};
		double		q[3];

		for (int i = 0; i < 3; i++)
		{
			/* as percentile_cont_final_common() and float8_lerp() */
			double		first_row = floor(pct[i] * (total - 1));
			double		second_row = ceil(pct[i] * (total - 1));
			double		proportion = (pct[i] * (total - 1)) - first_row;
			double		lo = value_at_rank(vc, cum, n, (int64) first_row);
			double		hi = value_at_rank(vc, cum, n, (int64) second_row);

			q[i] = lo + (proportion * (hi - lo));
		}
		for (int i = 0; i < n; i++)
		{
			if (vc[i].v < q[0] - 1.5 * (q[2] - q[0]) || vc[i].v > q[2] + 1.5 * (q[2] - q[0]))
				outliers += vc[i].n;
		}
		values[0] = Float8GetDatum(q[0]);
		values[1] = Float8GetDatum(q[1]);
		values[2] = Float8GetDatum(q[2]);
		nulls[0] = nulls[1] = nulls[2] = false;
	}
	values[3] = Int64GetDatum(outliers);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * SQL: gridflow.meter_link_figures(utility_id, reads, meters, assignments)
 * RETURNS (reads, reads_on_multi_premise_meters,
 * reads_with_several_effective_assignments,
 * reads_without_effective_assignment, reads_where_policies_differ): how
 * the reads of a utility whose reads reach service points through meters
 * would be linked under each meter_link_policy (dq.meter_link_ambiguity).
 *
 * first_row: the meter's service point in the meter file, else its first
 * row of an assignment file; effective_dated: of the assignment rows in
 * force at the read's start (installed at or before it, not removed by
 * then), the latest installed (no installation date last), then the first
 * in file order.  The meters and the assignment rows are held in memory by
 * meter (a few dozen bytes a row, as the build holds them), and the reads
 * are matched against their meter's rows as a scan returns them: one pass
 * over each relation, no sort, whatever the number of meters.
 */
typedef struct LinkRow
{
	char	   *sp;				/* NULL: the row names no service point */
	TimestampTz installed;
	TimestampTz removed;
	int64		batch_id;
	int64		line_no;
	bool		has_installed;
	bool		has_removed;
	bool		assignment_file;	/* from an assignment file (else a meter file) */
} LinkRow;

/* a meter: its service point in the meter file and its assignment rows */
typedef struct LinkMeter
{
	char	   *meter_sp;		/* NULL: not in the meter file, or none there */
	LinkRow    *rows;
	int			nrows;
	int			maxrows;
	bool		ready;			/* rows in file order, the figures below set */
	const char *assigned_sp;	/* its first row of an assignment file */
	bool		multi;			/* its rows name several service points */
} LinkMeter;

struct GfLinkFigures
{
	MemoryContext cxt;
	GfArena		texts;			/* link_text()'s strings */
	GfKeyTable *meters;			/* meter id -> LinkMeter */
	LinkMeter  *last;			/* the meter of the last read, and its id */
	StringInfoData last_id;
	int64		counts[GF_LINK_FIGURES];
};

/* is row a preferred to row b as the effective assignment? */
static bool
link_row_before(const LinkRow *a, const LinkRow *b)
{
	if (a->has_installed != b->has_installed)
		return a->has_installed;	/* no installation date last */
	if (a->has_installed && a->installed != b->installed)
		return a->installed > b->installed; /* latest first */
	if (a->batch_id != b->batch_id)
		return a->batch_id < b->batch_id;
	return a->line_no < b->line_no;
}

/* assignment rows in file order */
static int
link_row_file_cmp(const void *x, const void *y)
{
	const LinkRow *a = (const LinkRow *) x;
	const LinkRow *b = (const LinkRow *) y;

	if (a->batch_id != b->batch_id)
		return a->batch_id < b->batch_id ? -1 : 1;
	if (a->line_no != b->line_no)
		return a->line_no < b->line_no ? -1 : 1;
	return 0;
}

static bool
same_sp(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static inline bool
link_row_in_force(const LinkRow *lr, TimestampTz ts)
{
	return !((lr->has_installed && lr->installed > ts) || (lr->has_removed && lr->removed <= ts));
}

/* Figures of the meter link, empty: meters and assignment rows first, then the reads. */
GfLinkFigures *
gf_link_figures_create(MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "gridflow meter link", ALLOCSET_DEFAULT_SIZES);
	GfLinkFigures *lf = MemoryContextAllocZero(cxt, sizeof(GfLinkFigures));

	lf->cxt = cxt;
	gf_arena_init(&lf->texts, cxt);
	lf->meters = gf_keytable_create(cxt, 1024, sizeof(LinkMeter));
	lf->last_id.data = NULL;
	return lf;
}

static LinkMeter *
link_meter(GfLinkFigures *lf, text *id, bool insert)
{
	bool		found;
	LinkMeter  *m = gf_keytable_find(lf->meters, VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id),
									 gf_key_hash(VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id)), insert, &found);

	if (m != NULL && !found)
		memset(m, 0, sizeof(LinkMeter));
	return m;
}

/* a copy of t (NULL: NULL) as a C string in lf's memory */
static char *
link_text(GfLinkFigures *lf, text *t)
{
	char	   *s;
	int			len;

	if (t == NULL)
		return NULL;
	len = VARSIZE_ANY_EXHDR(t);
	s = gf_arena_alloc(&lf->texts, len + 1);
	memcpy(s, VARDATA_ANY(t), len);
	s[len] = '\0';
	return s;
}

/* A meter of the meter table (meter not NULL) and its service point (or NULL). */
void
gf_link_figures_meter(GfLinkFigures *lf, text *meter, text *sp)
{
	LinkMeter  *m = link_meter(lf, meter, true);

	m->meter_sp = link_text(lf, sp);
}

/* A row of the assignment table whose meter is not NULL. */
void
gf_link_figures_assignment(GfLinkFigures *lf, text *meter, text *sp, bool has_installed,
						   TimestampTz installed, bool has_removed, TimestampTz removed,
						   int64 batch_id, int64 line_no, bool assignment_file)
{
	LinkMeter  *m = link_meter(lf, meter, true);
	LinkRow    *lr;

	if (m->nrows == m->maxrows)
	{
		/* most meters have one row: no room for more until a second comes */
		m->maxrows = Max(1, m->maxrows * 2);
		m->rows = m->rows == NULL ? MemoryContextAlloc(lf->cxt, sizeof(LinkRow) * m->maxrows) :
			repalloc(m->rows, sizeof(LinkRow) * m->maxrows);
	}
	lr = &m->rows[m->nrows++];
	/* the meter file's service point is usually the row's: one copy */
	if (sp != NULL && m->meter_sp != NULL &&
		strlen(m->meter_sp) == VARSIZE_ANY_EXHDR(sp) &&
		memcmp(m->meter_sp, VARDATA_ANY(sp), VARSIZE_ANY_EXHDR(sp)) == 0)
		lr->sp = m->meter_sp;
	else
		lr->sp = link_text(lf, sp);
	lr->has_installed = has_installed;
	lr->installed = has_installed ? installed : 0;
	lr->has_removed = has_removed;
	lr->removed = has_removed ? removed : 0;
	lr->batch_id = batch_id;
	lr->line_no = line_no;
	lr->assignment_file = assignment_file;
}

/* put a meter's rows in file order; find its first assignment and whether it is shared */
static void
link_meter_ready(LinkMeter *m)
{
	bool		have_assigned = false;
	const char *first_sp = NULL;

	if (m->ready)
		return;
	if (m->nrows > 1)
		qsort(m->rows, m->nrows, sizeof(LinkRow), link_row_file_cmp);
	for (int k = 0; k < m->nrows; k++)
	{
		const LinkRow *lr = &m->rows[k];

		CHECK_FOR_INTERRUPTS();
		if (lr->assignment_file && !have_assigned)
		{
			m->assigned_sp = lr->sp;
			have_assigned = true;
		}
		/* shared: a service point other than the first (all before it are that one) */
		if (lr->sp == NULL)
			continue;
		if (first_sp == NULL)
			first_sp = lr->sp;
		else if (strcmp(first_sp, lr->sp) != 0)
			m->multi = true;
	}
	m->ready = true;
}

/* A read: its meter (NULL: none) and start. */
void
gf_link_figures_read(GfLinkFigures *lf, text *meter, TimestampTz ts)
{
	LinkMeter  *m = NULL;
	const LinkRow *best = NULL;
	const char *candidate = NULL;	/* the first service point in force */
	bool		several = false;	/* and another one */
	const char *first_row_sp = NULL;

	if (meter != NULL)
	{
		const char *id = VARDATA_ANY(meter);
		int			len = VARSIZE_ANY_EXHDR(meter);

		/* the reads of a meter tend to come together */
		if (lf->last_id.data != NULL && lf->last_id.len == len && memcmp(lf->last_id.data, id, len) == 0)
			m = lf->last;
		else
		{
			m = link_meter(lf, meter, false);
			if (lf->last_id.data == NULL)
			{
				MemoryContext old = MemoryContextSwitchTo(lf->cxt);

				initStringInfo(&lf->last_id);
				MemoryContextSwitchTo(old);
			}
			resetStringInfo(&lf->last_id);
			appendBinaryStringInfo(&lf->last_id, id, len);
			lf->last = m;
		}
	}
	if (m != NULL)
	{
		link_meter_ready(m);
		/* the rows in force at the read's start */
		for (int k = 0; k < m->nrows; k++)
		{
			const LinkRow *lr = &m->rows[k];

			if (!link_row_in_force(lr, ts))
				continue;
			if (best == NULL || link_row_before(lr, best))
				best = lr;
			/* several distinct service points in force? */
			if (lr->sp != NULL && !several)
			{
				if (candidate == NULL)
					candidate = lr->sp;
				else if (candidate != lr->sp && strcmp(candidate, lr->sp) != 0)
					several = true;
			}
		}
		first_row_sp = m->meter_sp != NULL ? m->meter_sp : m->assigned_sp;
	}
	lf->counts[0]++;
	if (m != NULL && m->multi)
		lf->counts[1]++;
	if (several)
		lf->counts[2]++;
	if (best == NULL || best->sp == NULL)
		lf->counts[3]++;
	if (!same_sp(first_row_sp, best ? best->sp : NULL))
		lf->counts[4]++;
}

/*
 * The figures: reads, reads on multi-premise meters, with several
 * effective assignments, without one, where the policies differ.
 */
void
gf_link_figures_counts(GfLinkFigures *lf, int64 *counts)
{
	memcpy(counts, lf->counts, sizeof(lf->counts));
}

/* Free lf. */
void
gf_link_figures_end(GfLinkFigures *lf)
{
	MemoryContextDelete(lf->cxt);
}

/* run query (one text argument) and hand each row to fn */
static void
link_scan(const char *query, Datum arg, void (*fn) (HeapTuple, TupleDesc, GfLinkFigures *),
		  GfLinkFigures *lf)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {arg};
	Portal		cursor = SPI_cursor_open_with_args(NULL, query, 1, argtypes, args, NULL, true, 0);

	for (;;)
	{
		SPI_cursor_fetch(cursor, true, 10000);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			CHECK_FOR_INTERRUPTS();
			fn(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, lf);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(cursor);
}

/* text column col of an SPI row, or NULL */
static text *
spi_text_arg(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : DatumGetTextPP(d);
}

static void
link_meter_row(HeapTuple tup, TupleDesc desc, GfLinkFigures *lf)
{
	gf_link_figures_meter(lf, spi_text_arg(tup, desc, 1), spi_text_arg(tup, desc, 2));
}

static void
link_assignment_row(HeapTuple tup, TupleDesc desc, GfLinkFigures *lf)
{
	bool		no_installed,
				no_removed,
				isnull;
	Datum		installed = SPI_getbinval(tup, desc, 3, &no_installed);
	Datum		removed = SPI_getbinval(tup, desc, 4, &no_removed);
	Datum		file = SPI_getbinval(tup, desc, 7, &isnull);

	gf_link_figures_assignment(lf, spi_text_arg(tup, desc, 1), spi_text_arg(tup, desc, 2),
							   !no_installed, no_installed ? 0 : DatumGetTimestampTz(installed),
							   !no_removed, no_removed ? 0 : DatumGetTimestampTz(removed),
							   DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull)),
							   DatumGetInt64(SPI_getbinval(tup, desc, 6, &isnull)),
							   !isnull && DatumGetBool(file));
}

static void
link_read_row(HeapTuple tup, TupleDesc desc, GfLinkFigures *lf)
{
	bool		isnull;

	gf_link_figures_read(lf, spi_text_arg(tup, desc, 1),
						 DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull)));
}

PG_FUNCTION_INFO_V1(gridflow_meter_link_figures);

Datum
gridflow_meter_link_figures(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[GF_LINK_FIGURES];
	bool		nulls[GF_LINK_FIGURES] = {0};
	int64		counts[GF_LINK_FIGURES] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "gridflow_meter_link_figures: return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (!PG_ARGISNULL(0) && !PG_ARGISNULL(1))
	{
		Datum		utility = PointerGetDatum(PG_GETARG_TEXT_PP(0));
		GfLinkFigures *lf = gf_link_figures_create(CurrentMemoryContext);

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (!PG_ARGISNULL(2))
			link_scan(psprintf("SELECT m.meter_id, m.service_point_id FROM %s m "
							   "WHERE m.utility_id OPERATOR(pg_catalog.=) $1 AND m.meter_id IS NOT NULL",
							   gf_qualified_name(PG_GETARG_OID(2))),
					  utility, link_meter_row, lf);
		if (!PG_ARGISNULL(3))
			link_scan(psprintf("SELECT a.meter_id, a.service_point_id, a.installed_at, a.removed_at, "
							   "a.batch_id, a.line_no, b.file_kind OPERATOR(pg_catalog.=) 'assignment' "
							   "FROM %s a "
							   "LEFT JOIN gridflow.batch b ON b.batch_id OPERATOR(pg_catalog.=) a.batch_id "
							   "WHERE a.utility_id OPERATOR(pg_catalog.=) $1 AND a.meter_id IS NOT NULL",
							   gf_qualified_name(PG_GETARG_OID(3))),
					  utility, link_assignment_row, lf);
		link_scan(psprintf("SELECT x.meter_id, x.interval_start_ts FROM %s x "
						   "WHERE x.utility_id OPERATOR(pg_catalog.=) $1",
						   gf_qualified_name(PG_GETARG_OID(1))),
				  utility, link_read_row, lf);
		SPI_finish();
		gf_link_figures_counts(lf, counts);
		gf_link_figures_end(lf);
	}
	for (int i = 0; i < GF_LINK_FIGURES; i++)
		values[i] = Int64GetDatum(counts[i]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
