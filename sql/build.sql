-- gridflow_build(): every layer from a drop, in one transaction; idempotent;
-- the previous build survives any error; dedup and link policies.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
\getenv testdir GRIDFLOW_TEST_DIR
\set messy :testdir '/drops/messy'
\set sample :testdir '/sample'

-- The sample installed with the extension: one row per table written.
SELECT step, table_name, row_count FROM gridflow_build();

-- Fingerprint of every layer table, to compare builds.
CREATE TEMP TABLE fingerprint AS
SELECT 'landing.source_record' AS t, coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') AS h FROM landing.source_record x
UNION ALL SELECT 'landing.reject', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM landing.reject x
UNION ALL SELECT 'standardized.service_point', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM standardized.service_point x
UNION ALL SELECT 'standardized.meter', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM standardized.meter x
UNION ALL SELECT 'standardized.meter_assignment', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM standardized.meter_assignment x
UNION ALL SELECT 'standardized.interval_read', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM standardized.interval_read x
UNION ALL SELECT 'product.usage_interval', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM product.usage_interval x
UNION ALL SELECT 'experience.daily_usage', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM experience.daily_usage x;

-- Running it again on the same drop gives identical tables.
SELECT count(*) AS tables_built FROM gridflow_build(gridflow.sample_dir()) WHERE table_name IS NOT NULL;
SELECT f.t, f.h = n.h AS identical
  FROM fingerprint f
  JOIN (SELECT 'landing.source_record' AS t, coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') AS h FROM landing.source_record x
        UNION ALL SELECT 'landing.reject', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM landing.reject x
        UNION ALL SELECT 'standardized.service_point', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM standardized.service_point x
        UNION ALL SELECT 'standardized.meter', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM standardized.meter x
        UNION ALL SELECT 'standardized.meter_assignment', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM standardized.meter_assignment x
        UNION ALL SELECT 'standardized.interval_read', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM standardized.interval_read x
        UNION ALL SELECT 'product.usage_interval', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM product.usage_interval x
        UNION ALL SELECT 'experience.daily_usage', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM experience.daily_usage x) n
    ON n.t = f.t
 ORDER BY f.t;

-- Any error leaves the previous build intact: a drop without the files,
-- a file that is missing a column, a broken configuration.
SELECT * FROM gridflow_build(:'testdir' || '/csv');
SELECT * FROM gridflow_build('relative/dir');
-- NULL (a script variable or a subquery that came back empty) is an
-- error, never the sample: that is gridflow_build() with no argument
SELECT * FROM gridflow_build(NULL);
SELECT * FROM gridflow_build((SELECT drop_dir FROM gridflow.build WHERE false));
SELECT * FROM gridflow_build_distributed(NULL);
SELECT count(*) AS batches_kept FROM gridflow.batch;
UPDATE gridflow.column_map SET source_column = 'no_such_column'
 WHERE utility_id = 'UTILITY2' AND file_kind = 'interval' AND target_column = 'value';
SELECT * FROM gridflow_build(:'sample');
UPDATE gridflow.column_map SET source_column = 'value'
 WHERE utility_id = 'UTILITY2' AND file_kind = 'interval' AND target_column = 'value';
-- time zones are names of the IANA database, checked when configured: an
-- unknown name, and a POSIX specification ('+05' would be UTC-5)
UPDATE gridflow.utility SET time_zone = 'Mars/Olympus_Mons' WHERE utility_id = 'UTILITY1';  -- ERROR
UPDATE gridflow.utility SET time_zone = '+05' WHERE utility_id = 'UTILITY1';  -- ERROR
INSERT INTO gridflow.utility (utility_id, time_zone) VALUES ('TZBAD', 'UTC+5');  -- ERROR
SELECT gridflow.is_time_zone('America/New_York') AS new_york, gridflow.is_time_zone('UTC') AS utc,
       gridflow.is_time_zone('+05') AS posix, gridflow.is_time_zone('america/new_york') AS lower_case;
