--
-- Storage.  Every table with rows of a utility is partitioned by utility
-- (LIST on utility_id) in schema gridflow_store, which readers neither see
-- nor need: they read the views of the same names in the layer schemas
-- (landing, standardized, product, experience).  Each utility's partition
-- holds the unique index of the table's key; the tables of reads, products
-- and days are partitioned again by month of the utility's local days.
-- A build writes each utility's new partitions apart, in gridflow_next,
-- and swaps them in when it is done (build.c, swap.c), so that readers see
-- the previous build until it commits; ingests write into the partitions
-- in place.  The partitions are members of the extension: pg_dump leaves
-- them out (a dump holds the configuration and the history, from which
-- gridflow_rebuild() makes the layers again).
--
CREATE SCHEMA gridflow_store;
COMMENT ON SCHEMA gridflow_store IS 'gridflow storage: the partitioned tables behind the views of the layer schemas, and their partitions (machinery: read the views)';
CREATE SCHEMA gridflow_next;
COMMENT ON SCHEMA gridflow_next IS 'gridflow storage under construction: the partitions a build is writing, swapped into gridflow_store when it ends (empty outside a build)';

--
-- Landing: every record as read, and every record that could not be used.
--
CREATE TABLE gridflow_store.source_chunk (
    batch_id bigint NOT NULL,
    first_line bigint NOT NULL,
    last_line bigint NOT NULL,
    records integer NOT NULL,
    data bytea NOT NULL,
    utility_id text NOT NULL
) PARTITION BY LIST (utility_id);
ALTER TABLE gridflow_store.source_chunk ALTER COLUMN data SET STORAGE EXTERNAL;
COMMENT ON TABLE gridflow_store.source_chunk IS 'Storage of landing.source_record (grain: one row per batch_id, first_line: a chunk of records), partitioned by utility: the valid records of each file, as read, packed a few kilobytes at a time in file order (read them through landing.source_record or gridflow.source_record()); each partition keyed on (batch_id, first_line)';
COMMENT ON COLUMN gridflow_store.source_chunk.batch_id IS 'Batch (gridflow.batch) the records were read in';
COMMENT ON COLUMN gridflow_store.source_chunk.first_line IS 'Line of the first record in the chunk';
COMMENT ON COLUMN gridflow_store.source_chunk.last_line IS 'Line of the last record in the chunk';
COMMENT ON COLUMN gridflow_store.source_chunk.records IS 'Records in the chunk';
COMMENT ON COLUMN gridflow_store.source_chunk.utility_id IS 'Utility of the batch';
COMMENT ON COLUMN gridflow_store.source_chunk.data IS 'The records: for each, its line number and its bytes (decoded by gridflow.chunk_records())';

CREATE TABLE gridflow_store.reject (
    batch_id bigint NOT NULL,
    line_no bigint NOT NULL,
    end_line_no bigint NOT NULL,
    stage text NOT NULL CHECK (stage IN ('landing', 'standardized')),
    reason text NOT NULL,
    detail text NOT NULL,
    source_column text,
    target_column text,
    record text,
    record_bytes bigint NOT NULL,
    utility_id text NOT NULL
) PARTITION BY LIST (utility_id);
COMMENT ON TABLE gridflow_store.reject IS 'Storage of landing.reject (grain: one row per utility_id, batch_id, line_no), partitioned by utility; each partition keyed on (batch_id, line_no)';
COMMENT ON COLUMN gridflow_store.reject.batch_id IS 'Batch (gridflow.batch) of the file';
COMMENT ON COLUMN gridflow_store.reject.line_no IS 'Physical line the record starts on';
COMMENT ON COLUMN gridflow_store.reject.end_line_no IS 'Physical line the record ends on (differs from line_no for records spanning lines)';
COMMENT ON COLUMN gridflow_store.reject.stage IS 'landing: the record never reached landing.source_record; standardized: it is in landing.source_record but not in the standardized layer';
COMMENT ON COLUMN gridflow_store.reject.reason IS 'Reason code: field_count, unterminated_quote, text_after_quote, invalid_utf8, nul_byte, record_too_long, too_many_fields, invalid_value, missing_key, unknown_unit, ambiguous_local_time, nonexistent_local_time, outside_day';
COMMENT ON COLUMN gridflow_store.reject.detail IS 'Human-readable explanation';
COMMENT ON COLUMN gridflow_store.reject.source_column IS 'File column at fault, for standardized rejects';
COMMENT ON COLUMN gridflow_store.reject.target_column IS 'Standardized column it feeds, for standardized rejects';
COMMENT ON COLUMN gridflow_store.reject.record IS 'The record''s raw text, cut to gridflow.reject_record_bytes bytes (invalid bytes replaced)';
COMMENT ON COLUMN gridflow_store.reject.record_bytes IS 'Full length of the record in bytes';
COMMENT ON COLUMN gridflow_store.reject.utility_id IS 'Utility of the batch';

