/*-------------------------------------------------------------------------
 *
 * access.c
 *	  Who may make gridflow read which server files, and the switch of
 *	  gridflow_build() to the owner of the extension.
 *
 * Reading server files is a superuser-grade power.  Before gridflow opens
 * a file (or accepts a drop directory) it checks that the calling role is
 * superuser or has the privileges of pg_read_server_files, as COPY FROM a
 * file requires; then, when the superuser-only setting
 * gridflow.allowed_directories is set, that the path, resolved with
 * realpath() (so "..", symbolic links and doubled slashes are gone), lies
 * in one of the listed directories.  Once a file is open its real path is
 * checked again, so a symbolic link swapped in meanwhile cannot redirect it.
 *
 * gridflow_build() writes tables that carry row-level security and that no
 * reader may write.  After checking its caller it therefore runs as the
 * owner of the extension, the way VACUUM, ANALYZE and REFRESH MATERIALIZED
 * VIEW run as the owner of the table: in a security-restricted operation,
 * with search_path pinned to pg_catalog, pg_temp.  The files it reads are
 * still checked against the caller, never against the owner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_extension.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/varlena.h"

#include "gridflow.h"

char	   *gf_allowed_directories = NULL;

/*
 * While gridflow_build() runs as the owner of the extension: the role that
 * called it (whose rights every file is checked against) and the owner.
 */
static Oid	build_caller = InvalidOid;
static Oid	build_owner = InvalidOid;

/* A failed build leaves no caller behind. */
static void
gf_access_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		build_caller = InvalidOid;
		build_owner = InvalidOid;
	}
}

static void
gf_access_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		build_caller = InvalidOid;
		build_owner = InvalidOid;
	}
}

/* Set up from _PG_init(): forget the caller of a build that fails. */
void
gf_access_init(void)
{
	RegisterXactCallback(gf_access_xact_callback, NULL);
	RegisterSubXactCallback(gf_access_subxact_callback, NULL);
}

/*
 * The role whose rights decide which files may be read: the caller of
 * gridflow_build() while the build runs as the owner of the extension,
 * otherwise the current user (inside a SECURITY DEFINER function, its
 * owner: like COPY, gridflow honours a deliberate delegation of rights).
 */
Oid
gf_calling_role(void)
{
	Oid			userid;
	int			sec_context;

	GetUserIdAndSecContext(&userid, &sec_context);
	if (OidIsValid(build_caller) && userid == build_owner &&
		(sec_context & SECURITY_RESTRICTED_OPERATION) != 0)
		return build_caller;
	return userid;
}

/* Check hook of gridflow.allowed_directories: absolute directory names. */
bool
gf_check_allowed_directories(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *dirs;
	ListCell   *lc;

	if (!SplitDirectoriesString(raw, ',', &dirs))
	{
		GUC_check_errdetail("List syntax is invalid.");
		return false;
	}
	foreach(lc, dirs)
	{
		char	   *dir = lfirst(lc);

		if (!is_absolute_path(dir))
		{
			GUC_check_errdetail("Directory \"%s\" is not an absolute path.", dir);
			return false;
		}
	}
	return true;
}

