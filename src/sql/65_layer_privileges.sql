--
-- Who reads the layers.  This file, like the other sources of the objects
-- over the layers (20_layers.sql, 35_layer_views.sql, 40_dq.sql,
-- 45_dq_snapshot.sql, 56_external.sql, 90_column_comments.sql), runs again
-- when an update makes those objects anew: it only grants and (re)creates
-- policies.
--
-- The pipeline reads every layer and the build's SQL definitions; the
-- views of the layers run with their reader's rights, so each role also
-- reads the partitioned tables behind them (never their partitions, which
-- have no grants).
--
GRANT SELECT ON gridflow.product_source, gridflow.experience_source, gridflow.monthly_source,
                landing.source_record, landing.reject,
                standardized.service_point, standardized.meter,
                standardized.meter_assignment, standardized.interval_read,
                product.usage_interval, experience.daily_usage, experience.monthly_usage,
                experience.utility_daily_usage, experience.utility_monthly_usage
    TO gridflow_pipeline;
-- the views run with their reader's rights: they read the partitioned
-- tables behind them (never their partitions, which have no grants)
GRANT SELECT ON gridflow_store.source_chunk, gridflow_store.reject,
                gridflow_store.service_point, gridflow_store.meter,
                gridflow_store.meter_assignment, gridflow_store.interval_read,
                gridflow_store.usage_interval, gridflow_store.daily_usage,
                gridflow_store.monthly_usage, gridflow_store.utility_daily_usage,
                gridflow_store.utility_monthly_usage
    TO gridflow_pipeline;
GRANT SELECT ON ALL TABLES IN SCHEMA dq TO gridflow_pipeline;
-- and may name them: a BI tool lists a table its role may read (JDBC's
-- hideUnprivilegedObjects looks at table privileges alone), and the row
-- security below holds when it is read directly
GRANT USAGE ON SCHEMA gridflow_store TO gridflow_pipeline, gridflow_internal;

--
-- Internal readers: every column of the layers after landing, and data
-- quality; nothing in landing.
--
GRANT SELECT ON standardized.service_point, standardized.meter,
                standardized.meter_assignment, standardized.interval_read,
                product.usage_interval, experience.daily_usage, experience.monthly_usage,
                experience.utility_daily_usage, experience.utility_monthly_usage
    TO gridflow_internal;
GRANT SELECT ON gridflow_store.service_point, gridflow_store.meter,
                gridflow_store.meter_assignment, gridflow_store.interval_read,
                gridflow_store.usage_interval, gridflow_store.daily_usage,
                gridflow_store.monthly_usage, gridflow_store.utility_daily_usage,
                gridflow_store.utility_monthly_usage
    TO gridflow_internal;
GRANT SELECT ON ALL TABLES IN SCHEMA dq TO gridflow_internal;

--
-- External readers: the masked views, nothing else.
--
GRANT USAGE ON SCHEMA external TO gridflow_external;
GRANT SELECT ON ALL TABLES IN SCHEMA external TO gridflow_external;

--
-- Row-level security.  Every table with rows of a utility shows a role the
-- rows of the utilities mapped to it in gridflow.role_utility (through any
-- role whose privileges it has); gridflow_pipeline sees every row.  The
-- policies are for SELECT only: nobody but the owner writes the layers, and
-- the owner (the build) is not subject to them; the pipeline also edits
-- gridflow.utility, gridflow.vee_rule and gridflow.vee_estimation.  The
-- landing tables are filtered through their batch.  The policies call
-- functions (58_row_security.sql) and hold no subquery, as Citus requires
-- of the policies of its tables.
--
-- A role sees the mappings of the roles whose privileges it has.
ALTER TABLE gridflow.role_utility ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_mappings ON gridflow.role_utility;
CREATE POLICY own_mappings ON gridflow.role_utility FOR SELECT TO PUBLIC
    USING (gridflow.caller_has_privileges_of(role_name));
