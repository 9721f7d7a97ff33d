--
-- Data quality.  Every view but dq.rejects runs with the privileges of the
-- role reading it (security_invoker), so grants and row-level security on
-- the layers apply to the figures too.  Landing is for the pipeline only:
-- the landing row counts come from the batch figures, and dq.rejects, the
-- one window onto landing.reject for other readers, shows counts only and
-- filters rows by utility itself.  Views with a utility_id column give one
-- row per utility; where a row with utility_id NULL is present it covers
-- all utilities together (medians and percentages do not add up).
--

CREATE VIEW dq.row_counts WITH (security_invoker = true) AS
WITH u AS (
    SELECT DISTINCT b.utility_id FROM gridflow.batch b
), c(ord, layer, table_name, utility_id, row_count) AS (
    SELECT 1, 'landing', 'landing.source_record', b.utility_id, pg_catalog.sum(b.records_read)::bigint
      FROM gridflow.batch b
     GROUP BY b.utility_id
    UNION ALL
    SELECT 2, 'landing', 'landing.reject', b.utility_id,
           pg_catalog.sum(b.records_rejected OPERATOR(pg_catalog.+) b.rows_invalid)::bigint
      FROM gridflow.batch b
     GROUP BY b.utility_id
    UNION ALL
    SELECT 3, 'standardized', 'standardized.service_point', utility_id, pg_catalog.count(*)
      FROM standardized.service_point GROUP BY utility_id
    UNION ALL
    SELECT 4, 'standardized', 'standardized.meter', utility_id, pg_catalog.count(*)
      FROM standardized.meter GROUP BY utility_id
    UNION ALL
    SELECT 5, 'standardized', 'standardized.meter_assignment', utility_id, pg_catalog.count(*)
      FROM standardized.meter_assignment GROUP BY utility_id
    UNION ALL
    SELECT 6, 'standardized', 'standardized.interval_read', utility_id, pg_catalog.count(*)
      FROM standardized.interval_read GROUP BY utility_id
    UNION ALL
    SELECT 7, 'product', 'product.usage_interval', utility_id, pg_catalog.count(*)
      FROM product.usage_interval GROUP BY utility_id
    UNION ALL
    SELECT 8, 'experience', 'experience.daily_usage', utility_id, pg_catalog.count(*)
      FROM experience.daily_usage GROUP BY utility_id
), t(ord, layer, table_name) AS (
    SELECT DISTINCT ord, layer, table_name FROM c
    UNION
    VALUES (1, 'landing', 'landing.source_record'), (2, 'landing', 'landing.reject'),
           (3, 'standardized', 'standardized.service_point'), (4, 'standardized', 'standardized.meter'),
           (5, 'standardized', 'standardized.meter_assignment'), (6, 'standardized', 'standardized.interval_read'),
           (7, 'product', 'product.usage_interval'), (8, 'experience', 'experience.daily_usage')
)
SELECT t.layer, t.table_name, u.utility_id, coalesce(c.row_count, 0) AS row_count
  FROM t CROSS JOIN u
  LEFT JOIN c ON c.ord OPERATOR(pg_catalog.=) t.ord AND c.utility_id OPERATOR(pg_catalog.=) u.utility_id
 ORDER BY t.ord, u.utility_id;
COMMENT ON VIEW dq.row_counts IS 'Rows per layer table and utility (utilities of the current build); the landing tables are counted from the batch figures, which roles that may not read landing can see';
COMMENT ON COLUMN dq.row_counts.layer IS 'Medallion layer';
COMMENT ON COLUMN dq.row_counts.table_name IS 'Table';
COMMENT ON COLUMN dq.row_counts.utility_id IS 'Utility';
COMMENT ON COLUMN dq.row_counts.row_count IS 'Rows';

CREATE VIEW dq.source_duplicates WITH (security_invoker = true) AS
WITH k(file_kind, utility_id, kept_rows, source_rows, keys_with_duplicates, conflicting_keys, conflicting_rows) AS (
    SELECT 'service_point', utility_id, pg_catalog.count(*), pg_catalog.sum(source_rows),
           pg_catalog.count(*) FILTER (WHERE source_rows OPERATOR(pg_catalog.>) 1),
           pg_catalog.count(*) FILTER (WHERE conflicting_rows OPERATOR(pg_catalog.>) 0),
           pg_catalog.sum(conflicting_rows)
      FROM standardized.service_point GROUP BY utility_id
    UNION ALL
    SELECT 'meter', utility_id, pg_catalog.count(*), pg_catalog.sum(source_rows),
           pg_catalog.count(*) FILTER (WHERE source_rows OPERATOR(pg_catalog.>) 1),
           pg_catalog.count(*) FILTER (WHERE conflicting_rows OPERATOR(pg_catalog.>) 0),
           pg_catalog.sum(conflicting_rows)
      FROM standardized.meter GROUP BY utility_id
    UNION ALL
    SELECT 'interval', utility_id, pg_catalog.count(*), pg_catalog.sum(source_rows),
           pg_catalog.count(*) FILTER (WHERE source_rows OPERATOR(pg_catalog.>) 1),
           pg_catalog.count(*) FILTER (WHERE conflicting_rows OPERATOR(pg_catalog.>) 0),
           pg_catalog.sum(conflicting_rows)
      FROM standardized.interval_read GROUP BY utility_id
)
SELECT utility_id,
       file_kind,
       source_rows::bigint AS source_rows,
       kept_rows,
       (source_rows - kept_rows)::bigint AS duplicate_rows,
       pg_catalog.round(100 * (source_rows - kept_rows)
                        / nullif(source_rows, 0)::numeric, 1) AS duplicate_pct,
       keys_with_duplicates,
       conflicting_keys,
       conflicting_rows::bigint AS conflicting_rows
  FROM k
 ORDER BY utility_id, file_kind;
