-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION gridflow UPDATE TO '0.2.0'" to load this file. \quit

-- Upgrade from 0.1.0 to 0.2.0: what 0.2.0 changed, each object defined
-- once, as 0.2.0 has it (0.2.0 is installed as 0.1.0 and this script); the
-- upgrade regression test checks that an updated installation equals a
-- fresh one.
SET LOCAL search_path TO pg_catalog, pg_temp;
SET LOCAL client_min_messages TO warning;

--
-- Security: roles, row-level security per utility, masked views for
-- external readers, configured files kept inside the drop directory.
--
-- The roles first: the policies and grants below name them.
-- Three NOLOGIN group roles; administrators GRANT them to login roles:
--   gridflow_pipeline  runs builds (with pg_read_server_files, granted
--                      separately), maintains the configuration, reads every
--                      layer of every utility, landing included;
--   gridflow_internal  reads standardized, product, experience and dq, all
--                      columns, rows of its utilities (gridflow.role_utility);
--   gridflow_external  reads the views of the external schema only.
-- Roles belong to the cluster, not to a database: they are created here
-- when missing and kept by DROP EXTENSION (another database may use them).
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT v.name, v.comment
          FROM (VALUES
                ('gridflow_pipeline', 'gridflow: runs builds (together with pg_read_server_files), maintains the configuration, reads every layer of every utility'),
                ('gridflow_internal', 'gridflow: reads the standardized, product, experience and dq schemas, all columns, rows of the utilities mapped in gridflow.role_utility'),
                ('gridflow_external', 'gridflow: reads the external schema only (addresses masked, ZIP cut to three digits), rows of the utilities mapped in gridflow.role_utility'))
               AS v(name, comment)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) r.name) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r.name);
            EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', r.name, r.comment);
        ELSIF EXISTS (SELECT FROM pg_catalog.pg_roles a
                       WHERE a.rolname OPERATOR(pg_catalog.=) r.name
                         AND (a.rolsuper OR a.rolcanlogin OR a.rolcreaterole OR a.rolcreatedb
                              OR a.rolreplication OR a.rolbypassrls)) THEN
            RAISE EXCEPTION 'role "%" exists and is not a plain group role', r.name
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'gridflow grants privileges to this role, so it must be NOLOGIN, without SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS.',
                      HINT = 'Change the role with ALTER ROLE, or drop it, before creating the extension.';
        END IF;
    END LOOP;
END
$$;

CREATE SCHEMA external;
COMMENT ON SCHEMA external IS 'gridflow views for external readers (gridflow_external): street, house number and house supplement masked, ZIP codes cut to three digits, rows of the reader''s utilities only';

ALTER TABLE gridflow.source_file ADD CONSTRAINT source_file_path_in_drop
    CHECK (file_path OPERATOR(pg_catalog.!~) '^/|(^|/)[.][.](/|$)');
COMMENT ON CONSTRAINT source_file_path_in_drop ON gridflow.source_file IS 'A configured file stays inside the drop directory: whoever may edit the configuration cannot point a build at other server files';
COMMENT ON COLUMN gridflow.source_file.file_path IS 'Path of the file relative to the drop directory (e.g. utility1/utility1_intervals.csv); it may not start with / or contain a .. component';

CREATE TABLE gridflow.role_utility (
    role_name name NOT NULL,
    utility_id text NOT NULL REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    PRIMARY KEY (role_name, utility_id)
);
COMMENT ON TABLE gridflow.role_utility IS 'Row-level security: a role sees the rows of the utilities mapped here to any role whose privileges it has (gridflow_pipeline sees every utility); a role mapped to none sees no rows.  Each role sees only its own mappings';
COMMENT ON COLUMN gridflow.role_utility.role_name IS 'Role, or group role whose members get the mapping';
COMMENT ON COLUMN gridflow.role_utility.utility_id IS 'Utility whose rows the role may read';
SELECT pg_catalog.pg_extension_config_dump('gridflow.role_utility', '');

COMMENT ON FUNCTION gridflow.read_csv(text, text[], text, text) IS 'Stream a CSV file on the server (RFC 4180, UTF-8, optional BOM, LF/CRLF/CR): one row per record after the header, with its line number; columns picks header names (case-insensitive, any order, missing ones are an error), NULL returns every column; records that are not rows of the file come back with reject_reason set and fields NULL. Empty unquoted fields are NULL. Needs superuser or pg_read_server_files, and a path in gridflow.allowed_directories when that is set.';
COMMENT ON FUNCTION gridflow.read_csv_header(text, text, text) IS 'The header fields of a CSV file on the server (NULL for an empty file). Needs superuser or pg_read_server_files, and a path in gridflow.allowed_directories when that is set.';
COMMENT ON FUNCTION @extschema@.gridflow_build(text) IS 'Rebuild every layer from a drop directory (DIR/utility1/utility1_intervals.csv and so on, as gridflow.source_file says; NULL: the sample installed with the extension), in the caller''s transaction: on error nothing changes. Returns one row per table written with its row count and time. The caller needs EXECUTE (granted to gridflow_pipeline) and superuser or pg_read_server_files; every file is checked against the caller and gridflow.allowed_directories. The build then runs as the owner of the extension (search_path pg_catalog, pg_temp), so the caller needs no privileges on the layers.';

--
-- The layers change shape: landed records are packed into
-- landing.source_chunk (landing.source_record becomes a view), and reads,
-- products and days are partitioned by utility.  The rows of 0.1.0 are
-- not converted: run gridflow_build() after the update.  The views over
-- these tables are recreated.
--
DROP VIEW dq.snapshot;
DROP VIEW dq.conflicting_service_points, dq.multi_premise_meters, dq.rejects, dq.batches;
DROP TABLE standardized.interval_read, product.usage_interval, experience.daily_usage,
    landing.source_record CASCADE;

-- Incremental loads: every run is logged (build, ingest, rebuild); the
-- batch history keeps each file's checksum and figures (0.1.0's batches
-- described landed rows that are not kept: the history starts again).
ALTER TABLE gridflow.build ALTER COLUMN drop_dir DROP NOT NULL;
ALTER TABLE gridflow.build ADD COLUMN operation text NOT NULL DEFAULT 'build'
    CHECK (operation IN ('build', 'ingest', 'rebuild'));
COMMENT ON TABLE gridflow.build IS 'One row per successful gridflow_build(), gridflow_ingest() or gridflow_rebuild() (a failed one rolls back, its row with it)';
COMMENT ON COLUMN gridflow.build.build_id IS 'Run number';
COMMENT ON COLUMN gridflow.build.operation IS 'build: every layer from one drop, history cleared; ingest: files added to what is there; rebuild: every layer again from the files of the recorded batches';
COMMENT ON COLUMN gridflow.build.drop_dir IS 'Drop directory (or, for an ingest, the file) read; NULL for a rebuild';
COMMENT ON COLUMN gridflow.build.started_at IS 'When the run started';
COMMENT ON COLUMN gridflow.build.finished_at IS 'When the run finished';
COMMENT ON COLUMN gridflow.build.built_by IS 'Role that ran it';

DROP TABLE gridflow.batch CASCADE;
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

-- Standardized rows gain lineage (the latest batch with a record of the
-- key) and reads the value of their first record.
DROP TABLE standardized.service_point, standardized.meter CASCADE;
CREATE TABLE standardized.service_point (
    utility_id text NOT NULL,
    service_point_id text NOT NULL,
    service_point_number text,
    house_num text,
    street text,
    house_supp text,
    city text,
    zip text,
    state text,
    installed_at timestamptz,
    removed_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    batch_id bigint NOT NULL,
    line_no bigint NOT NULL,
    last_batch_id bigint NOT NULL,
    source_rows integer NOT NULL,
    conflicting_rows integer NOT NULL,
    PRIMARY KEY (utility_id, service_point_id)
);
COMMENT ON TABLE standardized.service_point IS 'Service points of every utility, one row per (utility_id, service_point_id): the first row in file order';
COMMENT ON COLUMN standardized.service_point.utility_id IS 'Utility';
COMMENT ON COLUMN standardized.service_point.service_point_id IS 'Service point identifier (utility2: the premise)';
COMMENT ON COLUMN standardized.service_point.service_point_number IS 'Service point number, where the utility gives one';
COMMENT ON COLUMN standardized.service_point.house_num IS 'House number (PII)';
COMMENT ON COLUMN standardized.service_point.street IS 'Street (PII)';
COMMENT ON COLUMN standardized.service_point.house_supp IS 'House supplement: unit, suite, building (PII)';
COMMENT ON COLUMN standardized.service_point.city IS 'City';
COMMENT ON COLUMN standardized.service_point.zip IS 'ZIP code (quasi-PII)';
COMMENT ON COLUMN standardized.service_point.state IS 'State or region';
COMMENT ON COLUMN standardized.service_point.installed_at IS 'When the service point was installed';
COMMENT ON COLUMN standardized.service_point.removed_at IS 'When it was removed';
COMMENT ON COLUMN standardized.service_point.created_at IS 'Record creation time at the utility (dates are local midnight)';
COMMENT ON COLUMN standardized.service_point.updated_at IS 'Record update time at the utility';
COMMENT ON COLUMN standardized.service_point.batch_id IS 'Lineage: batch of the kept source record';
COMMENT ON COLUMN standardized.service_point.line_no IS 'Lineage: line of the kept source record';
COMMENT ON COLUMN standardized.service_point.last_batch_id IS 'Lineage: latest batch with a record of this service point';
COMMENT ON COLUMN standardized.service_point.source_rows IS 'Source records with this key';
COMMENT ON COLUMN standardized.service_point.conflicting_rows IS 'Source records with this key whose attributes differ from the kept one (e.g. other addresses)';

