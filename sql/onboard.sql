-- Onboarding two utilities by configuration alone: everything down to the
-- build is INSERTs into gridflow's configuration tables.
--
-- The drop is the generator's output (test/stage.sh): utilities 1 and 2 are
-- the shipped sample, 3 and 4 are new, and both span the two daylight-saving
-- changes of 2025 in America/New_York (2025-03-09 has 23 hours, 2025-11-02
-- has 25).
--   UTILITY3  long layout, its own header names: local start times without
--             offset (MM/DD/YYYY HH24:MI; the repeated fall-back hour comes
--             twice, in order), lengths in minutes, or implied by the
--             channel, usage in kWh or Wh with a unit column; meters reach
--             premises through a separate assignment file with UTC times;
--             premises are semicolon-delimited, opened as epoch seconds.
--   UTILITY4  wide layout: one row per service point, meter, day and flow
--             with 96 wall-clock quarter-hour columns 00:15 .. 24:00; the
--             skipped spring hour's columns are empty, the repeated fall
--             hour's hold both occurrences added together.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
SET extra_float_digits = 0;
\getenv testdir GRIDFLOW_TEST_DIR
\set onboard :testdir '/drops/onboard'

-- 1. The utilities: time zone, how reads reach service points, how the
--    repeated fall-back hour is read.  UTILITY3 lists it twice in order, so
--    the first record of a meter and channel at 01:30 is 01:30-04 and the
--    second 01:30-05.
INSERT INTO gridflow.utility
    (utility_id, description, time_zone, build_order, service_point_link,
     meter_link_policy, interval_dedup_policy, ambiguous_local_time)
VALUES
    ('UTILITY3', 'Long layout, local times without offset; meters reach premises through an assignment file',
     'America/New_York', 30, 'meter', 'effective_dated', 'keep_first', 'in_order'),
    ('UTILITY4', 'Wide layout: a row per service point, meter, day and flow, 96 wall-clock quarter-hours',
     'America/New_York', 40, 'read', 'first_row', 'keep_first', 'later');

-- 2. Their files, relative to the drop directory.  UTILITY4's reads are
--    wide: its 96 interval columns are named 00:15 ... 24:00, each 900
--    seconds long, written on a 24-hour wall clock whose repeated hour is
--    doubled (split into two reads of half the value).
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, delimiter) VALUES
    ('UTILITY3', 'service_point', 'utility3/premises.csv', ';'),
    ('UTILITY3', 'meter', 'utility3/meters.csv', ','),
    ('UTILITY3', 'assignment', 'utility3/meter_premise.csv', ','),
    ('UTILITY3', 'interval', 'utility3/interval_reads.csv', ','),
    ('UTILITY4', 'service_point', 'utility4/service_points.csv', ','),
    ('UTILITY4', 'meter', 'utility4/meters.csv', ',');
INSERT INTO gridflow.source_file
    (utility_id, file_kind, file_path, layout, wide_columns, wide_interval_seconds, wide_dst)
SELECT 'UTILITY4', 'interval', 'utility4/usage_wide.csv', 'wide',
       array_agg(to_char(q / 4, 'FM00') || ':' || to_char(q % 4 * 15, 'FM00') ORDER BY q),
       900, 'wall_clock_split'
  FROM generate_series(1, 96) q;

-- 3. Which header column feeds which standardized column, with timestamp
--    formats, time zones of the columns not in the utility's zone, and the
--    unit of columns not in gridflow's (minutes for the read length).
INSERT INTO gridflow.column_map
    (utility_id, file_kind, target_column, source_column, format, time_zone, unit)
