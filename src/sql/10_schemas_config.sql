-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION gridflow" to load this file. \quit

-- Resolve every unqualified name of this script in pg_catalog only, so that
-- objects planted in other schemas cannot be picked up (SET LOCAL is undone
-- when CREATE EXTENSION finishes).
SET LOCAL search_path TO pg_catalog, pg_temp;

--
-- Schemas: one per medallion layer, plus gridflow (configuration and
-- functions), dq (data-quality views) and external (masked views for
-- external readers).
--
CREATE SCHEMA gridflow;
CREATE SCHEMA landing;
CREATE SCHEMA standardized;
CREATE SCHEMA product;
CREATE SCHEMA experience;
CREATE SCHEMA dq;
CREATE SCHEMA external;

COMMENT ON SCHEMA gridflow IS 'gridflow configuration (utilities, their files and column mappings), batches, build log and library functions';
COMMENT ON SCHEMA landing IS 'gridflow landing layer: every source record exactly as read, with its batch and line, and every rejected record';
COMMENT ON SCHEMA standardized IS 'gridflow standardized layer: one common, typed, de-duplicated model for every utility';
COMMENT ON SCHEMA product IS 'gridflow product layer: the interval-grain usage fact table';
COMMENT ON SCHEMA experience IS 'gridflow experience layer: daily usage summaries with peak and pit per service point and channel';
COMMENT ON SCHEMA dq IS 'gridflow data-quality views and the text snapshot report';
COMMENT ON SCHEMA external IS 'gridflow views for external readers (gridflow_external): street, house number and house supplement masked, ZIP codes cut to three digits, rows of the reader''s utilities only';

--
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

--
-- Configuration
--
CREATE TABLE gridflow.utility (
    utility_id text PRIMARY KEY
        CHECK (utility_id OPERATOR(pg_catalog.~) '^[A-Za-z][A-Za-z0-9_]*$'),
    description text,
    time_zone text NOT NULL DEFAULT 'America/New_York'
        CONSTRAINT utility_time_zone_known CHECK (gridflow.is_time_zone(time_zone)),
    build_order integer NOT NULL DEFAULT 100,
    service_point_link text NOT NULL DEFAULT 'read'
        CHECK (service_point_link IN ('read', 'meter')),
    meter_link_policy text NOT NULL DEFAULT 'first_row'
        CHECK (meter_link_policy IN ('first_row', 'effective_dated')),
    interval_dedup_policy text NOT NULL DEFAULT 'keep_first'
        CHECK (interval_dedup_policy IN ('keep_first', 'keep_last', 'sum')),
    enabled boolean NOT NULL DEFAULT true,
    ambiguous_local_time text NOT NULL DEFAULT 'later'
        CHECK (ambiguous_local_time IN ('later', 'earlier', 'in_order', 'reject')),
    quality_scheme text
        CONSTRAINT utility_quality_scheme CHECK (quality_scheme IN ('espi'))
);
CREATE UNIQUE INDEX utility_id_lower_key ON gridflow.utility (pg_catalog.lower(utility_id));
ALTER TABLE gridflow.utility ADD CONSTRAINT utility_id_length
    CHECK (pg_catalog.length(pg_catalog.replace(utility_id, '_', '__')) OPERATOR(pg_catalog.<=) 36);
