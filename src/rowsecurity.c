/*-------------------------------------------------------------------------
 *
 * rowsecurity.c
 *	  The functions the row-level security policies of gridflow call: which
 *	  utilities the calling role may see, and whether it has the privileges
 *	  of a role named in gridflow.role_utility.
 *
 * The policies are plain function calls, with no subquery in them (Citus
 * refuses policies with subqueries on its tables):
 *
 *	 utility_id = ANY (gridflow.caller_utilities())	 (layers, DQ, configuration)
 *	 gridflow.caller_has_privileges_of(role_name)		 (gridflow.role_utility)
 *
 * They mean what the subqueries they replace meant.  A role sees the rows
 * of the utilities mapped in gridflow.role_utility to any role whose
 * privileges it has (pg_has_role(..., 'USAGE')); a mapping of a role that
 * does not exist maps nothing.
 *
 * caller_utilities() runs as its caller (SECURITY INVOKER): it reads
 * gridflow.role_utility with the caller's privileges and under that
 * table's own policy, as the subquery did, so a role that may not read the
 * mappings may not read rows through them either.  Its query names every
 * object with its schema and runs with search_path pinned to pg_catalog,
 * pg_temp.  A policy calls it once per row: the answer is kept for the
 * rest of the statement's execution in the call site's cache (the
 * FmgrInfo's fn_extra, which lives as long as the expression), keyed by
 * the current user, so a SET ROLE between two fetches of a cursor asks
 * again.  Within one statement the mappings are those of its snapshot, as
 * a STABLE function sees them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "gridflow.h"

PG_FUNCTION_INFO_V1(gridflow_caller_utilities);
PG_FUNCTION_INFO_V1(gridflow_caller_has_privileges_of);

/*
 * Has the current user the privileges of the role named name
 * (pg_has_role(role, 'USAGE'))?  false when no such role exists.
 */
static bool
has_privileges_of(const char *name)
{
	Oid			role;

	/* a name too long for a role names none (and is not looked up) */
	if (strlen(name) >= NAMEDATALEN)
		return false;
	role = get_role_oid(name, true);
	return OidIsValid(role) && has_privs_of_role(GetUserId(), role);
}

/*
 * gridflow.caller_has_privileges_of(role_name name): the policy of
 * gridflow.role_utility (a role sees the mappings of the roles whose
 * privileges it has).
 */
Datum
gridflow_caller_has_privileges_of(PG_FUNCTION_ARGS)
{
	Name		name = PG_GETARG_NAME(0);

	PG_RETURN_BOOL(has_privileges_of(NameStr(*name)));
}

typedef struct CallerUtilities
{
	Oid			user;			/* whose they are */
	Datum		utilities;		/* text[], in fn_mcxt */
} CallerUtilities;

/*
 * The utilities mapped to roles whose privileges the current user has, as
 * a text[] in the memory context cxt: reads gridflow.role_utility as the
 * current user.
 */
static Datum
read_caller_utilities(MemoryContext cxt)
{
	ArrayBuildState *astate;
	int			nest;
	int			rc;
	Datum		result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	/*
	 * On Citus, gridflow.role_utility is a reference table: on a worker, a
	 * policy calls this within Citus' query of a shard, where Citus refuses
	 * a query of one of its tables unless told it may (it reads the node's
	 * own copy of the table).
	 */
	if (gf_citus_installed())
	{
		/*
		 * A role that may not use schema gridflow (an external reader)
		 * reaches this only on Citus: Citus runs the part of a query that
		 * reads its tables with the privileges of the role running it, not
		 * those of a view's owner, so the external views (which run with
		 * their owner's) meet the policies of the distributed tables as
		 * their reader.  Say so, rather than that the schema is out of
		 * reach.
		 */
		if (pg_namespace_aclcheck(get_namespace_oid("gridflow", false), GetUserId(),
								  ACL_USAGE) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("role \"%s\" cannot read gridflow's layers on Citus", GetUserNameFromId(GetUserId(), false)),
					 errdetail("Citus reads its tables with the privileges of the role that runs the query, not those of a view's owner; the external views, which run with their owner's, cannot be read by a role without privileges on the layers."),
					 errhint("Read the external views on a gridflow database without Citus, or as a member of gridflow_internal; see \"The same tables on Citus\" in docs/distributed.md.")));
		(void) set_config_option("citus.allow_nested_distributed_execution", "on",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	}
	rc = SPI_execute("SELECT m.role_name, m.utility_id FROM gridflow.role_utility m", true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "gridflow: reading gridflow.role_utility failed: %s", SPI_result_code_string(rc));
	/* built in SPI's memory, which SPI_finish() frees; the result in cxt */
	astate = initArrayResult(TEXTOID, CurrentMemoryContext, false);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		role = SPI_getbinval(tup, desc, 1, &isnull);
		Datum		utility;

		CHECK_FOR_INTERRUPTS();
		if (isnull || !has_privileges_of(NameStr(*DatumGetName(role))))
			continue;
		utility = SPI_getbinval(tup, desc, 2, &isnull);
		if (isnull)
			continue;
		(void) accumArrayResult(astate, utility, false, TEXTOID, CurrentMemoryContext);
	}
	result = makeArrayResult(astate, cxt);
	AtEOXact_GUC(true, nest);
	SPI_finish();
	return result;
}

/*
 * gridflow.caller_utilities(): the utilities the current user may see
 * rows of (an empty array when none), for the policies of the layers.
 */
Datum
gridflow_caller_utilities(PG_FUNCTION_ARGS)
{
	CallerUtilities *c = (CallerUtilities *) fcinfo->flinfo->fn_extra;
	Oid			user = GetUserId();

	if (c == NULL || c->user != user)
	{
		Datum		utilities = read_caller_utilities(fcinfo->flinfo->fn_mcxt);

		if (c == NULL)
			c = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(CallerUtilities));
		else
			pfree(DatumGetPointer(c->utilities));
		c->user = user;
		c->utilities = utilities;
		fcinfo->flinfo->fn_extra = c;
	}
	/* a copy: the cached array is never handed out to be changed */
	PG_RETURN_DATUM(datumCopy(c->utilities, false, -1));
}
