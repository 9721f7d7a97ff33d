-- Configuration and session settings that must not reach other utilities'
-- rows or break a build: utility ids that differ in case or look like a
-- month, names squatted by other relations, non-finite unit factors and
-- values, and a caller's session settings, which a build pins.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
\getenv testdir GRIDFLOW_TEST_DIR
\set sample :testdir '/sample'

-- Every row of every layer as one digest (computed under this session's
-- settings, which are the same for every call here).
CREATE FUNCTION pg_temp.digest(u text) RETURNS text LANGUAGE sql AS $$
SELECT md5(string_agg(h, '|' ORDER BY t)) FROM (
  SELECT 1 AS t, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h
    FROM standardized.interval_read x WHERE utility_id = u
  UNION ALL SELECT 2, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))
    FROM product.usage_interval x WHERE utility_id = u
  UNION ALL SELECT 3, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))
    FROM experience.daily_usage x WHERE utility_id = u
  UNION ALL SELECT 4, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))
    FROM standardized.service_point x WHERE utility_id = u) d
$$;
CREATE FUNCTION pg_temp.reads(u text) RETURNS bigint LANGUAGE sql AS $$
SELECT count(*) FROM standardized.interval_read WHERE utility_id = u
$$;

-- UTILITY1 alone, as the reference
UPDATE gridflow.utility SET enabled = (utility_id = 'UTILITY1');
SELECT count(*) > 0 AS built FROM gridflow_build(:'sample');
CREATE TEMP TABLE ref AS SELECT pg_temp.reads('UTILITY1') AS reads, pg_temp.digest('UTILITY1') AS digest;
SELECT reads > 0 AS has_reads FROM ref;

-- Utility ids are unique whatever their case: partitions are named in
-- lower case, and Utility1's would be UTILITY1's.
INSERT INTO gridflow.utility (utility_id, time_zone) VALUES ('Utility1', 'Asia/Tokyo');  -- ERROR
INSERT INTO gridflow.utility (utility_id) VALUES ('utility2');  -- ERROR
-- too long to name its partitions (underscores count twice)
INSERT INTO gridflow.utility (utility_id) VALUES ('U234567890123456789012345678901234567');  -- ERROR
INSERT INTO gridflow.utility (utility_id) VALUES ('U_3_5_7_9_1_3_5_7_9_1_3_5_7_9_1_3_5_7');  -- ERROR
INSERT INTO gridflow.utility (utility_id) VALUES ('U23456789012345678901234567890123456');
DELETE FROM gridflow.utility WHERE utility_id = 'U23456789012345678901234567890123456';

-- Ids that look like one of UTILITY1's months and its key, reading
-- UTILITY1's files under their own names.
INSERT INTO gridflow.utility (utility_id, build_order, service_point_link)
VALUES ('UTILITY1_202501', 11, 'read'), ('UTILITY1_202501_KEY', 12, 'read');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path)
SELECT u, file_kind, file_path FROM gridflow.source_file,
       (VALUES ('UTILITY1_202501'), ('UTILITY1_202501_KEY')) v(u)
 WHERE utility_id = 'UTILITY1';
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format, null_values)
SELECT u, file_kind, target_column, source_column, format, null_values FROM gridflow.column_map,
       (VALUES ('UTILITY1_202501'), ('UTILITY1_202501_KEY')) v(u)
 WHERE utility_id = 'UTILITY1';

-- A table squatting the name of a partition gridflow would make is never
-- dropped or written: the build stops, and the layers are as they were.
CREATE TABLE gridflow_store.interval_read_utility1__202501 (squatter int);
SELECT count(*) FROM gridflow_build(:'sample');  -- ERROR
SELECT reads = pg_temp.reads('UTILITY1') AS utility1_reads_kept,
       digest = pg_temp.digest('UTILITY1') AS utility1_unchanged FROM ref;
DROP TABLE gridflow_store.interval_read_utility1__202501;

-- Built side by side, each utility has the reads of the same files, and
-- UTILITY1's are exactly what it had alone.
SELECT count(*) > 0 AS built FROM gridflow_build(:'sample');
SELECT utility_id, pg_temp.reads(utility_id) = (SELECT reads FROM ref) AS same_reads
  FROM gridflow.utility WHERE enabled ORDER BY utility_id;
SELECT digest = pg_temp.digest('UTILITY1') AS utility1_unchanged FROM ref;
-- each month partition holds one utility's rows, and is named after it
SELECT c.relname AS partition, string_agg(DISTINCT r.utility_id, ',') AS utilities_in_it
  FROM gridflow_store.interval_read r JOIN pg_class c ON c.oid = r.tableoid
 GROUP BY c.relname ORDER BY 1;
-- a second build keeps them all
SELECT count(*) > 0 AS built FROM gridflow_build(:'sample');
SELECT utility_id, pg_temp.reads(utility_id) = (SELECT reads FROM ref) AS same_reads
  FROM gridflow.utility WHERE enabled ORDER BY utility_id;
DELETE FROM gridflow.utility WHERE utility_id IN ('UTILITY1_202501', 'UTILITY1_202501_KEY');

