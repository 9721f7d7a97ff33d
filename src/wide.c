/*-------------------------------------------------------------------------
 *
 * wide.c
 *	  Wide layouts: one record per meter and day, one column per interval.
 *
 * Some utilities send a day of reads as one record: the meter (and service
 * point, channel, unit) once, the day, then 24 hourly, 48 half-hourly or 96
 * quarter-hourly columns (hr01 ... hr24, 00:15 ... 24:00).  The loader lands
 * the record once and unpivots it here into one read per filled column,
 * each with the record's lineage; the reads then go through the same
 * de-duplication as the reads of a long layout.
 *
 * Where each column falls is computed once per day and kept (a day
 * template), so a record costs one pass over its cells.  Daylight-saving
 * days follow the file's wide_dst convention:
 *
 *	elapsed             column n is the n-th interval after local midnight:
 *	                    the 23-hour day fills the first 92 quarter-hour
 *	                    columns, the 25-hour day 100; a value past the end of
 *	                    the day rejects the record (outside_day).
 *	wall_clock_split    columns are the wall-clock intervals of a 24-hour day.
 *	wall_clock_earlier  On the spring-forward day the skipped hour's columns
 *	wall_clock_later    must be empty (a value there rejects the record:
 *	                    nonexistent_local_time), so the day has 92 reads.  On
 *	                    the fall-back day each column of the repeated hour is
 *	                    written once: _split takes it as both occurrences
 *	                    added together (a doubled value) and makes two reads
 *	                    of half the value, one per occurrence (100 reads);
 *	                    _earlier and _later take it as the first or the
 *	                    second occurrence only (96 reads).
 *
 * An empty cell is no read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/date.h"
#include "utils/datetime.h"

#include "conform.h"
#include "parse.h"

#define DAY_CACHE 8

typedef enum SlotKind
{
	SLOT_READ,					/* one read at first */
	SLOT_REPEATED,				/* one read at first, of a repeated hour */
	SLOT_SPLIT,					/* two reads, at first and second, half each */
	SLOT_SKIPPED,				/* a wall-clock interval the day does not have */
	SLOT_OUTSIDE				/* past the end of the day */
} SlotKind;

/* where the columns of one local day fall */
typedef struct DayTemplate
{
	bool		valid;
	DateADT		day;
	int			intervals;		/* the day's length in intervals */
	uint8	   *kind;
	TimestampTz *first;
	TimestampTz *second;
} DayTemplate;

struct GfWide
{
	GfUtility  *u;
	int			ncols;
	int		   *src;			/* field of each interval column */
	char	  **names;
	int32		step;			/* seconds */
	GfWideDst	dst;
	int			att_start;
	int			att_duration;
	int			att_value;
	DayTemplate days[DAY_CACHE];
	/* the reads of the current record */
	int			nreads;
	int			next;
	TimestampTz *starts;
	double	   *values;
	int64		total_reads;
};

