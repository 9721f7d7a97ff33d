--
-- Privileges.  Functions that open server files are not for PUBLIC: on top
-- of this, they check that the calling role may read server files
-- (superuser or pg_read_server_files).  The schemas are not open to PUBLIC
-- either; grant USAGE and SELECT to the roles that need them.
--
REVOKE EXECUTE ON FUNCTION gridflow.read_csv(text, text[], text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gridflow.read_csv_header(text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_build(text) FROM PUBLIC;
