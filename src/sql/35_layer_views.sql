--
-- Views and functions over the layers that the build's SQL definitions and
-- lineage look-ups are (the views of the layers themselves are in
-- 20_layers.sql): landing.source_record, gridflow.source_record(), and
-- gridflow.product_source and gridflow.experience_source.
--
CREATE VIEW landing.source_record WITH (security_invoker = true) AS
SELECT c.utility_id, c.batch_id, r.line_no, r.record
  FROM gridflow_store.source_chunk c
 CROSS JOIN LATERAL gridflow.chunk_records(c.data) r;
COMMENT ON VIEW landing.source_record IS 'Every valid CSV record of every source file, as read (text, without line terminator), in file order (grain: one row per batch_id, line_no).  For one record, gridflow.source_record(batch_id, line_no) is faster';
COMMENT ON COLUMN landing.source_record.utility_id IS 'Utility of the batch';
COMMENT ON COLUMN landing.source_record.batch_id IS 'Batch (gridflow.batch) the record was read in';
COMMENT ON COLUMN landing.source_record.line_no IS 'Physical line of the file the record starts on (1 is the header)';
COMMENT ON COLUMN landing.source_record.record IS 'The record''s bytes exactly as in the file; gridflow.csv_fields() splits it';

CREATE FUNCTION gridflow.source_record(batch_id bigint, line_no bigint)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT r.record
      FROM (SELECT c.data
              FROM gridflow_store.source_chunk c
             WHERE c.batch_id OPERATOR(pg_catalog.=) source_record.batch_id
               AND c.first_line OPERATOR(pg_catalog.<=) source_record.line_no
             ORDER BY c.first_line DESC
             LIMIT 1) c
     CROSS JOIN LATERAL gridflow.chunk_records(c.data) r
     WHERE r.line_no OPERATOR(pg_catalog.=) source_record.line_no;
END;
COMMENT ON FUNCTION gridflow.source_record(bigint, bigint) IS 'The landed record of a batch that starts on a line (lineage look-up); NULL if there is none';

--
-- What the build writes into product and experience, in plain SQL so that
-- anyone can read what each layer means.  The build computes the same rows
-- in C (product.c, experience.c); the regression tests check that both
-- agree.  They run with the rights of the role reading them
-- (security_invoker), so they never show more than the layers would.
--
CREATE VIEW gridflow.product_source WITH (security_invoker = true) AS
WITH rules AS (
    -- each utility's enabled rules and their parameters (NULL: disabled)
    SELECT vr.utility_id,
           pg_catalog.bool_or(vr.rule OPERATOR(pg_catalog.=) 'off_grid') AS off_grid,
           pg_catalog.bool_or(vr.rule OPERATOR(pg_catalog.=) 'negative') AS negative,
           pg_catalog.max((vr.parameters OPERATOR(pg_catalog.->>) 'max')::double precision)
               FILTER (WHERE vr.rule OPERATOR(pg_catalog.=) 'ceiling') AS ceiling_max,
           pg_catalog.bool_or(vr.rule OPERATOR(pg_catalog.=) 'gap') AS gap,
           pg_catalog.max((vr.parameters OPERATOR(pg_catalog.->>) 'min_intervals')::double precision)
               FILTER (WHERE vr.rule OPERATOR(pg_catalog.=) 'zero_run') AS zero_run_min,
           pg_catalog.max((vr.parameters OPERATOR(pg_catalog.->>) 'min_intervals')::double precision)
               FILTER (WHERE vr.rule OPERATOR(pg_catalog.=) 'flat_line') AS flat_line_min,
           pg_catalog.max((vr.parameters OPERATOR(pg_catalog.->>) 'ratio')::double precision)
               FILTER (WHERE vr.rule OPERATOR(pg_catalog.=) 'spike') AS spike_ratio,
           pg_catalog.max((vr.parameters OPERATOR(pg_catalog.->>) 'floor')::double precision)
               FILTER (WHERE vr.rule OPERATOR(pg_catalog.=) 'spike') AS spike_floor,
           pg_catalog.max((vr.parameters OPERATOR(pg_catalog.->>) 'low')::double precision)
               FILTER (WHERE vr.rule OPERATOR(pg_catalog.=) 'high_low') AS high_low_low,
           pg_catalog.max((vr.parameters OPERATOR(pg_catalog.->>) 'high')::double precision)
               FILTER (WHERE vr.rule OPERATOR(pg_catalog.=) 'high_low') AS high_low_high,
           pg_catalog.max(LEAST((vr.parameters OPERATOR(pg_catalog.->>) 'days')::double precision, 36600)::integer)
               FILTER (WHERE vr.rule OPERATOR(pg_catalog.=) 'high_low') AS high_low_days,
           pg_catalog.max(LEAST((vr.parameters OPERATOR(pg_catalog.->>) 'min_days')::double precision, 36600)::integer)
               FILTER (WHERE vr.rule OPERATOR(pg_catalog.=) 'high_low') AS high_low_min_days
      FROM gridflow.vee_rule vr
     WHERE vr.enabled
     GROUP BY vr.utility_id),
