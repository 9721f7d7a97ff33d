/*-------------------------------------------------------------------------
 *
 * partition.c
 *	  The storage of the layers (gridflow_store): each table partitioned by
 *	  utility, the tables of reads, products and days again by month of the
 *	  utility's local days; partitions made by builds (apart, in
 *	  gridflow_next, until swap.c swaps them in) and by ingests (in place),
 *	  and the routing of rows to their months.
 *
 * A utility's partition of table t is named t_<utility> (see
 * gf_partition_name()) and holds CHECK (utility_id = '<utility>'), which
 * lets it be attached to its table without a scan; it is keyed (the
 * unique index of the table's natural key) or, for the tables of reads,
 * products and days, partitioned by RANGE on the month: reads from the
 * local midnight starting the month to the one starting the next on
 * interval_start_ts, products and days on local_date.  Leaves are named
 * t_<utility>_YYYYMM and keyed.  Every partition is a member of the
 * extension, so pg_dump leaves them out (a dump holds the configuration
 * and the history, from which gridflow_rebuild() makes the layers again).
 *
 * Rows are written to the leaves directly (bulk.c's routed writers), so the
 * routing here must agree with the leaves' bounds exactly: a read goes to
 * the month whose bounds contain its start, computed with the same
 * time-zone rules as the bounds themselves.  A leaf whose bounds are not
 * the ones the utility's time zone gives now (the zone was changed) is
 * refused by an ingest; a build makes every partition anew.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "gridflow.h"
#include "localtime.h"

#define UNIX_EPOCH_DAYS (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)

/*
 * The tables of gridflow_store, in the order a swap locks them (swap.c):
 * the view readers read, the column the months of a utility range over
 * (NULL: not by month), the key of each utility's partition (or of each
 * month), as DDL after ADD CONSTRAINT name, and the columns of an index
 * for what readers look up besides the key (a meter's reads; the days of
 * one date, by peak).  The natural keys are
 * enforced partition by partition (they hold the partition keys, so that
 * is the same as for the whole table), not by indexes on the partitioned
 * tables: a partition may then be a foreign table (shards, distribute.c).
 */
const GfStoreTable gf_store[GF_STORE_TABLES] = {
	{"source_chunk", "landing.source_record", NULL, "PRIMARY KEY (batch_id, first_line)"},
	{"reject", "landing.reject", NULL, "PRIMARY KEY (batch_id, line_no)"},
	{"service_point", "standardized.service_point", NULL, "PRIMARY KEY (utility_id, service_point_id)"},
	{"meter", "standardized.meter", NULL, "PRIMARY KEY (utility_id, meter_id)"},
	{"meter_assignment", "standardized.meter_assignment", NULL, "PRIMARY KEY (utility_id, batch_id, line_no)"},
	{"interval_read", "standardized.interval_read", "interval_start_ts",
	"UNIQUE NULLS NOT DISTINCT (service_point_id, interval_start_ts, utility_id, meter_id, channel)"},
	{"usage_interval", "product.usage_interval", "interval_start_ts",
		"UNIQUE NULLS NOT DISTINCT (service_point_id, interval_start_ts, utility_id, meter_id, channel)",
	"meter_id, interval_start_ts"},
	{"daily_usage", "experience.daily_usage", "local_date",
		"PRIMARY KEY (service_point_id, local_date, utility_id, channel)",
	"local_date, channel, peak_usage_value DESC, service_point_id"},
	{"monthly_usage", "experience.monthly_usage", NULL,
	"PRIMARY KEY (service_point_id, month_start, utility_id, channel)"},
};

/* gridflow_store's table t */
Oid
gf_store_oid(GfStore t)
{
	return gf_relation_oid("gridflow_store", gf_store[t].table);
}

/* The name of the key constraint of a partition or leaf called name. */
static char *
key_name(GfStore t, const char *name)
{
	return psprintf(strncmp(gf_store[t].key, "PRIMARY", 7) == 0 ? "%s_pkey" : "%s_key", name);
}

/*
 * Membership of the extension, as ALTER EXTENSION gridflow ADD/DROP TABLE
 * record it, without the lock those take
 * on the extension, which would make every transaction that makes or drops
 * partitions wait for every other one until it commits (two ingests of
 * different utilities that each start a month, say).  A lock that only
 * keeps the extension from being dropped meanwhile is enough here: the
 * relation is one this transaction made, or one it holds.
 */