COMMENT ON VIEW dq.source_duplicates IS 'Duplicate source records per utility and file kind: records sharing a natural key, and among them those whose values conflict';
COMMENT ON COLUMN dq.source_duplicates.utility_id IS 'Utility';
COMMENT ON COLUMN dq.source_duplicates.file_kind IS 'service_point, meter or interval';
COMMENT ON COLUMN dq.source_duplicates.source_rows IS 'Valid source records';
COMMENT ON COLUMN dq.source_duplicates.kept_rows IS 'Distinct keys, i.e. standardized rows';
COMMENT ON COLUMN dq.source_duplicates.duplicate_rows IS 'source_rows - kept_rows: records dropped (or summed) by de-duplication';
COMMENT ON COLUMN dq.source_duplicates.duplicate_pct IS 'duplicate_rows as a percentage of source_rows';
COMMENT ON COLUMN dq.source_duplicates.keys_with_duplicates IS 'Keys with more than one record';
COMMENT ON COLUMN dq.source_duplicates.conflicting_keys IS 'Keys whose records disagree (intervals: on the value; service points and meters: on any mapped attribute)';
COMMENT ON COLUMN dq.source_duplicates.conflicting_rows IS 'Records that disagree with the first record of their key (under keep_first: dropped records that disagree with the kept one)';

CREATE VIEW dq.dedup_value_share WITH (security_invoker = true) AS
SELECT r.utility_id,
       r.channel,
       u.interval_dedup_policy AS policy,
       pg_catalog.count(*) AS kept_rows,
       pg_catalog.sum(r.source_rows)::bigint AS source_rows,
       gridflow.exact_sum(r.value) AS kept_value,
       gridflow.exact_sum(r.source_value_sum) AS source_value,
       pg_catalog.round((100 * gridflow.exact_sum(r.value)
                         / nullif(gridflow.exact_sum(r.source_value_sum), 0))::numeric, 1)
           AS kept_share_pct,
       CASE WHEN gridflow.exact_sum(r.source_value_sum) OPERATOR(pg_catalog.<>) 0
             AND gridflow.exact_sum(r.value) / gridflow.exact_sum(r.source_value_sum)
                 OPERATOR(pg_catalog.<) 0.99
            THEN 'LOW: de-duplication keeps ' OPERATOR(pg_catalog.||)
                 pg_catalog.round((100 * gridflow.exact_sum(r.value)
                                   / gridflow.exact_sum(r.source_value_sum))::numeric, 1)
                 OPERATOR(pg_catalog.||) '% of the raw value'
       END AS warning
  FROM standardized.interval_read r
  JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) r.utility_id
 GROUP BY GROUPING SETS ((r.utility_id, u.interval_dedup_policy, r.channel),
                         (r.utility_id, u.interval_dedup_policy))
 ORDER BY r.utility_id, r.channel NULLS FIRST;
COMMENT ON VIEW dq.dedup_value_share IS 'How much of the raw interval value the de-duplication keeps, per utility (channel NULL) and per channel; warning is set below 99%';
COMMENT ON COLUMN dq.dedup_value_share.utility_id IS 'Utility';
COMMENT ON COLUMN dq.dedup_value_share.channel IS 'Channel; NULL on the utility''s total row';
COMMENT ON COLUMN dq.dedup_value_share.policy IS 'The utility''s interval_dedup_policy';
COMMENT ON COLUMN dq.dedup_value_share.kept_rows IS 'Standardized reads';
COMMENT ON COLUMN dq.dedup_value_share.source_rows IS 'Source records behind them';
COMMENT ON COLUMN dq.dedup_value_share.kept_value IS 'Sum of the standardized values';
COMMENT ON COLUMN dq.dedup_value_share.source_value IS 'Sum of the values of all source records';
COMMENT ON COLUMN dq.dedup_value_share.kept_share_pct IS 'kept_value as a percentage of source_value';
COMMENT ON COLUMN dq.dedup_value_share.warning IS 'Set when less than 99% of the raw value is kept';

CREATE VIEW dq.referential_integrity WITH (security_invoker = true) AS
SELECT r.utility_id,
       'interval_read.meter_id -> meter' AS relationship,
       pg_catalog.count(DISTINCT r.meter_id) FILTER (WHERE m.meter_id IS NULL) AS orphan_ids,
       pg_catalog.count(*) FILTER (WHERE m.meter_id IS NULL) AS orphan_rows,
       pg_catalog.count(*) AS checked_rows
  FROM standardized.interval_read r
  LEFT JOIN standardized.meter m
    ON m.utility_id OPERATOR(pg_catalog.=) r.utility_id AND m.meter_id OPERATOR(pg_catalog.=) r.meter_id
 GROUP BY r.utility_id
UNION ALL
SELECT r.utility_id,
       'interval_read.service_point_id -> service_point',
       pg_catalog.count(DISTINCT r.service_point_id) FILTER (WHERE sp.service_point_id IS NULL),
       pg_catalog.count(*) FILTER (WHERE sp.service_point_id IS NULL),
       pg_catalog.count(*)
  FROM standardized.interval_read r
  LEFT JOIN standardized.service_point sp
    ON sp.utility_id OPERATOR(pg_catalog.=) r.utility_id
   AND sp.service_point_id OPERATOR(pg_catalog.=) r.service_point_id
 GROUP BY r.utility_id
UNION ALL
SELECT m.utility_id,
       'meter.service_point_id -> service_point',
       pg_catalog.count(DISTINCT m.service_point_id) FILTER (WHERE m.service_point_id IS NOT NULL AND sp.service_point_id IS NULL),
       pg_catalog.count(*) FILTER (WHERE m.service_point_id IS NOT NULL AND sp.service_point_id IS NULL),
       pg_catalog.count(*)
  FROM standardized.meter m
  LEFT JOIN standardized.service_point sp
    ON sp.utility_id OPERATOR(pg_catalog.=) m.utility_id
   AND sp.service_point_id OPERATOR(pg_catalog.=) m.service_point_id
 GROUP BY m.utility_id;
