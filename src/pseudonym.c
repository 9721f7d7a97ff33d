/*-------------------------------------------------------------------------
 *
 * pseudonym.c
 *	  The keyed hash behind the identifiers external readers see.
 *
 * The external views show each service point, premise and meter by a
 * pseudonym: an HMAC-SHA256 of the identifier under a key that only the
 * owner of gridflow reads (gridflow.pseudonym_key, made by the first build
 * and kept in dumps), so the same identifier always has the same
 * pseudonym and external readers can join on it, but cannot find the
 * utility's number behind it.  This file only computes the HMAC; which
 * columns are pseudonyms is decided in SQL (56_external.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hmac.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "gridflow.h"

PG_FUNCTION_INFO_V1(gridflow_hmac_sha256);

/*
 * SQL: gridflow.hmac_sha256(key bytea, message text) RETURNS bytea: the
 * HMAC-SHA256 of the message's bytes.
 */
Datum
gridflow_hmac_sha256(PG_FUNCTION_ARGS)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(0);
	text	   *msg = PG_GETARG_TEXT_PP(1);
	bytea	   *out = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);

	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (pg_hmac_init(ctx, (const uint8 *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg)) < 0 ||
		pg_hmac_final(ctx, (uint8 *) VARDATA(out), PG_SHA256_DIGEST_LENGTH) < 0)
	{
		const char *why = pg_hmac_error(ctx);

		pg_hmac_free(ctx);
		elog(ERROR, "gridflow: could not compute an HMAC: %s", why);
	}
	pg_hmac_free(ctx);
	SET_VARSIZE(out, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	PG_RETURN_BYTEA_P(out);
}