-- a series: the reads of one service point (or none), meter and channel,
-- in time order; each read with its utility's rules, the previous read's
-- end and resolution, and whether it starts a run of identical values (a
-- NULL value is in none).  Every window is partitioned by utility and
-- service point, so a condition on those reaches the reads.
ordered AS NOT MATERIALIZED (
    SELECT r.utility_id, r.service_point_id, r.meter_id, r.channel, r.interval_start_ts,
           r.interval_end_ts, r.duration_seconds, r.time_resolution, r.value, r.unit, r.quality,
           r.last_update_time, r.exported_at, r.batch_id, r.line_no, u.time_zone, u.quality_scheme,
           (pg_catalog.timezone(u.time_zone, r.interval_start_ts))::date AS local_date,
           v.off_grid, v.negative, v.ceiling_max, v.gap, v.zero_run_min, v.flat_line_min,
           v.spike_ratio, v.spike_floor, v.high_low_low, v.high_low_high, v.high_low_days,
           v.high_low_min_days,
           pg_catalog.lag(r.interval_end_ts) OVER series AS prev_end,
           pg_catalog.lag(r.time_resolution) OVER series AS prev_resolution,
           NOT coalesce(r.value OPERATOR(pg_catalog.=) pg_catalog.lag(r.value) OVER series, false) AS new_run
      FROM standardized.interval_read r
      JOIN gridflow.utility u
        ON u.utility_id OPERATOR(pg_catalog.=) r.utility_id
      LEFT JOIN rules v
        ON v.utility_id OPERATOR(pg_catalog.=) r.utility_id
    WINDOW series AS (PARTITION BY r.utility_id, r.service_point_id, r.meter_id, r.channel
                      ORDER BY r.interval_start_ts)),
runs AS NOT MATERIALIZED (
    -- each read's run, and, for high_low, its local day's total (NULL when
    -- no read of the day has a value, or high_low is off)
    SELECT o.*,
           pg_catalog.sum(CASE WHEN o.new_run THEN 1 ELSE 0 END)
               OVER (PARTITION BY o.utility_id, o.service_point_id, o.meter_id, o.channel
                     ORDER BY o.interval_start_ts ROWS UNBOUNDED PRECEDING) AS run,
           gridflow.exact_sum(o.value) FILTER (WHERE o.high_low_days IS NOT NULL) OVER day AS day_total
      FROM ordered o
    WINDOW day AS (PARTITION BY o.utility_id, o.service_point_id, o.meter_id, o.channel, o.local_date)),
