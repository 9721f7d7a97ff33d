-- Edges the shipped data never reaches, on small files written by hand
-- (data/drops/edges): daily totals whose reads add up differently in
-- different orders, and effective-dated meter links at the exact instants
-- an assignment starts and ends.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
-- doubles print exactly (shortest form that reads back as the same double)
SET extra_float_digits = 1;
\getenv testdir GRIDFLOW_TEST_DIR
\set edges :testdir '/drops/edges'

-- only the utility of this test is built
UPDATE gridflow.utility SET enabled = false WHERE utility_id IN ('UTILITY1', 'UTILITY2');

-- EDGEX: reads reach their service point through the meter, effective-dated:
-- the assignment installed at or before the read and not yet removed (an
-- assignment ends at its removed_at instant), the latest installation first.
INSERT INTO gridflow.utility (utility_id, service_point_link, meter_link_policy)
VALUES ('EDGEX', 'meter', 'effective_dated');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES
    ('EDGEX', 'service_point', 'service_points.csv'),
    ('EDGEX', 'meter', 'meters.csv'),
    ('EDGEX', 'interval', 'reads.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format) VALUES
    ('EDGEX', 'service_point', 'service_point_id', 'sp', NULL),
    ('EDGEX', 'service_point', 'city', 'city', NULL),
    ('EDGEX', 'meter', 'meter_id', 'meter', NULL),
    ('EDGEX', 'meter', 'service_point_id', 'sp', NULL),
    ('EDGEX', 'meter', 'installed_at', 'installed', 'iso8601'),
    ('EDGEX', 'meter', 'removed_at', 'removed', 'iso8601'),
    ('EDGEX', 'interval', 'meter_id', 'meter', NULL),
    ('EDGEX', 'interval', 'channel', 'channel', NULL),
    ('EDGEX', 'interval', 'interval_start_ts', 'start', 'iso8601'),
    ('EDGEX', 'interval', 'duration_seconds', 'seconds', NULL),
    ('EDGEX', 'interval', 'value', 'kwh', NULL);
SELECT count(*) > 0 AS built FROM gridflow_build(:'edges');
SELECT file_kind, records_read, records_rejected, rows_invalid, rows_kept
  FROM gridflow.batch WHERE utility_id = 'EDGEX' ORDER BY batch_id;

-- 1. Meter links at the exact instants (12:00 UTC, written as 07:00-05:00
-- for M3): M2 is installed at S2 at 12:00, so its 11:45 read has no service
-- point and its 12:00 read is S2's; M3 leaves S3 at 12:00, so its 11:45
-- read is S3's and its 12:00 read has none; M4 moves from S4 to S5 at 12:00.
SELECT meter_id, service_point_id, installed_at AT TIME ZONE 'UTC' AS installed_utc,
       removed_at AT TIME ZONE 'UTC' AS removed_utc, line_no
  FROM standardized.meter_assignment WHERE utility_id = 'EDGEX' ORDER BY meter_id, line_no;
SELECT meter_id, interval_start_ts AT TIME ZONE 'UTC' AS start_utc, value, service_point_id
  FROM standardized.interval_read
 WHERE utility_id = 'EDGEX' AND meter_id <> 'M1'
 ORDER BY meter_id, interval_start_ts;
-- product rows carry the same link; a read without one stays out of experience
SELECT meter_id, interval_start_ts AT TIME ZONE 'UTC' AS start_utc, service_point_id, service_point_known
  FROM product.usage_interval
 WHERE utility_id = 'EDGEX' AND meter_id <> 'M1'
 ORDER BY meter_id, interval_start_ts;

-- 2. Daily totals are exact sums, rounded once.  S1's 2025-01-10 has the
-- reads 1e16 (00:00), 1 (00:15) and -1e16 (00:30), listed 1, 1e16, -1e16 in
-- the file: both orders give 0 to a plain sum (1e16 + 1 rounds back to
-- 1e16: doubles near 1e16 are 2 apart), the exact sum is 1.  S1's 2025-01-11
-- has ten reads of 0.1: the double 0.1 is 0.1000000000000000055511151231...,
-- ten of them add up to exactly 1 + 2^-54, and the double nearest to that is
-- 1 (the next one up is 1 + 2^-52), while a plain sum, in any order of ten
-- equal terms, ends at 0.9999999999999999.
SELECT service_point_id, local_date, channel, total_usage, interval_count,
       peak_usage_value, peak_usage_ts, pit_usage_value, pit_usage_ts
  FROM experience.daily_usage WHERE utility_id = 'EDGEX'
 ORDER BY service_point_id, local_date, channel;
SELECT e.local_date, e.total_usage, e.total_usage = 1 AS exactly_one,
       p.plain_sum_in_time_order, p.plain_sum_in_file_order
  FROM experience.daily_usage e
  JOIN (SELECT service_point_id, local_date, channel,
               sum(value ORDER BY interval_start_ts) AS plain_sum_in_time_order,
               sum(value ORDER BY line_no) AS plain_sum_in_file_order
          FROM product.usage_interval WHERE utility_id = 'EDGEX'
         GROUP BY 1, 2, 3) p USING (service_point_id, local_date, channel)
 WHERE e.utility_id = 'EDGEX' AND e.service_point_id = 'S1'
 ORDER BY e.local_date;

-- The build's days (computed in C) equal their SQL definition,
-- gridflow.experience_source, in a serial plan ...
SET max_parallel_workers_per_gather = 0;
SELECT service_point_id, local_date, total_usage
  FROM gridflow.experience_source WHERE utility_id = 'EDGEX' AND service_point_id = 'S1'
 ORDER BY local_date;
SELECT (SELECT count(*) FROM (SELECT * FROM experience.daily_usage WHERE utility_id = 'EDGEX'
                              EXCEPT ALL SELECT * FROM gridflow.experience_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.experience_source
                              EXCEPT ALL SELECT * FROM experience.daily_usage WHERE utility_id = 'EDGEX') b)
       AS serial_differences;
-- ... and in a parallel one: the reads are summed in partial states that
-- are serialized, sent through the Gather and combined
SET parallel_setup_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
ANALYZE gridflow.utility;
EXPLAIN (COSTS OFF)
SELECT * FROM gridflow.experience_source WHERE utility_id = 'EDGEX';
CREATE FUNCTION pg_temp.explain_analyze(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query;
END $$;
SELECT bool_or(l ~ 'Partial HashAggregate') AS partial_aggregate,
       bool_or(l ~ 'Workers Launched: [1-9]') AS workers_ran
  FROM pg_temp.explain_analyze($$CREATE TEMP TABLE parallel_days AS
                                 SELECT * FROM gridflow.experience_source WHERE utility_id = 'EDGEX'$$) l;
RESET parallel_setup_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT service_point_id, local_date, total_usage
  FROM parallel_days WHERE service_point_id = 'S1'
 ORDER BY local_date;
SELECT (SELECT count(*) FROM (SELECT * FROM experience.daily_usage WHERE utility_id = 'EDGEX'
                              EXCEPT ALL SELECT * FROM parallel_days) a)
     + (SELECT count(*) FROM (SELECT * FROM parallel_days
                              EXCEPT ALL SELECT * FROM experience.daily_usage WHERE utility_id = 'EDGEX') b)
       AS parallel_differences;

-- back to the shipped utilities
DELETE FROM gridflow.utility WHERE utility_id = 'EDGEX';
UPDATE gridflow.utility SET enabled = true WHERE utility_id IN ('UTILITY1', 'UTILITY2');
-- a full build keeps the partitions of the utilities it builds, and drops
-- the others'
SELECT count(*) AS tables_built FROM gridflow_build() WHERE table_name IS NOT NULL;
SELECT relname AS partitions_left FROM pg_class WHERE relispartition AND relkind IN ('r', 'p') AND relname !~ '_utility[12](_[0-9]{6})?$' ORDER BY 1;
