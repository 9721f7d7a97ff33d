-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION gridflow UPDATE TO '0.3.0'" to load this file. \quit

-- gridflow 0.2.0 -> 0.3.0 (see CHANGELOG.md).  This is the hand-written
-- part of the update: what changed in the objects that stay.  The layers
-- are stored anew (gridflow_store, with views of the same names), so the
-- update drops them and every object over them, and the build appends the
-- sources that make those objects (see the Makefile): the layers are empty
-- after the update; gridflow_rebuild() makes them again from the history.
SET LOCAL search_path TO pg_catalog, pg_temp;

-- NULL is no longer the sample: the builds are made again without their
-- NULL default (62_builds.sql, appended), which CREATE OR REPLACE cannot
-- take away.
DROP FUNCTION @extschema@.gridflow_build(text);
DROP FUNCTION @extschema@.gridflow_build_distributed(text);
COMMENT ON FUNCTION gridflow.sample_dir() IS 'Directory of the sample drop installed with the extension (what gridflow_build() with no argument reads)';

-- Unit factors are finite (NaN passed "factor > 0").
ALTER TABLE gridflow.unit DROP CONSTRAINT unit_factor_check;
ALTER TABLE gridflow.unit ADD CONSTRAINT unit_factor_check
    CHECK (factor OPERATOR(pg_catalog.>) 0 AND factor OPERATOR(pg_catalog.<) 'Infinity'::double precision);
COMMENT ON COLUMN gridflow.unit.factor IS 'A value in this unit times factor is the value in common_unit (finite and positive: NaN and Infinity are refused)';

-- Utility ids unique whatever their case, and short enough to name their
-- partitions (whose names are in lower case).
CREATE UNIQUE INDEX utility_id_lower_key ON gridflow.utility (pg_catalog.lower(utility_id));
ALTER TABLE gridflow.utility ADD CONSTRAINT utility_id_length
    CHECK (pg_catalog.length(pg_catalog.replace(utility_id, '_', '__')) OPERATOR(pg_catalog.<=) 36);
COMMENT ON INDEX gridflow.utility_id_lower_key IS 'Utility ids are unique whatever their case: the names of their partitions are in lower case';
COMMENT ON CONSTRAINT utility_id_length ON gridflow.utility IS 'A utility id names its partitions (in lower case, underscores doubled, with a month and a key suffix), which must fit in 63 bytes: at most 36 characters, underscores counting twice';
COMMENT ON COLUMN gridflow.utility.utility_id IS 'Utility identifier, as it appears in every layer (e.g. UTILITY1): a letter, then letters, digits and underscores; unique whatever the case';

-- A shard's queue and stage tables: written by the owner of gridflow only;
-- tasks bound to the transaction and role that queued them.
REVOKE INSERT ON gridflow.shard_task, gridflow.shard_stage_read, gridflow.shard_stage_service_point,
                 gridflow.shard_stage_meter, gridflow.shard_stage_meter_assignment
    FROM gridflow_pipeline;
REVOKE EXECUTE ON FUNCTION gridflow.shard_run_tasks() FROM gridflow_pipeline;
REVOKE SELECT ON gridflow.shard_run FROM gridflow_pipeline;
DELETE FROM gridflow.shard_task;
ALTER TABLE gridflow.shard_task
    ADD COLUMN xact_id xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    ADD COLUMN queued_by name NOT NULL DEFAULT CURRENT_USER;
COMMENT ON TABLE gridflow.shard_task IS 'On a shard: work a coordinator queued in its build''s transaction, done (and deleted) when it reads gridflow.shard_run in that same transaction; only the owner of gridflow writes it; empty outside a build';
COMMENT ON COLUMN gridflow.shard_task.xact_id IS 'The transaction that queued the task (set by default): gridflow.shard_run does only the tasks of its own transaction';
COMMENT ON COLUMN gridflow.shard_task.queued_by IS 'The role that queued the task (set by default): gridflow.shard_run does only the tasks its caller queued';
COMMENT ON TABLE gridflow.shard_stage_read IS 'Standardized reads of a utility split by hash, on their way to the shard that builds them (on a coordinator: read there, then routed; on a shard: received, then built); written by the owner of gridflow only, emptied when a build starts; empty outside a build';
COMMENT ON TABLE gridflow.shard_stage_service_point IS 'On a shard: the service points of a utility split by hash, sent by the coordinator for the shard''s part; written by the owner of gridflow only, emptied when a build starts; empty outside a build';
COMMENT ON TABLE gridflow.shard_stage_meter IS 'On a shard: the meters of a utility split by hash, sent by the coordinator; written by the owner of gridflow only, emptied when a build starts; empty outside a build';
COMMENT ON TABLE gridflow.shard_stage_meter_assignment IS 'On a shard: the meter assignments of a utility split by hash, sent by the coordinator; written by the owner of gridflow only, emptied when a build starts; empty outside a build';
COMMENT ON FUNCTION gridflow.shard_run_tasks() IS 'On a shard: do the work its caller queued in gridflow.shard_task in the current transaction, in order (copy the utility''s configuration, then build it, or build this shard''s part of it from the stage tables), as the owner of the extension; returns what each task wrote. Tasks of other transactions or roles are never done (committed ones are deleted). For the owner of the extension, whom a coordinator''s user mapping reaches';

