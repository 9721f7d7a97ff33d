-- Validation of interval reads (VEE): the quality codes and the validation
-- rules shipped for the sample utilities, the checks on the rules'
-- parameters, the rules in the configuration a dump keeps; then the rules
-- of one read (off_grid, negative, ceiling) on hand-made files
-- (data/drops/vee/a, b), daylight-saving days included, in a build, an
-- ingest and a rebuild; then the rules over series (gap, zero_run,
-- flat_line, spike, high_low) on hand-made files (data/drops/vee/c, d) in
-- the same way.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS gridflow CASCADE;
CREATE EXTENSION gridflow;
RESET client_min_messages;

-- the ESPI QualityOfReading codes gridflow uses
SELECT code, espi_name FROM gridflow.quality_code ORDER BY code;

-- the shipped rules: the same defaults for both utilities, ceiling off
SELECT utility_id, rule, enabled, parameters FROM gridflow.vee_rule ORDER BY utility_id, rule;

-- parameters: exactly the rule's own keys, numbers in range
SELECT r.rule, p.parameters, gridflow.vee_parameters_valid(r.rule, p.parameters::jsonb) AS valid
  FROM (VALUES ('negative', '{}'),
               ('negative', '{"max": 1}'),
               ('negative', '[]'),
               ('negative', 'null'),
               ('zero_run', '{"min_intervals": 8}'),
               ('zero_run', '{"min_intervals": 2}'),
               ('zero_run', '{"min_intervals": 1}'),
               ('zero_run', '{"min_intervals": 8.5}'),
               ('zero_run', '{"min_intervals": "8"}'),
               ('zero_run', '{}'),
               ('flat_line', '{"min_intervals": 16, "floor": 1}'),
               ('spike', '{"ratio": 10, "floor": 1}'),
               ('spike', '{"ratio": 2.5, "floor": 0}'),
               ('spike', '{"ratio": 0.5, "floor": 1}'),
               ('spike', '{"ratio": 10, "floor": -1}'),
               ('spike', '{"ratio": 10}'),
               ('ceiling', '{"max": 999000}'),
               ('ceiling', '{"max": -1}'),
               ('high_low', '{"low": 0.2, "high": 5, "days": 28, "min_days": 7}'),
               ('high_low', '{"low": 5, "high": 5, "days": 28, "min_days": 7}'),
               ('high_low', '{"low": 0.2, "high": 5, "days": 5, "min_days": 7}'),
               ('high_low', '{"low": 0.2, "high": 5, "days": 28.5, "min_days": 7}'),
               ('gap', '{}'),
               ('no_such_rule', '{}')) AS p(rule_name, parameters)
  CROSS JOIN LATERAL (SELECT p.rule_name AS rule) r;

-- the table refuses what the check refuses, and unknown rules
INSERT INTO gridflow.utility (utility_id, time_zone) VALUES ('VEETEST', 'Europe/Paris');
INSERT INTO gridflow.vee_rule (utility_id, rule, parameters) VALUES ('VEETEST', 'zero_run', '{"min_intervals": 1}');
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('VEETEST', 'spike');
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('VEETEST', 'stuck');
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('NOSUCH', 'negative');
-- a rule without parameters takes {} and is enabled
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('VEETEST', 'negative');
INSERT INTO gridflow.vee_rule (utility_id, rule, enabled, parameters)
VALUES ('VEETEST', 'zero_run', false, '{"min_intervals": 4}');
SELECT utility_id, rule, enabled, parameters FROM gridflow.vee_rule WHERE utility_id = 'VEETEST' ORDER BY rule;
-- one rule per utility and name
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('VEETEST', 'negative');
-- the rules follow their utility
UPDATE gridflow.utility SET utility_id = 'VEETEST2' WHERE utility_id = 'VEETEST';
SELECT utility_id, rule FROM gridflow.vee_rule WHERE utility_id LIKE 'VEETEST%' ORDER BY rule;

-- the configuration a dump keeps holds the rules, and a document restored
-- (what pg_restore inserts) puts them back
SELECT pg_catalog.jsonb_array_length(document -> 'vee_rule') AS rules_in_dump FROM gridflow.configuration_dump;
CREATE TEMP TABLE saved AS SELECT document FROM gridflow.configuration_dump;
DELETE FROM gridflow.utility WHERE utility_id = 'VEETEST2';
UPDATE gridflow.vee_rule SET enabled = false WHERE rule = 'spike';
SELECT count(*) AS rules, count(*) FILTER (WHERE NOT enabled) AS disabled FROM gridflow.vee_rule;
INSERT INTO gridflow.configuration_dump (document) SELECT document FROM saved;
SELECT count(*) AS rules, count(*) FILTER (WHERE NOT enabled) AS disabled,
       count(*) FILTER (WHERE utility_id = 'VEETEST2') AS veetest2_rules
  FROM gridflow.vee_rule;
SELECT utility_id, rule, enabled, parameters FROM gridflow.vee_rule WHERE rule IN ('spike', 'zero_run') ORDER BY 1, 2;
SELECT (SELECT document FROM gridflow.configuration_dump) = (SELECT document FROM saved) AS dump_as_saved;

-- who may read and edit them: the pipeline edits the rules; internal
-- readers read the codes and the rules (gridflow.product_source applies
-- them); external readers neither
SELECT r.role, t.tbl, p.priv, has_table_privilege(r.role, t.tbl, p.priv) AS granted
  FROM (VALUES ('gridflow_pipeline'), ('gridflow_internal'), ('gridflow_external')) r(role)
 CROSS JOIN (VALUES ('gridflow.vee_rule'), ('gridflow.quality_code')) t(tbl)
 CROSS JOIN (VALUES ('SELECT'), ('UPDATE')) p(priv)
 ORDER BY 1, 2, 3;