COMMENT ON INDEX gridflow.utility_id_lower_key IS 'Utility ids are unique whatever their case: the names of their partitions are in lower case';
COMMENT ON CONSTRAINT utility_id_length ON gridflow.utility IS 'A utility id names its partitions (in lower case, underscores doubled, with a month and a key suffix), which must fit in 63 bytes: at most 36 characters, underscores counting twice';
COMMENT ON TABLE gridflow.utility IS 'One row per utility that gridflow builds; how its reads reach a service point and how duplicates are resolved';
COMMENT ON COLUMN gridflow.utility.utility_id IS 'Utility identifier, as it appears in every layer (e.g. UTILITY1): a letter, then letters, digits and underscores; unique whatever the case';
COMMENT ON COLUMN gridflow.utility.description IS 'Free text';
COMMENT ON COLUMN gridflow.utility.time_zone IS 'IANA time zone of the utility (a name of pg_timezone_names): local wall-clock times and integer dates are read in it, and daily buckets are its local days';
COMMENT ON COLUMN gridflow.utility.build_order IS 'Utilities are built in ascending build_order, then utility_id';
COMMENT ON COLUMN gridflow.utility.service_point_link IS 'read: the interval file names the service point; meter: the service point is reached through the meter (see meter_link_policy)';
COMMENT ON COLUMN gridflow.utility.meter_link_policy IS 'For service_point_link = meter: first_row takes the service point of the meter''s first row in the meter file; effective_dated takes the assignment installed on or before the read and not removed by then (latest installation wins)';
COMMENT ON COLUMN gridflow.utility.interval_dedup_policy IS 'Reads with the same key (utility, service point, meter, start, channel): keep_first keeps the first in file order, keep_last the last, sum adds their values (lineage of the first)';
COMMENT ON COLUMN gridflow.utility.enabled IS 'Disabled utilities are skipped by builds';
COMMENT ON COLUMN gridflow.utility.ambiguous_local_time IS 'How a local time without offset in the hour repeated when daylight saving time ends is read: later (PostgreSQL''s rule: the second occurrence, standard time), earlier (the first, daylight time), in_order (interval starts: the first record of a series (meter, service point, channel) at that time is the earlier instant and a repeat of it the later one; other columns: later), reject (the record is rejected); dq.timestamp_range counts these times either way';

COMMENT ON COLUMN gridflow.utility.quality_scheme IS 'What the quality column of the utility''s reads holds: NULL, flags of the utility''s own that gridflow keeps in quality and does not read (quality_code is what gridflow.vee_rule says); espi, NAESB ESPI QualityOfReading codes (as Green Button files write them): a code of gridflow.quality_code other than 0 is carried into product.usage_interval.quality_code whatever the validation rules say (they still list the rules the read fails in vee_flags), 0 or no quality leaves the code to the rules (0 or 10), and any other quality (an ESPI code gridflow.quality_code does not have, such as 7 manually edited or 19 revenue-quality, or text that is not a code) makes the read 10 questionable; the text stays in quality either way';
COMMENT ON CONSTRAINT utility_quality_scheme ON gridflow.utility IS 'The quality schemes gridflow reads: espi';

--
-- Units: what a unit written in a file means in gridflow's common units.
--
CREATE TABLE gridflow.unit (
    unit text PRIMARY KEY CHECK (unit OPERATOR(pg_catalog.<>) ''),
    factor double precision NOT NULL
        CHECK (factor OPERATOR(pg_catalog.>) 0 AND factor OPERATOR(pg_catalog.<) 'Infinity'::double precision),
    common_unit text NOT NULL,
    description text
);
CREATE UNIQUE INDEX unit_lower_key ON gridflow.unit (pg_catalog.lower(unit));
COMMENT ON TABLE gridflow.unit IS 'Units a utility may give values and durations in, and how they convert into gridflow''s common units (kWh, kvarh, kW, kvar, seconds); units are matched case-insensitively';
COMMENT ON INDEX gridflow.unit_lower_key IS 'Units are matched case-insensitively, so two units may not differ in case only';
COMMENT ON COLUMN gridflow.unit.unit IS 'Unit as written in a file or in the configuration (Wh, kWh, min, ...)';
COMMENT ON COLUMN gridflow.unit.factor IS 'A value in this unit times factor is the value in common_unit (finite and positive: NaN and Infinity are refused)';
COMMENT ON COLUMN gridflow.unit.common_unit IS 'The common unit it converts to: kWh, kvarh, kW, kvar, or s for durations';
COMMENT ON COLUMN gridflow.unit.description IS 'Free text';
INSERT INTO gridflow.unit (unit, factor, common_unit, description) VALUES
    ('Wh', 0.001, 'kWh', 'watt-hour'),
    ('kWh', 1, 'kWh', 'kilowatt-hour'),
    ('MWh', 1000, 'kWh', 'megawatt-hour'),
    ('varh', 0.001, 'kvarh', 'volt-ampere reactive hour'),
    ('kvarh', 1, 'kvarh', 'kilovolt-ampere reactive hour'),
    ('W', 0.001, 'kW', 'watt (demand)'),
    ('kW', 1, 'kW', 'kilowatt (demand)'),
    ('MW', 1000, 'kW', 'megawatt (demand)'),
    ('var', 0.001, 'kvar', 'volt-ampere reactive (demand)'),
    ('kvar', 1, 'kvar', 'kilovolt-ampere reactive (demand)'),
    ('s', 1, 's', 'second'),
    ('min', 60, 's', 'minute'),
    ('h', 3600, 's', 'hour');

