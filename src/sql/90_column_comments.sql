--
-- Views and tables that mirror a table's columns carry the comments of
-- those columns: the views of the layers over their storage, a shard's
-- stage tables, and gridflow.product_source, experience_source and
-- monthly_source (the SQL definitions of product and experience) those of
-- the views they define, the external views those of the views they mask.
-- A new mirror is one more pair below.
--
DO $$
DECLARE
    c record;
BEGIN
    -- the views of the layers, and a shard's stage tables, from storage
    FOR c IN
        SELECT v.copy, a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM (VALUES ('landing.reject', 'gridflow_store.reject'),
                       ('standardized.service_point', 'gridflow_store.service_point'),
                       ('standardized.meter', 'gridflow_store.meter'),
                       ('standardized.meter_assignment', 'gridflow_store.meter_assignment'),
                       ('standardized.interval_read', 'gridflow_store.interval_read'),
                       ('product.usage_interval', 'gridflow_store.usage_interval'),
                       ('experience.daily_usage', 'gridflow_store.daily_usage'),
                       ('experience.monthly_usage', 'gridflow_store.monthly_usage'),
                       ('gridflow.shard_stage_read', 'gridflow_store.interval_read'), ('gridflow.shard_stage_service_point', 'gridflow_store.service_point'),
                       ('gridflow.shard_stage_meter', 'gridflow_store.meter'), ('gridflow.shard_stage_meter_assignment', 'gridflow_store.meter_assignment'))
               AS v(copy, original)
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) v.original::regclass
         WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', c.copy, c.attname, c.comment);
    END LOOP;
    -- the SQL definitions of product and experience, and the external
    -- views, from the views they define or mask (columns of theirs, not
    -- already commented: the pseudonyms and masked columns say so)
    FOR c IN
        SELECT v.copy, a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM (VALUES ('gridflow.product_source', 'product.usage_interval'),
                       ('gridflow.experience_source', 'experience.daily_usage'),
                       ('gridflow.monthly_source', 'experience.monthly_usage'),
                       ('external.usage_interval', 'product.usage_interval'),
                       ('external.service_point', 'standardized.service_point'),
                       ('external.daily_usage', 'experience.daily_usage'),
                       ('external.monthly_usage', 'experience.monthly_usage'))
               AS v(copy, original)
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) v.original::regclass
          JOIN pg_catalog.pg_attribute x ON x.attrelid OPERATOR(pg_catalog.=) v.copy::regclass
                                        AND x.attname OPERATOR(pg_catalog.=) a.attname
         WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
           AND pg_catalog.col_description(x.attrelid, x.attnum) IS NULL
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', c.copy, c.attname, c.comment);
    END LOOP;
END
$$;