REVOKE ALL ON gridflow.shard_task, gridflow.shard_run, gridflow.shard_stage_read,
              gridflow.shard_stage_service_point, gridflow.shard_stage_meter,
              gridflow.shard_stage_meter_assignment
    FROM gridflow_pipeline;
-- Delimiters and quotes are one ASCII character other than a line break,
-- counted in bytes (length() counted characters: 'é' passed, and the build
-- split records on its first byte).  A configuration that breaks the rule
-- stops the update, with what to change.
DO $$
BEGIN
    IF EXISTS (SELECT FROM gridflow.source_file f
                WHERE pg_catalog.octet_length(f.delimiter) OPERATOR(pg_catalog.<>) 1
                   OR pg_catalog.ascii(f.delimiter) OPERATOR(pg_catalog.>=) 128
                   OR f.delimiter OPERATOR(pg_catalog.=) E'\n' OR f.delimiter OPERATOR(pg_catalog.=) E'\r'
                   OR pg_catalog.octet_length(f.quote) OPERATOR(pg_catalog.<>) 1
                   OR pg_catalog.ascii(f.quote) OPERATOR(pg_catalog.>=) 128
                   OR f.quote OPERATOR(pg_catalog.=) E'\n' OR f.quote OPERATOR(pg_catalog.=) E'\r') THEN
        RAISE EXCEPTION 'gridflow.source_file has a delimiter or quote that is not one ASCII character'
            USING DETAIL = 'gridflow 0.3.0 splits records on one ASCII byte only.',
                  HINT = 'Set gridflow.source_file.delimiter and quote to ASCII characters other than a line break, then update.';
    END IF;
END
$$;
ALTER TABLE gridflow.source_file
    DROP CONSTRAINT source_file_delimiter_check,
    ADD CONSTRAINT source_file_delimiter_check
        CHECK (pg_catalog.octet_length(delimiter) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.ascii(delimiter) OPERATOR(pg_catalog.<) 128
               AND delimiter OPERATOR(pg_catalog.<>) E'\n' AND delimiter OPERATOR(pg_catalog.<>) E'\r'),
    DROP CONSTRAINT source_file_quote_check,
    ADD CONSTRAINT source_file_quote_check
        CHECK (pg_catalog.octet_length(quote) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.ascii(quote) OPERATOR(pg_catalog.<) 128
               AND quote OPERATOR(pg_catalog.<>) E'\n' AND quote OPERATOR(pg_catalog.<>) E'\r');
COMMENT ON COLUMN gridflow.source_file.delimiter IS 'Field delimiter: one ASCII character other than a line break (records are split byte by byte, and a byte of 0x80 or above is never a whole UTF-8 character)';
COMMENT ON COLUMN gridflow.source_file.quote IS 'Quote character: one ASCII character other than a line break, not the delimiter; a doubled quote inside quotes is a literal quote';

-- chunk_records() refuses records that are not valid UTF-8.
COMMENT ON FUNCTION gridflow.chunk_records(bytea) IS 'The records packed in one landing.source_chunk, with their line numbers; an error if the bytea is not a chunk or a record is not valid UTF-8';

-- Time zones are names of the IANA database (as pg_timezone_names lists
-- them): a POSIX specification such as '+05' (which PostgreSQL reads as
-- five hours west of Greenwich) or an unknown name is refused when the
-- configuration is written, not when a build starts.
--
CREATE FUNCTION gridflow.is_time_zone(name text) RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN EXISTS (SELECT FROM pg_catalog.pg_timezone_names z
                WHERE pg_catalog.lower(z.name) OPERATOR(pg_catalog.=) pg_catalog.lower(is_time_zone.name));
COMMENT ON FUNCTION gridflow.is_time_zone(text) IS 'Is name a time zone of the IANA database (pg_timezone_names), such as America/New_York or UTC, in any case as PostgreSQL reads them? POSIX specifications such as +05 are not';

