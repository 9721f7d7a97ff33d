-- Citus mode, without Citus (the TAP tests 011_citus.pl and 012_citus_layers.pl run it with Citus
-- where Citus is installed): the setup refuses to run, builds do not look
-- for Citus' catalog, and the tables the setup makes reference tables are
-- closed under foreign keys, in an order Citus accepts.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS gridflow CASCADE;
CREATE EXTENSION gridflow;
RESET client_min_messages;

-- no Citus here: a clear error, nothing changed
SELECT to_regclass('pg_catalog.pg_dist_partition') IS NULL AS no_citus;
SELECT * FROM gridflow_citus_setup();

-- every configuration table is made a reference table
SELECT t AS configuration_table_left_out
  FROM unnest(gridflow.configuration_tables()) t
 WHERE t <> ALL (gridflow.citus_reference_tables());
-- every foreign key that touches one of them joins two of them, the
-- referenced one first (Citus makes a table a reference table only when
-- the tables it refers to are reference tables already)
WITH ref AS (
    SELECT to_regclass('gridflow.' || t) AS rel, pos
      FROM unnest(gridflow.citus_reference_tables()) WITH ORDINALITY AS x(t, pos)
)
SELECT c.conrelid::regclass AS referencing, c.confrelid::regclass AS referenced,
       a.pos AS referencing_pos, b.pos AS referenced_pos
  FROM pg_constraint c
  LEFT JOIN ref a ON a.rel = c.conrelid
  LEFT JOIN ref b ON b.rel = c.confrelid
 WHERE c.contype = 'f'
   AND (a.rel IS NOT NULL OR b.rel IS NOT NULL)
   AND (a.rel IS NULL OR b.rel IS NULL OR b.pos >= a.pos);
SELECT count(*) AS foreign_keys_between_reference_tables
  FROM pg_constraint c
 WHERE c.contype = 'f'
   AND c.conrelid = ANY (SELECT to_regclass('gridflow.' || t) FROM unnest(gridflow.citus_reference_tables()) t);
-- the tables builds write are not among them
SELECT t AS written_by_builds
  FROM unnest(gridflow.citus_reference_tables()) t
 WHERE t IN ('batch', 'build', 'pseudonym_key', 'configuration_dump', 'shard_task', 'shard_stage_read',
             'shard_stage_service_point', 'shard_stage_meter', 'shard_stage_meter_assignment');

-- the setup is for the owner of the extension
SELECT has_function_privilege('gridflow_pipeline', 'gridflow_citus_setup()', 'EXECUTE') AS pipeline,
       has_function_privilege('gridflow_internal', 'gridflow_citus_setup()', 'EXECUTE') AS internal,
       has_function_privilege('public', 'gridflow_citus_setup()', 'EXECUTE') AS public;

-- without Citus, a build writes as before
SELECT step, table_name, row_count FROM gridflow_build(gridflow.sample_dir())
 WHERE step IN ('landing', 'product') ORDER BY step, table_name;
SELECT gridflow.citus_layers() AS layers_distributed;

-- the tables the setup gives to Citus (the layers of reads distributed, by
-- month; the dimensions reference tables, month_column NULL): their month
-- column and key are the storage's (the unique index of each utility's
-- partitions)
SELECT l.table_name, l.month_column,
       l.key_columns = (SELECT string_agg(a.attname, ', ' ORDER BY k.ord)
                          FROM pg_partition_tree(format('gridflow_store.%I', l.table_name)::regclass) p
                          JOIN pg_index i ON i.indrelid = p.relid AND i.indisunique
                          CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                          JOIN pg_attribute a ON a.attrelid = p.relid AND a.attnum = k.attnum
                         WHERE p.isleaf
                           AND p.relid = (SELECT min(x.relid::oid)::regclass FROM pg_partition_tree(format('gridflow_store.%I', l.table_name)::regclass) x
                                           WHERE x.isleaf)) AS key_of_the_storage,
       l.month_column IS NULL OR EXISTS (SELECT FROM pg_attribute a
                                          WHERE a.attrelid = format('gridflow_store.%I', l.table_name)::regclass
                                            AND a.attname = l.month_column) AS month_column_exists
  FROM gridflow.citus_layer_tables() l;

