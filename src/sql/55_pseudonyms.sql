--
-- Pseudonyms for external readers: the external views show service point,
-- premise and meter identifiers as a keyed hash (HMAC-SHA256) of the
-- utility and the identifier, never the utility's numbers.  The key is
-- made by the first build (or ingest) of the database, is read by the
-- owner of gridflow only, and is kept in dumps, so a pseudonym stays the
-- same across builds, rebuilds and a dump and restore: external readers
-- can join on it.  Made again (a new key), every pseudonym changes.
--
CREATE TABLE gridflow.pseudonym_key (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    key bytea NOT NULL CHECK (pg_catalog.octet_length(key) OPERATOR(pg_catalog.>=) 32),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE gridflow.pseudonym_key IS 'The secret key of the pseudonyms external readers see (one row, made by the first build; read by the owner of gridflow only; dumped, so pseudonyms survive a restore). Delete the row to change every pseudonym at the next build';
COMMENT ON COLUMN gridflow.pseudonym_key.singleton IS 'Always true: one key';
COMMENT ON COLUMN gridflow.pseudonym_key.key IS 'The key: 32 random bytes';
COMMENT ON COLUMN gridflow.pseudonym_key.created_at IS 'When the key was made';
REVOKE ALL ON gridflow.pseudonym_key FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('gridflow.pseudonym_key', '');

CREATE FUNCTION gridflow.hmac_sha256(key bytea, message text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'gridflow_hmac_sha256'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.hmac_sha256(bytea, text) IS 'HMAC-SHA256 of a text''s bytes under a key';

CREATE FUNCTION gridflow.pseudonym(key bytea, kind text, utility_id text, id text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN kind OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||)
       pg_catalog.encode(pg_catalog.substring(
           gridflow.hmac_sha256(key, kind OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) utility_id
                                OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) id), 1, 12), 'hex');
COMMENT ON FUNCTION gridflow.pseudonym(bytea, text, text, text) IS 'The pseudonym of an identifier of a utility: kind, "_", and the first 96 bits of the HMAC-SHA256 of kind:utility_id:id under key, in hex (e.g. sp_0f3a...)';
