--
-- Shards (docs/distributed.md).  A coordinator database places utilities on
-- other databases running gridflow (its shards), reached through
-- postgres_fdw; gridflow.shard says where.  postgres_fdw is needed on a
-- coordinator only, and only when shards are used: the functions check for
-- it when they run.
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
    gridflow_version text NOT NULL,
    xact_id xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    queued_by name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE gridflow.shard_task IS 'On a shard: work a coordinator queued in its build''s transaction, done (and deleted) when it reads gridflow.shard_run in that same transaction; only the owner of gridflow writes it; empty outside a build';
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
COMMENT ON COLUMN gridflow.shard_task.xact_id IS 'The transaction that queued the task (set by default): gridflow.shard_run does only the tasks of its own transaction';
COMMENT ON COLUMN gridflow.shard_task.queued_by IS 'The role that queued the task (set by default): gridflow.shard_run does only the tasks its caller queued';

CREATE TABLE gridflow.shard_stage_service_point (LIKE gridflow_store.service_point);
CREATE TABLE gridflow.shard_stage_meter (LIKE gridflow_store.meter);
CREATE TABLE gridflow.shard_stage_meter_assignment (LIKE gridflow_store.meter_assignment);
COMMENT ON TABLE gridflow.shard_stage_service_point IS 'On a shard: the service points of a utility split by hash, sent by the coordinator for the shard''s part; written by the owner of gridflow only, emptied when a build starts; empty outside a build';
COMMENT ON TABLE gridflow.shard_stage_meter IS 'On a shard: the meters of a utility split by hash, sent by the coordinator; written by the owner of gridflow only, emptied when a build starts; empty outside a build';
COMMENT ON TABLE gridflow.shard_stage_meter_assignment IS 'On a shard: the meter assignments of a utility split by hash, sent by the coordinator; written by the owner of gridflow only, emptied when a build starts; empty outside a build';

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
COMMENT ON FUNCTION gridflow.shard_run_tasks() IS 'On a shard: do the work its caller queued in gridflow.shard_task in the current transaction, in order (copy the utility''s configuration, then build it, or build this shard''s part of it from the stage tables), as the owner of the extension; returns what each task wrote. Tasks of other transactions or roles are never done (committed ones are deleted). For the owner of the extension, whom a coordinator''s user mapping reaches';

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


REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_distribute() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gridflow.shard_run_tasks() FROM PUBLIC;
-- The pipeline builds.  A coordinator's user mapping reaches its shards as
-- the owner of gridflow there, who alone writes a shard's queue and stage
-- tables and runs its work: the pipeline role may not, so that nobody can
-- plant work or rows that a coordinator's build would run or build.
GRANT SELECT ON gridflow.shard TO gridflow_pipeline;
REVOKE ALL ON gridflow.shard_task, gridflow.shard_run,
              gridflow.shard_stage_service_point, gridflow.shard_stage_meter,
              gridflow.shard_stage_meter_assignment
    FROM gridflow_pipeline;