ALTER TABLE gridflow.utility ADD CONSTRAINT utility_time_zone_known CHECK (gridflow.is_time_zone(time_zone));
ALTER TABLE gridflow.column_map ADD CONSTRAINT column_map_time_zone_known CHECK (gridflow.is_time_zone(time_zone));
COMMENT ON COLUMN gridflow.utility.time_zone IS 'IANA time zone of the utility (a name of pg_timezone_names): local wall-clock times and integer dates are read in it, and daily buckets are its local days';
COMMENT ON COLUMN gridflow.column_map.time_zone IS 'For timestamp targets: the IANA time zone (a name of pg_timezone_names) of times without offset in this column (e.g. UTC); NULL: the utility''s time_zone';

-- Validation of interval reads (VEE): the quality codes a read can carry,
-- and each utility's validation rules (10_schemas_config.sql), shipped for
-- UTILITY1 and UTILITY2 as 50_utilities.sql ships them.
CREATE TABLE gridflow.quality_code (
    code smallint PRIMARY KEY,
    espi_name text NOT NULL UNIQUE,
    description text NOT NULL
);
COMMENT ON TABLE gridflow.quality_code IS 'Quality codes of interval reads: the values of NAESB ESPI (Green Button) QualityOfReading that gridflow uses, with their ESPI names; shipped with the extension';
COMMENT ON COLUMN gridflow.quality_code.code IS 'QualityOfReading value';
COMMENT ON COLUMN gridflow.quality_code.espi_name IS 'Name of the value in the ESPI QualityOfReading enumeration';
COMMENT ON COLUMN gridflow.quality_code.description IS 'What the code means for a read of gridflow';
-- The names are those of the ESPI QualityOfReading enumeration as Green
-- Button implementations spell them; they were checked against those
-- implementations, not against the ESPI schema document itself.
INSERT INTO gridflow.quality_code (code, espi_name, description) VALUES
    (0, 'valid', 'Passed every enabled validation rule of its utility (gridflow.vee_rule)'),
    (8, 'estimated using reference day', 'Estimated from the same wall-clock interval of reference days (the same weekday of earlier weeks)'),
    (9, 'estimated using linear interpolation', 'Estimated by linear interpolation between the actual reads before and after it'),
    (10, 'questionable', 'Failed one or more enabled validation rules; the value is kept as the utility sent it');