CREATE TABLE standardized.meter (
    utility_id text NOT NULL,
    meter_id text NOT NULL,
    serial_number text,
    meter_type text,
    meter_category text,
    service_point_id text,
    installed_at timestamptz,
    removed_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    batch_id bigint NOT NULL,
    line_no bigint NOT NULL,
    last_batch_id bigint NOT NULL,
    source_rows integer NOT NULL,
    conflicting_rows integer NOT NULL,
    PRIMARY KEY (utility_id, meter_id)
);
COMMENT ON TABLE standardized.meter IS 'Meters of every utility, one row per (utility_id, meter_id): the first row in file order';
COMMENT ON COLUMN standardized.meter.utility_id IS 'Utility';
COMMENT ON COLUMN standardized.meter.meter_id IS 'Meter identifier (text, whatever the utility''s format)';
COMMENT ON COLUMN standardized.meter.serial_number IS 'Serial or meter number';
COMMENT ON COLUMN standardized.meter.meter_type IS 'Meter type';
COMMENT ON COLUMN standardized.meter.meter_category IS 'Meter category or channel class';
COMMENT ON COLUMN standardized.meter.service_point_id IS 'Service point of the meter''s first row (NULL where the meter file has no service point)';
COMMENT ON COLUMN standardized.meter.installed_at IS 'Installation time of the first row';
COMMENT ON COLUMN standardized.meter.removed_at IS 'Removal time of the first row';
COMMENT ON COLUMN standardized.meter.created_at IS 'Record creation time at the utility';
COMMENT ON COLUMN standardized.meter.updated_at IS 'Record update time at the utility';
COMMENT ON COLUMN standardized.meter.batch_id IS 'Lineage: batch of the kept source record';
COMMENT ON COLUMN standardized.meter.line_no IS 'Lineage: line of the kept source record';
COMMENT ON COLUMN standardized.meter.last_batch_id IS 'Lineage: latest batch with a record of this meter';
COMMENT ON COLUMN standardized.meter.source_rows IS 'Source records with this meter';
COMMENT ON COLUMN standardized.meter.conflicting_rows IS 'Source records of this meter that differ from the kept one (another premise, another installation)';

-- Meter assignments are keyed in file order, the order they are written in.
ALTER TABLE standardized.meter_assignment DROP CONSTRAINT meter_assignment_pkey;
ALTER TABLE standardized.meter_assignment ADD PRIMARY KEY (utility_id, batch_id, line_no);

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

CREATE TABLE standardized.interval_read (
    utility_id text NOT NULL,
    service_point_id text,
    meter_id text NOT NULL,
    channel text NOT NULL,
    interval_start_ts timestamptz NOT NULL,
    interval_end_ts timestamptz NOT NULL,
    duration_seconds integer,
    value double precision,
    quality text,
    last_update_time timestamptz,
    exported_at timestamptz,
    batch_id bigint NOT NULL,
    line_no bigint NOT NULL,
    last_batch_id bigint NOT NULL,
    source_rows integer NOT NULL,
    conflicting_rows integer NOT NULL,
    first_value double precision,
    source_value_sum double precision,
    unit text
) PARTITION BY LIST (utility_id);
COMMENT ON TABLE standardized.interval_read IS 'Interval reads of every utility, one row per (utility_id, service_point_id, meter_id, interval_start_ts, channel), resolved by the utility''s interval_dedup_policy; partitioned by utility, then by month of the utility''s local days on interval_start_ts (builds and ingests create the partitions, each with a unique index on the key, NULLS NOT DISTINCT since a read without a service point still has one)';
COMMENT ON COLUMN standardized.interval_read.utility_id IS 'Utility';
COMMENT ON COLUMN standardized.interval_read.service_point_id IS 'Service point: from the read, or through the meter (NULL when the meter has none)';
COMMENT ON COLUMN standardized.interval_read.meter_id IS 'Meter';
COMMENT ON COLUMN standardized.interval_read.channel IS 'Channel as the utility names it (kWh and kVARh reads of one instant are different channels)';
COMMENT ON COLUMN standardized.interval_read.interval_start_ts IS 'Start of the interval (offsets kept; integer dates are local midnight)';
COMMENT ON COLUMN standardized.interval_read.interval_end_ts IS 'interval_start_ts + duration_seconds';
COMMENT ON COLUMN standardized.interval_read.duration_seconds IS 'Interval length in seconds as given by the utility (converted from column_map.unit, implied by gridflow.channel, or the column length of a wide layout; NULL or 0: unknown)';
COMMENT ON COLUMN standardized.interval_read.value IS 'Usage value of the kept read (sum of the duplicates under the sum policy), in unit';
COMMENT ON COLUMN standardized.interval_read.quality IS 'Quality flag as the utility gives it';
COMMENT ON COLUMN standardized.interval_read.last_update_time IS 'When the utility last updated the read';
COMMENT ON COLUMN standardized.interval_read.exported_at IS 'When the utility exported it (the string null means NULL)';
COMMENT ON COLUMN standardized.interval_read.batch_id IS 'Lineage: batch of the kept source record';
COMMENT ON COLUMN standardized.interval_read.line_no IS 'Lineage: line of the kept source record';
COMMENT ON COLUMN standardized.interval_read.last_batch_id IS 'Lineage: latest batch with a record of this key (differs from batch_id when a later file sent the read again: under keep_first the original stayed, under keep_last the correction is batch_id)';
COMMENT ON COLUMN standardized.interval_read.source_rows IS 'Source records with this key (1: no duplicate)';
COMMENT ON COLUMN standardized.interval_read.conflicting_rows IS 'Source records with this key whose value differs from the value of the first one (first_value)';
COMMENT ON COLUMN standardized.interval_read.first_value IS 'Value of the first source record with this key, in arrival order (batch, then line)';
COMMENT ON COLUMN standardized.interval_read.source_value_sum IS 'Sum of the values of all source records with this key: value / source_value_sum is the share of the raw value the dedup kept';

--
-- Product
--
CREATE TABLE product.usage_interval (
    utility_id text NOT NULL,
    service_point_id text,
    meter_id text NOT NULL,
    channel text NOT NULL,
    interval_start_ts timestamptz NOT NULL,
    interval_end_ts timestamptz NOT NULL,
    local_date date NOT NULL,
    duration_seconds integer,
    value double precision,
    quality text,
    service_point_known boolean NOT NULL,
    meter_known boolean NOT NULL,
    serial_number text,
    meter_type text,
    meter_category text,
    service_point_number text,
    house_num text,
    street text,
    house_supp text,
    city text,
    zip text,
    state text,
    last_update_time timestamptz,
    exported_at timestamptz,
    batch_id bigint NOT NULL,
    line_no bigint NOT NULL
) PARTITION BY LIST (utility_id);
COMMENT ON TABLE product.usage_interval IS 'The usage fact table: one row per standardized interval read, with its meter and service point attributes (left joins: reads of unknown service points stay, flagged); partitioned by utility, then by month of local_date, each partition with a unique index on (service_point_id, interval_start_ts, utility_id, meter_id, channel) for look-ups by service point and day';
COMMENT ON COLUMN product.usage_interval.utility_id IS 'Utility';
COMMENT ON COLUMN product.usage_interval.service_point_id IS 'Service point (NULL when unknown)';
COMMENT ON COLUMN product.usage_interval.meter_id IS 'Meter';
COMMENT ON COLUMN product.usage_interval.channel IS 'Channel';
COMMENT ON COLUMN product.usage_interval.interval_start_ts IS 'Start of the interval';
COMMENT ON COLUMN product.usage_interval.interval_end_ts IS 'End of the interval';
COMMENT ON COLUMN product.usage_interval.local_date IS 'Day of interval_start_ts in the utility''s time zone';
COMMENT ON COLUMN product.usage_interval.duration_seconds IS 'Interval length in seconds';
COMMENT ON COLUMN product.usage_interval.value IS 'Usage value';
COMMENT ON COLUMN product.usage_interval.quality IS 'Quality flag';
COMMENT ON COLUMN product.usage_interval.service_point_known IS 'The service point exists in standardized.service_point (false: orphan or unknown)';
COMMENT ON COLUMN product.usage_interval.meter_known IS 'The meter exists in standardized.meter';
COMMENT ON COLUMN product.usage_interval.serial_number IS 'Meter serial number';
COMMENT ON COLUMN product.usage_interval.meter_type IS 'Meter type';
COMMENT ON COLUMN product.usage_interval.meter_category IS 'Meter category';
COMMENT ON COLUMN product.usage_interval.service_point_number IS 'Service point number';
COMMENT ON COLUMN product.usage_interval.house_num IS 'House number (PII)';
COMMENT ON COLUMN product.usage_interval.street IS 'Street (PII)';
COMMENT ON COLUMN product.usage_interval.house_supp IS 'House supplement (PII)';
COMMENT ON COLUMN product.usage_interval.city IS 'City';
COMMENT ON COLUMN product.usage_interval.zip IS 'ZIP code (quasi-PII)';
COMMENT ON COLUMN product.usage_interval.state IS 'State';
COMMENT ON COLUMN product.usage_interval.last_update_time IS 'When the utility last updated the read';
COMMENT ON COLUMN product.usage_interval.exported_at IS 'When the utility exported the read';
COMMENT ON COLUMN product.usage_interval.batch_id IS 'Lineage: batch of the source record';
COMMENT ON COLUMN product.usage_interval.line_no IS 'Lineage: line of the source record';

