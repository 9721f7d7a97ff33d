/*-------------------------------------------------------------------------
 *
 * distribute.c
 *	  Shards, the coordinator's side: gridflow_distribute() lays the
 *	  utilities of gridflow.shard out on their foreign servers, and
 *	  gridflow_build_distributed() builds every layer across them in one
 *	  transaction.
 *
 * The layers of reads are partitioned by utility (partition.c).  On a
 * coordinator a utility's partition of each of them is either a table of
 * its own (a local utility), or a postgres_fdw foreign table over the same
 * partition on the shard that builds the utility (a whole utility, hash
 * modulus 1), or a table partitioned by hash of service_point_id whose
 * partitions are foreign tables over that partition on each shard (a
 * utility split by hash).  Each shard runs the gridflow extension too and
 * holds ordinary partitions, by month, of what it builds.
 *
 * A distributed build runs in the caller's transaction.  The coordinator
 * empties its own tables and numbers every file's batch as a build on one
 * database would; loads its local utilities, and the service points,
 * meters and reads of the utilities split by hash (reads are de-duplicated
 * over the whole utility, then staged); queues work on each shard
 * (gridflow.shard_task) together with the staged dimensions and reads,
 * routed to their shard by the same hash partitioning as the layers
 * (postgres_fdw batch inserts); then reads gridflow.shard_run, a view over
 * the function that does the queued work (shard.c), on every shard at
 * once: the scans are asynchronous, so the shards build in parallel.  At
 * last it copies back what its data-quality views need of the utilities
 * the shards read themselves (batches with their figures, service points,
 * meters, assignments, rejects).
 *
 * Everything the shards do happens in postgres_fdw's remote transactions,
 * which commit when the coordinator's transaction commits and roll back
 * when it fails: a failing shard leaves every node as it was.  PostgreSQL
 * 15's postgres_fdw has no two-phase commit, so the remote commits, made
 * one after the other just before the local one, are the window in which
 * a failure leaves some nodes built and others not (docs/distributed.md).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "partitioning/partdefs.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "gridflow.h"

PG_FUNCTION_INFO_V1(gridflow_distribute);
PG_FUNCTION_INFO_V1(gridflow_build_distributed);

/* what gridflow_distribute() makes for each shard (server) */
typedef struct RemoteTable
{
	const char *suffix;			/* of the coordinator's foreign table */
	const char *schema;			/* the shard's table, and the local one of
								 * the same columns */
	const char *table;
	const char *skip;			/* columns the coordinator does not send,
								 * comma-separated */
} RemoteTable;

static const RemoteTable remote_tables[] = {
	{"task", "gridflow", "shard_task", "task_id,xact_id,queued_by"},
	{"run", "gridflow", "shard_run", NULL},
	{"batch", "gridflow", "batch", NULL},
	{"service_point", "standardized", "service_point", NULL},
	{"meter", "standardized", "meter", NULL},
	{"meter_assignment", "standardized", "meter_assignment", NULL},
	{"reject", "landing", "reject", NULL},
	{"stage_service_point", "gridflow", "shard_stage_service_point", NULL},
	{"stage_meter", "gridflow", "shard_stage_meter", NULL},
	{"stage_meter_assignment", "gridflow", "shard_stage_meter_assignment", NULL},
};

/* the dimensions a shard building part of a utility gets from here */
static const GfStore shared_dims[] = {GF_STORE_SERVICE_POINT, GF_STORE_METER, GF_STORE_ASSIGNMENT};

/* what the coordinator reads back of a utility a shard builds whole */
static const GfStore collected[] = {GF_STORE_REJECT, GF_STORE_SERVICE_POINT, GF_STORE_METER,
GF_STORE_ASSIGNMENT};

/* one row of gridflow.shard */
typedef struct Placement
{
	char	   *utility_id;
	int			modulus;
	int			remainder;
	char	   *server;
	char	   *drop_dir;		/* NULL: the coordinator's */
} Placement;

/* ---------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------
 */

/* lower-case schema-less name of a runtime object, checked for length */
static char *
object_name(const char *fmt,...)
{
	va_list		ap;
	char		buf[NAMEDATALEN * 4];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (char *c = buf; *c; c++)
		*c = pg_tolower((unsigned char) *c);
	if (strlen(buf) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("the name \"%s\" that gridflow would give a shard's table is too long", buf),
				 errhint("Use shorter names for the foreign servers of gridflow.shard.")));
	return pstrdup(buf);
}

/* postgres_fdw is needed on a coordinator only, and only at run time. */
static void
require_postgres_fdw(void)
{
	if (!OidIsValid(get_extension_oid("postgres_fdw", true)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("gridflow's shards need the postgres_fdw extension in this database"),
				 errdetail("A coordinator reaches its shards through postgres_fdw foreign tables."),
				 errhint("Run CREATE EXTENSION postgres_fdw (it ships with PostgreSQL's contrib modules).")));
}

/*
 * The rows of gridflow.shard, checked: one modulus per utility, every
 * remainder placed, each server a postgres_fdw server that can scan
 * asynchronously and ship gridflow's functions, with a user mapping for
 * the extension's owner (who runs builds).
 */
