--
-- The two utilities gridflow ships with, as configuration rows.  Adding a
-- utility is more rows like these; the C code knows no utility by name.
--
INSERT INTO gridflow.utility
    (utility_id, description, time_zone, build_order, service_point_link,
     meter_link_policy, interval_dedup_policy)
VALUES
    ('UTILITY1', 'Service point on every read; the meter file is a read log',
     'America/New_York', 10, 'read', 'first_row', 'keep_first'),
    ('UTILITY2', 'Reads reach the service point (premise) through the meter file; reads carry a date without a time of day (day resolution) and numeric channel codes whose meaning and unit the utility does not document (unit unknown)',
     'America/New_York', 20, 'meter', 'first_row', 'keep_first');

INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES
    ('UTILITY1', 'service_point', 'utility1/utility1_service_points.csv'),
    ('UTILITY1', 'meter', 'utility1/utility1_meters.csv'),
    ('UTILITY1', 'interval', 'utility1/utility1_intervals.csv'),
    ('UTILITY2', 'service_point', 'utility2/utility2_service_points.csv'),
    ('UTILITY2', 'meter', 'utility2/utility2_meters.csv'),
    ('UTILITY2', 'interval', 'utility2/utility2_intervals.csv');

INSERT INTO gridflow.column_map
    (utility_id, file_kind, target_column, source_column, format, null_values)
VALUES
    ('UTILITY1', 'service_point', 'service_point_id', 'SERVICE_POINT_ID', NULL, '{}'),
    ('UTILITY1', 'service_point', 'service_point_number', 'SERVICE_POINT_NUMBER', NULL, '{}'),
    ('UTILITY1', 'service_point', 'street', 'SERVICE_POINT_STREET', NULL, '{}'),
    ('UTILITY1', 'service_point', 'city', 'SERVICE_POINT_CITY', NULL, '{}'),
    ('UTILITY1', 'service_point', 'zip', 'SERVICE_POINT_ZIP', NULL, '{}'),
    ('UTILITY1', 'service_point', 'state', 'SERVICE_POINT_STATE', NULL, '{}'),
    ('UTILITY1', 'service_point', 'installed_at', 'INSTALLED_AT', 'iso8601', '{}'),
    ('UTILITY1', 'service_point', 'removed_at', 'REMOVED_AT', 'iso8601', '{}'),
    ('UTILITY1', 'service_point', 'created_at', 'CREATED', 'iso8601', '{}'),
    ('UTILITY1', 'service_point', 'updated_at', 'UPDATED', 'iso8601', '{}'),

    ('UTILITY1', 'meter', 'meter_id', 'meter_id', NULL, '{}'),
    ('UTILITY1', 'meter', 'serial_number', 'meter_id', NULL, '{}'),
    ('UTILITY1', 'meter', 'meter_type', 'meter_type', NULL, '{}'),
    ('UTILITY1', 'meter', 'meter_category', 'meter_category', NULL, '{}'),

    ('UTILITY1', 'interval', 'service_point_id', 'service_delivery_point_id', NULL, '{}'),
    ('UTILITY1', 'interval', 'meter_id', 'meter_id', NULL, '{}'),
    ('UTILITY1', 'interval', 'channel', 'channel', NULL, '{}'),
    ('UTILITY1', 'interval', 'duration_seconds', 'duration', NULL, '{}'),
    ('UTILITY1', 'interval', 'value', 'value', NULL, '{}'),
    ('UTILITY1', 'interval', 'quality', 'quality', NULL, '{}'),
    ('UTILITY1', 'interval', 'interval_start_ts', 'timestamp', 'iso8601', '{}'),
    ('UTILITY1', 'interval', 'last_update_time', 'last_update_time', 'iso8601', '{"null"}'),
    ('UTILITY1', 'interval', 'exported_at', 'exported_at', 'iso8601', '{"null"}'),

    ('UTILITY2', 'service_point', 'service_point_id', 'premise_id', NULL, '{}'),
    ('UTILITY2', 'service_point', 'created_at', 'created_date', 'iso8601', '{}'),
    ('UTILITY2', 'service_point', 'house_num', 'premise_house_num', NULL, '{}'),
    ('UTILITY2', 'service_point', 'street', 'premise_street', NULL, '{}'),
    ('UTILITY2', 'service_point', 'house_supp', 'premise_house_supp', NULL, '{}'),
    ('UTILITY2', 'service_point', 'city', 'premise_city', NULL, '{}'),
    ('UTILITY2', 'service_point', 'zip', 'premise_zip', NULL, '{}'),
    ('UTILITY2', 'service_point', 'state', 'premise_region', NULL, '{}'),

    ('UTILITY2', 'meter', 'service_point_id', 'premise_id', NULL, '{}'),
    ('UTILITY2', 'meter', 'meter_id', 'meter_id', NULL, '{}'),
    ('UTILITY2', 'meter', 'serial_number', 'meter_number', NULL, '{}'),
    ('UTILITY2', 'meter', 'meter_type', 'meter_type', NULL, '{}'),
    ('UTILITY2', 'meter', 'meter_category', 'meter_channel', NULL, '{}'),
    ('UTILITY2', 'meter', 'installed_at', 'installed_at', 'iso8601', '{}'),
    ('UTILITY2', 'meter', 'removed_at', 'removed_at', 'iso8601', '{}'),
    ('UTILITY2', 'meter', 'created_at', 'created', 'iso8601', '{}'),
    ('UTILITY2', 'meter', 'updated_at', 'updated', 'iso8601', '{}'),

    ('UTILITY2', 'interval', 'meter_id', 'meter_id', NULL, '{}'),
    ('UTILITY2', 'interval', 'channel', 'channel', NULL, '{}'),
    ('UTILITY2', 'interval', 'duration_seconds', 'duration', NULL, '{}'),
    ('UTILITY2', 'interval', 'value', 'value', NULL, '{}'),
    ('UTILITY2', 'interval', 'quality', 'quality', NULL, '{}'),
    ('UTILITY2', 'interval', 'interval_start_ts', 'timestamp', 'YYYYMMDD', '{}');