--
-- Standardized: one common model.  Lineage columns (batch_id, line_no) name
-- the source record that was kept; source_rows counts the records that
-- shared the key, conflicting_rows those among them that disagree with the
-- kept row.
--
CREATE TABLE gridflow_store.service_point (
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
    conflicting_rows integer NOT NULL
) PARTITION BY LIST (utility_id);
COMMENT ON TABLE gridflow_store.service_point IS 'Storage of standardized.service_point (grain: one row per utility_id, service_point_id), partitioned by utility; each partition keyed on (utility_id, service_point_id)';
COMMENT ON COLUMN gridflow_store.service_point.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow_store.service_point.service_point_id IS 'Service point identifier (utility2: the premise)';
COMMENT ON COLUMN gridflow_store.service_point.service_point_number IS 'Service point number, where the utility gives one';
COMMENT ON COLUMN gridflow_store.service_point.house_num IS 'House number (PII)';
COMMENT ON COLUMN gridflow_store.service_point.street IS 'Street (PII)';
COMMENT ON COLUMN gridflow_store.service_point.house_supp IS 'House supplement: unit, suite, building (PII)';
COMMENT ON COLUMN gridflow_store.service_point.city IS 'City';
COMMENT ON COLUMN gridflow_store.service_point.zip IS 'ZIP code (quasi-PII)';
COMMENT ON COLUMN gridflow_store.service_point.state IS 'State or region';
COMMENT ON COLUMN gridflow_store.service_point.installed_at IS 'When the service point was installed';
COMMENT ON COLUMN gridflow_store.service_point.removed_at IS 'When it was removed';
COMMENT ON COLUMN gridflow_store.service_point.created_at IS 'Record creation time at the utility (dates are local midnight)';
COMMENT ON COLUMN gridflow_store.service_point.updated_at IS 'Record update time at the utility';
COMMENT ON COLUMN gridflow_store.service_point.batch_id IS 'Lineage: batch of the kept source record';
COMMENT ON COLUMN gridflow_store.service_point.line_no IS 'Lineage: line of the kept source record';
COMMENT ON COLUMN gridflow_store.service_point.last_batch_id IS 'Lineage: latest batch with a record of this service point';
COMMENT ON COLUMN gridflow_store.service_point.source_rows IS 'Source records with this key';
COMMENT ON COLUMN gridflow_store.service_point.conflicting_rows IS 'Source records with this key whose attributes differ from the kept one (e.g. other addresses)';

CREATE TABLE gridflow_store.meter (
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
    conflicting_rows integer NOT NULL
) PARTITION BY LIST (utility_id);
COMMENT ON TABLE gridflow_store.meter IS 'Storage of standardized.meter (grain: one row per utility_id, meter_id), partitioned by utility; each partition keyed on (utility_id, meter_id)';
COMMENT ON COLUMN gridflow_store.meter.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow_store.meter.meter_id IS 'Meter identifier (text, whatever the utility''s format)';
COMMENT ON COLUMN gridflow_store.meter.serial_number IS 'Serial or meter number';
COMMENT ON COLUMN gridflow_store.meter.meter_type IS 'Meter type';
COMMENT ON COLUMN gridflow_store.meter.meter_category IS 'Meter category or channel class';
COMMENT ON COLUMN gridflow_store.meter.service_point_id IS 'Service point of the meter''s first row (NULL where the meter file has no service point)';
COMMENT ON COLUMN gridflow_store.meter.installed_at IS 'Installation time of the first row';
COMMENT ON COLUMN gridflow_store.meter.removed_at IS 'Removal time of the first row';
COMMENT ON COLUMN gridflow_store.meter.created_at IS 'Record creation time at the utility';
COMMENT ON COLUMN gridflow_store.meter.updated_at IS 'Record update time at the utility';
COMMENT ON COLUMN gridflow_store.meter.batch_id IS 'Lineage: batch of the kept source record';
COMMENT ON COLUMN gridflow_store.meter.line_no IS 'Lineage: line of the kept source record';
COMMENT ON COLUMN gridflow_store.meter.last_batch_id IS 'Lineage: latest batch with a record of this meter';
COMMENT ON COLUMN gridflow_store.meter.source_rows IS 'Source records with this meter';
COMMENT ON COLUMN gridflow_store.meter.conflicting_rows IS 'Source records of this meter that differ from the kept one (another premise, another installation)';

CREATE TABLE gridflow_store.meter_assignment (
    utility_id text NOT NULL,
    meter_id text NOT NULL,
    service_point_id text NOT NULL,
    installed_at timestamptz,
    removed_at timestamptz,
    batch_id bigint NOT NULL,
    line_no bigint NOT NULL
) PARTITION BY LIST (utility_id);
COMMENT ON TABLE gridflow_store.meter_assignment IS 'Storage of standardized.meter_assignment (grain: one row per utility_id, batch_id, line_no), partitioned by utility; each partition keyed on (utility_id, batch_id, line_no)';
COMMENT ON COLUMN gridflow_store.meter_assignment.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow_store.meter_assignment.meter_id IS 'Meter';
COMMENT ON COLUMN gridflow_store.meter_assignment.service_point_id IS 'Service point the row assigns the meter to';
COMMENT ON COLUMN gridflow_store.meter_assignment.installed_at IS 'Start of the assignment (NULL: since ever)';
COMMENT ON COLUMN gridflow_store.meter_assignment.removed_at IS 'End of the assignment (NULL: still installed)';
COMMENT ON COLUMN gridflow_store.meter_assignment.batch_id IS 'Lineage: batch';
COMMENT ON COLUMN gridflow_store.meter_assignment.line_no IS 'Lineage: line';