--
-- Experience
--
CREATE TABLE experience.daily_usage (
    utility_id text NOT NULL,
    service_point_id text NOT NULL,
    local_date date NOT NULL,
    channel text NOT NULL,
    bucket_start timestamptz NOT NULL,
    bucket_end timestamptz NOT NULL,
    total_usage double precision,
    interval_count integer NOT NULL,
    peak_usage_value double precision,
    peak_usage_ts timestamptz,
    pit_usage_value double precision,
    pit_usage_ts timestamptz
) PARTITION BY LIST (utility_id);
COMMENT ON TABLE experience.daily_usage IS 'One row per (utility_id, service_point_id, local day, channel): total, count, peak and pit of the day''s reads; reads without a service point are not summarized (see dq.readiness); partitioned by utility, then by month of local_date, each partition keyed on (service_point_id, local_date, utility_id, channel)';
COMMENT ON COLUMN experience.daily_usage.utility_id IS 'Utility';
COMMENT ON COLUMN experience.daily_usage.service_point_id IS 'Service point';
COMMENT ON COLUMN experience.daily_usage.local_date IS 'Local day in the utility''s time zone';
COMMENT ON COLUMN experience.daily_usage.channel IS 'Channel (kWh and kVARh are never added together)';
COMMENT ON COLUMN experience.daily_usage.bucket_start IS 'Local midnight starting the day';
COMMENT ON COLUMN experience.daily_usage.bucket_end IS 'Next local midnight (exclusive): 23 or 25 hours after bucket_start on daylight-saving days';
COMMENT ON COLUMN experience.daily_usage.total_usage IS 'Sum of the day''s values';
COMMENT ON COLUMN experience.daily_usage.interval_count IS 'Reads with a value in the day';
COMMENT ON COLUMN experience.daily_usage.peak_usage_value IS 'Largest value of the day';
COMMENT ON COLUMN experience.daily_usage.peak_usage_ts IS 'Start of the read holding the peak (earliest on ties)';
COMMENT ON COLUMN experience.daily_usage.pit_usage_value IS 'Smallest value of the day';
COMMENT ON COLUMN experience.daily_usage.pit_usage_ts IS 'Start of the read holding the pit (earliest on ties)';