VALUES
    ('UTILITY3', 'service_point', 'service_point_id', 'Premise', NULL, NULL, NULL),
    ('UTILITY3', 'service_point', 'house_num', 'House No', NULL, NULL, NULL),
    ('UTILITY3', 'service_point', 'street', 'Street', NULL, NULL, NULL),
    ('UTILITY3', 'service_point', 'house_supp', 'Unit', NULL, NULL, NULL),
    ('UTILITY3', 'service_point', 'city', 'Town', NULL, NULL, NULL),
    ('UTILITY3', 'service_point', 'zip', 'Zip', NULL, NULL, NULL),
    ('UTILITY3', 'service_point', 'state', 'State', NULL, NULL, NULL),
    ('UTILITY3', 'service_point', 'installed_at', 'Opened', 'epoch', NULL, NULL),
    ('UTILITY3', 'meter', 'meter_id', 'Meter Number', NULL, NULL, NULL),
    ('UTILITY3', 'meter', 'serial_number', 'Serial No', NULL, NULL, NULL),
    ('UTILITY3', 'meter', 'meter_type', 'Model', NULL, NULL, NULL),
    ('UTILITY3', 'meter', 'meter_category', 'Form', NULL, NULL, NULL),
    ('UTILITY3', 'meter', 'installed_at', 'Installed', 'MM/DD/YYYY HH24:MI', NULL, NULL),
    ('UTILITY3', 'assignment', 'meter_id', 'Meter Number', NULL, NULL, NULL),
    ('UTILITY3', 'assignment', 'service_point_id', 'Premise', NULL, NULL, NULL),
    ('UTILITY3', 'assignment', 'installed_at', 'From (UTC)', 'YYYY-MM-DD HH24:MI:SS', 'UTC', NULL),
    ('UTILITY3', 'assignment', 'removed_at', 'To (UTC)', 'YYYY-MM-DD HH24:MI:SS', 'UTC', NULL),
    ('UTILITY3', 'interval', 'meter_id', 'Meter Number', NULL, NULL, NULL),
    ('UTILITY3', 'interval', 'interval_start_ts', 'Read Start', 'MM/DD/YYYY HH24:MI', NULL, NULL),
    ('UTILITY3', 'interval', 'duration_seconds', 'Minutes', NULL, NULL, 'min'),
    ('UTILITY3', 'interval', 'channel', 'Channel', NULL, NULL, NULL),
    ('UTILITY3', 'interval', 'value', 'Usage', NULL, NULL, NULL),
    ('UTILITY3', 'interval', 'unit', 'UOM', NULL, NULL, NULL),
    ('UTILITY3', 'interval', 'quality', 'Status', NULL, NULL, NULL),
    ('UTILITY4', 'service_point', 'service_point_id', 'SPID', NULL, NULL, NULL),
    ('UTILITY4', 'service_point', 'street', 'Address', NULL, NULL, NULL),
    ('UTILITY4', 'service_point', 'city', 'City', NULL, NULL, NULL),
    ('UTILITY4', 'service_point', 'zip', 'ZIP', NULL, NULL, NULL),
    ('UTILITY4', 'service_point', 'state', 'State', NULL, NULL, NULL),
    ('UTILITY4', 'service_point', 'updated_at', 'Last Modified (UTC)', 'YYYY-MM-DD HH24:MI:SS', 'UTC', NULL),
    ('UTILITY4', 'meter', 'meter_id', 'Meter', NULL, NULL, NULL),
    ('UTILITY4', 'meter', 'service_point_id', 'SPID', NULL, NULL, NULL),
    ('UTILITY4', 'meter', 'meter_type', 'Meter Type', NULL, NULL, NULL),
    ('UTILITY4', 'meter', 'installed_at', 'Installed (epoch)', 'epoch', NULL, NULL),
    ('UTILITY4', 'interval', 'service_point_id', 'SPID', NULL, NULL, NULL),
    ('UTILITY4', 'interval', 'meter_id', 'Meter', NULL, NULL, NULL),
    ('UTILITY4', 'interval', 'interval_start_ts', 'Date', 'MM/DD/YYYY', NULL, NULL),
    ('UTILITY4', 'interval', 'channel', 'Flow', NULL, NULL, NULL),
    ('UTILITY4', 'interval', 'unit', 'Unit', NULL, NULL, NULL);

-- 4. What UTILITY3's channels imply: its hourly reactive reads give neither
--    a length nor a unit.
INSERT INTO gridflow.channel (utility_id, channel, duration_seconds, unit, description) VALUES
    ('UTILITY3', 'KWH-15', 900, NULL, 'Delivered energy per quarter-hour'),
    ('UTILITY3', 'KVARH-60', 3600, 'kvarh', 'Reactive energy per hour');

-- 5. Build every utility of the drop.
SELECT step, table_name, row_count FROM gridflow_build(:'onboard') WHERE table_name IS NOT NULL;

