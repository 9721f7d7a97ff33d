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
-- Configuration
--
CREATE TABLE gridflow.utility (
    utility_id text PRIMARY KEY
        CHECK (utility_id OPERATOR(pg_catalog.~) '^[A-Za-z][A-Za-z0-9_]*$'),
    description text,
    time_zone text NOT NULL DEFAULT 'America/New_York',
    build_order integer NOT NULL DEFAULT 100,
    service_point_link text NOT NULL DEFAULT 'read'
        CHECK (service_point_link IN ('read', 'meter')),
    meter_link_policy text NOT NULL DEFAULT 'first_row'
        CHECK (meter_link_policy IN ('first_row', 'effective_dated')),
    interval_dedup_policy text NOT NULL DEFAULT 'keep_first'
        CHECK (interval_dedup_policy IN ('keep_first', 'keep_last', 'sum')),
    enabled boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE gridflow.utility IS 'One row per utility that gridflow builds; how its reads reach a service point and how duplicates are resolved';
COMMENT ON COLUMN gridflow.utility.utility_id IS 'Utility identifier, as it appears in every layer (e.g. UTILITY1)';
COMMENT ON COLUMN gridflow.utility.description IS 'Free text';
COMMENT ON COLUMN gridflow.utility.time_zone IS 'IANA time zone of the utility: local wall-clock times and integer dates are read in it, and daily buckets are its local days';
COMMENT ON COLUMN gridflow.utility.build_order IS 'Utilities are built in ascending build_order, then utility_id';
COMMENT ON COLUMN gridflow.utility.service_point_link IS 'read: the interval file names the service point; meter: the service point is reached through the meter (see meter_link_policy)';
COMMENT ON COLUMN gridflow.utility.meter_link_policy IS 'For service_point_link = meter: first_row takes the service point of the meter''s first row in the meter file; effective_dated takes the assignment installed on or before the read and not removed by then (latest installation wins)';
COMMENT ON COLUMN gridflow.utility.interval_dedup_policy IS 'Reads with the same key (utility, service point, meter, start, channel): keep_first keeps the first in file order, keep_last the last, sum adds their values (lineage of the first)';
COMMENT ON COLUMN gridflow.utility.enabled IS 'Disabled utilities are skipped by builds';

CREATE TABLE gridflow.source_file (
    utility_id text NOT NULL REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    file_kind text NOT NULL CHECK (file_kind IN ('service_point', 'meter', 'interval')),
    file_path text NOT NULL CHECK (file_path OPERATOR(pg_catalog.<>) ''),
    delimiter text NOT NULL DEFAULT ',' CHECK (pg_catalog.length(delimiter) = 1),
    quote text NOT NULL DEFAULT '"' CHECK (pg_catalog.length(quote) = 1),
    PRIMARY KEY (utility_id, file_kind),
    CONSTRAINT source_file_path_in_drop
        CHECK (file_path OPERATOR(pg_catalog.!~) '^/|(^|/)[.][.](/|$)')
);
COMMENT ON TABLE gridflow.source_file IS 'The files of a utility''s drop: one per kind, found at file_path below the drop directory';
COMMENT ON COLUMN gridflow.source_file.utility_id IS 'Utility the file belongs to';
COMMENT ON COLUMN gridflow.source_file.file_kind IS 'service_point, meter or interval: which standardized table the file feeds';
COMMENT ON COLUMN gridflow.source_file.file_path IS 'Path of the file relative to the drop directory (e.g. utility1/utility1_intervals.csv); it may not start with / or contain a .. component';
COMMENT ON COLUMN gridflow.source_file.delimiter IS 'Field delimiter (one byte)';
COMMENT ON COLUMN gridflow.source_file.quote IS 'Quote character (one byte); a doubled quote inside quotes is a literal quote';

CREATE TABLE gridflow.column_map (
    utility_id text NOT NULL,
    file_kind text NOT NULL,
    target_column name NOT NULL,
    source_column text NOT NULL,
    format text,
    null_values text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (utility_id, file_kind, target_column),
    FOREIGN KEY (utility_id, file_kind) REFERENCES gridflow.source_file
        ON UPDATE CASCADE ON DELETE CASCADE
);
COMMENT ON TABLE gridflow.column_map IS 'Where each standardized column comes from in a utility''s file; unmapped columns are NULL, unmapped file columns are ignored';
COMMENT ON COLUMN gridflow.column_map.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.column_map.file_kind IS 'File kind (service_point, meter, interval)';
COMMENT ON COLUMN gridflow.column_map.target_column IS 'Column of the standardized table fed by this file kind';
COMMENT ON COLUMN gridflow.column_map.source_column IS 'Header name in the file, matched case-insensitively, ignoring surrounding blanks; several targets may share one source column';
COMMENT ON COLUMN gridflow.column_map.format IS 'For timestamp targets: iso8601 (default; no offset means the utility''s local time), epoch, or a pattern of YYYY MM DD HH24 MI SS US TZ such as YYYYMMDD (a date alone is local midnight)';
COMMENT ON COLUMN gridflow.column_map.null_values IS 'Source strings, besides the empty unquoted field, that mean NULL; quote them in array literals (''{"null"}''), since an unquoted NULL element is an SQL NULL and matches nothing';

COMMENT ON CONSTRAINT source_file_path_in_drop ON gridflow.source_file IS 'A configured file stays inside the drop directory: whoever may edit the configuration cannot point a build at other server files';

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
COMMENT ON COLUMN gridflow.batch.rows_duplicate IS 'Landed records whose key was already there (earlier in the file or from an earlier batch), resolved by the de-duplication policy';
COMMENT ON COLUMN gridflow.batch.rows_kept IS 'New standardized rows: keys this batch brought first; records_read = rows_invalid + rows_duplicate + rows_kept';
COMMENT ON COLUMN gridflow.batch.rows_matched IS 'Standardized rows of earlier batches that records of this batch matched by key';
COMMENT ON COLUMN gridflow.batch.rows_replaced IS 'Of those, rows whose kept values this batch changed (keep_last: the correction won; sum: its values were added)';
COMMENT ON COLUMN gridflow.batch.status IS 'loading while the file is read, loaded once standardized';
COMMENT ON COLUMN gridflow.batch.spill_partitions IS 'Temporary files the reads were partitioned into because their keys outgrew gridflow.build_memory (0: de-duplicated in memory)';
COMMENT ON CONSTRAINT batch_content_key ON gridflow.batch IS 'A file''s content is loaded once per utility and kind';
