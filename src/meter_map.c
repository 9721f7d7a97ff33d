/*-------------------------------------------------------------------------
 *
 * meter_map.c
 *	  How a utility's reads reach their service points through meters: each
 *	  meter's first service point, and for effective-dated links every
 *	  assignment with its installation and removal times.
 *
 * A full build fills the map from the meter (or assignment) files as they
 * are read; an incremental load reads it from what the standardized meter
 * tables hold.  gf_meter_resolve() gives a read's service point.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "conform.h"
#include "load.h"

typedef struct GfAssign
{
	Datum		sp;
	TimestampTz installed;
	TimestampTz removed;
	bool		has_installed;
	bool		has_removed;
} GfAssign;

typedef struct GfMeterLinks
{
	Datum		first_sp;		/* service point of the meter's first row */
	bool		first_sp_null;
	int			nassign;
	int			cap;
	GfAssign   *assign;			/* rows with a service point, in file order */
} GfMeterLinks;

struct GfMeterMap
{
	GfKeyTable *keys;			/* meter id -> GfMeterLinks */
	MemoryContext cxt;
};

/* The meter map of a utility, created empty if it has none. */
static GfMeterMap *
meter_map(GfUtility *u)
{
	if (u->meters == NULL)
	{
		MemoryContext cxt = AllocSetContextCreate(u->cxt, "gridflow meters",
												  ALLOCSET_DEFAULT_SIZES);
		GfMeterMap *map = MemoryContextAllocZero(cxt, sizeof(GfMeterMap));

		map->cxt = cxt;
		map->keys = gf_keytable_create(cxt, 1024, sizeof(GfMeterLinks));
		u->meters = map;
	}
	return u->meters;
}

/*
 * One row of the meter map: a meter (its first row sets its first service
 * point) and, if the row is an assignment and names a service point, one
 * assignment, kept only for effective-dated links (the others read the
 * first service point alone, so the map holds a meter, not its rows).
 */
static void
meter_map_add_row(GfUtility *u, const char *meter, uint32 len, Datum sp, bool sp_null,
				  bool assignment, bool has_installed, TimestampTz installed,
				  bool has_removed, TimestampTz removed)
{
	GfMeterMap *map = meter_map(u);
	MemoryContext old;
	bool		found;
	GfMeterLinks *l;

	/* only effective-dated links look past a meter's first service point */
	if (!u->effective_dated)
		assignment = false;
	l = gf_keytable_find(map->keys, meter, len, gf_key_hash(meter, len), true, &found);
	if (found && (sp_null || !assignment))
		return;					/* nothing more to keep of this row */
	old = MemoryContextSwitchTo(map->cxt);
	if (!sp_null)
		sp = PointerGetDatum(DatumGetTextPCopy(sp));
	if (!found)
	{
		l->first_sp = sp;
		l->first_sp_null = sp_null;
	}
	if (!sp_null && assignment)
	{
		GfAssign   *a;

		if (l->nassign == l->cap)
		{
			/* most meters have one assignment */
			l->cap = l->cap ? l->cap * 2 : 1;
			l->assign = l->assign ? repalloc(l->assign, sizeof(GfAssign) * l->cap) :
				palloc(sizeof(GfAssign) * l->cap);
		}
		a = &l->assign[l->nassign++];
		a->sp = sp;
		a->has_installed = has_installed;
		a->installed = has_installed ? installed : 0;
		a->has_removed = has_removed;
		a->removed = has_removed ? removed : 0;
	}
	MemoryContextSwitchTo(old);
}

/* The meter map of a utility: add one row of its meter file. */
void
gf_meter_map_add(GfUtility *u, LoadPlan *p, ParsedRow *row)
{
	bool		sp_null = (p->att_sp < 0 || row->isnull[p->att_sp]);
	bool		has_installed = p->att_installed >= 0 && !row->isnull[p->att_installed];
	bool		has_removed = p->att_removed >= 0 && !row->isnull[p->att_removed];
	Datum		sp = (Datum) 0;

	if (!sp_null)
		sp = PointerGetDatum(cstring_to_text_with_len(row->tptr[p->att_sp],
													  (int) row->tlen[p->att_sp]));
	meter_map_add_row(u, row->tptr[p->att_meter], row->tlen[p->att_meter], sp, sp_null,
					  true, has_installed,
					  has_installed ? DatumGetTimestampTz(row->values[p->att_installed]) : 0,
					  has_removed,
					  has_removed ? DatumGetTimestampTz(row->values[p->att_removed]) : 0);
	if (!sp_null)
		pfree(DatumGetPointer(sp));
}

