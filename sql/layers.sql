-- Each layer on the sample shipped with the extension, checked against
-- plain-SQL references computed from the landed records.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT count(*) AS tables_built FROM gridflow_build() WHERE table_name IS NOT NULL;

SELECT * FROM dq.row_counts;

-- Landing: every record of every file, as read; with the header and the
-- rejects, that is every line (the files have no blank lines)
SELECT b.utility_id, b.file_kind, b.records_read, b.records_rejected,
       (SELECT max(line_no) FROM landing.source_record r WHERE r.batch_id = b.batch_id) AS last_line
  FROM gridflow.batch b ORDER BY b.batch_id;

-- Standardized, keep-first, against DISTINCT ON over the landed records
CREATE TEMP VIEW landed AS
SELECT b.utility_id, b.file_kind, r.line_no, gridflow.csv_fields(r.record) AS f, b.header
  FROM landing.source_record r JOIN gridflow.batch b USING (batch_id);
-- utility2 intervals: meter, yyyymmdd, channel -> first value in file order
SELECT count(*) AS u2_interval_mismatches FROM (
    (SELECT DISTINCT ON (f[3], f[5], f[1]) f[3] AS meter_id, f[5] AS day, f[1] AS channel, f[6]::float8 AS value
       FROM landed WHERE utility_id = 'UTILITY2' AND file_kind = 'interval'
      ORDER BY f[3], f[5], f[1], line_no)
    EXCEPT
    SELECT meter_id, to_char(interval_start_ts AT TIME ZONE 'America/New_York', 'YYYYMMDD'), channel, value
      FROM standardized.interval_read WHERE utility_id = 'UTILITY2') x;
-- the same count of keys both ways
SELECT (SELECT count(DISTINCT (f[3], f[5], f[1])) FROM landed WHERE utility_id = 'UTILITY2' AND file_kind = 'interval')
       = (SELECT count(*) FROM standardized.interval_read WHERE utility_id = 'UTILITY2') AS same_keys;
-- utility2 premises: first address in file order
SELECT count(*) AS u2_service_point_mismatches FROM (
    (SELECT DISTINCT ON (f[1]) f[1], f[3], f[4], f[5], f[6], f[7]
       FROM landed WHERE utility_id = 'UTILITY2' AND file_kind = 'service_point' ORDER BY f[1], line_no)
    EXCEPT
    SELECT service_point_id, house_num, street, house_supp, city, zip
      FROM standardized.service_point WHERE utility_id = 'UTILITY2') x;
-- reads reach their service point through the meter's first row
SELECT count(*) AS u2_link_mismatches
  FROM standardized.interval_read r
  JOIN (SELECT DISTINCT ON (f[2]) f[2] AS meter_id, f[1] AS premise
          FROM landed WHERE utility_id = 'UTILITY2' AND file_kind = 'meter' ORDER BY f[2], line_no) m
    USING (meter_id)
 WHERE r.utility_id = 'UTILITY2' AND r.service_point_id IS DISTINCT FROM m.premise;
-- utility1 reads keep their own service point and ISO offset
SELECT count(*) AS u1_interval_mismatches FROM (
    SELECT f[1], f[2], f[3], f[7]::timestamptz, f[5]::float8
      FROM landed WHERE utility_id = 'UTILITY1' AND file_kind = 'interval'
    EXCEPT
    SELECT service_point_id, meter_id, channel, interval_start_ts, value
      FROM standardized.interval_read WHERE utility_id = 'UTILITY1') x;
-- kWh and kVARh reads of the same instant are both kept
SELECT count(*) AS instants_with_two_channels
  FROM (SELECT service_point_id, meter_id, interval_start_ts FROM standardized.interval_read
         WHERE utility_id = 'UTILITY1' GROUP BY 1, 2, 3 HAVING count(DISTINCT channel) > 1) x;
-- time-zone rules: integer dates are local midnight in America/New_York,
-- end = start + duration, the string null is NULL; UTILITY2's dates alone
-- are reads of day resolution whose duration (0 in the file) is unknown
SELECT utility_id, time_resolution,
       bool_and((interval_start_ts AT TIME ZONE 'America/New_York')::time = '00:00') AS local_midnight,
       bool_and(interval_end_ts IS NOT DISTINCT FROM interval_start_ts + duration_seconds * interval '1 second') AS end_ok,
       count(duration_seconds) AS durations, count(interval_end_ts) AS ends,
       count(exported_at) AS exported_at_values
  FROM standardized.interval_read GROUP BY utility_id, time_resolution ORDER BY utility_id;