-- Unit factors are finite and positive.
INSERT INTO gridflow.unit (unit, factor, common_unit) VALUES ('nanunit', 'NaN', 'kWh');  -- ERROR
INSERT INTO gridflow.unit (unit, factor, common_unit) VALUES ('infunit', 'Infinity', 'kWh');  -- ERROR
INSERT INTO gridflow.unit (unit, factor, common_unit) VALUES ('negunit', -1, 'kWh');  -- ERROR
-- A value that a finite factor makes infinite is a reject, not an
-- infinite read; a day whose finite reads add up past the largest double
-- is an error, as PostgreSQL's own sum() of double precision is, never an
-- infinite total (data/drops/overflow: values in a unit worth 1e10 kWh).
INSERT INTO gridflow.unit (unit, factor, common_unit) VALUES ('hugeWh', 1e10, 'kWh');
INSERT INTO gridflow.utility (utility_id, service_point_link) VALUES ('OVERFLOWX', 'read');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('OVERFLOWX', 'interval', 'ok.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format, unit) VALUES
    ('OVERFLOWX', 'interval', 'service_point_id', 'sp', NULL, NULL),
    ('OVERFLOWX', 'interval', 'meter_id', 'meter', NULL, NULL),
    ('OVERFLOWX', 'interval', 'channel', 'channel', NULL, NULL),
    ('OVERFLOWX', 'interval', 'interval_start_ts', 'start', 'YYYY-MM-DD HH24:MI', NULL),
    ('OVERFLOWX', 'interval', 'value', 'value', NULL, 'hugeWh');
UPDATE gridflow.utility SET enabled = (utility_id = 'OVERFLOWX');
SELECT count(*) > 0 AS built FROM gridflow_build(:'testdir' || '/drops/overflow');
-- 1e300 is 1e310 kWh: rejected; 1e297 and 2e297 are kept, and their day is 3e307
SELECT interval_start_ts, value FROM standardized.interval_read ORDER BY interval_start_ts;
SELECT local_date, total_usage, interval_count FROM experience.daily_usage;
SELECT line_no, reason, detail FROM landing.reject;
-- two reads of 1.5e308 kWh on one day: the build stops and names the day
UPDATE gridflow.source_file SET file_path = 'sum.csv' WHERE utility_id = 'OVERFLOWX';
SELECT count(*) FROM gridflow_build(:'testdir' || '/drops/overflow');  -- ERROR
SELECT local_date, total_usage, interval_count FROM experience.daily_usage;
-- the same day brought by an ingest: the error's context is the phase, not
-- the SQL the ingest runs inside
SELECT outcome FROM gridflow_ingest(:'testdir' || '/drops/overflow/sum.csv', 'OVERFLOWX', 'interval');  -- ERROR
-- exact_sum does the same; infinite terms still give an infinite sum
SELECT gridflow.exact_sum(x) FROM (VALUES (1.5e308::float8), (1.5e308)) v(x);  -- ERROR
SELECT gridflow.exact_sum(x) FROM (VALUES (1.5e308::float8), ('Infinity')) v(x);
DELETE FROM gridflow.utility WHERE utility_id = 'OVERFLOWX';
DELETE FROM gridflow.unit WHERE unit = 'hugeWh';

-- A caller's session settings do not reach the build, which pins them:
-- pg_global as default tablespace (no table may live there), another
-- DateStyle and TimeZone (partition bounds are written and read back as
-- text), lossy float output, array NULLs off.
-- A build makes UTILITY1's partitions anew, under these settings.
UPDATE gridflow.utility SET enabled = (utility_id = 'UTILITY1');
SET default_tablespace = pg_global;
SET datestyle = 'SQL, DMY';
SET timezone = 'Asia/Tokyo';
SET intervalstyle = 'sql_standard';
SET extra_float_digits = -15;
SET array_nulls = off;
SET session_replication_role = replica;
SELECT count(*) > 0 AS built FROM gridflow_build(:'sample');
RESET default_tablespace;
SET datestyle = 'ISO, YMD';
SET timezone = 'America/New_York';
RESET intervalstyle;
RESET extra_float_digits;
RESET array_nulls;
RESET session_replication_role;
SELECT digest = pg_temp.digest('UTILITY1') AS same_as_reference FROM ref;
SELECT count(*) AS utility1_month_partitions FROM pg_class
 WHERE relname LIKE 'interval\_read\_utility1\_2%' AND relkind = 'r';
-- no relation of the layers went elsewhere than the database's tablespace
SELECT count(*) AS relations_in_other_tablespaces
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('landing', 'standardized', 'product', 'experience', 'gridflow', 'gridflow_store')
   AND c.reltablespace <> 0;

UPDATE gridflow.utility SET enabled = true WHERE utility_id IN ('UTILITY1', 'UTILITY2');
-- a full build keeps the partitions of the utilities it builds only: those
-- of the utilities of this test went with them
SELECT relname FROM pg_class
 WHERE relname ~ '_(utility1__202501|utility1__202501__key|overflowx)(_|$)' ORDER BY 1;
