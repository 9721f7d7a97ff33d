-- Privacy-screened aggregates (external.usage_by_zip and
-- external.privacy_suppression) on hand-made groups: residential groups of
-- 14, 15 and 16 customers, and of 16 whose largest customer has 14.9%, 15%
-- and 15.1% of the consumption; small commercial groups of 5 and 6, and of
-- 6 at 40% and 40.1%.  New York's rules: at least 15 (6) customers, no
-- customer above 15% (40%): a group of exactly 15 passes, a customer of
-- exactly 15% passes.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS gridflow CASCADE;
CREATE EXTENSION gridflow;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- the shipped rules and setting
SELECT customer_class, min_customers, max_share FROM gridflow.privacy_rule ORDER BY customer_class;
SELECT zip_digits, default_customer_class FROM gridflow.privacy_setting;
-- the rules refuse what they cannot mean
INSERT INTO gridflow.privacy_rule VALUES ('Bad Class', 15, 0.15);
INSERT INTO gridflow.privacy_rule VALUES ('bad', 0, 0.15);
INSERT INTO gridflow.privacy_rule VALUES ('bad', 15, 0);
INSERT INTO gridflow.privacy_rule VALUES ('bad', 15, 1.01);
INSERT INTO gridflow.privacy_setting VALUES (false, 3, 'residential');
INSERT INTO gridflow.privacy_setting DEFAULT VALUES;
UPDATE gridflow.privacy_setting SET zip_digits = 4;
UPDATE gridflow.privacy_setting SET default_customer_class = 'nosuch';

-- The groups: one ZIP code (ZIP3) each; every customer one read in
-- January (and February for 10200), in kWh.
--   101: 14 residential of 10        -> too few
--   102: 15 residential of 10        -> passes (6.7%); in February 14
--   103: 16 residential, 149 + 14 x 57 + 53 = 1000: 14.9% -> passes
--   104: 16 residential, 150 + 14 x 57 + 52 = 1000: 15.0% -> passes
--   105: 16 residential, 151 + 14 x 57 + 51 = 1000: 15.1% -> suppressed
--   106:  5 small commercial of 10    -> too few
--   107:  6 small commercial, 400 + 5 x 120 = 1000: 40.0% -> passes
--   108:  6 small commercial, 401 + 4 x 120 + 119 = 1000: 40.1% -> suppressed
--   (none): 3 residential without a ZIP code -> too few
-- 102 is two ZIP5s, 10201 (8) and 10202 (7): grouped by ZIP5, both fail.
CREATE TEMP TABLE customer (sp text, zip text, class text, jan float8, feb float8);
INSERT INTO customer
SELECT 'A' || i, '10100', NULL, 10, NULL FROM generate_series(1, 14) i
UNION ALL SELECT 'B' || i, CASE WHEN i <= 8 THEN '10201' ELSE '10202' END, NULL, 10,
                 CASE WHEN i < 15 THEN 10 END FROM generate_series(1, 15) i
UNION ALL SELECT 'C' || i, '10300', NULL, CASE WHEN i = 1 THEN 149 WHEN i = 16 THEN 53 ELSE 57 END, NULL
            FROM generate_series(1, 16) i
UNION ALL SELECT 'D' || i, '10400', NULL, CASE WHEN i = 1 THEN 150 WHEN i = 16 THEN 52 ELSE 57 END, NULL
            FROM generate_series(1, 16) i
UNION ALL SELECT 'E' || i, '10500', NULL, CASE WHEN i = 1 THEN 151 WHEN i = 16 THEN 51 ELSE 57 END, NULL
            FROM generate_series(1, 16) i
UNION ALL SELECT 'F' || i, '10600', 'small_commercial', 10, NULL FROM generate_series(1, 5) i
UNION ALL SELECT 'G' || i, '10700', 'small_commercial', CASE WHEN i = 1 THEN 400 ELSE 120 END, NULL
            FROM generate_series(1, 6) i
UNION ALL SELECT 'H' || i, '10800', 'small_commercial', CASE WHEN i = 1 THEN 401 WHEN i = 6 THEN 119 ELSE 120 END, NULL
            FROM generate_series(1, 6) i
