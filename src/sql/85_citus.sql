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
