-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION gridflow UPDATE TO '0.3.0'" to load this file. \quit

-- gridflow 0.2.0 -> 0.3.0: only what changed (see CHANGELOG.md).
SET LOCAL search_path TO pg_catalog, pg_temp;

-- Delimiters and quotes are one ASCII character other than a line break,
-- counted in bytes (length() counted characters: 'é' passed, and the build
-- split records on its first byte).  A configuration that breaks the rule
-- stops the update, with what to change.
DO $$
BEGIN
    IF EXISTS (SELECT FROM gridflow.source_file f
                WHERE pg_catalog.octet_length(f.delimiter) OPERATOR(pg_catalog.<>) 1
                   OR pg_catalog.ascii(f.delimiter) OPERATOR(pg_catalog.>=) 128
                   OR f.delimiter OPERATOR(pg_catalog.=) E'\n' OR f.delimiter OPERATOR(pg_catalog.=) E'\r'
                   OR pg_catalog.octet_length(f.quote) OPERATOR(pg_catalog.<>) 1
                   OR pg_catalog.ascii(f.quote) OPERATOR(pg_catalog.>=) 128
                   OR f.quote OPERATOR(pg_catalog.=) E'\n' OR f.quote OPERATOR(pg_catalog.=) E'\r') THEN
        RAISE EXCEPTION 'gridflow.source_file has a delimiter or quote that is not one ASCII character'
            USING DETAIL = 'gridflow 0.3.0 splits records on one ASCII byte only.',
                  HINT = 'Set gridflow.source_file.delimiter and quote to ASCII characters other than a line break, then update.';
    END IF;
END
$$;
ALTER TABLE gridflow.source_file
    DROP CONSTRAINT source_file_delimiter_check,
    ADD CONSTRAINT source_file_delimiter_check
        CHECK (pg_catalog.octet_length(delimiter) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.ascii(delimiter) OPERATOR(pg_catalog.<) 128
               AND delimiter OPERATOR(pg_catalog.<>) E'\n' AND delimiter OPERATOR(pg_catalog.<>) E'\r'),
    DROP CONSTRAINT source_file_quote_check,
    ADD CONSTRAINT source_file_quote_check
        CHECK (pg_catalog.octet_length(quote) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.ascii(quote) OPERATOR(pg_catalog.<) 128
               AND quote OPERATOR(pg_catalog.<>) E'\n' AND quote OPERATOR(pg_catalog.<>) E'\r');
COMMENT ON COLUMN gridflow.source_file.delimiter IS 'Field delimiter: one ASCII character other than a line break (records are split byte by byte, and a byte of 0x80 or above is never a whole UTF-8 character)';
COMMENT ON COLUMN gridflow.source_file.quote IS 'Quote character: one ASCII character other than a line break, not the delimiter; a doubled quote inside quotes is a literal quote';

-- chunk_records() refuses records that are not valid UTF-8.
COMMENT ON FUNCTION gridflow.chunk_records(bytea) IS 'The records packed in one landing.source_chunk, with their line numbers; an error if the bytea is not a chunk or a record is not valid UTF-8';