--
-- The rules of one read, on hand-made reads of utility VEEX (America/New_York):
-- a, built, then b, ingested (corrections replace: keep_last).
--
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
SET extra_float_digits = 1;
\getenv testdir GRIDFLOW_TEST_DIR
\set vee :testdir '/drops/vee'
UPDATE gridflow.utility SET enabled = false WHERE utility_id IN ('UTILITY1', 'UTILITY2');
DELETE FROM gridflow.utility WHERE utility_id = 'VEETEST2';
INSERT INTO gridflow.utility (utility_id, service_point_link, interval_dedup_policy)
VALUES ('VEEX', 'read', 'keep_last');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('VEEX', 'interval', 'reads.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format) VALUES
    ('VEEX', 'interval', 'service_point_id', 'sp', NULL),
    ('VEEX', 'interval', 'meter_id', 'meter', NULL),
    ('VEEX', 'interval', 'channel', 'channel', NULL),
    ('VEEX', 'interval', 'interval_start_ts', 'start', 'iso8601'),
    ('VEEX', 'interval', 'duration_seconds', 'seconds', NULL),
    ('VEEX', 'interval', 'value', 'kwh', NULL);
-- the defaults, with ceiling on at 100, the rules over series off (they
-- are tested below, on files made for them)
INSERT INTO gridflow.vee_rule (utility_id, rule, enabled, parameters)
SELECT 'VEEX', rule, rule IN ('off_grid', 'negative', 'ceiling'),
       CASE WHEN rule = 'ceiling' THEN '{"max": 100}' ELSE parameters END
  FROM gridflow.vee_rule WHERE utility_id = 'UTILITY1';
SELECT rule, enabled, parameters FROM gridflow.vee_rule WHERE utility_id = 'VEEX' AND rule IN ('off_grid', 'negative', 'ceiling') ORDER BY rule;
SELECT count(*) > 0 AS built FROM gridflow_build(:'vee' || '/a');

-- off_grid: a start that is not a whole number of durations after the
-- local midnight (the read's own duration, when it divides a day: not the
-- 7-minute read; no duration, no grid), on the spring-forward day (03:07
-- EDT) and in the repeated hour of the fall-back day (01:50 EST) as on any
-- other; negative: below zero (-0 is not); ceiling: at or above max (100,
-- not 99.99)
SELECT service_point_id AS sp, meter_id AS meter, channel, local_start, interval_start_ts AT TIME ZONE 'UTC' AS start_utc,
       duration_seconds AS seconds, value, raw_value, quality_code, vee_flags
  FROM product.usage_interval WHERE utility_id = 'VEEX'
 ORDER BY service_point_id, meter_id, channel, interval_start_ts;
SELECT q.espi_name, count(*) AS reads
  FROM product.usage_interval p JOIN gridflow.quality_code q ON q.code = p.quality_code
 WHERE p.utility_id = 'VEEX' GROUP BY q.espi_name ORDER BY 1;
-- the build wrote what gridflow.product_source defines
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval) b)
       AS product_differences;

-- an ingest: the negative read corrected (valid now), a new negative read,
-- a new service point's read off the grid
SELECT utility, kind, outcome, rows_kept, rows_replaced FROM gridflow_ingest(:'vee' || '/b');
SELECT service_point_id AS sp, local_start, value, raw_value, quality_code, vee_flags
  FROM product.usage_interval
 WHERE utility_id = 'VEEX' AND (local_date = '2025-03-09' OR service_point_id = 'S3')
 ORDER BY service_point_id, interval_start_ts;
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval) b)
       AS product_differences;
-- ... and a rebuild of the same files gives the same products
CREATE TEMP TABLE after_ingest AS
SELECT md5(string_agg(p::text, '|' ORDER BY p.service_point_id, p.meter_id, p.channel, p.interval_start_ts)) AS digest,
       count(*) AS reads
  FROM product.usage_interval p WHERE p.utility_id = 'VEEX';
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT a.reads, a.digest = md5(string_agg(p::text, '|' ORDER BY p.service_point_id, p.meter_id, p.channel, p.interval_start_ts))
       AS rebuild_equals_ingest
  FROM product.usage_interval p, after_ingest a WHERE p.utility_id = 'VEEX' GROUP BY a.reads, a.digest;

-- a rule disabled applies from the next build: negative off, ceiling lower
UPDATE gridflow.vee_rule SET enabled = false WHERE utility_id = 'VEEX' AND rule = 'negative';
UPDATE gridflow.vee_rule SET parameters = '{"max": 99.99}' WHERE utility_id = 'VEEX' AND rule = 'ceiling';
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT quality_code, vee_flags, count(*) AS reads, min(value) AS min_value, max(value) AS max_value
  FROM product.usage_interval WHERE utility_id = 'VEEX' GROUP BY 1, 2 ORDER BY 1, 2;
-- a utility without rules: every read valid
DELETE FROM gridflow.vee_rule WHERE utility_id = 'VEEX';
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT quality_code, vee_flags, count(*) AS reads, count(*) FILTER (WHERE raw_value IS NOT DISTINCT FROM value) AS raw_is_value
  FROM product.usage_interval WHERE utility_id = 'VEEX' GROUP BY 1, 2 ORDER BY 1, 2;
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval) b)
       AS product_differences;