CREATE TABLE gridflow.source_file (
    utility_id text NOT NULL REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    file_kind text NOT NULL CHECK (file_kind IN ('service_point', 'meter', 'interval', 'assignment')),
    file_path text NOT NULL CHECK (file_path OPERATOR(pg_catalog.<>) ''),
    delimiter text NOT NULL DEFAULT ','
        CHECK (pg_catalog.octet_length(delimiter) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.ascii(delimiter) OPERATOR(pg_catalog.<) 128
               AND delimiter OPERATOR(pg_catalog.<>) E'\n' AND delimiter OPERATOR(pg_catalog.<>) E'\r'),
    quote text NOT NULL DEFAULT '"'
        CHECK (pg_catalog.octet_length(quote) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.ascii(quote) OPERATOR(pg_catalog.<) 128
               AND quote OPERATOR(pg_catalog.<>) E'\n' AND quote OPERATOR(pg_catalog.<>) E'\r'),
    layout text NOT NULL DEFAULT 'long' CHECK (layout IN ('long', 'wide', 'espi')),
    wide_columns text[],
    wide_interval_seconds integer
        CHECK (wide_interval_seconds OPERATOR(pg_catalog.>) 0
               AND CASE WHEN wide_interval_seconds OPERATOR(pg_catalog.>) 0
                        THEN 3600 OPERATOR(pg_catalog.%) wide_interval_seconds OPERATOR(pg_catalog.=) 0 END),
    wide_dst text
        CHECK (wide_dst IN ('elapsed', 'wall_clock_split', 'wall_clock_earlier', 'wall_clock_later')),
    PRIMARY KEY (utility_id, file_kind),
    CONSTRAINT source_file_path_in_drop
        CHECK (file_path OPERATOR(pg_catalog.!~) '^/|(^|/)[.][.](/|$)'),
    CONSTRAINT source_file_wide_layout
        CHECK (CASE layout
                    WHEN 'wide' THEN file_kind OPERATOR(pg_catalog.=) 'interval'
                                     AND pg_catalog.cardinality(wide_columns) OPERATOR(pg_catalog.>) 0
                                     AND wide_interval_seconds IS NOT NULL AND wide_dst IS NOT NULL
                    ELSE wide_columns IS NULL AND wide_interval_seconds IS NULL AND wide_dst IS NULL
               END),
    CONSTRAINT source_file_espi_layout
        CHECK (layout OPERATOR(pg_catalog.<>) 'espi' OR file_kind OPERATOR(pg_catalog.=) 'interval')
);
COMMENT ON TABLE gridflow.source_file IS 'The files of a utility''s drop: one per kind, found at file_path below the drop directory';
COMMENT ON COLUMN gridflow.source_file.utility_id IS 'Utility the file belongs to';
COMMENT ON COLUMN gridflow.source_file.file_kind IS 'service_point, meter, assignment or interval: which standardized table the file feeds (assignment: meter-to-service-point rows for standardized.meter_assignment, read after the meter file; with service_point_link = meter, reads reach their service point through them)';
COMMENT ON COLUMN gridflow.source_file.file_path IS 'Path of the file relative to the drop directory (e.g. utility1/utility1_intervals.csv); it may not start with / or contain a .. component';
COMMENT ON COLUMN gridflow.source_file.delimiter IS 'Field delimiter: one ASCII character other than a line break (records are split byte by byte, and a byte of 0x80 or above is never a whole UTF-8 character)';
COMMENT ON COLUMN gridflow.source_file.quote IS 'Quote character: one ASCII character other than a line break, not the delimiter; a doubled quote inside quotes is a literal quote';
COMMENT ON COLUMN gridflow.source_file.layout IS 'long: one read per record; wide (interval files only): one record per meter and day, with one column per interval (wide_columns), unpivoted into reads by the loader; espi (interval files only): a Green Button (NAESB ESPI) Atom feed, whose IntervalReadings are read as records of the header usage_point, meter_reading, reading_type, start, duration, value, unit, quality, flow_direction, xml_line, problem (value in the common unit of the ReadingType''s uom; delimiter and quote are not used)';
COMMENT ON COLUMN gridflow.source_file.wide_columns IS 'Wide layout: header names of the interval columns, in time order (e.g. hr01 ... hr24, or 00:15 ... 24:00); an empty cell is no read';
COMMENT ON COLUMN gridflow.source_file.wide_interval_seconds IS 'Wide layout: length of the interval of each column in seconds (3600, 1800, 900, ...; it divides an hour)';
COMMENT ON COLUMN gridflow.source_file.wide_dst IS 'Wide layout, how daylight-saving days are written: elapsed (column n is the n-th interval after local midnight: a 23-hour day fills 92 quarter-hour columns, a 25-hour day 100; cells past the end of the day must be empty); wall_clock_* (columns are the wall-clock intervals of a 24-hour day: the spring-forward gap''s cells must be empty, and on the fall-back day each cell of the repeated hour is written once): _split takes it as both occurrences added together (a doubled value) and splits it into two reads of half the value, _earlier and _later as the first or the second occurrence only';