static List *
read_placements(MemoryContext cxt)
{
	List	   *places = NIL;
	MemoryContext old;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT s.utility_id, s.hash_modulus, s.hash_remainder, s.server_name, s.drop_dir, "
					"(SELECT pg_catalog.count(*) FROM gridflow.shard x "
					"  WHERE x.utility_id OPERATOR(pg_catalog.=) s.utility_id) AS placed, "
					"(SELECT pg_catalog.count(DISTINCT x.hash_modulus) FROM gridflow.shard x "
					"  WHERE x.utility_id OPERATOR(pg_catalog.=) s.utility_id) AS moduli, "
					"w.fdwname::text, "
					"(SELECT o.option_value FROM pg_catalog.pg_options_to_table(f.srvoptions) o "
					"  WHERE o.option_name OPERATOR(pg_catalog.=) 'async_capable') AS async_capable, "
					"(SELECT o.option_value FROM pg_catalog.pg_options_to_table(f.srvoptions) o "
					"  WHERE o.option_name OPERATOR(pg_catalog.=) 'extensions') AS extensions, "
					"EXISTS (SELECT FROM pg_catalog.pg_user_mappings m "
					"  WHERE m.srvid OPERATOR(pg_catalog.=) f.oid "
					"    AND m.umuser IN (0::oid, (SELECT e.extowner FROM pg_catalog.pg_extension e "
					"                      WHERE e.extname OPERATOR(pg_catalog.=) 'gridflow'))) AS mapped "
					"FROM gridflow.shard s "
					"LEFT JOIN pg_catalog.pg_foreign_server f ON f.srvname OPERATOR(pg_catalog.=) s.server_name "
					"LEFT JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid OPERATOR(pg_catalog.=) f.srvfdw "
					"ORDER BY s.utility_id, s.hash_remainder", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.shard");
	old = MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Placement  *p = palloc0(sizeof(Placement));
		bool		isnull;
		char	   *fdw = SPI_getvalue(tup, desc, 8);
		char	   *async = SPI_getvalue(tup, desc, 9);
		char	   *exts = SPI_getvalue(tup, desc, 10);
		bool		mapped = DatumGetBool(SPI_getbinval(tup, desc, 11, &isnull));
		int64		placed = DatumGetInt64(SPI_getbinval(tup, desc, 6, &isnull));
		int64		moduli = DatumGetInt64(SPI_getbinval(tup, desc, 7, &isnull));

		p->utility_id = SPI_getvalue(tup, desc, 1);
		p->modulus = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		p->remainder = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		p->server = SPI_getvalue(tup, desc, 4);
		p->drop_dir = SPI_getvalue(tup, desc, 5);

		if (moduli != 1 || placed != p->modulus)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the shards of utility \"%s\" do not cover it", p->utility_id),
					 errdetail("Its rows of gridflow.shard must share one hash_modulus and have one row for each hash_remainder from 0 to hash_modulus - 1."),
					 errhint("Fix gridflow.shard, then run gridflow_distribute().")));
		if (fdw == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("foreign server \"%s\" of utility \"%s\" does not exist", p->server, p->utility_id),
					 errhint("CREATE SERVER %s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '...', dbname '...', async_capable 'true', extensions 'gridflow')",
							 quote_identifier(p->server))));
		if (strcmp(fdw, "postgres_fdw") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("foreign server \"%s\" does not use postgres_fdw", p->server),
					 errdetail("It uses the foreign-data wrapper \"%s\".", fdw)));
		if (async == NULL || !parse_bool(async, &isnull) || !isnull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("foreign server \"%s\" is not async_capable", p->server),
					 errdetail("gridflow scans its shards at the same time, which needs asynchronous foreign scans."),
					 errhint("ALTER SERVER %s OPTIONS (ADD async_capable 'true')", quote_identifier(p->server))));
		{
			bool		listed = false;

			if (exts != NULL)
			{
				char	   *copy = pstrdup(exts);
				List	   *names;
				ListCell   *lc;

				if (SplitIdentifierString(copy, ',', &names))
					foreach(lc, names)
						if (strcmp(lfirst(lc), "gridflow") == 0)
							listed = true;
			}
			if (!listed)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("foreign server \"%s\" does not list gridflow in its extensions", p->server),
						 errdetail("Aggregates such as gridflow.exact_sum are sent to the shards only when the server lists the extension."),
						 errhint("ALTER SERVER %s OPTIONS (ADD extensions 'gridflow')", quote_identifier(p->server))));
		}
		if (!mapped)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("foreign server \"%s\" has no user mapping for the owner of gridflow", p->server),
					 errdetail("Builds run as the owner of the extension and reach the shards with its user mapping."),
					 errhint("CREATE USER MAPPING FOR the extension's owner (or PUBLIC) SERVER %s OPTIONS (user '...')",
							 quote_identifier(p->server))));
		places = lappend(places, p);
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	return places;
}

static int
name_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/* The distinct servers of the placements, in name order. */
static List *
placement_servers(List *places)
{
	List	   *servers = NIL;
	ListCell   *lc;

	foreach(lc, places)
	{
		Placement  *p = lfirst(lc);
		ListCell   *sc;
		bool		seen = false;

		foreach(sc, servers)
			if (strcmp(lfirst(sc), p->server) == 0)
				seen = true;
		if (!seen)
			servers = lappend(servers, p->server);
	}
	list_sort(servers, name_cmp);
	return servers;
}

/* The placements of one utility (NIL: it is local). */
static List *
utility_placements(List *places, const char *utility_id)
{
	List	   *mine = NIL;
	ListCell   *lc;

	foreach(lc, places)
		if (strcmp(((Placement *) lfirst(lc))->utility_id, utility_id) == 0)
			mine = lappend(mine, lfirst(lc));
	return mine;
}

/* ---------------------------------------------------------------------
 * The layout: gridflow_distribute()
 * ---------------------------------------------------------------------
 */

