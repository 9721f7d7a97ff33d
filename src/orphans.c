/*-------------------------------------------------------------------------
 *
 * orphans.c
 *	  Relation files of this database that no relation owns, and their
 *	  removal: what a backend killed in the middle of a transaction that
 *	  created relations (a build, a TRUNCATE) leaves on disk for good.
 *
 * PostgreSQL removes the files of an aborted transaction's new relations,
 * but not when the backend (or the server) crashes: recovery cannot know
 * them.  A file is an orphan here when
 *	- its name is a relation file (NNN, NNN_fsm, NNN_vm, NNN_init, with
 *	  segments NNN.1, ...) in the database's directory or its directory in
 *	  a tablespace;
 *	- no version of a pg_class row that is live, or being inserted or
 *	  deleted by a running transaction, names its file number (mapped
 *	  catalogs through the relation mapper); pg_class is read with every
 *	  version visible, so the relations a running transaction creates
 *	  count as owners;
 *	- it is not empty (the empty first segment of a dropped relation stays
 *	  until the next checkpoint, by design);
 *	- it was last modified before the oldest transaction now running (and
 *	  every prepared one) started: a transaction writes its new relation's
 *	  file before it inserts the pg_class row, so a file younger than that
 *	  may belong to a relation being created right now.
 * Listing and removal are for superusers only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_tablespace.h"
#include "common/relpath.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/fd.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/relmapper.h"
#include "utils/timestamp.h"

#include "gridflow.h"

PG_FUNCTION_INFO_V1(gridflow_orphan_relation_files);
PG_FUNCTION_INFO_V1(gridflow_remove_orphan_relation_files);

/* a relation file number in a tablespace (0: the database's default) */
typedef struct OwnedFile
{
	Oid			spc;
	Oid			filenode;
} OwnedFile;

/* The file numbers some version of a pg_class row still names. */
static HTAB *
owned_files(void)
{
	HASHCTL		ctl;
	HTAB	   *owned;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	TransactionId oldest;

	ctl.keysize = sizeof(OwnedFile);
	ctl.entrysize = sizeof(OwnedFile);
	ctl.hcxt = CurrentMemoryContext;
	owned = hash_create("gridflow owned files", 4096, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	rel = table_open(RelationRelationId, AccessShareLock);
	oldest = GetOldestNonRemovableTransactionId(rel);
	/* every version of every row, as CLUSTER reads a table */
	scan = table_beginscan(rel, SnapshotAny, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
		Buffer		buf = ((HeapScanDesc) scan)->rs_cbuf;
		HTSV_Result state;
		OwnedFile	key;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		state = HeapTupleSatisfiesVacuum(tup, oldest, buf);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		if (state == HEAPTUPLE_DEAD)
			continue;
		if (c->relisshared)
			continue;
		memset(&key, 0, sizeof(key));
		key.spc = (c->reltablespace == MyDatabaseTableSpace) ? InvalidOid : c->reltablespace;
		key.filenode = c->relfilenode;
		if (!OidIsValid(key.filenode))
			key.filenode = RelationMapOidToFilenode(c->oid, false);
		if (OidIsValid(key.filenode))
			(void) hash_search(owned, &key, HASH_ENTER, NULL);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return owned;
}

/*
 * The oldest start of a transaction running now or prepared: files younger
 * than that may belong to relations being created.
 */
static TimestampTz
oldest_running_start(void)
{
	TimestampTz oldest = GetCurrentTransactionStartTimestamp();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT least((SELECT min(a.xact_start) FROM pg_catalog.pg_stat_activity a), "
					"(SELECT min(p.prepared) FROM pg_catalog.pg_prepared_xacts p))",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "gridflow: could not read the running transactions");
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull && DatumGetTimestampTz(d) < oldest)
			oldest = DatumGetTimestampTz(d);
	}
	SPI_finish();
	return oldest;
}

