-- Local times across daylight-saving changes and wide layouts: every choice
-- the configuration offers, on small files written by hand
-- (data/drops/dst), and the configurations gridflow refuses.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
SET extra_float_digits = 0;
\getenv testdir GRIDFLOW_TEST_DIR
\set dst :testdir '/drops/dst'

-- only the utilities of this test are built
UPDATE gridflow.utility SET enabled = false WHERE utility_id IN ('UTILITY1', 'UTILITY2');

-- A long layout with local times without offset: 01:00 and 01:30 of
-- 2025-11-02 come twice (values 2, 3, then 4, 5); 02:30 of 2025-03-09 does
-- not exist; reads last what their channel implies.
INSERT INTO gridflow.utility (utility_id, service_point_link) VALUES ('LONGX', 'read');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('LONGX', 'interval', 'long.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format) VALUES
    ('LONGX', 'interval', 'service_point_id', 'sp', NULL),
    ('LONGX', 'interval', 'meter_id', 'meter', NULL),
    ('LONGX', 'interval', 'channel', 'channel', NULL),
    ('LONGX', 'interval', 'interval_start_ts', 'start', 'YYYY-MM-DD HH24:MI'),
    ('LONGX', 'interval', 'value', 'kwh', NULL),
    ('LONGX', 'interval', 'unit', 'uom', NULL);
INSERT INTO gridflow.channel (utility_id, channel, duration_seconds) VALUES ('LONGX', 'E', 1800);

CREATE TEMP VIEW longx AS
SELECT interval_start_ts, interval_end_ts, value, unit, line_no, source_rows, conflicting_rows
  FROM standardized.interval_read WHERE utility_id = 'LONGX' ORDER BY interval_start_ts;
CREATE TEMP VIEW longx_batch AS
SELECT records_read, rows_invalid, rows_duplicate, rows_kept, ambiguous_local_times, nonexistent_local_times
  FROM gridflow.batch WHERE utility_id = 'LONGX';

-- later (the default, PostgreSQL's rule): the repeated times are standard
-- time, so the second 01:00 and 01:30 are duplicates of the first; the
-- skipped 02:30 is read as 03:30-04; 8000 Wh is 8 kWh; a duration is no unit
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT * FROM longx;
SELECT * FROM longx_batch;
SELECT line_no, reason, detail, source_column, target_column FROM landing.reject;
-- earlier: daylight time
UPDATE gridflow.utility SET ambiguous_local_time = 'earlier' WHERE utility_id = 'LONGX';
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT * FROM longx WHERE interval_start_ts::date = '2025-11-02';
-- in_order: the first 01:00 is daylight time, the second standard time
UPDATE gridflow.utility SET ambiguous_local_time = 'in_order' WHERE utility_id = 'LONGX';
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT * FROM longx WHERE interval_start_ts::date = '2025-11-02';
SELECT local_date, bucket_end - bucket_start AS length, total_usage, interval_count
  FROM experience.daily_usage WHERE utility_id = 'LONGX' ORDER BY local_date;
-- reject: the four records in the repeated hour are rejected, and counted
UPDATE gridflow.utility SET ambiguous_local_time = 'reject' WHERE utility_id = 'LONGX';
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT * FROM longx WHERE interval_start_ts::date = '2025-11-02';
SELECT * FROM longx_batch;
SELECT line_no, reason, detail, source_column, target_column FROM landing.reject ORDER BY line_no;
-- read in UTC, the column has no daylight-saving changes: lines 3 and 5
-- (both 01:00) are the same instant, 01:00 UTC
UPDATE gridflow.column_map SET time_zone = 'UTC' WHERE utility_id = 'LONGX' AND target_column = 'interval_start_ts';
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT * FROM longx_batch;
SELECT interval_start_ts, value FROM longx WHERE line_no IN (3, 5);
DELETE FROM gridflow.utility WHERE utility_id = 'LONGX';

-- A wide layout of hourly columns hr01 ... hr25 counted from local midnight
-- (elapsed): 24 filled on an ordinary day, 23 on 2025-03-09, 25 on
-- 2025-11-02; hr25 on an ordinary day and a cell n/a reject their records.
INSERT INTO gridflow.utility (utility_id) VALUES ('WIDEX');
INSERT INTO gridflow.source_file
    (utility_id, file_kind, file_path, layout, wide_columns, wide_interval_seconds, wide_dst)
SELECT 'WIDEX', 'interval', 'wide_elapsed.csv', 'wide',
       array_agg('hr' || to_char(h, 'FM00') ORDER BY h), 3600, 'elapsed'
  FROM generate_series(1, 25) h;
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format) VALUES
    ('WIDEX', 'interval', 'service_point_id', 'sp', NULL),
    ('WIDEX', 'interval', 'meter_id', 'meter', NULL),
    ('WIDEX', 'interval', 'channel', 'meter', NULL),
    ('WIDEX', 'interval', 'interval_start_ts', 'day', 'YYYY-MM-DD');
CREATE TEMP VIEW widex_days AS
SELECT local_date, bucket_start, bucket_end - bucket_start AS length, total_usage, interval_count,
       peak_usage_value, peak_usage_ts
  FROM experience.daily_usage WHERE utility_id = 'WIDEX' ORDER BY local_date;
CREATE TEMP VIEW widex_batch AS
SELECT records_read, rows_invalid, rows_duplicate, rows_kept, unpivoted_reads,
       ambiguous_local_times, nonexistent_local_times
  FROM gridflow.batch WHERE utility_id = 'WIDEX';
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT * FROM widex_days;
SELECT * FROM widex_batch;
SELECT line_no, reason, detail, source_column, target_column FROM landing.reject ORDER BY line_no;
-- the reads of the 25-hour day around the repeated hour, with their lineage
SELECT interval_start_ts, interval_end_ts, duration_seconds, value, line_no
  FROM standardized.interval_read
 WHERE utility_id = 'WIDEX' AND interval_start_ts >= '2025-11-02 00:00-04' AND interval_start_ts < '2025-11-02 03:00-05'
 ORDER BY interval_start_ts;
-- what readers see of those days in local time: product's local_start
-- gives 01:00 twice on 2025-11-02 (daylight, then standard time) and no
-- 02:00 on 2025-03-09; days and months give their peaks and pits in local
-- time too (the wide columns give times of day: interval resolution)
SELECT interval_start_ts, local_start, time_zone, time_resolution FROM product.usage_interval
 WHERE utility_id = 'WIDEX' AND interval_start_ts >= '2025-11-02 00:00-04' AND interval_start_ts < '2025-11-02 03:00-05'
 ORDER BY interval_start_ts;
SELECT interval_start_ts, local_start FROM product.usage_interval
 WHERE utility_id = 'WIDEX' AND interval_start_ts >= '2025-03-09 00:00-05' AND interval_start_ts < '2025-03-09 04:00-04'
 ORDER BY interval_start_ts;
SELECT local_date, time_resolution, peak_usage_value, peak_local, pit_usage_value, pit_local
  FROM experience.daily_usage WHERE utility_id = 'WIDEX' ORDER BY local_date;
SELECT month_start, day_count, interval_count, total_usage, avg_daily_usage, peak_day, peak_day_usage,
       peak_usage_value, peak_local
  FROM experience.monthly_usage WHERE utility_id = 'WIDEX' ORDER BY month_start;

-- The same day on a 24-hour wall clock (00:00 ... 23:00): the skipped
-- 02:00 of 2025-03-09 is empty (a value there rejects the record), the
-- repeated 01:00 of 2025-11-02 holds 20 for both occurrences.
UPDATE gridflow.source_file
   SET file_path = 'wide_wall.csv',
       wide_columns = ARRAY(SELECT to_char(h, 'FM00') || ':00' FROM generate_series(0, 23) h),
       wide_dst = 'wall_clock_split'
 WHERE utility_id = 'WIDEX';
-- split: two reads of 10, 25 reads
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT * FROM widex_days;
SELECT * FROM widex_batch;
SELECT line_no, reason, detail, source_column, target_column FROM landing.reject ORDER BY line_no;
SELECT interval_start_ts, value FROM standardized.interval_read
 WHERE utility_id = 'WIDEX' AND interval_start_ts >= '2025-11-02 00:00-04' AND interval_start_ts < '2025-11-02 03:00-05'
 ORDER BY interval_start_ts;
-- earlier and later: one read of 20, 24 reads
UPDATE gridflow.source_file SET wide_dst = 'wall_clock_earlier' WHERE utility_id = 'WIDEX';
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT interval_start_ts, value FROM standardized.interval_read
 WHERE utility_id = 'WIDEX' AND interval_start_ts >= '2025-11-02 00:00-04' AND interval_start_ts < '2025-11-02 03:00-05'
 ORDER BY interval_start_ts;
UPDATE gridflow.source_file SET wide_dst = 'wall_clock_later' WHERE utility_id = 'WIDEX';
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT interval_start_ts, value FROM standardized.interval_read
 WHERE utility_id = 'WIDEX' AND interval_start_ts >= '2025-11-02 00:00-04' AND interval_start_ts < '2025-11-02 03:00-05'
 ORDER BY interval_start_ts;
SELECT * FROM widex_days;

-- What gridflow refuses: the configuration tables' checks, then the build,
-- before it reads a record (and it rolls back).  A wide layout that is not
-- an interval file, a length that does not divide an hour, a wide layout
-- without its convention:
UPDATE gridflow.source_file SET file_kind = 'meter' WHERE utility_id = 'WIDEX';
UPDATE gridflow.source_file SET wide_interval_seconds = 7 WHERE utility_id = 'WIDEX';
UPDATE gridflow.source_file SET wide_dst = NULL WHERE utility_id = 'WIDEX';
-- a wall clock of 25 columns, a column that is not in the file
UPDATE gridflow.source_file SET wide_columns = wide_columns || '{24:00}'::text[] WHERE utility_id = 'WIDEX';
SELECT * FROM gridflow_build(:'dst');
UPDATE gridflow.source_file SET wide_dst = 'elapsed' WHERE utility_id = 'WIDEX';
SELECT * FROM gridflow_build(:'dst');
UPDATE gridflow.source_file SET wide_columns = wide_columns[1:24], wide_dst = 'wall_clock_later'
 WHERE utility_id = 'WIDEX';
-- values mapped in a wide file
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column)
VALUES ('WIDEX', 'interval', 'value', '00:00');
SELECT * FROM gridflow_build(:'dst');
DELETE FROM gridflow.column_map WHERE utility_id = 'WIDEX' AND target_column = 'value';
-- a time zone that does not exist, a unit on text, a unit gridflow does not know
UPDATE gridflow.column_map SET time_zone = 'Mars/Olympus_Mons'
 WHERE utility_id = 'WIDEX' AND target_column = 'interval_start_ts';  -- ERROR
