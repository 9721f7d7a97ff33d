/*-------------------------------------------------------------------------
 *
 * partition.c
 *	  The partitions of the layers of reads: by utility, then by month of
 *	  the utility's local days, created by builds and ingests as rows come.
 *
 * standardized.interval_read, product.usage_interval and
 * experience.daily_usage are partitioned by LIST (utility_id); each
 * utility's partition (table_utility) is partitioned by RANGE on the month:
 * reads on interval_start_ts from the local midnight starting the month to
 * the one starting the next, products and days on local_date.  Leaves are
 * named table_utility_YYYYMM.
 *
 * Rows are written to the leaves directly (bulk.c's routed writers), so the
 * routing here must agree with the leaves' bounds exactly: a read goes to
 * the month whose bounds contain its start, computed with the same
 * time-zone rules as the bounds themselves.  A leaf whose bounds are not
 * the ones the utility's time zone gives now (the zone was changed) is
 * replaced by a build, which has emptied it, and refused by an ingest.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "access/table.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "gridflow.h"
#include "localtime.h"

#define UNIX_EPOCH_DAYS (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)

/* the layers of reads (partitioned by utility, then month) */
const char *const gf_layer_schema[GF_READ_LAYERS] = {"standardized", "product", "experience"};
const char *const gf_layer_table[GF_READ_LAYERS] = {"interval_read", "usage_interval", "daily_usage"};

/*
 * Name of a partition: the table's name, "_", the utility id in lower case
 * with every underscore doubled, then the suffix ("_YYYYMM" for a month).
 * Utility ids are unique whatever their case (gridflow.utility's
 * utility_id_lower_key), so no two utilities share a stem; a stem's
 * underscores come in pairs, so a single underscore always starts the
 * suffix, and no utility's stem can read as another's stem with a month
 * (UTILITY1_202501 is utility1__202501, UTILITY1's January
 * utility1_202501).  Index names add "_key" or "_pkey" the same way.
 */
char *
gf_partition_name(const char *table, const char *utility_id, const char *suffix)
{
	StringInfoData name;

	initStringInfo(&name);
	appendStringInfo(&name, "%s_", table);
	for (const char *c = utility_id; *c; c++)
	{
		appendStringInfoChar(&name, pg_tolower((unsigned char) *c));
		if (*c == '_')
			appendStringInfoChar(&name, '_');
	}
	appendStringInfoString(&name, suffix);
	/* room for the "_pkey" of a leaf's index */
	if (name.len + 5 >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("the name \"%s\" of a partition of utility \"%s\" is too long", name.data, utility_id),
				 errhint("Use a utility id of at most 36 characters, underscores counting twice, and short names for foreign servers.")));
	return name.data;
}

/* Is relid the partition of parent for exactly this utility (LIST bound)? */
static bool
is_utility_partition(Oid relid, Oid parent, const char *utility_id)
{
	HeapTuple	tup;
	bool		isnull;
	Datum		d;
	PartitionBoundSpec *spec;
	Const	   *c;

	if (!get_rel_relispartition(relid) || get_partition_parent(relid, false) != parent)
		return false;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	d = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relpartbound, &isnull);
	spec = isnull ? NULL : castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(d)));
	ReleaseSysCache(tup);
	if (spec == NULL || spec->strategy != PARTITION_STRATEGY_LIST ||
		list_length(spec->listdatums) != 1 || !IsA(linitial(spec->listdatums), Const))
		return false;
	c = linitial(spec->listdatums);
	return !c->constisnull && strcmp(TextDatumGetCString(c->constvalue), utility_id) == 0;
}

/*
 * The partition of schema.table for a utility, partitioned by range of
 * range_column (its months), created if missing.  A partition of another
 * shape (from an older layout) is replaced if may_replace (a build, which
 * truncated it), else refused.
 */