-- What builds do on Citus, on plain tables: the months a build's partition
-- needs made as one level of partitions, and its rows moved there, a read
-- without a service point with service_point_id '' (a drop with reads of
-- unknown meters); the partition emptied.  Rolled back.
\getenv testdir GRIDFLOW_TEST_DIR
SELECT count(*) > 0 AS built FROM gridflow_build(:'testdir' || '/drops/unknown_meters');
BEGIN;
CREATE SCHEMA gridflow_citus;
CREATE TABLE gridflow_citus.layout (time_zone text NOT NULL);
INSERT INTO gridflow_citus.layout VALUES ('America/New_York');
CREATE TABLE gridflow_citus.interval_read (LIKE gridflow_store.interval_read) PARTITION BY RANGE (interval_start_ts);
CREATE TABLE gridflow_citus.daily_usage (LIKE gridflow_store.daily_usage) PARTITION BY RANGE (local_date);
CREATE TABLE gridflow_citus.monthly_usage (LIKE gridflow_store.monthly_usage) PARTITION BY RANGE (month_start);
-- a dimension (a reference table on Citus): not partitioned, a meter without
-- a service point keeps NULL
CREATE TABLE gridflow_citus.meter (LIKE gridflow_store.meter);
CREATE TEMP TABLE before AS
SELECT 'interval_read' AS t, utility_id, count(*) AS n, count(*) FILTER (WHERE service_point_id IS NULL) AS no_sp
  FROM gridflow_store.interval_read GROUP BY utility_id
UNION ALL
SELECT 'daily_usage', utility_id, count(*), 0 FROM gridflow_store.daily_usage GROUP BY utility_id
UNION ALL
SELECT 'monthly_usage', utility_id, count(*), 0 FROM gridflow_store.monthly_usage GROUP BY utility_id
UNION ALL
SELECT 'meter', utility_id, count(*), count(*) FILTER (WHERE service_point_id IS NULL) FROM gridflow_store.meter GROUP BY utility_id;
SELECT t, utility_id, n, no_sp FROM before ORDER BY 1, 2;
SET LOCAL timezone = 'UTC';
SELECT t AS table_name, p.inhrelid::regclass AS utility_partition,
       gridflow.citus_load_layer(t, p.inhrelid::regclass) AS moved
  FROM unnest(ARRAY['interval_read', 'daily_usage', 'monthly_usage', 'meter']) t
  JOIN pg_inherits p ON p.inhparent = format('gridflow_store.%I', t)::regclass
 ORDER BY 1, 2;
-- one level of months, in New York's months (a month of reads starts at its local midnight)
SELECT c.oid::regclass AS month, pg_get_expr(c.relpartbound, c.oid) AS bounds
  FROM pg_partition_tree('gridflow_citus.interval_read') t JOIN pg_class c ON c.oid = t.relid
 WHERE t.level > 0
UNION ALL
SELECT c.oid::regclass, pg_get_expr(c.relpartbound, c.oid)
  FROM pg_partition_tree('gridflow_citus.daily_usage') t JOIN pg_class c ON c.oid = t.relid
 WHERE t.level > 0
UNION ALL
SELECT c.oid::regclass, pg_get_expr(c.relpartbound, c.oid)
  FROM pg_partition_tree('gridflow_citus.monthly_usage') t JOIN pg_class c ON c.oid = t.relid
 WHERE t.level > 0
 ORDER BY 1;
SELECT count(*) FILTER (WHERE level > 1) AS second_level
  FROM pg_partition_tree('gridflow_citus.interval_read');
-- every row moved, none left behind; reads without a service point have '',
-- meters without one NULL
SELECT b.t, b.utility_id, b.n = m.n AS all_moved, b.no_sp = m.no_sp AS no_service_point_as_empty
  FROM before b
  JOIN (SELECT 'interval_read' AS t, utility_id, count(*) AS n, count(*) FILTER (WHERE service_point_id = '') AS no_sp
          FROM gridflow_citus.interval_read GROUP BY utility_id
        UNION ALL
        SELECT 'daily_usage', utility_id, count(*), 0 FROM gridflow_citus.daily_usage GROUP BY utility_id
        UNION ALL
        SELECT 'monthly_usage', utility_id, count(*), 0 FROM gridflow_citus.monthly_usage GROUP BY utility_id
        UNION ALL
        SELECT 'meter', utility_id, count(*), count(*) FILTER (WHERE service_point_id IS NULL)
          FROM gridflow_citus.meter GROUP BY utility_id) m
    USING (t, utility_id)
 ORDER BY 1, 2;
SELECT (SELECT count(*) FROM gridflow_store.interval_read) + (SELECT count(*) FROM gridflow_store.daily_usage)
     + (SELECT count(*) FROM gridflow_store.monthly_usage) + (SELECT count(*) FROM gridflow_store.meter) AS left_in_storage;
-- a second move of the same months makes no partition again
SELECT gridflow.citus_months('gridflow_citus.daily_usage', 'local_date', 'gridflow_citus.daily_usage') AS made_again;
-- the functions builds call are the owner's
SELECT p.oid::regprocedure AS function, has_function_privilege('gridflow_pipeline', p.oid, 'EXECUTE') AS pipeline
  FROM pg_proc p
 WHERE p.proname IN ('citus_months', 'citus_load_layer', 'citus_clear_layers', 'citus_setup_layers')
 ORDER BY 1;
ROLLBACK;