static ObjectAddress
lock_extension(void)
{
	ObjectAddress ext;

	ext.classId = ExtensionRelationId;
	ext.objectId = get_extension_oid("gridflow", false);
	ext.objectSubId = 0;
	LockDatabaseObject(ExtensionRelationId, ext.objectId, 0, AccessShareLock);
	return ext;
}

static void
set_membership(Oid relid, bool member)
{
	ObjectAddress ext = lock_extension();
	ObjectAddress obj;
	Oid			current;

	obj.classId = RelationRelationId;
	obj.objectId = relid;
	obj.objectSubId = 0;
	current = getExtensionOfObject(obj.classId, obj.objectId);
	if (member && !OidIsValid(current))
	{
		recordDependencyOn(&obj, &ext, DEPENDENCY_EXTENSION);
		recordExtObjInitPriv(obj.objectId, obj.classId);
	}
	else if (!member && current == ext.objectId)
	{
		(void) deleteDependencyRecordsForClass(obj.classId, obj.objectId,
											   ExtensionRelationId, DEPENDENCY_EXTENSION);
		removeExtObjInitPriv(obj.objectId, obj.classId);
	}
	CommandCounterIncrement();
}

/*
 * Make a relation gridflow made (qname: a table or a foreign table) a
 * member of the extension: pg_dump leaves it out, as it leaves out what
 * it holds, which builds and gridflow_distribute() make again.
 */
void
gf_add_to_extension(const char *qname)
{
	List	   *names = stringToQualifiedNameList(qname);
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(names), ShareUpdateExclusiveLock, false);

	set_membership(relid, true);
}

/*
 * Take a partition, and every partition below it, out of the extension,
 * so that it can be dropped (a member of the extension cannot be).  This
 * takes no lock that readers wait for.
 */
void
gf_partition_release(Oid relid)
{
	List	   *tree = find_all_inheritors(relid, ShareUpdateExclusiveLock, NULL);
	ListCell   *lc;

	foreach(lc, tree)
		set_membership(lfirst_oid(lc), false);
}

/* Drop a partition (a member of the extension) with what is below it. */
void
gf_partition_drop(Oid relid)
{
	const char *qname = gf_qualified_name(relid);
	char		kind = get_rel_relkind(relid);

	gf_partition_release(relid);
	gf_spi_exec(psprintf("DROP %s %s", kind == RELKIND_FOREIGN_TABLE ? "FOREIGN TABLE" : "TABLE", qname),
				SPI_OK_UTILITY);
}

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
	char	   *u;

	if (!get_rel_relispartition(relid) || get_partition_parent(relid, false) != parent)
		return false;
	u = gf_partition_utility(relid);
	return u != NULL && strcmp(u, utility_id) == 0;
}

/*
 * Make schema.name, not attached: a utility's partition of table t (keyed,
 * or partitioned by month), or one of its months (month: "YYYY-MM",
 * keyed); with the CHECK that lets it be attached without a scan, a member
 * of the extension.
 */
static void
make_partition(GfStore t, const char *schema, const char *name, const char *utility_id,
			   const char *month)
{
	const char *qname = quote_qualified_identifier(schema, name);
	bool		by_month = (gf_store[t].months != NULL && month == NULL);

	gf_spi_exec(psprintf("CREATE TABLE %s (LIKE %s INCLUDING CONSTRAINTS)%s%s", qname,
						 quote_qualified_identifier("gridflow_store", gf_store[t].table),
						 by_month ? " PARTITION BY RANGE " : "",
						 by_month ? psprintf("(%s)", quote_identifier(gf_store[t].months)) : ""),
				SPI_OK_UTILITY);
	gf_spi_exec(psprintf("ALTER TABLE %s ADD CONSTRAINT utility_check CHECK (utility_id OPERATOR(pg_catalog.=) %s)",
						 qname, quote_literal_cstr(utility_id)),
				SPI_OK_UTILITY);
	if (!by_month)
		gf_spi_exec(psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", qname,
							 quote_identifier(key_name(t, name)), gf_store[t].key),
					SPI_OK_UTILITY);
	if (!by_month && gf_store[t].lookup != NULL)
		gf_spi_exec(psprintf("CREATE INDEX %s ON %s (%s)",
							 quote_identifier(psprintf("%s_lookup", name)), qname, gf_store[t].lookup),
					SPI_OK_UTILITY);
	gf_add_to_extension(qname);
	gf_spi_exec(psprintf("COMMENT ON TABLE %s IS %s", qname,
						 quote_literal_cstr(month ?
											psprintf("Partition of gridflow_store.%s (%s) for utility %s, month %s of its local days (made by gridflow)",
													 gf_store[t].table, gf_store[t].view, utility_id, month) :
											psprintf("Partition of gridflow_store.%s (%s) for utility %s%s (made by gridflow)",
													 gf_store[t].table, gf_store[t].view, utility_id,
													 by_month ? ", by month of its local days" : ""))),
				SPI_OK_UTILITY);
}

