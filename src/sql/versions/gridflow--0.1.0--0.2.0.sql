-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION gridflow UPDATE TO '0.2.0'" to load this file. \quit

-- Upgrade from 0.1.0 to 0.2.0.  Every change to the install script sources
-- (src/sql/[0-9]*.sql) made after 0.1.0 is repeated here; the upgrade
-- regression test checks that an updated installation equals a fresh one.
SET LOCAL search_path TO pg_catalog, pg_temp;

--
-- Landing records are packed into landing.source_chunk; landing.source_record
-- becomes a view over it.  The landed records of 0.1.0 are not converted:
-- run gridflow_build() after the update.
--
CREATE TABLE landing.source_chunk (
    batch_id bigint NOT NULL,
    first_line bigint NOT NULL,
    last_line bigint NOT NULL,
    records integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (batch_id, first_line)
);
ALTER TABLE landing.source_chunk ALTER COLUMN data SET STORAGE EXTERNAL;
COMMENT ON TABLE landing.source_chunk IS 'Storage of landing.source_record: the valid records of each file, as read, packed a few kilobytes at a time in file order (read them through landing.source_record or gridflow.source_record())';
COMMENT ON COLUMN landing.source_chunk.batch_id IS 'Batch (gridflow.batch) the records were read in';
COMMENT ON COLUMN landing.source_chunk.first_line IS 'Line of the first record in the chunk';
COMMENT ON COLUMN landing.source_chunk.last_line IS 'Line of the last record in the chunk';
COMMENT ON COLUMN landing.source_chunk.records IS 'Records in the chunk';
COMMENT ON COLUMN landing.source_chunk.data IS 'The records: for each, its line number and its bytes (decoded by gridflow.chunk_records())';