COMMENT ON VIEW dq.referential_integrity IS 'Orphans per utility: reads whose meter or service point is not in the standardized tables (a read with no service point at all counts as an orphan row), meters whose service point is unknown';
COMMENT ON COLUMN dq.referential_integrity.utility_id IS 'Utility';
COMMENT ON COLUMN dq.referential_integrity.relationship IS 'Which reference is checked';
COMMENT ON COLUMN dq.referential_integrity.orphan_ids IS 'Distinct referenced ids that do not exist';
COMMENT ON COLUMN dq.referential_integrity.orphan_rows IS 'Rows whose reference does not resolve';
COMMENT ON COLUMN dq.referential_integrity.checked_rows IS 'Rows checked';

CREATE VIEW dq.completeness WITH (security_invoker = true) AS
SELECT 'standardized.interval_read' AS table_name, c.column_name, s.utility_id, s.total_rows, c.non_null,
       pg_catalog.round(100 * c.non_null / nullif(s.total_rows, 0)::numeric, 1) AS pct_complete
  FROM (SELECT utility_id, pg_catalog.count(*) AS total_rows,
               pg_catalog.count(service_point_id) AS sp, pg_catalog.count(meter_id) AS m,
               pg_catalog.count(interval_start_ts) AS ts, pg_catalog.count(value) AS v
          FROM standardized.interval_read GROUP BY GROUPING SETS ((utility_id), ())) s
 CROSS JOIN LATERAL (VALUES (1, 'service_point_id', s.sp), (2, 'meter_id', s.m),
                            (3, 'interval_start_ts', s.ts), (4, 'value', s.v)) c(ord, column_name, non_null)
UNION ALL
SELECT 'standardized.meter', c.column_name, s.utility_id, s.total_rows, c.non_null,
       pg_catalog.round(100 * c.non_null / nullif(s.total_rows, 0)::numeric, 1)
  FROM (SELECT utility_id, pg_catalog.count(*) AS total_rows,
               pg_catalog.count(meter_id) AS m, pg_catalog.count(service_point_id) AS sp
          FROM standardized.meter GROUP BY GROUPING SETS ((utility_id), ())) s
 CROSS JOIN LATERAL (VALUES (1, 'meter_id', s.m), (2, 'service_point_id', s.sp)) c(ord, column_name, non_null)
UNION ALL
SELECT 'standardized.service_point', c.column_name, s.utility_id, s.total_rows, c.non_null,
       pg_catalog.round(100 * c.non_null / nullif(s.total_rows, 0)::numeric, 1)
  FROM (SELECT utility_id, pg_catalog.count(*) AS total_rows,
               pg_catalog.count(service_point_id) AS sp, pg_catalog.count(city) AS city,
               pg_catalog.count(zip) AS zip
          FROM standardized.service_point GROUP BY GROUPING SETS ((utility_id), ())) s
 CROSS JOIN LATERAL (VALUES (1, 'service_point_id', s.sp), (2, 'city', s.city), (3, 'zip', s.zip)) c(ord, column_name, non_null);
COMMENT ON VIEW dq.completeness IS 'Share of non-null values in the critical columns of the standardized tables, per utility and for all (utility_id NULL)';
COMMENT ON COLUMN dq.completeness.table_name IS 'Table';
COMMENT ON COLUMN dq.completeness.column_name IS 'Critical column';
COMMENT ON COLUMN dq.completeness.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.completeness.total_rows IS 'Rows';
COMMENT ON COLUMN dq.completeness.non_null IS 'Rows with a value in the column';
COMMENT ON COLUMN dq.completeness.pct_complete IS 'non_null as a percentage of total_rows';

CREATE VIEW dq.value_profile WITH (security_invoker = true) AS
WITH s AS (
    SELECT utility_id,
           pg_catalog.count(*) AS reads,
           pg_catalog.count(*) - pg_catalog.count(value) AS null_values,
           pg_catalog.min(value) AS min_value,
           pg_catalog.max(value) AS max_value,
           gridflow.exact_sum(value) / nullif(pg_catalog.count(value), 0) AS mean_value,
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median_value,
           pg_catalog.percentile_cont(0.25) WITHIN GROUP (ORDER BY value) AS q1,
           pg_catalog.percentile_cont(0.75) WITHIN GROUP (ORDER BY value) AS q3,
           pg_catalog.count(*) FILTER (WHERE value OPERATOR(pg_catalog.=) 0) AS zeros,
           pg_catalog.count(*) FILTER (WHERE value OPERATOR(pg_catalog.<) 0) AS negatives
      FROM standardized.interval_read
     GROUP BY GROUPING SETS ((utility_id), ())
)
SELECT s.utility_id, s.reads, s.null_values, s.min_value, s.max_value, s.mean_value,
       s.median_value, s.q1, s.q3, s.zeros,
       pg_catalog.round(100 * s.zeros / nullif(s.reads, 0)::numeric, 1) AS zero_pct,
       s.negatives,
       o.outliers AS iqr_outliers,
       pg_catalog.round(100 * o.outliers / nullif(s.reads, 0)::numeric, 1) AS outlier_pct
  FROM s
 CROSS JOIN LATERAL (
    SELECT pg_catalog.count(*) AS outliers
      FROM standardized.interval_read r
     WHERE (s.utility_id IS NULL OR r.utility_id OPERATOR(pg_catalog.=) s.utility_id)
       AND (r.value OPERATOR(pg_catalog.<) s.q1 - 1.5 * (s.q3 - s.q1)
            OR r.value OPERATOR(pg_catalog.>) s.q3 + 1.5 * (s.q3 - s.q1))) o
 ORDER BY s.utility_id NULLS LAST;