CREATE FUNCTION gridflow.chunk_records(
    data bytea,
    OUT line_no bigint,
    OUT record text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_chunk_records'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.chunk_records(bytea) IS 'The records packed in one landing.source_chunk, with their line numbers';

CREATE VIEW landing.source_record WITH (security_invoker = true) AS
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
-- Onboarding a utility by configuration alone: units (gridflow.unit) and
-- what channels imply (gridflow.channel), column time zones and units,
-- assignment files, wide layouts, local times across daylight-saving
-- changes, and their DQ figures.
--
ALTER TABLE gridflow.utility ADD COLUMN ambiguous_local_time text NOT NULL DEFAULT 'later'
    CHECK (ambiguous_local_time IN ('later', 'earlier', 'in_order', 'reject'));
COMMENT ON COLUMN gridflow.utility.ambiguous_local_time IS 'How a local time without offset in the hour repeated when daylight saving time ends is read: later (PostgreSQL''s rule: the second occurrence, standard time), earlier (the first, daylight time), in_order (interval starts: the first record of a series (meter, service point, channel) at that time is the earlier instant and a repeat of it the later one; other columns: later), reject (the record is rejected); dq.timestamp_range counts these times either way';

CREATE TABLE gridflow.unit (
    unit text PRIMARY KEY CHECK (unit OPERATOR(pg_catalog.<>) ''),
    factor double precision NOT NULL CHECK (factor OPERATOR(pg_catalog.>) 0),
    common_unit text NOT NULL,
    description text
);
CREATE UNIQUE INDEX unit_lower_key ON gridflow.unit (pg_catalog.lower(unit));
COMMENT ON TABLE gridflow.unit IS 'Units a utility may give values and durations in, and how they convert into gridflow''s common units (kWh, kvarh, kW, kvar, seconds); units are matched case-insensitively';
COMMENT ON INDEX gridflow.unit_lower_key IS 'Units are matched case-insensitively, so two units may not differ in case only';
COMMENT ON COLUMN gridflow.unit.unit IS 'Unit as written in a file or in the configuration (Wh, kWh, min, ...)';
COMMENT ON COLUMN gridflow.unit.factor IS 'A value in this unit times factor is the value in common_unit';
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

ALTER TABLE gridflow.source_file DROP CONSTRAINT source_file_file_kind_check;
ALTER TABLE gridflow.source_file ADD CONSTRAINT source_file_file_kind_check
    CHECK (file_kind IN ('service_point', 'meter', 'interval', 'assignment'));
ALTER TABLE gridflow.source_file
    ADD COLUMN layout text NOT NULL DEFAULT 'long' CHECK (layout IN ('long', 'wide')),
    ADD COLUMN wide_columns text[],
    ADD COLUMN wide_interval_seconds integer
        CHECK (wide_interval_seconds OPERATOR(pg_catalog.>) 0
               AND CASE WHEN wide_interval_seconds OPERATOR(pg_catalog.>) 0
                        THEN 3600 OPERATOR(pg_catalog.%) wide_interval_seconds OPERATOR(pg_catalog.=) 0 END),
    ADD COLUMN wide_dst text
        CHECK (wide_dst IN ('elapsed', 'wall_clock_split', 'wall_clock_earlier', 'wall_clock_later')),
    ADD CONSTRAINT source_file_wide_layout
        CHECK (CASE layout
                    WHEN 'wide' THEN file_kind OPERATOR(pg_catalog.=) 'interval'
                                     AND pg_catalog.cardinality(wide_columns) OPERATOR(pg_catalog.>) 0
                                     AND wide_interval_seconds IS NOT NULL AND wide_dst IS NOT NULL
                    ELSE wide_columns IS NULL AND wide_interval_seconds IS NULL AND wide_dst IS NULL
               END);
COMMENT ON COLUMN gridflow.source_file.file_kind IS 'service_point, meter, assignment or interval: which standardized table the file feeds (assignment: meter-to-service-point rows for standardized.meter_assignment, read after the meter file; with service_point_link = meter, reads reach their service point through them)';
COMMENT ON COLUMN gridflow.source_file.layout IS 'long: one read per record; wide (interval files only): one record per meter and day, with one column per interval (wide_columns), unpivoted into reads by the loader';
COMMENT ON COLUMN gridflow.source_file.wide_columns IS 'Wide layout: header names of the interval columns, in time order (e.g. hr01 ... hr24, or 00:15 ... 24:00); an empty cell is no read';
COMMENT ON COLUMN gridflow.source_file.wide_interval_seconds IS 'Wide layout: length of the interval of each column in seconds (3600, 1800, 900, ...; it divides an hour)';
COMMENT ON COLUMN gridflow.source_file.wide_dst IS 'Wide layout, how daylight-saving days are written: elapsed (column n is the n-th interval after local midnight: a 23-hour day fills 92 quarter-hour columns, a 25-hour day 100; cells past the end of the day must be empty); wall_clock_* (columns are the wall-clock intervals of a 24-hour day: the spring-forward gap''s cells must be empty, and on the fall-back day each cell of the repeated hour is written once): _split takes it as both occurrences added together (a doubled value) and splits it into two reads of half the value, _earlier and _later as the first or the second occurrence only';
COMMENT ON CONSTRAINT source_file_wide_layout ON gridflow.source_file IS 'A wide layout is an interval file with its interval columns, their length and its daylight-saving convention; a long layout has none of them';

ALTER TABLE gridflow.column_map
    ADD COLUMN time_zone text,
    ADD COLUMN unit text REFERENCES gridflow.unit ON UPDATE CASCADE;
COMMENT ON COLUMN gridflow.column_map.file_kind IS 'File kind (service_point, meter, assignment, interval)';
COMMENT ON COLUMN gridflow.column_map.time_zone IS 'For timestamp targets: the IANA time zone of times without offset in this column (e.g. UTC); NULL: the utility''s time_zone';
COMMENT ON COLUMN gridflow.column_map.unit IS 'For numeric targets: the unit the column is written in (gridflow.unit), converted into the common unit: e.g. min for a duration_seconds column in minutes, Wh for a value column in watt-hours (the read''s unit column then says kWh)';

CREATE TABLE gridflow.channel (
    utility_id text NOT NULL REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    channel text NOT NULL,
    duration_seconds integer CHECK (duration_seconds OPERATOR(pg_catalog.>) 0),
    unit text REFERENCES gridflow.unit ON UPDATE CASCADE,
    description text,
    PRIMARY KEY (utility_id, channel)
);
COMMENT ON TABLE gridflow.channel IS 'What a utility''s channel implies for its reads: the interval length of reads that give none, and the unit of their values when neither the read nor the column map gives one';
COMMENT ON COLUMN gridflow.channel.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.channel.channel IS 'Channel exactly as the interval file writes it';
COMMENT ON COLUMN gridflow.channel.duration_seconds IS 'Interval length of the channel''s reads, used when a read has no duration of its own';
COMMENT ON COLUMN gridflow.channel.unit IS 'Unit of the channel''s values (gridflow.unit), used when the read has no unit column value and column_map gives no unit for value';
COMMENT ON COLUMN gridflow.channel.description IS 'Free text';
COMMENT ON COLUMN gridflow.batch.ambiguous_local_times IS 'Records with a local time (no offset) in the hour repeated when daylight saving time ends, resolved by the utility''s ambiguous_local_time (wide layouts: records with a value in a column of the repeated hour)';
COMMENT ON COLUMN gridflow.batch.nonexistent_local_times IS 'Records with a local time (no offset) in the hour skipped when daylight saving time starts, read by PostgreSQL''s rule (as if the clock had not moved yet); wide layouts: records with a value in a column of the skipped hour, which are rejected';
COMMENT ON COLUMN gridflow.batch.unpivoted_reads IS 'Wide layouts: reads the valid records were unpivoted into (rows_duplicate + rows_kept); NULL for long layouts';

-- Channels are all users' rows; units added by users are dumped, the
-- shipped ones come back with CREATE EXTENSION.
SELECT pg_catalog.pg_extension_config_dump('gridflow.channel', '');
SELECT pg_catalog.pg_extension_config_dump('gridflow.unit',
    $$WHERE unit NOT IN ('Wh', 'kWh', 'MWh', 'varh', 'kvarh', 'W', 'kW', 'MW', 'var', 'kvar', 's', 'min', 'h')$$);
GRANT SELECT, INSERT, UPDATE, DELETE ON gridflow.channel, gridflow.unit TO gridflow_pipeline;
COMMENT ON COLUMN standardized.interval_read.unit IS 'Unit of value, when the utility says (a unit column, column_map.unit or gridflow.channel): the common unit (kWh, kvarh, ...) the value was converted into; NULL: the value as the utility gives it';
COMMENT ON COLUMN landing.reject.reason IS 'Reason code: field_count, unterminated_quote, text_after_quote, invalid_utf8, nul_byte, record_too_long, too_many_fields, invalid_value, missing_key, unknown_unit, ambiguous_local_time, nonexistent_local_time, outside_day';
COMMENT ON TABLE standardized.meter_assignment IS 'Every meter-to-service-point row of the meter files and assignment files, in file order: the history that effective-dated linking and the multi-premise DQ checks read';

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
-- What the build writes into product and experience, in plain SQL so that
-- anyone can read what each layer means.  The build computes the same rows
-- in C (product.c, experience.c); the regression tests check that both
-- agree.  They run with the rights of the role reading them
-- (security_invoker), so they never show more than the layers would.
--
CREATE VIEW gridflow.product_source WITH (security_invoker = true) AS
SELECT r.utility_id,
       r.service_point_id,
       r.meter_id,
       r.channel,
       r.interval_start_ts,
       r.interval_end_ts,
       (pg_catalog.timezone(u.time_zone, r.interval_start_ts))::date AS local_date,
       r.duration_seconds,
       r.value,
       r.quality,
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
  FROM standardized.interval_read r
  JOIN gridflow.utility u
    ON u.utility_id OPERATOR(pg_catalog.=) r.utility_id
  LEFT JOIN standardized.meter m
    ON m.utility_id OPERATOR(pg_catalog.=) r.utility_id
   AND m.meter_id OPERATOR(pg_catalog.=) r.meter_id
  LEFT JOIN standardized.service_point sp
    ON sp.utility_id OPERATOR(pg_catalog.=) r.utility_id
   AND sp.service_point_id OPERATOR(pg_catalog.=) r.service_point_id;
COMMENT ON VIEW gridflow.product_source IS 'Definition of product.usage_interval: standardized reads left-joined to their meter and service point (the build computes the same rows in C; the regression tests check they agree)';

CREATE VIEW gridflow.experience_source WITH (security_invoker = true) AS
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
COMMENT ON VIEW gridflow.experience_source IS 'Definition of experience.daily_usage: product reads with a service point, grouped by utility, service point, local day and channel (the build computes the same rows in C; the regression tests check they agree)';

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
  FROM landing.reject j
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
CREATE VIEW dq.snapshot WITH (security_invoker = true) AS
WITH
u AS (
    SELECT u.utility_id, pg_catalog.row_number() OVER (ORDER BY u.build_order, u.utility_id) AS pos
      FROM gridflow.utility u
     WHERE u.utility_id IN (SELECT b.utility_id FROM gridflow.batch b)
),
-- ROW COUNTS: one line per metric, one column per utility, then the total
metric(ord, label, utility_id, n) AS (
    SELECT CASE r.table_name
                WHEN 'landing.source_record' THEN 1 WHEN 'landing.reject' THEN 2
                WHEN 'standardized.service_point' THEN 3 WHEN 'standardized.meter' THEN 4
                WHEN 'standardized.interval_read' THEN 5 WHEN 'product.usage_interval' THEN 6
                WHEN 'experience.daily_usage' THEN 7 END,
           CASE r.table_name
                WHEN 'landing.source_record' THEN 'Landing Records' WHEN 'landing.reject' THEN 'Rejected Records'
                WHEN 'standardized.service_point' THEN 'Service Points' WHEN 'standardized.meter' THEN 'Meters'
                WHEN 'standardized.interval_read' THEN 'Interval Reads' WHEN 'product.usage_interval' THEN 'Product Rows'
                WHEN 'experience.daily_usage' THEN 'Daily Usage Rows' END,
           r.utility_id, r.row_count
      FROM dq.row_counts r
     WHERE r.table_name OPERATOR(pg_catalog.<>) 'standardized.meter_assignment'
    UNION ALL
    SELECT 8, 'Service-Point Days', s.utility_id, s.service_point_days
      FROM dq.experience_summary s
    UNION ALL
    SELECT 9, 'Service Points in Experience', s.utility_id, s.service_points
      FROM dq.experience_summary s
),
metric_line AS (
    SELECT m.ord,
           '  ' OPERATOR(pg_catalog.||) pg_catalog.rpad(m.label, 28)
           OPERATOR(pg_catalog.||) pg_catalog.string_agg(pg_catalog.lpad(gridflow.fmt_count(m.n), 11), '' ORDER BY u.pos)
           OPERATOR(pg_catalog.||) pg_catalog.lpad(gridflow.fmt_count(coalesce(
                   pg_catalog.max(t.n), pg_catalog.sum(m.n)::bigint)), 11) AS line
      FROM metric m
      JOIN u ON u.utility_id OPERATOR(pg_catalog.=) m.utility_id
      LEFT JOIN metric t ON t.ord OPERATOR(pg_catalog.=) m.ord AND t.utility_id IS NULL
     GROUP BY m.ord, m.label
),
dup AS (
    SELECT d.*, u.pos FROM dq.source_duplicates d JOIN u USING (utility_id)
     WHERE d.duplicate_rows OPERATOR(pg_catalog.>) 0
),
share AS (
    SELECT s.*, u.pos FROM dq.dedup_value_share s JOIN u USING (utility_id)
),
ri AS (
    SELECT r.*, u.pos FROM dq.referential_integrity r JOIN u USING (utility_id)
),
ri_total AS (
    SELECT relationship, pg_catalog.sum(orphan_ids)::bigint AS ids, pg_catalog.sum(orphan_rows)::bigint AS rows_
      FROM ri GROUP BY relationship
),
vp AS (SELECT * FROM dq.value_profile WHERE utility_id IS NULL),
tr AS (SELECT * FROM dq.timestamp_range WHERE utility_id IS NULL),
ex AS (SELECT * FROM dq.experience_summary WHERE utility_id IS NULL),
rd AS (SELECT * FROM dq.readiness WHERE utility_id IS NULL),
comp AS (
    SELECT c.table_name,
           pg_catalog.string_agg(c.column_name OPERATOR(pg_catalog.||) ' '
                                 OPERATOR(pg_catalog.||) pg_catalog.round(c.pct_complete)::text
                                 OPERATOR(pg_catalog.||) '% (' OPERATOR(pg_catalog.||) gridflow.fmt_count(c.non_null)
                                 OPERATOR(pg_catalog.||) ' of ' OPERATOR(pg_catalog.||) gridflow.fmt_count(c.total_rows)
                                 OPERATOR(pg_catalog.||) ')', ', ' ORDER BY c.column_name)
               FILTER (WHERE c.pct_complete OPERATOR(pg_catalog.<) 100) AS incomplete
      FROM dq.completeness c
     WHERE c.utility_id IS NULL
     GROUP BY c.table_name
),
lines(section, ord, line) AS (
    SELECT 0, 1, 'IEDR Data Quality Snapshot'
    UNION ALL
    SELECT 0, 2, coalesce((SELECT 'Build ' OPERATOR(pg_catalog.||) b.build_id::text
                                             OPERATOR(pg_catalog.||) ' of ' OPERATOR(pg_catalog.||) b.drop_dir
                                        FROM gridflow.build b
                                       WHERE b.build_id OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(x.build_id) FROM gridflow.batch x)),
                                     'No build yet: run SELECT * FROM gridflow_build();')
    UNION ALL
    SELECT 0, 3, pg_catalog.repeat('-', 72)
    -- ROW COUNTS
    UNION ALL
    SELECT 1, 0, pg_catalog.rpad('ROW COUNTS', 30)
                 OPERATOR(pg_catalog.||) coalesce((SELECT pg_catalog.string_agg(pg_catalog.lpad(u.utility_id, 11), '' ORDER BY u.pos) FROM u), '')
                 OPERATOR(pg_catalog.||) pg_catalog.lpad('Total', 11)
    UNION ALL
    SELECT 1, ord, line FROM metric_line
    -- SOURCE DUPLICATES
    UNION ALL
    SELECT 2, 0, 'SOURCE DUPLICATES'
    UNION ALL
    SELECT 2, 1 + 10 * pg_catalog.row_number() OVER (ORDER BY d.pos, d.file_kind),
           pg_catalog.format('  %s %s: %s duplicate rows (%s%% of %s); %s keys conflict, %s rows disagree with the first of their key',
                             d.utility_id, d.file_kind, gridflow.fmt_count(d.duplicate_rows),
                             pg_catalog.round(d.duplicate_pct), gridflow.fmt_count(d.source_rows),
                             gridflow.fmt_count(d.conflicting_keys), gridflow.fmt_count(d.conflicting_rows))
      FROM dup d
    UNION ALL
    SELECT 2, 1, '  none' WHERE NOT EXISTS (SELECT 1 FROM dup)
    UNION ALL
    SELECT 2, 900, pg_catalog.format('  Meters under several service points: %s', gridflow.fmt_count(pg_catalog.count(*)))
      FROM dq.multi_premise_meters
    UNION ALL
    SELECT 2, 901, pg_catalog.format('  Service points listed with conflicting attributes: %s', gridflow.fmt_count(pg_catalog.count(*)))
      FROM dq.conflicting_service_points
    -- VALUE KEPT BY DEDUP
    UNION ALL
    SELECT 3, 0, 'INTERVAL VALUE KEPT BY DE-DUPLICATION'
    UNION ALL
    SELECT 3, 10 * pg_catalog.row_number() OVER (ORDER BY s.pos, s.channel NULLS FIRST),
           CASE WHEN s.channel IS NULL
                THEN pg_catalog.format('  %s %s (%s): %s of the raw value kept%s', CASE WHEN s.warning IS NOT NULL THEN '!!' ELSE 'OK' END,
                                       s.utility_id, s.policy,
                                       coalesce(s.kept_share_pct::text OPERATOR(pg_catalog.||) '%', 'n/a'),
                                       CASE WHEN s.warning IS NOT NULL THEN ' <-- the dropped duplicates carry most of the usage' ELSE '' END)
                ELSE pg_catalog.format('       channel %s: %s kept (%s of %s source rows kept)', s.channel,
                                       coalesce(s.kept_share_pct::text OPERATOR(pg_catalog.||) '%', 'n/a'),
                                       gridflow.fmt_count(s.kept_rows), gridflow.fmt_count(s.source_rows)) END
      FROM share s
     WHERE s.channel IS NULL OR s.kept_share_pct OPERATOR(pg_catalog.<) 99
    -- REFERENTIAL INTEGRITY
    UNION ALL
    SELECT 4, 0, 'REFERENTIAL INTEGRITY'
    UNION ALL
    SELECT 4, 10, pg_catalog.format('  Intervals -> Meters:         %s orphan meter ids (%s rows) %s',
                                    gridflow.fmt_count(ids), gridflow.fmt_count(rows_),
                                    CASE WHEN ids OPERATOR(pg_catalog.=) 0 THEN 'OK' ELSE 'WARN' END)
      FROM ri_total WHERE relationship OPERATOR(pg_catalog.=) 'interval_read.meter_id -> meter'
    UNION ALL
    SELECT 4, 20, pg_catalog.format('  Intervals -> Service Points: %s orphan SP IDs (%s rows) %s',
                                    gridflow.fmt_count(ids), gridflow.fmt_count(rows_),
                                    CASE WHEN rows_ OPERATOR(pg_catalog.=) 0 THEN 'OK' ELSE 'WARN' END)
      FROM ri_total WHERE relationship OPERATOR(pg_catalog.=) 'interval_read.service_point_id -> service_point'
    UNION ALL
    SELECT 4, 20 + ri.pos,
           pg_catalog.format('    %s: %s missing service points (%s rows)', ri.utility_id,
                             gridflow.fmt_count(ri.orphan_ids), gridflow.fmt_count(ri.orphan_rows))
      FROM ri WHERE ri.relationship OPERATOR(pg_catalog.=) 'interval_read.service_point_id -> service_point'
                AND ri.orphan_rows OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 4, 200, pg_catalog.format('  Meters -> Service Points:    %s unknown SP IDs (%s meters) %s',
                                     gridflow.fmt_count(ids), gridflow.fmt_count(rows_),
                                     CASE WHEN ids OPERATOR(pg_catalog.=) 0 THEN 'OK' ELSE 'WARN' END)
      FROM ri_total WHERE relationship OPERATOR(pg_catalog.=) 'meter.service_point_id -> service_point'
    -- METER LINKS
    UNION ALL
    SELECT 5, 0, 'METER LINKS (reads that reach service points through meters)'
    UNION ALL
    SELECT 5, 10 * pg_catalog.row_number() OVER (ORDER BY a.utility_id),
           pg_catalog.format('  %s (%s): %s of %s reads on meters under several service points; effective_dated and first_row differ on %s; %s without an effective assignment',
                             a.utility_id, a.policy, gridflow.fmt_count(a.reads_on_multi_premise_meters),
                             gridflow.fmt_count(a.reads), gridflow.fmt_count(a.reads_where_policies_differ),
                             gridflow.fmt_count(a.reads_without_effective_assignment))
      FROM dq.meter_link_ambiguity a
    UNION ALL
    SELECT 5, 1, '  none' WHERE NOT EXISTS (SELECT 1 FROM dq.meter_link_ambiguity)
    -- COMPLETENESS
    UNION ALL
    SELECT 6, 0, 'COMPLETENESS (% non-null)'
    UNION ALL
    SELECT 6, CASE c.table_name WHEN 'standardized.interval_read' THEN 1 WHEN 'standardized.meter' THEN 2 ELSE 3 END,
           '  ' OPERATOR(pg_catalog.||)
           CASE c.table_name WHEN 'standardized.interval_read' THEN 'Intervals' WHEN 'standardized.meter' THEN 'Meters'
                ELSE 'Service Points' END
           OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) coalesce(c.incomplete, 'all critical fields complete')
      FROM comp c
    -- INTERVAL VALUES
    UNION ALL
    SELECT 7, 0, 'INTERVAL VALUES'
    UNION ALL
    SELECT 7, 1, pg_catalog.format('  Range: %s to %s', gridflow.fmt_count(pg_catalog.round(vp.min_value)::bigint),
                                   gridflow.fmt_count(pg_catalog.round(vp.max_value)::bigint)) FROM vp
    UNION ALL
    SELECT 7, 2, pg_catalog.format('  Mean: %s, Median: %s', gridflow.fmt_count(pg_catalog.round(vp.mean_value)::bigint),
                                   gridflow.fmt_count(pg_catalog.round(vp.median_value)::bigint)) FROM vp
    UNION ALL
    SELECT 7, 3, pg_catalog.format('  Zeros: %s (%s%%)', gridflow.fmt_count(vp.zeros), vp.zero_pct) FROM vp
    UNION ALL
    SELECT 7, 4, pg_catalog.format('  Negatives: %s', gridflow.fmt_count(vp.negatives)) FROM vp
    UNION ALL
    SELECT 7, 5, pg_catalog.format('  Outliers (IQR): %s (%s%%)', gridflow.fmt_count(vp.iqr_outliers), vp.outlier_pct) FROM vp
    -- TIMESTAMP RANGE
    UNION ALL
    SELECT 8, 0, 'TIMESTAMP RANGE (local days)'
    UNION ALL
    SELECT 8, 1, pg_catalog.format('  %s to %s (%s days)', tr.first_local_date, tr.last_local_date, tr.days) FROM tr
    UNION ALL
    SELECT 8, 2, pg_catalog.format('  Nulls: %s, Pre-2020: %s, Rejected timestamps: %s',
                                   tr.null_timestamps, tr.before_2020, tr.rejected_timestamps) FROM tr
    UNION ALL
    SELECT 8, 10 + 10 * u.pos + pg_catalog.row_number() OVER (PARTITION BY u.pos ORDER BY l.file_kind),
           pg_catalog.format('  %s %s file: %s local times in an hour repeated by a daylight-saving change, %s in a skipped hour',
                             l.utility_id, l.file_kind, gridflow.fmt_count(l.ambiguous), gridflow.fmt_count(l.nonexistent))
      FROM (SELECT b.utility_id, b.file_kind,
                   pg_catalog.sum(b.ambiguous_local_times)::bigint AS ambiguous,
                   pg_catalog.sum(b.nonexistent_local_times)::bigint AS nonexistent
              FROM gridflow.batch b
             GROUP BY b.utility_id, b.file_kind) l
      JOIN u ON u.utility_id OPERATOR(pg_catalog.=) l.utility_id
     WHERE l.ambiguous OPERATOR(pg_catalog.>) 0 OR l.nonexistent OPERATOR(pg_catalog.>) 0
    -- EXPERIENCE
    UNION ALL
    SELECT 9, 0, 'EXPERIENCE LAYER'
    UNION ALL
    SELECT 9, 1, pg_catalog.format('  %s daily summaries (%s service-point days) for %s service points',
                                   gridflow.fmt_count(ex.daily_rows), gridflow.fmt_count(ex.service_point_days),
                                   gridflow.fmt_count(ex.service_points)) FROM ex
    UNION ALL
    SELECT 9, 2, pg_catalog.format('  Avg daily usage per channel: %s', gridflow.fmt_count(pg_catalog.round(ex.avg_daily_usage)::bigint)) FROM ex
    UNION ALL
    SELECT 9, 3, pg_catalog.format('  Peak value seen: %s', gridflow.fmt_count(pg_catalog.round(ex.max_peak_value)::bigint)) FROM ex
    -- REJECTED RECORDS
    UNION ALL
    SELECT 10, 0, 'REJECTED RECORDS'
    UNION ALL
    SELECT 10, pg_catalog.row_number() OVER (ORDER BY j.utility_id, j.file_kind, j.stage, j.reason),
           pg_catalog.format('  %s %s, %s: %s %s (lines %s to %s)', j.utility_id, j.file_kind, j.stage,
                             gridflow.fmt_count(j.records), j.reason, j.first_line, j.last_line)
      FROM (SELECT utility_id, file_kind, stage, reason, pg_catalog.sum(records)::bigint AS records,
                   pg_catalog.min(first_line) AS first_line, pg_catalog.max(last_line) AS last_line
              FROM dq.rejects
             GROUP BY utility_id, file_kind, stage, reason) j
    UNION ALL
    SELECT 10, 1, '  none' WHERE NOT EXISTS (SELECT 1 FROM dq.rejects)
    -- SUMMARY
    UNION ALL
    SELECT 11, 0, pg_catalog.repeat('-', 72)
    UNION ALL
    SELECT 11, 1, 'SUMMARY'
    UNION ALL
    SELECT 11, 2, pg_catalog.format('  Records ready for analysis: %s (%s / %s)',
                                    gridflow.fmt_pct(rd.ready_reads, rd.reads), gridflow.fmt_count(rd.ready_reads),
                                    gridflow.fmt_count(rd.reads)) FROM rd
    UNION ALL
    SELECT 11, 3, '  Issues to address:'
     WHERE EXISTS (SELECT 1 FROM ri WHERE orphan_rows OPERATOR(pg_catalog.>) 0
                                      AND relationship OPERATOR(pg_catalog.<>) 'meter.service_point_id -> service_point')
        OR EXISTS (SELECT 1 FROM dup WHERE file_kind OPERATOR(pg_catalog.=) 'interval' AND duplicate_pct OPERATOR(pg_catalog.>) 50)
        OR EXISTS (SELECT 1 FROM share WHERE channel IS NULL AND warning IS NOT NULL)
        OR EXISTS (SELECT 1 FROM vp WHERE negatives OPERATOR(pg_catalog.>) 0)
        OR EXISTS (SELECT 1 FROM dq.rejects)
    UNION ALL
    SELECT 11, 10 + ri.pos,
           pg_catalog.format('    - %s service point ids missing from %s (%s reads; source issue)',
                             gridflow.fmt_count(ri.orphan_ids), ri.utility_id, gridflow.fmt_count(ri.orphan_rows))
      FROM ri WHERE ri.relationship OPERATOR(pg_catalog.=) 'interval_read.service_point_id -> service_point'
                AND ri.orphan_rows OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 11, 30 + ri.pos,
           pg_catalog.format('    - %s meter ids missing from %s (%s reads)',
                             gridflow.fmt_count(ri.orphan_ids), ri.utility_id, gridflow.fmt_count(ri.orphan_rows))
      FROM ri WHERE ri.relationship OPERATOR(pg_catalog.=) 'interval_read.meter_id -> meter'
                AND ri.orphan_rows OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 11, 50 + d.pos,
           pg_catalog.format('    - %s has %s%% duplicate interval readings (clarify with utility)',
                             d.utility_id, pg_catalog.round(d.duplicate_pct))
      FROM dup d WHERE d.file_kind OPERATOR(pg_catalog.=) 'interval' AND d.duplicate_pct OPERATOR(pg_catalog.>) 50
    UNION ALL
    SELECT 11, 70 + s.pos,
           pg_catalog.format('    - %s de-duplication (%s) keeps only %s%% of the raw interval value',
                             s.utility_id, s.policy, s.kept_share_pct)
      FROM share s WHERE s.channel IS NULL AND s.warning IS NOT NULL
    UNION ALL
    SELECT 11, 90, '    - Negative usage values found' FROM vp WHERE vp.negatives OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 11, 91, pg_catalog.format('    - %s source records rejected (see dq.rejects)',
                                     gridflow.fmt_count(pg_catalog.sum(records)::bigint))
      FROM dq.rejects HAVING pg_catalog.sum(records) OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 11, 99, pg_catalog.repeat('-', 72)
)
SELECT pg_catalog.row_number() OVER (ORDER BY section, ord)::integer AS line_no,
       line
  FROM (SELECT section, ord, line FROM lines
        UNION ALL
        SELECT s, -1, '' FROM pg_catalog.generate_series(1, 11) s) l
 ORDER BY line_no;