INSERT INTO gridflow.column_map VALUES ('UTILITY1', 'meter', 'no_such_target', 'meter_id', NULL, '{}');
SELECT * FROM gridflow_build(:'sample');
DELETE FROM gridflow.column_map WHERE target_column = 'no_such_target';
INSERT INTO gridflow.column_map VALUES ('UTILITY1', 'meter', 'batch_id', 'meter_id', NULL, '{}');
SELECT * FROM gridflow_build(:'sample');
DELETE FROM gridflow.column_map WHERE utility_id = 'UTILITY1' AND target_column = 'batch_id';
INSERT INTO gridflow.column_map VALUES ('UTILITY2', 'interval', 'service_point_id', 'meter_id', NULL, '{}');
SELECT * FROM gridflow_build(:'sample');
DELETE FROM gridflow.column_map WHERE utility_id = 'UTILITY2' AND file_kind = 'interval' AND target_column = 'service_point_id';
UPDATE gridflow.column_map SET format = 'YYYY-XX' WHERE utility_id = 'UTILITY2' AND target_column = 'interval_start_ts';
SELECT * FROM gridflow_build(:'sample');
UPDATE gridflow.column_map SET format = 'YYYYMMDD' WHERE utility_id = 'UTILITY2' AND target_column = 'interval_start_ts';
SELECT f.t, f.h = n.h AS still_identical
  FROM fingerprint f
  JOIN (SELECT 'standardized.interval_read' AS t, coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') AS h FROM standardized.interval_read x
        UNION ALL SELECT 'experience.daily_usage', coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), 'empty') FROM experience.daily_usage x) n
    ON n.t = f.t
 ORDER BY f.t;
-- inside a transaction that rolls back, too
BEGIN;
SELECT count(*) > 0 AS built FROM gridflow_build(:'messy');
SELECT count(*) AS reads_inside FROM standardized.interval_read;
ROLLBACK;
SELECT count(*) = (SELECT count(*) FROM product.usage_interval) AS back_to_sample FROM standardized.interval_read;

-- A messy drop: reordered and extra header columns, CRLF, quoted fields,
-- duplicates that conflict, rejects of every kind, kWh and kVARh of one
-- instant, a daylight-saving day, orphans of both kinds.
SELECT step, table_name, row_count FROM gridflow_build(:'messy');
SELECT batch_id, utility_id, file_kind, records_read, records_rejected, rows_invalid,
       rows_duplicate, rows_kept, header
  FROM gridflow.batch ORDER BY batch_id;
-- every record of every file is accounted for: landed or rejected, then kept, duplicate or invalid
SELECT b.batch_id,
       (SELECT count(*) FROM landing.source_record r WHERE r.batch_id = b.batch_id) = b.records_read AS landed_ok,
       (SELECT count(*) FROM landing.reject j WHERE j.batch_id = b.batch_id AND j.stage = 'landing') = b.records_rejected AS rejected_ok,
       (SELECT count(*) FROM landing.reject j WHERE j.batch_id = b.batch_id AND j.stage = 'standardized') = b.rows_invalid AS invalid_ok,
       b.records_read = b.rows_invalid + b.rows_duplicate + b.rows_kept AS balanced
  FROM gridflow.batch b ORDER BY b.batch_id;
SELECT batch_id, line_no, end_line_no, stage, reason, detail, source_column, target_column, record, record_bytes
  FROM landing.reject ORDER BY batch_id, line_no;

SELECT utility_id, service_point_id, service_point_number, house_num, street, house_supp, city, zip,
       created_at, updated_at, line_no, source_rows, conflicting_rows
  FROM standardized.service_point ORDER BY utility_id, service_point_id;
SELECT utility_id, meter_id, serial_number, meter_type, service_point_id, installed_at, line_no,
       source_rows, conflicting_rows
  FROM standardized.meter ORDER BY utility_id, meter_id;
SELECT utility_id, meter_id, service_point_id, installed_at, removed_at, line_no
  FROM standardized.meter_assignment ORDER BY utility_id, meter_id, line_no;
-- ISO offsets are kept, integer dates are local midnight, end = start + duration,
-- the string null is NULL, kWh and kVARh of the same instant both stay
SELECT utility_id, service_point_id, meter_id, channel, interval_start_ts, interval_end_ts,
       duration_seconds, value, quality, last_update_time, exported_at, line_no,
       source_rows, conflicting_rows, source_value_sum
  FROM standardized.interval_read ORDER BY utility_id, meter_id, interval_start_ts, channel;
SELECT utility_id, service_point_id, meter_id, channel, local_date, value, service_point_known,
       meter_known, street, city, zip
  FROM product.usage_interval ORDER BY utility_id, meter_id, interval_start_ts, channel;