COMMENT ON VIEW dq.value_profile IS 'Profile of standardized interval values per utility and for all (utility_id NULL): range, mean, quartiles, zeros, negatives and IQR outliers (outside Q1 - 1.5 IQR .. Q3 + 1.5 IQR)';
COMMENT ON COLUMN dq.value_profile.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.value_profile.reads IS 'Standardized reads';
COMMENT ON COLUMN dq.value_profile.null_values IS 'Reads without a value';
COMMENT ON COLUMN dq.value_profile.min_value IS 'Smallest value';
COMMENT ON COLUMN dq.value_profile.max_value IS 'Largest value';
COMMENT ON COLUMN dq.value_profile.mean_value IS 'Mean value';
COMMENT ON COLUMN dq.value_profile.median_value IS 'Median value';
COMMENT ON COLUMN dq.value_profile.q1 IS 'First quartile';
COMMENT ON COLUMN dq.value_profile.q3 IS 'Third quartile';
COMMENT ON COLUMN dq.value_profile.zeros IS 'Reads with value 0';
COMMENT ON COLUMN dq.value_profile.zero_pct IS 'zeros as a percentage of reads';
COMMENT ON COLUMN dq.value_profile.negatives IS 'Reads with a negative value';
COMMENT ON COLUMN dq.value_profile.iqr_outliers IS 'Reads outside the IQR fences';
COMMENT ON COLUMN dq.value_profile.outlier_pct IS 'iqr_outliers as a percentage of reads';

CREATE VIEW dq.rejects WITH (security_barrier = true) AS
SELECT b.utility_id,
       b.file_kind,
       j.stage,
       j.reason,
       pg_catalog.count(*) AS records,
       pg_catalog.min(j.line_no) AS first_line,
       pg_catalog.max(j.line_no) AS last_line,
       j.target_column
  FROM gridflow_store.reject j
  JOIN gridflow.batch b ON b.batch_id OPERATOR(pg_catalog.=) j.batch_id
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR b.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'))
 GROUP BY b.utility_id, b.file_kind, j.stage, j.reason, j.target_column
 ORDER BY b.utility_id, b.file_kind, j.stage, j.reason, j.target_column;
COMMENT ON VIEW dq.rejects IS 'Rejected source records per utility, file kind, stage, reason and column (details in landing.reject, for the pipeline).  It runs with the rights of its owner, so that readers without access to landing see these counts, and shows the utilities of the reader (gridflow.role_utility; all of them for gridflow_pipeline)';
COMMENT ON COLUMN dq.rejects.utility_id IS 'Utility';
COMMENT ON COLUMN dq.rejects.file_kind IS 'File kind';
COMMENT ON COLUMN dq.rejects.stage IS 'landing or standardized';
COMMENT ON COLUMN dq.rejects.reason IS 'Reason code';
COMMENT ON COLUMN dq.rejects.records IS 'Rejected records';
COMMENT ON COLUMN dq.rejects.first_line IS 'First line concerned';
COMMENT ON COLUMN dq.rejects.last_line IS 'Last line concerned';
COMMENT ON COLUMN dq.rejects.target_column IS 'Standardized column whose value was rejected (NULL for landing rejects)';

CREATE VIEW dq.timestamp_range WITH (security_invoker = true) AS
SELECT p.utility_id,
       pg_catalog.min(p.local_date) AS first_local_date,
       pg_catalog.max(p.local_date) AS last_local_date,
       pg_catalog.max(p.local_date) - pg_catalog.min(p.local_date) AS days,
       pg_catalog.min(p.interval_start_ts) AS first_start_ts,
       pg_catalog.max(p.interval_start_ts) AS last_start_ts,
       pg_catalog.count(*) - pg_catalog.count(p.interval_start_ts) AS null_timestamps,
       pg_catalog.count(*) FILTER (WHERE p.interval_start_ts OPERATOR(pg_catalog.<) '2020-01-01 00:00:00+00'::timestamptz) AS before_2020,
       (SELECT coalesce(pg_catalog.sum(j.records), 0)::bigint
          FROM dq.rejects j
         WHERE j.target_column OPERATOR(pg_catalog.=) 'interval_start_ts'
           AND (p.utility_id IS NULL OR j.utility_id OPERATOR(pg_catalog.=) p.utility_id)) AS rejected_timestamps,
       (SELECT coalesce(pg_catalog.sum(b.ambiguous_local_times), 0)::bigint
          FROM gridflow.batch b
         WHERE p.utility_id IS NULL OR b.utility_id OPERATOR(pg_catalog.=) p.utility_id) AS ambiguous_local_times,
       (SELECT coalesce(pg_catalog.sum(b.nonexistent_local_times), 0)::bigint
          FROM gridflow.batch b
         WHERE p.utility_id IS NULL OR b.utility_id OPERATOR(pg_catalog.=) p.utility_id) AS nonexistent_local_times
  FROM product.usage_interval p
 GROUP BY GROUPING SETS ((p.utility_id), ())
 ORDER BY p.utility_id NULLS LAST;
COMMENT ON VIEW dq.timestamp_range IS 'Range of read start times per utility and for all (utility_id NULL), in each utility''s local days; rejected_timestamps counts records rejected for an unreadable or missing start time';
COMMENT ON COLUMN dq.timestamp_range.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.timestamp_range.first_local_date IS 'First local day with a read';
COMMENT ON COLUMN dq.timestamp_range.last_local_date IS 'Last local day with a read';
COMMENT ON COLUMN dq.timestamp_range.days IS 'last_local_date - first_local_date';
COMMENT ON COLUMN dq.timestamp_range.first_start_ts IS 'Earliest interval start';
COMMENT ON COLUMN dq.timestamp_range.last_start_ts IS 'Latest interval start';
COMMENT ON COLUMN dq.timestamp_range.null_timestamps IS 'Reads without a start time (always 0: such records are rejected)';
COMMENT ON COLUMN dq.timestamp_range.before_2020 IS 'Reads starting before 2020';
COMMENT ON COLUMN dq.timestamp_range.rejected_timestamps IS 'Source records rejected because of their start time (dq.rejects)';
COMMENT ON COLUMN dq.timestamp_range.ambiguous_local_times IS 'Source records with a local time without offset in an hour repeated when daylight saving time ends (gridflow.batch; resolved by the utility''s ambiguous_local_time, or by the wide_dst of a wide layout)';
COMMENT ON COLUMN dq.timestamp_range.nonexistent_local_times IS 'Source records with a local time without offset in an hour skipped when daylight saving time starts (gridflow.batch)';