CREATE TABLE gridflow_store.interval_read (
    utility_id text NOT NULL,
    service_point_id text,
    meter_id text NOT NULL,
    channel text NOT NULL,
    interval_start_ts timestamptz NOT NULL,
    interval_end_ts timestamptz,
    duration_seconds integer,
    time_resolution text NOT NULL CHECK (time_resolution IN ('interval', 'day')),
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
COMMENT ON TABLE gridflow_store.interval_read IS 'Storage of standardized.interval_read (grain: one row per utility_id, service_point_id, meter_id, interval_start_ts, channel), partitioned by utility, then by month of the utility''s local days on interval_start_ts; each month keyed on (service_point_id, interval_start_ts, utility_id, meter_id, channel), NULLS NOT DISTINCT since a read without a service point still has one';
COMMENT ON COLUMN gridflow_store.interval_read.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow_store.interval_read.service_point_id IS 'Service point: from the read, or through the meter (NULL when the meter has none)';
COMMENT ON COLUMN gridflow_store.interval_read.meter_id IS 'Meter';
COMMENT ON COLUMN gridflow_store.interval_read.channel IS 'Channel as the utility names it (kWh and kVARh reads of one instant are different channels)';
COMMENT ON COLUMN gridflow_store.interval_read.interval_start_ts IS 'Start of the interval (offsets kept; a date alone, or an integer date, is local midnight: see time_resolution)';
COMMENT ON COLUMN gridflow_store.interval_read.interval_end_ts IS 'interval_start_ts + duration_seconds (NULL when the duration is unknown)';
COMMENT ON COLUMN gridflow_store.interval_read.duration_seconds IS 'Interval length in seconds as given by the utility (converted from column_map.unit, implied by gridflow.channel, or the column length of a wide layout); NULL when unknown (a duration of 0 is read as unknown)';
COMMENT ON COLUMN gridflow_store.interval_read.time_resolution IS 'interval: the file gives the start''s time of day; day: it gives a date alone (UTILITY2''s integer dates), so when in the day the read was taken is unknown and interval_start_ts is only the local midnight of its day';
COMMENT ON COLUMN gridflow_store.interval_read.value IS 'Usage value of the kept read (sum of the duplicates under the sum policy), in unit';
COMMENT ON COLUMN gridflow_store.interval_read.quality IS 'Quality flag as the utility gives it, kept as text: for a utility whose quality_scheme is espi (Green Button files), the sender''s ESPI QualityOfReading code, which product.usage_interval.quality_code carries (gridflow.utility.quality_scheme says how)';
COMMENT ON COLUMN gridflow_store.interval_read.last_update_time IS 'When the utility last updated the read';
COMMENT ON COLUMN gridflow_store.interval_read.exported_at IS 'When the utility exported it (the string null means NULL)';
COMMENT ON COLUMN gridflow_store.interval_read.batch_id IS 'Lineage: batch of the kept source record';
COMMENT ON COLUMN gridflow_store.interval_read.line_no IS 'Lineage: line of the kept source record';
COMMENT ON COLUMN gridflow_store.interval_read.last_batch_id IS 'Lineage: latest batch with a record of this key (differs from batch_id when a later file sent the read again: under keep_first the original stayed, under keep_last the correction is batch_id)';
COMMENT ON COLUMN gridflow_store.interval_read.source_rows IS 'Source records with this key (1: no duplicate)';
COMMENT ON COLUMN gridflow_store.interval_read.conflicting_rows IS 'Source records with this key whose value differs from the value of the first one (first_value)';
COMMENT ON COLUMN gridflow_store.interval_read.first_value IS 'Value of the first source record with this key, in arrival order (batch, then line)';
COMMENT ON COLUMN gridflow_store.interval_read.source_value_sum IS 'Sum of the values of all source records with this key: value / source_value_sum is the share of the raw value the dedup kept';
COMMENT ON COLUMN gridflow_store.interval_read.unit IS 'Unit of value, when the utility says (a unit column, column_map.unit or gridflow.channel): the common unit (kWh, kvarh, ...) the value was converted into; NULL: the value as the utility gives it';

--
-- Product: the interval-grain fact table.
--
CREATE TABLE gridflow_store.usage_interval (
    utility_id text NOT NULL,
    service_point_id text,
    meter_id text NOT NULL,
    channel text NOT NULL,
    interval_start_ts timestamptz NOT NULL,
    interval_end_ts timestamptz,
    local_date date NOT NULL,
    duration_seconds integer,
    time_resolution text NOT NULL CHECK (time_resolution IN ('interval', 'day')),
    value double precision,
    unit text,
    quality text,
    quality_code smallint NOT NULL,
    vee_flags text[],
    raw_value double precision,
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
    batch_id bigint,
    line_no bigint
) PARTITION BY LIST (utility_id);
COMMENT ON TABLE gridflow_store.usage_interval IS 'Storage of product.usage_interval, the validated series (grain: one row per utility_id, service_point_id, meter_id, interval_start_ts, channel: every read with its quality code, and where gridflow.vee_estimation enables it the estimated rows of missing intervals), partitioned by utility, then by month of the utility''s local days on interval_start_ts (the bounds of standardized.interval_read''s months); each month keyed on (service_point_id, interval_start_ts, utility_id, meter_id, channel) for look-ups by service point and time';
COMMENT ON COLUMN gridflow_store.usage_interval.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow_store.usage_interval.service_point_id IS 'Service point (NULL when unknown)';
COMMENT ON COLUMN gridflow_store.usage_interval.meter_id IS 'Meter';
COMMENT ON COLUMN gridflow_store.usage_interval.channel IS 'Channel';
COMMENT ON COLUMN gridflow_store.usage_interval.interval_start_ts IS 'Start of the interval';
COMMENT ON COLUMN gridflow_store.usage_interval.interval_end_ts IS 'End of the interval (NULL when the duration is unknown)';
COMMENT ON COLUMN gridflow_store.usage_interval.local_date IS 'Day of interval_start_ts in the utility''s time zone';
COMMENT ON COLUMN gridflow_store.usage_interval.duration_seconds IS 'Interval length in seconds (NULL: unknown)';
COMMENT ON COLUMN gridflow_store.usage_interval.time_resolution IS 'interval: the start''s time of day is known; day: only its day is (interval_start_ts is the local midnight)';
COMMENT ON COLUMN gridflow_store.usage_interval.value IS 'Usage value, in unit: the read''s, or on an estimated row (quality_code 8 or 9) the estimate';
COMMENT ON COLUMN gridflow_store.usage_interval.unit IS 'Unit of value (kWh, kvarh, ...), from the utility''s configuration; NULL: the utility does not say (never add values across units)';
COMMENT ON COLUMN gridflow_store.usage_interval.quality IS 'Quality flag as the utility gives it (for a utility whose quality_scheme is espi, the sender''s ESPI QualityOfReading code); NULL on estimated rows';
COMMENT ON COLUMN gridflow_store.usage_interval.quality_code IS 'ESPI QualityOfReading of the row (gridflow.quality_code): a read is 0 valid (failed no enabled rule of gridflow.vee_rule) or 10 questionable (failed one; value kept as sent); for a utility whose quality_scheme is espi, the sender''s code when it is 8, 9 or 10 (whatever the rules say; vee_flags lists the rules it fails), 10 when the sender''s quality is not a code of gridflow.quality_code, the rules'' 0 or 10 when it is 0 or missing; an estimated row of a missing interval (gridflow.vee_estimation) is 9 (linear interpolation) or 8 (reference days)';
COMMENT ON COLUMN gridflow_store.usage_interval.vee_flags IS 'The validation rules the read failed, in the order off_grid, negative, ceiling, gap, zero_run, flat_line, spike, high_low; NULL when none, and on estimated rows';
COMMENT ON COLUMN gridflow_store.usage_interval.raw_value IS 'The value as the utility sent it (standardized.interval_read.value): equal to value on a read (no read is edited); NULL on an estimated row (quality_code 8 or 9), which no read sent';
COMMENT ON COLUMN gridflow_store.usage_interval.service_point_known IS 'The service point exists in standardized.service_point (false: orphan or unknown)';
COMMENT ON COLUMN gridflow_store.usage_interval.meter_known IS 'The meter exists in standardized.meter';
COMMENT ON COLUMN gridflow_store.usage_interval.serial_number IS 'Meter serial number';
COMMENT ON COLUMN gridflow_store.usage_interval.meter_type IS 'Meter type';
COMMENT ON COLUMN gridflow_store.usage_interval.meter_category IS 'Meter category';
COMMENT ON COLUMN gridflow_store.usage_interval.service_point_number IS 'Service point number';
COMMENT ON COLUMN gridflow_store.usage_interval.house_num IS 'House number (PII)';
COMMENT ON COLUMN gridflow_store.usage_interval.street IS 'Street (PII)';
COMMENT ON COLUMN gridflow_store.usage_interval.house_supp IS 'House supplement (PII)';
COMMENT ON COLUMN gridflow_store.usage_interval.city IS 'City';
COMMENT ON COLUMN gridflow_store.usage_interval.zip IS 'ZIP code (quasi-PII)';
COMMENT ON COLUMN gridflow_store.usage_interval.state IS 'State';
COMMENT ON COLUMN gridflow_store.usage_interval.last_update_time IS 'When the utility last updated the read (NULL on estimated rows)';
COMMENT ON COLUMN gridflow_store.usage_interval.exported_at IS 'When the utility exported the read (NULL on estimated rows)';
COMMENT ON COLUMN gridflow_store.usage_interval.batch_id IS 'Lineage: batch of the source record (NULL on estimated rows, which have none)';
COMMENT ON COLUMN gridflow_store.usage_interval.line_no IS 'Lineage: line of the source record (NULL on estimated rows)';

--
-- Experience: daily summaries.
--
CREATE TABLE gridflow_store.daily_usage (
    utility_id text NOT NULL,
    service_point_id text NOT NULL,
    local_date date NOT NULL,
    channel text NOT NULL,
    bucket_start timestamptz NOT NULL,
    bucket_end timestamptz NOT NULL,
    unit text,
    time_resolution text NOT NULL CHECK (time_resolution IN ('interval', 'day')),
    total_usage double precision,
    interval_count integer NOT NULL,
    peak_usage_value double precision,
    peak_usage_ts timestamptz,
    pit_usage_value double precision,
    pit_usage_ts timestamptz,
    estimated_count integer NOT NULL,
    questionable_count integer NOT NULL,
    estimated_usage double precision NOT NULL,
    coverage double precision
) PARTITION BY LIST (utility_id);
COMMENT ON TABLE gridflow_store.daily_usage IS 'Storage of experience.daily_usage (grain: one row per utility_id, service_point_id, local_date, channel), partitioned by utility, then by month of local_date; each month keyed on (service_point_id, local_date, utility_id, channel)';
COMMENT ON COLUMN gridflow_store.daily_usage.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow_store.daily_usage.service_point_id IS 'Service point';
COMMENT ON COLUMN gridflow_store.daily_usage.local_date IS 'Local day in the utility''s time zone';
COMMENT ON COLUMN gridflow_store.daily_usage.channel IS 'Channel (kWh and kVARh are never added together)';
COMMENT ON COLUMN gridflow_store.daily_usage.bucket_start IS 'Local midnight starting the day';
COMMENT ON COLUMN gridflow_store.daily_usage.bucket_end IS 'Next local midnight (exclusive): 23 or 25 hours after bucket_start on daylight-saving days';
COMMENT ON COLUMN gridflow_store.daily_usage.unit IS 'Unit of the day''s values (NULL: unknown, or reads of several units)';
COMMENT ON COLUMN gridflow_store.daily_usage.time_resolution IS 'interval: every read of the day has its time of day; day: some read has only its date, so the peak and pit times are unknown (NULL)';
COMMENT ON COLUMN gridflow_store.daily_usage.total_usage IS 'Sum of the day''s values';
COMMENT ON COLUMN gridflow_store.daily_usage.interval_count IS 'Reads with a value in the day';
COMMENT ON COLUMN gridflow_store.daily_usage.peak_usage_value IS 'Largest value of the day';
COMMENT ON COLUMN gridflow_store.daily_usage.peak_usage_ts IS 'Start of the read holding the peak (earliest on ties); NULL when the day''s time_resolution is day';
COMMENT ON COLUMN gridflow_store.daily_usage.pit_usage_value IS 'Smallest value of the day';
COMMENT ON COLUMN gridflow_store.daily_usage.pit_usage_ts IS 'Start of the read holding the pit (earliest on ties); NULL when the day''s time_resolution is day';
COMMENT ON COLUMN gridflow_store.daily_usage.estimated_count IS 'Estimated reads of the day (quality codes 8 and 9; none while nothing is estimated)';
COMMENT ON COLUMN gridflow_store.daily_usage.questionable_count IS 'Reads of the day that failed a validation rule (quality code 10), with a value or not';
COMMENT ON COLUMN gridflow_store.daily_usage.estimated_usage IS 'The part of total_usage that is estimated: the exact sum of the estimated reads'' values (0 while nothing is estimated)';
COMMENT ON COLUMN gridflow_store.daily_usage.coverage IS 'Actual reads that passed validation (quality code 0, with a value) over the day''s expected intervals: their duration_seconds added up over the day''s length in seconds (82,800, 86,400 or 90,000), so 1 when every interval of the day is there and valid (more where valid reads overlap); NULL when some read of the day has no duration';

--
-- Experience: monthly rollup of the days.
--
CREATE TABLE gridflow_store.monthly_usage (
    utility_id text NOT NULL,
    service_point_id text NOT NULL,
    month_start date NOT NULL,
    channel text NOT NULL,
    unit text,
    time_resolution text NOT NULL CHECK (time_resolution IN ('interval', 'day')),
    day_count integer NOT NULL,
    interval_count integer NOT NULL,
    total_usage double precision,
    avg_daily_usage double precision,
    peak_day date,
    peak_day_usage double precision,
    peak_usage_value double precision,
    peak_usage_ts timestamptz
) PARTITION BY LIST (utility_id);
COMMENT ON TABLE gridflow_store.monthly_usage IS 'Storage of experience.monthly_usage (grain: one row per utility_id, service_point_id, month_start, channel), partitioned by utility; each partition keyed on (service_point_id, month_start, utility_id, channel)';
COMMENT ON COLUMN gridflow_store.monthly_usage.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow_store.monthly_usage.service_point_id IS 'Service point';
COMMENT ON COLUMN gridflow_store.monthly_usage.month_start IS 'First local day of the month, in the utility''s time zone';
COMMENT ON COLUMN gridflow_store.monthly_usage.channel IS 'Channel';
COMMENT ON COLUMN gridflow_store.monthly_usage.unit IS 'Unit of the month''s values (NULL: unknown, or days of several units)';
COMMENT ON COLUMN gridflow_store.monthly_usage.time_resolution IS 'interval: every day of the month has the times of its reads; day: some day has only dates (peak_usage_ts unknown)';
COMMENT ON COLUMN gridflow_store.monthly_usage.day_count IS 'Days of the month with a row in experience.daily_usage (days without reads have none)';
COMMENT ON COLUMN gridflow_store.monthly_usage.interval_count IS 'Reads with a value in the month';
COMMENT ON COLUMN gridflow_store.monthly_usage.total_usage IS 'Sum of the days'' total_usage (an exact sum of them, rounded once)';
COMMENT ON COLUMN gridflow_store.monthly_usage.avg_daily_usage IS 'total_usage / day_count: the mean of the days with data';
COMMENT ON COLUMN gridflow_store.monthly_usage.peak_day IS 'Day of the largest total_usage (earliest on ties)';
COMMENT ON COLUMN gridflow_store.monthly_usage.peak_day_usage IS 'The largest daily total_usage of the month';
COMMENT ON COLUMN gridflow_store.monthly_usage.peak_usage_value IS 'Largest read value of the month';
COMMENT ON COLUMN gridflow_store.monthly_usage.peak_usage_ts IS 'Start of the read holding it (earliest on ties); NULL when its day''s time_resolution is day';

--
-- What readers read: a view of every table of the layers, in its layer's
-- schema, with the table's name.  The views run with the rights of their
-- reader (security_invoker): the grants and row-level security of the
-- tables apply.  Their columns carry the tables' comments
-- (90_column_comments.sql); the comment of each view gives its grain.
--
CREATE VIEW landing.reject WITH (security_invoker = true) AS
SELECT utility_id,
       batch_id,
       line_no,
       end_line_no,
       stage,
       reason,
       detail,
       source_column,
       target_column,
       record,
       record_bytes
  FROM gridflow_store.reject;
COMMENT ON VIEW landing.reject IS 'One row per record of a file that gridflow could not use (grain: utility_id, batch_id, line_no), with the reason: at landing (not a valid CSV row of the file) or at standardization (a value that does not parse, a missing key)';

CREATE VIEW standardized.service_point WITH (security_invoker = true) AS
SELECT utility_id,
       service_point_id,
       service_point_number,
       house_num,
       street,
       house_supp,
       city,
       zip,
       state,
       installed_at,
       removed_at,
       created_at,
       updated_at,
       batch_id,
       line_no,
       last_batch_id,
       source_rows,
       conflicting_rows
  FROM gridflow_store.service_point;
COMMENT ON VIEW standardized.service_point IS 'Service points of every utility (grain: one row per utility_id, service_point_id): the first row in file order';

CREATE VIEW standardized.meter WITH (security_invoker = true) AS
SELECT utility_id,
       meter_id,
       serial_number,
       meter_type,
       meter_category,
       service_point_id,
       installed_at,
       removed_at,
       created_at,
       updated_at,
       batch_id,
       line_no,
       last_batch_id,
       source_rows,
       conflicting_rows
  FROM gridflow_store.meter;
COMMENT ON VIEW standardized.meter IS 'Meters of every utility (grain: one row per utility_id, meter_id): the first row in file order';

CREATE VIEW standardized.meter_assignment WITH (security_invoker = true) AS
SELECT utility_id,
       meter_id,
       service_point_id,
       installed_at,
       removed_at,
       batch_id,
       line_no
  FROM gridflow_store.meter_assignment;
COMMENT ON VIEW standardized.meter_assignment IS 'Every meter-to-service-point row of the meter files and assignment files, in file order (grain: one row per utility_id, batch_id, line_no): the history that effective-dated linking and the multi-premise DQ checks read';

CREATE VIEW standardized.interval_read WITH (security_invoker = true) AS
SELECT utility_id,
       service_point_id,
       meter_id,
       channel,
       interval_start_ts,
       interval_end_ts,
       duration_seconds,
       time_resolution,
       value,
       quality,
       last_update_time,
       exported_at,
       batch_id,
       line_no,
       last_batch_id,
       source_rows,
       conflicting_rows,
       first_value,
       source_value_sum,
       unit
  FROM gridflow_store.interval_read;
COMMENT ON VIEW standardized.interval_read IS 'Interval reads of every utility (grain: one row per utility_id, service_point_id, meter_id, interval_start_ts, channel; a read without a service point has one NULL key part), resolved by the utility''s interval_dedup_policy';

CREATE VIEW product.usage_interval WITH (security_invoker = true) AS
SELECT p.utility_id,
       p.service_point_id,
       p.meter_id,
       p.channel,
       p.interval_start_ts,
       p.interval_end_ts,
       p.local_date,
       u.time_zone,
       pg_catalog.timezone(u.time_zone, p.interval_start_ts) AS local_start,
       p.duration_seconds,
       p.time_resolution,
       p.value,
       p.unit,
       p.quality,
       p.quality_code,
       p.vee_flags,
       p.raw_value,
       p.service_point_known,
       p.meter_known,
       p.serial_number,
       p.meter_type,
       p.meter_category,
       p.service_point_number,
       p.house_num,
       p.street,
       p.house_supp,
       p.city,
       p.zip,
       p.state,
       p.last_update_time,
       p.exported_at,
       p.batch_id,
       p.line_no
  FROM gridflow_store.usage_interval p
  LEFT JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) p.utility_id;