/* Is name one of the comma-separated names of list? */
static bool
in_list(const char *list, const char *name)
{
	size_t		len = strlen(name);

	for (const char *p = list; *p;)
	{
		const char *end = strchr(p, ',');
		size_t		n = end ? (size_t) (end - p) : strlen(p);

		if (n == len && strncmp(p, name, n) == 0)
			return true;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

/*
 * The column definitions of a table or view (all but the columns of skip),
 * for a foreign table of the same columns.
 */
static char *
column_defs(Oid relid, const char *skip)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (a->attisdropped || (skip != NULL && in_list(skip, NameStr(a->attname))))
			continue;
		appendStringInfo(&buf, "%s%s %s%s", buf.len > 0 ? ", " : "",
						 quote_identifier(NameStr(a->attname)),
						 format_type_with_typemod(a->atttypid, a->atttypmod),
						 a->attnotnull ? " NOT NULL" : "");
	}
	relation_close(rel, AccessShareLock);

	/*
	 * The CHECK constraints too: a foreign table becomes a partition only
	 * when it has every CHECK constraint of its parent (those on a skipped
	 * column are left out).
	 */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT pg_catalog.quote_ident(c.conname), pg_catalog.pg_get_constraintdef(c.oid), "
							 "(SELECT pg_catalog.string_agg(a.attname::text, ',') FROM pg_catalog.pg_attribute a "
							 "WHERE a.attrelid = c.conrelid AND a.attnum OPERATOR(pg_catalog.=) ANY (c.conkey)) "
							 "FROM pg_catalog.pg_constraint c WHERE c.conrelid = %u AND c.contype = 'c' "
							 "ORDER BY c.conname", relid), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the constraints of relation %u", relid);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	tdesc = SPI_tuptable->tupdesc;
		char	   *cols = SPI_getvalue(tup, tdesc, 3);
		bool		skipped = false;

		if (skip != NULL && cols != NULL)
		{
			for (char *col = strtok(cols, ","); col != NULL && !skipped; col = strtok(NULL, ","))
				skipped = in_list(skip, col);
		}
		if (!skipped)
			appendStringInfo(&buf, ", CONSTRAINT %s %s",
							 SPI_getvalue(tup, tdesc, 1), SPI_getvalue(tup, tdesc, 2));
	}
	SPI_finish();
	return buf.data;
}

/* CREATE FOREIGN TABLE qname (columns of like) on server over rschema.rtable */
static void
create_foreign_table(const char *qname, Oid like, const char *skip, const char *server,
					 const char *rschema, const char *rtable, const char *comment)
{
	gf_spi_exec(psprintf("CREATE FOREIGN TABLE %s (%s) SERVER %s OPTIONS (schema_name %s, table_name %s)",
						 qname, column_defs(like, skip), quote_identifier(server),
						 quote_literal_cstr(rschema), quote_literal_cstr(rtable)),
				SPI_OK_UTILITY);
	gf_spi_exec(psprintf("COMMENT ON FOREIGN TABLE %s IS %s", qname, quote_literal_cstr(comment)),
				SPI_OK_UTILITY);
	gf_add_to_extension(qname);
}

/*
 * Drop a relation an earlier layout made (a member of the extension, or
 * not if made by a version before 0.3.0), with what is below it.
 */
static void
drop_relation(Oid relid)
{
	gf_partition_drop(relid);
}