/* Name a non-regular file type for messages. */
const char *
gf_file_type_name(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

/* realpath() into palloc'd memory; NULL with errno set on failure. */
static char *
resolve_path(const char *path)
{
	char	   *r = realpath(path, NULL);
	char	   *result;

	if (r == NULL)
		return NULL;
	result = pstrdup(r);
	free(r);
	return result;
}

/*
 * Is the resolved path below one of gridflow.allowed_directories (each
 * resolved too; a listed directory that does not exist allows nothing)?
 * True when the setting is empty.
 */
static bool
path_is_allowed(const char *resolved)
{
	char	   *raw;
	List	   *dirs;
	ListCell   *lc;

	if (gf_allowed_directories == NULL || gf_allowed_directories[0] == '\0')
		return true;
	raw = pstrdup(gf_allowed_directories);
	if (!SplitDirectoriesString(raw, ',', &dirs))
		return false;
	foreach(lc, dirs)
	{
		char	   *dir = resolve_path((char *) lfirst(lc));

		if (dir == NULL)
			continue;
		if (strcmp(dir, "/") == 0 || path_is_prefix_of_path(dir, resolved))
			return true;
	}
	return false;
}

/*
 * Refuse a path outside gridflow.allowed_directories: as resolved before
 * opening, or (opened) as the descriptor opened shows it, when the path
 * changed after it was checked.
 */
static void
refuse_outside(const char *path, const char *resolved, bool opened)
{
	if (opened)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read \"%s\"", path),
				 errdetail("The file opened is \"%s\", which is not in gridflow.allowed_directories: the path changed after it was checked.",
						   resolved),
				 errhint("A superuser can list the directory in gridflow.allowed_directories.")));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to read \"%s\"", path),
			 errdetail("It resolves to \"%s\", which is not in gridflow.allowed_directories.",
					   resolved),
			 errhint("A superuser can list the directory in gridflow.allowed_directories.")));
}

/*
 * The checks shared by files and directories: the caller's rights first
 * (before anything about the path is looked at), then an absolute path,
 * then its resolved form against gridflow.allowed_directories.  Returns
 * the resolved path.
 */
static char *
check_server_path(const char *path, bool directory)
{
	const char *what = directory ? "directory" : "file";
	char	   *resolved;
	struct stat st;

	if (!has_privs_of_role(gf_calling_role(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read %s \"%s\"", what, path),
				 errdetail("Only roles with privileges of the \"%s\" role may read server files with gridflow.",
						   "pg_read_server_files"),
				 errhint("Ask a superuser to GRANT pg_read_server_files to the role that runs gridflow.")));
	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relative path not allowed for %s \"%s\"", what, path),
				 errhint("Give the absolute path of the %s on the database server.", what)));

	resolved = resolve_path(path);
	if (resolved == NULL)
	{
		if (directory)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open directory \"%s\": %m", path)));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	}
	if (!path_is_allowed(resolved))
		refuse_outside(path, resolved, false);

	if (directory)
	{
		if (stat(resolved, &st) < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open directory \"%s\": %m", path)));
		if (!S_ISDIR(st.st_mode))
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is not a directory", path),
					 errdetail("It is %s.", gf_file_type_name(st.st_mode)),
					 errhint("Give gridflow_build() the directory that holds the utility folders.")));
	}
	return resolved;
}

/*
 * Check that the calling role may read the server file at path; returns
 * the resolved path to open.
 */
char *
gf_check_file_access(const char *path)
{
	return check_server_path(path, false);
}

/* The same for a drop directory, which must be a directory. */
char *
gf_check_directory_access(const char *path)
{
	return check_server_path(path, true);
}

/*
 * After opening: where the descriptor really points must still be allowed
 * (a symbolic link may have been swapped in since the path was resolved).
 * Where /proc/self/fd is not mounted the check made before opening stands
 * alone.
 */
void
gf_check_opened_file(int fd, const char *path)
{
#ifdef __linux__
	char		link[64];
	char	   *target;
	ssize_t		n;

	if (gf_allowed_directories == NULL || gf_allowed_directories[0] == '\0')
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	target = palloc(PATH_MAX + 1);
	n = readlink(link, target, PATH_MAX + 1);
	if (n < 0 && errno == ENOENT)
		return;
	if (n < 0 || n > PATH_MAX)
		refuse_outside(path, "(unknown)", true);
	target[n] = '\0';
	if (!path_is_allowed(target))
		refuse_outside(path, target, true);
	pfree(target);
#endif
}

/*
 * Owner of the gridflow extension, once it is known that the extension's
 * objects in this database are those this library was built for: after a
 * new library is installed, a database still at an older version has
 * layers of the older shape, which the build's writers must not fill.
 */