--
-- The rules over series, on hand-made reads of utility VEES (America/New_York),
-- with the shipped defaults: c, built, then d (late reads), ingested.
-- Service point P1, meter M1: channel H, hourly, 2025-02-20 to 2025-03-12
-- (spring forward on 03-09) and 2025-10-25 to 11-03 (fall back on 11-02);
-- channel Q, 15 minutes, on 03-09 (92 intervals), 03-10 (96, one missing)
-- and 11-02 (100); meter M9 without a service point, hourly on 03-05.
--
UPDATE gridflow.utility SET enabled = false WHERE utility_id = 'VEEX';
INSERT INTO gridflow.utility (utility_id, service_point_link, interval_dedup_policy)
VALUES ('VEES', 'read', 'keep_last');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('VEES', 'interval', 'series.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format)
SELECT 'VEES', file_kind, target_column, source_column, format FROM gridflow.column_map WHERE utility_id = 'VEEX';
INSERT INTO gridflow.vee_rule (utility_id, rule, enabled, parameters)
SELECT 'VEES', rule, enabled, parameters FROM gridflow.vee_rule WHERE utility_id = 'UTILITY1';
SELECT count(*) > 0 AS built FROM gridflow_build(:'vee' || '/c');
SELECT count(*) AS reads, count(*) FILTER (WHERE service_point_id IS NULL) AS without_service_point
  FROM product.usage_interval WHERE utility_id = 'VEES';

-- every flagged read.  gap: the read after a missing interval (H 03-03
-- 12:00 after 10:00 and 11:00; H 10-25 00:00 and Q 11-02 00:00 after
-- months without reads; Q 03-09 04:30, the spring-forward day's 04:15
-- missing; H 11-02 at 02:00, the fall-back day's second 01:00 (EST)
-- missing; Q 03-10 10:15), never the hour that the spring-forward day
-- skips.  zero_run: ten zeros from H 02-25 20:00 to 02-26 05:00 (over
-- midnight), eight on Q 03-09 from 01:00 to 03:45 EDT (over the skipped
-- hour), eight on Q 11-02 from 09:00, eight of M9 (no service point); not
-- the seven of H 02-27.  flat_line: sixteen 2.5 on H 03-01, sixteen 0.7
-- on Q 03-09 from 08:30, sixteen 3.3 on Q 11-02 from 00:30 EDT to 03:15
-- EST (over the repeated hour); not the fifteen of H 03-02.  spike: 60 on
-- H 03-04 (above 10 times the day's third-largest, 1.4), 100 on H 03-09
-- (third-largest 5.6), 50 on Q 11-02 (third-largest 3.3); none on 03-10,
-- whose reads are all large.  high_low (every read of the day): H 03-09,
-- the spring-forward day, and 03-10 (totals above 5 times the median of
-- the 28 days before), H 03-11 and 11-02, the fall-back day (below 0.2
-- times it); not the first 7 days of each part (fewer than 7 days with a
-- total in the 28 days before).
SELECT coalesce(service_point_id, '-') AS sp, meter_id AS meter, channel, local_start, value,
       quality_code, vee_flags
  FROM product.usage_interval WHERE utility_id = 'VEES' AND vee_flags IS NOT NULL
 ORDER BY service_point_id, meter_id, channel, interval_start_ts;
-- reads per day and their flags: the days of the daylight-saving changes
-- have 23 and 25 hourly intervals (one of the 25 missing), 92 and 100 of
-- 15 minutes
SELECT channel, local_date, count(*) AS reads, count(*) FILTER (WHERE quality_code = 10) AS questionable,
       (SELECT string_agg(DISTINCT f, ',' ORDER BY f)
          FROM unnest(string_to_array(string_agg(array_to_string(vee_flags, ','), ','), ',')) f) AS rules
  FROM product.usage_interval
 WHERE utility_id = 'VEES' AND service_point_id = 'P1'
   AND local_date IN ('2025-03-08', '2025-03-09', '2025-03-10', '2025-03-11', '2025-11-01', '2025-11-02')
 GROUP BY 1, 2 ORDER BY 1, 2;
-- the build wrote what gridflow.product_source defines, and the days what
-- gridflow.experience_source defines over them
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval) b)
       AS product_differences,
       (SELECT count(*) FROM (SELECT * FROM experience.daily_usage EXCEPT ALL SELECT * FROM gridflow.experience_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.experience_source EXCEPT ALL SELECT * FROM experience.daily_usage) b)
       AS experience_differences;

-- the days say how much of them is questionable, estimated (nothing yet)
-- and covered by valid reads: their seconds over the day's, 23 hours on
-- 03-09 and 25 on 11-02 (Q 03-09: 66 valid of 92 intervals; Q 11-02: 74 of
-- 100; H 03-09 and 11-02: none, every read failed high_low); reads
-- without a service point have no days
SELECT channel, local_date, interval_count, questionable_count, estimated_count, estimated_usage,
       round(coverage::numeric, 4) AS coverage
  FROM experience.daily_usage
 WHERE utility_id = 'VEES'
   AND local_date IN ('2025-02-25', '2025-03-01', '2025-03-09', '2025-03-10', '2025-11-01', '2025-11-02')
 ORDER BY channel, local_date;
-- the utility's rollups add them up
SELECT (SELECT array_agg(ARRAY[d.questionable_count, d.estimated_count] ORDER BY d.local_date, d.channel)
          FROM experience.utility_daily_usage d WHERE d.utility_id = 'VEES')
     = (SELECT array_agg(ARRAY[d.q, d.e] ORDER BY d.local_date, d.channel)
          FROM (SELECT local_date, channel, sum(questionable_count) AS q, sum(estimated_count) AS e
                  FROM experience.daily_usage WHERE utility_id = 'VEES' GROUP BY 1, 2) d) AS daily_rollup_adds_up,
       (SELECT sum(questionable_count) FROM experience.utility_monthly_usage WHERE utility_id = 'VEES') AS questionable_in_months,
       (SELECT count(*) FROM product.usage_interval WHERE utility_id = 'VEES' AND quality_code = 10
           AND service_point_id IS NOT NULL) AS questionable_reads_with_a_service_point;