CREATE TABLE gridflow.column_map (
    utility_id text NOT NULL,
    file_kind text NOT NULL,
    target_column name NOT NULL,
    source_column text NOT NULL,
    format text,
    null_values text[] NOT NULL DEFAULT '{}',
    time_zone text
        CONSTRAINT column_map_time_zone_known CHECK (gridflow.is_time_zone(time_zone)),
    unit text REFERENCES gridflow.unit ON UPDATE CASCADE,
    PRIMARY KEY (utility_id, file_kind, target_column),
    FOREIGN KEY (utility_id, file_kind) REFERENCES gridflow.source_file
        ON UPDATE CASCADE ON DELETE CASCADE
);
COMMENT ON TABLE gridflow.column_map IS 'Where each standardized column comes from in a utility''s file; unmapped columns are NULL, unmapped file columns are ignored';
COMMENT ON COLUMN gridflow.column_map.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.column_map.file_kind IS 'File kind (service_point, meter, assignment, interval)';
COMMENT ON COLUMN gridflow.column_map.target_column IS 'Column of the standardized table fed by this file kind';
COMMENT ON COLUMN gridflow.column_map.source_column IS 'Header name in the file, matched case-insensitively, ignoring surrounding blanks; several targets may share one source column';
COMMENT ON COLUMN gridflow.column_map.format IS 'For timestamp targets: iso8601 (default; no offset means the utility''s local time), epoch, or a pattern of YYYY MM DD HH24 MI SS US TZ such as YYYYMMDD (a date alone is local midnight)';
COMMENT ON COLUMN gridflow.column_map.null_values IS 'Source strings, besides the empty unquoted field, that mean NULL; quote them in array literals (''{"null"}''), since an unquoted NULL element is an SQL NULL and matches nothing';
COMMENT ON COLUMN gridflow.column_map.time_zone IS 'For timestamp targets: the IANA time zone (a name of pg_timezone_names) of times without offset in this column (e.g. UTC); NULL: the utility''s time_zone';
COMMENT ON COLUMN gridflow.column_map.unit IS 'For numeric targets: the unit the column is written in (gridflow.unit), converted into the common unit: e.g. min for a duration_seconds column in minutes, Wh for a value column in watt-hours (the read''s unit column then says kWh)';

COMMENT ON CONSTRAINT source_file_path_in_drop ON gridflow.source_file IS 'A configured file stays inside the drop directory: whoever may edit the configuration cannot point a build at other server files';
COMMENT ON CONSTRAINT source_file_wide_layout ON gridflow.source_file IS 'A wide layout is an interval file with its interval columns, their length and its daylight-saving convention; a long layout has none of them';
COMMENT ON CONSTRAINT source_file_espi_layout ON gridflow.source_file IS 'A Green Button (espi) file is an interval file';

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