-- daily buckets are local days: 2025-03-09 (spring forward) lasts 23 hours
SELECT utility_id, service_point_id, local_date, channel, bucket_start, bucket_end,
       bucket_end - bucket_start AS length, total_usage, interval_count,
       peak_usage_value, peak_usage_ts, pit_usage_value, pit_usage_ts
  FROM experience.daily_usage ORDER BY utility_id, service_point_id, local_date, channel;
-- the build's product and experience rows equal their SQL definitions
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval) b)
       AS product_differences,
       (SELECT count(*) FROM (SELECT * FROM experience.daily_usage EXCEPT ALL SELECT * FROM gridflow.experience_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.experience_source EXCEPT ALL SELECT * FROM experience.daily_usage) b)
       AS experience_differences,
       (SELECT count(*) FROM (SELECT * FROM experience.monthly_usage EXCEPT ALL SELECT * FROM gridflow.monthly_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.monthly_source EXCEPT ALL SELECT * FROM experience.monthly_usage) b)
       AS month_differences;
-- lineage: each standardized row points at the landed record it came from
SELECT r.utility_id, r.meter_id, r.line_no, l.record
  FROM standardized.interval_read r
  JOIN landing.source_record l ON l.batch_id = r.batch_id AND l.line_no = r.line_no
 ORDER BY r.utility_id, r.meter_id, r.interval_start_ts, r.channel;

-- Dedup policies of UTILITY2: keep_last and sum (the key 100/2025-01-23/1 has
-- records 100, 100, 40, 60)
UPDATE gridflow.utility SET interval_dedup_policy = 'keep_last' WHERE utility_id = 'UTILITY2';
SELECT count(*) > 0 AS built FROM gridflow_build(:'messy');
SELECT meter_id, interval_start_ts::date AS day, channel, value, line_no, source_rows, conflicting_rows
  FROM standardized.interval_read WHERE utility_id = 'UTILITY2' ORDER BY meter_id, interval_start_ts, channel;
UPDATE gridflow.utility SET interval_dedup_policy = 'sum' WHERE utility_id = 'UTILITY2';
SELECT count(*) > 0 AS built FROM gridflow_build(:'messy');
SELECT meter_id, interval_start_ts::date AS day, channel, value, source_value_sum, line_no, source_rows, conflicting_rows
  FROM standardized.interval_read WHERE utility_id = 'UTILITY2' ORDER BY meter_id, interval_start_ts, channel;
UPDATE gridflow.utility SET interval_dedup_policy = 'keep_first' WHERE utility_id = 'UTILITY2';

-- Meter link policy: effective_dated picks the assignment in force at the read
-- (meter 100 moved to PREM-2 on 2025-01-25; meter 300 was removed on 2025-01-01)
UPDATE gridflow.utility SET meter_link_policy = 'effective_dated' WHERE utility_id = 'UTILITY2';
SELECT count(*) > 0 AS built FROM gridflow_build(:'messy');
SELECT meter_id, interval_start_ts::date AS day, channel, service_point_id
  FROM standardized.interval_read WHERE utility_id = 'UTILITY2' ORDER BY meter_id, interval_start_ts, channel;
SELECT * FROM dq.meter_link_ambiguity;
UPDATE gridflow.utility SET meter_link_policy = 'first_row' WHERE utility_id = 'UTILITY2';
SELECT * FROM dq.meter_link_ambiguity;

-- a disabled utility is skipped
UPDATE gridflow.utility SET enabled = false WHERE utility_id = 'UTILITY1';
SELECT step, table_name, row_count FROM gridflow_build(:'messy') WHERE table_name LIKE 'standardized.%';
UPDATE gridflow.utility SET enabled = true WHERE utility_id = 'UTILITY1';

-- builds need pg_read_server_files and EXECUTE, and are logged
CREATE ROLE regress_gridflow_builder;
GRANT USAGE ON SCHEMA gridflow TO regress_gridflow_builder;
SET ROLE regress_gridflow_builder;
SELECT * FROM gridflow_build(:'sample');
RESET ROLE;
GRANT EXECUTE ON FUNCTION gridflow_build(text) TO regress_gridflow_builder;
SET ROLE regress_gridflow_builder;
SELECT * FROM gridflow_build(:'sample');
RESET ROLE;
DROP OWNED BY regress_gridflow_builder;
DROP ROLE regress_gridflow_builder;
SELECT count(*) >= 6 AS builds_logged, bool_and(finished_at >= started_at) AS timed FROM gridflow.build;