-- the DQ figures the build stored: reads by quality; per rule, the reads
-- and service-point days flagged (M9's run is a day without a service
-- point); the series' days by their reads against the day's intervals: H
-- has P1's 21 + 10 days, one of 23 hours (23 reads) and one of 25 (24
-- reads: short), 03-03 short, and M9's day (short), Q its three days of
-- 92 (91 reads: short), 96 (95 reads: short) and 100; the gaps, with the
-- intervals and seconds missing (H: 2 hours on 03-03, 1 on 11-02 and the
-- months between the two parts; Q: 15 minutes on 03-09 and on 03-10, and
-- the months between 03-10 and 11-02)
SELECT channel, reads, valid_reads, questionable_reads, estimated_reads, questionable_pct
  FROM dq.vee_quality WHERE utility_id = 'VEES';
SELECT channel, rule, reads_flagged, days_flagged FROM dq.vee_rules WHERE utility_id = 'VEES';
SELECT channel, duration_seconds, day_hours, expected_intervals, days, days_complete, days_short, days_over, complete_pct
  FROM dq.vee_interval_counts WHERE utility_id = 'VEES';
SELECT channel, gaps, missing_intervals, missing_seconds, longest_gap_seconds, unestimated_gaps
  FROM dq.vee_gaps WHERE utility_id = 'VEES';

-- late reads, ingested: the gap of H 03-03 filled (12:00 valid again); a
-- zero of the ten-zero run corrected to 0.5 (on 02-26: the run's reads of
-- 02-25 are valid again); H 02-27 00:00 corrected to 0 (the seven zeros
-- become eight); Q 03-10 10:00 (10:15 valid again); M9's run broken
SELECT utility, kind, outcome, rows_kept, rows_replaced FROM gridflow_ingest(:'vee' || '/d');
SELECT coalesce(service_point_id, '-') AS sp, meter_id AS meter, channel, local_date, count(*) AS reads,
       count(*) FILTER (WHERE quality_code = 10) AS questionable,
       (SELECT string_agg(DISTINCT f, ',' ORDER BY f)
          FROM unnest(string_to_array(string_agg(array_to_string(vee_flags, ','), ','), ',')) f) AS rules
  FROM product.usage_interval
 WHERE utility_id = 'VEES'
   AND local_date IN ('2025-02-25', '2025-02-26', '2025-02-27', '2025-03-03', '2025-03-05', '2025-03-10')
 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval) b)
       AS product_differences,
       (SELECT count(*) FROM (SELECT * FROM experience.daily_usage EXCEPT ALL SELECT * FROM gridflow.experience_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.experience_source EXCEPT ALL SELECT * FROM experience.daily_usage) b)
       AS experience_differences;
-- the ingest stored the figures again: the gaps of H 03-03 and Q 03-10
-- are gone, zero_run of H moved from 02-25 and 02-26 to 02-27 and left
-- M9
SELECT channel, rule, reads_flagged, days_flagged FROM dq.vee_rules
 WHERE utility_id = 'VEES' AND rule IN ('gap', 'zero_run');
SELECT channel, gaps, missing_intervals FROM dq.vee_gaps WHERE utility_id = 'VEES';
-- ... and a rebuild of the same files gives the same layers and DQ figures
CREATE TEMP TABLE series_after_ingest AS
SELECT (SELECT md5(string_agg(p::text, '|' ORDER BY p.service_point_id, p.meter_id, p.channel, p.interval_start_ts))
          FROM product.usage_interval p WHERE p.utility_id = 'VEES') AS products,
       (SELECT md5(string_agg(d::text, '|' ORDER BY d.service_point_id, d.local_date, d.channel))
          FROM experience.daily_usage d WHERE d.utility_id = 'VEES') AS days,
       (SELECT md5(string_agg(m::text, '|' ORDER BY m.service_point_id, m.month_start, m.channel))
          FROM experience.monthly_usage m WHERE m.utility_id = 'VEES') AS months,
       (SELECT md5(string_agg(x::text, '|' ORDER BY x::text))
          FROM (SELECT q::text AS x FROM dq.vee_quality q UNION ALL SELECT r::text FROM dq.vee_rules r
                UNION ALL SELECT c::text FROM dq.vee_interval_counts c UNION ALL SELECT g::text FROM dq.vee_gaps g) v)
           AS vee_dq;
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT a.products = (SELECT md5(string_agg(p::text, '|' ORDER BY p.service_point_id, p.meter_id, p.channel, p.interval_start_ts))
                       FROM product.usage_interval p WHERE p.utility_id = 'VEES') AS products_equal,
       a.days = (SELECT md5(string_agg(d::text, '|' ORDER BY d.service_point_id, d.local_date, d.channel))
                   FROM experience.daily_usage d WHERE d.utility_id = 'VEES') AS days_equal,
       a.months = (SELECT md5(string_agg(m::text, '|' ORDER BY m.service_point_id, m.month_start, m.channel))
                     FROM experience.monthly_usage m WHERE m.utility_id = 'VEES') AS months_equal,
       a.vee_dq = (SELECT md5(string_agg(x::text, '|' ORDER BY x::text))
                     FROM (SELECT q::text AS x FROM dq.vee_quality q UNION ALL SELECT r::text FROM dq.vee_rules r
                           UNION ALL SELECT c::text FROM dq.vee_interval_counts c
                           UNION ALL SELECT g::text FROM dq.vee_gaps g) v) AS vee_dq_equal
  FROM series_after_ingest a;