/* The output row of gridflow_distribute(). */
static void
put_layout(ReturnSetInfo *rsinfo, const char *utility_id, int layer, const char *partition,
		   const char *placement, List *servers)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	values[0] = CStringGetTextDatum(utility_id);
	values[1] = CStringGetTextDatum(gf_store[layer].view);
	values[2] = CStringGetTextDatum(partition);
	values[3] = CStringGetTextDatum(placement);
	if (servers == NIL)
		nulls[4] = true;
	else
	{
		Datum	   *elems = palloc(sizeof(Datum) * list_length(servers));
		int			n = 0;
		ListCell   *lc;

		foreach(lc, servers)
			elems[n++] = CStringGetTextDatum(lfirst(lc));
		values[4] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Names of what gridflow_distribute() makes. */
static char *
remote_table_name(const char *server, const char *suffix)
{
	return object_name("%s_%s", server, suffix);
}

static char *
route_name(const char *utility_id)
{
	return gf_partition_name("route", utility_id, "");
}

/*
 * SQL: gridflow_distribute() RETURNS SETOF (utility_id, table_name,
 * partition_name, placement, servers): lay the layers of reads out as
 * gridflow.shard says.  The partitions of utilities placed on shards
 * become foreign tables (or hash-partitioned tables of foreign tables);
 * the partitions of the others are tables again (made by the next build);
 * the shards' tables that builds use are reached through foreign tables
 * in schema gridflow_shard.  Rows of a partition that changes placement
 * are not moved: run gridflow_build_distributed() next.
 */
Datum
gridflow_distribute(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	GfBuildSecurity security;
	MemoryContext cxt;
	MemoryContext old;
	List	   *places;
	List	   *servers;
	List	   *utilities = NIL;
	Oid			shard_nsp;
	ListCell   *lc;

	require_postgres_fdw();
	gf_build_enter(NULL, &security);
	InitMaterializedSRF(fcinfo, 0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow distribute", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/* no build runs meanwhile */
	gf_lock_history(true);
	gf_refuse_citus_layers("gridflow_distribute()");
	places = read_placements(cxt);
	servers = placement_servers(places);

	/* what an earlier layout made: the shards' tables, then the partitions */
	shard_nsp = get_namespace_oid("gridflow_shard", false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT c.oid FROM pg_catalog.pg_class c "
							 "WHERE c.relnamespace OPERATOR(pg_catalog.=) %u "
							 "AND c.relkind IN ('f', 'p', 'r') AND NOT c.relispartition "
							 "ORDER BY c.relname", shard_nsp), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read schema gridflow_shard");
	{
		List	   *drop = NIL;

		/* kept in cxt: SPI_finish() frees what was allocated while connected */
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															   SPI_tuptable->tupdesc, 1, &isnull));
			MemoryContext spi = MemoryContextSwitchTo(cxt);

			drop = lappend_oid(drop, relid);
			MemoryContextSwitchTo(spi);
		}
		SPI_finish();
		foreach(lc, drop)
			drop_relation(lfirst_oid(lc));
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT utility_id FROM gridflow.utility ORDER BY build_order, utility_id",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.utility");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *uid = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		MemoryContext spi = MemoryContextSwitchTo(cxt);

		utilities = lappend(utilities, pstrdup(uid));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();

	/* the shards' tables, one foreign table each */
	foreach(lc, servers)
	{
		const char *server = lfirst(lc);

		for (int i = 0; i < lengthof(remote_tables); i++)
		{
			const RemoteTable *rt = &remote_tables[i];

			create_foreign_table(quote_qualified_identifier("gridflow_shard",
															remote_table_name(server, rt->suffix)),
								 gf_relation_oid(rt->schema, rt->table), rt->skip, server,
								 rt->schema, rt->table,
								 psprintf("%s.%s on shard %s (made by gridflow_distribute(), used by builds)",
										  rt->schema, rt->table, server));
		}
	}

	foreach(lc, utilities)
	{
		const char *uid = lfirst(lc);
		List	   *mine = utility_placements(places, uid);

		for (int layer = GF_STORE_FIRST_MONTHLY; layer < GF_STORE_TABLES; layer++)
		{
			Oid			nsp = get_namespace_oid("gridflow_store", false);
			Oid			parent = gf_store_oid((GfStore) layer);
			char	   *name = gf_partition_name(gf_store[layer].table, uid, "");
			const char *qname = quote_qualified_identifier("gridflow_store", name);
			Oid			relid = get_relname_relid(name, nsp);
			List	   *names = NIL;
			ListCell   *pc;

			/* a partition placed elsewhere than it was, or on shards, is made again */
			if (OidIsValid(relid) && (mine != NIL || gf_partition_is_distributed(relid)))
				drop_relation(relid);
			if (mine == NIL)
			{
				put_layout(rsinfo, uid, layer, name, "local", NIL);
				continue;
			}
			if (((Placement *) linitial(mine))->modulus == 1)
			{
				Placement  *p = linitial(mine);

				create_foreign_table(qname, parent, NULL, p->server, "gridflow_store", name,
									 psprintf("Partition of %s.%s for utility %s: the same partition on shard %s (made by gridflow_distribute())",
											  "gridflow_store", gf_store[layer].table, uid, p->server));
				names = list_make1(p->server);
				put_layout(rsinfo, uid, layer, name, "shard", names);
			}
			else
			{
				gf_spi_exec(psprintf("CREATE TABLE %s (LIKE %s INCLUDING CONSTRAINTS) PARTITION BY HASH (service_point_id)",
									 qname, gf_qualified_name(gf_store_oid((GfStore) layer))),
							SPI_OK_UTILITY);
				gf_spi_exec(psprintf("COMMENT ON TABLE %s IS %s", qname,
									 quote_literal_cstr(psprintf("Partition of %s.%s for utility %s, by hash of service_point_id: each partition is the same partition on one shard (made by gridflow_distribute())",
																 "gridflow_store", gf_store[layer].table, uid))),
							SPI_OK_UTILITY);
				gf_add_to_extension(qname);
				foreach(pc, mine)
				{
					Placement  *p = lfirst(pc);
					char	   *child = gf_partition_name(gf_store[layer].table, uid, object_name("_%s", p->server));
					const char *qchild = quote_qualified_identifier("gridflow_store", child);

					create_foreign_table(qchild, parent, NULL, p->server, "gridflow_store", name,
										 psprintf("Rows of utility %s whose service point hashes to remainder %d of %d: partition %s.%s on shard %s (made by gridflow_distribute())",
												  uid, p->remainder, p->modulus, "gridflow_store", name, p->server));
					gf_spi_exec(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES WITH (MODULUS %d, REMAINDER %d)",
										 qname, qchild, p->modulus, p->remainder),
								SPI_OK_UTILITY);
					names = lappend(names, p->server);
				}
				put_layout(rsinfo, uid, layer, name, "hash", names);
			}
			gf_spi_exec(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%s)",
								 gf_qualified_name(gf_store_oid((GfStore) layer)),
								 qname, quote_literal_cstr(uid)),
						SPI_OK_UTILITY);
		}

		/* a utility split by hash: its reads are routed to the shards' stage */
		if (mine != NIL && ((Placement *) linitial(mine))->modulus > 1)
		{
			char	   *route = route_name(uid);
			const char *qroute = quote_qualified_identifier("gridflow_shard", route);
			ListCell   *pc;

			gf_spi_exec(psprintf("CREATE TABLE %s (LIKE gridflow.shard_stage_read) PARTITION BY HASH (service_point_id)",
								 qroute),
						SPI_OK_UTILITY);
			gf_spi_exec(psprintf("COMMENT ON TABLE %s IS %s", qroute,
								 quote_literal_cstr(psprintf("Reads of utility %s on their way to the stage of their shard, by the hash of service_point_id that partitions its layers (made by gridflow_distribute(), used by builds)", uid))),
						SPI_OK_UTILITY);
			gf_add_to_extension(qroute);
			foreach(pc, mine)
			{
				Placement  *p = lfirst(pc);
				const char *qchild = quote_qualified_identifier("gridflow_shard",
																gf_partition_name("route", uid, object_name("_%s", p->server)));

				create_foreign_table(qchild, gf_relation_oid("gridflow", "shard_stage_read"), NULL,
									 p->server, "gridflow", "shard_stage_read",
									 psprintf("Reads of utility %s for shard %s (remainder %d of %d): its gridflow.shard_stage_read",
											  uid, p->server, p->remainder, p->modulus));
				gf_spi_exec(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES WITH (MODULUS %d, REMAINDER %d)",
									 qroute, qchild, p->modulus, p->remainder),
							SPI_OK_UTILITY);
			}
		}
	}

	gf_build_leave(&security);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * Builds: gridflow_build_distributed()
 * ---------------------------------------------------------------------
 */

/* Does relation schema.name exist, as a partition of parent if given? */
static Oid
existing(const char *schema, const char *name, char relkind, Oid parent)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid(schema, false));

	if (!OidIsValid(relid) || get_rel_relkind(relid) != relkind)
		return InvalidOid;
	if (OidIsValid(parent) &&
		(!get_rel_relispartition(relid) || get_partition_parent(relid, false) != parent))
		return InvalidOid;
	return relid;
}