series AS NOT MATERIALIZED (
    -- the length of each read's run; the third-largest value of its local
    -- day; the median total of the days before it (high_low)
    SELECT x.*,
           pg_catalog.count(*) OVER (PARTITION BY x.utility_id, x.service_point_id, x.meter_id, x.channel, x.run)
               AS run_length,
           pg_catalog.nth_value(x.value, 3)
               OVER (PARTITION BY x.utility_id, x.service_point_id, x.meter_id, x.channel, x.local_date
                     ORDER BY x.value DESC NULLS LAST
                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS third_largest,
           gridflow.vee_prior_median(x.local_date, x.day_total, x.high_low_days, x.high_low_min_days)
               OVER (PARTITION BY x.utility_id, x.service_point_id, x.meter_id, x.channel
                     ORDER BY x.interval_start_ts ROWS UNBOUNDED PRECEDING) AS prior_median
      FROM runs x)
SELECT r.utility_id,
       r.service_point_id,
       r.meter_id,
       r.channel,
       r.interval_start_ts,
       r.interval_end_ts,
       r.local_date,
       r.time_zone,
       pg_catalog.timezone(r.time_zone, r.interval_start_ts) AS local_start,
       r.duration_seconds,
       r.time_resolution,
       r.value,
       r.unit,
       r.quality,
       -- the sender's ESPI code when the utility writes them (quality_scheme
       -- espi) and gridflow.quality_code has it, but 0; no quality, or 0:
       -- the rules decide; any other quality: 10 (gridflow.gf_quality_code
       -- in C says the same)
       (CASE WHEN r.quality_scheme IS DISTINCT FROM 'espi' OR r.quality IS NULL
                  OR r.quality OPERATOR(pg_catalog.=) '' OR q.code OPERATOR(pg_catalog.=) 0
             THEN CASE WHEN f.vee_flags IS NULL THEN 0 ELSE 10 END
             WHEN q.code IS NOT NULL THEN q.code
             ELSE 10 END)::smallint AS quality_code,
       f.vee_flags,
       r.value AS raw_value,
       sp.service_point_id IS NOT NULL AS service_point_known,
       m.meter_id IS NOT NULL AS meter_known,
       m.serial_number,
       m.meter_type,
       m.meter_category,
       sp.service_point_number,
       sp.house_num,
       sp.street,
       sp.house_supp,
       sp.city,
       sp.zip,
       sp.state,
       r.last_update_time,
       r.exported_at,
       r.batch_id,
       r.line_no
  FROM series r
  LEFT JOIN standardized.meter m
    ON m.utility_id OPERATOR(pg_catalog.=) r.utility_id
   AND m.meter_id OPERATOR(pg_catalog.=) r.meter_id
  LEFT JOIN standardized.service_point sp
    ON sp.utility_id OPERATOR(pg_catalog.=) r.utility_id
   AND sp.service_point_id OPERATOR(pg_catalog.=) r.service_point_id
  -- the sender's quality as a code of gridflow.quality_code: 1 to 5 digits
  LEFT JOIN gridflow.quality_code q
    ON r.quality_scheme OPERATOR(pg_catalog.=) 'espi'
   AND q.code::integer OPERATOR(pg_catalog.=)
       (CASE WHEN r.quality OPERATOR(pg_catalog.~) '^[0-9]{1,5}$' THEN r.quality::integer END)
  -- the rules the read fails: off_grid, a start that is not a multiple of
  -- its duration (one that divides a day) after the local midnight;
  -- negative, a value below zero; ceiling, a value at or above max; gap,
  -- a start after the end of the series' previous read (neither of a
  -- day's resolution); zero_run and flat_line, a run of min_intervals or
  -- more identical values, zero or not; spike, a value above ratio times
  -- the third-largest of its day (gridflow.vee_spike); high_low, a day
  -- whose total is outside [low, high] times the median total of the days
  -- before (gridflow.vee_outside; every read of the day)
 CROSS JOIN LATERAL (
        SELECT CASE WHEN pg_catalog.cardinality(a.failed) OPERATOR(pg_catalog.>) 0 THEN a.failed END AS vee_flags
          FROM (SELECT pg_catalog.array_remove(ARRAY[
                   CASE WHEN r.off_grid AND r.duration_seconds OPERATOR(pg_catalog.>) 0 THEN
                        CASE WHEN pg_catalog.mod(86400, r.duration_seconds) OPERATOR(pg_catalog.=) 0
                              AND pg_catalog.mod(EXTRACT(epoch FROM pg_catalog.timezone(r.time_zone, r.interval_start_ts)::time),
                                                 r.duration_seconds::numeric) OPERATOR(pg_catalog.<>) 0
                             THEN 'off_grid' END
                   END,
                   CASE WHEN r.negative AND r.value OPERATOR(pg_catalog.<) 0::double precision
                        THEN 'negative' END,
                   CASE WHEN r.value OPERATOR(pg_catalog.>=) r.ceiling_max
                        THEN 'ceiling' END,
                   CASE WHEN r.gap AND r.prev_end OPERATOR(pg_catalog.<) r.interval_start_ts
                         AND r.prev_resolution IS DISTINCT FROM 'day'
                         AND r.time_resolution IS DISTINCT FROM 'day'
                        THEN 'gap' END,
                   CASE WHEN r.value OPERATOR(pg_catalog.=) 0::double precision
                         AND r.run_length::double precision OPERATOR(pg_catalog.>=) r.zero_run_min
                        THEN 'zero_run' END,
                   CASE WHEN r.value OPERATOR(pg_catalog.<>) 0::double precision
                         AND r.run_length::double precision OPERATOR(pg_catalog.>=) r.flat_line_min
                        THEN 'flat_line' END,
                   CASE WHEN gridflow.vee_spike(r.value, r.third_largest, r.spike_ratio, r.spike_floor)
                        THEN 'spike' END,
                   CASE WHEN gridflow.vee_outside(r.day_total, r.prior_median, r.high_low_low, r.high_low_high)
                        THEN 'high_low' END]::text[], NULL) AS failed) a) f;
