-- Configuration and bytes written to make gridflow emit text that is not
-- UTF-8, split records inside characters, or match names without end:
-- each attempt fails with an error, or gives the right rows.
-- (A header of 100,000 columns and the signals that end a build inside it:
-- test/tap/t/007_wide_header.pl.)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\getenv testdir GRIDFLOW_TEST_DIR
\set regress_db :DBNAME
\set drop :testdir '/drops/matching'
\set csv :testdir '/csv/'

-- only the utility of this test is built (others are enabled again at the end)
CREATE TEMP TABLE enabled_before AS SELECT utility_id FROM gridflow.utility WHERE enabled;
UPDATE gridflow.utility SET enabled = false WHERE enabled;

--
-- Text out of gridflow is valid UTF-8 or an error.
--
-- a chunk as the loader writes it: line delta, length, bytes
SELECT * FROM gridflow.chunk_records('\x0103616263'::bytea || '\x0203c3a97a'::bytea);
-- a record that is not UTF-8 (0xff 0x80), a character cut short, a
-- surrogate, an overlong form, a zero byte: each an error, not text
SELECT * FROM gridflow.chunk_records('\x0102ff80');
SELECT * FROM gridflow.chunk_records('\x0103616263' || '\x0201c3'::bytea);
SELECT * FROM gridflow.chunk_records('\x0103eda080');
SELECT * FROM gridflow.chunk_records('\x0102c0af');
SELECT * FROM gridflow.chunk_records('\x010100');
-- so it cannot be stored where a dump would fail to restore it
INSERT INTO gridflow.utility (utility_id, description)
SELECT 'BADTEXT', record FROM gridflow.chunk_records('\x0102ff80');
SELECT count(*) AS stored FROM gridflow.utility WHERE utility_id = 'BADTEXT';
-- line numbers past bigint, a length past the end: not a chunk
SELECT * FROM gridflow.chunk_records('\xffffffffffffffff7f0161' || '\x8080808080808080800101'::bytea || '\x0161'::bytea);
SELECT * FROM gridflow.chunk_records('\x010561');
-- a forged chunk in the storage of landing.source_record: the views that
-- decode it refuse it
BEGIN;
INSERT INTO gridflow_store.source_chunk (batch_id, first_line, last_line, records, data, utility_id)
VALUES (-1, 2, 2, 1, '\x0202ff80', 'UTILITY1');
SELECT * FROM landing.source_record WHERE batch_id = -1;
ROLLBACK;
BEGIN;
INSERT INTO gridflow_store.source_chunk (batch_id, first_line, last_line, records, data, utility_id)
VALUES (-1, 2, 2, 1, '\x0202ff80', 'UTILITY1');
SELECT gridflow.source_record(-1, 2);
ROLLBACK;

--
-- Delimiters and quotes are one ASCII character, counted in bytes.
--
INSERT INTO gridflow.utility (utility_id, time_zone) VALUES ('HOSTILE', 'UTC');
-- 'é' is one character but two bytes: refused, and so are line breaks and
-- two characters; one ASCII character, a tab included, is taken (terse:
-- the failing rows hold line breaks)
\set VERBOSITY terse
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, delimiter)
VALUES ('HOSTILE', 'interval', 'nulls.csv', 'é');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, quote)
VALUES ('HOSTILE', 'interval', 'nulls.csv', 'é');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, delimiter)
VALUES ('HOSTILE', 'interval', 'nulls.csv', E'\n');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, quote)
VALUES ('HOSTILE', 'interval', 'nulls.csv', E'\r');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, delimiter)
VALUES ('HOSTILE', 'interval', 'nulls.csv', ';;');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, delimiter)
VALUES ('HOSTILE', 'interval', 'nulls.csv', E'\t');
\set VERBOSITY default
DELETE FROM gridflow.source_file WHERE utility_id = 'HOSTILE';
-- the build refuses such a delimiter or quote even without the constraint
BEGIN;
ALTER TABLE gridflow.source_file DROP CONSTRAINT source_file_delimiter_check;
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, delimiter)
VALUES ('HOSTILE', 'interval', 'nulls.csv', 'é');
SELECT * FROM gridflow_build(:'drop');
ROLLBACK;
BEGIN;
ALTER TABLE gridflow.source_file DROP CONSTRAINT source_file_quote_check;
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, quote)
VALUES ('HOSTILE', 'interval', 'nulls.csv', E'\n');
SELECT * FROM gridflow_build(:'drop');
ROLLBACK;
-- and so do the functions
SELECT * FROM gridflow.read_csv(:'csv' || 'semicolon.csv', delimiter => 'é');
SELECT gridflow.read_csv_header(:'csv' || 'semicolon.csv', quote => 'é');
SELECT gridflow.csv_fields('aéb', 'é');
SELECT gridflow.csv_fields('a,b', E'\n');
SELECT gridflow.csv_fields('a,"é,x",c');

--
-- Header matching: by name, case-insensitive, blanks ignored, each name
-- looked up once in an index of the header.
--
-- a wide layout against a header whose names vary in case and blanks
INSERT INTO gridflow.source_file
    (utility_id, file_kind, file_path, layout, wide_columns, wide_interval_seconds, wide_dst)
SELECT 'HOSTILE', 'interval', 'wide_padded.csv', 'wide',
       array_agg('hr' || to_char(h, 'FM00') ORDER BY h), 3600, 'elapsed'
  FROM generate_series(1, 24) h;
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format) VALUES
    ('HOSTILE', 'interval', 'service_point_id', 'sp', NULL),
    ('HOSTILE', 'interval', 'meter_id', 'METER', NULL),
    ('HOSTILE', 'interval', 'channel', ' meter ', NULL),
    ('HOSTILE', 'interval', 'interval_start_ts', 'Day', 'YYYY-MM-DD');