COMMENT ON VIEW product.usage_interval IS 'The usage fact table, the validated series (grain: one row per standardized interval read: utility_id, service_point_id, meter_id, interval_start_ts, channel; plus, where gridflow.vee_estimation enables it, one estimated row per missing interval filled, quality_code 8 or 9, without lineage), with its meter and service point attributes (left joins: reads of unknown service points stay, flagged)';
COMMENT ON COLUMN product.usage_interval.time_zone IS 'Time zone of the utility (gridflow.utility.time_zone): local_date and local_start are in it';
COMMENT ON COLUMN product.usage_interval.local_start IS 'interval_start_ts as the local wall-clock time of the utility (for day resolution: the local midnight of the day)';

CREATE VIEW experience.daily_usage WITH (security_invoker = true) AS
SELECT d.utility_id,
       d.service_point_id,
       d.local_date,
       d.channel,
       d.unit,
       d.time_resolution,
       u.time_zone,
       d.bucket_start,
       d.bucket_end,
       d.total_usage,
       d.interval_count,
       d.peak_usage_value,
       d.peak_usage_ts,
       pg_catalog.timezone(u.time_zone, d.peak_usage_ts) AS peak_local,
       d.pit_usage_value,
       d.pit_usage_ts,
       pg_catalog.timezone(u.time_zone, d.pit_usage_ts) AS pit_local,
       d.estimated_count,
       d.questionable_count,
       d.estimated_usage,
       d.coverage
  FROM gridflow_store.daily_usage d
  LEFT JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) d.utility_id;
