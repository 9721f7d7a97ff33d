/*-------------------------------------------------------------------------
 *
 * config.c
 *	  What a build, an ingest or a rebuild works from: the enabled
 *	  utilities and their files, read from gridflow.utility, source_file
 *	  and column_map (with what conform.c reads beside them), the drop
 *	  directory they are below, and whether gridflow.shard places a utility
 *	  on shards; the kinds of utility files, and the per-build state of a
 *	  utility.  The configuration tables are analyzed first when they
 *	  changed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "conform.h"
#include "gridflow.h"

/* the kinds of files, in the order a utility's files are loaded */
static const char *const kind_order[] = {"service_point", "meter", "assignment", "interval"};
static const GfFileKind kind_value[] = {GF_KIND_SERVICE_POINT, GF_KIND_METER, GF_KIND_ASSIGNMENT,
GF_KIND_INTERVAL};

/*
 * Per-build state of a utility.  What rows of every table point to (the
 * utility id) lives in build_cxt; what is kept only while the utility is
 * built (its service points and meters) goes in a child context.
 */
void
gf_utility_init(GfUtility *u, MemoryContext build_cxt)
{
	MemoryContext old = MemoryContextSwitchTo(build_cxt);

	u->cxt = AllocSetContextCreate(build_cxt, "gridflow utility", ALLOCSET_DEFAULT_SIZES);
	u->tz = pg_tzset(u->time_zone);
	if (u->tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" of utility \"%s\" is not recognized",
						u->time_zone, u->utility_id),
				 errhint("Set gridflow.utility.time_zone to a name from pg_timezone_names.")));
	u->utility_datum = CStringGetTextDatum(u->utility_id);
	u->tzcache = palloc(sizeof(GfTzCache));
	u->utccache = palloc(sizeof(GfTzCache));
	for (int i = 0; i < GF_TZ_CACHE; i++)
		u->tzcache->hour[i] = u->utccache->hour[i] = PG_INT64_MIN;
	u->meters = NULL;
	u->kept_service_points = NULL;
	u->kept_meters = NULL;
	MemoryContextSwitchTo(old);
}

/* Free what the utility kept in memory for its build. */
void
gf_utility_done(GfUtility *u)
{
	MemoryContextDelete(u->cxt);
	u->cxt = NULL;
	u->meters = NULL;
	u->kept_service_points = NULL;
	u->kept_meters = NULL;
}

static char *
spi_text(HeapTuple tup, TupleDesc desc, int col)
{
	return SPI_getvalue(tup, desc, col);
}

/*
 * ANALYZE the configuration tables that changed since their last ANALYZE
 * (rows written, as pg_stat_user_tables.n_mod_since_analyze counts them) or
 * were never analyzed, so that the planner knows how few rows they hold
 * (unanalyzed, a table of two utilities is planned as if it held hundreds).
 * Called in SPI, as the owner of the extension, who owns these tables.
 *
 * ANALYZE runs in the caller's transaction and holds its SHARE UPDATE
 * EXCLUSIVE lock on each table until that transaction ends; another build
 * or ingest, or an ANALYZE anywhere, that holds it now is never waited for:
 * each table is locked first without waiting, the tables that are not
 * available are left for the next run (quietly: ANALYZE (SKIP_LOCKED) would
 * warn about them), and ANALYZE (SKIP_LOCKED) is given only the others.
 */