static Oid
extension_owner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;
	char	   *version = NULL;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("gridflow"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d;

		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
		d = heap_getattr(tup, Anum_pg_extension_extversion,
						 RelationGetDescr(rel), &isnull);
		if (!isnull)
			version = TextDatumGetCString(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"gridflow\" is not installed in this database")));
	if (version == NULL || strcmp(version, GRIDFLOW_VERSION) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"gridflow\" is at version %s in this database, but its library is version %s",
						version ? version : "(unknown)", GRIDFLOW_VERSION),
				 errhint("Run ALTER EXTENSION gridflow UPDATE, then SELECT gridflow_rebuild().")));
	return owner;
}

/*
 * The settings a build runs with, whatever the caller's session says, as
 * PostgreSQL's maintenance commands pin search_path: what the build's DDL,
 * its SQL and the text it parses or prints depend on.  The caller's
 * search_path could resolve the owner's SQL to the caller's functions;
 * default_tablespace and default_table_access_method would place or shape
 * the partitions a build creates; DateStyle, IntervalStyle, TimeZone and
 * extra_float_digits change how dates, times and numbers are written into
 * and read back from SQL text (partition bounds, configuration sent to
 * shards); array_nulls, standard_conforming_strings and
 * transform_null_equals how literals and comparisons read; and
 * session_replication_role = replica would silence the triggers and
 * foreign keys that guard gridflow's tables.
 */
static const struct
{
	const char *name;
	const char *value;
}			build_settings[] =
{
	{"search_path", "pg_catalog, pg_temp"},
	{"default_tablespace", ""},
	{"temp_tablespaces", ""},
	{"default_table_access_method", "heap"},
	{"DateStyle", "ISO, MDY"},
	{"IntervalStyle", "postgres"},
	{"TimeZone", "UTC"},
	{"extra_float_digits", "3"},
	{"bytea_output", "hex"},
	{"array_nulls", "on"},
	{"standard_conforming_strings", "on"},
	{"transform_null_equals", "off"},
	{"session_replication_role", "origin"},
};

/*
 * Start of gridflow_build() and its kin: check that the caller may read
 * the drop directory (if there is one; files are checked as they are
 * opened), then run as the owner of the extension, in a
 * security-restricted operation with the settings above pinned, until
 * gf_build_leave().  An error on the way is undone by the transaction
 * abort (user and settings) and the abort callbacks (the caller).
 */
void
gf_build_enter(const char *drop_dir, GfBuildSecurity *s)
{
	Oid			caller = gf_calling_role();
	Oid			owner;

	if (drop_dir != NULL)
		(void) gf_check_directory_access(drop_dir);
	else if (!has_privs_of_role(caller, ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read the files of gridflow's batches"),
				 errdetail("Only roles with privileges of the \"%s\" role may read server files with gridflow.",
						   "pg_read_server_files"),
				 errhint("Ask a superuser to GRANT pg_read_server_files to the role that runs gridflow.")));
	owner = extension_owner();

	GetUserIdAndSecContext(&s->save_userid, &s->save_sec_context);
	s->save_caller = build_caller;
	s->save_owner = build_owner;
	build_caller = caller;
	build_owner = owner;
	SetUserIdAndSecContext(owner, s->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	s->save_nestlevel = NewGUCNestLevel();
	for (int i = 0; i < lengthof(build_settings); i++)
		(void) set_config_option(build_settings[i].name, build_settings[i].value,
								 PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
}

/* End of gridflow_build(): back to the caller. */
void
gf_build_leave(GfBuildSecurity *s)
{
	AtEOXact_GUC(true, s->save_nestlevel);
	SetUserIdAndSecContext(s->save_userid, s->save_sec_context);
	build_caller = s->save_caller;
	build_owner = s->save_owner;
}