-- An ingest computes again the products and days of each service point it
-- changes from its earliest changed day on, with the reads of the days
-- before it that the rules need (high_low's 28 days and two more) as
-- context; a read's flags are right only if its series began in that
-- context.  e: M2, a second meter of P1, forty days of zeros (one run),
-- and M3, fifteen reads of 2 five days apart from 03-01; f: two more
-- reads of M2 on 05-11, a zero that continues the run (which began before
-- the context, long enough there to fail zero_run) and 1.5 after a
-- missing hour (a gap), and a sixteenth 2 of M3 on 05-15 (its run, six
-- reads in the context, now fails flat_line: P1 is done again from its
-- first read, the earlier reads of the run flagged too); g: a
-- read of Q on 10-20, whose previous read (03-10) is before the context
-- (a gap).  Each time, a rebuild gives the same products and days.
CREATE TEMP TABLE late_states (step text, products text, days text, months text);
CREATE FUNCTION pg_temp.vees_state(step text) RETURNS void LANGUAGE sql AS $$
INSERT INTO late_states
SELECT step,
       (SELECT md5(string_agg(p::text, '|' ORDER BY p.service_point_id, p.meter_id, p.channel, p.interval_start_ts))
          FROM product.usage_interval p WHERE p.utility_id = 'VEES'),
       (SELECT md5(string_agg(d::text, '|' ORDER BY d.service_point_id, d.local_date, d.channel))
          FROM experience.daily_usage d WHERE d.utility_id = 'VEES'),
       (SELECT md5(string_agg(m::text, '|' ORDER BY m.service_point_id, m.month_start, m.channel))
          FROM experience.monthly_usage m WHERE m.utility_id = 'VEES')
$$;
SELECT utility, outcome, rows_kept, days_refreshed FROM gridflow_ingest(:'vee' || '/e');
SELECT pg_temp.vees_state('e');
SELECT utility, outcome, rows_kept, days_refreshed FROM gridflow_ingest(:'vee' || '/f');
SELECT pg_temp.vees_state('f');
SELECT utility, outcome, rows_kept, days_refreshed FROM gridflow_ingest(:'vee' || '/g');
SELECT pg_temp.vees_state('g');
-- the run of M2 is 961 zeros long, every one flagged, the sixteen reads of
-- M3 all fail flat_line; the 1.5 of 05-11 and Q's read of 10-20 follow
-- missing intervals
SELECT meter_id AS meter, channel, vee_flags, count(*) AS reads, min(local_start), max(local_start)
  FROM product.usage_interval
 WHERE utility_id = 'VEES' AND (meter_id IN ('M2', 'M3') OR local_date = '2025-10-20')
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT pg_temp.vees_state('rebuild');
SELECT l.step, l.products = r.products AS products_equal, l.days = r.days AS days_equal,
       l.months = r.months AS months_equal
  FROM late_states l, late_states r WHERE l.step = 'g' AND r.step = 'rebuild';
-- the product rows of M2 are those gridflow.product_source defines
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval) b)
       AS product_differences;

-- parameters apply from the next build: zero_run at 4 (the runs of 4, 5
-- and 8 zeros left of H 02-25 to 02-27, 8 and 8 on Q, M9's 4 but not its
-- 3, M2's 961) and flat_line at 15 (the fifteen 2.5 of H 03-02 too, M3's
-- sixteen 2), spike and high_low off; gap: the four of the hand-made
-- reads, M3's fifteen, M2's and Q's of 10-20
UPDATE gridflow.vee_rule SET parameters = '{"min_intervals": 4}' WHERE utility_id = 'VEES' AND rule = 'zero_run';
UPDATE gridflow.vee_rule SET parameters = '{"min_intervals": 15}' WHERE utility_id = 'VEES' AND rule = 'flat_line';
UPDATE gridflow.vee_rule SET enabled = false WHERE utility_id = 'VEES' AND rule IN ('spike', 'high_low');
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT f AS rule, count(*) AS reads
  FROM product.usage_interval CROSS JOIN LATERAL unnest(vee_flags) f
 WHERE utility_id = 'VEES' GROUP BY 1 ORDER BY 1;
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval) b)
       AS product_differences;

