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
       gridflow.pseudonym(k.key, 'sp', p.utility_id, p.service_point_id) AS service_point_id,
       gridflow.pseudonym(k.key, 'meter', p.utility_id, p.meter_id) AS meter_id,
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
       p.service_point_known,
       p.meter_known,
       gridflow.pseudonym(k.key, 'serial', p.utility_id, p.serial_number) AS serial_number,
       p.meter_type,
       p.meter_category,
       gridflow.pseudonym(k.key, 'spnum', p.utility_id, p.service_point_number) AS service_point_number,
       NULL::pg_catalog.text AS house_num,
       NULL::pg_catalog.text AS street,
       NULL::pg_catalog.text AS house_supp,
       p.city,
       pg_catalog.left(p.zip, 3) AS zip3,
       p.state,
       p.last_update_time,
       p.exported_at
  FROM gridflow_store.usage_interval p
  LEFT JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) p.utility_id
  LEFT JOIN gridflow.pseudonym_key k ON true
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR p.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'));
COMMENT ON VIEW external.usage_interval IS 'product.usage_interval for external readers (grain: one row per utility_id, service_point_id, meter_id, interval_start_ts, channel, the identifiers being pseudonyms): identifiers are pseudonyms (a keyed hash: the same identifier always has the same one, so external readers can join on them), address masked, ZIP cut to three digits, lineage left out, rows of the reader''s utilities';

CREATE VIEW external.service_point WITH (security_barrier = true) AS
SELECT s.utility_id,
       gridflow.pseudonym(k.key, 'sp', s.utility_id, s.service_point_id) AS service_point_id,
       gridflow.pseudonym(k.key, 'spnum', s.utility_id, s.service_point_number) AS service_point_number,
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
  LEFT JOIN gridflow.pseudonym_key k ON true
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR s.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'));
COMMENT ON VIEW external.service_point IS 'standardized.service_point for external readers (grain: one row per utility_id, service_point_id, the identifiers being pseudonyms): identifiers are pseudonyms, address masked, ZIP cut to three digits, lineage left out, rows of the reader''s utilities';

CREATE VIEW external.daily_usage WITH (security_barrier = true) AS
SELECT e.utility_id,
       gridflow.pseudonym(k.key, 'sp', e.utility_id, e.service_point_id) AS service_point_id,
       e.local_date,
       e.channel,
       e.unit,
       e.time_resolution,
       u.time_zone,
       e.bucket_start,
       e.bucket_end,
       e.total_usage,
       e.interval_count,
       e.peak_usage_value,
       e.peak_usage_ts,
       pg_catalog.timezone(u.time_zone, e.peak_usage_ts) AS peak_local,
       e.pit_usage_value,
       e.pit_usage_ts,
       pg_catalog.timezone(u.time_zone, e.pit_usage_ts) AS pit_local,
       e.estimated_count,
       e.questionable_count,
       e.estimated_usage,
       e.coverage
  FROM gridflow_store.daily_usage e
  LEFT JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) e.utility_id
  LEFT JOIN gridflow.pseudonym_key k ON true
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR e.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'));
COMMENT ON VIEW external.daily_usage IS 'experience.daily_usage for external readers (grain: one row per utility_id, service_point_id, local_date, channel, the identifiers being pseudonyms): service points as pseudonyms, rows of the reader''s utilities';

CREATE VIEW external.monthly_usage WITH (security_barrier = true) AS
SELECT m.utility_id,
       gridflow.pseudonym(k.key, 'sp', m.utility_id, m.service_point_id) AS service_point_id,
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
  LEFT JOIN gridflow.utility u ON u.utility_id OPERATOR(pg_catalog.=) m.utility_id
  LEFT JOIN gridflow.pseudonym_key k ON true
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR m.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'));
COMMENT ON VIEW external.monthly_usage IS 'experience.monthly_usage for external readers (grain: one row per utility_id, service_point_id, month_start, channel, the identifiers being pseudonyms): service points as pseudonyms, rows of the reader''s utilities';

--
-- The pseudonyms and masked columns; the other columns carry the comments
-- of the layers' (90_column_comments.sql).
--
COMMENT ON COLUMN external.usage_interval.service_point_id IS 'Pseudonym of the service point (sp_ and a keyed hash of utility and identifier: stable, joinable, not the utility''s identifier)';
COMMENT ON COLUMN external.usage_interval.meter_id IS 'Pseudonym of the meter (meter_ and a keyed hash)';
COMMENT ON COLUMN external.usage_interval.serial_number IS 'Pseudonym of the meter''s serial number (serial_ and a keyed hash)';
COMMENT ON COLUMN external.usage_interval.service_point_number IS 'Pseudonym of the service point number (spnum_ and a keyed hash)';
COMMENT ON COLUMN external.usage_interval.house_num IS 'Masked: always NULL';
COMMENT ON COLUMN external.usage_interval.street IS 'Masked: always NULL';
COMMENT ON COLUMN external.usage_interval.house_supp IS 'Masked: always NULL';
COMMENT ON COLUMN external.usage_interval.zip3 IS 'First three digits of the ZIP code';
COMMENT ON COLUMN external.service_point.service_point_id IS 'Pseudonym of the service point (sp_ and a keyed hash of utility and identifier: stable, joinable, not the utility''s identifier)';
COMMENT ON COLUMN external.service_point.service_point_number IS 'Pseudonym of the service point number (spnum_ and a keyed hash)';
COMMENT ON COLUMN external.service_point.house_num IS 'Masked: always NULL';
COMMENT ON COLUMN external.service_point.street IS 'Masked: always NULL';
COMMENT ON COLUMN external.service_point.house_supp IS 'Masked: always NULL';
COMMENT ON COLUMN external.service_point.zip3 IS 'First three digits of the ZIP code';
COMMENT ON COLUMN external.daily_usage.service_point_id IS 'Pseudonym of the service point (as in external.service_point)';
COMMENT ON COLUMN external.monthly_usage.service_point_id IS 'Pseudonym of the service point (as in external.service_point)';
