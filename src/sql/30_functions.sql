--
-- The CSV reader, on its own.
--
CREATE FUNCTION gridflow.read_csv(
    path text,
    columns text[] DEFAULT NULL,
    delimiter text DEFAULT ',',
    quote text DEFAULT '"',
    OUT line_no bigint,
    OUT fields text[],
    OUT reject_reason text,
    OUT record text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_read_csv'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION gridflow.read_csv(text, text[], text, text) IS 'Stream a CSV file on the server (RFC 4180, UTF-8, optional BOM, LF/CRLF/CR): one row per record after the header, with its line number; columns picks header names (case-insensitive, any order, missing ones are an error), NULL returns every column; records that are not rows of the file come back with reject_reason set and fields NULL. Empty unquoted fields are NULL. Needs superuser or pg_read_server_files, and a path in gridflow.allowed_directories when that is set.';

CREATE FUNCTION gridflow.read_csv_header(
    path text,
    delimiter text DEFAULT ',',
    quote text DEFAULT '"')
RETURNS text[]
AS 'MODULE_PATHNAME', 'gridflow_read_csv_header'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION gridflow.read_csv_header(text, text, text) IS 'The header fields of a CSV file on the server (NULL for an empty file). Needs superuser or pg_read_server_files, and a path in gridflow.allowed_directories when that is set.';

CREATE FUNCTION gridflow.csv_fields(
    record text,
    delimiter text DEFAULT ',',
    quote text DEFAULT '"')
RETURNS text[]
AS 'MODULE_PATHNAME', 'gridflow_csv_fields'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.csv_fields(text, text, text) IS 'Split one CSV record (such as landing.source_record.record) into its fields, with the same rules as the reader; an error if the text is not exactly one record';

CREATE FUNCTION gridflow.chunk_records(
    data bytea,
    OUT line_no bigint,
    OUT record text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_chunk_records'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.chunk_records(bytea) IS 'The records packed in one landing.source_chunk, with their line numbers; an error if the bytea is not a chunk or a record is not valid UTF-8';

CREATE FUNCTION gridflow.sample_dir()
RETURNS text
AS 'MODULE_PATHNAME', 'gridflow_sample_dir'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.sample_dir() IS 'Directory of the sample drop installed with the extension (what gridflow_build() with no argument reads)';

--
-- Peak and pit of (value, timestamp) pairs.
--
CREATE TYPE gridflow.peak_pit AS (
    peak_value double precision,
    peak_ts timestamptz,
    pit_value double precision,
    pit_ts timestamptz
);
COMMENT ON TYPE gridflow.peak_pit IS 'Result of gridflow.peak_pit(): the largest and the smallest value with the time of each';
COMMENT ON COLUMN gridflow.peak_pit.peak_value IS 'Largest value';
COMMENT ON COLUMN gridflow.peak_pit.peak_ts IS 'Earliest timestamp holding the largest value';
COMMENT ON COLUMN gridflow.peak_pit.pit_value IS 'Smallest value';
COMMENT ON COLUMN gridflow.peak_pit.pit_ts IS 'Earliest timestamp holding the smallest value';
-- (the aggregates: 33_aggregates.sql)

--
-- Numbers as the DQ snapshot prints them.
--
CREATE FUNCTION gridflow.fmt_count(n bigint)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.to_char(n, 'FM999,999,999,999,990');
COMMENT ON FUNCTION gridflow.fmt_count(bigint) IS 'A count with thousands separators, as the DQ snapshot prints it';

CREATE FUNCTION gridflow.fmt_pct(part numeric, whole numeric, digits integer DEFAULT 0)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN whole OPERATOR(pg_catalog.=) 0 THEN 'n/a'
            ELSE pg_catalog.round(100 * part / whole, digits)::text
                 OPERATOR(pg_catalog.||) '%' END;
COMMENT ON FUNCTION gridflow.fmt_pct(numeric, numeric, integer) IS 'part / whole as a rounded percentage, as the DQ snapshot prints it';

CREATE FUNCTION @extschema@.gridflow_ingest(
    path text,
    utility_id text DEFAULT NULL,
    file_kind text DEFAULT NULL,
    OUT batch_id bigint,
    OUT utility text,
    OUT kind text,
    OUT file_path text,
    OUT outcome text,
    OUT same_as_batch bigint,
    OUT records_read bigint,
    OUT rows_kept bigint,
    OUT rows_matched bigint,
    OUT rows_replaced bigint,
    OUT days_refreshed bigint,
    OUT elapsed_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_ingest'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.gridflow_ingest(text, text, text) IS 'Add files to what the layers hold, in the caller''s transaction: a drop directory (every configured file found in it, of one utility or of all enabled ones) or one file (utility_id required; file_kind when its name does not say it). Each file becomes a batch; a file whose content (SHA-256) was loaded before for the same utility and kind is skipped (outcome unchanged, same_as_batch). Records whose key an earlier batch loaded follow the utility''s interval_dedup_policy (keep_first: the original stays; keep_last: the correction wins; sum: added), and product rows and daily summaries are refreshed for the service points and local days that changed (with a validation rule over series enabled, gridflow.vee_rule, every day of those service points; days_refreshed counts them); the result equals gridflow_rebuild() of the same files. Ingests of one utility queue; of different utilities, they run side by side. Rights as for gridflow_build().';

CREATE FUNCTION @extschema@.gridflow_rebuild(
    OUT step text,
    OUT table_name text,
    OUT row_count bigint,
    OUT elapsed_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_rebuild'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.gridflow_rebuild() IS 'Rebuild every layer from the files of the recorded batches (gridflow.batch), in batch order, with the current configuration, in the caller''s transaction. The history stays; each file must still be where it was, with the content it had (its SHA-256 is checked). Returns one row per table written, as gridflow_build() does. Rights as for gridflow_build().';