COMMENT ON VIEW experience.daily_usage IS 'Daily usage (grain: one row per utility_id, service_point_id, local_date, channel): total, count, peak and pit of the day''s reads, in their unit; reads without a service point are not summarized (see dq.readiness)';
COMMENT ON COLUMN experience.daily_usage.time_zone IS 'Time zone of the utility: local_date, peak_local and pit_local are in it';
COMMENT ON COLUMN experience.daily_usage.peak_local IS 'peak_usage_ts as the local wall-clock time of the utility (NULL with it)';
COMMENT ON COLUMN experience.daily_usage.pit_local IS 'pit_usage_ts as the local wall-clock time of the utility (NULL with it)';

CREATE VIEW experience.monthly_usage WITH (security_invoker = true) AS
SELECT m.utility_id,
       m.service_point_id,
       m.month_start,
       m.channel,
       m.unit,
       m.time_resolution,
       u.time_zone,
       m.day_count,
       m.interval_count,
       m.total_usage,
       m.avg_daily_usage,
       m.peak_day,
       m.peak_day_usage,
       m.peak_usage_value,
       m.peak_usage_ts,
       pg_catalog.timezone(u.time_zone, m.peak_usage_ts) AS peak_local
  FROM gridflow_store.monthly_usage m
  LEFT JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) m.utility_id;