/*
 * The partition of table t for a utility: the one in gridflow_store (made
 * and attached if create and missing: an ingest), or, staged, the one a
 * build makes in gridflow_next, not attached, which swap.c swaps in when
 * the build ends.  InvalidOid when it does not exist and create is false.
 */
Oid
gf_store_partition(GfStore t, const char *utility_id, bool staged, bool create)
{
	const char *schema = staged ? "gridflow_next" : "gridflow_store";
	char	   *name = gf_partition_name(gf_store[t].table, utility_id, "");
	const char *qname = quote_qualified_identifier(schema, name);
	Oid			parent = gf_store_oid(t);
	Oid			relid = get_relname_relid(name, get_namespace_oid(schema, false));

	if (staged)
	{
		if (!OidIsValid(relid) && create)
		{
			make_partition(t, schema, name, utility_id, NULL);
			CommandCounterIncrement();
			relid = get_relname_relid(name, get_namespace_oid(schema, false));
		}
		return relid;
	}
	if (OidIsValid(relid) && gf_partition_is_distributed(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("utility \"%s\" is built on shards: partition %s is not a table of this database",
						utility_id, qname),
				 errhint("Build it with gridflow_build_distributed(), or make it local again: delete its rows of gridflow.shard and run gridflow_distribute().")));
	/* a relation of that name that is not this utility's is never touched */
	if (OidIsValid(relid) && !is_utility_partition(relid, parent, utility_id))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation %s exists and is not the partition of gridflow_store.%s for utility \"%s\"",
						qname, gf_store[t].table, utility_id),
				 errhint("Drop or rename it; gridflow names the partitions of utility \"%s\" so.",
						 utility_id)));
	if (!OidIsValid(relid) && create)
	{
		/* made apart, then attached: readers of the table are not blocked */
		make_partition(t, schema, name, utility_id, NULL);
		gf_spi_exec(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%s)",
							 gf_qualified_name(parent), qname, quote_literal_cstr(utility_id)),
					SPI_OK_UTILITY);
		CommandCounterIncrement();
		relid = get_relname_relid(name, get_namespace_oid(schema, false));
	}
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
	GfStore		t;
	const char *schema;			/* of the utility's partition and its months */
	Oid			parent;			/* the utility's partition */
	int			att;			/* the routing column */
	bool		by_instant;		/* timestamptz (else date) */
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

/* The bound of partition relid (NULL: not a partition). */
static PartitionBoundSpec *
partition_bound(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		isnull;
	Datum		d;
	PartitionBoundSpec *spec;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	d = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relpartbound, &isnull);
	spec = isnull ? NULL : castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(d)));
	ReleaseSysCache(tup);
	return spec;
}

/*
 * The bounds lo..hi of a range partition on one column, and their type;
 * false when leaf is not one or a bound is not a value.
 */
bool
gf_leaf_range(Oid leaf, Datum *lo, Datum *hi, Oid *type)
{
	PartitionBoundSpec *spec = partition_bound(leaf);
	PartitionRangeDatum *l,
			   *h;
	Const	   *lc,
			   *hc;

	if (spec == NULL || spec->strategy != PARTITION_STRATEGY_RANGE ||
		list_length(spec->lowerdatums) != 1 || list_length(spec->upperdatums) != 1)
		return false;
	l = castNode(PartitionRangeDatum, linitial(spec->lowerdatums));
	h = castNode(PartitionRangeDatum, linitial(spec->upperdatums));
	if (l->kind != PARTITION_RANGE_DATUM_VALUE || h->kind != PARTITION_RANGE_DATUM_VALUE ||
		!IsA(l->value, Const) || !IsA(h->value, Const))
		return false;
	lc = (Const *) l->value;
	hc = (Const *) h->value;
	if (lc->constisnull || hc->constisnull)
		return false;
	*lo = lc->constvalue;
	*hi = hc->constvalue;
	*type = hc->consttype;
	return true;
}