SELECT min(interval_start_ts), max(interval_start_ts)
  FROM standardized.interval_read WHERE utility_id = 'UTILITY2';
-- dedup statistics add up to the landed records
SELECT utility_id, sum(source_rows) AS source_rows,
       (SELECT records_read - rows_invalid FROM gridflow.batch b
         WHERE b.utility_id = r.utility_id AND b.file_kind = 'interval') AS landed_valid
  FROM standardized.interval_read r GROUP BY utility_id ORDER BY utility_id;

-- Product: 1:1 with standardized reads, left joins, flags
SELECT (SELECT count(*) FROM product.usage_interval) = (SELECT count(*) FROM standardized.interval_read) AS one_to_one;
SELECT count(*) AS product_mismatches FROM (
    SELECT utility_id, service_point_id, meter_id, channel, interval_start_ts, value FROM standardized.interval_read
    EXCEPT
    SELECT utility_id, service_point_id, meter_id, channel, interval_start_ts, value FROM product.usage_interval) x;
SELECT utility_id, service_point_known, meter_known, count(*), count(city) AS with_city
  FROM product.usage_interval GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT count(*) AS wrong_local_date
  FROM product.usage_interval WHERE local_date <> (interval_start_ts AT TIME ZONE 'America/New_York')::date;

-- Experience: against a plain-SQL reference over product (a day with a
-- read of day resolution has no peak or pit time)
SELECT count(*) AS experience_mismatches FROM (
    SELECT utility_id, service_point_id, local_date, channel,
           sum(value) AS total_usage, count(value)::int AS interval_count,
           (array_agg(value ORDER BY value DESC, interval_start_ts))[1] AS peak_value,
           CASE WHEN bool_and(time_resolution = 'interval')
                THEN (array_agg(interval_start_ts ORDER BY value DESC, interval_start_ts))[1] END AS peak_ts,
           (array_agg(value ORDER BY value, interval_start_ts))[1] AS pit_value,
           CASE WHEN bool_and(time_resolution = 'interval')
                THEN (array_agg(interval_start_ts ORDER BY value, interval_start_ts))[1] END AS pit_ts
      FROM product.usage_interval WHERE service_point_id IS NOT NULL
     GROUP BY 1, 2, 3, 4
    EXCEPT
    SELECT utility_id, service_point_id, local_date, channel, total_usage, interval_count,
           peak_usage_value, peak_usage_ts, pit_usage_value, pit_usage_ts
      FROM experience.daily_usage) x;
-- units and resolutions as configured: UTILITY1's channels name their unit,
-- UTILITY2's codes do not; local times in the utility's zone
SELECT utility_id, channel, unit, time_resolution, count(*) AS days,
       count(peak_usage_ts) AS peak_times,
       bool_and(peak_local IS NOT DISTINCT FROM peak_usage_ts AT TIME ZONE time_zone) AS peak_local_ok,
       min(time_zone) AS time_zone
  FROM experience.daily_usage GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
-- the monthly rollup equals its SQL definition and adds up to the days
SELECT (SELECT count(*) FROM (SELECT * FROM experience.monthly_usage EXCEPT ALL
                              SELECT * FROM gridflow.monthly_source) a) AS months_not_in_source,
       (SELECT count(*) FROM (SELECT * FROM gridflow.monthly_source EXCEPT ALL
                              SELECT * FROM experience.monthly_usage) b) AS source_not_in_months,
       (SELECT sum(day_count) FROM experience.monthly_usage) = (SELECT count(*) FROM experience.daily_usage) AS every_day_once,
       (SELECT round(sum(total_usage)::numeric, 6) FROM experience.monthly_usage)
         = (SELECT round(sum(total_usage)::numeric, 6) FROM experience.daily_usage) AS same_total;
SELECT bool_and(bucket_start = (local_date::timestamp AT TIME ZONE 'America/New_York')
                AND bucket_end = ((local_date + 1)::timestamp AT TIME ZONE 'America/New_York')) AS local_day_buckets
  FROM experience.daily_usage;
SELECT utility_id, daily_rows, service_point_days, service_points, channels,
       round(avg_daily_usage::numeric, 6) AS avg_daily_usage, max_peak_value
  FROM dq.experience_summary;

-- The build writes product and experience in C; the views that define them
-- in SQL give exactly the same rows
SELECT count(*) AS product_differences FROM (
    (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source)
    UNION ALL
    (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval)) x;