CREATE VIEW dq.experience_summary WITH (security_invoker = true) AS
SELECT e.utility_id,
       pg_catalog.count(*) AS daily_rows,
       pg_catalog.count(DISTINCT (e.utility_id, e.service_point_id, e.local_date)) AS service_point_days,
       pg_catalog.count(DISTINCT (e.utility_id, e.service_point_id)) AS service_points,
       pg_catalog.count(DISTINCT e.channel) AS channels,
       gridflow.exact_sum(e.total_usage) / nullif(pg_catalog.count(e.total_usage), 0) AS avg_daily_usage,
       pg_catalog.max(e.peak_usage_value) AS max_peak_value
  FROM experience.daily_usage e
 GROUP BY GROUPING SETS ((e.utility_id), ())
 ORDER BY e.utility_id NULLS LAST;
COMMENT ON VIEW dq.experience_summary IS 'Experience layer per utility and for all (utility_id NULL)';
COMMENT ON COLUMN dq.experience_summary.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.experience_summary.daily_rows IS 'Rows of experience.daily_usage (service point, day, channel)';
COMMENT ON COLUMN dq.experience_summary.service_point_days IS 'Distinct (service point, local day) with data';
COMMENT ON COLUMN dq.experience_summary.service_points IS 'Distinct service points';
COMMENT ON COLUMN dq.experience_summary.channels IS 'Distinct channels';
COMMENT ON COLUMN dq.experience_summary.avg_daily_usage IS 'Mean of total_usage over the rows';
COMMENT ON COLUMN dq.experience_summary.max_peak_value IS 'Largest peak';

CREATE VIEW dq.conflicting_service_points WITH (security_invoker = true) AS
SELECT utility_id, service_point_id, source_rows, conflicting_rows, batch_id, line_no
  FROM standardized.service_point
 WHERE conflicting_rows OPERATOR(pg_catalog.>) 0
 ORDER BY utility_id, service_point_id;
COMMENT ON VIEW dq.conflicting_service_points IS 'Service points listed more than once with different attributes (such as other addresses); the first listing was kept';
COMMENT ON COLUMN dq.conflicting_service_points.utility_id IS 'Utility';
COMMENT ON COLUMN dq.conflicting_service_points.service_point_id IS 'Service point';
COMMENT ON COLUMN dq.conflicting_service_points.source_rows IS 'Source records with this id';
COMMENT ON COLUMN dq.conflicting_service_points.conflicting_rows IS 'Records that differ from the kept one';
COMMENT ON COLUMN dq.conflicting_service_points.batch_id IS 'Lineage of the kept record: batch';
COMMENT ON COLUMN dq.conflicting_service_points.line_no IS 'Lineage of the kept record: line';

CREATE VIEW dq.multi_premise_meters WITH (security_invoker = true) AS
WITH first_assigned AS (
    -- a meter's first row in an assignment file (its meter file names no service point)
    SELECT DISTINCT ON (a.utility_id, a.meter_id) a.utility_id, a.meter_id, a.service_point_id
      FROM standardized.meter_assignment a
      JOIN gridflow.batch b ON b.batch_id OPERATOR(pg_catalog.=) a.batch_id
     WHERE b.file_kind OPERATOR(pg_catalog.=) 'assignment'
     ORDER BY a.utility_id, a.meter_id, a.batch_id, a.line_no
)
SELECT a.utility_id,
       a.meter_id,
       pg_catalog.count(DISTINCT a.service_point_id) AS service_points,
       pg_catalog.count(*) AS assignment_rows,
       pg_catalog.min(a.installed_at) AS first_installed_at,
       pg_catalog.max(a.installed_at) AS last_installed_at,
       coalesce(m.service_point_id, f.service_point_id) AS first_row_service_point
  FROM standardized.meter_assignment a
  LEFT JOIN standardized.meter m
    ON m.utility_id OPERATOR(pg_catalog.=) a.utility_id AND m.meter_id OPERATOR(pg_catalog.=) a.meter_id
  LEFT JOIN first_assigned f
    ON f.utility_id OPERATOR(pg_catalog.=) a.utility_id AND f.meter_id OPERATOR(pg_catalog.=) a.meter_id
 GROUP BY a.utility_id, a.meter_id, m.service_point_id, f.service_point_id
HAVING pg_catalog.count(DISTINCT a.service_point_id) OPERATOR(pg_catalog.>) 1
 ORDER BY a.utility_id, a.meter_id;
COMMENT ON VIEW dq.multi_premise_meters IS 'Meters that the meter or assignment files put under more than one service point';
COMMENT ON COLUMN dq.multi_premise_meters.utility_id IS 'Utility';
COMMENT ON COLUMN dq.multi_premise_meters.meter_id IS 'Meter';
COMMENT ON COLUMN dq.multi_premise_meters.service_points IS 'Distinct service points';
COMMENT ON COLUMN dq.multi_premise_meters.assignment_rows IS 'Meter-file or assignment-file rows naming a service point';
COMMENT ON COLUMN dq.multi_premise_meters.first_installed_at IS 'Earliest installation';
COMMENT ON COLUMN dq.multi_premise_meters.last_installed_at IS 'Latest installation';
COMMENT ON COLUMN dq.multi_premise_meters.first_row_service_point IS 'Service point of the meter''s first row in the meter file, or in the assignment file when there is one (what the first_row policy uses)';