UPDATE gridflow.column_map SET unit = 'kWh' WHERE utility_id = 'WIDEX' AND target_column = 'channel';
SELECT * FROM gridflow_build(:'dst');
UPDATE gridflow.column_map SET unit = NULL WHERE utility_id = 'WIDEX';
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, unit)
VALUES ('WIDEX', 'interval', 'quality', 'sp', 'furlong');
-- an assignment file besides a meter file that names service points
INSERT INTO gridflow.utility (utility_id, service_point_link) VALUES ('LINKX', 'meter');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES
    ('LINKX', 'meter', 'long.csv'), ('LINKX', 'assignment', 'long.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column) VALUES
    ('LINKX', 'meter', 'meter_id', 'meter'), ('LINKX', 'meter', 'service_point_id', 'sp'),
    ('LINKX', 'assignment', 'meter_id', 'meter'), ('LINKX', 'assignment', 'service_point_id', 'sp');
SELECT * FROM gridflow_build(:'dst');
-- without it, the assignment file links the meter
DELETE FROM gridflow.column_map WHERE utility_id = 'LINKX' AND file_kind = 'meter' AND target_column = 'service_point_id';
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT utility_id, file_kind, records_read, rows_kept FROM gridflow.batch WHERE utility_id = 'LINKX' ORDER BY batch_id;
SELECT utility_id, meter_id, service_point_id, line_no FROM standardized.meter_assignment WHERE utility_id = 'LINKX';

-- Local times are read exactly as PostgreSQL reads them, whatever the zone:
-- walls.csv has the first hours and the evening of days with a change (a
-- 30-minute one at Lord Howe, midnight at Sao Paulo, a whole day skipped at
-- Apia in 2011) and of an ordinary day; each wall time is its own read.
DELETE FROM gridflow.utility WHERE utility_id IN ('WIDEX', 'LINKX');
INSERT INTO gridflow.utility (utility_id, time_zone)
SELECT 'TZ' || n, z
  FROM unnest(ARRAY['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Sao_Paulo',
                    'Pacific/Apia', 'Asia/Kolkata']) WITH ORDINALITY AS x(z, n);
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path)
SELECT utility_id, 'interval', 'walls.csv' FROM gridflow.utility WHERE utility_id LIKE 'TZ%';
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format)
SELECT utility_id, 'interval', t, 'wall', CASE t WHEN 'interval_start_ts' THEN 'YYYY-MM-DD HH24:MI' END
  FROM gridflow.utility, unnest(ARRAY['service_point_id', 'meter_id', 'channel', 'interval_start_ts']) t
 WHERE utility_id LIKE 'TZ%';