/* Plan the unpivot of wide file f, whose header r has read. */
GfWide *
gf_wide_begin(GfUtility *u, GfSourceFile *f, GfReader *r, TupleDesc desc)
{
	GfFileConform *fa = f->conform;
	GfWide	   *w = palloc0(sizeof(GfWide));
	int		   *taken;

	w->u = u;
	w->ncols = fa->nwide;
	w->step = fa->wide_seconds;
	w->dst = fa->wide_dst;
	w->names = fa->wide_columns;
	w->att_start = gf_attnum(desc, "interval_start_ts", false);
	w->att_duration = gf_attnum(desc, "duration_seconds", true);
	w->att_value = gf_attnum(desc, "value", false);
	if (w->dst != GF_WIDE_ELAPSED && (int64) w->ncols * w->step != SECS_PER_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("wide interval file of utility \"%s\" has %d columns of %d seconds, not a day",
						u->utility_id, w->ncols, w->step),
				 errdetail("Its wide_dst is wall-clock, so its columns are the intervals of a 24-hour day."),
				 errhint("List %d columns in wide_columns, or use wide_dst elapsed.",
						 (int) (SECS_PER_DAY / w->step))));
	/*
	 * The field of each column.  A field may be the column of one element
	 * only: the element that took it is kept by field, so the check costs
	 * one look-up per element, as the matching does (the reader indexes its
	 * header), and a layout as wide as the header costs about what reading
	 * the header costs.
	 */
	w->src = palloc(sizeof(int) * w->ncols);
	taken = palloc(sizeof(int) * Max(r->header.nstored, 1));
	for (size_t k = 0; k < r->header.nstored; k++)
		taken[k] = -1;
	for (int i = 0; i < w->ncols; i++)
	{
		CHECK_FOR_INTERRUPTS();
		w->src[i] = gf_reader_column(r, w->names[i]);
		if (taken[w->src[i]] >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("wide_columns of the interval file of utility \"%s\" name column \"%s\" twice",
							u->utility_id, w->names[i]),
					 errdetail("Elements %d and %d of wide_columns (\"%s\" and \"%s\") are the same header column.",
							   taken[w->src[i]] + 1, i + 1, w->names[taken[w->src[i]]], w->names[i])));
		taken[w->src[i]] = i;
	}
	pfree(taken);
	for (int d = 0; d < DAY_CACHE; d++)
	{
		w->days[d].kind = palloc(sizeof(uint8) * w->ncols);
		w->days[d].first = palloc(sizeof(TimestampTz) * w->ncols);
		w->days[d].second = palloc(sizeof(TimestampTz) * w->ncols);
	}
	w->starts = palloc(sizeof(TimestampTz) * 2 * w->ncols);
	w->values = palloc(sizeof(double) * 2 * w->ncols);
	return w;
}

/* Where the columns of local day `day` fall. */
static DayTemplate *
day_template(GfWide *w, DateADT day)
{
	DayTemplate *t = &w->days[(uint32) day % DAY_CACHE];
	int64		midnight = (int64) (day + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)) * USECS_PER_DAY;
	int64		step_usec = (int64) w->step * USECS_PER_SEC;

	if (t->valid && t->day == day)
		return t;
	t->valid = true;
	t->day = day;
	if (w->dst == GF_WIDE_ELAPSED)
	{
		/* the same local midnights as the daily buckets */
		TimestampTz start = gf_local_to_timestamptz(w->u, midnight);
		TimestampTz end = gf_local_to_timestamptz(w->u, midnight + USECS_PER_DAY);

		t->intervals = (int) ((end - start) / step_usec);
		for (int i = 0; i < w->ncols; i++)
		{
			CHECK_FOR_INTERRUPTS();
			t->kind[i] = i < t->intervals ? SLOT_READ : SLOT_OUTSIDE;
			t->first[i] = start + i * step_usec;
		}
		return t;
	}
	t->intervals = w->ncols;
	for (int i = 0; i < w->ncols; i++)
	{
		int64		earlier,
					later;

		CHECK_FOR_INTERRUPTS();
		switch (gf_wall_classify(w->u->tz, midnight / USECS_PER_SEC + (int64) i * w->step,
								 &earlier, &later))
		{
			case GF_WALL_NORMAL:
				t->kind[i] = SLOT_READ;
				break;
			case GF_WALL_SKIPPED:
				t->kind[i] = SLOT_SKIPPED;
				t->intervals--;
				break;
			case GF_WALL_REPEATED:
				if (w->dst == GF_WIDE_WALL_SPLIT)
				{
					t->kind[i] = SLOT_SPLIT;
					t->intervals++;
				}
				else
				{
					t->kind[i] = SLOT_REPEATED;
					if (w->dst == GF_WIDE_WALL_LATER)
						earlier = later;
				}
				break;
		}
		t->first[i] = earlier * USECS_PER_SEC - GF_UNIX_TO_PG_USEC;
		t->second[i] = later * USECS_PER_SEC - GF_UNIX_TO_PG_USEC;
	}
	return t;
}