CREATE OR REPLACE VIEW dq.row_counts WITH (security_invoker = true) AS
WITH u AS (
    SELECT DISTINCT b.utility_id FROM gridflow.batch b
), c(ord, layer, table_name, utility_id, row_count) AS (
    SELECT 1, 'landing', 'landing.source_record', b.utility_id, pg_catalog.sum(r.records)::bigint
      FROM landing.source_chunk r JOIN gridflow.batch b ON b.batch_id OPERATOR(pg_catalog.=) r.batch_id
     GROUP BY b.utility_id
    UNION ALL
    SELECT 2, 'landing', 'landing.reject', b.utility_id, pg_catalog.count(*)
      FROM landing.reject r JOIN gridflow.batch b ON b.batch_id OPERATOR(pg_catalog.=) r.batch_id
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
DROP TABLE landing.source_record;

CREATE FUNCTION gridflow.chunk_records(
    data bytea,
    OUT line_no bigint,
    OUT record text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_chunk_records'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.chunk_records(bytea) IS 'The records packed in one landing.source_chunk, with their line numbers';

CREATE VIEW landing.source_record AS
SELECT c.batch_id, r.line_no, r.record
  FROM landing.source_chunk c
 CROSS JOIN LATERAL gridflow.chunk_records(c.data) r;
COMMENT ON VIEW landing.source_record IS 'Every valid CSV record of every source file, as read (text, without line terminator), in file order; (batch_id, line_no) is unique.  For one record, gridflow.source_record(batch_id, line_no) is faster';
COMMENT ON COLUMN landing.source_record.batch_id IS 'Batch (gridflow.batch) the record was read in';
COMMENT ON COLUMN landing.source_record.line_no IS 'Physical line of the file the record starts on (1 is the header)';
COMMENT ON COLUMN landing.source_record.record IS 'The record''s bytes exactly as in the file; gridflow.csv_fields() splits it';

CREATE FUNCTION gridflow.source_record(batch_id bigint, line_no bigint)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT r.record
      FROM (SELECT c.data
              FROM landing.source_chunk c
             WHERE c.batch_id OPERATOR(pg_catalog.=) source_record.batch_id
               AND c.first_line OPERATOR(pg_catalog.<=) source_record.line_no
             ORDER BY c.first_line DESC
             LIMIT 1) c
     CROSS JOIN LATERAL gridflow.chunk_records(c.data) r
     WHERE r.line_no OPERATOR(pg_catalog.=) source_record.line_no;
END;
COMMENT ON FUNCTION gridflow.source_record(bigint, bigint) IS 'The landed record of a batch that starts on a line (lineage look-up); NULL if there is none';

--
-- Exact sum of doubles: the correctly rounded sum whatever the order of the
-- terms, so that parallel plans and the build's own aggregation agree to
-- the last bit.
--
CREATE FUNCTION gridflow.exact_sum_transfn(internal, double precision)
RETURNS internal
AS 'MODULE_PATHNAME', 'gridflow_exact_sum_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.exact_sum_transfn(internal, double precision) IS 'Transition function of gridflow.exact_sum()';

CREATE FUNCTION gridflow.exact_sum_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'gridflow_exact_sum_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.exact_sum_combinefn(internal, internal) IS 'Combine function of gridflow.exact_sum()';

CREATE FUNCTION gridflow.exact_sum_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'gridflow_exact_sum_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.exact_sum_serialfn(internal) IS 'Serialization function of gridflow.exact_sum()';

CREATE FUNCTION gridflow.exact_sum_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'gridflow_exact_sum_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.exact_sum_deserialfn(bytea, internal) IS 'Deserialization function of gridflow.exact_sum()';

CREATE FUNCTION gridflow.exact_sum_finalfn(internal)
RETURNS double precision
AS 'MODULE_PATHNAME', 'gridflow_exact_sum_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.exact_sum_finalfn(internal) IS 'Final function of gridflow.exact_sum()';

CREATE AGGREGATE gridflow.exact_sum(double precision) (
    SFUNC = gridflow.exact_sum_transfn,
    STYPE = internal,
    SSPACE = 80,
    COMBINEFUNC = gridflow.exact_sum_combinefn,
    SERIALFUNC = gridflow.exact_sum_serialfn,
    DESERIALFUNC = gridflow.exact_sum_deserialfn,
    FINALFUNC = gridflow.exact_sum_finalfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE gridflow.exact_sum(double precision) IS 'Sum of double precision values, exact and then correctly rounded, so independent of the order of the rows (unlike sum()); NULLs are ignored; NULL when there is no value';

--
-- Daily totals use the exact sum; the build computes product and
-- experience rows in C, the views remain their definition.
--
CREATE OR REPLACE VIEW gridflow.experience_source AS
SELECT s.utility_id,
       s.service_point_id,
       s.local_date,
       s.channel,
       pg_catalog.timezone(s.time_zone, s.local_date::timestamp) AS bucket_start,
       pg_catalog.timezone(s.time_zone, (s.local_date + 1)::timestamp) AS bucket_end,
       s.total_usage,
       s.interval_count,
       (s.pp).peak_value AS peak_usage_value,
       (s.pp).peak_ts AS peak_usage_ts,
       (s.pp).pit_value AS pit_usage_value,
       (s.pp).pit_ts AS pit_usage_ts
  FROM (SELECT p.utility_id,
               p.service_point_id,
               p.local_date,
               p.channel,
               u.time_zone,
               gridflow.exact_sum(p.value) AS total_usage,
               pg_catalog.count(p.value)::integer AS interval_count,
               gridflow.peak_pit(p.value, p.interval_start_ts) AS pp
          FROM product.usage_interval p
          JOIN gridflow.utility u
            ON u.utility_id OPERATOR(pg_catalog.=) p.utility_id
         WHERE p.service_point_id IS NOT NULL
         GROUP BY p.utility_id, p.service_point_id, p.local_date, p.channel, u.time_zone) s;
COMMENT ON VIEW gridflow.product_source IS 'Definition of product.usage_interval: standardized reads left-joined to their meter and service point (the build computes the same rows in C; the regression tests check they agree)';
COMMENT ON VIEW gridflow.experience_source IS 'Definition of experience.daily_usage: product reads with a service point, grouped by utility, service point, local day and channel (the build computes the same rows in C; the regression tests check they agree)';

--
-- Reads may be partitioned to temporary files (gridflow.build_memory).
--
ALTER TABLE gridflow.batch ADD COLUMN spill_partitions integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN gridflow.batch.spill_partitions IS 'Temporary files the reads were partitioned into because their keys outgrew gridflow.build_memory (0: de-duplicated in memory)';

--
-- Meter assignments are keyed in file order (the order they are written
-- in); the DQ view that reads them by meter joins instead of probing.
--
ALTER TABLE standardized.meter_assignment DROP CONSTRAINT meter_assignment_pkey;
ALTER TABLE standardized.meter_assignment ADD PRIMARY KEY (utility_id, batch_id, line_no);
CREATE OR REPLACE VIEW dq.meter_link_ambiguity WITH (security_invoker = true) AS
WITH reads AS (
    SELECT r.utility_id, r.meter_id, r.interval_start_ts, r.channel
      FROM standardized.interval_read r
      JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) r.utility_id
     WHERE u.service_point_link OPERATOR(pg_catalog.=) 'meter'
), multi AS (
    SELECT utility_id, meter_id
      FROM standardized.meter_assignment
     GROUP BY utility_id, meter_id
    HAVING pg_catalog.count(DISTINCT service_point_id) OPERATOR(pg_catalog.>) 1
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
           m.service_point_id AS first_row_sp,
           e.service_point_id AS effective_sp,
           coalesce(e.candidates, 0) AS candidates,
           (mu.meter_id IS NOT NULL) AS multi_premise
      FROM reads x
      LEFT JOIN standardized.meter m
        ON m.utility_id OPERATOR(pg_catalog.=) x.utility_id AND m.meter_id OPERATOR(pg_catalog.=) x.meter_id
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