CREATE TABLE gridflow.channel (
    utility_id text NOT NULL REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    channel text NOT NULL,
    duration_seconds integer CHECK (duration_seconds OPERATOR(pg_catalog.>) 0),
    unit text REFERENCES gridflow.unit ON UPDATE CASCADE,
    description text,
    flow_direction smallint REFERENCES gridflow.flow_direction,
    PRIMARY KEY (utility_id, channel)
);
COMMENT ON TABLE gridflow.channel IS 'What a utility''s channel implies for its reads: the interval length of reads that give none, and the unit of their values when neither the read nor the column map gives one';
COMMENT ON COLUMN gridflow.channel.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.channel.channel IS 'Channel exactly as the interval file writes it';
COMMENT ON COLUMN gridflow.channel.duration_seconds IS 'Interval length of the channel''s reads, used when a read has no duration of its own';
COMMENT ON COLUMN gridflow.channel.unit IS 'Unit of the channel''s values (gridflow.unit), used when the read has no unit column value and column_map gives no unit for value';
COMMENT ON COLUMN gridflow.channel.description IS 'Free text';
COMMENT ON COLUMN gridflow.channel.flow_direction IS 'ESPI FlowDirectionKind of the channel''s reads (gridflow.flow_direction): 1 forward (delivered to the customer), 19 reverse (received from the customer), 4 net, ...; the Green Button export writes it as the ReadingType''s flowDirection (NULL, or no row: 1 forward), and a Green Button import lands each ReadingType''s flowDirection in its records'' flow_direction, to be configured here for the importing utility''s channel';

--
-- Validation of interval reads (VEE: validation, estimation, editing).
-- The quality codes a read can carry, and each utility's validation rules.
--
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

CREATE TABLE gridflow.role_utility (
    role_name name NOT NULL,
    utility_id text NOT NULL REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    PRIMARY KEY (role_name, utility_id)
);
COMMENT ON TABLE gridflow.role_utility IS 'Row-level security: a role sees the rows of the utilities mapped here to any role whose privileges it has (gridflow_pipeline sees every utility); a role mapped to none sees no rows.  Each role sees only its own mappings';
COMMENT ON COLUMN gridflow.role_utility.role_name IS 'Role, or group role whose members get the mapping';
COMMENT ON COLUMN gridflow.role_utility.utility_id IS 'Utility whose rows the role may read';

CREATE TABLE gridflow.build (
    build_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    drop_dir text,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    built_by name NOT NULL DEFAULT CURRENT_USER,
    operation text NOT NULL DEFAULT 'build'
        CHECK (operation IN ('build', 'ingest', 'rebuild'))
);
COMMENT ON TABLE gridflow.build IS 'One row per successful gridflow_build(), gridflow_ingest() or gridflow_rebuild() (a failed one rolls back, its row with it)';
COMMENT ON COLUMN gridflow.build.build_id IS 'Run number';
COMMENT ON COLUMN gridflow.build.operation IS 'build: every layer from one drop, history cleared; ingest: files added to what is there; rebuild: every layer again from the files of the recorded batches';
COMMENT ON COLUMN gridflow.build.drop_dir IS 'Drop directory (or, for an ingest, the file) read; NULL for a rebuild';
COMMENT ON COLUMN gridflow.build.started_at IS 'When the run started';
COMMENT ON COLUMN gridflow.build.finished_at IS 'When the run finished';
COMMENT ON COLUMN gridflow.build.built_by IS 'Role that ran it';