SELECT count(*) > 0 AS built FROM gridflow_build(:'dst');
SELECT b.utility_id, u.time_zone, b.records_read, b.rows_kept,
       (SELECT count(*) FROM standardized.interval_read r
         WHERE r.utility_id = b.utility_id
           AND r.interval_start_ts = timezone(u.time_zone, r.meter_id::timestamp)) AS same_as_postgres,
       b.ambiguous_local_times, b.nonexistent_local_times
  FROM gridflow.batch b JOIN gridflow.utility u USING (utility_id)
 ORDER BY b.utility_id;
-- wall times the clocks skip are read as PostgreSQL reads them: with the
-- offset before the change, so they land after it
SELECT r.utility_id, u.time_zone, r.meter_id AS wall, timezone(u.time_zone, r.interval_start_ts) AS read_as
  FROM standardized.interval_read r JOIN gridflow.utility u USING (utility_id)
 WHERE r.utility_id IN ('TZ3', 'TZ4') AND timezone(u.time_zone, r.interval_start_ts) <> r.meter_id::timestamp
 ORDER BY 1, 3;

-- back to the shipped utilities
DELETE FROM gridflow.utility WHERE utility_id LIKE 'TZ%';
UPDATE gridflow.utility SET enabled = true WHERE utility_id IN ('UTILITY1', 'UTILITY2');
-- a full build keeps the partitions of the utilities it builds, and drops
-- the others'
SELECT count(*) AS tables_built FROM gridflow_build() WHERE table_name IS NOT NULL;
SELECT relname AS partitions_left FROM pg_class WHERE relispartition AND relkind IN ('r', 'p') AND relname !~ '_utility[12](_[0-9]{6})?$' ORDER BY 1;