Oid
gf_utility_partition(const char *schema, const char *table, const char *utility_id,
					 const char *range_column, bool may_replace)
{
	Oid			nsp = get_namespace_oid(schema, false);
	char	   *name = gf_partition_name(table, utility_id, "");
	const char *qname = quote_qualified_identifier(schema, name);
	Oid			relid = get_relname_relid(name, nsp);

	if (OidIsValid(relid) && gf_partition_is_distributed(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("utility \"%s\" is built on shards: partition %s is not a table of this database",
						utility_id, qname),
				 errhint("Build it with gridflow_build_distributed(), or make it local again: delete its rows of gridflow.shard and run gridflow_distribute().")));
	/* a relation of that name that is not this utility's is never touched */
	if (OidIsValid(relid) && !is_utility_partition(relid, gf_relation_oid(schema, table), utility_id))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation %s exists and is not the partition of %s.%s for utility \"%s\"",
						qname, schema, table, utility_id),
				 errhint("Drop or rename it; gridflow names the partitions of utility \"%s\" so.",
						 utility_id)));
	if (OidIsValid(relid) && get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
	{
		if (!may_replace)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("partition %s is not partitioned by month", qname),
					 errhint("Run gridflow_build() or gridflow_rebuild() once, which partitions it.")));
		gf_spi_exec(psprintf("DROP TABLE %s", qname), SPI_OK_UTILITY);
		relid = InvalidOid;
	}
	if (!OidIsValid(relid))
	{
		/* made apart, then attached: readers of the parent are not blocked */
		gf_spi_exec(psprintf("CREATE TABLE %s (LIKE %s) PARTITION BY RANGE (%s)",
							 qname, quote_qualified_identifier(schema, table),
							 quote_identifier(range_column)),
					SPI_OK_UTILITY);
		gf_spi_exec(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%s)",
							 quote_qualified_identifier(schema, table), qname,
							 quote_literal_cstr(utility_id)),
					SPI_OK_UTILITY);
		gf_spi_exec(psprintf("COMMENT ON TABLE %s IS %s", qname,
							 quote_literal_cstr(psprintf("Partition of %s.%s for utility %s, by month of its local days (created by gridflow)",
														 schema, table, utility_id))),
					SPI_OK_UTILITY);
		relid = get_relname_relid(name, nsp);
	}
	if (!OidIsValid(relid) || !get_rel_relispartition(relid) ||
		get_partition_parent(relid, false) != gf_relation_oid(schema, table))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s.%s\" is not a partition of %s.%s", schema, name, schema, table)));
	return relid;
}

/* months are numbered year * 12 + month - 1 */
int32
gf_month_of_date(DateADT d)
{
	int			y,
				m,
				day;

	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	return y * 12 + m - 1;
}

static DateADT
month_first_day(int32 month)
{
	return date2j(month / 12, month % 12 + 1, 1) - POSTGRES_EPOCH_JDATE;
}

/* the instant of the local midnight that starts a month */
static TimestampTz
month_start(GfUtility *u, int32 month)
{
	return gf_local_to_timestamptz(u, ((int64) month_first_day(month) + UNIX_EPOCH_DAYS) *
								   USECS_PER_DAY);
}

typedef struct MonthRoute
{
	GfRoute		route;
	GfUtility  *u;
	const char *schema;
	const char *table;
	Oid			parent;			/* the utility's partition */
	int			att;			/* the routing column */
	bool		by_instant;		/* timestamptz (else date) */
	bool		may_replace;
	/* the month of the last row */
	int32		last;
	int64		lo;
	int64		hi;
} MonthRoute;

/* Month of a row: of its local day, adjusted to the bounds of the leaves. */
static int64
month_key(void *arg, const Datum *values, const bool *isnull)
{
	MonthRoute *r = arg;
	int64		v;
	int32		month;

	if (isnull[r->att])
		elog(ERROR, "gridflow: a row to route has no %s",
			 r->by_instant ? "interval_start_ts" : "local_date");
	v = r->by_instant ? DatumGetTimestampTz(values[r->att]) : DatumGetDateADT(values[r->att]);
	if (v >= r->lo && v < r->hi)
		return r->last;
	if (!r->by_instant)
	{
		month = gf_month_of_date((DateADT) v);
		r->lo = month_first_day(month);
		r->hi = month_first_day(month + 1);
	}
	else
	{
		month = gf_month_of_date(gf_local_date(r->u, (TimestampTz) v));
		r->lo = month_start(r->u, month);
		r->hi = month_start(r->u, month + 1);
		while (v < r->lo)
		{
			month--;
			r->hi = r->lo;
			r->lo = month_start(r->u, month);
		}
		while (v >= r->hi)
		{
			month++;
			r->lo = r->hi;
			r->hi = month_start(r->u, month + 1);
		}
	}
	r->last = month;
	return month;
}