--
-- What came out.
--
-- Every file: UTILITY3's one garbled unit is rejected; its 54 records in the
-- repeated hour (6 meters x 8 quarter-hours, 3 x 2 hours) and UTILITY4's 8
-- fall-back rows are counted; UTILITY4's 112 records gave 10,751 reads.
SELECT batch_id, utility_id, file_kind, records_read, rows_invalid, rows_duplicate, rows_kept,
       unpivoted_reads, ambiguous_local_times, nonexistent_local_times
  FROM dq.batches ORDER BY batch_id;
SELECT utility_id, file_kind, stage, reason, records, first_line, target_column FROM dq.rejects;
SELECT line_no, reason, detail, source_column, target_column, record
  FROM landing.reject j JOIN gridflow.batch b USING (batch_id)
 WHERE b.utility_id IN ('UTILITY3', 'UTILITY4');
-- UTILITY1 and UTILITY2 are the sample, as before (dq.out)
SELECT table_name, utility_id, row_count FROM dq.row_counts
 WHERE table_name LIKE 'standardized.%' ORDER BY table_name, utility_id;

-- Service points and meters from other names and formats: epoch seconds,
-- local MM/DD/YYYY HH24:MI, UTC YYYY-MM-DD HH24:MI:SS
SELECT utility_id, service_point_id, house_num, street, house_supp, city, zip, state,
       installed_at, updated_at
  FROM standardized.service_point WHERE utility_id IN ('UTILITY3', 'UTILITY4')
 ORDER BY utility_id, service_point_id;
SELECT utility_id, meter_id, serial_number, meter_type, meter_category, service_point_id, installed_at
  FROM standardized.meter WHERE utility_id IN ('UTILITY3', 'UTILITY4')
 ORDER BY utility_id, meter_id;
-- UTILITY3's assignment file: E31000143 sat at another premise until 2021;
-- E31000380 was exchanged for E39116962 on 2025-11-03 at 10:00 local
SELECT utility_id, meter_id, service_point_id, installed_at, removed_at, line_no
  FROM standardized.meter_assignment WHERE utility_id IN ('UTILITY3', 'UTILITY4')
 ORDER BY utility_id, batch_id, line_no;

-- The fall-back hour of one meter of each utility.  UTILITY3: the second
-- 01:00 ... 01:45 of the file are the -05 instants (in_order); the hourly
-- reactive reads got their length and unit from their channel.  UTILITY4:
-- each doubled cell of 01:15 ... 02:00 became two reads of half its value.
SELECT utility_id, meter_id, channel, interval_start_ts, interval_end_ts, duration_seconds,
       value, unit, quality, service_point_id, line_no
  FROM standardized.interval_read
 WHERE (utility_id, meter_id) IN (('UTILITY3', 'E31000143'), ('UTILITY4', 'M44100063'))
   AND interval_start_ts >= '2025-11-02 00:45-04' AND interval_start_ts < '2025-11-02 02:15-05'
 ORDER BY utility_id, channel, interval_start_ts;
-- The spring-forward hour: 01:45 EST is followed by 03:00 EDT
SELECT utility_id, meter_id, channel, interval_start_ts, value, unit
  FROM standardized.interval_read
 WHERE (utility_id, meter_id) IN (('UTILITY3', 'E31000143'), ('UTILITY4', 'M44100063'))
   AND interval_start_ts >= '2025-03-09 01:30-05' AND interval_start_ts < '2025-03-09 03:30-04'
 ORDER BY utility_id, channel, interval_start_ts;
-- Wh converted into kWh: one read of a meter writing Wh in each utility,
-- with the usage and unit of the record it came from (UTILITY4: the cell of
-- column 18:15 and the Unit column)
SELECT r.utility_id, r.meter_id, r.channel, r.interval_start_ts, r.value, r.unit,
       CASE r.utility_id WHEN 'UTILITY3' THEN f[5:6] ELSE ARRAY[f[5 + 73], f[5]] END AS source_usage_unit
  FROM standardized.interval_read r
 CROSS JOIN LATERAL gridflow.csv_fields(gridflow.source_record(r.batch_id, r.line_no)) f
 WHERE (r.utility_id, r.meter_id) IN (('UTILITY3', 'E31000583'), ('UTILITY4', 'M44100160'))
   AND r.interval_start_ts = '2025-03-06 18:00-05' AND r.channel IN ('KWH-15', 'DEL')
 ORDER BY 1;