/* Are the bounds of leaf lo..hi? */
static bool
leaf_has_bounds(Oid leaf, Datum lo, Datum hi)
{
	Datum		l,
				h;
	Oid			type;

	return gf_leaf_range(leaf, &l, &h, &type) && l == lo && h == hi;
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
	name = gf_partition_name(gf_store[r->t].table, r->u->utility_id, suffix);
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
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("partition %s does not hold the month it is named after in the time zone of utility \"%s\"",
						qname, r->u->utility_id),
				 errhint("The utility's time zone was changed: run gridflow_rebuild(), which makes the partitions again.")));
	}
	if (!create)
		return InvalidOid;
	{
		Oid			typoutput;
		bool		varlena;
		Oid			type = r->by_instant ? TIMESTAMPTZOID : DATEOID;

		/*
		 * Made apart, then attached (SHARE UPDATE EXCLUSIVE on the parent):
		 * readers of the layer are not blocked while an ingest makes a
		 * month.
		 */
		getTypeOutputInfo(type, &typoutput, &varlena);
		make_partition(r->t, r->schema, name, r->u->utility_id,
					   psprintf("%04d-%02d", month / 12, month % 12 + 1));
		gf_spi_exec(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
							 gf_qualified_name(r->parent), qname,
							 quote_literal_cstr(OidOutputFunctionCall(typoutput, lo)),
							 quote_literal_cstr(OidOutputFunctionCall(typoutput, hi))),
					SPI_OK_UTILITY);
		CommandCounterIncrement();
	}
	leaf = get_relname_relid(name, nsp);
	if (!OidIsValid(leaf) || !leaf_has_bounds(leaf, lo, hi))
		elog(ERROR, "gridflow: could not create partition %s", qname);
	return leaf;
}

/*
 * The routing of table t's rows for utility u to its month leaves (parent:
 * the utility's partition, in gridflow_store or, for a build, in
 * gridflow_next; the leaves go beside it).  Reads and products route on
 * interval_start_ts, days on local_date.
 */
GfRoute *
gf_month_route(GfUtility *u, GfStore t, Oid parent)
{
	MonthRoute *r = palloc0(sizeof(MonthRoute));

	r->u = u;
	r->t = t;
	r->schema = get_namespace_name(get_rel_namespace(parent));
	r->parent = parent;
	r->by_instant = (strcmp(gf_store[t].months, "interval_start_ts") == 0);
	{
		Relation	rel = table_open(parent, AccessShareLock);

		r->att = gf_attnum(RelationGetDescr(rel), gf_store[t].months, false);
		table_close(rel, NoLock);
	}
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

/*
 * The utility partitions of table t: those that are tables of this
 * database (local_only), or all of them (foreign ones included).
 */
List *
gf_store_partitions(GfStore t, bool local_only)
{
	List	   *children = find_inheritance_children(gf_store_oid(t), NoLock);
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, children)
		if (!local_only || !gf_partition_is_distributed(lfirst_oid(lc)))
			out = lappend_oid(out, lfirst_oid(lc));
	return out;
}

/* The utility of one of table t's partitions (from its bound), or NULL. */
char *
gf_partition_utility(Oid relid)
{
	PartitionBoundSpec *spec = partition_bound(relid);
	Const	   *c;

	if (spec == NULL || spec->strategy != PARTITION_STRATEGY_LIST ||
		list_length(spec->listdatums) != 1 || !IsA(linitial(spec->listdatums), Const))
		return NULL;
	c = linitial(spec->listdatums);
	return c->constisnull ? NULL : TextDatumGetCString(c->constvalue);
}

/*
 * A writer of table t's rows for utility u: into the partition a build
 * makes (staged: a new table, written without shared buffers), or into
 * the utility's partition in gridflow_store, keeping its indexes (an
 * ingest); the rows of reads, products and days routed to their months.
 */
GfBulk *
gf_store_writer(GfUtility *u, GfStore t, bool staged)
{
	Oid			partition = gf_store_partition(t, u->utility_id, staged, true);

	if (gf_store[t].months != NULL)
		return gf_bulk_begin_routed(partition, !staged, gf_month_route(u, t, partition));
	return staged ? gf_bulk_begin(partition) : gf_bulk_begin_indexed(partition);
}