/* the bounds of a month's leaf, as datums of the routing column's type */
static void
month_bounds(MonthRoute *r, int32 month, Datum *lo, Datum *hi)
{
	if (r->by_instant)
	{
		*lo = TimestampTzGetDatum(month_start(r->u, month));
		*hi = TimestampTzGetDatum(month_start(r->u, month + 1));
	}
	else
	{
		*lo = DateADTGetDatum(month_first_day(month));
		*hi = DateADTGetDatum(month_first_day(month + 1));
	}
}

/* Are the bounds of leaf lo..hi? */
static bool
leaf_has_bounds(Oid leaf, Datum lo, Datum hi)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(leaf));
	bool		isnull;
	Datum		d;
	PartitionBoundSpec *spec;
	PartitionRangeDatum *l,
			   *h;
	bool		ok;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", leaf);
	d = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relpartbound, &isnull);
	if (isnull)
	{
		ReleaseSysCache(tup);
		return false;
	}
	spec = castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(d)));
	ReleaseSysCache(tup);
	if (spec->strategy != PARTITION_STRATEGY_RANGE ||
		list_length(spec->lowerdatums) != 1 || list_length(spec->upperdatums) != 1)
		return false;
	l = castNode(PartitionRangeDatum, linitial(spec->lowerdatums));
	h = castNode(PartitionRangeDatum, linitial(spec->upperdatums));
	ok = l->kind == PARTITION_RANGE_DATUM_VALUE && h->kind == PARTITION_RANGE_DATUM_VALUE &&
		IsA(l->value, Const) && IsA(h->value, Const) &&
		!((Const *) l->value)->constisnull && !((Const *) h->value)->constisnull &&
		((Const *) l->value)->constvalue == lo && ((Const *) h->value)->constvalue == hi;
	return ok;
}

/*
 * The key of a leaf, as DDL with two %s (the leaf, the name of its index).
 * The natural keys are enforced leaf by leaf (they hold the partition keys,
 * so that is the same as for the whole table), not by indexes on the
 * partitioned tables: a partition of the layers may then be a foreign
 * table (shards, distribute.c).
 */
static const char *
leaf_key_ddl(const char *table)
{
	if (strcmp(table, "interval_read") == 0 || strcmp(table, "usage_interval") == 0)
		return "ALTER TABLE %s ADD CONSTRAINT %s UNIQUE NULLS NOT DISTINCT "
			"(service_point_id, interval_start_ts, utility_id, meter_id, channel)";
	if (strcmp(table, "daily_usage") == 0)
		return "ALTER TABLE %s ADD CONSTRAINT %s PRIMARY KEY "
			"(service_point_id, local_date, utility_id, channel)";
	elog(ERROR, "gridflow: no key for table \"%s\"", table);
	return NULL;
}

