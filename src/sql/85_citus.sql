--
-- Citus: the configuration as reference tables (docs/distributed.md, "The
-- same tables on Citus").  Builds, rebuilds and ingests refuse to write a
-- table Citus manages other than these (src/citus.c).
--
CREATE FUNCTION gridflow.citus_reference_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['flow_direction', 'quality_code', 'unit', 'utility', 'source_file', 'column_map', 'channel', 'role_utility',
             'shard', 'vee_rule', 'vee_estimation', 'privacy_rule', 'privacy_setting', 'service_point_class'];
COMMENT ON FUNCTION gridflow.citus_reference_tables() IS 'The tables of schema gridflow that gridflow_citus_setup() makes Citus reference tables, each after the tables it refers to: the configuration (gridflow.configuration_tables()) and the shipped code lists. Builds only read them; they refuse to write any other table Citus manages';

CREATE FUNCTION @extschema@.gridflow_citus_setup(OUT table_name text, OUT action text)
RETURNS SETOF record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
    tables text[] := gridflow.citus_reference_tables();
    t text;
    fks record;
    kind text;
    drops text := '';
    adds text[] := '{}';
    made text[] := '{}';
    res record;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') THEN
        RAISE EXCEPTION 'Citus is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'gridflow_citus_setup() makes the configuration tables of gridflow Citus reference tables.',
                  HINT = 'Load citus (shared_preload_libraries), CREATE EXTENSION citus on every node, add the workers on the coordinator, then run gridflow_citus_setup() there; see docs/distributed.md.';
    END IF;
    -- Citus' own catalog is read by name: this function is made where Citus may be absent
    IF (SELECT groupid FROM pg_catalog.pg_dist_local_group) OPERATOR(pg_catalog.<>) 0 THEN
        RAISE EXCEPTION 'gridflow_citus_setup() runs on the coordinator only'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run it on the coordinator, which sends the configuration to every worker.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_node WHERE groupid OPERATOR(pg_catalog.=) 0) THEN
        RAISE EXCEPTION 'the coordinator is not in the metadata of Citus'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Builds join the layers on the coordinator with the configuration: the coordinator needs a copy of every reference table.',
                  HINT = 'Run SELECT citus_set_coordinator_host(''<host>'', <port>) first.';
    END IF;
    FOREACH t IN ARRAY tables LOOP
        SELECT CASE WHEN d.partmethod OPERATOR(pg_catalog.<>) 'n' THEN 'a distributed table'
                    WHEN d.repmodel OPERATOR(pg_catalog.=) 't' THEN 'reference'
                    ELSE 'a Citus local table' END
          INTO kind
          FROM pg_catalog.pg_dist_partition d
         WHERE d.logicalrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('gridflow.' OPERATOR(pg_catalog.||) t);
        IF kind OPERATOR(pg_catalog.<>) 'reference' THEN
            RAISE EXCEPTION 'table gridflow.% is already %', t, kind
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Make it a plain table again with undistribute_table(), then run gridflow_citus_setup() again.';
        END IF;
    END LOOP;

    -- Citus makes a table a reference table only when the tables its
    -- foreign keys join it to are reference tables already, or else turns
    -- them into Citus local tables, which fails for an extension's tables
    -- (it renames each, and makes a new table of its name on every worker,
    -- where the extension has made it).  So the foreign keys between these
    -- tables are dropped, the tables made reference tables in order, and
    -- the keys made again: Citus sends them to every copy.  The workers'
    -- own tables (the extension's, which Citus keeps as they are) lose
    -- theirs first, or the keys sent would exist there already.
    FOR fks IN
        SELECT c.conrelid::pg_catalog.regclass::pg_catalog.text AS rel, c.conname,
               pg_catalog.pg_get_constraintdef(c.oid) AS def
          FROM pg_catalog.pg_constraint c
         WHERE c.contype OPERATOR(pg_catalog.=) 'f'
           AND c.conrelid OPERATOR(pg_catalog.=) ANY (SELECT pg_catalog.to_regclass('gridflow.' OPERATOR(pg_catalog.||) x) FROM pg_catalog.unnest(tables) x)
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition d
                            WHERE d.logicalrelid OPERATOR(pg_catalog.=) c.conrelid)
         ORDER BY 1, 2
    LOOP
        drops := drops OPERATOR(pg_catalog.||)
                 pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I; ', fks.rel, fks.conname);
        adds := adds OPERATOR(pg_catalog.||) pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', fks.rel, fks.conname, fks.def);
    END LOOP;
    IF drops OPERATOR(pg_catalog.<>) '' THEN
        FOR res IN SELECT * FROM pg_catalog.run_command_on_workers(drops) LOOP
            IF NOT res.success THEN
                RAISE EXCEPTION 'could not drop the foreign keys of gridflow''s configuration tables on worker %:%: %',
                                res.nodename, res.nodeport, res.result
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
        END LOOP;
        EXECUTE drops;
    END IF;

    -- the configuration_dump triggers go to every copy: each node keeps its own
    -- gridflow.configuration_dump
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    FOREACH t IN ARRAY tables LOOP
        table_name := 'gridflow.' OPERATOR(pg_catalog.||) t;
        IF EXISTS (SELECT FROM pg_catalog.pg_dist_partition d
                    WHERE d.logicalrelid OPERATOR(pg_catalog.=) table_name::pg_catalog.regclass) THEN
            action := 'already a reference table';
        ELSE
            PERFORM pg_catalog.create_reference_table(table_name::pg_catalog.regclass);
            made := made OPERATOR(pg_catalog.||) table_name;
            action := 'made a reference table';
        END IF;
        RETURN NEXT;
    END LOOP;
    -- the rows copied into the shards, the coordinator's stand-ins are emptied
    FOREACH t IN ARRAY made LOOP
        PERFORM pg_catalog.truncate_local_data_after_distributing_table(t::pg_catalog.regclass);
    END LOOP;
    FOREACH t IN ARRAY adds LOOP
        EXECUTE t;
    END LOOP;
    -- then the layers of reads, distributed (86_citus_layers.sql)
    RETURN QUERY SELECT * FROM gridflow.citus_setup_layers();
END
$$;
COMMENT ON FUNCTION @extschema@.gridflow_citus_setup() IS 'On a Citus coordinator (Citus installed, the coordinator in its metadata, the workers added): make the configuration tables of gridflow (gridflow.citus_reference_tables(), gridflow.role_utility included) Citus reference tables, so that the configuration and the readers'' mappings written on the coordinator reach every worker. Their foreign keys are made again between the reference tables; each node''s gridflow.configuration_dump follows its copy. Running it again changes nothing. For the owner of the extension only';
REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_citus_setup() FROM PUBLIC;
