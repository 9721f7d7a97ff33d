--
-- Views and tables that mirror a table's columns carry the comments of
-- those columns: gridflow.product_source and gridflow.experience_source
-- (the SQL definition of product and experience), and a shard's stage
-- tables.  A new mirror is one more pair below.
--
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT v.copy, a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM (VALUES ('gridflow.product_source', 'product.usage_interval'), ('gridflow.experience_source', 'experience.daily_usage'),
                       ('gridflow.shard_stage_read', 'standardized.interval_read'), ('gridflow.shard_stage_service_point', 'standardized.service_point'),
                       ('gridflow.shard_stage_meter', 'standardized.meter'), ('gridflow.shard_stage_meter_assignment', 'standardized.meter_assignment'))
               AS v(copy, original)
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) v.original::regclass
         WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', c.copy, c.attname, c.comment);
    END LOOP;
END
$$;