/* The leaf of a month: found, checked, or created. */
static Oid
month_leaf(void *arg, int64 key, bool create)
{
	MonthRoute *r = arg;
	int32		month = (int32) key;
	char		suffix[16];
	char	   *name;
	Oid			nsp = get_namespace_oid(r->schema, false);
	Oid			leaf;
	Datum		lo,
				hi;
	const char *qname;

	snprintf(suffix, sizeof(suffix), "_%04d%02d", month / 12, month % 12 + 1);
	name = gf_partition_name(r->table, r->u->utility_id, suffix);
	qname = quote_qualified_identifier(r->schema, name);
	month_bounds(r, month, &lo, &hi);
	leaf = get_relname_relid(name, nsp);
	if (OidIsValid(leaf))
	{
		bool		ours = get_rel_relispartition(leaf) &&
			get_partition_parent(leaf, false) == r->parent;

		if (ours && get_rel_relkind(leaf) == RELKIND_RELATION && leaf_has_bounds(leaf, lo, hi))
			return leaf;
		/* a relation of that name that is not a leaf of this utility */
		if (!ours)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_TABLE),
					 errmsg("relation %s exists and is not a month partition of utility \"%s\"",
							qname, r->u->utility_id),
					 errhint("Drop or rename it; gridflow names the month partitions of utility \"%s\" so.",
							 r->u->utility_id)));
		if (!r->may_replace)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("partition %s does not hold the month it is named after in the time zone of utility \"%s\"",
							qname, r->u->utility_id),
					 errhint("The utility's time zone was changed: run gridflow_rebuild(), which makes the partitions again.")));
		gf_spi_exec(psprintf("DROP TABLE %s", qname), SPI_OK_UTILITY);
	}
	if (!create)
		return InvalidOid;
	{
		Oid			typoutput;
		bool		varlena;
		Oid			type = r->by_instant ? TIMESTAMPTZOID : DATEOID;

		const char *qparent = quote_qualified_identifier(r->schema, get_rel_name(r->parent));

		/*
		 * Made apart, then attached (SHARE UPDATE EXCLUSIVE on the parent):
		 * readers of the layer are not blocked while an ingest makes a
		 * month.
		 */
		getTypeOutputInfo(type, &typoutput, &varlena);
		gf_spi_exec(psprintf("CREATE TABLE %s (LIKE %s)", qname, qparent), SPI_OK_UTILITY);
		gf_spi_exec(psprintf(leaf_key_ddl(r->table), qname,
							 quote_identifier(psprintf(strcmp(r->table, "daily_usage") == 0 ?
													   "%s_pkey" : "%s_key", name))),
					SPI_OK_UTILITY);
		gf_spi_exec(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
							 qparent, qname,
							 quote_literal_cstr(OidOutputFunctionCall(typoutput, lo)),
							 quote_literal_cstr(OidOutputFunctionCall(typoutput, hi))),
					SPI_OK_UTILITY);
	}
	gf_spi_exec(psprintf("COMMENT ON TABLE %s IS %s", qname,
						 quote_literal_cstr(psprintf("Partition of %s.%s for utility %s, month %04d-%02d of its local days (created by gridflow)",
													 r->schema, r->table, r->u->utility_id,
													 month / 12, month % 12 + 1))),
				SPI_OK_UTILITY);
	leaf = get_relname_relid(name, nsp);
	if (!OidIsValid(leaf) || !leaf_has_bounds(leaf, lo, hi))
		elog(ERROR, "gridflow: could not create partition %s", qname);
	return leaf;
}

/*
 * The routing of schema.table's rows for utility u to its month leaves
 * (parent: the utility's partition).  Reads route on interval_start_ts,
 * products and days on local_date.
 */
GfRoute *
gf_month_route(GfUtility *u, const char *schema, const char *table, Oid parent,
			   TupleDesc desc, bool may_replace)
{
	MonthRoute *r = palloc0(sizeof(MonthRoute));

	r->u = u;
	r->schema = pstrdup(schema);
	r->table = pstrdup(table);
	r->parent = parent;
	r->by_instant = (gf_attnum(desc, "local_date", true) < 0);
	r->att = gf_attnum(desc, r->by_instant ? "interval_start_ts" : "local_date", false);
	r->may_replace = may_replace;
	r->lo = r->hi = 0;
	r->route.key = month_key;
	r->route.leaf = month_leaf;
	r->route.arg = r;
	return &r->route;
}

/* The leaf of the month of a local day (created if missing). */
Oid
gf_month_leaf_of_date(GfRoute *route, DateADT day)
{
	return month_leaf(route->arg, gf_month_of_date(day), true);
}

/*
 * Drop the month partitions of a utility's partition that hold nothing (a
 * build that emptied them and wrote other months).
 */