static void
analyze_config_tables(void)
{
	StringInfoData sql;
	bool		any = false;

	/*
	 * Citus' reference tables are left out: their rows are in their shards,
	 * which are analyzed where they are (ANALYZE of one would be sent to
	 * every node, which Citus refuses once this transaction has read a
	 * shard here).
	 */
	if (SPI_execute(psprintf("SELECT c.oid, pg_catalog.quote_ident(c.relname) FROM pg_catalog.pg_class c "
							 "WHERE c.relnamespace OPERATOR(pg_catalog.=) 'gridflow'::pg_catalog.regnamespace "
							 "AND c.relname OPERATOR(pg_catalog.=) ANY ('{utility,source_file,column_map,channel,"
							 "unit,role_utility,shard}'::pg_catalog.name[]) "
							 "AND c.relkind OPERATOR(pg_catalog.=) 'r' "
							 "AND pg_catalog.pg_has_role(c.relowner, 'USAGE') "
							 "AND (c.reltuples OPERATOR(pg_catalog.<) 0 "
							 "OR pg_catalog.pg_stat_get_mod_since_analyze(c.oid) OPERATOR(pg_catalog.>) 0 "
							 "OR (pg_catalog.pg_stat_get_last_analyze_time(c.oid) IS NULL "
							 "AND pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid) IS NULL)) %s"
							 "ORDER BY c.relname",
							 gf_citus_installed() ?
							 "AND NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition d "
							 "WHERE d.logicalrelid OPERATOR(pg_catalog.=) c.oid) " : ""),
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read the statistics of the configuration tables");

	initStringInfo(&sql);
	appendStringInfoString(&sql, "ANALYZE (SKIP_LOCKED) ");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));

		if (!ConditionalLockRelationOid(relid, ShareUpdateExclusiveLock))
			continue;
		appendStringInfo(&sql, "%sgridflow.%s", any ? ", " : "",
						 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
		any = true;
	}
	if (any && SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "gridflow: could not analyze the configuration tables");
	pfree(sql.data);
}

/*
 * Does the utility's quality column hold ESPI QualityOfReading codes
 * (gridflow.utility.quality_scheme espi)?  Then the codes of
 * gridflow.quality_code, which product rows may carry (gf_quality_code;
 * gridflow.product_source says the same in SQL).
 */