COMMENT ON POLICY own_mappings ON gridflow.role_utility IS 'A role sees the mappings of the roles whose privileges it has';

DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT x.t::regclass
          FROM pg_catalog.unnest(ARRAY['gridflow.utility', 'gridflow.vee_rule', 'gridflow.vee_estimation', 'gridflow.batch',
                                       'gridflow_store.source_chunk', 'gridflow_store.reject',
                                       'gridflow_store.service_point', 'gridflow_store.meter',
                                       'gridflow_store.meter_assignment', 'gridflow_store.interval_read',
                                       'gridflow_store.usage_interval', 'gridflow_store.daily_usage',
                                       'gridflow_store.monthly_usage', 'gridflow_store.utility_daily_usage',
                                       'gridflow_store.utility_monthly_usage',
                                       'dq.current_run', 'dq.row_counts_history', 'dq.source_duplicates_history',
                                       'dq.dedup_value_share_history', 'dq.referential_integrity_history',
                                       'dq.completeness_history', 'dq.value_profile_history',
                                       'dq.value_distribution', 'dq.experience_summary_history',
                                       'dq.meter_link_ambiguity_history', 'dq.batch_quality_history',
                                       'dq.experience_unit_history', 'dq.multi_premise_meters_history',
                                       'dq.vee_quality_history', 'dq.vee_rule_history',
                                       'dq.vee_interval_count_history', 'dq.vee_gap_history',
                                       'dq.vee_estimate_history']) AS x(t)
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS pipeline_all_rows ON %s', t);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS mapped_utility_rows ON %s', t);
        IF t OPERATOR(pg_catalog.=) ANY (ARRAY['gridflow.utility'::regclass, 'gridflow.vee_rule'::regclass,
                                                      'gridflow.vee_estimation'::regclass]) THEN
            EXECUTE pg_catalog.format('CREATE POLICY pipeline_all_rows ON %s TO gridflow_pipeline '
                                      'USING (true) WITH CHECK (true)', t);
            EXECUTE pg_catalog.format('COMMENT ON POLICY pipeline_all_rows ON %s IS %L', t,
                                      'gridflow_pipeline sees and edits the configuration of every utility');
        ELSE
            EXECUTE pg_catalog.format('CREATE POLICY pipeline_all_rows ON %s FOR SELECT TO gridflow_pipeline USING (true)', t);
            EXECUTE pg_catalog.format('COMMENT ON POLICY pipeline_all_rows ON %s IS %L', t,
                                      'gridflow_pipeline sees the rows of every utility');
        END IF;
        EXECUTE pg_catalog.format('CREATE POLICY mapped_utility_rows ON %s FOR SELECT TO PUBLIC USING ('
                                  'utility_id OPERATOR(pg_catalog.=) ANY (gridflow.caller_utilities()))', t);
        EXECUTE pg_catalog.format('COMMENT ON POLICY mapped_utility_rows ON %s IS %L', t,
                                  'A role sees the rows of the utilities mapped to it in gridflow.role_utility');
    END LOOP;
    -- the quartiles of all utilities together: to roles that see them all
    ALTER TABLE dq.value_total ENABLE ROW LEVEL SECURITY;
    DROP POLICY IF EXISTS pipeline_all_rows ON dq.value_total;
    DROP POLICY IF EXISTS mapped_utility_rows ON dq.value_total;
    CREATE POLICY pipeline_all_rows ON dq.value_total FOR SELECT TO gridflow_pipeline USING (true);
    COMMENT ON POLICY pipeline_all_rows ON dq.value_total IS 'gridflow_pipeline sees the rows of every utility';
    CREATE POLICY mapped_utility_rows ON dq.value_total FOR SELECT TO PUBLIC
        USING (utilities OPERATOR(pg_catalog.<@) gridflow.caller_utilities());
    COMMENT ON POLICY mapped_utility_rows ON dq.value_total IS 'A role sees the figures of all utilities together only when every one of them is mapped to it';
END
$$;