SELECT utility_id, channel, unit, duration_seconds, count(*) AS reads
  FROM standardized.interval_read WHERE utility_id IN ('UTILITY3', 'UTILITY4')
 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;

-- Daily buckets: local midnight to local midnight, 23 hours on 2025-03-09
-- and 25 on 2025-11-02, with 92 and 100 quarter-hours (23 and 25 hours) per
-- service point and channel.  UTILITY4 misses one quarter-hour on 10-31.
SELECT utility_id, local_date, channel, min(bucket_start) AS bucket_start,
       bucket_end - bucket_start AS length, count(*) AS service_points,
       min(interval_count) AS min_intervals, max(interval_count) AS max_intervals
  FROM experience.daily_usage
 WHERE utility_id IN ('UTILITY3', 'UTILITY4')
   AND local_date IN ('2025-03-08', '2025-03-09', '2025-03-10', '2025-10-31', '2025-11-01',
                      '2025-11-02', '2025-11-03')
 GROUP BY utility_id, local_date, channel, bucket_end - bucket_start
 ORDER BY utility_id, local_date, channel;
-- Every day of the two weeks: how many service-point days had how many reads
SELECT utility_id, channel, bucket_end - bucket_start AS length, interval_count, count(*) AS days
  FROM experience.daily_usage WHERE utility_id IN ('UTILITY3', 'UTILITY4')
 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
-- One service point's DST days with total, peak and pit
SELECT utility_id, service_point_id, local_date, channel, bucket_start, bucket_end, total_usage,
       interval_count, peak_usage_value, peak_usage_ts, pit_usage_value, pit_usage_ts
  FROM experience.daily_usage
 WHERE service_point_id IN ('P3-3000096', 'SP4-400058')
   AND local_date IN ('2025-03-09', '2025-11-02')
 ORDER BY utility_id, local_date, channel;

-- Nothing is lost: each day's total equals what the records say, computed
-- here in SQL from the landed records.  UTILITY3: usage times its unit's
-- factor, the hourly channel in kvarh.  UTILITY4: the sum of a record's 96
-- cells, times its unit's factor (a doubled cell counts once, as two halves).
WITH u3 AS (
    SELECT f[1] AS meter_id, to_timestamp(f[2], 'MM/DD/YYYY HH24:MI')::date AS local_date, f[4] AS channel,
           f[5]::float8 * coalesce((SELECT factor FROM gridflow.unit WHERE lower(unit) = lower(f[6])),
                                   (SELECT un.factor FROM gridflow.channel c JOIN gridflow.unit un USING (unit)
                                     WHERE c.utility_id = 'UTILITY3' AND c.channel = f[4])) AS kwh
      FROM landing.source_record l
      JOIN gridflow.batch b USING (batch_id)
     CROSS JOIN LATERAL gridflow.csv_fields(l.record) f
     WHERE b.utility_id = 'UTILITY3' AND b.file_kind = 'interval' AND l.line_no > 1
       AND coalesce(f[6], '') <> 'kWhh'
), u4 AS (
    SELECT f[1] AS service_point_id, to_date(f[3], 'MM/DD/YYYY') AS local_date, f[4] AS channel,
           (SELECT sum(c::float8) FROM unnest(f[6:101]) c)
           * (SELECT factor FROM gridflow.unit WHERE unit = f[5]) AS kwh
      FROM landing.source_record l
      JOIN gridflow.batch b USING (batch_id)
     CROSS JOIN LATERAL gridflow.csv_fields(l.record) f
     WHERE b.utility_id = 'UTILITY4' AND b.file_kind = 'interval' AND l.line_no > 1
), source AS (
    SELECT 'UTILITY3' AS utility_id, local_date, channel, sum(kwh) AS kwh FROM u3 GROUP BY 1, 2, 3
    UNION ALL
    SELECT 'UTILITY4', local_date, channel, sum(kwh) FROM u4 GROUP BY 1, 2, 3
), built AS (
    SELECT utility_id, local_date, channel, sum(value) AS kwh
      FROM product.usage_interval
     WHERE utility_id IN ('UTILITY3', 'UTILITY4')
     GROUP BY 1, 2, 3
)
SELECT s.utility_id, count(*) AS days_and_channels,
       count(*) FILTER (WHERE abs(s.kwh - b.kwh) < 1e-9) AS equal_totals,
       round(sum(s.kwh)::numeric, 3) AS source_kwh, round(sum(b.kwh)::numeric, 3) AS built_kwh
  FROM source s JOIN built b USING (utility_id, local_date, channel)
 GROUP BY s.utility_id ORDER BY 1;