static char *
day_text(DateADT day)
{
	int			y,
				m,
				d;

	j2date(day + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	return psprintf("%04d-%02d-%02d", y, m, d);
}

static void
add_read(GfWide *w, TimestampTz start, double value)
{
	w->starts[w->nreads] = start;
	w->values[w->nreads] = value;
	w->nreads++;
}

/*
 * Unpivot one record of day `day` (an instant of the local day the record
 * names); values are multiplied by factor.  false (and *rj set) rejects the
 * record; then no read of it is kept.
 */
bool
gf_wide_record(GfWide *w, const CsvRecord *rec, TimestampTz day, double factor,
			   GfLoadStats *stats, GfConformReject *rj)
{
	DayTemplate *t = day_template(w, (DateADT) gf_local_date(w->u, day));
	bool		repeated = false;

	w->nreads = w->next = 0;
	for (int i = 0; i < w->ncols; i++)
	{
		const CsvField *f = &rec->fields[w->src[i]];
		double		v;
		ParseResult r;

		CHECK_FOR_INTERRUPTS();
		if (f->len == 0)
			continue;
		r = gf_parse_double(f->data, f->len, &v);
		if (r == PARSE_EMPTY)
			continue;
		if (r != PARSE_OK)
		{
			rj->reason = "invalid_value";
			rj->detail = psprintf("invalid double precision \"%s\" for column \"value\": %s",
								  gf_reject_text(f->data, f->len, 200), gf_parse_result_text(r));
			rj->source = w->names[i];
			rj->target = "value";
			w->nreads = 0;
			return false;
		}
		v *= factor;
		if (!isfinite(v))
		{
			rj->reason = "invalid_value";
			rj->detail = psprintf("value \"%s\" for column \"value\" is out of range once converted to its unit",
								  gf_reject_text(f->data, f->len, 200));
			rj->source = w->names[i];
			rj->target = "value";
			w->nreads = 0;
			return false;
		}
		switch ((SlotKind) t->kind[i])
		{
			case SLOT_READ:
				add_read(w, t->first[i], v);
				break;
			case SLOT_REPEATED:
				add_read(w, t->first[i], v);
				repeated = true;
				break;
			case SLOT_SPLIT:
				add_read(w, t->first[i], v * 0.5);
				add_read(w, t->second[i], v * 0.5);
				repeated = true;
				break;
			case SLOT_SKIPPED:
				stats->local_nonexistent++;
				rj->reason = "nonexistent_local_time";
				rj->detail = psprintf("column \"%s\" has a value, but its wall-clock interval does not exist on %s in %s (the clocks skip it)",
									  w->names[i], day_text(t->day), w->u->time_zone);
				rj->source = w->names[i];
				rj->target = "value";
				w->nreads = 0;
				return false;
			case SLOT_OUTSIDE:
				rj->reason = "outside_day";
				rj->detail = psprintf("column \"%s\" has a value, but %s has %d intervals of %d seconds in %s",
									  w->names[i], day_text(t->day), t->intervals, w->step,
									  w->u->time_zone);
				rj->source = w->names[i];
				rj->target = "value";
				w->nreads = 0;
				return false;
		}
	}
	if (repeated)
		stats->local_ambiguous++;
	w->total_reads += w->nreads;
	return true;
}

/* Has the current record reads left? */
bool
gf_wide_pending(GfWide *w)
{
	return w->next < w->nreads;
}

/* Put the next read of the current record into the row; false when there is none. */
bool
gf_wide_take(GfWide *w, Datum *values, bool *isnull)
{
	if (w->next >= w->nreads)
		return false;
	values[w->att_start] = TimestampTzGetDatum(w->starts[w->next]);
	isnull[w->att_start] = false;
	if (w->att_duration >= 0)
	{
		values[w->att_duration] = Int32GetDatum(w->step);
		isnull[w->att_duration] = false;
	}
	values[w->att_value] = Float8GetDatum(w->values[w->next]);
	isnull[w->att_value] = false;
	w->next++;
	return true;
}

/* The file's figures: reads, not records, are kept or dropped as duplicates. */
void
gf_wide_stats(GfWide *w, GfLoadStats *stats)
{
	stats->unpivoted = true;
	stats->unpivoted_reads = w->total_reads;
	stats->rows_duplicate = w->total_reads - stats->rows_kept;
}