COMMENT ON VIEW dq.snapshot IS 'The data-quality report as text, one row per line, in order of line_no: row counts, duplicates, value kept by de-duplication, referential integrity, meter links, completeness, values, timestamps, experience, rejects and a summary';
COMMENT ON COLUMN dq.snapshot.line_no IS 'Line number';
COMMENT ON COLUMN dq.snapshot.line IS 'Text of the line';

--
-- Views for external readers (gridflow_external).  The external role has
-- no privilege on any layer table: these views run with the rights of their
-- owner, so they apply the utility filter of row-level security themselves
-- (rows of the utilities mapped to the reader in gridflow.role_utility; all
-- of them for gridflow_pipeline), and they are security barriers, so that
-- no function of the reader's query sees a row before that filter.  Street,
-- house number and house supplement are masked (always NULL); the ZIP code
-- is cut to its first three digits (zip3).
--
CREATE VIEW external.usage_interval WITH (security_barrier = true) AS
SELECT p.utility_id,
       p.service_point_id,
       p.meter_id,
       p.channel,
       p.interval_start_ts,
       p.interval_end_ts,
       p.local_date,
       p.duration_seconds,
       p.value,
       p.quality,
       p.service_point_known,
       p.meter_known,
       p.serial_number,
       p.meter_type,
       p.meter_category,
       p.service_point_number,
       NULL::pg_catalog.text AS house_num,
       NULL::pg_catalog.text AS street,
       NULL::pg_catalog.text AS house_supp,
       p.city,
       pg_catalog.left(p.zip, 3) AS zip3,
       p.state,
       p.last_update_time,
       p.exported_at
  FROM product.usage_interval p
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR p.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'));
COMMENT ON VIEW external.usage_interval IS 'product.usage_interval for external readers: address masked, ZIP cut to three digits, lineage left out, rows of the reader''s utilities';
COMMENT ON COLUMN external.usage_interval.utility_id IS 'Utility';
COMMENT ON COLUMN external.usage_interval.service_point_id IS 'Service point (NULL when unknown)';
COMMENT ON COLUMN external.usage_interval.meter_id IS 'Meter';
COMMENT ON COLUMN external.usage_interval.channel IS 'Channel';
COMMENT ON COLUMN external.usage_interval.interval_start_ts IS 'Start of the interval';
COMMENT ON COLUMN external.usage_interval.interval_end_ts IS 'End of the interval';
COMMENT ON COLUMN external.usage_interval.local_date IS 'Day of interval_start_ts in the utility''s time zone';
COMMENT ON COLUMN external.usage_interval.duration_seconds IS 'Interval length in seconds';
COMMENT ON COLUMN external.usage_interval.value IS 'Usage value';
COMMENT ON COLUMN external.usage_interval.quality IS 'Quality flag';
COMMENT ON COLUMN external.usage_interval.service_point_known IS 'The service point exists in the standardized layer';
COMMENT ON COLUMN external.usage_interval.meter_known IS 'The meter exists in the standardized layer';
COMMENT ON COLUMN external.usage_interval.serial_number IS 'Meter serial number';
COMMENT ON COLUMN external.usage_interval.meter_type IS 'Meter type';
COMMENT ON COLUMN external.usage_interval.meter_category IS 'Meter category';
COMMENT ON COLUMN external.usage_interval.service_point_number IS 'Service point number';
COMMENT ON COLUMN external.usage_interval.house_num IS 'House number: masked, always NULL';
COMMENT ON COLUMN external.usage_interval.street IS 'Street: masked, always NULL';
COMMENT ON COLUMN external.usage_interval.house_supp IS 'House supplement: masked, always NULL';
COMMENT ON COLUMN external.usage_interval.city IS 'City';
COMMENT ON COLUMN external.usage_interval.zip3 IS 'First three digits of the ZIP code (ZIP3)';
COMMENT ON COLUMN external.usage_interval.state IS 'State';
COMMENT ON COLUMN external.usage_interval.last_update_time IS 'When the utility last updated the read';
COMMENT ON COLUMN external.usage_interval.exported_at IS 'When the utility exported the read';