-- The build's product and experience rows equal their SQL definitions
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval) b)
       AS product_differences,
       (SELECT count(*) FROM (SELECT * FROM experience.daily_usage EXCEPT ALL SELECT * FROM gridflow.experience_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.experience_source EXCEPT ALL SELECT * FROM experience.daily_usage) b)
       AS experience_differences;

--
-- The DQ views for them.
--
SELECT utility_id, first_local_date, last_local_date, days, rejected_timestamps,
       ambiguous_local_times, nonexistent_local_times
  FROM dq.timestamp_range;
-- effective-dated: the exchanged meter's read after its removal has no
-- premise; first_row would put E31000143's reads at its premise of 2016
SELECT * FROM dq.meter_link_ambiguity WHERE utility_id = 'UTILITY3';
SELECT * FROM dq.multi_premise_meters WHERE utility_id = 'UTILITY3';
SELECT * FROM dq.referential_integrity WHERE utility_id IN ('UTILITY3', 'UTILITY4') ORDER BY 1, 2;
SELECT * FROM dq.readiness;
SELECT * FROM dq.experience_summary;
SELECT utility_id, channel, policy, kept_rows, source_rows, kept_share_pct, warning
  FROM dq.dedup_value_share WHERE utility_id IN ('UTILITY3', 'UTILITY4');
SELECT * FROM dq.source_duplicates WHERE utility_id IN ('UTILITY3', 'UTILITY4');
-- The report (line 2 names the drop directory, which depends on the installation)
SELECT line FROM dq.snapshot WHERE line_no <> 2 ORDER BY line_no;

--
-- The same utilities arriving later, by gridflow_ingest: utilities 1 and 2
-- built first, then the files of 3 (long, assignment file, local times in
-- other zones) and 4 (wide) ingested one utility at a time; the layers end
-- exactly where a rebuild of that history ends.
--
CREATE FUNCTION pg_temp.layers_digest()
RETURNS TABLE (table_name text, row_count bigint, digest text)
LANGUAGE plpgsql AS $$
BEGIN
    FOREACH table_name IN ARRAY ARRAY[
                       'standardized.service_point',
                       'standardized.meter',
                       'standardized.meter_assignment',
                       'standardized.interval_read',
                       'product.usage_interval',
                       'experience.daily_usage']
    LOOP
        EXECUTE format('SELECT count(*), md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) FROM %s t',
                       table_name) INTO row_count, digest;
        RETURN NEXT;
    END LOOP;
END
$$;
CREATE TEMP TABLE built_in_one_go AS SELECT * FROM pg_temp.layers_digest();
UPDATE gridflow.utility SET enabled = false WHERE utility_id IN ('UTILITY3', 'UTILITY4');
SELECT count(*) FROM gridflow_build(:'onboard');
UPDATE gridflow.utility SET enabled = true WHERE utility_id IN ('UTILITY3', 'UTILITY4');
SELECT utility, kind, outcome, records_read, rows_kept, days_refreshed
  FROM gridflow_ingest(:'onboard', 'UTILITY3');
SELECT utility, kind, outcome, records_read, rows_kept, days_refreshed
  FROM gridflow_ingest(:'onboard', 'UTILITY4');
CREATE TEMP TABLE ingested AS SELECT * FROM pg_temp.layers_digest();
SELECT count(*) FROM gridflow_rebuild();
-- ingested = rebuilt, row for row (lineage included); and, lineage aside,
-- the same rows as the build of all four at once
SELECT i.table_name, i.row_count, i.digest = r.digest AS same_as_rebuild,
       i.row_count = b.row_count AS same_count_as_one_build
  FROM ingested i
  JOIN pg_temp.layers_digest() r USING (table_name)
  JOIN built_in_one_go b USING (table_name)
 ORDER BY 1;
