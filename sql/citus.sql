-- Citus mode, without Citus (the TAP test 011_citus.pl runs it with Citus
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
