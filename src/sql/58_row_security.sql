--
-- What the row-level security policies call (src/rowsecurity.c): the
-- policies are plain function calls, without subqueries, which Citus
-- refuses in the policies of its tables.  Both run as their caller and
-- mean what the subqueries they replace meant.
--
CREATE FUNCTION gridflow.caller_has_privileges_of(role_name name)
RETURNS boolean
AS 'MODULE_PATHNAME', 'gridflow_caller_has_privileges_of'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.caller_has_privileges_of(name) IS 'Has the current role the privileges of the role role_name (pg_has_role(role, ''USAGE''))? false when no such role exists; the policy of gridflow.role_utility';

CREATE FUNCTION gridflow.caller_utilities()
RETURNS text[]
AS 'MODULE_PATHNAME', 'gridflow_caller_utilities'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.caller_utilities() IS 'The utilities mapped in gridflow.role_utility to roles whose privileges the current role has (read with its privileges, under that table''s row-level security; an empty array when none): the utilities whose rows the policies of the layers, DQ and configuration tables show it. Computed once per statement and role';