static void
read_quality_scheme(GfUtility *u, MemoryContext cxt)
{
	Datum		arg = CStringGetTextDatum(u->utility_id);
	Oid			type = TEXTOID;

	u->quality_espi = false;
	u->nquality_codes = 0;
	u->quality_codes = NULL;
	if (SPI_execute_with_args("SELECT c.code FROM gridflow.quality_code c "
							  "WHERE EXISTS (SELECT FROM gridflow.utility u "
							  "WHERE u.utility_id OPERATOR(pg_catalog.=) $1 "
							  "AND u.quality_scheme OPERATOR(pg_catalog.=) 'espi')",
							  1, &type, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.quality_code");
	if (SPI_processed == 0)
		return;
	u->quality_espi = true;
	u->quality_codes = MemoryContextAlloc(cxt, sizeof(int16) * SPI_processed);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		v = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			u->quality_codes[u->nquality_codes++] = DatumGetInt16(v);
	}
}

/*
 * The quality code of a product row: the sender's ESPI QualityOfReading
 * (quality, NULL: none) when the utility writes them and gridflow.quality_code
 * has it, unless it is 0 (valid); else what the utility's own rules say (failed:
 * the read failed one).  A sender's code that gridflow.quality_code does not
 * have, or that is not a code at all, is questionable: gridflow cannot vouch
 * for the read (its text stays in the read's quality).  Without a quality, or
 * with 0, the rules decide: 10 if the read failed one, else 0.
 */
int16
gf_quality_code(const GfUtility *u, const text *quality, bool failed)
{
	int16		rules = failed ? GF_QUALITY_QUESTIONABLE : GF_QUALITY_VALID;
	const char *q;
	int			len;
	int32		code = 0;

	if (!u->quality_espi || quality == NULL || VARSIZE_ANY_EXHDR(quality) == 0)
		return rules;
	q = VARDATA_ANY(quality);
	len = VARSIZE_ANY_EXHDR(quality);
	/* a code: 1 to 5 decimal digits, nothing else (as the SQL's pattern) */
	if (len > 5)
		return GF_QUALITY_QUESTIONABLE;
	for (int i = 0; i < len; i++)
	{
		if (q[i] < '0' || q[i] > '9')
			return GF_QUALITY_QUESTIONABLE;
		code = code * 10 + (q[i] - '0');
	}
	for (int i = 0; i < u->nquality_codes; i++)
		if (u->quality_codes[i] == code)
			return code == GF_QUALITY_VALID ? rules : (int16) code;
	return GF_QUALITY_QUESTIONABLE;
}

/*
 * The utility's enabled validation rules that product rows apply (product.c;
 * gridflow.product_source says the same in SQL), with their parameters.
 */
static void
read_vee_rules(GfUtility *u)
{
	Datum		arg = CStringGetTextDatum(u->utility_id);
	Oid			type = TEXTOID;
	static const char *const params[] = {"max", "min_intervals", "ratio", "floor", "low", "high",
	"days", "min_days"};

	if (SPI_execute_with_args("SELECT rule, "
							  "(parameters OPERATOR(pg_catalog.->>) 'max')::pg_catalog.float8, "
							  "(parameters OPERATOR(pg_catalog.->>) 'min_intervals')::pg_catalog.float8, "
							  "(parameters OPERATOR(pg_catalog.->>) 'ratio')::pg_catalog.float8, "
							  "(parameters OPERATOR(pg_catalog.->>) 'floor')::pg_catalog.float8, "
							  "(parameters OPERATOR(pg_catalog.->>) 'low')::pg_catalog.float8, "
							  "(parameters OPERATOR(pg_catalog.->>) 'high')::pg_catalog.float8, "
							  "(parameters OPERATOR(pg_catalog.->>) 'days')::pg_catalog.float8, "
							  "(parameters OPERATOR(pg_catalog.->>) 'min_days')::pg_catalog.float8 "
							  "FROM gridflow.vee_rule "
							  "WHERE utility_id OPERATOR(pg_catalog.=) $1 AND enabled",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.vee_rule");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *rule = spi_text(tup, desc, 1);
		double		p[lengthof(params)];
		bool		pnull[lengthof(params)];

		for (int k = 0; k < lengthof(params); k++)
		{
			Datum		v = SPI_getbinval(tup, desc, k + 2, &pnull[k]);

			p[k] = pnull[k] ? 0 : DatumGetFloat8(v);
		}
		/* the table's check (gridflow.vee_parameters_valid) holds every parameter */
		if (strcmp(rule, "off_grid") == 0)
			u->vee_off_grid = true;
		else if (strcmp(rule, "negative") == 0)
			u->vee_negative = true;
		else if (strcmp(rule, "ceiling") == 0 && !pnull[0])
		{
			u->vee_ceiling = true;
			u->vee_ceiling_max = p[0];
		}
		else if (strcmp(rule, "gap") == 0)
			u->vee_gap = true;
		else if (strcmp(rule, "zero_run") == 0 && !pnull[1])
			u->vee_zero_run = (int32) Min(p[1], (double) PG_INT32_MAX);
		else if (strcmp(rule, "flat_line") == 0 && !pnull[1])
			u->vee_flat_line = (int32) Min(p[1], (double) PG_INT32_MAX);
		else if (strcmp(rule, "spike") == 0 && !pnull[2] && !pnull[3])
		{
			u->vee_spike = true;
			u->vee_spike_ratio = p[2];
			u->vee_spike_floor = p[3];
		}
		else if (strcmp(rule, "high_low") == 0 && !pnull[4] && !pnull[5] && !pnull[6] && !pnull[7])
		{
			u->vee_high_low = true;
			u->vee_high_low_low = p[4];
			u->vee_high_low_high = p[5];
			u->vee_high_low_days = (int32) Min(p[6], 36600.0);
			u->vee_high_low_min_days = (int32) Min(p[7], 36600.0);
		}
	}
}

/*
 * The utility's estimation (gridflow.vee_estimation; no row: off), which
 * the product writer applies (product.c).
 */
static void
read_vee_estimation(GfUtility *u)
{
	Datum		arg = CStringGetTextDatum(u->utility_id);
	Oid			type = TEXTOID;

	if (SPI_execute_with_args("SELECT max_interpolation_seconds, max_reference_seconds, "
							  "reference_days, reference_weeks "
							  "FROM gridflow.vee_estimation "
							  "WHERE utility_id OPERATOR(pg_catalog.=) $1",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.vee_estimation");
	u->est_enabled = false;
	u->est_longest_gap_seconds = 0;
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		/* the table's checks hold every value in range, none NULL */
		u->est_enabled = true;
		u->est_max_interpolation_seconds = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		u->est_max_reference_seconds = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		u->est_reference_days = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		u->est_reference_weeks = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
		u->est_longest_gap_seconds = Max(u->est_max_interpolation_seconds,
										 u->est_max_reference_seconds);
	}
}

/*
 * Read the configuration: enabled utilities (all of them if all_utilities)
 * in build order, and for each its files in kind order with their column
 * maps, their paths below drop_dir (if given).  Everything is copied into
 * cxt.  The configuration tables that changed are analyzed first.
 */
List *
gf_read_config(const char *drop_dir, bool all_utilities, MemoryContext cxt)
{
	List	   *files = NIL;
	List	   *utilities = NIL;
	MemoryContext old;
	ListCell   *lc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	analyze_config_tables();

	if (SPI_execute(all_utilities ?
					"SELECT utility_id, time_zone, service_point_link, meter_link_policy, "
					"interval_dedup_policy FROM gridflow.utility "
					"ORDER BY build_order, utility_id" :
					"SELECT utility_id, time_zone, service_point_link, meter_link_policy, "
					"interval_dedup_policy FROM gridflow.utility WHERE enabled "
					"ORDER BY build_order, utility_id", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gridflow: could not read gridflow.utility");
	old = MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		GfUtility  *u = palloc0(sizeof(GfUtility));
		char	   *policy = spi_text(tup, desc, 5);

		u->utility_id = spi_text(tup, desc, 1);
		u->time_zone = spi_text(tup, desc, 2);
		u->sp_via_meter = strcmp(spi_text(tup, desc, 3), "meter") == 0;
		u->effective_dated = strcmp(spi_text(tup, desc, 4), "effective_dated") == 0;
		u->policy = strcmp(policy, "keep_last") == 0 ? GF_KEEP_LAST :
			strcmp(policy, "sum") == 0 ? GF_SUM : GF_KEEP_FIRST;
		utilities = lappend(utilities, u);
	}
	MemoryContextSwitchTo(old);

	foreach(lc, utilities)
	{
		GfUtility  *u = lfirst(lc);

		gf_utility_init(u, cxt);
		gf_conform_read_utility(u, cxt);
		read_vee_rules(u);
		read_vee_estimation(u);
		read_quality_scheme(u, cxt);
		for (int k = 0; k < lengthof(kind_order); k++)
		{
			Datum		args[2];
			Oid			types[2] = {TEXTOID, TEXTOID};
			GfConfigFile  *bf;
			char	   *rel;

			args[0] = CStringGetTextDatum(u->utility_id);
			args[1] = CStringGetTextDatum(kind_order[k]);
			if (SPI_execute_with_args("SELECT file_path, delimiter, quote, layout FROM gridflow.source_file "
									  "WHERE utility_id = $1 AND file_kind = $2",
									  2, types, args, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "gridflow: could not read gridflow.source_file");
			if (SPI_processed == 0)
				continue;

			old = MemoryContextSwitchTo(cxt);
			bf = palloc0(sizeof(GfConfigFile));
			bf->utility = u;
			bf->file.kind = kind_value[k];
			rel = spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			if (is_absolute_path(rel) || path_contains_parent_reference(rel))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("file_path \"%s\" of utility \"%s\" must be relative to the drop directory, without \"..\"",
								rel, u->utility_id)));
			bf->file.rel_path = rel;
			bf->file.path = drop_dir ? psprintf("%s/%s", drop_dir, rel) : NULL;
			bf->file.delimiter = gf_file_dialect_byte(spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2),
													  "delimiter", kind_order[k], u->utility_id);
			bf->file.quote = gf_file_dialect_byte(spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3),
												  "quote", kind_order[k], u->utility_id);
			bf->file.espi = strcmp(spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4), "espi") == 0;
			if (bf->file.delimiter == bf->file.quote)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("delimiter and quote of the %s file of utility \"%s\" are the same",
								kind_order[k], u->utility_id)));
			MemoryContextSwitchTo(old);

			if (SPI_execute_with_args("SELECT target_column::text, source_column, format, null_values "
									  "FROM gridflow.column_map WHERE utility_id = $1 AND file_kind = $2 "
									  "ORDER BY target_column",
									  2, types, args, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "gridflow: could not read gridflow.column_map");
			old = MemoryContextSwitchTo(cxt);
			bf->file.nmaps = (int) SPI_processed;
			bf->file.maps = palloc0(sizeof(GfColumnMap) * Max(SPI_processed, 1));
			for (uint64 i = 0; i < SPI_processed; i++)
			{
				HeapTuple	tup = SPI_tuptable->vals[i];
				TupleDesc	desc = SPI_tuptable->tupdesc;
				GfColumnMap *m = &bf->file.maps[i];
				bool		isnull;
				Datum		arr;

				CHECK_FOR_INTERRUPTS();
				m->target = spi_text(tup, desc, 1);
				m->source = spi_text(tup, desc, 2);
				m->format = spi_text(tup, desc, 3);
				arr = SPI_getbinval(tup, desc, 4, &isnull);
				if (!isnull)
				{
					Datum	   *elems;
					bool	   *enulls;
					int			n;

					deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false,
									  TYPALIGN_INT, &elems, &enulls, &n);
					m->nulls = palloc(sizeof(char *) * Max(n, 1));
					for (int j = 0; j < n; j++)
					{
						CHECK_FOR_INTERRUPTS();
						if (!enulls[j])
							m->nulls[m->nnulls++] = TextDatumGetCString(elems[j]);
					}
				}
			}
			files = lappend(files, bf);
			MemoryContextSwitchTo(old);
			gf_conform_read_file(u, &bf->file, cxt);
		}
	}
	SPI_finish();
	return files;
}