/* The foreign server of a foreign table. */
static char *
foreign_server_of(Oid relid)
{
	char	   *server = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT s.srvname::text FROM pg_catalog.pg_foreign_table t "
							 "JOIN pg_catalog.pg_foreign_server s ON s.oid OPERATOR(pg_catalog.=) t.ftserver "
							 "WHERE t.ftrelid OPERATOR(pg_catalog.=) %u", relid), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read pg_foreign_table");
	if (SPI_processed == 1)
		server = MemoryContextStrdup(TopTransactionContext,
									 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return server;
}

static void
layout_mismatch(const char *utility_id, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the partitions of utility \"%s\" are not laid out as gridflow.shard says", utility_id),
			 errdetail("%s", what),
			 errhint("Run gridflow_distribute() after changing gridflow.shard.")));
}

/*
 * The layout is what gridflow_distribute() makes of gridflow.shard: a
 * build never changes it (that would lock out the readers of the layers
 * for as long as it runs).
 */
static void
check_layout(List *places, List *utilities)
{
	ListCell   *lc;

	foreach(lc, placement_servers(places))
	{
		const char *server = lfirst(lc);

		for (int i = 0; i < lengthof(remote_tables); i++)
		{
			char	   *name = remote_table_name(server, remote_tables[i].suffix);

			if (!OidIsValid(existing("gridflow_shard", name, RELKIND_FOREIGN_TABLE, InvalidOid)))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("foreign table gridflow_shard.%s for shard \"%s\" does not exist", name, server),
						 errhint("Run gridflow_distribute() after changing gridflow.shard.")));
		}
	}
	foreach(lc, utilities)
	{
		const char *uid = lfirst(lc);
		List	   *mine = utility_placements(places, uid);

		for (int layer = GF_STORE_FIRST_MONTHLY; layer < GF_STORE_TABLES; layer++)
		{
			Oid			parent = gf_store_oid((GfStore) layer);
			char	   *name = gf_partition_name(gf_store[layer].table, uid, "");
			Oid			relid = get_relname_relid(name, get_namespace_oid("gridflow_store", false));
			Placement  *first = mine ? linitial(mine) : NULL;

			if (first == NULL)
			{
				if (OidIsValid(relid) && gf_partition_is_distributed(relid))
					layout_mismatch(uid, psprintf("%s.%s is on shards; the utility is not placed on any.",
												  "gridflow_store", name));
			}
			else if (first->modulus == 1)
			{
				char	   *server;

				relid = existing("gridflow_store", name, RELKIND_FOREIGN_TABLE, parent);
				server = OidIsValid(relid) ? foreign_server_of(relid) : NULL;
				if (server == NULL || strcmp(server, first->server) != 0)
					layout_mismatch(uid, psprintf("%s.%s is not a foreign table on server \"%s\".",
												  "gridflow_store", name, first->server));
			}
			else
			{
				ListCell   *pc;

				relid = existing("gridflow_store", name, RELKIND_PARTITIONED_TABLE, parent);
				if (!OidIsValid(relid) || !gf_partition_is_distributed(relid) ||
					list_length(find_inheritance_children(relid, AccessShareLock)) != list_length(mine))
					layout_mismatch(uid, psprintf("%s.%s is not partitioned by hash into %d shards.",
												  "gridflow_store", name, first->modulus));
				foreach(pc, mine)
				{
					Placement  *p = lfirst(pc);
					char	   *child = gf_partition_name(gf_store[layer].table, uid, object_name("_%s", p->server));
					Oid			c = existing("gridflow_store", child, RELKIND_FOREIGN_TABLE, relid);
					char	   *server = OidIsValid(c) ? foreign_server_of(c) : NULL;

					if (server == NULL || strcmp(server, p->server) != 0)
						layout_mismatch(uid, psprintf("%s.%s is not a foreign table on server \"%s\".",
													  "gridflow_store", child, p->server));
				}
			}
		}
		if (mine != NIL && ((Placement *) linitial(mine))->modulus > 1 &&
			!OidIsValid(existing("gridflow_shard", route_name(uid), RELKIND_PARTITIONED_TABLE, InvalidOid)))
			layout_mismatch(uid, psprintf("gridflow_shard.%s does not exist.", route_name(uid)));
	}
}

/*
 * Run a statement through SPI on behalf of shard server; an error is
 * reported as that shard's.
 */