void
gf_drop_empty_months(Oid parent)
{
	List	   *leaves = find_inheritance_children(parent, AccessExclusiveLock);
	ListCell   *lc;

	foreach(lc, leaves)
	{
		Oid			leaf = lfirst_oid(lc);
		Relation	rel;
		bool		empty;

		if (get_rel_relkind(leaf) != RELKIND_RELATION)
			continue;
		rel = table_open(leaf, AccessExclusiveLock);
		empty = RelationGetNumberOfBlocks(rel) == 0;
		table_close(rel, NoLock);
		if (empty)
			gf_spi_exec(psprintf("DROP TABLE %s",
								 quote_qualified_identifier(get_namespace_name(get_rel_namespace(leaf)),
															get_rel_name(leaf))),
						SPI_OK_UTILITY);
	}
}

/* ---------------------------------------------------------------------
 * Partitions that are tables here, and those that are shards'
 * ---------------------------------------------------------------------
 */

/* A partition of a layer on this node that is not one of its tables? */
bool
gf_partition_is_distributed(Oid relid)
{
	char		kind = get_rel_relkind(relid);
	bool		hash = false;

	if (kind == RELKIND_FOREIGN_TABLE)
		return true;
	if (kind == RELKIND_PARTITIONED_TABLE)
	{
		Relation	rel = table_open(relid, AccessShareLock);

		hash = (RelationGetPartitionKey(rel)->strategy == PARTITION_STRATEGY_HASH);
		table_close(rel, AccessShareLock);
	}
	return hash;
}

/* The partitions (children) of a layer's parent that are tables here. */
static List *
local_children(Oid parent)
{
	List	   *children = find_inheritance_children(parent, AccessShareLock);
	List	   *local = NIL;
	ListCell   *lc;

	foreach(lc, children)
		if (!gf_partition_is_distributed(lfirst_oid(lc)))
			local = lappend_oid(local, lfirst_oid(lc));
	return local;
}

/* The partition of a layer for a utility, if it is a table here. */
static Oid
local_utility_partition(int layer, const char *utility_id)
{
	char	   *name = gf_partition_name(gf_layer_table[layer], utility_id, "");
	Oid			relid = get_relname_relid(name, get_namespace_oid(gf_layer_schema[layer], false));

	if (!OidIsValid(relid) || gf_partition_is_distributed(relid))
		return InvalidOid;
	return relid;
}

/*
 * Run command (TRUNCATE or ANALYZE) on the partitions of the layers of
 * reads that are tables in this database: those of one utility, or all of
 * them (a coordinator's full build; a foreign partition would be emptied
 * or read whole through its server).
 */
void
gf_local_partitions_command(const char *command, const char *utility_id)
{
	StringInfoData sql;

	initStringInfo(&sql);
	for (int i = 0; i < GF_READ_LAYERS; i++)
	{
		if (utility_id != NULL)
		{
			Oid			relid = local_utility_partition(i, utility_id);

			if (OidIsValid(relid))
				appendStringInfo(&sql, "%s%s", sql.len > 0 ? ", " : command, gf_qualified_name(relid));
		}
		else
		{
			ListCell   *lc;

			foreach(lc, local_children(gf_relation_oid(gf_layer_schema[i], gf_layer_table[i])))
				appendStringInfo(&sql, "%s%s", sql.len > 0 ? ", " : command, gf_qualified_name(lfirst_oid(lc)));
		}
	}
	if (sql.len > 0)
		gf_spi_exec(sql.data, SPI_OK_UTILITY);
}

/*
 * A writer of schema.table's rows for utility u, routed to its month
 * partitions (made as needed; a build may replace partitions of an older
 * shape, since it emptied them).
 */
GfBulk *
gf_month_writer(GfUtility *u, const char *schema, const char *table, const char *range_column)
{
	Oid			parent = gf_utility_partition(schema, table, u->utility_id, range_column, true);
	Relation	rel = table_open(parent, AccessShareLock);
	GfRoute    *route = gf_month_route(u, schema, table, parent, RelationGetDescr(rel), true);

	table_close(rel, NoLock);
	return gf_bulk_begin_routed(parent, false, route);
}