CREATE VIEW external.service_point WITH (security_barrier = true) AS
SELECT s.utility_id,
       s.service_point_id,
       s.service_point_number,
       NULL::pg_catalog.text AS house_num,
       NULL::pg_catalog.text AS street,
       NULL::pg_catalog.text AS house_supp,
       s.city,
       pg_catalog.left(s.zip, 3) AS zip3,
       s.state,
       s.installed_at,
       s.removed_at,
       s.created_at,
       s.updated_at
  FROM standardized.service_point s
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR s.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'));
COMMENT ON VIEW external.service_point IS 'standardized.service_point for external readers: address masked, ZIP cut to three digits, lineage left out, rows of the reader''s utilities';
COMMENT ON COLUMN external.service_point.utility_id IS 'Utility';
COMMENT ON COLUMN external.service_point.service_point_id IS 'Service point identifier (utility2: the premise)';
COMMENT ON COLUMN external.service_point.service_point_number IS 'Service point number, where the utility gives one';
COMMENT ON COLUMN external.service_point.house_num IS 'House number: masked, always NULL';
COMMENT ON COLUMN external.service_point.street IS 'Street: masked, always NULL';
COMMENT ON COLUMN external.service_point.house_supp IS 'House supplement: masked, always NULL';
COMMENT ON COLUMN external.service_point.city IS 'City';
COMMENT ON COLUMN external.service_point.zip3 IS 'First three digits of the ZIP code (ZIP3)';
COMMENT ON COLUMN external.service_point.state IS 'State or region';
COMMENT ON COLUMN external.service_point.installed_at IS 'When the service point was installed';
COMMENT ON COLUMN external.service_point.removed_at IS 'When it was removed';
COMMENT ON COLUMN external.service_point.created_at IS 'Record creation time at the utility';
COMMENT ON COLUMN external.service_point.updated_at IS 'Record update time at the utility';

CREATE VIEW external.daily_usage WITH (security_barrier = true) AS
SELECT e.utility_id,
       e.service_point_id,
       e.local_date,
       e.channel,
       e.bucket_start,
       e.bucket_end,
       e.total_usage,
       e.interval_count,
       e.peak_usage_value,
       e.peak_usage_ts,
       e.pit_usage_value,
       e.pit_usage_ts
  FROM experience.daily_usage e
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR e.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'));
COMMENT ON VIEW external.daily_usage IS 'experience.daily_usage for external readers: rows of the reader''s utilities';
COMMENT ON COLUMN external.daily_usage.utility_id IS 'Utility';
COMMENT ON COLUMN external.daily_usage.service_point_id IS 'Service point';
COMMENT ON COLUMN external.daily_usage.local_date IS 'Local day in the utility''s time zone';
COMMENT ON COLUMN external.daily_usage.channel IS 'Channel (kWh and kVARh are never added together)';
COMMENT ON COLUMN external.daily_usage.bucket_start IS 'Local midnight starting the day';
COMMENT ON COLUMN external.daily_usage.bucket_end IS 'Next local midnight (exclusive)';
COMMENT ON COLUMN external.daily_usage.total_usage IS 'Sum of the day''s values';
COMMENT ON COLUMN external.daily_usage.interval_count IS 'Reads with a value in the day';
COMMENT ON COLUMN external.daily_usage.peak_usage_value IS 'Largest value of the day';
COMMENT ON COLUMN external.daily_usage.peak_usage_ts IS 'Start of the read holding the peak (earliest on ties)';
COMMENT ON COLUMN external.daily_usage.pit_usage_value IS 'Smallest value of the day';
COMMENT ON COLUMN external.daily_usage.pit_usage_ts IS 'Start of the read holding the pit (earliest on ties)';