static uint64
on_shard(const char *server, const char *what, const char *sql, int expected)
{
	MemoryContext cxt = CurrentMemoryContext;
	uint64		rows = 0;

	PG_TRY();
	{
		int			rc;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		rc = SPI_execute(sql, false, 0);
		if (rc != expected)
			elog(ERROR, "gridflow: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
		rows = SPI_processed;
		SPI_finish();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(ERROR,
				(errcode(edata->sqlerrcode),
				 errmsg("gridflow build failed on shard \"%s\" while %s: %s", server, what, edata->message),
				 edata->detail ? errdetail("%s", edata->detail) : 0,
				 errhint("Nothing was changed, here or on any shard; fix the shard and build again."),
				 edata->context ? errcontext("%s", edata->context) : 0));
	}
	PG_END_TRY();
	return rows;
}

/*
 * The shard named in the remote query of an error's context ("remote SQL
 * command: ... WHERE ((tag = 'name'))", as postgres_fdw reports it), or
 * NULL.
 */
static char *
shard_in_context(const char *context)
{
	const char *line = context ? strstr(context, "remote SQL command: ") : NULL;
	const char *end;
	const char *p;
	StringInfoData name;

	if (line == NULL)
		return NULL;
	end = strchr(line, '\n');
	p = strstr(line, "((tag = '");
	if (p == NULL || (end != NULL && p > end))
		return NULL;
	initStringInfo(&name);
	for (p += strlen("((tag = '"); *p && (end == NULL || p < end); p++)
	{
		if (*p == '\'' && p[1] == '\'')
			appendStringInfoChar(&name, *p++);
		else if (*p == '\'')
			return name.data;
		else
			appendStringInfoChar(&name, *p);
	}
	return NULL;
}

/*
 * The configuration of a utility (its row, files, column maps, channels
 * and validation rules, and every unit), as JSON for its shards.
 */
static char *
utility_configuration(const char *utility_id)
{
	Datum		arg = CStringGetTextDatum(utility_id);
	Oid			type = TEXTOID;
	int			nest = NewGUCNestLevel();
	char	   *json;

	/* every digit of the units' factors */
	(void) set_config_option("extra_float_digits", "3", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.jsonb_build_object("
							  "'utility', (SELECT pg_catalog.to_jsonb(u) FROM gridflow.utility u "
							  "  WHERE u.utility_id OPERATOR(pg_catalog.=) $1), "
							  "'source_file', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(f)), '[]') "
							  "  FROM gridflow.source_file f WHERE f.utility_id OPERATOR(pg_catalog.=) $1), "
							  "'column_map', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(m)), '[]') "
							  "  FROM gridflow.column_map m WHERE m.utility_id OPERATOR(pg_catalog.=) $1), "
							  "'channel', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c)), '[]') "
							  "  FROM gridflow.channel c WHERE c.utility_id OPERATOR(pg_catalog.=) $1), "
"'vee_rule', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(r)), '[]') "
							  "  FROM gridflow.vee_rule r WHERE r.utility_id OPERATOR(pg_catalog.=) $1), "
							  "'unit', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), '[]') "
							  "  FROM gridflow.unit x))::text",
							  1, &type, &arg, NULL, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "gridflow: could not read the configuration of utility \"%s\"", utility_id);
	json = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	json = MemoryContextStrdup(TopTransactionContext, json);
	SPI_finish();
	AtEOXact_GUC(true, nest);
	return json;
}

/* The installed version of gridflow here. */
static char *
extension_version(void)
{
	char	   *v;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT extversion FROM pg_catalog.pg_extension "
					"WHERE extname OPERATOR(pg_catalog.=) 'gridflow'", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "gridflow: could not read the version of the extension");
	v = MemoryContextStrdup(TopTransactionContext,
							SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return v;
}

/* An array literal of text values. */
static char *
text_array(List *values)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "ARRAY[");
	foreach(lc, values)
		appendStringInfo(&buf, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_literal_cstr(lfirst(lc)));
	appendStringInfoString(&buf, "]::text[]");
	return buf.data;
}

/* An array literal of bigint values (given as text). */
static char *
bigint_array(List *values)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "'{");
	foreach(lc, values)
		appendStringInfo(&buf, "%s%s", foreach_current_index(lc) > 0 ? "," : "",
						 (char *) lfirst(lc));
	appendStringInfoString(&buf, "}'::bigint[]");
	return buf.data;
}

/* The batch numbers of a utility's files in this build. */
static List *
utility_batch_ids(List *files, const char *utility_id, List **kinds)
{
	List	   *ids = NIL;
	ListCell   *lc;

	*kinds = NIL;
	foreach(lc, files)
	{
		GfConfigFile *cf = lfirst(lc);
		ListCell   *bc;

		if (strcmp(cf->utility->utility_id, utility_id) != 0)
			continue;
		foreach(bc, cf->batches)
		{
			ids = lappend(ids, psprintf(INT64_FORMAT, ((GfBuildBatch *) lfirst(bc))->batch_id));
			*kinds = lappend(*kinds, (char *) gf_kind_name(cf->file.kind));
		}
	}
	return ids;
}

/* a shard's output row, as the coordinator returns it */
typedef struct ShardStep
{
	char	   *server;
	GfBuildStep step;
} ShardStep;

static void
put_step(ReturnSetInfo *rsinfo, const char *server, GfBuildStep *s)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (server)
		values[0] = CStringGetTextDatum(server);
	else
		nulls[0] = true;
	values[1] = CStringGetTextDatum(s->step);
	if (s->table)
		values[2] = CStringGetTextDatum(s->table);
	else
		nulls[2] = true;
	values[3] = Int64GetDatum(s->rows);
	nulls[3] = (s->rows < 0);
	values[4] = Float8GetDatum(s->ms);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * Every shard does its queued work, all at once: one query over the
 * gridflow.shard_run view of each, whose foreign scans postgres_fdw runs
 * asynchronously under the Append.  Each branch's remote query carries
 * its shard's name (tag), so an error names the shard it came from.
 */
static List *
run_shards(List *servers)
{
	StringInfoData sql;
	List	   *volatile out = NIL;
	MemoryContext cxt = CurrentMemoryContext;
	ListCell   *lc;
	int			nest = NewGUCNestLevel();

	(void) set_config_option("enable_async_append", "on", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	initStringInfo(&sql);
	foreach(lc, servers)
	{
		const char *server = lfirst(lc);

		appendStringInfo(&sql, "%sSELECT r.tag, r.step, r.table_name, r.row_count, r.elapsed_ms FROM %s r "
						 "WHERE r.tag OPERATOR(pg_catalog.=) %s",
						 foreach_current_index(lc) > 0 ? " UNION ALL " : "",
						 quote_qualified_identifier("gridflow_shard", remote_table_name(server, "run")),
						 quote_literal_cstr(server));
	}
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(sql.data, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "gridflow: could not run the shards' work");
		MemoryContextSwitchTo(cxt);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			ShardStep  *s = palloc0(sizeof(ShardStep));
			bool		isnull;
			Datum		d;

			s->server = SPI_getvalue(tup, desc, 1);
			s->step.step = SPI_getvalue(tup, desc, 2);
			s->step.table = SPI_getvalue(tup, desc, 3);
			d = SPI_getbinval(tup, desc, 4, &isnull);
			s->step.rows = isnull ? -1 : DatumGetInt64(d);
			d = SPI_getbinval(tup, desc, 5, &isnull);
			s->step.ms = isnull ? 0 : DatumGetFloat8(d);
			out = lappend(out, s);
		}
		SPI_finish();
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char	   *server;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		server = shard_in_context(edata->context);
		if (server == NULL)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(edata->sqlerrcode),
				 errmsg("gridflow build failed on shard \"%s\": %s", server, edata->message),
				 edata->detail ? errdetail("%s", edata->detail) : 0,
				 errhint("Nothing was changed, here or on any shard; fix the shard and build again."),
				 edata->context ? errcontext("%s", edata->context) : 0));
	}
	PG_END_TRY();
	AtEOXact_GUC(true, nest);
	return out;
}