COMMENT ON VIEW experience.monthly_usage IS 'Monthly usage (grain: one row per utility_id, service_point_id, month_start, channel): the month''s days rolled up, kept by builds and ingests, so that charts over months need not add every day';
COMMENT ON COLUMN experience.monthly_usage.time_zone IS 'Time zone of the utility: month_start, peak_day and peak_local are in it';
COMMENT ON COLUMN experience.monthly_usage.peak_local IS 'peak_usage_ts as the local wall-clock time of the utility';

CREATE TABLE gridflow_store.utility_daily_usage (
    utility_id text NOT NULL,
    local_date date NOT NULL,
    channel text NOT NULL,
    unit text,
    service_points bigint NOT NULL,
    interval_count bigint NOT NULL,
    total_usage double precision,
    peak_usage_value double precision,
    estimated_count bigint NOT NULL,
    questionable_count bigint NOT NULL,
    estimated_usage double precision NOT NULL,
    PRIMARY KEY (utility_id, local_date, channel)
);
COMMENT ON TABLE gridflow_store.utility_daily_usage IS 'Storage of experience.utility_daily_usage (grain: one row per utility_id, local_date, channel), computed from the days by every build and ingest';

CREATE VIEW experience.utility_daily_usage WITH (security_invoker = true) AS
SELECT d.utility_id, d.local_date, d.channel, d.unit, d.service_points, d.interval_count, d.total_usage,
       d.peak_usage_value, d.estimated_count, d.questionable_count, d.estimated_usage
  FROM gridflow_store.utility_daily_usage d;