-- UTILITY1's channels, as their names say: unit, interval length and the
-- ESPI flow direction (delivered: 1 forward, received: 19 reverse, net: 4;
-- the reactive channel's name does not say).
-- UTILITY2's numeric channel codes are not documented: no rows, its values
-- keep unit NULL.
INSERT INTO gridflow.channel (utility_id, channel, duration_seconds, unit, description, flow_direction) VALUES
    ('UTILITY1', 'KWH 15 Minute Interval Read Interval', 900, 'kWh', 'Energy, 15-minute intervals', 1),
    ('UTILITY1', 'KWH 5 Minute Interval Read Interval', 300, 'kWh', 'Energy, 5-minute intervals', 1),
    ('UTILITY1', 'KWH Net 15 Minute Interval Read Interval', 900, 'kWh', 'Net energy (delivered less received), 15-minute intervals', 4),
    ('UTILITY1', 'KWH Received 5 Minute Interval Read Interval', 300, 'kWh', 'Energy received from the customer (exported to the grid), 5-minute intervals', 19),
    ('UTILITY1', 'KVARH 5 Minute Interval Read Interval', 300, 'kvarh', 'Reactive energy, 5-minute intervals', NULL);

-- Validation rules (gridflow.vee_rule), the defaults for both utilities:
-- every rule on but ceiling, whose max (just under a million: the largest
-- values of the real sample, up to 999,956, look like a six-digit register
-- rolling over or a sentinel) is for a utility that knows its registers.
INSERT INTO gridflow.vee_rule (utility_id, rule, enabled, parameters)
SELECT u.utility_id, r.rule, r.enabled, r.parameters::jsonb
  FROM (VALUES ('UTILITY1'), ('UTILITY2')) AS u(utility_id)
 CROSS JOIN (VALUES ('interval_count', true, '{}'),
                    ('gap', true, '{}'),
                    ('off_grid', true, '{}'),
                    ('negative', true, '{}'),
                    ('zero_run', true, '{"min_intervals": 8}'),
                    ('spike', true, '{"ratio": 10, "floor": 1}'),
                    ('flat_line', true, '{"min_intervals": 16}'),
                    ('ceiling', false, '{"max": 999000}'),
                    ('high_low', true, '{"low": 0.2, "high": 5, "days": 28, "min_days": 7}'))
       AS r(rule, enabled, parameters);