/* A build needs at least one configured file. */
void
gf_require_config_files(List *files)
{
	if (files == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no utility files are configured"),
				 errhint("Enable a utility in gridflow.utility and list its files in gridflow.source_file.")));
}

/*
 * The drop directory a build function was given (its first argument; a
 * call without one means the sample shipped with the extension),
 * canonical, into drop_dir (MAXPGPATH bytes).  NULL is an error: a script
 * variable or a subquery that comes back NULL must not replace the layers
 * and the history of batches with the sample.
 */
void
gf_drop_dir_arg(FunctionCallInfo fcinfo, char *drop_dir, const char *function)
{
	if (PG_NARGS() == 0)
		gf_sample_dir(drop_dir, MAXPGPATH);
	else if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the drop directory of %s() must not be NULL", function),
				 errhint("Give the directory; the sample installed with the extension is SELECT * FROM gridflow_build() (no argument), or gridflow.sample_dir().")));
	else
	{
		char	   *d = text_to_cstring(PG_GETARG_TEXT_PP(0));

		if (strlen(d) >= MAXPGPATH)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("drop directory path is too long")));
		strlcpy(drop_dir, d, MAXPGPATH);
		canonicalize_path(drop_dir);
	}
}

/*
 * Refuse to build on a coordinator what belongs to shards: any utility
 * (utility_id NULL: gridflow_build() and gridflow_rebuild(), which build
 * every utility here), or one utility.
 */
void
gf_refuse_distributed(const char *utility_id, const char *what)
{
	Datum		arg;
	Oid			type = TEXTOID;
	bool		placed;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (utility_id == NULL)
	{
		if (SPI_execute("SELECT 1 FROM gridflow.shard LIMIT 1", true, 0) != SPI_OK_SELECT)
			elog(ERROR, "gridflow: could not read gridflow.shard");
	}
	else
	{
		arg = CStringGetTextDatum(utility_id);
		if (SPI_execute_with_args("SELECT 1 FROM gridflow.shard WHERE utility_id OPERATOR(pg_catalog.=) $1 LIMIT 1",
								  1, &type, &arg, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "gridflow: could not read gridflow.shard");
	}
	placed = (SPI_processed > 0);
	SPI_finish();
	if (placed && utility_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s cannot run on a coordinator of shards", what),
				 errdetail("gridflow.shard places utilities on foreign servers; their layers are built there."),
				 errhint("Run gridflow_build_distributed(), or delete the rows of gridflow.shard and run gridflow_distribute() to build every utility here.")));
	if (placed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s cannot load utility \"%s\", which is built on shards", what, utility_id),
				 errhint("Put the files in the drop and run gridflow_build_distributed().")));
}