CREATE FUNCTION gridflow.vee_number(x jsonb, lowest numeric, integral boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(x) OPERATOR(pg_catalog.=) 'number'
            THEN x::numeric OPERATOR(pg_catalog.>=) lowest
                 AND (NOT integral OR x::numeric OPERATOR(pg_catalog.=) pg_catalog.trunc(x::numeric))
            ELSE false END;
COMMENT ON FUNCTION gridflow.vee_number(jsonb, numeric, boolean) IS 'Is x a JSON number of at least lowest (and a whole number, if integral)? For the parameters of gridflow.vee_rule';

CREATE FUNCTION gridflow.vee_parameters_valid(rule text, parameters jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN pg_catalog.jsonb_typeof(parameters) IS DISTINCT FROM 'object' THEN false
    WHEN rule OPERATOR(pg_catalog.=) ANY (ARRAY['interval_count', 'gap', 'off_grid', 'negative'])
        THEN parameters OPERATOR(pg_catalog.=) '{}'::jsonb
    WHEN rule OPERATOR(pg_catalog.=) ANY (ARRAY['zero_run', 'flat_line'])
        THEN (parameters OPERATOR(pg_catalog.-) 'min_intervals') OPERATOR(pg_catalog.=) '{}'::jsonb
             AND gridflow.vee_number(parameters OPERATOR(pg_catalog.->) 'min_intervals', 2, true)
    WHEN rule OPERATOR(pg_catalog.=) 'spike'
        THEN (parameters OPERATOR(pg_catalog.-) ARRAY['ratio', 'floor']) OPERATOR(pg_catalog.=) '{}'::jsonb
             AND gridflow.vee_number(parameters OPERATOR(pg_catalog.->) 'ratio', 1, false)
             AND gridflow.vee_number(parameters OPERATOR(pg_catalog.->) 'floor', 0, false)
    WHEN rule OPERATOR(pg_catalog.=) 'ceiling'
        THEN (parameters OPERATOR(pg_catalog.-) 'max') OPERATOR(pg_catalog.=) '{}'::jsonb
             AND gridflow.vee_number(parameters OPERATOR(pg_catalog.->) 'max', 0, false)
    WHEN rule OPERATOR(pg_catalog.=) 'high_low'
        THEN (parameters OPERATOR(pg_catalog.-) ARRAY['low', 'high', 'days', 'min_days']) OPERATOR(pg_catalog.=) '{}'::jsonb
             AND gridflow.vee_number(parameters OPERATOR(pg_catalog.->) 'low', 0, false)
             AND gridflow.vee_number(parameters OPERATOR(pg_catalog.->) 'high', 0, false)
             AND gridflow.vee_number(parameters OPERATOR(pg_catalog.->) 'days', 1, true)
             AND gridflow.vee_number(parameters OPERATOR(pg_catalog.->) 'min_days', 1, true)
             AND (parameters OPERATOR(pg_catalog.->) 'low')::numeric
                 OPERATOR(pg_catalog.<) (parameters OPERATOR(pg_catalog.->) 'high')::numeric
             AND (parameters OPERATOR(pg_catalog.->) 'min_days')::numeric
                 OPERATOR(pg_catalog.<=) (parameters OPERATOR(pg_catalog.->) 'days')::numeric
    ELSE false
END;
COMMENT ON FUNCTION gridflow.vee_parameters_valid(text, jsonb) IS 'Are parameters the complete and valid parameters of a validation rule of gridflow.vee_rule (every key the rule has, no other, each a number in range)?';

CREATE FUNCTION gridflow.vee_spike(value double precision, third_largest double precision,
                                   ratio double precision, floor double precision) RETURNS boolean
AS 'MODULE_PATHNAME', 'gridflow_vee_spike'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.vee_spike(double precision, double precision, double precision, double precision) IS 'The spike rule of gridflow.vee_rule: is value above ratio times third_largest (the third-largest value of its local day and series), with third_largest at least floor? Values compare as double precision does (NaN above all); where ratio times third_largest exceeds double precision, nothing is above it';

CREATE FUNCTION gridflow.vee_outside(total double precision, median double precision,
                                     low double precision, high double precision) RETURNS boolean
AS 'MODULE_PATHNAME', 'gridflow_vee_outside'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.vee_outside(double precision, double precision, double precision, double precision) IS 'The high_low rule of gridflow.vee_rule: is total below low times median or above high times median? Values compare as double precision does (NaN above all); the products are not checked for overflow (an infinite bound)';

CREATE FUNCTION gridflow.vee_prior_median_transfn(internal, date, double precision, integer, integer)
RETURNS internal
AS 'MODULE_PATHNAME', 'gridflow_vee_prior_median_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.vee_prior_median_transfn(internal, date, double precision, integer, integer) IS 'Transition function of gridflow.vee_prior_median()';

CREATE FUNCTION gridflow.vee_prior_median_finalfn(internal)
RETURNS double precision
AS 'MODULE_PATHNAME', 'gridflow_vee_prior_median_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.vee_prior_median_finalfn(internal) IS 'Final function of gridflow.vee_prior_median()';

CREATE AGGREGATE gridflow.vee_prior_median(local_date date, day_total double precision,
                                           days integer, min_days integer) (
    SFUNC = gridflow.vee_prior_median_transfn,
    STYPE = internal,
    FINALFUNC = gridflow.vee_prior_median_finalfn
);
COMMENT ON AGGREGATE gridflow.vee_prior_median(date, double precision, integer, integer) IS 'The high_low rule''s reference, as a window aggregate over a series'' reads in time order (the frame from the first read to the current one; each read carries its local day and the day''s total, NULL when no read of the day has a value): the median of the totals of the days in the days days before the current read''s day that have a total, as percentile_cont(0.5) computes it, when there are at least min_days of them; else NULL';

CREATE TABLE gridflow.vee_rule (
    utility_id text NOT NULL REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    rule text NOT NULL
        CHECK (rule IN ('interval_count', 'gap', 'off_grid', 'negative', 'zero_run', 'spike',
                        'flat_line', 'ceiling', 'high_low')),
    enabled boolean NOT NULL DEFAULT true,
    parameters jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (utility_id, rule),
    CONSTRAINT vee_rule_parameters CHECK (gridflow.vee_parameters_valid(rule, parameters))
);
COMMENT ON TABLE gridflow.vee_rule IS 'Validation rules of a utility''s interval reads (VEE), one row per rule; a rule without a row, or disabled, is not applied. Shipped for UTILITY1 and UTILITY2 with the defaults. Rules: interval_count (reads of a local day and channel against the intervals the day''s length implies), gap (an expected interval missing between two reads of a meter and channel), off_grid (a start off the channel''s interval grid), negative (a value below zero), zero_run (min_intervals or more consecutive zero reads), spike (a read above ratio times the third-largest read of its local day and channel, when that is at least floor), flat_line (min_intervals or more consecutive identical non-zero values), ceiling (a value at or above max), high_low (a day''s total outside [low, high] times the median daily total of the previous days days, with at least min_days such days). A series is the reads of one service point (or none), meter and channel in time order; runs are of consecutive reads of a series; days are local days. Builds, ingests and rebuilds apply every rule but interval_count read by read (product.usage_interval.quality_code and vee_flags; gridflow.product_source says how): gap flags the read after the missing intervals; zero_run and flat_line every read of the run; spike the read; high_low every read of the day. interval_count flags no read: dq.vee_interval_counts counts the days off count';
COMMENT ON COLUMN gridflow.vee_rule.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.vee_rule.rule IS 'Rule name: interval_count, gap, off_grid, negative, zero_run, spike, flat_line, ceiling or high_low';
COMMENT ON COLUMN gridflow.vee_rule.enabled IS 'Whether the rule is applied (false: kept with its parameters, not applied)';
COMMENT ON COLUMN gridflow.vee_rule.parameters IS 'The rule''s parameters, every one of them (gridflow.vee_parameters_valid): zero_run and flat_line {"min_intervals": n >= 2}; spike {"ratio": >= 1, "floor": >= 0}; ceiling {"max": >= 0}; high_low {"low", "high" (low < high), "days", "min_days" (whole numbers, min_days <= days)}; the other rules {}';
COMMENT ON CONSTRAINT vee_rule_parameters ON gridflow.vee_rule IS 'A rule has exactly its own parameters, each a number in range';

-- An ingest into a utility with a validation rule over series refreshes every
-- day of the service points it touches.
COMMENT ON FUNCTION @extschema@.gridflow_ingest(text, text, text) IS 'Add files to what the layers hold, in the caller''s transaction: a drop directory (every configured file found in it, of one utility or of all enabled ones) or one file (utility_id required; file_kind when its name does not say it). Each file becomes a batch; a file whose content (SHA-256) was loaded before for the same utility and kind is skipped (outcome unchanged, same_as_batch). Records whose key an earlier batch loaded follow the utility''s interval_dedup_policy (keep_first: the original stays; keep_last: the correction wins; sum: added), and product rows and daily summaries are refreshed for the service points and local days that changed (with a validation rule over series enabled, gridflow.vee_rule, every day of those service points; days_refreshed counts them); the result equals gridflow_rebuild() of the same files. Ingests of one utility queue; of different utilities, they run side by side. Rights as for gridflow_build().';
INSERT INTO gridflow.vee_rule (utility_id, rule, enabled, parameters)
SELECT u.utility_id, r.rule, r.enabled, r.parameters::jsonb
  FROM gridflow.utility u
 CROSS JOIN (VALUES ('interval_count', true, '{}'),
                    ('gap', true, '{}'),
                    ('off_grid', true, '{}'),
                    ('negative', true, '{}'),
                    ('zero_run', true, '{"min_intervals": 8}'),
                    ('spike', true, '{"ratio": 10, "floor": 1}'),
                    ('flat_line', true, '{"min_intervals": 16}'),
                    ('ceiling', false, '{"max": 999000}'),
                    ('high_low', true, '{"low": 0.2, "high": 5, "days": 28, "min_days": 7}'))
       AS r(rule, enabled, parameters)
 WHERE u.utility_id OPERATOR(pg_catalog.=) ANY (ARRAY['UTILITY1', 'UTILITY2']);
GRANT SELECT, INSERT, UPDATE, DELETE ON gridflow.vee_rule TO gridflow_pipeline;
GRANT SELECT ON gridflow.quality_code TO gridflow_pipeline, gridflow_internal;
GRANT SELECT ON gridflow.vee_rule TO gridflow_internal;

-- Estimation (gridflow.vee_estimation): off unless a row enables it.
CREATE TABLE gridflow.vee_estimation (
    utility_id text PRIMARY KEY REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    max_interpolation_seconds integer NOT NULL DEFAULT 7200
        CHECK (max_interpolation_seconds OPERATOR(pg_catalog.>=) 0
               AND max_interpolation_seconds OPERATOR(pg_catalog.<=) 2678400),
    max_reference_seconds integer NOT NULL DEFAULT 86400
        CHECK (max_reference_seconds OPERATOR(pg_catalog.>=) 0
               AND max_reference_seconds OPERATOR(pg_catalog.<=) 2678400),
    reference_days integer NOT NULL DEFAULT 3
        CHECK (reference_days OPERATOR(pg_catalog.>=) 1),
    reference_weeks integer NOT NULL DEFAULT 4
        CHECK (reference_weeks OPERATOR(pg_catalog.>=) 1 AND reference_weeks OPERATOR(pg_catalog.<=) 53),
    CONSTRAINT vee_estimation_reference_days CHECK (reference_days OPERATOR(pg_catalog.<=) reference_weeks)
);
COMMENT ON TABLE gridflow.vee_estimation IS 'Estimation of missing intervals (VEE), one row per utility: a row enables it (none shipped: off for UTILITY1 and UTILITY2). Builds, ingests and rebuilds write the estimates as product rows (product.usage_interval, quality_code 9 linear interpolation, 8 reference days) between two reads of a series (service point, meter and channel) of the same duration, over a gap that is a whole number of intervals: up to max_interpolation_seconds, when neither read fails a rule other than gap and both have a value, the k-th of n missing intervals gets a + (b - a) * k / (n + 1); longer, up to max_reference_seconds, each interval gets the mean of the reads at the same local wall-clock time and duration on the reference_days most recent days of the same weekday within reference_weeks weeks before the gap whose reads are all valid and not estimated (as many as there are, at least one; when an interval has none, the gap is not estimated). A gap is estimated whole or not at all; nothing before a series'' first read or after its last. The spring-forward day''s skipped hour is no gap; in the fall-back day''s repeated hour both sets of intervals are estimated, each from the reference days'' one read at that wall-clock time (a fall-back reference day offers its first, daylight-time, read)';
COMMENT ON COLUMN gridflow.vee_estimation.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.vee_estimation.max_interpolation_seconds IS 'Longest gap filled by linear interpolation (code 9), in seconds (0 to 31 days; 0: none)';
COMMENT ON COLUMN gridflow.vee_estimation.max_reference_seconds IS 'Longest gap filled from reference days (code 8), in seconds (0 to 31 days); gaps up to max_interpolation_seconds are interpolated, longer ones up to this from reference days';
COMMENT ON COLUMN gridflow.vee_estimation.reference_days IS 'Reference days averaged per missing interval, at most (1 to reference_weeks)';
COMMENT ON COLUMN gridflow.vee_estimation.reference_weeks IS 'Weeks before the gap in which reference days are looked for: the same weekday 1 to reference_weeks weeks before each missing interval (1 to 53)';
COMMENT ON CONSTRAINT vee_estimation_reference_days ON gridflow.vee_estimation IS 'There is one candidate reference day per week: reference_days is at most reference_weeks';
GRANT SELECT, INSERT, UPDATE, DELETE ON gridflow.vee_estimation TO gridflow_pipeline;
GRANT SELECT ON gridflow.vee_estimation TO gridflow_internal;

-- Dumps: the configuration as one document (gridflow.configuration_dump) instead of
-- its tables, with batches, builds and their sequences.  The tables' own
-- registrations are removed by taking them out of the extension and back in.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['unit', 'utility', 'source_file', 'column_map', 'channel', 'role_utility', 'shard'] LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION gridflow DROP TABLE gridflow.%I', t);
        EXECUTE pg_catalog.format('ALTER EXTENSION gridflow ADD TABLE gridflow.%I', t);
    END LOOP;
END
$$;
-- (the configuration document, its functions and triggers, and the
-- functions on orphan relation files: 80_operations.sql, appended below)

-- UTILITY1's channels as their names say (unit and interval length), and
-- what UTILITY2's files do not say; a configuration of the user's stays.
UPDATE gridflow.utility
   SET description = 'Reads reach the service point (premise) through the meter file; reads carry a date without a time of day (day resolution) and numeric channel codes whose meaning and unit the utility does not document (unit unknown)'
 WHERE utility_id OPERATOR(pg_catalog.=) 'UTILITY2'
   AND description OPERATOR(pg_catalog.=) 'Reads reach the service point (premise) through the meter file';
INSERT INTO gridflow.channel (utility_id, channel, duration_seconds, unit, description)
SELECT v.utility_id, v.channel, v.duration_seconds, v.unit, v.description
  FROM (VALUES ('UTILITY1', 'KWH 15 Minute Interval Read Interval', 900, 'kWh', 'Energy, 15-minute intervals'),
               ('UTILITY1', 'KWH 5 Minute Interval Read Interval', 300, 'kWh', 'Energy, 5-minute intervals'),
               ('UTILITY1', 'KWH Net 15 Minute Interval Read Interval', 900, 'kWh', 'Net energy (delivered less received), 15-minute intervals'),
               ('UTILITY1', 'KWH Received 5 Minute Interval Read Interval', 300, 'kWh', 'Energy received from the customer (exported to the grid), 5-minute intervals'),
               ('UTILITY1', 'KVARH 5 Minute Interval Read Interval', 300, 'kvarh', 'Reactive energy, 5-minute intervals'))
       AS v(utility_id, channel, duration_seconds, unit, description)
 WHERE EXISTS (SELECT FROM gridflow.utility u WHERE u.utility_id OPERATOR(pg_catalog.=) 'UTILITY1')
   AND NOT EXISTS (SELECT FROM gridflow.channel c WHERE c.utility_id OPERATOR(pg_catalog.=) 'UTILITY1');

-- Quality: a utility whose reads' quality holds ESPI QualityOfReading codes
-- (quality_scheme espi) has them carried into the product's quality code.
ALTER TABLE gridflow.utility ADD COLUMN quality_scheme text
    CONSTRAINT utility_quality_scheme CHECK (quality_scheme IN ('espi'));
COMMENT ON COLUMN gridflow.utility.quality_scheme IS 'What the quality column of the utility''s reads holds: NULL, flags of the utility''s own that gridflow keeps in quality and does not read (quality_code is what gridflow.vee_rule says); espi, NAESB ESPI QualityOfReading codes (as Green Button files write them): a code of gridflow.quality_code other than 0 is carried into product.usage_interval.quality_code whatever the validation rules say (they still list the rules the read fails in vee_flags), 0 or no quality leaves the code to the rules (0 or 10), and any other quality (an ESPI code gridflow.quality_code does not have, such as 7 manually edited or 19 revenue-quality, or text that is not a code) makes the read 10 questionable; the text stays in quality either way';
COMMENT ON CONSTRAINT utility_quality_scheme ON gridflow.utility IS 'The quality schemes gridflow reads: espi';

-- ESPI FlowDirectionKind: which way the energy of a channel's reads flows,
-- as the NAESB REQ.21 ESPI schema (usage.xsd, version 3.3) enumerates it.
CREATE TABLE gridflow.flow_direction (
    code smallint PRIMARY KEY,
    espi_name text NOT NULL UNIQUE,
    description text NOT NULL
);
COMMENT ON TABLE gridflow.flow_direction IS 'NAESB ESPI FlowDirectionKind values, with their ESPI names: what gridflow.channel.flow_direction may say and Green Button ReadingType flowDirection carries; shipped with the extension';
COMMENT ON COLUMN gridflow.flow_direction.code IS 'FlowDirectionKind value';
COMMENT ON COLUMN gridflow.flow_direction.espi_name IS 'Name of the value in the ESPI FlowDirectionKind enumeration';
COMMENT ON COLUMN gridflow.flow_direction.description IS 'What the direction means';
INSERT INTO gridflow.flow_direction (code, espi_name, description) VALUES
    (0, 'none', 'Not applicable'),
    (1, 'forward', 'Delivered to the customer (imported from the grid): the energy a customer consumes'),
    (2, 'lagging', 'Lagging power factor'),
    (3, 'leading', 'Leading power factor'),
    (4, 'net', 'Net: forward less reverse (may be negative)'),
    (5, 'q1plusQ2', 'Reactive positive quadrants (Q1 plus Q2)'),
    (7, 'q1plusQ3', 'Quadrants 1 and 3'),
    (8, 'q1plusQ4', 'Quadrants 1 and 4 (usually forward active energy)'),
    (9, 'q1minusQ4', 'Q1 minus Q4'),
    (10, 'q2plusQ3', 'Quadrants 2 and 3 (usually reverse active energy)'),
    (11, 'q2plusQ4', 'Quadrants 2 and 4'),
    (12, 'q2minusQ3', 'Q2 minus Q3'),
    (13, 'q3plusQ4', 'Reactive negative quadrants (Q3 plus Q4)'),
    (14, 'q3minusQ2', 'Q3 minus Q2'),
    (15, 'quadrant1', 'Q1 only'),
    (16, 'quadrant2', 'Q2 only'),
    (17, 'quadrant3', 'Q3 only'),
    (18, 'quadrant4', 'Q4 only'),
    (19, 'reverse', 'Received from the customer (exported to the grid), e.g. by solar panels'),
    (20, 'total', 'Total: forward plus reverse'),
    (21, 'totalByPhase', 'Total by phase');

ALTER TABLE gridflow.channel ADD COLUMN flow_direction smallint REFERENCES gridflow.flow_direction;
COMMENT ON COLUMN gridflow.channel.flow_direction IS 'ESPI FlowDirectionKind of the channel''s reads (gridflow.flow_direction): 1 forward (delivered to the customer), 19 reverse (received from the customer), 4 net, ...; the Green Button export writes it as the ReadingType''s flowDirection (NULL, or no row: 1 forward), and a Green Button import lands each ReadingType''s flowDirection in its records'' flow_direction, to be configured here for the importing utility''s channel';
GRANT SELECT ON gridflow.flow_direction TO gridflow_pipeline, gridflow_internal;
-- the shipped channels of UTILITY1, as their names say; a direction of the
-- user's stays
UPDATE gridflow.channel c
   SET flow_direction = v.flow_direction
  FROM (VALUES ('KWH 15 Minute Interval Read Interval', 1),
               ('KWH 5 Minute Interval Read Interval', 1),
               ('KWH Net 15 Minute Interval Read Interval', 4),
               ('KWH Received 5 Minute Interval Read Interval', 19)) AS v(channel, flow_direction)
 WHERE c.utility_id OPERATOR(pg_catalog.=) 'UTILITY1'
   AND c.channel OPERATOR(pg_catalog.=) v.channel
   AND c.flow_direction IS NULL;

--
-- The layers and every object over them go: their sources, appended below,
-- make them anew.  Nothing outside the extension may depend on them (the
-- update stops and names it otherwise); their partitions go with them.
--
DROP VIEW dq.snapshot, dq.batch_quality, dq.batches, dq.completeness, dq.conflicting_service_points,
    dq.dedup_value_share, dq.experience_summary, dq.meter_link_ambiguity, dq.multi_premise_meters,
    dq.readiness, dq.referential_integrity, dq.rejects, dq.row_counts, dq.source_duplicates,
    dq.timestamp_range, dq.value_profile,
    external.daily_usage, external.service_point, external.usage_interval,
    gridflow.experience_source, gridflow.product_source, landing.source_record;
DROP FUNCTION gridflow.source_record(bigint, bigint);
-- a shard's stage of reads has the columns of the reads, which changed
DROP TABLE gridflow.shard_stage_read;
DROP TABLE landing.source_chunk, landing.reject, standardized.service_point, standardized.meter,
    standardized.meter_assignment, standardized.interval_read, product.usage_interval,
    experience.daily_usage;

-- The aggregates' states are bytea now, not internal (which Citus does not
-- combine): they are made anew (33_aggregates.sql, appended), once the
-- views over them are gone.
DROP AGGREGATE gridflow.exact_sum(double precision), gridflow.peak_pit(double precision, timestamptz);
DROP FUNCTION gridflow.exact_sum_transfn(internal, double precision), gridflow.exact_sum_combinefn(internal, internal),
    gridflow.exact_sum_serialfn(internal), gridflow.exact_sum_deserialfn(bytea, internal),
    gridflow.exact_sum_finalfn(internal),
    gridflow.peak_pit_transfn(internal, double precision, timestamptz), gridflow.peak_pit_combinefn(internal, internal),
    gridflow.peak_pit_serialfn(internal), gridflow.peak_pit_deserialfn(bytea, internal),
    gridflow.peak_pit_finalfn(internal);

--
-- What follows is appended from the sources by the build.
--

-- Green Button files: layout espi, for interval files.
ALTER TABLE gridflow.source_file DROP CONSTRAINT source_file_layout_check;
ALTER TABLE gridflow.source_file ADD CONSTRAINT source_file_layout_check CHECK (layout IN ('long', 'wide', 'espi'));
ALTER TABLE gridflow.source_file ADD CONSTRAINT source_file_espi_layout
    CHECK (layout OPERATOR(pg_catalog.<>) 'espi' OR file_kind OPERATOR(pg_catalog.=) 'interval');
COMMENT ON CONSTRAINT source_file_espi_layout ON gridflow.source_file IS 'A Green Button (espi) file is an interval file';
COMMENT ON COLUMN gridflow.source_file.layout IS 'long: one read per record; wide (interval files only): one record per meter and day, with one column per interval (wide_columns), unpivoted into reads by the loader; espi (interval files only): a Green Button (NAESB ESPI) Atom feed, whose IntervalReadings are read as records of the header usage_point, meter_reading, reading_type, start, duration, value, unit, quality, flow_direction, xml_line, problem (value in the common unit of the ReadingType''s uom; delimiter and quote are not used)';
