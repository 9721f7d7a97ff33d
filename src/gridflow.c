/*-------------------------------------------------------------------------
 *
 * gridflow.c
 *	  Module entry point: settings, the shipped sample, and small helpers
 *	  shared by the rest (SPI statements, the statistics target of a
 *	  build's ANALYZE, progress notices).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "gridflow.h"

PG_MODULE_MAGIC;

int			gf_max_record_bytes = 64 * 1024 * 1024;
int			gf_reject_record_bytes = 4096;
bool		gf_progress = false;
bool		gf_stream_index_builds = true;
int			gf_statistics_target = 10;
int			gf_build_memory_kb = 256 * 1024;

void		_PG_init(void);

/* Define the gridflow.* settings and set up each part. */
void
_PG_init(void)
{
	DefineCustomIntVariable("gridflow.max_record_bytes",
							"Longest CSV record gridflow reads; longer ones are rejected.",
							"Memory used by a reader is bounded by about this much.",
							&gf_max_record_bytes,
							64 * 1024 * 1024,
							1024,
							512 * 1024 * 1024,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("gridflow.reject_record_bytes",
							"Bytes of a rejected record's text kept in landing.reject.",
							NULL,
							&gf_reject_record_bytes,
							4096,
							0,
							1024 * 1024,
							PGC_USERSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("gridflow.progress",
							 "Report each phase of a build as a NOTICE, with rows and time.",
							 NULL,
							 &gf_progress,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("gridflow.stream_index_builds",
							 "Write a new layer table's unique btree indexes as its rows are written in their order.",
							 "Off: every index of such a table is rebuilt by REINDEX after the rows are written.",
							 &gf_stream_index_builds,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("gridflow.build_memory",
							"Memory for de-duplicating the reads of one file before they are partitioned to temporary files.",
							"Bounds a build's memory whatever the size of its files.",
							&gf_build_memory_kb,
							256 * 1024,
							64,
							MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("gridflow.statistics_target",
							"Statistics target a build uses to analyze the tables it wrote.",
							"0 skips the analysis; -1 uses default_statistics_target.",
							&gf_statistics_target,
							10,
							-1,
							10000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("gridflow.allowed_directories",
							   "Directories below which gridflow may read server files (empty: no restriction).",
							   "A comma-separated list of absolute paths.  Paths are resolved (symbolic links, \"..\") "
							   "before they are compared; the calling role also needs pg_read_server_files.",
							   &gf_allowed_directories,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   gf_check_allowed_directories, NULL, NULL);

	MarkGUCPrefixReserved("gridflow");

	gf_access_init();
}

/*
 * Directory of the sample drop installed with the extension (below
 * extension_destdir where that Debian setting is in use).
 */
void
gf_sample_dir(char *buf, size_t size)
{
	char		sharepath[MAXPGPATH];
	const char *destdir = GetConfigOption("extension_destdir", true, false);

	get_share_path(my_exec_path, sharepath);
	snprintf(buf, size, "%s%s/extension/gridflow_sample",
			 destdir ? destdir : "", sharepath);
}

PG_FUNCTION_INFO_V1(gridflow_sample_dir);

/* SQL: gridflow.sample_dir() */
Datum
gridflow_sample_dir(PG_FUNCTION_ARGS)
{
	char		dir[MAXPGPATH];

	gf_sample_dir(dir, sizeof(dir));
	PG_RETURN_TEXT_P(cstring_to_text(dir));
}

/*
 * The files are UTF-8 and their text is stored as is, so the database must
 * be UTF8 (or SQL_ASCII, which stores any bytes).
 */
void
gf_check_database_encoding(void)
{
	int			enc = GetDatabaseEncoding();

	if (enc != PG_UTF8 && enc != PG_SQL_ASCII)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("gridflow needs a UTF8 database"),
				 errdetail("The database encoding is %s; gridflow reads UTF-8 files and stores their text unconverted.",
						   GetDatabaseEncodingName()),
				 errhint("Create the database with ENCODING 'UTF8'.")));
}

/* Run one SQL statement through SPI; an ERROR if it fails. */
void
gf_spi_exec(const char *sql, int expected)
{
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute(sql, false, 0);
	if (rc != expected)
		elog(ERROR, "gridflow: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
	SPI_finish();
}

/*
 * The statistics target of the ANALYZE that ends a build, as
 * gridflow.statistics_target says (callers skip ANALYZE when it is 0);
 * returns the GUC nest level to give AtEOXact_GUC(true, ...) after it.
 */
int
gf_statistics_begin(void)
{
	int			nest = NewGUCNestLevel();

	if (gf_statistics_target > 0)
		(void) set_config_option("default_statistics_target",
								 psprintf("%d", gf_statistics_target),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	return nest;
}

/* A NOTICE per phase when gridflow.progress is on. */
void
gf_progress_notice(const char *what, int64 rows, double ms)
{
	if (!gf_progress)
		return;
	if (rows >= 0)
		ereport(NOTICE,
				(errmsg("gridflow: %s: " INT64_FORMAT " rows in %.0f ms", what, rows, ms)));
	else
		ereport(NOTICE,
				(errmsg("gridflow: %s: %.0f ms", what, ms)));
}
