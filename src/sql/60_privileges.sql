--
-- Roles, privileges and row-level security.
--
-- Three NOLOGIN group roles; administrators GRANT them to login roles:
--   gridflow_pipeline  runs builds (with pg_read_server_files, granted
--                      separately), maintains the configuration, reads every
--                      layer of every utility, landing included;
--   gridflow_internal  reads standardized, product, experience and dq, all
--                      columns, rows of its utilities (gridflow.role_utility);
--   gridflow_external  reads the views of the external schema only.
-- Roles belong to the cluster, not to a database: they are created here
-- when missing and kept by DROP EXTENSION (another database may use them).
--
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT v.name, v.comment
          FROM (VALUES
                ('gridflow_pipeline', 'gridflow: runs builds (together with pg_read_server_files), maintains the configuration, reads every layer of every utility'),
                ('gridflow_internal', 'gridflow: reads the standardized, product, experience and dq schemas, all columns, rows of the utilities mapped in gridflow.role_utility'),
                ('gridflow_external', 'gridflow: reads the external schema only (addresses masked, ZIP cut to three digits), rows of the utilities mapped in gridflow.role_utility'))
               AS v(name, comment)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) r.name) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r.name);
            EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', r.name, r.comment);
        ELSIF EXISTS (SELECT FROM pg_catalog.pg_roles a
                       WHERE a.rolname OPERATOR(pg_catalog.=) r.name
                         AND (a.rolsuper OR a.rolcanlogin OR a.rolcreaterole OR a.rolcreatedb
                              OR a.rolreplication OR a.rolbypassrls)) THEN
            RAISE EXCEPTION 'role "%" exists and is not a plain group role', r.name
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'gridflow grants privileges to this role, so it must be NOLOGIN, without SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS.',
                      HINT = 'Change the role with ALTER ROLE, or drop it, before creating the extension.';
        END IF;
    END LOOP;
END
$$;

--
-- Functions that open server files are not for PUBLIC; on top of EXECUTE
-- they check that the calling role may read server files (superuser or
-- pg_read_server_files) and gridflow.allowed_directories.
--
REVOKE EXECUTE ON FUNCTION gridflow.read_csv(text, text[], text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gridflow.read_csv_header(text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_ingest(text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_rebuild() FROM PUBLIC;

--
-- The pipeline: builds and ingests (they run as the owner of the extension,
-- so no write privilege on the layers is needed), configuration, and
-- reading everything.  The schemas are not open to PUBLIC.
--
GRANT USAGE ON SCHEMA gridflow, landing, standardized, product, experience, dq TO gridflow_pipeline;
GRANT EXECUTE ON FUNCTION gridflow.read_csv(text, text[], text, text),
                          gridflow.read_csv_header(text, text, text),
                          @extschema@.gridflow_ingest(text, text, text),
                          @extschema@.gridflow_rebuild()
    TO gridflow_pipeline;
GRANT SELECT, INSERT, UPDATE, DELETE ON gridflow.utility, gridflow.source_file, gridflow.column_map,
                                        gridflow.channel, gridflow.unit, gridflow.vee_rule,
                                        gridflow.vee_estimation
    TO gridflow_pipeline;
GRANT SELECT ON gridflow.batch, gridflow.build, gridflow.role_utility, gridflow.quality_code, gridflow.flow_direction
    TO gridflow_pipeline;

--
-- Internal readers: every column of the layers after landing, and data
-- quality; no configuration beyond the utilities (and the quality codes and
-- validation rules, which gridflow.product_source applies), nothing in
-- landing.
--
GRANT USAGE ON SCHEMA gridflow, standardized, product, experience, dq TO gridflow_internal;
GRANT SELECT ON gridflow.utility, gridflow.batch, gridflow.build, gridflow.role_utility,
                gridflow.quality_code, gridflow.flow_direction, gridflow.vee_rule, gridflow.vee_estimation
    TO gridflow_internal;

--
-- Row-level security: 65_layer_privileges.sql (gridflow.role_utility's
-- policy too).
--
