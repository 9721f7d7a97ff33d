--
-- The builds: every layer from a drop.  Also part of the update from
-- 0.2.0, which drops the previous definitions first (their drop_dir had a
-- NULL default, and NULL built the sample).
--
CREATE FUNCTION @extschema@.gridflow_build(
    drop_dir text,
    OUT step text,
    OUT table_name text,
    OUT row_count bigint,
    OUT elapsed_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_build'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.gridflow_build(text) IS 'Rebuild every layer from a drop directory (DIR/utility1/utility1_intervals.csv and so on, as gridflow.source_file says; NULL is an error), in the caller''s transaction: on error nothing changes. Returns one row per table written with its row count and time. The caller needs EXECUTE (granted to gridflow_pipeline) and superuser or pg_read_server_files; every file is checked against the caller and gridflow.allowed_directories. The build then runs as the owner of the extension (search_path pg_catalog, pg_temp), so the caller needs no privileges on the layers.';
CREATE FUNCTION @extschema@.gridflow_build(
    OUT step text,
    OUT table_name text,
    OUT row_count bigint,
    OUT elapsed_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_build'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.gridflow_build() IS 'Rebuild every layer from the sample drop installed with the extension (gridflow.sample_dir()), as gridflow_build(drop_dir) does: a demonstration, which replaces the layers and the history of batches. Rights as for gridflow_build(drop_dir).';

CREATE FUNCTION @extschema@.gridflow_build_distributed(
    drop_dir text,
    OUT server_name text,
    OUT step text,
    OUT table_name text,
    OUT row_count bigint,
    OUT elapsed_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_build_distributed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.gridflow_build_distributed(text) IS 'Rebuild every layer from a drop directory, here and on the shards of gridflow.shard, in the caller''s transaction: local utilities are built here; a whole utility is read and built by its shard (from gridflow.shard.drop_dir, or this drop_dir); a utility split by hash is read and de-duplicated here, and its reads are built by the shards of their service points; all shards work at once. On error nothing changes anywhere (the shards'' work commits with this transaction). Returns one row per table written, with the shard that wrote it (server_name NULL: here). Rights as for gridflow_build(drop_dir); needs postgres_fdw';

-- Builds open server files: not for PUBLIC (on top of EXECUTE they check
-- that the caller may read server files, and gridflow.allowed_directories).
REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_build(text), @extschema@.gridflow_build(),
                           @extschema@.gridflow_build_distributed(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.gridflow_build(text), @extschema@.gridflow_build(),
                          @extschema@.gridflow_build_distributed(text) TO gridflow_pipeline;