CREATE TABLE gridflow.batch (
    batch_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    file_kind text NOT NULL,
    file_path text NOT NULL,
    file_bytes bigint,
    content_sha256 bytea,
    header text[],
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    records_read bigint NOT NULL DEFAULT 0,
    records_rejected bigint NOT NULL DEFAULT 0,
    rows_invalid bigint NOT NULL DEFAULT 0,
    rows_duplicate bigint NOT NULL DEFAULT 0,
    rows_kept bigint NOT NULL DEFAULT 0,
    rows_matched bigint NOT NULL DEFAULT 0,
    rows_replaced bigint NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'loading' CHECK (status IN ('loading', 'loaded')),
    spill_partitions integer NOT NULL DEFAULT 0,
    ambiguous_local_times bigint NOT NULL DEFAULT 0,
    nonexistent_local_times bigint NOT NULL DEFAULT 0,
    unpivoted_reads bigint,
    CONSTRAINT batch_content_key UNIQUE (utility_id, file_kind, content_sha256)
);
COMMENT ON TABLE gridflow.batch IS 'One row per file loaded, in the order the files arrived: its checksum and its figures from landing to standardized (gridflow_build starts the history again from batch 1; gridflow_ingest adds to it; gridflow_rebuild keeps it)';
COMMENT ON COLUMN gridflow.batch.batch_id IS 'Batch number, referenced by the lineage columns of every layer; later batches arrived later';
COMMENT ON COLUMN gridflow.batch.build_id IS 'Run (gridflow.build) that loaded the file first';
COMMENT ON COLUMN gridflow.batch.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.batch.file_kind IS 'File kind (service_point, meter, interval)';
COMMENT ON COLUMN gridflow.batch.file_path IS 'Absolute path of the file read';
COMMENT ON COLUMN gridflow.batch.file_bytes IS 'Bytes read from the file';
COMMENT ON COLUMN gridflow.batch.content_sha256 IS 'SHA-256 of the file''s bytes, computed while reading: a file with the same content is not loaded again for the same utility and kind';
COMMENT ON COLUMN gridflow.batch.header IS 'Header fields as read';
COMMENT ON COLUMN gridflow.batch.started_at IS 'When reading started';
COMMENT ON COLUMN gridflow.batch.finished_at IS 'When the file was standardized';
COMMENT ON COLUMN gridflow.batch.records_read IS 'Records landed (landing.source_record rows)';
COMMENT ON COLUMN gridflow.batch.records_rejected IS 'Records that were not valid CSV rows of the file (landing.reject, stage landing); records_read + records_rejected is every record of the file';
COMMENT ON COLUMN gridflow.batch.rows_invalid IS 'Landed records whose values could not be standardized (landing.reject, stage standardized)';
COMMENT ON COLUMN gridflow.batch.rows_duplicate IS 'Landed records (wide layouts: reads) whose key was already there (earlier in the file or from an earlier batch), resolved by the de-duplication policy';
COMMENT ON COLUMN gridflow.batch.rows_kept IS 'New standardized rows: keys this batch brought first; records_read = rows_invalid + rows_duplicate + rows_kept (wide layouts: unpivoted_reads = rows_duplicate + rows_kept)';
COMMENT ON COLUMN gridflow.batch.rows_matched IS 'Standardized rows of earlier batches that records of this batch matched by key';
COMMENT ON COLUMN gridflow.batch.rows_replaced IS 'Of those, rows whose kept values this batch changed (keep_last: the correction won; sum: its values were added)';
COMMENT ON COLUMN gridflow.batch.status IS 'loading while the file is read, loaded once standardized';
COMMENT ON COLUMN gridflow.batch.spill_partitions IS 'Temporary files the reads were partitioned into because their keys outgrew gridflow.build_memory (0: de-duplicated in memory)';
COMMENT ON CONSTRAINT batch_content_key ON gridflow.batch IS 'A file''s content is loaded once per utility and kind';
COMMENT ON COLUMN gridflow.batch.ambiguous_local_times IS 'Records with a local time (no offset) in the hour repeated when daylight saving time ends, resolved by the utility''s ambiguous_local_time (wide layouts: records with a value in a column of the repeated hour)';
COMMENT ON COLUMN gridflow.batch.nonexistent_local_times IS 'Records with a local time (no offset) in the hour skipped when daylight saving time starts, read by PostgreSQL''s rule (as if the clock had not moved yet); wide layouts: records with a value in a column of the skipped hour, which are rejected';
COMMENT ON COLUMN gridflow.batch.unpivoted_reads IS 'Wide layouts: reads the valid records were unpivoted into (rows_duplicate + rows_kept); NULL for long layouts';
