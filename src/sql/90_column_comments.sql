--
-- Views and tables that mirror a table's columns carry the comments of
-- those columns: the views of the layers over their storage,
-- gridflow.product_source and gridflow.experience_source (the SQL
-- definition of product and experience), and a shard's stage tables.  A
-- new mirror is one more pair below.
--
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT v.copy, a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM (VALUES ('landing.reject', 'gridflow_store.reject'),
                       ('standardized.service_point', 'gridflow_store.service_point'),
                       ('standardized.meter', 'gridflow_store.meter'),
                       ('standardized.meter_assignment', 'gridflow_store.meter_assignment'),
                       ('standardized.interval_read', 'gridflow_store.interval_read'),
                       ('product.usage_interval', 'gridflow_store.usage_interval'),
                       ('experience.daily_usage', 'gridflow_store.daily_usage'),
                       ('gridflow.product_source', 'gridflow_store.usage_interval'), ('gridflow.experience_source', 'gridflow_store.daily_usage'),
                       ('gridflow.shard_stage_read', 'gridflow_store.interval_read'), ('gridflow.shard_stage_service_point', 'gridflow_store.service_point'),
                       ('gridflow.shard_stage_meter', 'gridflow_store.meter'), ('gridflow.shard_stage_meter_assignment', 'gridflow_store.meter_assignment'))
               AS v(copy, original)
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) v.original::regclass
         WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', c.copy, c.attname, c.comment);
    END LOOP;
END
$$;
