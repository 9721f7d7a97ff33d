--
-- The columns of the views that define product and experience carry the
-- comments of the table columns they fill.
--
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT v.view_name, a.attname, pg_catalog.col_description(t.oid, a.attnum) AS comment
          FROM (VALUES ('gridflow.product_source'::regclass, 'product.usage_interval'::regclass),
                       ('gridflow.experience_source'::regclass, 'experience.daily_usage'::regclass))
               AS v(view_name, table_name)
          JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) v.table_name
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) t.oid
         WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', c.view_name, c.attname, c.comment);
    END LOOP;
END
$$;
