/*-------------------------------------------------------------------------
 *
 * citus.c
 *	  Tables that Citus manages, which builds, rebuilds and ingests refuse to
 *	  write.
 *
 * gridflow writes the heap of its tables on this node directly (bulk.c)
 * and swaps partitions in its catalog (swap.c).  A table that Citus manages
 * (a row of pg_dist_partition: distributed, reference or Citus local) is,
 * on the coordinator, a stand-in whose rows Citus neither reads nor sends
 * to the workers: rows written there would be lost without a word.  So
 * every run that writes checks, once it holds the build lock and before it
 * writes anything, that none of the tables it may write is one.  The
 * configuration tables are exempt: builds only read them, and through SQL,
 * which Citus plans (gridflow_citus_setup() makes them reference tables).
 *
 * Citus' catalog is looked up only where Citus is installed in the
 * database: elsewhere this costs one catalog cache look-up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "gridflow.h"

/* Is Citus installed in this database (is its catalog of tables here)? */
bool
gf_citus_installed(void)
{
	return OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE));
}

/*
 * Refuse to write when Citus manages a table that builds, rebuilds and
 * ingests write: any table of the storage of the layers (gridflow_store,
 * gridflow_next, partitions included), of the stored data-quality figures
 * (dq), or of schema gridflow but the configuration tables
 * (gridflow.citus_reference_tables()): batches, builds, pseudonym keys,
 * the stage tables of shards.
 */
void
gf_refuse_citus_tables(void)
{
	char	   *table = NULL;
	char	   *kind = NULL;

	if (!gf_citus_installed())
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * A worker (a node of a group other than the coordinator's) builds
	 * nothing: a build delegated to it (create_distributed_function() on
	 * gridflow_build) would wait for the coordinator, which waits for it.
	 */
	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_dist_local_group WHERE groupid OPERATOR(pg_catalog.<>) 0",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read pg_dist_local_group");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("gridflow builds, rebuilds and ingests run on the Citus coordinator, not on a worker"),
				 errdetail("This node is a Citus worker; nothing was written."),
				 errhint("Call the function on the coordinator, and do not distribute gridflow's functions with create_distributed_function().")));
	if (SPI_execute("SELECT n.nspname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) c.relname, "
					"CASE WHEN d.partmethod OPERATOR(pg_catalog.<>) 'n' THEN 'a distributed table' "
					"WHEN d.repmodel OPERATOR(pg_catalog.=) 't' THEN 'a reference table' "
					"ELSE 'a Citus local table' END "
					"FROM pg_catalog.pg_dist_partition d "
					"JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.logicalrelid "
					"JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
					"WHERE n.nspname OPERATOR(pg_catalog.=) ANY ('{gridflow_store,gridflow_next,dq}'::pg_catalog.name[]) "
					"OR (n.nspname OPERATOR(pg_catalog.=) 'gridflow' "
					"AND c.relname::pg_catalog.text OPERATOR(pg_catalog.<>) ALL (gridflow.citus_reference_tables())) "
					"OR EXISTS (SELECT FROM pg_catalog.pg_partition_ancestors(d.logicalrelid) a "
					"JOIN pg_catalog.pg_class ac ON ac.oid OPERATOR(pg_catalog.=) a.relid "
					"WHERE ac.relnamespace OPERATOR(pg_catalog.=) ANY (ARRAY['gridflow_store'::pg_catalog.regnamespace, "
					"'gridflow_next'::pg_catalog.regnamespace, 'dq'::pg_catalog.regnamespace]::pg_catalog.oid[])) "
					"ORDER BY 1 LIMIT 1", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read pg_dist_partition");
	if (SPI_processed > 0)
	{
		/* copied out of SPI's memory, which SPI_finish() frees */
		table = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		kind = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	}
	SPI_finish();
	if (table != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("gridflow cannot write table \"%s\", which Citus manages as %s", table, kind),
				 errdetail("gridflow writes the tables of its layers, batches and data-quality figures on this node directly; rows written into the coordinator's local stand-in of a Citus table would be lost. Nothing was written."),
				 errhint("Only the configuration tables may be Citus tables (gridflow_citus_setup() makes them reference tables); see \"The same tables on Citus\" in docs/distributed.md.")));
}

/*
 * Are the layers of reads distributed with Citus (has gridflow_citus_setup()
 * made schema gridflow_citus)?  Builds then move the rows of those layers
 * into the distributed tables (86_citus_layers.sql) instead of swapping
 * them in.
 */
bool
gf_citus_layers(void)
{
	Oid			ns;

	if (!gf_citus_installed())
		return false;
	ns = get_namespace_oid("gridflow_citus", true);
	return OidIsValid(ns) && OidIsValid(get_relname_relid("interval_read", ns));
}

/*
 * Is table t of the storage given to Citus where the layers are distributed
 * (gridflow.citus_layer_tables()): the layers of reads, and the dimensions
 * as reference tables?  Landing stays the coordinator's.
 */
bool
gf_citus_store(GfStore t)
{
	return t == GF_STORE_SERVICE_POINT || t == GF_STORE_METER || t == GF_STORE_ASSIGNMENT ||
		t >= GF_STORE_FIRST_MONTHLY;
}

/* Refuse a run that would write the layers of reads in place (an ingest). */
void
gf_refuse_citus_layers(const char *what)
{
	if (gf_citus_layers())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot run where the layers are distributed with Citus", what),
				 errdetail("It updates the reads, products and days of this node in place; on Citus they are distributed tables, which only builds and rebuilds write. Nothing was written."),
				 errhint("Load the new files with a build (gridflow_build()) or rebuild (gridflow_rebuild()); see \"The same tables on Citus\" in docs/distributed.md.")));
}

/*
 * Before a build's rows of the layers of reads are moved: delete the rows
 * of the utilities it built (with every_utility, every row) from the
 * distributed tables.
 */
void
gf_citus_clear_layers(List *utilities, bool every_utility)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(utilities), 1));
	int			n = 0;
	ListCell   *lc;
	Oid			argtypes[2] = {TEXTARRAYOID, BOOLOID};
	Datum		args[2];

	foreach(lc, utilities)
		elems[n++] = CStringGetTextDatum((const char *) lfirst(lc));
	args[0] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = BoolGetDatum(every_utility);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT gridflow.citus_clear_layers($1, $2)", 2, argtypes, args, NULL,
							  false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not clear the distributed layers");
	SPI_finish();
}

/*
 * Move the rows of staged, a utility's partition of layer t that a build
 * made, into its distributed table; staged is left empty.  Returns the rows
 * moved.
 */
int64
gf_citus_load_layer(GfStore t, Oid staged)
{
	Oid			argtypes[2] = {TEXTOID, REGCLASSOID};
	Datum		args[2];
	bool		isnull;
	int64		moved;

	args[0] = CStringGetTextDatum(gf_store[t].table);
	args[1] = ObjectIdGetDatum(staged);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT gridflow.citus_load_layer($1, $2)", 2, argtypes, args, NULL,
							  false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "gridflow: could not move rows into the distributed layers");
	moved = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return isnull ? 0 : moved;
}