--
-- Estimation (gridflow.vee_estimation), on hand-made hourly reads of
-- utility VEEE (America/New_York), file estimation/series.csv: value =
-- local hour + day of the month / 100, with gaps.  P1/M1 from 2025-02-01
-- to 03-12 (spring forward on Sunday 03-09) and 10-01 to 11-05 (fall back
-- on Sunday 11-02); P1/M2 and P2/M3 in the fall.  Rules: gap (to count the
-- gaps) and negative.
--
UPDATE gridflow.utility SET enabled = false WHERE utility_id = 'VEES';
INSERT INTO gridflow.utility (utility_id, service_point_link, interval_dedup_policy)
VALUES ('VEEE', 'read', 'keep_last');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('VEEE', 'interval', 'series.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format)
SELECT 'VEEE', file_kind, target_column, source_column, format FROM gridflow.column_map WHERE utility_id = 'VEEX';
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('VEEE', 'gap'), ('VEEE', 'negative');
-- off by default: no row for the shipped utilities; a row takes the defaults
SELECT count(*) AS shipped_rows FROM gridflow.vee_estimation;
INSERT INTO gridflow.vee_estimation (utility_id) VALUES ('VEEE');
SELECT * FROM gridflow.vee_estimation;
-- the checks: limits from 0 to 31 days, 1 <= reference_days <= reference_weeks <= 53
INSERT INTO gridflow.vee_estimation (utility_id, max_interpolation_seconds) VALUES ('VEEX', -1);
INSERT INTO gridflow.vee_estimation (utility_id, max_reference_seconds) VALUES ('VEEX', 2678401);
INSERT INTO gridflow.vee_estimation (utility_id, reference_days, reference_weeks) VALUES ('VEEX', 5, 4);
INSERT INTO gridflow.vee_estimation (utility_id, reference_days) VALUES ('VEEX', 0);
INSERT INTO gridflow.vee_estimation (utility_id, reference_weeks, reference_days) VALUES ('VEEX', 54, 3);
-- in the configuration a dump keeps; who may edit and read it
SELECT pg_catalog.jsonb_array_length(document -> 'vee_estimation') AS estimation_rows_in_dump FROM gridflow.configuration_dump;
SELECT r.role, p.priv, has_table_privilege(r.role, 'gridflow.vee_estimation', p.priv) AS granted
  FROM (VALUES ('gridflow_pipeline'), ('gridflow_internal'), ('gridflow_external')) r(role)
 CROSS JOIN (VALUES ('SELECT'), ('UPDATE')) p(priv)
 ORDER BY 1, 2;
SELECT count(*) > 0 AS built FROM gridflow_build(:'vee' || '/estimation');

-- every estimated row, by gap:
--  02-20 10:00-11:00, 2 hours (the interpolation limit): linear between
--    9.20 and 12.20;
--  02-21 10:00-12:00, 3 hours (one more than the limit): from the Fridays
--    02-14 and 02-07 (no third one in the four weeks before: the reads
--    start on 02-01), hour + 0.105;
--  02-27 13:00-16:00: from 02-13 and 02-06, not 02-20 (estimated);
--  03-03 00:00-04:00: from 02-17, 02-10 and 02-03, not 02-24 (a
--    questionable read), hour + 0.10;
--  03-05, the whole day (24 hours, the reference limit): from 02-26,
--    02-19 and 02-12, hour + 0.19;
--  03-09, the spring-forward day: 01:00 EST and 03:00 EDT (two intervals
--    of absolute time, the skipped hour is none) linear between 0.09 and
--    4.09; 10:00-13:00 EDT from 03-02, 02-23 and 02-16 (hour + 0.1367);
--  11-02, the fall-back day: M1's two 01:00 (EDT, then EST) linear between
--    0.02 and 2.02; M2's 00:00 EDT to 02:00 EST from 10-26, 10-19 and 10-12
--    (both 01:00 take the same wall-clock reference, 1.19);
--  11-09 of M3 00:00-02:00: from 11-02 (a fall-back day: its first 01:00,
--    1.02, not the second, 1.52), 10-26 and 10-19.
-- Columns: those of the read before the gap, raw_value, vee_flags and the
-- lineage NULL.
SELECT service_point_id AS sp, meter_id AS meter, local_date, local_start, interval_end_ts AT TIME ZONE 'UTC' AS end_utc,
       round(value::numeric, 4) AS value, quality_code AS q, raw_value, vee_flags,
       batch_id, line_no, quality, duration_seconds, time_resolution, unit, meter_known, service_point_known
  FROM product.usage_interval WHERE utility_id = 'VEEE' AND quality_code IN (8, 9)
 ORDER BY service_point_id, meter_id, interval_start_ts;
-- not estimated: 02-24 10:00 (the read after it, 11:00, is negative:
-- questionable), 03-07 00:00 to 03-08 00:00 (25 hours, one more than the
-- reference limit), the months between the parts, nothing before a
-- series' first read or after its last
SELECT local_date, count(*) FILTER (WHERE quality_code IN (8, 9)) AS estimated, count(*) AS rows_of_day
  FROM product.usage_interval
 WHERE utility_id = 'VEEE' AND meter_id = 'M1' AND local_date IN ('2025-02-24', '2025-03-07', '2025-03-08')
 GROUP BY 1 ORDER BY 1;
SELECT service_point_id AS sp, meter_id AS meter,
       (SELECT quality_code FROM product.usage_interval f WHERE f.utility_id = 'VEEE' AND f.meter_id = p.meter_id
         ORDER BY f.interval_start_ts LIMIT 1) AS first_row_quality,
       (SELECT quality_code FROM product.usage_interval f WHERE f.utility_id = 'VEEE' AND f.meter_id = p.meter_id
         ORDER BY f.interval_start_ts DESC LIMIT 1) AS last_row_quality,
       count(*) FILTER (WHERE local_date BETWEEN '2025-03-13' AND '2025-09-30') AS rows_between_parts
  FROM product.usage_interval p WHERE utility_id = 'VEEE' GROUP BY 1, 2 ORDER BY 1, 2;
-- the actual reads are what gridflow.product_source defines (it has no
-- estimated rows: only the writer estimates), and the days what
-- gridflow.experience_source defines over the products, estimates included
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval WHERE quality_code NOT IN (8, 9)
                              EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source
                              EXCEPT ALL SELECT * FROM product.usage_interval WHERE quality_code NOT IN (8, 9)) b)
       AS actual_read_differences,
       (SELECT count(*) FROM gridflow.product_source WHERE quality_code IN (8, 9)) AS estimates_in_product_source,
       (SELECT count(*) FROM (SELECT * FROM experience.daily_usage EXCEPT ALL SELECT * FROM gridflow.experience_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.experience_source EXCEPT ALL SELECT * FROM experience.daily_usage) b)
       AS experience_differences;