/* The file number of a relation file's name (NNN[_fork][.seg]), or 0. */
static Oid
file_number(const char *name)
{
	const char *p = name;
	uint64		n = 0;

	if (*p < '0' || *p > '9')
		return InvalidOid;
	while (*p >= '0' && *p <= '9')
	{
		n = n * 10 + (*p++ - '0');
		if (n > PG_UINT32_MAX)
			return InvalidOid;
	}
	if (*p == '_')
	{
		if (strncmp(p, "_fsm", 4) == 0)
			p += 4;
		else if (strncmp(p, "_vm", 3) == 0)
			p += 3;
		else if (strncmp(p, "_init", 5) == 0)
			p += 5;
		else
			return InvalidOid;
	}
	if (*p == '.')
	{
		p++;
		if (*p < '0' || *p > '9')
			return InvalidOid;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0' ? (Oid) n : InvalidOid;
}

/* The orphans of one directory (the database's, in tablespace spc). */
static void
scan_directory(const char *dir, Oid spc, const char *spcname, HTAB *owned, TimestampTz before,
			   bool remove, ReturnSetInfo *rsinfo)
{
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;

	if (d == NULL && errno == ENOENT)
		return;
	while ((de = ReadDir(d, dir)) != NULL)
	{
		OwnedFile	key;
		char	   *path;
		struct stat st;
		TimestampTz mtime;
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		memset(&key, 0, sizeof(key));
		key.spc = spc;
		key.filenode = file_number(de->d_name);
		if (!OidIsValid(key.filenode) || hash_search(owned, &key, HASH_FIND, NULL) != NULL)
			continue;
		path = psprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0)
		{
			if (errno == ENOENT)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", path)));
		}
		mtime = time_t_to_timestamptz(st.st_mtime);
		if (!S_ISREG(st.st_mode) || st.st_size == 0 || mtime >= before)
			continue;
		if (remove && unlink(path) < 0 && errno != ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not remove file \"%s\": %m", path)));
		values[0] = spcname ? CStringGetTextDatum(spcname) : (Datum) 0;
		nulls[0] = (spcname == NULL);
		values[1] = CStringGetTextDatum(path);
		values[2] = ObjectIdGetDatum(key.filenode);
		values[3] = Int64GetDatum((int64) st.st_size);
		values[4] = TimestampTzGetDatum(mtime);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	FreeDir(d);
}

/* Both functions: list, and remove if asked, the orphans of every directory. */
static Datum
orphan_files(FunctionCallInfo fcinfo, bool remove)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HTAB	   *owned;
	TimestampTz before;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s relation files", remove ? "remove" : "list"),
				 errdetail("Only superusers may list or remove the files of the database's directory.")));
	InitMaterializedSRF(fcinfo, 0);
	before = oldest_running_start();
	owned = owned_files();

	/* the database's directory in its default tablespace */
	scan_directory(GetDatabasePath(MyDatabaseId, MyDatabaseTableSpace), InvalidOid, NULL, owned,
				   before, remove, rsinfo);
	/* and in every other tablespace but the shared one */
	rel = table_open(TableSpaceRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_tablespace t = (Form_pg_tablespace) GETSTRUCT(tup);

		if (t->oid == GLOBALTABLESPACE_OID || t->oid == MyDatabaseTableSpace)
			continue;
		scan_directory(GetDatabasePath(MyDatabaseId, t->oid), t->oid, NameStr(t->spcname), owned,
					   before, remove, rsinfo);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}

/*
 * SQL: gridflow.orphan_relation_files() RETURNS SETOF (tablespace, path,
 * filenode, bytes, modified): the files of this database that no relation
 * owns.
 */
Datum
gridflow_orphan_relation_files(PG_FUNCTION_ARGS)
{
	return orphan_files(fcinfo, false);
}

/*
 * SQL: gridflow.remove_orphan_relation_files(): the same files, removed;
 * returns what it removed.
 */
Datum
gridflow_remove_orphan_relation_files(PG_FUNCTION_ARGS)
{
	return orphan_files(fcinfo, true);
}