CREATE VIEW dq.meter_link_ambiguity WITH (security_invoker = true) AS
-- not materialized: a condition on utility_id reaches the reads, and the
-- planner sees their statistics
WITH reads AS NOT MATERIALIZED (
    SELECT r.utility_id, r.meter_id, r.interval_start_ts, r.channel
      FROM standardized.interval_read r
      JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) r.utility_id
     WHERE u.service_point_link OPERATOR(pg_catalog.=) 'meter'
), multi AS (
    SELECT utility_id, meter_id
      FROM standardized.meter_assignment
     GROUP BY utility_id, meter_id
    HAVING pg_catalog.count(DISTINCT service_point_id) OPERATOR(pg_catalog.>) 1
), first_assigned AS (
    -- a meter's first row in an assignment file (its meter file names no service point)
    SELECT DISTINCT ON (a.utility_id, a.meter_id) a.utility_id, a.meter_id, a.service_point_id
      FROM standardized.meter_assignment a
      JOIN gridflow.batch b ON b.batch_id OPERATOR(pg_catalog.=) a.batch_id
     WHERE b.file_kind OPERATOR(pg_catalog.=) 'assignment'
     ORDER BY a.utility_id, a.meter_id, a.batch_id, a.line_no
), effective AS (
    -- the assignments in force at each read: latest installation first
    SELECT x.utility_id, x.meter_id, x.interval_start_ts, x.channel,
           (pg_catalog.array_agg(a.service_point_id
                                 ORDER BY a.installed_at DESC NULLS LAST, a.batch_id, a.line_no))[1]
               AS service_point_id,
           pg_catalog.count(DISTINCT a.service_point_id) AS candidates
      FROM reads x
      JOIN standardized.meter_assignment a
        ON a.utility_id OPERATOR(pg_catalog.=) x.utility_id
       AND a.meter_id OPERATOR(pg_catalog.=) x.meter_id
     WHERE (a.installed_at IS NULL OR a.installed_at OPERATOR(pg_catalog.<=) x.interval_start_ts)
       AND (a.removed_at IS NULL OR a.removed_at OPERATOR(pg_catalog.>) x.interval_start_ts)
     GROUP BY x.utility_id, x.meter_id, x.interval_start_ts, x.channel
), choice AS (
    SELECT x.utility_id,
           coalesce(m.service_point_id, f.service_point_id) AS first_row_sp,
           e.service_point_id AS effective_sp,
           coalesce(e.candidates, 0) AS candidates,
           (mu.meter_id IS NOT NULL) AS multi_premise
      FROM reads x
      LEFT JOIN standardized.meter m
        ON m.utility_id OPERATOR(pg_catalog.=) x.utility_id AND m.meter_id OPERATOR(pg_catalog.=) x.meter_id
      LEFT JOIN first_assigned f
        ON f.utility_id OPERATOR(pg_catalog.=) x.utility_id AND f.meter_id OPERATOR(pg_catalog.=) x.meter_id
      LEFT JOIN multi mu
        ON mu.utility_id OPERATOR(pg_catalog.=) x.utility_id AND mu.meter_id OPERATOR(pg_catalog.=) x.meter_id
      LEFT JOIN effective e
        ON e.utility_id OPERATOR(pg_catalog.=) x.utility_id AND e.meter_id OPERATOR(pg_catalog.=) x.meter_id
       AND e.interval_start_ts OPERATOR(pg_catalog.=) x.interval_start_ts
       AND e.channel OPERATOR(pg_catalog.=) x.channel
)
SELECT c.utility_id,
       u.meter_link_policy AS policy,
       pg_catalog.count(*) AS reads,
       pg_catalog.count(*) FILTER (WHERE c.multi_premise) AS reads_on_multi_premise_meters,
       pg_catalog.count(*) FILTER (WHERE c.candidates OPERATOR(pg_catalog.>) 1) AS reads_with_several_effective_assignments,
       pg_catalog.count(*) FILTER (WHERE c.effective_sp IS NULL) AS reads_without_effective_assignment,
       pg_catalog.count(*) FILTER (WHERE c.first_row_sp IS DISTINCT FROM c.effective_sp) AS reads_where_policies_differ
  FROM choice c
  JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) c.utility_id
 GROUP BY c.utility_id, u.meter_link_policy
 ORDER BY c.utility_id;
COMMENT ON VIEW dq.meter_link_ambiguity IS 'For utilities whose reads reach service points through meters: how ambiguous the link is, and how many reads the first_row and effective_dated policies would assign differently';
COMMENT ON COLUMN dq.meter_link_ambiguity.utility_id IS 'Utility';
COMMENT ON COLUMN dq.meter_link_ambiguity.policy IS 'The utility''s meter_link_policy (what the build used)';
COMMENT ON COLUMN dq.meter_link_ambiguity.reads IS 'Standardized reads';
COMMENT ON COLUMN dq.meter_link_ambiguity.reads_on_multi_premise_meters IS 'Reads whose meter is under several service points in the meter or assignment file';
COMMENT ON COLUMN dq.meter_link_ambiguity.reads_with_several_effective_assignments IS 'Reads for which more than one service point is installed and not removed at the read''s time';
COMMENT ON COLUMN dq.meter_link_ambiguity.reads_without_effective_assignment IS 'Reads for which no assignment is in effect at the read''s time';
COMMENT ON COLUMN dq.meter_link_ambiguity.reads_where_policies_differ IS 'Reads that first_row and effective_dated would give different service points';

CREATE VIEW dq.batches WITH (security_invoker = true) AS
SELECT b.batch_id, b.build_id, r.operation, b.utility_id, b.file_kind, b.file_path, b.file_bytes,
       pg_catalog.encode(b.content_sha256, 'hex') AS sha256,
       b.started_at, b.finished_at,
       b.records_read + b.records_rejected AS records,
       b.records_read, b.records_rejected, b.rows_invalid, b.rows_duplicate, b.rows_kept,
       b.rows_matched, b.rows_replaced,
       pg_catalog.round(100 * b.rows_duplicate
                        / nullif(coalesce(b.unpivoted_reads, b.records_read), 0)::numeric, 1) AS duplicate_pct,
       b.status,
       b.unpivoted_reads,
       b.ambiguous_local_times,
       b.nonexistent_local_times
  FROM gridflow.batch b
  LEFT JOIN gridflow.build r ON r.build_id OPERATOR(pg_catalog.=) b.build_id
 ORDER BY b.batch_id;