SELECT count(*) AS experience_differences FROM (
    (SELECT * FROM experience.daily_usage EXCEPT ALL SELECT * FROM gridflow.experience_source)
    UNION ALL
    (SELECT * FROM gridflow.experience_source EXCEPT ALL SELECT * FROM experience.daily_usage)) x;
-- daily totals are exact sums, whatever the order of the reads
SELECT count(*) AS total_differences
  FROM experience.daily_usage e
  JOIN (SELECT utility_id, service_point_id, local_date, channel,
               gridflow.exact_sum(value ORDER BY value DESC) AS t1,
               gridflow.exact_sum(value ORDER BY interval_start_ts) AS t2
          FROM product.usage_interval GROUP BY 1, 2, 3, 4) p
 USING (utility_id, service_point_id, local_date, channel)
 WHERE e.total_usage IS DISTINCT FROM p.t1 OR p.t1 IS DISTINCT FROM p.t2;

-- Lineage: every standardized and product row names the landed record it came from
SELECT count(*) AS broken_lineage
  FROM product.usage_interval p
  LEFT JOIN landing.source_record r ON r.batch_id = p.batch_id AND r.line_no = p.line_no
 WHERE r.record IS NULL;
SELECT count(*) AS lineage_lookups_that_differ
  FROM (SELECT * FROM product.usage_interval ORDER BY line_no LIMIT 50) p
  JOIN landing.source_record r ON r.batch_id = p.batch_id AND r.line_no = p.line_no
 WHERE gridflow.source_record(p.batch_id, p.line_no) IS DISTINCT FROM r.record;
SELECT gridflow.source_record(1, 1) IS NULL AS header_is_not_a_record,
       gridflow.source_record(999, 2) IS NULL AS no_such_batch;
-- landing chunks: every valid record exactly once, in file order
SELECT b.batch_id, b.records_read = count(r.*) AS all_records, count(DISTINCT r.line_no) = count(*) AS unique_lines
  FROM gridflow.batch b LEFT JOIN landing.source_record r USING (batch_id)
 GROUP BY b.batch_id, b.records_read ORDER BY b.batch_id;

-- Indexes serve a BI query by service point and day
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT * FROM experience.daily_usage WHERE service_point_id = 'SP-00000001' AND local_date = '2025-01-30';
EXPLAIN (COSTS OFF)
SELECT * FROM product.usage_interval
 WHERE service_point_id = 'SP-00000001'
   AND interval_start_ts >= '2025-01-30 05:00+00' AND interval_start_ts < '2025-01-31 05:00+00';
-- each utility has its own partitions: naming the utility prunes to one
EXPLAIN (COSTS OFF)
SELECT * FROM experience.daily_usage
 WHERE utility_id = 'UTILITY1' AND service_point_id = 'SP-00000001' AND local_date = '2025-01-30';
