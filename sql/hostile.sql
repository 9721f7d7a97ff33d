-- Hostile files: whatever the bytes, gridflow gives rows, rejects with
-- their line numbers, or an ERROR naming the file and the cause, and the
-- server stays up (every case ends with SELECT 1 on the same connection).
-- Each case is a drop made by test/hostile.sh, DIR/<case>/utility{1,2}/,
-- whose utility2 interval file is the hostile one; it is read on its own
-- with gridflow.read_csv() and built with gridflow_build().  A build that
-- fails leaves the previous build exactly as it was (pg_temp.layers(), a
-- hash of every layer table and of the build log, is the same after it).
-- (A file that changes size while it is read: test/t/002_changing_file.pl.)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
\getenv testdir GRIDFLOW_TEST_DIR
\set h :testdir '/hostile/'
\set u2 '/utility2/utility2_intervals.csv'

-- Every layer table and the build log, as one hash.
CREATE FUNCTION pg_temp.layers() RETURNS text LANGUAGE sql AS $$
SELECT md5(string_agg(h, '|' ORDER BY t)) FROM (
  SELECT 1 AS t, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM landing.source_record x
  UNION ALL SELECT 2, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM landing.reject x
  UNION ALL SELECT 3, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM standardized.service_point x
  UNION ALL SELECT 4, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM standardized.meter x
  UNION ALL SELECT 5, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM standardized.meter_assignment x
  UNION ALL SELECT 6, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM standardized.interval_read x
  UNION ALL SELECT 7, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM product.usage_interval x
  UNION ALL SELECT 8, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM experience.daily_usage x
  UNION ALL SELECT 9, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM gridflow.batch x
  UNION ALL SELECT 10, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM gridflow.build x) s
$$;
-- What a build made of utility2's interval file: its batch, rejects and rows.
CREATE TEMP VIEW u2_batch AS
  SELECT records_read, records_rejected, rows_invalid, rows_duplicate, rows_kept, file_bytes
    FROM gridflow.batch WHERE utility_id = 'UTILITY2' AND file_kind = 'interval';
CREATE TEMP VIEW u2_rejects AS
  SELECT j.line_no, j.end_line_no, j.stage, j.reason, j.detail, left(j.record, 40) AS record,
         j.record_bytes
    FROM landing.reject j JOIN gridflow.batch b USING (batch_id)
   WHERE b.utility_id = 'UTILITY2' AND b.file_kind = 'interval' ORDER BY j.line_no;
CREATE TEMP VIEW u2_reads AS
  SELECT line_no, interval_start_ts::date AS day, value, length(quality) AS quality_bytes
    FROM standardized.interval_read WHERE utility_id = 'UTILITY2' ORDER BY line_no;

-- The previous build: a valid drop.
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'valid');
SELECT * FROM u2_reads;

-- Empty file: no rows; asking for columns, or building, is an error.
SELECT count(*) FROM gridflow.read_csv(:'h' || 'empty' || :'u2');
SELECT * FROM gridflow.read_csv(:'h' || 'empty' || :'u2', ARRAY['value']);
SELECT pg_temp.layers() AS previous \gset
SELECT * FROM gridflow_build(:'h' || 'empty');
SELECT pg_temp.layers() = :'previous' AS previous_build_intact;
SELECT 1 AS server_up;

-- Header only: no rows, and a build with no utility2 reads.
SELECT count(*) FROM gridflow.read_csv(:'h' || 'header_only' || :'u2');
SELECT gridflow.read_csv_header(:'h' || 'header_only' || :'u2');
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'header_only');
SELECT * FROM u2_batch;
SELECT count(*) AS utility2_reads FROM u2_reads;
SELECT 1 AS server_up;

-- BOM only: an empty file.
SELECT count(*) FROM gridflow.read_csv(:'h' || 'bom_only' || :'u2');
SELECT pg_temp.layers() AS previous \gset
SELECT * FROM gridflow_build(:'h' || 'bom_only');
SELECT pg_temp.layers() = :'previous' AS previous_build_intact;
SELECT 1 AS server_up;

-- CR-only line endings (and a blank line): records on lines 2 and 4.
SELECT line_no, fields FROM gridflow.read_csv(:'h' || 'cr_only' || :'u2');
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'cr_only');
SELECT * FROM u2_batch;
SELECT * FROM u2_reads;
SELECT 1 AS server_up;

-- UTF-16: refused as a whole.
SELECT * FROM gridflow.read_csv(:'h' || 'utf16' || :'u2');
SELECT pg_temp.layers() AS previous \gset
SELECT * FROM gridflow_build(:'h' || 'utf16');
SELECT pg_temp.layers() = :'previous' AS previous_build_intact;
SELECT 1 AS server_up;

-- Invalid UTF-8 (a Latin-1 byte, an overlong form): rejects; the rest is read.
SELECT line_no, fields, reject_reason, record FROM gridflow.read_csv(:'h' || 'invalid_utf8' || :'u2');
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'invalid_utf8');
SELECT * FROM u2_batch;
SELECT * FROM u2_rejects;
SELECT * FROM u2_reads;
SELECT 1 AS server_up;

