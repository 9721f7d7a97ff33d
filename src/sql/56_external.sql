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
  FROM gridflow_store.usage_interval p
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
  FROM gridflow_store.service_point s
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
  FROM gridflow_store.daily_usage e
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