COMMENT ON VIEW dq.batches IS 'Figures of every file loaded, in arrival order, from records to kept rows (see dq.batch_quality for the quality of each batch''s reads)';
COMMENT ON COLUMN dq.batches.batch_id IS 'Batch';
COMMENT ON COLUMN dq.batches.build_id IS 'Run that loaded it';
COMMENT ON COLUMN dq.batches.operation IS 'build or ingest';
COMMENT ON COLUMN dq.batches.utility_id IS 'Utility';
COMMENT ON COLUMN dq.batches.file_kind IS 'File kind';
COMMENT ON COLUMN dq.batches.file_path IS 'File read';
COMMENT ON COLUMN dq.batches.file_bytes IS 'Bytes read';
COMMENT ON COLUMN dq.batches.sha256 IS 'SHA-256 of the file, in hex';
COMMENT ON COLUMN dq.batches.started_at IS 'Start of reading';
COMMENT ON COLUMN dq.batches.finished_at IS 'End of standardization';
COMMENT ON COLUMN dq.batches.records IS 'Records in the file (blank lines and the header aside)';
COMMENT ON COLUMN dq.batches.records_read IS 'Records landed';
COMMENT ON COLUMN dq.batches.records_rejected IS 'Records rejected at landing';
COMMENT ON COLUMN dq.batches.rows_invalid IS 'Landed records rejected at standardization';
COMMENT ON COLUMN dq.batches.rows_duplicate IS 'Landed records (wide layouts: reads) whose key was already there (earlier in the file or from an earlier batch)';
COMMENT ON COLUMN dq.batches.rows_kept IS 'New standardized rows (keys the batch brought first)';
COMMENT ON COLUMN dq.batches.rows_matched IS 'Standardized rows of earlier batches the batch''s records matched';
COMMENT ON COLUMN dq.batches.rows_replaced IS 'Of those, rows whose kept values the batch changed (keep_last corrections, sum)';
COMMENT ON COLUMN dq.batches.duplicate_pct IS 'rows_duplicate as a percentage of records_read (wide layouts: of unpivoted_reads)';
COMMENT ON COLUMN dq.batches.status IS 'loading or loaded';
COMMENT ON COLUMN dq.batches.unpivoted_reads IS 'Wide layouts: reads the valid records were unpivoted into; NULL for long layouts';
COMMENT ON COLUMN dq.batches.ambiguous_local_times IS 'Records with a local time in an hour repeated when daylight saving time ends';
COMMENT ON COLUMN dq.batches.nonexistent_local_times IS 'Records with a local time in an hour skipped when daylight saving time starts';

--
-- DQ over time: the quality of the reads of each batch (the reads whose
-- kept record came from it), and of all batches together (batch_id NULL).
--
CREATE VIEW dq.batch_quality WITH (security_invoker = true) AS
WITH reads AS (
    SELECT p.batch_id,
           pg_catalog.count(*) AS reads,
           pg_catalog.count(*) FILTER (WHERE NOT p.service_point_known) AS orphan_reads,
           pg_catalog.count(*) FILTER (WHERE NOT p.meter_known) AS unknown_meter_reads,
           pg_catalog.count(p.value) AS with_value,
           gridflow.exact_sum(p.value) AS value_sum,
           pg_catalog.min(p.value) AS min_value,
           pg_catalog.max(p.value) AS max_value,
           pg_catalog.count(*) FILTER (WHERE p.value OPERATOR(pg_catalog.=) 0) AS zero_values,
           pg_catalog.count(*) FILTER (WHERE p.value OPERATOR(pg_catalog.<) 0) AS negative_values,
           pg_catalog.min(p.local_date) AS first_day,
           pg_catalog.max(p.local_date) AS last_day
      FROM product.usage_interval p
     GROUP BY p.batch_id
), keys AS (
    SELECT r.batch_id,
           pg_catalog.count(*) FILTER (WHERE r.conflicting_rows OPERATOR(pg_catalog.>) 0) AS conflicting_keys,
           pg_catalog.sum(r.conflicting_rows) AS conflicting_records,
           pg_catalog.count(*) FILTER (WHERE r.last_batch_id OPERATOR(pg_catalog.<>) r.batch_id) AS resent_keys
      FROM standardized.interval_read r
     GROUP BY r.batch_id
)
SELECT b.batch_id,
       b.utility_id,
       b.file_kind,
       b.finished_at AS loaded_at,
       pg_catalog.sum(b.records_read + b.records_rejected)::bigint AS records,
       pg_catalog.sum(b.records_rejected + b.rows_invalid)::bigint AS rejected,
       pg_catalog.round(100 * pg_catalog.sum(b.records_rejected + b.rows_invalid)
                        / nullif(pg_catalog.sum(b.records_read + b.records_rejected), 0), 1) AS rejected_pct,
       pg_catalog.sum(b.rows_duplicate)::bigint AS duplicates,
       pg_catalog.sum(b.rows_kept)::bigint AS new_rows,
       pg_catalog.sum(b.rows_matched)::bigint AS matched_rows,
       pg_catalog.sum(b.rows_replaced)::bigint AS replaced_rows,
       coalesce(pg_catalog.sum(r.reads), 0)::bigint AS reads,
       coalesce(pg_catalog.sum(r.orphan_reads), 0)::bigint AS orphan_reads,
       pg_catalog.round(100 * pg_catalog.sum(r.orphan_reads) / nullif(pg_catalog.sum(r.reads), 0), 1) AS orphan_pct,
       coalesce(pg_catalog.sum(r.unknown_meter_reads), 0)::bigint AS unknown_meter_reads,
       coalesce(pg_catalog.sum(k.conflicting_keys), 0)::bigint AS conflicting_keys,
       coalesce(pg_catalog.sum(k.conflicting_records), 0)::bigint AS conflicting_records,
       coalesce(pg_catalog.sum(k.resent_keys), 0)::bigint AS resent_keys,
       pg_catalog.min(r.min_value) AS min_value,
       pg_catalog.max(r.max_value) AS max_value,
       gridflow.exact_sum(r.value_sum) / nullif(pg_catalog.sum(r.with_value), 0) AS mean_value,
       coalesce(pg_catalog.sum(r.zero_values), 0)::bigint AS zero_values,
       coalesce(pg_catalog.sum(r.negative_values), 0)::bigint AS negative_values,
       pg_catalog.min(r.first_day) AS first_day,
       pg_catalog.max(r.last_day) AS last_day
  FROM gridflow.batch b
  LEFT JOIN reads r ON r.batch_id OPERATOR(pg_catalog.=) b.batch_id
  LEFT JOIN keys k ON k.batch_id OPERATOR(pg_catalog.=) b.batch_id
 GROUP BY GROUPING SETS ((b.batch_id, b.utility_id, b.file_kind, b.finished_at), ())
 ORDER BY b.batch_id NULLS LAST;