-- A zero byte: a reject.
SELECT line_no, fields, reject_reason, record FROM gridflow.read_csv(:'h' || 'nul' || :'u2');
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'nul');
SELECT * FROM u2_batch;
SELECT * FROM u2_rejects;
SELECT 1 AS server_up;

-- A quote left open: the record runs to the end of the file (lines 3-4), one reject.
SELECT line_no, fields, reject_reason, record FROM gridflow.read_csv(:'h' || 'unterminated' || :'u2');
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'unterminated');
SELECT * FROM u2_batch;
SELECT * FROM u2_rejects;
SELECT 1 AS server_up;

-- A 20 MB field: a record like any other, landed and standardized whole.
SELECT line_no, length(fields[4]) AS field_bytes, length(record) AS record_bytes, reject_reason
  FROM gridflow.read_csv(:'h' || 'field_20mb' || :'u2');
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'field_20mb');
SELECT * FROM u2_batch;
SELECT * FROM u2_reads;
SELECT l.line_no, length(l.record) AS landed_bytes
  FROM landing.source_record l JOIN gridflow.batch b USING (batch_id)
 WHERE b.utility_id = 'UTILITY2' AND b.file_kind = 'interval' ORDER BY l.line_no;
SELECT 1 AS server_up;

-- A row of 200,000 fields: a reject; a header of 200,000 fields (more than
-- the 100,000 a record may have): an error.
SELECT line_no, fields, reject_reason, length(record) AS kept_bytes
  FROM gridflow.read_csv(:'h' || 'fields_200k' || :'u2');
SELECT count(*) FROM gridflow.read_csv(:'h' || 'files/header_200k.csv');
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'fields_200k');
SELECT * FROM u2_batch;
SELECT * FROM u2_rejects;
SELECT 1 AS server_up;

-- A 300 MB line with no line break: longer than gridflow.max_record_bytes
-- (64 MB), so one reject that keeps its first 4 kB; the reader skips the
-- rest without holding it.
SELECT line_no, fields, reject_reason, length(record) AS kept_bytes
  FROM gridflow.read_csv(:'h' || 'line_300mb' || :'u2');
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'line_300mb');
SELECT * FROM u2_batch;
SELECT * FROM u2_rejects;
SELECT * FROM u2_reads;
SELECT 1 AS server_up;

-- Ragged rows: rejects with the field counts.
SELECT line_no, fields, reject_reason, record FROM gridflow.read_csv(:'h' || 'ragged' || :'u2');
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'ragged');
SELECT * FROM u2_batch;
SELECT * FROM u2_rejects;
SELECT * FROM u2_reads;
SELECT 1 AS server_up;

-- A missing required column: an error naming the column and the file.
SELECT * FROM gridflow.read_csv(:'h' || 'missing_column' || :'u2', ARRAY['meter_id', 'value']);
SELECT pg_temp.layers() AS previous \gset
SELECT * FROM gridflow_build(:'h' || 'missing_column');
SELECT pg_temp.layers() = :'previous' AS previous_build_intact;
SELECT 1 AS server_up;

-- A duplicated header name (METER_ID and meter_id): ambiguous when it is
-- asked for, harmless otherwise.
SELECT line_no, fields FROM gridflow.read_csv(:'h' || 'dup_header' || :'u2', ARRAY['value']);
SELECT * FROM gridflow.read_csv(:'h' || 'dup_header' || :'u2', ARRAY['meter_id']);
SELECT pg_temp.layers() AS previous \gset
SELECT * FROM gridflow_build(:'h' || 'dup_header');
SELECT pg_temp.layers() = :'previous' AS previous_build_intact;
SELECT 1 AS server_up;

-- A missing file.
SELECT * FROM gridflow.read_csv(:'h' || 'missing_file' || :'u2');
SELECT pg_temp.layers() AS previous \gset
SELECT * FROM gridflow_build(:'h' || 'missing_file');
SELECT pg_temp.layers() = :'previous' AS previous_build_intact;
SELECT 1 AS server_up;

-- Values that do not parse (20251345, 2025-02-30T06:20:00-05:00, N/A,
-- 1e400, and 20251345 given to an ISO column): standardized-stage rejects
-- naming column, value and cause; the good rows are kept.
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'unparseable');
SELECT b.utility_id, j.line_no, j.reason, j.detail, j.source_column, j.target_column
  FROM landing.reject j JOIN gridflow.batch b USING (batch_id)
 WHERE j.stage = 'standardized' ORDER BY b.utility_id, j.line_no;
SELECT utility_id, line_no, interval_start_ts, value
  FROM standardized.interval_read ORDER BY utility_id, line_no;
SELECT 1 AS server_up;

-- One meter named with 100,000 premises and another on 100,000 rows of
-- the same premise: the first is listed with every premise counted, the
-- second is not shared; the reads of the first are on a multi-premise
-- meter.
SELECT count(*) AS steps FROM gridflow_build(:'h' || 'meter_many_premises');
SELECT meter_id, service_points, assignment_rows
  FROM dq.multi_premise_meters WHERE utility_id = 'UTILITY2' ORDER BY meter_id;
SELECT reads_on_multi_premise_meters FROM dq.meter_link_ambiguity WHERE utility_id = 'UTILITY2';
SELECT 1 AS server_up;