COMMENT ON VIEW experience.utility_daily_usage IS 'Daily totals of a utility (grain: one row per utility_id, local_date, channel): the days of experience.daily_usage added up over the service points, kept by builds and ingests, so that a dashboard of a utility''s days need not add up every service point';
COMMENT ON COLUMN experience.utility_daily_usage.utility_id IS 'Utility';
COMMENT ON COLUMN experience.utility_daily_usage.local_date IS 'Local day (the utility''s time zone)';
COMMENT ON COLUMN experience.utility_daily_usage.channel IS 'Channel';
COMMENT ON COLUMN experience.utility_daily_usage.unit IS 'Unit of the values (NULL: unknown, or several that day)';
COMMENT ON COLUMN experience.utility_daily_usage.service_points IS 'Service points with usage that day';
COMMENT ON COLUMN experience.utility_daily_usage.interval_count IS 'Reads behind the day''s totals';
COMMENT ON COLUMN experience.utility_daily_usage.total_usage IS 'Sum of the service points'' total_usage, exact and rounded once';
COMMENT ON COLUMN experience.utility_daily_usage.peak_usage_value IS 'Largest peak of a service point that day';
COMMENT ON COLUMN experience.utility_daily_usage.estimated_count IS 'Estimated reads behind the day''s totals (estimated_count of the service points'' days)';
COMMENT ON COLUMN experience.utility_daily_usage.questionable_count IS 'Reads of the day that failed a validation rule (questionable_count of the service points'' days)';
COMMENT ON COLUMN experience.utility_daily_usage.estimated_usage IS 'The part of total_usage that is estimated (the service points'' estimated_usage added up exactly)';
CREATE TABLE gridflow_store.utility_monthly_usage (
    utility_id text NOT NULL,
    month_start date NOT NULL,
    channel text NOT NULL,
    unit text,
    service_points bigint NOT NULL,
    service_point_days bigint NOT NULL,
    interval_count bigint NOT NULL,
    total_usage double precision,
    peak_usage_value double precision,
    estimated_count bigint NOT NULL,
    questionable_count bigint NOT NULL,
    estimated_usage double precision NOT NULL,
    PRIMARY KEY (utility_id, month_start, channel)
);
COMMENT ON TABLE gridflow_store.utility_monthly_usage IS 'Storage of experience.utility_monthly_usage (grain: one row per utility_id, month_start, channel), computed from the days by every build and ingest';