/*
 * The meter map of a utility from what earlier batches left in the
 * standardized tables: each meter's first service point is that of its
 * kept (first) row, its assignments are the meter-assignment rows in
 * arrival order.  The same map as reading all of its meter files again.
 */
void
gf_meter_map_load(GfUtility *u)
{
	Datum		arg = u->utility_datum;
	Oid			argtype = TEXTOID;
	bool		from_assignment_file = (u->conform != NULL && u->conform->has_assignment_file);

	if (u->meters != NULL)
		MemoryContextDelete(u->meters->cxt);
	u->meters = NULL;
	(void) meter_map(u);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/*
	 * Meters linked by their meter file start from their first row (kept in
	 * standardized.meter); meters linked by an assignment file start from
	 * their first assignment, as when the file is read.
	 */
	if (!from_assignment_file)
	{
		if (SPI_execute_with_args("SELECT meter_id, service_point_id FROM standardized.meter "
								  "WHERE utility_id OPERATOR(pg_catalog.=) $1",
								  1, &argtype, &arg, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "gridflow: could not read standardized.meter");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			bool		mnull,
						snull;
			text	   *m = DatumGetTextPP(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &mnull));
			Datum		sp = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &snull);

			CHECK_FOR_INTERRUPTS();
			/* the first service point only: the assignments follow */
			meter_map_add_row(u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m), sp, snull,
							  false, false, 0, false, 0);
		}
	}
	if (u->effective_dated || from_assignment_file)
	{
		if (SPI_execute_with_args("SELECT meter_id, service_point_id, installed_at, removed_at "
								  "FROM standardized.meter_assignment "
								  "WHERE utility_id OPERATOR(pg_catalog.=) $1 ORDER BY batch_id, line_no",
								  1, &argtype, &arg, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "gridflow: could not read standardized.meter_assignment");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		mnull,
						snull,
						inull,
						rnull;
			text	   *m = DatumGetTextPP(SPI_getbinval(tup, desc, 1, &mnull));
			Datum		sp = SPI_getbinval(tup, desc, 2, &snull);
			Datum		inst = SPI_getbinval(tup, desc, 3, &inull);
			Datum		rem = SPI_getbinval(tup, desc, 4, &rnull);

			CHECK_FOR_INTERRUPTS();
			meter_map_add_row(u, VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m), sp, snull,
							  true, !inull, inull ? 0 : DatumGetTimestampTz(inst),
							  !rnull, rnull ? 0 : DatumGetTimestampTz(rem));
		}
	}
	SPI_finish();
}

/* Service point of a read through its meter; false when there is none. */
bool
gf_meter_resolve(GfUtility *u, const char *meter, uint32 len, TimestampTz ts, Datum *sp)
{
	GfMeterMap *map = u->meters;
	GfMeterLinks *l;
	int			best = -1;

	if (map == NULL)
		return false;
	l = gf_keytable_find(map->keys, meter, len, gf_key_hash(meter, len), false, NULL);
	if (l == NULL)
		return false;
	if (!u->effective_dated)
	{
		*sp = l->first_sp;
		return !l->first_sp_null;
	}
	/* effective-dated: installed by ts and not removed; latest installation wins */
	for (int i = 0; i < l->nassign; i++)
	{
		GfAssign   *a = &l->assign[i];

		if ((a->has_installed && a->installed > ts) || (a->has_removed && a->removed <= ts))
			continue;
		if (best < 0 ||
			(a->has_installed &&
			 (!l->assign[best].has_installed || a->installed > l->assign[best].installed)))
			best = i;
	}
	if (best < 0)
		return false;
	*sp = l->assign[best].sp;
	return true;
}

