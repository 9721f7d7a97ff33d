/*-------------------------------------------------------------------------
 *
 * history.c
 *	  What gridflow keeps of its work: a row of gridflow.build per build,
 *	  ingest or rebuild, a row of gridflow.batch per file loaded with its
 *	  checksum and figures, and the steps a build function returns; the lock
 *	  on gridflow.batch by which builds, rebuilds and ingests exclude one
 *	  another.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "conform.h"
#include "gridflow.h"

/* Start the build's log row; returns its id. */
int64
gf_build_begin(const char *operation, const char *drop_dir)
{
	Datum		args[3];
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;
	int64		id;

	args[0] = CStringGetTextDatum(operation);
	if (drop_dir != NULL)
		args[1] = CStringGetTextDatum(drop_dir);
	else
		nulls[1] = 'n';
	/* the build runs as the extension owner: record who called it */
	args[2] = CStringGetTextDatum(GetUserNameFromId(gf_calling_role(), false));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("INSERT INTO gridflow.build (operation, drop_dir, started_at, built_by) "
							  "VALUES ($1, $2, clock_timestamp(), $3) RETURNING build_id",
							  3, types, args, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "gridflow: could not record build");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	/* the key of external readers' pseudonyms, made once (55_pseudonyms.sql) */
	if (SPI_execute("INSERT INTO gridflow.pseudonym_key (key) "
					"SELECT pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.gen_random_uuid()::text "
					"OPERATOR(pg_catalog.||) pg_catalog.gen_random_uuid()::text, 'UTF8')) "
					"ON CONFLICT DO NOTHING", false, 0) != SPI_OK_INSERT)
		elog(ERROR, "gridflow: could not make the key of the pseudonyms");
	SPI_finish();
	return id;
}

void
gf_build_end(int64 build_id)
{
	gf_spi_exec(psprintf("UPDATE gridflow.build SET finished_at = clock_timestamp() "
						 "WHERE build_id = " INT64_FORMAT, build_id),
				SPI_OK_UPDATE);
}

/*
 * Insert the batch row of a file about to be read (with its checksum, when
 * it is known beforehand), numbered batch_id or, if that is 0, the next
 * number; returns its number.
 */
int64
gf_batch_insert(int64 batch_id, int64 build_id, const char *utility_id, GfFileKind kind,
				const char *path, const uint8 *sha256)
{
	Datum		args[6];
	Oid			types[6] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID, INT8OID};
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	int64		id;

	args[0] = Int64GetDatum(build_id);
	args[1] = CStringGetTextDatum(utility_id);
	args[2] = CStringGetTextDatum(gf_kind_name(kind));
	args[3] = CStringGetTextDatum(path);
	if (sha256 != NULL)
		args[4] = PointerGetDatum(gf_sha256_bytea(sha256));
	else
		nulls[4] = 'n';
	args[5] = Int64GetDatum(batch_id);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(batch_id == 0 ?
							  "INSERT INTO gridflow.batch (build_id, utility_id, file_kind, "
							  "file_path, content_sha256, started_at) "
							  "VALUES ($1, $2, $3, $4, $5, clock_timestamp()) RETURNING batch_id" :
							  "INSERT INTO gridflow.batch (batch_id, build_id, utility_id, file_kind, "
							  "file_path, content_sha256, started_at) "
							  "VALUES ($6, $1, $2, $3, $4, $5, clock_timestamp()) RETURNING batch_id",
							  6, types, args, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "gridflow: could not record batch");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

int64
gf_batch_begin(int64 build_id, const char *utility_id, GfFileKind kind, const char *path,
			   const uint8 *sha256)
{
	return gf_batch_insert(0, build_id, utility_id, kind, path, sha256);
}

/* SHA-256 digest as a bytea. */
bytea *
gf_sha256_bytea(const uint8 *digest)
{
	bytea	   *b = palloc(VARHDRSZ + 32);

	SET_VARSIZE(b, VARHDRSZ + 32);
	memcpy(VARDATA(b), digest, 32);
	return b;
}

/* Record the figures of a loaded file. */
void
gf_batch_end(int64 batch_id, GfLoadStats *s)
{
	Datum		args[12];
	Oid			types[12] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
	TEXTARRAYOID, INT4OID, BYTEAOID, INT8OID, INT8OID};
	Datum	   *hdr;
	int			n = list_length(s->header);
	int			i = 0;
	ListCell   *lc;

	hdr = palloc(sizeof(Datum) * Max(n, 1));
	foreach(lc, s->header)
	{
		CHECK_FOR_INTERRUPTS();
		hdr[i++] = CStringGetTextDatum((char *) lfirst(lc));
	}
	args[0] = Int64GetDatum(batch_id);
	args[1] = Int64GetDatum(s->file_bytes);
	args[2] = Int64GetDatum(s->records_read);
	args[3] = Int64GetDatum(s->records_rejected);
	args[4] = Int64GetDatum(s->rows_invalid);
	args[5] = Int64GetDatum(s->rows_duplicate);
	args[6] = Int64GetDatum(s->rows_kept);
	args[7] = PointerGetDatum(construct_array(hdr, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[8] = Int32GetDatum(s->spilled_partitions);
	args[9] = PointerGetDatum(gf_sha256_bytea(s->sha256));
	args[10] = Int64GetDatum(s->rows_matched);
	args[11] = Int64GetDatum(s->rows_replaced);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("UPDATE gridflow.batch SET file_bytes = $2, records_read = $3, "
							  "records_rejected = $4, rows_invalid = $5, rows_duplicate = $6, "
							  "rows_kept = $7, header = $8, spill_partitions = $9, "
							  "content_sha256 = $10, rows_matched = $11, rows_replaced = $12, "
							  "finished_at = clock_timestamp(), status = 'loaded' WHERE batch_id = $1",
							  12, types, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "gridflow: could not record batch figures");
	SPI_finish();
	/* local times and unpivoted reads, when there are any */
	gf_conform_record_batch(batch_id, s);
}

void
gf_build_add_step(List **steps, const char *step, const char *table, int64 rows, double ms)
{
	GfBuildStep *s = palloc(sizeof(GfBuildStep));

	s->step = step;
	s->table = table;
	s->rows = rows;
	s->ms = ms;
	*steps = lappend(*steps, s);
}

/* Return the steps as the function's result rows. */
void
gf_build_return_steps(ReturnSetInfo *rsinfo, List *steps)
{
	ListCell   *lc;

	foreach(lc, steps)
	{
		GfBuildStep *s = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(s->step);
		if (s->table)
			values[1] = CStringGetTextDatum(s->table);
		else
			nulls[1] = true;
		values[2] = Int64GetDatum(s->rows);
		nulls[2] = (s->rows < 0);
		values[3] = Float8GetDatum(s->ms);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * Builds, rebuilds and ingests exclude one another on gridflow.batch:
 * builds and rebuilds take it in EXCLUSIVE mode (readers go on), ingests
 * in ROW EXCLUSIVE mode (so that ingests of different utilities run side
 * by side; ingests of one utility queue on its configuration row).  Every
 * run that writes takes it before it writes anything: then it refuses the
 * tables Citus manages (citus.c).
 */
void
gf_lock_history(bool exclusive)
{
	LockRelationOid(gf_relation_oid("gridflow", "batch"),
					exclusive ? ExclusiveLock : RowExclusiveLock);
	gf_refuse_citus_tables();
	/* ingests write the layers in place, which on Citus only builds do */
	if (!exclusive)
		gf_refuse_citus_layers("gridflow_ingest()");
}