COMMENT ON VIEW gridflow.product_source IS 'Definition of product.usage_interval: standardized reads left-joined to their meter and service point, with their quality code (the sender''s ESPI QualityOfReading code when the utility''s quality_scheme is espi, see gridflow.utility.quality_scheme; else 10 if the read fails a rule, 0 if not) and the validation rules of gridflow.vee_rule they fail: those of one read alone, and those of its series (the reads of one service point, meter and channel in time order) and of the series'' local day (the build computes the same rows in C; the regression tests check they agree). Validation only: the estimated rows of missing intervals (quality_code 8 and 9, gridflow.vee_estimation) are written by the build''s product writer and are not here';

CREATE VIEW gridflow.experience_source WITH (security_invoker = true) AS
SELECT t.utility_id,
       t.service_point_id,
       t.local_date,
       t.channel,
       t.unit,
       t.time_resolution,
       t.time_zone,
       t.bucket_start,
       t.bucket_end,
       t.total_usage,
       t.interval_count,
       t.peak_usage_value,
       t.peak_usage_ts,
       pg_catalog.timezone(t.time_zone, t.peak_usage_ts) AS peak_local,
       t.pit_usage_value,
       t.pit_usage_ts,
       pg_catalog.timezone(t.time_zone, t.pit_usage_ts) AS pit_local,
       t.estimated_count,
       t.questionable_count,
       t.estimated_usage,
       t.coverage
  FROM (SELECT s.utility_id,
               s.service_point_id,
               s.local_date,
               s.channel,
               -- one unit when every read has it; day resolution when some read has only its day
               CASE WHEN s.units OPERATOR(pg_catalog.=) s.reads
                     AND s.unit_min OPERATOR(pg_catalog.=) s.unit_max THEN s.unit_min END AS unit,
               CASE WHEN s.day_reads OPERATOR(pg_catalog.>) 0 THEN 'day' ELSE 'interval' END AS time_resolution,
               s.time_zone,
               pg_catalog.timezone(s.time_zone, s.local_date::timestamp) AS bucket_start,
               pg_catalog.timezone(s.time_zone, (s.local_date OPERATOR(pg_catalog.+) 1)::timestamp) AS bucket_end,
               s.total_usage,
               s.interval_count,
               (s.pp).peak_value AS peak_usage_value,
               CASE WHEN s.day_reads OPERATOR(pg_catalog.=) 0 THEN (s.pp).peak_ts END AS peak_usage_ts,
               (s.pp).pit_value AS pit_usage_value,
               CASE WHEN s.day_reads OPERATOR(pg_catalog.=) 0 THEN (s.pp).pit_ts END AS pit_usage_ts,
               s.estimated_count,
               s.questionable_count,
               s.estimated_usage,
               -- the valid reads' seconds over the day's (23, 24 or 25 hours)
               CASE WHEN NOT s.no_duration
                    THEN s.valid_seconds::double precision OPERATOR(pg_catalog./)
                         EXTRACT(epoch FROM pg_catalog.timezone(s.time_zone, (s.local_date OPERATOR(pg_catalog.+) 1)::timestamp)
                                     OPERATOR(pg_catalog.-) pg_catalog.timezone(s.time_zone, s.local_date::timestamp))::double precision
               END AS coverage
          FROM (SELECT p.utility_id,
                       p.service_point_id,
                       p.local_date,
                       p.channel,
                       u.time_zone,
                       pg_catalog.count(*) AS reads,
                       pg_catalog.count(p.unit) AS units,
                       pg_catalog.min(p.unit) AS unit_min,
                       pg_catalog.max(p.unit) AS unit_max,
                       pg_catalog.count(*) FILTER (WHERE p.time_resolution OPERATOR(pg_catalog.=) 'day') AS day_reads,
                       gridflow.exact_sum(p.value) AS total_usage,
                       pg_catalog.count(p.value)::integer AS interval_count,
                       gridflow.peak_pit(p.value, p.interval_start_ts) AS pp,
                       pg_catalog.count(*) FILTER (WHERE p.quality_code OPERATOR(pg_catalog.=) ANY (ARRAY[8, 9]::smallint[]))::integer
                           AS estimated_count,
                       pg_catalog.count(*) FILTER (WHERE p.quality_code OPERATOR(pg_catalog.=) 10::smallint)::integer
                           AS questionable_count,
                       coalesce(gridflow.exact_sum(p.value)
                                    FILTER (WHERE p.quality_code OPERATOR(pg_catalog.=) ANY (ARRAY[8, 9]::smallint[])),
                                0::double precision) AS estimated_usage,
                       coalesce(pg_catalog.sum(p.duration_seconds)
                                    FILTER (WHERE p.quality_code OPERATOR(pg_catalog.=) 0::smallint
                                              AND p.value IS NOT NULL
                                              AND p.duration_seconds OPERATOR(pg_catalog.>) 0), 0) AS valid_seconds,
                       pg_catalog.bool_or(p.duration_seconds IS NULL OR p.duration_seconds OPERATOR(pg_catalog.<=) 0)
                           AS no_duration
                  FROM product.usage_interval p
                  JOIN gridflow.utility u
                    ON u.utility_id OPERATOR(pg_catalog.=) p.utility_id
                 WHERE p.service_point_id IS NOT NULL
                 GROUP BY p.utility_id, p.service_point_id, p.local_date, p.channel, u.time_zone) s) t;