COMMENT ON VIEW dq.batch_quality IS 'DQ over time: per batch, the quality of the reads whose kept record came from it (rejects, duplicates, orphans, conflicts, values, days), and the same for all batches together (batch_id NULL). Filter on batch_id for one batch';
COMMENT ON COLUMN dq.batch_quality.batch_id IS 'Batch (NULL: all batches)';
COMMENT ON COLUMN dq.batch_quality.utility_id IS 'Utility of the batch';
COMMENT ON COLUMN dq.batch_quality.file_kind IS 'File kind';
COMMENT ON COLUMN dq.batch_quality.loaded_at IS 'When the batch was standardized';
COMMENT ON COLUMN dq.batch_quality.records IS 'Records in the file(s)';
COMMENT ON COLUMN dq.batch_quality.rejected IS 'Records rejected, at landing or at standardization';
COMMENT ON COLUMN dq.batch_quality.rejected_pct IS 'rejected as a percentage of records';
COMMENT ON COLUMN dq.batch_quality.duplicates IS 'Records whose key was already there';
COMMENT ON COLUMN dq.batch_quality.new_rows IS 'New standardized rows';
COMMENT ON COLUMN dq.batch_quality.matched_rows IS 'Rows of earlier batches matched';
COMMENT ON COLUMN dq.batch_quality.replaced_rows IS 'Rows of earlier batches whose kept values changed';
COMMENT ON COLUMN dq.batch_quality.reads IS 'Reads whose kept record came from the batch (under keep_last a correction takes the read over)';
COMMENT ON COLUMN dq.batch_quality.orphan_reads IS 'Of those, reads whose service point is unknown or missing';
COMMENT ON COLUMN dq.batch_quality.orphan_pct IS 'orphan_reads as a percentage of reads';
COMMENT ON COLUMN dq.batch_quality.unknown_meter_reads IS 'Reads whose meter is not in standardized.meter';
COMMENT ON COLUMN dq.batch_quality.conflicting_keys IS 'Reads whose records disagree on the value';
COMMENT ON COLUMN dq.batch_quality.conflicting_records IS 'Records that disagree with the first one of their key';
COMMENT ON COLUMN dq.batch_quality.resent_keys IS 'Reads that a later batch sent again';
COMMENT ON COLUMN dq.batch_quality.min_value IS 'Smallest value';
COMMENT ON COLUMN dq.batch_quality.max_value IS 'Largest value';
COMMENT ON COLUMN dq.batch_quality.mean_value IS 'Mean value';
COMMENT ON COLUMN dq.batch_quality.zero_values IS 'Reads of value 0';
COMMENT ON COLUMN dq.batch_quality.negative_values IS 'Reads of negative value';
COMMENT ON COLUMN dq.batch_quality.first_day IS 'First local day of the reads';
COMMENT ON COLUMN dq.batch_quality.last_day IS 'Last local day of the reads';

CREATE VIEW dq.readiness WITH (security_invoker = true) AS
SELECT utility_id,
       pg_catalog.count(*) AS reads,
       pg_catalog.count(*) FILTER (WHERE service_point_known AND meter_known) AS ready_reads,
       pg_catalog.round(100 * pg_catalog.count(*) FILTER (WHERE service_point_known AND meter_known)
                        / nullif(pg_catalog.count(*), 0)::numeric, 1) AS ready_pct,
       pg_catalog.count(*) FILTER (WHERE NOT service_point_known) AS unknown_service_point_reads,
       pg_catalog.count(*) FILTER (WHERE service_point_id IS NULL) AS reads_without_service_point,
       pg_catalog.count(*) FILTER (WHERE NOT meter_known) AS unknown_meter_reads
  FROM product.usage_interval
 GROUP BY GROUPING SETS ((utility_id), ())
 ORDER BY utility_id NULLS LAST;
COMMENT ON VIEW dq.readiness IS 'Reads ready for analysis (service point and meter both known) per utility and for all (utility_id NULL)';
COMMENT ON COLUMN dq.readiness.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.readiness.reads IS 'Product rows';
COMMENT ON COLUMN dq.readiness.ready_reads IS 'Rows whose service point and meter are known';
COMMENT ON COLUMN dq.readiness.ready_pct IS 'ready_reads as a percentage of reads';
COMMENT ON COLUMN dq.readiness.unknown_service_point_reads IS 'Rows whose service point is not in standardized.service_point (or missing)';
COMMENT ON COLUMN dq.readiness.reads_without_service_point IS 'Rows with no service point at all (left out of experience)';
COMMENT ON COLUMN dq.readiness.unknown_meter_reads IS 'Rows whose meter is not in standardized.meter';