UNION ALL SELECT 'Z' || i, NULL, NULL, 10, NULL FROM generate_series(1, 3) i;
SELECT zip, count(*) AS customers, sum(jan) AS total, max(jan) AS largest,
       round((100 * max(jan) / sum(jan))::numeric, 2) AS largest_pct
  FROM customer GROUP BY zip ORDER BY zip;

\getenv testdir GRIDFLOW_TEST_DIR
\set sp_file :testdir '/scratch/privacy_service_points.csv'
\set read_file :testdir '/scratch/privacy_reads.csv'
COPY (SELECT sp, zip FROM customer ORDER BY sp) TO :'sp_file' WITH (FORMAT csv, HEADER);
COPY (SELECT sp, 'M' || sp AS meter, 'KWH' AS channel, '2025-01-15T12:00:00-05:00' AS start, 900 AS seconds, jan AS kwh
        FROM customer
      UNION ALL
      SELECT sp, 'M' || sp, 'KWH', '2025-02-15T12:00:00-05:00', 900, feb FROM customer WHERE feb IS NOT NULL
      ORDER BY 1, 4) TO :'read_file' WITH (FORMAT csv, HEADER);

UPDATE gridflow.utility SET enabled = false WHERE utility_id IN ('UTILITY1', 'UTILITY2');
INSERT INTO gridflow.utility (utility_id) VALUES ('PRIV');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES
    ('PRIV', 'service_point', 'privacy_service_points.csv'),
    ('PRIV', 'interval', 'privacy_reads.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format, unit) VALUES
    ('PRIV', 'service_point', 'service_point_id', 'sp', NULL, NULL),
    ('PRIV', 'service_point', 'zip', 'zip', NULL, NULL),
    ('PRIV', 'interval', 'service_point_id', 'sp', NULL, NULL),
    ('PRIV', 'interval', 'meter_id', 'meter', NULL, NULL),
    ('PRIV', 'interval', 'channel', 'channel', NULL, NULL),
    ('PRIV', 'interval', 'interval_start_ts', 'start', 'iso8601', NULL),
    ('PRIV', 'interval', 'duration_seconds', 'seconds', NULL, NULL),
    ('PRIV', 'interval', 'value', 'kwh', NULL, 'kWh');
INSERT INTO gridflow.service_point_class (utility_id, service_point_id, customer_class)
SELECT 'PRIV', sp, class FROM customer WHERE class IS NOT NULL;
-- a class must have a rule, and a rule in use cannot go
INSERT INTO gridflow.service_point_class VALUES ('PRIV', 'A1', 'industrial');
DELETE FROM gridflow.privacy_rule WHERE customer_class = 'small_commercial';
SELECT count(*) > 0 AS built FROM gridflow_build(:'testdir' || '/scratch');

-- ZIP3: every group, suppressed ones with their reason and no figures
SELECT zip, month_start, customer_class, channel, unit, min_customers, max_share, released, suppressed_reason,
       customers, total_usage, avg_usage_per_customer, interval_count
  FROM external.usage_by_zip WHERE utility_id = 'PRIV'
 ORDER BY month_start, zip, customer_class;
SELECT month_start, customer_class, channel, groups, groups_suppressed, customers, customers_suppressed
  FROM external.privacy_suppression WHERE utility_id = 'PRIV'
 ORDER BY month_start, customer_class;
-- the screen against the customers themselves: released exactly when the
-- group has enough customers and its largest is within the share
SELECT count(*) AS screen_mismatches
  FROM (SELECT left(c.zip, 3) AS zip, coalesce(c.class, 'residential') AS class,
               count(*) AS n, max(c.jan) / sum(c.jan) AS top_share
          FROM customer c GROUP BY 1, 2) c
  JOIN gridflow.privacy_rule r ON r.customer_class = c.class
  JOIN external.usage_by_zip u ON u.utility_id = 'PRIV' AND u.month_start = '2025-01-01'
                              AND u.zip IS NOT DISTINCT FROM c.zip AND u.customer_class = c.class
 WHERE u.released IS DISTINCT FROM (c.n >= r.min_customers AND c.top_share::numeric <= r.max_share);

-- ZIP5: the 15 customers of 102 split into groups of 8 and 7, which fail
UPDATE gridflow.privacy_setting SET zip_digits = 5;
SELECT zip, zip_digits, customer_class, released, suppressed_reason, customers, total_usage
  FROM external.usage_by_zip WHERE utility_id = 'PRIV' AND month_start = '2025-01-01' AND zip LIKE '102%'
 ORDER BY zip;
UPDATE gridflow.privacy_setting SET zip_digits = 3;

-- an edited rule applies at once: residential 16/15 suppresses 102 (15)
UPDATE gridflow.privacy_rule SET min_customers = 16 WHERE customer_class = 'residential';
SELECT zip, released, suppressed_reason FROM external.usage_by_zip
 WHERE utility_id = 'PRIV' AND month_start = '2025-01-01' AND zip IN ('102', '103') ORDER BY zip;
UPDATE gridflow.privacy_rule SET min_customers = 15 WHERE customer_class = 'residential';
-- the default class for service points without a class: small_commercial
-- (6/40) releases 101 (14) and the three without a ZIP code stay too few
UPDATE gridflow.privacy_setting SET default_customer_class = 'small_commercial';
SELECT zip, customer_class, released, suppressed_reason, customers FROM external.usage_by_zip
 WHERE utility_id = 'PRIV' AND month_start = '2025-01-01' AND (zip = '101' OR zip IS NULL) ORDER BY zip;
UPDATE gridflow.privacy_setting SET default_customer_class = 'residential';

-- who reads what: external readers the screened views of their
-- utilities, not the rules' inputs; the unscreened groups nobody but the
-- owner
CREATE ROLE regress_privacy_partner LOGIN;
CREATE ROLE regress_privacy_other LOGIN;
GRANT gridflow_external TO regress_privacy_partner, regress_privacy_other;
INSERT INTO gridflow.role_utility VALUES ('regress_privacy_partner', 'PRIV');
SELECT r.role, t.tbl, has_table_privilege(r.role, t.tbl, 'SELECT') AS can_select
  FROM (VALUES ('gridflow_pipeline'), ('gridflow_internal'), ('gridflow_external')) r(role)
 CROSS JOIN (VALUES ('external.usage_by_zip'), ('external.privacy_suppression'), ('gridflow.privacy_group'),
                    ('gridflow.privacy_screen'), ('gridflow.privacy_rule'), ('gridflow.service_point_class')) t(tbl)
 ORDER BY 1, 2;
SET ROLE regress_privacy_partner;
SELECT count(*) AS groups, count(*) FILTER (WHERE released) AS released FROM external.usage_by_zip;
SELECT sum(customers_suppressed) AS customers_suppressed FROM external.privacy_suppression;
SELECT count(*) FROM gridflow.privacy_group;
RESET ROLE;
SET ROLE regress_privacy_other;
SELECT count(*) AS groups FROM external.usage_by_zip;
SELECT count(*) AS rows FROM external.privacy_suppression;
RESET ROLE;

-- the classes of service points are rows of their utility: an internal
-- reader sees those of its utilities only
CREATE ROLE regress_privacy_analyst;
CREATE ROLE regress_privacy_stranger;
GRANT gridflow_internal TO regress_privacy_analyst, regress_privacy_stranger;
INSERT INTO gridflow.role_utility VALUES ('regress_privacy_analyst', 'PRIV');
SET ROLE regress_privacy_analyst;
SELECT count(*) AS classes_seen FROM gridflow.service_point_class;
RESET ROLE;
SET ROLE regress_privacy_stranger;
SELECT count(*) AS classes_seen FROM gridflow.service_point_class;
RESET ROLE;
DELETE FROM gridflow.role_utility WHERE role_name = 'regress_privacy_analyst';
DROP ROLE regress_privacy_analyst;
DROP ROLE regress_privacy_stranger;

-- the rules and classes are configuration: a dump keeps them
SELECT jsonb_array_length(document -> 'privacy_rule') AS rules, jsonb_array_length(document -> 'service_point_class') AS classes,
       document -> 'privacy_setting' AS setting
  FROM gridflow.configuration_dump;

DELETE FROM gridflow.role_utility WHERE role_name = 'regress_privacy_partner';
DROP ROLE regress_privacy_partner;
DROP ROLE regress_privacy_other;
