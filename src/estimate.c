/*-------------------------------------------------------------------------
 *
 * estimate.c
 *	  Estimation of missing intervals (gridflow.vee_estimation): the
 *	  reference days of one series, and linear interpolation.
 *
 * The product writer (product.c) writes a series' rows in time order and
 * tells the series' history of each (gf_est_history_add): its local day,
 * its local wall-clock time (microseconds since the local midnight), its
 * duration and value, and whether it is a valid actual read (quality code
 * 0).  The history keeps the days of the last reference_weeks weeks:
 * per day whether every row of it so far was valid and actual, and the
 * values of its valid reads by wall-clock time.  In the fall-back day's
 * repeated hour a wall-clock time comes twice: the day keeps the first
 * (daylight-time) read.  Memory: one series' last reference_weeks weeks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "estimate.h"

typedef struct EstDay
{
	DateADT		date;
	bool		clean;			/* every row so far a valid actual read */
	int			n;
	int			cap;
	int64	   *wall;			/* ascending */
	int32	   *duration;
	double	   *value;
} EstDay;

struct GfEstHistory
{
	MemoryContext cxt;
	int			weeks;
	int			ndays;
	int			cap;
	EstDay	   *days;			/* ascending dates */
};

GfEstHistory *
gf_est_history_create(MemoryContext cxt, int weeks)
{
	GfEstHistory *h = MemoryContextAllocZero(cxt, sizeof(GfEstHistory));

	h->cxt = cxt;
	h->weeks = weeks;
	return h;
}

static void
day_free(EstDay *d)
{
	if (d->wall)
	{
		pfree(d->wall);
		pfree(d->duration);
		pfree(d->value);
	}
}

/* A row of the series, written now (rows come in time order). */
void
gf_est_history_add(GfEstHistory *h, DateADT day, int64 wall_usec, int32 duration,
				   bool value_null, double value, bool valid)
{
	EstDay	   *d;

	if (h->ndays == 0 || h->days[h->ndays - 1].date < day)
	{
		int			drop = 0;

		/* the days a later interval can refer to: day - 7 weeks on */
		while (drop < h->ndays && h->days[drop].date < day - 7 * h->weeks)
			day_free(&h->days[drop++]);
		if (drop > 0)
		{
			memmove(h->days, h->days + drop, sizeof(EstDay) * (h->ndays - drop));
			h->ndays -= drop;
		}
		if (h->ndays == h->cap)
		{
			h->cap = Max(8, h->cap * 2);
			h->days = h->days ? repalloc(h->days, sizeof(EstDay) * h->cap) :
				MemoryContextAlloc(h->cxt, sizeof(EstDay) * h->cap);
		}
		d = &h->days[h->ndays++];
		memset(d, 0, sizeof(EstDay));
		d->date = day;
		d->clean = true;
	}
	else if (h->days[h->ndays - 1].date == day)
		d = &h->days[h->ndays - 1];
	else
		return;					/* not in time order: not a reference */
	if (!valid)
		d->clean = false;
	if (!d->clean || value_null)
		return;
	/* the repeated hour's second read of a wall-clock time: the first stays */
	if (d->n > 0 && wall_usec <= d->wall[d->n - 1])
		return;
	if (d->n == d->cap)
	{
		d->cap = Max(32, d->cap * 2);
		d->wall = d->wall ? repalloc(d->wall, sizeof(int64) * d->cap) :
			MemoryContextAlloc(h->cxt, sizeof(int64) * d->cap);
		d->duration = d->duration ? repalloc(d->duration, sizeof(int32) * d->cap) :
			MemoryContextAlloc(h->cxt, sizeof(int32) * d->cap);
		d->value = d->value ? repalloc(d->value, sizeof(double) * d->cap) :
			MemoryContextAlloc(h->cxt, sizeof(double) * d->cap);
	}
	d->wall[d->n] = wall_usec;
	d->duration[d->n] = duration;
	d->value[d->n] = value;
	d->n++;
}

static EstDay *
find_day(GfEstHistory *h, DateADT date)
{
	int			lo = 0;
	int			hi = h->ndays - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (h->days[mid].date == date)
			return &h->days[mid];
		if (h->days[mid].date < date)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

static bool
find_read(EstDay *d, int64 wall, int32 duration, double *value)
{
	int			lo = 0;
	int			hi = d->n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (d->wall[mid] == wall)
		{
			if (d->duration[mid] != duration)
				return false;
			*value = d->value[mid];
			return true;
		}
		if (d->wall[mid] < wall)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/*
 * The reference estimate of the interval of local day day at wall-clock
 * time wall_usec and of duration seconds: the mean of the reads at that
 * time and duration on the days most recent clean days of the same
 * weekday in the history's weeks weeks before day, all before day before
 * (the first day of the gap: its days are not references).  False when no
 * such day has a read there.
 */
bool
gf_est_reference(GfEstHistory *h, DateADT day, int64 wall_usec, int32 duration,
				 DateADT before, int days, double *mean)
{
	double		sum = 0;
	int			n = 0;

	for (int w = 1; w <= h->weeks && n < days; w++)
	{
		DateADT		date = day - 7 * w;
		EstDay	   *d;
		double		v;

		if (date >= before)
			continue;
		d = find_day(h, date);
		if (d != NULL && d->clean && find_read(d, wall_usec, duration, &v))
		{
			sum += v;
			n++;
		}
	}
	if (n == 0)
		return false;
	*mean = sum / n;
	return true;
}

/* The k-th (1..n) of n missing intervals between values a and b. */
double
gf_est_linear(double a, double b, int64 k, int64 n)
{
	return a + (b - a) * (double) k / (double) (n + 1);
}
