-- The real utility sample (not part of the project; the test runner stages
-- a copy when it exists beside the project): every figure of the product
-- brief's DQ table, with the default policies.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET extra_float_digits = 0;
\getenv testdir GRIDFLOW_TEST_DIR
SELECT step, table_name, row_count FROM gridflow_build(:'testdir' || '/iedr-sample')
 WHERE table_name IS NOT NULL;

-- standardized service points 1,039 / 195 / 1,234; meters 291 / 750 / 1,041;
-- interval reads (= product rows) 211 / 6,178 / 6,389
SELECT table_name, utility_id, row_count FROM dq.row_counts
 WHERE table_name IN ('standardized.service_point', 'standardized.meter',
                      'standardized.interval_read', 'product.usage_interval')
 ORDER BY table_name, utility_id;
-- service-point days 211 / 1,076 / 1,287; 532 distinct service points in experience
SELECT utility_id, service_point_days, service_points FROM dq.experience_summary;
-- utility2 duplicate interval rows: 36,974 (raw - distinct keys), 3,926 keys
-- conflict, 36,967 of the dropped rows disagree with the kept row
SELECT utility_id, source_rows, kept_rows, duplicate_rows, conflicting_keys, conflicting_rows
  FROM dq.source_duplicates WHERE file_kind = 'interval';
-- the kept value is only about 12% of the raw value
SELECT utility_id, kept_share_pct, warning FROM dq.dedup_value_share WHERE channel IS NULL;
-- orphans: 0 meter ids; 126 service point ids, 1,016 rows (utility2)
SELECT utility_id, relationship, orphan_ids, orphan_rows FROM dq.referential_integrity
 WHERE relationship LIKE 'interval_read%' ORDER BY utility_id, relationship;
-- meters without service point: 291 of 1,041 (72% complete)
SELECT total_rows, total_rows - non_null AS missing, round(pct_complete) AS pct
  FROM dq.completeness
 WHERE table_name = 'standardized.meter' AND column_name = 'service_point_id' AND utility_id IS NULL;
-- values: min 0, max 999,956, mean 36,362, median 8,230, zeros 174 (2.7%),
-- negatives 0, IQR outliers 199 (3.1%)
SELECT min_value, max_value, round(mean_value) AS mean, median_value, zeros, zero_pct,
       negatives, iqr_outliers, outlier_pct
  FROM dq.value_profile WHERE utility_id IS NULL;
-- timestamps 2025-01-22 to 2025-02-21 (30 days), 0 nulls, 0 before 2020
SELECT first_local_date, last_local_date, days, null_timestamps, before_2020
  FROM dq.timestamp_range WHERE utility_id IS NULL;
-- records ready for analysis: 5,373 of 6,389 (84%)
SELECT reads, ready_reads, round(ready_pct) AS pct FROM dq.readiness WHERE utility_id IS NULL;
-- what the reference never said: repeated premises, multi-premise meters, rejects
SELECT count(*) AS conflicting_service_points FROM dq.conflicting_service_points;
SELECT count(*) AS multi_premise_meters FROM dq.multi_premise_meters;
SELECT count(*) AS rejected_records FROM landing.reject;