CREATE VIEW experience.utility_monthly_usage WITH (security_invoker = true) AS
SELECT m.utility_id, m.month_start, m.channel, m.unit, m.service_points, m.service_point_days, m.interval_count,
       m.total_usage, m.peak_usage_value, m.estimated_count, m.questionable_count, m.estimated_usage
  FROM gridflow_store.utility_monthly_usage m;
COMMENT ON VIEW experience.utility_monthly_usage IS 'Monthly totals of a utility (grain: one row per utility_id, month_start, channel): the days of experience.daily_usage of each local month added up over the service points, kept by builds and ingests';
COMMENT ON COLUMN experience.utility_monthly_usage.utility_id IS 'Utility';
COMMENT ON COLUMN experience.utility_monthly_usage.month_start IS 'First local day of the month (the utility''s time zone)';
COMMENT ON COLUMN experience.utility_monthly_usage.channel IS 'Channel';
COMMENT ON COLUMN experience.utility_monthly_usage.unit IS 'Unit of the values (NULL: unknown, or several that month)';
COMMENT ON COLUMN experience.utility_monthly_usage.service_points IS 'Service points with usage that month';
COMMENT ON COLUMN experience.utility_monthly_usage.service_point_days IS 'Service-point days with usage that month (rows of experience.daily_usage)';
COMMENT ON COLUMN experience.utility_monthly_usage.interval_count IS 'Reads behind the month''s totals';
COMMENT ON COLUMN experience.utility_monthly_usage.total_usage IS 'Sum of the days'' total_usage, exact and rounded once';
COMMENT ON COLUMN experience.utility_monthly_usage.peak_usage_value IS 'Largest peak of a service point that month';
COMMENT ON COLUMN experience.utility_monthly_usage.estimated_count IS 'Estimated reads behind the month''s totals';
COMMENT ON COLUMN experience.utility_monthly_usage.questionable_count IS 'Reads of the month that failed a validation rule';
COMMENT ON COLUMN experience.utility_monthly_usage.estimated_usage IS 'The part of total_usage that is estimated (the days'' estimated_usage added up exactly)';

-- the storage's columns say what the view's say
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT v.t, a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM pg_catalog.unnest(ARRAY['utility_daily_usage', 'utility_monthly_usage']) AS v(t)
          JOIN pg_catalog.pg_attribute a
            ON a.attrelid OPERATOR(pg_catalog.=) ('experience.' OPERATOR(pg_catalog.||) v.t)::regclass
         WHERE a.attnum OPERATOR(pg_catalog.>) 0
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN gridflow_store.%I.%I IS %L', c.t, c.attname, c.comment);
    END LOOP;
END
$$;