SELECT count(*) > 0 AS built FROM gridflow_build(:'drop');
SELECT records_read, records_rejected, rows_kept, unpivoted_reads
  FROM gridflow.batch WHERE utility_id = 'HOSTILE';
SELECT interval_start_ts::date AS day, count(*) AS reads, sum(value) AS total,
       min(interval_start_ts) AS first, max(interval_start_ts) AS last
  FROM standardized.interval_read WHERE utility_id = 'HOSTILE' GROUP BY 1 ORDER BY 1;
-- one header column named twice in wide_columns, through case and blanks
UPDATE gridflow.source_file SET wide_columns[3] = ' HR02 ' WHERE utility_id = 'HOSTILE';
SELECT * FROM gridflow_build(:'drop');
-- a header that has a name twice (hr02, " HR02 "): ambiguous
UPDATE gridflow.source_file
   SET file_path = 'wide_twice.csv', wide_columns[3] = 'hr03' WHERE utility_id = 'HOSTILE';
SELECT * FROM gridflow_build(:'drop');
DELETE FROM gridflow.source_file WHERE utility_id = 'HOSTILE';

--
-- column_map.null_values: a short list compared in turn, a long one looked
-- up in a set; both match whole fields, exactly (N/A is not n/a), quoted
-- ("NULL") or not.
--
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('HOSTILE', 'interval', 'nulls.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format, null_values) VALUES
    ('HOSTILE', 'interval', 'service_point_id', 'sp', NULL, '{}'),
    ('HOSTILE', 'interval', 'meter_id', 'meter', NULL, '{}'),
    ('HOSTILE', 'interval', 'channel', 'channel', NULL, '{}'),
    ('HOSTILE', 'interval', 'interval_start_ts', 'start', 'YYYY-MM-DD HH24:MI', '{}'),
    ('HOSTILE', 'interval', 'value', 'kwh', NULL, '{n/a,-,"NULL"}');
CREATE TEMP VIEW hostile_values AS
SELECT r.line_no, r.value, r.value IS NULL AS is_null
  FROM standardized.interval_read r WHERE r.utility_id = 'HOSTILE'
UNION ALL
SELECT j.line_no, NULL, NULL FROM landing.reject j JOIN gridflow.batch b USING (batch_id)
 WHERE b.utility_id = 'HOSTILE'
 ORDER BY 1;
SELECT count(*) > 0 AS built FROM gridflow_build(:'drop');
SELECT * FROM hostile_values;
SELECT j.line_no, j.reason, j.detail FROM landing.reject j JOIN gridflow.batch b USING (batch_id)
 WHERE b.utility_id = 'HOSTILE';
-- the same three among 100,000 strings
UPDATE gridflow.column_map
   SET null_values = ARRAY(SELECT 'none' || i FROM generate_series(1, 50000) i)
                     || '{n/a,-,"NULL"}'::text[]
                     || ARRAY(SELECT 'void' || i FROM generate_series(1, 49997) i)
 WHERE utility_id = 'HOSTILE' AND target_column = 'value';
SELECT cardinality(null_values) FROM gridflow.column_map
 WHERE utility_id = 'HOSTILE' AND target_column = 'value';
SELECT count(*) > 0 AS built FROM gridflow_build(:'drop');
SELECT * FROM hostile_values;

-- as it was: no utility HOSTILE, nor partitions of it; the others enabled
DELETE FROM gridflow.utility WHERE utility_id = 'HOSTILE';
UPDATE gridflow.utility SET enabled = true WHERE utility_id IN (SELECT utility_id FROM enabled_before);
-- (a full build drops the partitions of the utilities it does not build:
-- one of the shipped sample's utilities alone)
UPDATE gridflow.utility SET enabled = (utility_id = 'UTILITY1');
SELECT count(*) > 0 AS built FROM gridflow_build();
UPDATE gridflow.utility SET enabled = true WHERE utility_id IN (SELECT utility_id FROM enabled_before);
SELECT count(*) AS partitions_left FROM pg_class c
 WHERE c.relispartition AND pg_get_expr(c.relpartbound, c.oid) LIKE '%''HOSTILE''%';
SELECT 1 AS server_up;

--
-- In a SQL_ASCII database, where text may hold any byte, a one-byte
-- delimiter of 0x80 or above is refused as well, and csv_fields() takes
-- UTF-8 only.
--
SET client_min_messages = warning;
DROP DATABASE IF EXISTS gridflow_sql_ascii;
RESET client_min_messages;
CREATE DATABASE gridflow_sql_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c gridflow_sql_ascii
SET client_min_messages = warning;
CREATE EXTENSION gridflow;
RESET client_min_messages;
SELECT octet_length(chr(233)) AS bytes, ascii(chr(233)) AS code;
\set VERBOSITY terse
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, delimiter)
VALUES ('UTILITY1', 'assignment', 'x.csv', chr(233));
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, quote)
VALUES ('UTILITY1', 'assignment', 'x.csv', chr(233));
\set VERBOSITY default
SELECT gridflow.csv_fields('a' || chr(233) || 'b', chr(233));
SELECT gridflow.csv_fields('a,' || chr(233) || ',b');
SELECT gridflow.csv_fields('a,é,b');
SELECT * FROM gridflow.chunk_records('\x0102ff80');
\c :regress_db
DROP DATABASE gridflow_sql_ascii;