-- every figure at once, as one verdict
SELECT (SELECT array_agg(row_count ORDER BY table_name, utility_id) FROM dq.row_counts
         WHERE table_name IN ('standardized.service_point', 'standardized.meter', 'standardized.interval_read'))
         = ARRAY[211, 6178, 291, 750, 1039, 195]::bigint[]
   AND (SELECT service_point_days = 1287 AND service_points = 532 FROM dq.experience_summary WHERE utility_id IS NULL)
   AND (SELECT service_point_days FROM dq.experience_summary WHERE utility_id = 'UTILITY1') = 211
   AND (SELECT service_point_days FROM dq.experience_summary WHERE utility_id = 'UTILITY2') = 1076
   AND (SELECT duplicate_rows = 36974 AND conflicting_keys = 3926 AND conflicting_rows = 36967
          FROM dq.source_duplicates WHERE utility_id = 'UTILITY2' AND file_kind = 'interval')
   AND (SELECT sum(orphan_ids) = 0 FROM dq.referential_integrity WHERE relationship = 'interval_read.meter_id -> meter')
   AND (SELECT orphan_ids = 126 AND orphan_rows = 1016 FROM dq.referential_integrity
         WHERE utility_id = 'UTILITY2' AND relationship = 'interval_read.service_point_id -> service_point')
   AND (SELECT total_rows - non_null = 291 AND round(pct_complete) = 72 FROM dq.completeness
         WHERE table_name = 'standardized.meter' AND column_name = 'service_point_id' AND utility_id IS NULL)
   AND (SELECT min_value = 0 AND max_value = 999956 AND round(mean_value) = 36362 AND median_value = 8230
               AND zeros = 174 AND zero_pct = 2.7 AND negatives = 0 AND iqr_outliers = 199 AND outlier_pct = 3.1
          FROM dq.value_profile WHERE utility_id IS NULL)
   AND (SELECT first_local_date = '2025-01-22' AND last_local_date = '2025-02-21' AND days = 30
               AND null_timestamps = 0 AND before_2020 = 0
          FROM dq.timestamp_range WHERE utility_id IS NULL)
   AND (SELECT ready_reads = 5373 AND reads = 6389 AND round(ready_pct) = 84 FROM dq.readiness WHERE utility_id IS NULL)
   AS every_reference_figure;

-- product and experience as the build wrote them equal their SQL definitions
SELECT count(*) AS product_differences FROM (
    (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source)
    UNION ALL
    (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval)) x;
SELECT count(*) AS experience_differences FROM (
    (SELECT * FROM experience.daily_usage EXCEPT ALL SELECT * FROM gridflow.experience_source)
    UNION ALL
    (SELECT * FROM gridflow.experience_source EXCEPT ALL SELECT * FROM experience.daily_usage)) x;

-- units, time resolution, local time and the monthly rollup on the real
-- sample: UTILITY1's channels carry kWh and kVARh and times of day;
-- UTILITY2's codes carry no unit and its reads only dates (no peak times)
SELECT utility_id, unit, time_resolution, count(*) AS reads, count(duration_seconds) AS durations
  FROM product.usage_interval GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT utility_id, unit, time_resolution, count(*) AS days, count(peak_usage_ts) AS peak_times,
       bool_and(peak_local IS NOT DISTINCT FROM peak_usage_ts AT TIME ZONE 'America/New_York') AS local_times
  FROM experience.daily_usage GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
-- validation with the shipped rules (those of one read so far): no read
-- of the sample is negative or off its grid, so every read is valid
SELECT utility_id, quality_code, vee_flags, count(*) AS reads
  FROM product.usage_interval GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT service_point_id, channel, peak_usage_value, peak_usage_ts, peak_local
  FROM experience.daily_usage WHERE utility_id = 'UTILITY1'
 ORDER BY peak_usage_value DESC, service_point_id LIMIT 3;
SELECT count(*) AS monthly_differences FROM (
    (SELECT * FROM experience.monthly_usage EXCEPT ALL SELECT * FROM gridflow.monthly_source)
    UNION ALL
    (SELECT * FROM gridflow.monthly_source EXCEPT ALL SELECT * FROM experience.monthly_usage)) x;
SELECT m.utility_id, m.month_start, count(*) AS rows, sum(m.day_count) AS days,
       sum(m.day_count) = (SELECT count(*) FROM experience.daily_usage d
                            WHERE d.utility_id = m.utility_id
                              AND date_trunc('month', d.local_date) = m.month_start) AS every_day_once
  FROM experience.monthly_usage m GROUP BY 1, 2 ORDER BY 1, 2;

SELECT line FROM dq.snapshot WHERE line_no <> 2 ORDER BY line_no;