COMMENT ON VIEW gridflow.experience_source IS 'Definition of experience.daily_usage: product reads with a service point, grouped by utility, service point, local day and channel (the build computes the same rows in C; the regression tests check they agree)';

CREATE VIEW gridflow.monthly_source WITH (security_invoker = true) AS
SELECT m.utility_id,
       m.service_point_id,
       m.month_start,
       m.channel,
       CASE WHEN m.units OPERATOR(pg_catalog.=) m.day_count
             AND m.unit_min OPERATOR(pg_catalog.=) m.unit_max THEN m.unit_min END AS unit,
       CASE WHEN m.day_days OPERATOR(pg_catalog.>) 0 THEN 'day' ELSE 'interval' END AS time_resolution,
       u.time_zone,
       m.day_count,
       m.interval_count,
       m.total_usage,
       m.total_usage OPERATOR(pg_catalog./) m.day_count AS avg_daily_usage,
       pg_catalog.timezone('UTC', (m.pd).peak_ts)::date AS peak_day,
       (m.pd).peak_value AS peak_day_usage,
       (m.pr).peak_value AS peak_usage_value,
       (m.pr).peak_ts AS peak_usage_ts,
       pg_catalog.timezone(u.time_zone, (m.pr).peak_ts) AS peak_local
  FROM (SELECT d.utility_id,
               d.service_point_id,
               pg_catalog.date_trunc('month', d.local_date::timestamp)::date AS month_start,
               d.channel,
               pg_catalog.count(*)::integer AS day_count,
               pg_catalog.count(d.unit)::integer AS units,
               pg_catalog.min(d.unit) AS unit_min,
               pg_catalog.max(d.unit) AS unit_max,
               pg_catalog.count(*) FILTER (WHERE d.time_resolution OPERATOR(pg_catalog.=) 'day') AS day_days,
               pg_catalog.sum(d.interval_count)::integer AS interval_count,
               gridflow.exact_sum(d.total_usage) AS total_usage,
               -- the peak day, earliest on ties (a day as an instant, for peak_pit)
               gridflow.peak_pit(d.total_usage, pg_catalog.timezone('UTC', d.local_date::timestamp)) AS pd,
               gridflow.peak_pit(d.peak_usage_value, d.peak_usage_ts) AS pr
          FROM experience.daily_usage d
         GROUP BY d.utility_id, d.service_point_id, pg_catalog.date_trunc('month', d.local_date::timestamp)::date, d.channel) m
  LEFT JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) m.utility_id;
COMMENT ON VIEW gridflow.monthly_source IS 'Definition of experience.monthly_usage: the days of experience.daily_usage grouped by utility, service point, local month and channel (builds and ingests compute the same rows; the regression tests check they agree)';