-- ... and each utility's partition is split by month of its local days:
-- reads and products on interval_start_ts (the month's local midnights),
-- days on local_date: one service point and time range of one utility is
-- one partition of each (a filter on product's local_date does not prune:
-- filter on the time, as time-series tools do)
EXPLAIN (COSTS OFF)
SELECT * FROM product.usage_interval
 WHERE utility_id = 'UTILITY2' AND service_point_id = 'PREM-00000001'
   AND interval_start_ts >= '2025-02-03 05:00+00' AND interval_start_ts < '2025-02-04 05:00+00';
EXPLAIN (COSTS OFF)
SELECT * FROM standardized.interval_read
 WHERE utility_id = 'UTILITY2' AND service_point_id = 'PREM-00000001'
   AND interval_start_ts >= '2025-02-03 05:00+00' AND interval_start_ts < '2025-02-04 05:00+00';
RESET enable_seqscan;
-- the storage of every layer: a partition per utility, and for the reads,
-- products and days one per month of the utility's local days
SELECT p.parentrelid::regclass AS parent, p.relid::regclass AS partition,
       pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM unnest(ARRAY['gridflow_store.source_chunk', 'gridflow_store.reject',
                    'gridflow_store.service_point', 'gridflow_store.meter',
                    'gridflow_store.meter_assignment', 'gridflow_store.interval_read',
                    'gridflow_store.usage_interval', 'gridflow_store.daily_usage',
                    'gridflow_store.monthly_usage']::regclass[]) t
 CROSS JOIN LATERAL pg_partition_tree(t) p
  JOIN pg_class c ON c.oid = p.relid
 WHERE p.level > 0
 ORDER BY p.relid::regclass::text;

-- Memory is bounded: with little gridflow.build_memory the reads are
-- partitioned to temporary files by service point, and the result is the
-- same, row for row
CREATE TEMP TABLE in_memory AS
SELECT 'interval_read' AS t, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM standardized.interval_read x
UNION ALL SELECT 'product', md5(string_agg(x::text, '|' ORDER BY x::text)) FROM product.usage_interval x
UNION ALL SELECT 'experience', md5(string_agg(x::text, '|' ORDER BY x::text)) FROM experience.daily_usage x;
SET gridflow.build_memory = '64kB';
SELECT count(*) AS tables_built FROM gridflow_build() WHERE table_name IS NOT NULL;
SELECT utility_id, file_kind, spill_partitions > 0 AS partitioned, rows_kept
  FROM gridflow.batch WHERE file_kind = 'interval' ORDER BY batch_id;
SELECT m.t, m.h = p.h AS same_rows
  FROM in_memory m
  JOIN (SELECT 'interval_read' AS t, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM standardized.interval_read x
        UNION ALL SELECT 'product', md5(string_agg(x::text, '|' ORDER BY x::text)) FROM product.usage_interval x
        UNION ALL SELECT 'experience', md5(string_agg(x::text, '|' ORDER BY x::text)) FROM experience.daily_usage x) p
    USING (t)
 ORDER BY m.t;
RESET gridflow.build_memory;

-- experience.utility_daily_usage: the days added up over service points,
-- row for row (both ways), unit NULL when a day's channel mixes units,
-- with the days' estimated and questionable reads and estimated usage
WITH agg AS (
    SELECT utility_id, local_date, channel,
           CASE WHEN bool_and(unit IS NOT NULL) AND min(unit) = max(unit) THEN min(unit) END AS unit,
           count(*) AS service_points, sum(interval_count) AS interval_count,
           gridflow.exact_sum(total_usage) AS total_usage, max(peak_usage_value) AS peak_usage_value,
           sum(estimated_count) AS estimated_count, sum(questionable_count) AS questionable_count,
           gridflow.exact_sum(estimated_usage) AS estimated_usage
      FROM experience.daily_usage GROUP BY utility_id, local_date, channel
)
SELECT (SELECT count(*) FROM experience.utility_daily_usage) AS rollup_rows,
       (SELECT count(*) FROM agg) AS day_groups,
       (SELECT count(*) FROM (SELECT * FROM experience.utility_daily_usage EXCEPT SELECT * FROM agg) x) AS only_in_rollup,
       (SELECT count(*) FROM (SELECT * FROM agg EXCEPT SELECT * FROM experience.utility_daily_usage) x) AS only_in_days;

-- experience.utility_monthly_usage: the months of the days added up, and
-- the same service points, days and reads as experience.monthly_usage
WITH agg AS (
    SELECT utility_id, date_trunc('month', local_date)::date AS month_start, channel,
           CASE WHEN bool_and(unit IS NOT NULL) AND min(unit) = max(unit) THEN min(unit) END AS unit,
           count(DISTINCT service_point_id) AS service_points, count(*) AS service_point_days,
           sum(interval_count) AS interval_count, gridflow.exact_sum(total_usage) AS total_usage,
           max(peak_usage_value) AS peak_usage_value,
           sum(estimated_count) AS estimated_count, sum(questionable_count) AS questionable_count,
           gridflow.exact_sum(estimated_usage) AS estimated_usage
      FROM experience.daily_usage GROUP BY 1, 2, 3
), monthly AS (
    SELECT utility_id, month_start, channel, count(*) AS service_points, sum(day_count) AS service_point_days,
           sum(interval_count) AS interval_count
      FROM experience.monthly_usage GROUP BY 1, 2, 3
)
SELECT (SELECT count(*) FROM experience.utility_monthly_usage) AS rollup_rows,
       (SELECT count(*) FROM (SELECT * FROM experience.utility_monthly_usage EXCEPT SELECT * FROM agg) x) AS only_in_rollup,
       (SELECT count(*) FROM (SELECT * FROM agg EXCEPT SELECT * FROM experience.utility_monthly_usage) x) AS only_in_days,
       (SELECT count(*) FROM (SELECT utility_id, month_start, channel, service_points, service_point_days, interval_count
                                FROM experience.utility_monthly_usage EXCEPT SELECT * FROM monthly) x) AS unlike_monthly_usage;