--
-- Roles, privileges and row-level security.
--
--

--
-- Incremental loads: gridflow_ingest() and gridflow_rebuild().
--
CREATE FUNCTION @extschema@.gridflow_ingest(
    path text,
    utility_id text DEFAULT NULL,
    file_kind text DEFAULT NULL,
    OUT batch_id bigint,
    OUT utility text,
    OUT kind text,
    OUT file_path text,
    OUT outcome text,
    OUT same_as_batch bigint,
    OUT records_read bigint,
    OUT rows_kept bigint,
    OUT rows_matched bigint,
    OUT rows_replaced bigint,
    OUT days_refreshed bigint,
    OUT elapsed_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_ingest'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.gridflow_ingest(text, text, text) IS 'Add files to what the layers hold, in the caller''s transaction: a drop directory (every configured file found in it, of one utility or of all enabled ones) or one file (utility_id required; file_kind when its name does not say it). Each file becomes a batch; a file whose content (SHA-256) was loaded before for the same utility and kind is skipped (outcome unchanged, same_as_batch). Records whose key an earlier batch loaded follow the utility''s interval_dedup_policy (keep_first: the original stays; keep_last: the correction wins; sum: added), and product rows and daily summaries are refreshed for the service points and local days that changed; the result equals gridflow_rebuild() of the same files. Ingests of one utility queue; of different utilities, they run side by side. Rights as for gridflow_build().';

CREATE FUNCTION @extschema@.gridflow_rebuild(
    OUT step text,
    OUT table_name text,
    OUT row_count bigint,
    OUT elapsed_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_rebuild'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.gridflow_rebuild() IS 'Rebuild every layer from the files of the recorded batches (gridflow.batch), in batch order, with the current configuration, in the caller''s transaction. The history stays; each file must still be where it was, with the content it had (its SHA-256 is checked). Returns one row per table written, as gridflow_build() does. Rights as for gridflow_build().';

--
-- Functions that open server files are not for PUBLIC; on top of EXECUTE
-- they check that the calling role may read server files (superuser or
-- pg_read_server_files) and gridflow.allowed_directories.
--
REVOKE EXECUTE ON FUNCTION gridflow.read_csv(text, text[], text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gridflow.read_csv_header(text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_build(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_ingest(text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_rebuild() FROM PUBLIC;

--
-- The pipeline: builds and ingests (they run as the owner of the extension,
-- so no write privilege on the layers is needed), configuration, and
-- reading everything.  The schemas are not open to PUBLIC.
--
GRANT USAGE ON SCHEMA gridflow, landing, standardized, product, experience, dq TO gridflow_pipeline;
GRANT EXECUTE ON FUNCTION gridflow.read_csv(text, text[], text, text),
                          gridflow.read_csv_header(text, text, text),
                          @extschema@.gridflow_build(text),
                          @extschema@.gridflow_ingest(text, text, text),
                          @extschema@.gridflow_rebuild()
    TO gridflow_pipeline;
GRANT SELECT, INSERT, UPDATE, DELETE ON gridflow.utility, gridflow.source_file, gridflow.column_map
    TO gridflow_pipeline;
GRANT SELECT ON gridflow.batch, gridflow.build, gridflow.role_utility,
                gridflow.product_source, gridflow.experience_source,
                landing.source_chunk, landing.source_record, landing.reject,
                standardized.service_point, standardized.meter,
                standardized.meter_assignment, standardized.interval_read,
                product.usage_interval, experience.daily_usage
    TO gridflow_pipeline;
GRANT SELECT ON ALL TABLES IN SCHEMA dq TO gridflow_pipeline;

--
-- Internal readers: every column of the layers after landing, and data
-- quality; no configuration beyond the utilities, nothing in landing.
--
GRANT USAGE ON SCHEMA gridflow, standardized, product, experience, dq TO gridflow_internal;
GRANT SELECT ON gridflow.utility, gridflow.batch, gridflow.build, gridflow.role_utility,
                standardized.service_point, standardized.meter,
                standardized.meter_assignment, standardized.interval_read,
                product.usage_interval, experience.daily_usage
    TO gridflow_internal;
GRANT SELECT ON ALL TABLES IN SCHEMA dq TO gridflow_internal;

--
-- External readers: the masked views, nothing else.
--
GRANT USAGE ON SCHEMA external TO gridflow_external;
GRANT SELECT ON ALL TABLES IN SCHEMA external TO gridflow_external;

--
-- Row-level security.  Every table with rows of a utility shows a role the
-- rows of the utilities mapped to it in gridflow.role_utility (through any
-- role whose privileges it has); gridflow_pipeline sees every row.  The
-- policies are for SELECT only: nobody but the owner writes the layers, and
-- the owner (the build) is not subject to them; the pipeline also edits
-- gridflow.utility.  The landing tables are filtered through their batch.
--
ALTER TABLE gridflow.role_utility ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_mappings ON gridflow.role_utility FOR SELECT TO PUBLIC
    USING (EXISTS (SELECT FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) role_utility.role_name
                      AND pg_catalog.pg_has_role(r.oid, 'USAGE')));
COMMENT ON POLICY own_mappings ON gridflow.role_utility IS 'A role sees the mappings of the roles whose privileges it has';

DO $$
DECLARE
    t regclass;
    mapped text := 'SELECT m.utility_id FROM gridflow.role_utility m '
                   'JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name '
                   'WHERE pg_catalog.pg_has_role(r.oid, ''USAGE'')';
BEGIN
    FOR t IN
        SELECT x.t::regclass
          FROM pg_catalog.unnest(ARRAY['gridflow.utility', 'gridflow.batch',
                                       'landing.source_chunk', 'landing.reject',
                                       'standardized.service_point', 'standardized.meter',
                                       'standardized.meter_assignment', 'standardized.interval_read',
                                       'product.usage_interval', 'experience.daily_usage']) AS x(t)
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        IF t OPERATOR(pg_catalog.=) 'gridflow.utility'::regclass THEN
            EXECUTE pg_catalog.format('CREATE POLICY pipeline_all_rows ON %s TO gridflow_pipeline '
                                      'USING (true) WITH CHECK (true)', t);
            EXECUTE pg_catalog.format('COMMENT ON POLICY pipeline_all_rows ON %s IS %L', t,
                                      'gridflow_pipeline sees and edits the configuration of every utility');
        ELSE
            EXECUTE pg_catalog.format('CREATE POLICY pipeline_all_rows ON %s FOR SELECT TO gridflow_pipeline USING (true)', t);
            EXECUTE pg_catalog.format('COMMENT ON POLICY pipeline_all_rows ON %s IS %L', t,
                                      'gridflow_pipeline sees the rows of every utility');
        END IF;
        IF pg_catalog.starts_with(t::text, 'landing.') THEN
            EXECUTE pg_catalog.format('CREATE POLICY mapped_utility_rows ON %s FOR SELECT TO PUBLIC USING ('
                                      'batch_id OPERATOR(pg_catalog.=) ANY (SELECT b.batch_id FROM gridflow.batch b '
                                      'WHERE b.utility_id OPERATOR(pg_catalog.=) ANY (%s)))', t, mapped);
        ELSE
            EXECUTE pg_catalog.format('CREATE POLICY mapped_utility_rows ON %s FOR SELECT TO PUBLIC USING ('
                                      'utility_id OPERATOR(pg_catalog.=) ANY (%s))', t, mapped);
        END IF;
        EXECUTE pg_catalog.format('COMMENT ON POLICY mapped_utility_rows ON %s IS %L', t,
                                  'A role sees the rows of the utilities mapped to it in gridflow.role_utility');
    END LOOP;
END
$$;
COMMENT ON COLUMN dq.timestamp_range.ambiguous_local_times IS 'Source records with a local time without offset in an hour repeated when daylight saving time ends (gridflow.batch; resolved by the utility''s ambiguous_local_time, or by the wide_dst of a wide layout)';
COMMENT ON COLUMN dq.timestamp_range.nonexistent_local_times IS 'Source records with a local time without offset in an hour skipped when daylight saving time starts (gridflow.batch)';
COMMENT ON COLUMN dq.batches.unpivoted_reads IS 'Wide layouts: reads the valid records were unpivoted into; NULL for long layouts';
COMMENT ON COLUMN dq.batches.ambiguous_local_times IS 'Records with a local time in an hour repeated when daylight saving time ends';
COMMENT ON COLUMN dq.batches.nonexistent_local_times IS 'Records with a local time in an hour skipped when daylight saving time starts';

--
-- Shards: a coordinator's configuration and functions, a shard's queue,
-- stage tables and the view that does its work (src/sql/70_distribute.sql).
--
CREATE TABLE gridflow.shard (
    utility_id text NOT NULL REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    hash_modulus integer NOT NULL DEFAULT 1 CHECK (hash_modulus OPERATOR(pg_catalog.>) 0),
    hash_remainder integer NOT NULL DEFAULT 0,
    server_name text NOT NULL CHECK (server_name OPERATOR(pg_catalog.<>) ''),
    drop_dir text,
    PRIMARY KEY (utility_id, hash_remainder),
    CONSTRAINT shard_server_once UNIQUE (utility_id, server_name),
    CONSTRAINT shard_remainder
        CHECK (hash_remainder OPERATOR(pg_catalog.>=) 0 AND hash_remainder OPERATOR(pg_catalog.<) hash_modulus),
    CONSTRAINT shard_drop_dir
        CHECK (drop_dir IS NULL OR (hash_modulus OPERATOR(pg_catalog.=) 1 AND drop_dir OPERATOR(pg_catalog.~) '^/'))
);
COMMENT ON TABLE gridflow.shard IS 'Where a coordinator builds each utility: on one shard (hash_modulus 1), or split by hash of service_point_id across several (one row per remainder); a utility without rows is built in this database. gridflow_distribute() lays the layers out accordingly, gridflow_build_distributed() builds them';
COMMENT ON COLUMN gridflow.shard.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.shard.hash_modulus IS '1: the whole utility on one shard; n > 1: its rows split by hash of service_point_id into n parts (PostgreSQL''s hash partitioning), one row per part';
COMMENT ON COLUMN gridflow.shard.hash_remainder IS 'The part of the utility this row places: rows whose service point hashes to this remainder (0 for a whole utility)';
COMMENT ON COLUMN gridflow.shard.server_name IS 'postgres_fdw foreign server of the shard (async_capable ''true'', extensions ''gridflow'', a user mapping for the extension''s owner); a shard runs gridflow too';
COMMENT ON COLUMN gridflow.shard.drop_dir IS 'A whole utility: the drop directory on the shard''s server that it reads (NULL: the directory given to gridflow_build_distributed()); a utility split by hash is read by the coordinator';
COMMENT ON CONSTRAINT shard_server_once ON gridflow.shard IS 'A shard holds one part of a utility at most (each part is the utility''s partition there)';
COMMENT ON CONSTRAINT shard_remainder ON gridflow.shard IS 'A remainder lies between 0 and hash_modulus - 1';
COMMENT ON CONSTRAINT shard_drop_dir ON gridflow.shard IS 'Only a whole utility is read by its shard, from an absolute directory';
SELECT pg_catalog.pg_extension_config_dump('gridflow.shard', '');

CREATE SCHEMA gridflow_shard;
COMMENT ON SCHEMA gridflow_shard IS 'gridflow on a coordinator: foreign tables over the tables of its shards that builds use, made by gridflow_distribute()';

--
-- A shard's side: what a coordinator sends it in the transaction of a build
-- (through postgres_fdw), and the view whose scan does the work.
--
CREATE TABLE gridflow.shard_task (
    task_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tag text NOT NULL,
    operation text NOT NULL CHECK (operation IN ('build_utility', 'build_hash_part')),
    utility_id text NOT NULL,
    drop_dir text,
    build_id bigint NOT NULL,
    file_kinds text[] NOT NULL DEFAULT '{}',
    batch_ids bigint[] NOT NULL DEFAULT '{}',
    configuration jsonb NOT NULL,
    gridflow_version text NOT NULL
);
COMMENT ON TABLE gridflow.shard_task IS 'On a shard: work a coordinator queued in its build''s transaction, done (and deleted) when it reads gridflow.shard_run; empty outside a build';
COMMENT ON COLUMN gridflow.shard_task.task_id IS 'Order of the work';
COMMENT ON COLUMN gridflow.shard_task.tag IS 'The coordinator''s name of this shard (its foreign server), returned with the results';
COMMENT ON COLUMN gridflow.shard_task.operation IS 'build_utility: build the utility from the drop directory here, replacing its rows; build_hash_part: build this shard''s part of the utility from the staged dimensions and reads';
COMMENT ON COLUMN gridflow.shard_task.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.shard_task.drop_dir IS 'build_utility: the drop directory to read, on this server';
COMMENT ON COLUMN gridflow.shard_task.build_id IS 'The coordinator''s build';
COMMENT ON COLUMN gridflow.shard_task.file_kinds IS 'build_utility: the kinds of the files, in the order of batch_ids';
COMMENT ON COLUMN gridflow.shard_task.batch_ids IS 'build_utility: the batch numbers the coordinator gave the files';
COMMENT ON COLUMN gridflow.shard_task.configuration IS 'The coordinator''s configuration of the utility (rows of gridflow.utility, source_file, column_map, channel, and every unit), copied over this database''s before the work';
COMMENT ON COLUMN gridflow.shard_task.gridflow_version IS 'The coordinator''s version of gridflow, which must be this database''s';

CREATE TABLE gridflow.shard_stage_read (LIKE standardized.interval_read);
CREATE TABLE gridflow.shard_stage_service_point (LIKE standardized.service_point);
CREATE TABLE gridflow.shard_stage_meter (LIKE standardized.meter);
CREATE TABLE gridflow.shard_stage_meter_assignment (LIKE standardized.meter_assignment);
COMMENT ON TABLE gridflow.shard_stage_read IS 'Standardized reads of a utility split by hash, on their way to the shard that builds them (on a coordinator: read there, then routed; on a shard: received, then built); empty outside a build';
COMMENT ON TABLE gridflow.shard_stage_service_point IS 'On a shard: the service points of a utility split by hash, sent by the coordinator for the shard''s part; empty outside a build';
COMMENT ON TABLE gridflow.shard_stage_meter IS 'On a shard: the meters of a utility split by hash, sent by the coordinator; empty outside a build';
COMMENT ON TABLE gridflow.shard_stage_meter_assignment IS 'On a shard: the meter assignments of a utility split by hash, sent by the coordinator; empty outside a build';

CREATE FUNCTION gridflow.shard_run_tasks(
    OUT tag text,
    OUT task_id bigint,
    OUT utility_id text,
    OUT step text,
    OUT table_name text,
    OUT row_count bigint,
    OUT elapsed_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_shard_run_tasks'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION gridflow.shard_run_tasks() IS 'On a shard: do the work queued in gridflow.shard_task, in order (copy the utility''s configuration, then build it, or build this shard''s part of it from the stage tables), as the owner of the extension; returns what each task wrote. Rights as for gridflow_build() (a task that reads a drop directory checks the caller''s right to read it)';

CREATE VIEW gridflow.shard_run WITH (security_invoker = true) AS
SELECT tag, task_id, utility_id, step, table_name, row_count, elapsed_ms
  FROM gridflow.shard_run_tasks();
COMMENT ON VIEW gridflow.shard_run IS 'On a shard: reading it does the queued work (gridflow.shard_run_tasks()); a coordinator reads it through a foreign table, on every shard at once';
COMMENT ON COLUMN gridflow.shard_run.tag IS 'The coordinator''s name of this shard';
COMMENT ON COLUMN gridflow.shard_run.task_id IS 'Task';
COMMENT ON COLUMN gridflow.shard_run.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.shard_run.step IS 'Utility, task and what it did';
COMMENT ON COLUMN gridflow.shard_run.table_name IS 'Table written';
COMMENT ON COLUMN gridflow.shard_run.row_count IS 'Rows written';
COMMENT ON COLUMN gridflow.shard_run.elapsed_ms IS 'Milliseconds';

--
-- A coordinator's functions.
--
CREATE FUNCTION @extschema@.gridflow_distribute(
    OUT utility_id text,
    OUT table_name text,
    OUT partition_name text,
    OUT placement text,
    OUT servers text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_distribute'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.gridflow_distribute() IS 'Lay the layers of reads out as gridflow.shard says: the partitions of a utility on one shard become postgres_fdw foreign tables over the same partitions there; those of a utility split by hash, tables partitioned by hash of service_point_id whose partitions are foreign tables on each shard; those of other utilities, tables here again (made by the next build). Also makes the foreign tables of schema gridflow_shard that builds use. Rows are not moved: run gridflow_build_distributed() next. Needs postgres_fdw; for the owner of the extension only';

CREATE FUNCTION @extschema@.gridflow_build_distributed(
    drop_dir text DEFAULT NULL,
    OUT server_name text,
    OUT step text,
    OUT table_name text,
    OUT row_count bigint,
    OUT elapsed_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_build_distributed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.gridflow_build_distributed(text) IS 'Rebuild every layer from a drop directory, here and on the shards of gridflow.shard, in the caller''s transaction: local utilities are built here; a whole utility is read and built by its shard (from gridflow.shard.drop_dir, or this drop_dir); a utility split by hash is read and de-duplicated here, and its reads are built by the shards of their service points; all shards work at once. On error nothing changes anywhere (the shards'' work commits with this transaction). Returns one row per table written, with the shard that wrote it (server_name NULL: here). Rights as for gridflow_build(); needs postgres_fdw';

REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_distribute() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_build_distributed(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gridflow.shard_run_tasks() FROM PUBLIC;
-- The pipeline builds; a coordinator's user mapping reaches its shards as a
-- pipeline role, which queues work, sends the staged rows and reads the results.
GRANT EXECUTE ON FUNCTION @extschema@.gridflow_build_distributed(text), gridflow.shard_run_tasks()
    TO gridflow_pipeline;
GRANT SELECT ON gridflow.shard, gridflow.shard_run TO gridflow_pipeline;
GRANT INSERT ON gridflow.shard_task, gridflow.shard_stage_read, gridflow.shard_stage_service_point,
                gridflow.shard_stage_meter, gridflow.shard_stage_meter_assignment
    TO gridflow_pipeline;

--
-- The views that define product and experience, and a shard's stage
-- tables, carry the comments of the columns they mirror.
--
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT v.copy, a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM (VALUES ('gridflow.product_source', 'product.usage_interval'), ('gridflow.experience_source', 'experience.daily_usage'),
                       ('gridflow.shard_stage_read', 'standardized.interval_read'), ('gridflow.shard_stage_service_point', 'standardized.service_point'),
                       ('gridflow.shard_stage_meter', 'standardized.meter'), ('gridflow.shard_stage_meter_assignment', 'standardized.meter_assignment'))
               AS v(copy, original)
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) v.original::regclass
         WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', c.copy, c.attname, c.comment);
    END LOOP;
END
$$;