-- the days: the estimated rows and their usage, coverage by the valid
-- actual reads only; the read after a gap stays flagged gap (questionable),
-- estimated or not (02-20: 21 valid of 24 hours; 02-24: 22, 10:00 missing
-- and 11:00 questionable; 03-05: none; 03-09: 15 of 23; 11-02 of P1, two
-- meters: 22 + 20 valid hours over the day's 25; 11-09 of P2: 20 of 24)
SELECT service_point_id AS sp, local_date, interval_count, estimated_count, questionable_count,
       round(estimated_usage::numeric, 4) AS estimated_usage, round(total_usage::numeric, 4) AS total_usage,
       round(coverage::numeric, 4) AS coverage
  FROM experience.daily_usage
 WHERE utility_id = 'VEEE'
   AND local_date IN ('2025-02-20', '2025-02-24', '2025-03-05', '2025-03-09', '2025-11-02', '2025-11-09')
 ORDER BY 1, 2;
-- the DQ figures: rows by quality, per method the gaps and intervals
-- estimated, and the gaps (flagged by the gap rule) with those left
-- unestimated: 02-24 (1 hour), 03-07 (25 hours) and the months between
-- M1's parts
SELECT channel, reads, valid_reads, questionable_reads, estimated_reads FROM dq.vee_quality WHERE utility_id = 'VEEE';
SELECT channel, method, quality_code, gaps_estimated, intervals_estimated FROM dq.vee_estimates WHERE utility_id = 'VEEE';
SELECT channel, gaps, missing_intervals, unestimated_gaps, unestimated_intervals FROM dq.vee_gaps WHERE utility_id = 'VEEE';
SELECT line FROM dq.snapshot WHERE line LIKE '  Estimat%' OR line LIKE '  Gaps%' OR line LIKE '  VEEE%';

-- a rebuild gives the same layers and figures
CREATE TEMP TABLE estimation_built AS
SELECT (SELECT md5(string_agg(p::text, '|' ORDER BY p.service_point_id, p.meter_id, p.channel, p.interval_start_ts))
          FROM product.usage_interval p WHERE p.utility_id = 'VEEE') AS products,
       (SELECT md5(string_agg(d::text, '|' ORDER BY d.service_point_id, d.local_date, d.channel))
          FROM experience.daily_usage d WHERE d.utility_id = 'VEEE') AS days,
       (SELECT md5(string_agg(x::text, '|' ORDER BY x::text))
          FROM (SELECT q::text AS x FROM dq.vee_quality q WHERE q.utility_id = 'VEEE'
                UNION ALL SELECT g::text FROM dq.vee_gaps g WHERE g.utility_id = 'VEEE'
                UNION ALL SELECT e::text FROM dq.vee_estimates e WHERE e.utility_id = 'VEEE') v) AS vee_dq;
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT a.products = (SELECT md5(string_agg(p::text, '|' ORDER BY p.service_point_id, p.meter_id, p.channel, p.interval_start_ts))
                       FROM product.usage_interval p WHERE p.utility_id = 'VEEE') AS products_equal,
       a.days = (SELECT md5(string_agg(d::text, '|' ORDER BY d.service_point_id, d.local_date, d.channel))
                   FROM experience.daily_usage d WHERE d.utility_id = 'VEEE') AS days_equal,
       a.vee_dq = (SELECT md5(string_agg(x::text, '|' ORDER BY x::text))
                     FROM (SELECT q::text AS x FROM dq.vee_quality q WHERE q.utility_id = 'VEEE'
                           UNION ALL SELECT g::text FROM dq.vee_gaps g WHERE g.utility_id = 'VEEE'
                           UNION ALL SELECT e::text FROM dq.vee_estimates e WHERE e.utility_id = 'VEEE') v) AS vee_dq_equal
  FROM estimation_built a;
-- the DQ refresh's SQL path (as ingests use it) on the built products
-- finds the same validation figures as the build gathered
SELECT gridflow.dq_refresh(r.build_id, 'VEEE', 'standardized.interval_read', 'product.usage_interval',
                           'experience.daily_usage', 'standardized.service_point', 'standardized.meter',
                           'standardized.meter_assignment', false)
  FROM dq.current_run r WHERE r.utility_id = 'VEEE';
SELECT a.vee_dq = (SELECT md5(string_agg(x::text, '|' ORDER BY x::text))
                     FROM (SELECT q::text AS x FROM dq.vee_quality q WHERE q.utility_id = 'VEEE'
                           UNION ALL SELECT g::text FROM dq.vee_gaps g WHERE g.utility_id = 'VEEE'
                           UNION ALL SELECT e::text FROM dq.vee_estimates e WHERE e.utility_id = 'VEEE') v) AS sql_dq_equal
  FROM estimation_built a;

-- the limits apply from the next build: without reference days
-- (max_reference_seconds 0), the 3-hour gap of 02-21, one interval longer
-- than the interpolation limit, is not estimated; the 2-hour ones still are
UPDATE gridflow.vee_estimation SET max_reference_seconds = 0 WHERE utility_id = 'VEEE';
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT local_date, quality_code, count(*) AS rows
  FROM product.usage_interval WHERE utility_id = 'VEEE' AND quality_code IN (8, 9) GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS rows_of_0221 FROM product.usage_interval WHERE utility_id = 'VEEE' AND local_date = '2025-02-21';
SELECT channel, method, gaps_estimated, intervals_estimated FROM dq.vee_estimates WHERE utility_id = 'VEEE';
SELECT channel, gaps, unestimated_gaps, unestimated_intervals FROM dq.vee_gaps WHERE utility_id = 'VEEE';
-- without the row: nothing estimated, no estimation figures
DELETE FROM gridflow.vee_estimation WHERE utility_id = 'VEEE';
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT count(*) FILTER (WHERE quality_code IN (8, 9)) AS estimated, count(*) AS rows
  FROM product.usage_interval WHERE utility_id = 'VEEE';
SELECT count(*) AS estimate_figures FROM dq.vee_estimates WHERE utility_id = 'VEEE';
SELECT channel, gaps, unestimated_gaps FROM dq.vee_gaps WHERE utility_id = 'VEEE';

-- late actual reads, ingested (estimation-late), with the default limits
-- again: 02-21 11:00 splits the
-- 3-hour gap into two hours interpolated (10:00 and 12:00, code 9, no
-- longer from reference days); 03-05 12:00 splits the whole-day gap (its
-- estimates computed again from reference days); M1's first 01:00 of
-- 11-02 replaces its estimate, the second 01:00 interpolated between it
-- and 02:00.  The ingest writes those service points again from the
-- longest estimated gap before the earliest changed day, with the
-- reference weeks before as context: the result equals a rebuild.
INSERT INTO gridflow.vee_estimation (utility_id) VALUES ('VEEE');
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT utility, outcome, rows_kept FROM gridflow_ingest(:'vee' || '/estimation-late');
SELECT meter_id AS meter, local_start, round(value::numeric, 4) AS value, quality_code AS q
  FROM product.usage_interval
 WHERE utility_id = 'VEEE' AND meter_id = 'M1'
   AND ((local_date = '2025-02-21' AND local_start::time BETWEEN '09:00' AND '13:00')
     OR (local_date = '2025-03-05' AND local_start::time BETWEEN '10:00' AND '14:00')
     OR (local_date = '2025-11-02' AND local_start::time < '03:00'))
 ORDER BY interval_start_ts;
CREATE TEMP TABLE estimation_ingested AS
SELECT (SELECT md5(string_agg(p::text, '|' ORDER BY p.service_point_id, p.meter_id, p.channel, p.interval_start_ts))
          FROM product.usage_interval p WHERE p.utility_id = 'VEEE') AS products,
       (SELECT md5(string_agg(d::text, '|' ORDER BY d.service_point_id, d.local_date, d.channel))
          FROM experience.daily_usage d WHERE d.utility_id = 'VEEE') AS days,
       (SELECT md5(string_agg(m::text, '|' ORDER BY m.service_point_id, m.month_start, m.channel))
          FROM experience.monthly_usage m WHERE m.utility_id = 'VEEE') AS months;
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT a.products = (SELECT md5(string_agg(p::text, '|' ORDER BY p.service_point_id, p.meter_id, p.channel, p.interval_start_ts))
                       FROM product.usage_interval p WHERE p.utility_id = 'VEEE') AS products_equal,
       a.days = (SELECT md5(string_agg(d::text, '|' ORDER BY d.service_point_id, d.local_date, d.channel))
                   FROM experience.daily_usage d WHERE d.utility_id = 'VEEE') AS days_equal,
       a.months = (SELECT md5(string_agg(m::text, '|' ORDER BY m.service_point_id, m.month_start, m.channel))
                     FROM experience.monthly_usage m WHERE m.utility_id = 'VEEE') AS months_equal
  FROM estimation_ingested a;

--
-- Runs of identical values open at the midnight where an ingest's reads
-- begin, on hand-made hourly reads of utility VEER (America/New_York),
-- the shipped rules (zero_run at 8, flat_line at 16): runs, built, reads
-- of 06-01 to 06-10; runs-late, ingested, the reads of 06-11 appended.
-- P1/M1 ends 06-10 with ten 3.0, which six more on 06-11 make sixteen: the
-- ten of 06-10 now fail flat_line (their rows are updated, their day
-- summarized again); P1/M2 ends with five zeros, two more make seven (not
-- flagged, nothing updated); P2/M3 ends with nine zeros (flagged by the
-- build), one more makes ten (flagged, the nine unchanged).
--
UPDATE gridflow.utility SET enabled = false WHERE utility_id = 'VEEE';
INSERT INTO gridflow.utility (utility_id, service_point_link, interval_dedup_policy)
VALUES ('VEER', 'read', 'keep_last');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('VEER', 'interval', 'series.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format)
SELECT 'VEER', file_kind, target_column, source_column, format FROM gridflow.column_map WHERE utility_id = 'VEEX';
INSERT INTO gridflow.vee_rule (utility_id, rule, enabled, parameters)
SELECT 'VEER', rule, enabled, parameters FROM gridflow.vee_rule WHERE utility_id = 'UTILITY1';
CREATE FUNCTION pg_temp.veer_state(OUT products text, OUT days text, OUT months text) LANGUAGE sql AS $$
SELECT (SELECT md5(string_agg(p::text, '|' ORDER BY p.service_point_id, p.meter_id, p.channel, p.interval_start_ts))
          FROM product.usage_interval p WHERE p.utility_id = 'VEER'),
       (SELECT md5(string_agg(d::text, '|' ORDER BY d.service_point_id, d.local_date, d.channel))
          FROM experience.daily_usage d WHERE d.utility_id = 'VEER'),
       (SELECT md5(string_agg(m::text, '|' ORDER BY m.service_point_id, m.month_start, m.channel))
          FROM experience.monthly_usage m WHERE m.utility_id = 'VEER')
$$;
SELECT count(*) > 0 AS built FROM gridflow_build(:'vee' || '/runs');
SELECT meter_id AS meter, vee_flags, count(*) AS reads, min(local_start), max(local_start)
  FROM product.usage_interval WHERE utility_id = 'VEER' GROUP BY 1, 2 ORDER BY 1, 2;
SELECT utility, outcome, rows_kept, days_refreshed FROM gridflow_ingest(:'vee' || '/runs-late');
SELECT meter_id AS meter, vee_flags, count(*) AS reads, min(local_start), max(local_start)
  FROM product.usage_interval WHERE utility_id = 'VEER' GROUP BY 1, 2 ORDER BY 1, 2;
-- the days of 06-10 count the reads the ingest flagged
SELECT service_point_id AS sp, local_date, interval_count, questionable_count, round(total_usage::numeric, 2) AS total
  FROM experience.daily_usage WHERE utility_id = 'VEER' AND local_date >= '2025-06-10' ORDER BY 1, 2;
CREATE TEMP TABLE runs_ingested AS SELECT * FROM pg_temp.veer_state();
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT l.products = r.products AS products_equal, l.days = r.days AS days_equal,
       l.months = r.months AS months_equal
  FROM runs_ingested l, pg_temp.veer_state() r;