/*
 * SQL: gridflow_build_distributed(drop_dir) RETURNS SETOF (server_name,
 * step, table_name, row_count, elapsed_ms): every layer, from one drop,
 * here and on the shards of gridflow.shard, in the caller's transaction.
 */
Datum
gridflow_build_distributed(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	GfBuildSecurity security;
	char		drop_dir[MAXPGPATH];
	MemoryContext build_cxt;
	List	   *files;
	List	   *places;
	List	   *servers;
	List	   *utilities = NIL;
	List	   *steps = NIL;
	List	   *shard_steps;
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz t0;
	int64		build_id;
	char	   *version;
	ListCell   *lc;
	GfBuildStep total;

	gf_drop_dir_arg(fcinfo, drop_dir, "gridflow_build_distributed");
	gf_check_database_encoding();
	require_postgres_fdw();
	gf_build_enter(drop_dir, &security);

	InitMaterializedSRF(fcinfo, 0);
	build_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow build",
									  ALLOCSET_DEFAULT_SIZES);

	gf_lock_history(true);
	gf_refuse_citus_layers("gridflow_build_distributed()");
	places = read_placements(build_cxt);
	servers = placement_servers(places);
	files = gf_read_config(drop_dir, false, build_cxt);
	gf_require_config_files(files);
	foreach(lc, files)
	{
		GfConfigFile *cf = lfirst(lc);
		GfBuildBatch *bb = MemoryContextAllocZero(build_cxt, sizeof(GfBuildBatch));
		List	   *mine = utility_placements(places, cf->utility->utility_id);

		bb->path = cf->file.path;
		cf->batches = list_make1(bb);
		cf->utility->placement = mine == NIL ? GF_PLACE_LOCAL :
			((Placement *) linitial(mine))->modulus == 1 ? GF_PLACE_REMOTE : GF_PLACE_STAGED;
		if (!list_member(utilities, makeString(cf->utility->utility_id)))
			utilities = lappend(utilities, makeString(cf->utility->utility_id));
	}
	{
		List	   *names = NIL;

		foreach(lc, utilities)
			names = lappend(names, strVal(lfirst(lc)));
		utilities = names;
	}
	check_layout(places, utilities);
	foreach(lc, places)
	{
		Placement  *p = lfirst(lc);
		ListCell   *uc;
		bool		built = false;

		foreach(uc, utilities)
			if (strcmp(lfirst(uc), p->utility_id) == 0)
				built = true;
		/* its shards would keep rows that nothing here describes any more */
		if (!built)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("utility \"%s\" is placed on shards but has nothing to build", p->utility_id),
					 errdetail("It is disabled, or has no files in gridflow.source_file."),
					 errhint("Enable it, or delete its rows of gridflow.shard and run gridflow_distribute().")));
	}
	version = extension_version();

	/* here: the shared tables, local utilities, and what is staged */
	build_id = gf_build_begin("build", drop_dir);
	gf_build_layers(files, build_id, GF_SCOPE_COORDINATOR, false, &steps);

	/*
	 * The shards' work, with the dimensions and reads they need.  Their
	 * stage tables are emptied first: a shard builds only what this build
	 * sends (and runs only the tasks queued in this transaction, shard.c).
	 */
	t0 = GetCurrentTimestamp();
	foreach(lc, servers)
	{
		const char *server = lfirst(lc);
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfoString(&sql, "TRUNCATE ");
		for (int i = 0; i < lengthof(remote_tables); i++)
			if (strncmp(remote_tables[i].suffix, "stage_", 6) == 0)
				appendStringInfo(&sql, "%s%s", sql.len > 9 ? ", " : "",
								 quote_qualified_identifier("gridflow_shard",
															remote_table_name(server, remote_tables[i].suffix)));
		(void) on_shard(server, "emptying its stage tables", sql.data, SPI_OK_UTILITY);
	}
	foreach(lc, utilities)
	{
		List	   *mine = utility_placements(places, lfirst(lc));

		if (mine != NIL && ((Placement *) linitial(mine))->modulus > 1)
			(void) on_shard(((Placement *) linitial(mine))->server,
							psprintf("emptying the staged reads of utility %s", (char *) lfirst(lc)),
							psprintf("TRUNCATE %s", quote_qualified_identifier("gridflow_shard",
																			   route_name(lfirst(lc)))),
							SPI_OK_UTILITY);
	}
	foreach(lc, places)
	{
		Placement  *p = lfirst(lc);
		const char *uid = quote_literal_cstr(p->utility_id);
		List	   *kinds;
		List	   *ids = utility_batch_ids(files, p->utility_id, &kinds);
		StringInfoData task;

		if (ids == NIL)
			continue;
		initStringInfo(&task);
		if (p->modulus > 1)
		{
			/* the utility's new dimensions, from the partitions this build made */
			for (int i = 0; i < lengthof(shared_dims); i++)
			{
				GfStore		t = shared_dims[i];
				Oid			staged = gf_store_partition(t, p->utility_id, true, false);
				char	   *columns;

				if (!OidIsValid(staged))
					elog(ERROR, "gridflow: utility \"%s\" has no new partition of %s",
						 p->utility_id, gf_store[t].view);
				columns = gf_column_list(staged);
				(void) on_shard(p->server, psprintf("sending the %s rows of utility %s",
													gf_store[t].table, p->utility_id),
								psprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
										 quote_qualified_identifier("gridflow_shard",
																	remote_table_name(p->server, psprintf("stage_%s", gf_store[t].table))),
										 columns, columns, gf_qualified_name(staged)),
								SPI_OK_INSERT);
			}
		}
		appendStringInfo(&task,
						 "INSERT INTO %s (tag, operation, utility_id, drop_dir, build_id, file_kinds, batch_ids, "
						 "configuration, gridflow_version) VALUES (%s, %s, %s, %s, " INT64_FORMAT ", %s, %s, %s::jsonb, %s)",
						 quote_qualified_identifier("gridflow_shard", remote_table_name(p->server, "task")),
						 quote_literal_cstr(p->server),
						 p->modulus > 1 ? "'build_hash_part'" : "'build_utility'",
						 uid,
						 p->modulus > 1 ? "NULL" :
						 quote_literal_cstr(p->drop_dir ? p->drop_dir : drop_dir),
						 build_id, text_array(kinds), bigint_array(ids),
						 quote_literal_cstr(utility_configuration(p->utility_id)),
						 quote_literal_cstr(version));
		(void) on_shard(p->server, "queuing its work", task.data, SPI_OK_INSERT);
	}
	gf_build_add_step(&steps, "queue", NULL, -1, (double) (GetCurrentTimestamp() - t0) / 1000.0);

	/* the staged reads, each to the shard of its service point */
	foreach(lc, utilities)
	{
		const char *uid = lfirst(lc);
		List	   *mine = utility_placements(places, uid);
		uint64		rows;
		TimestampTz r0 = GetCurrentTimestamp();

		if (mine == NIL || ((Placement *) linitial(mine))->modulus == 1)
			continue;
		rows = on_shard(((Placement *) linitial(mine))->server, psprintf("routing the reads of utility %s", uid),
						psprintf("INSERT INTO %s SELECT * FROM gridflow.shard_stage_read "
								 "WHERE utility_id OPERATOR(pg_catalog.=) %s",
								 quote_qualified_identifier("gridflow_shard", route_name(uid)),
								 quote_literal_cstr(uid)),
						SPI_OK_INSERT);
		gf_build_add_step(&steps, "route", psprintf("standardized.interval_read (%s)", uid), (int64) rows,
						  (double) (GetCurrentTimestamp() - r0) / 1000.0);
	}
	gf_spi_exec("TRUNCATE gridflow.shard_stage_read", SPI_OK_UTILITY);

	/* every shard at once */
	t0 = GetCurrentTimestamp();
	shard_steps = servers != NIL ? run_shards(servers) : NIL;
	gf_build_add_step(&steps, "shards", NULL, -1, (double) (GetCurrentTimestamp() - t0) / 1000.0);

	/*
	 * What the data-quality views need of the utilities the shards read,
	 * into new partitions here, swapped in with the others.
	 */
	t0 = GetCurrentTimestamp();
	foreach(lc, places)
	{
		Placement  *p = lfirst(lc);
		const char *uid = quote_literal_cstr(p->utility_id);
		List	   *kinds;
		List	   *ids = utility_batch_ids(files, p->utility_id, &kinds);
		char	   *ids_sql;

		if (ids == NIL || p->modulus > 1)
			continue;
		ids_sql = bigint_array(ids);
		gf_spi_exec(psprintf("DELETE FROM gridflow.batch WHERE utility_id OPERATOR(pg_catalog.=) %s", uid),
					SPI_OK_DELETE);
		(void) on_shard(p->server, psprintf("reading the batches of utility %s", p->utility_id),
						psprintf("INSERT INTO gridflow.batch SELECT * FROM %s "
								 "WHERE batch_id OPERATOR(pg_catalog.=) ANY (%s)",
								 quote_qualified_identifier("gridflow_shard", remote_table_name(p->server, "batch")),
								 ids_sql),
						SPI_OK_INSERT);
		gf_spi_exec(psprintf("UPDATE gridflow.batch SET build_id = " INT64_FORMAT
							 " WHERE utility_id OPERATOR(pg_catalog.=) %s", build_id, uid),
					SPI_OK_UPDATE);
		for (int i = 0; i < lengthof(collected); i++)
		{
			GfStore		t = collected[i];
			Oid			staged = gf_store_partition(t, p->utility_id, true, true);
			char	   *columns = gf_column_list(staged);

			(void) on_shard(p->server, psprintf("reading the %s rows of utility %s", gf_store[t].table, p->utility_id),
							psprintf("INSERT INTO %s (%s) SELECT %s FROM %s "
									 "WHERE %s OPERATOR(pg_catalog.=) %s",
									 gf_qualified_name(staged), columns, columns,
									 quote_qualified_identifier("gridflow_shard",
																remote_table_name(p->server, gf_store[t].table)),
									 t == GF_STORE_REJECT ? "batch_id" : "utility_id",
									 t == GF_STORE_REJECT ? psprintf("ANY (%s)", ids_sql) : uid),
							SPI_OK_INSERT);
		}
	}
	gf_build_add_step(&steps, "collect", NULL, -1, (double) (GetCurrentTimestamp() - t0) / 1000.0);

	gf_build_end(build_id);
	/* the new partitions here in, those of utilities no longer built out */
	gf_swap_layers(utilities, true, build_id, &steps);

	foreach(lc, steps)
		put_step(rsinfo, NULL, lfirst(lc));
	foreach(lc, shard_steps)
	{
		ShardStep  *s = lfirst(lc);

		put_step(rsinfo, s->server, &s->step);
	}
	total.step = "total";
	total.table = NULL;
	total.rows = -1;
	total.ms = (double) (GetCurrentTimestamp() - start) / 1000.0;
	put_step(rsinfo, NULL, &total);

	gf_build_leave(&security);
	MemoryContextDelete(build_cxt);
	return (Datum) 0;
}
