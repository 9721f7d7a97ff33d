--
-- Operations: relation files that a crash left behind.
--
CREATE FUNCTION gridflow.orphan_relation_files(
    OUT tablespace text,
    OUT path text,
    OUT filenode oid,
    OUT bytes bigint,
    OUT modified timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_orphan_relation_files'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION gridflow.orphan_relation_files() IS 'Files of this database''s directories (every tablespace) that no relation owns: what a backend or server crash leaves of the relations its transaction was creating (a build''s new tables). A file counts when it is a relation file by name, not empty, named by no live or in-progress version of a pg_class row, and older than every transaction running now. Superusers only';

CREATE FUNCTION gridflow.remove_orphan_relation_files(
    OUT tablespace text,
    OUT path text,
    OUT filenode oid,
    OUT bytes bigint,
    OUT modified timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_remove_orphan_relation_files'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION gridflow.remove_orphan_relation_files() IS 'Remove the files gridflow.orphan_relation_files() lists, and return them. Superusers only; run it after a crash, once the server has recovered';

REVOKE EXECUTE ON FUNCTION gridflow.orphan_relation_files(), gridflow.remove_orphan_relation_files() FROM PUBLIC;

--
-- Logical dumps.  A dump holds the configuration and the history (batches
-- and builds); the layers are made again from the recorded batches by one
-- call, gridflow_rebuild() (the partitions builds make are members of the
-- extension, which pg_dump leaves out).  The configuration is dumped as one
-- document, kept up to date by triggers on the configuration tables and
-- written back into them when pg_restore inserts it: in one piece, whatever
-- order pg_restore -j restores tables in (their foreign keys would fail
-- rows restored before the rows they refer to), and with the edits and
-- deletions of the shipped utilities and units.
--
CREATE FUNCTION gridflow.configuration_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['unit', 'utility', 'source_file', 'column_map', 'channel', 'role_utility', 'shard', 'vee_rule', 'vee_estimation',
             'privacy_rule', 'privacy_setting', 'service_point_class'];
COMMENT ON FUNCTION gridflow.configuration_tables() IS 'The configuration tables of schema gridflow that gridflow.configuration_dump holds, each after the tables it refers to';

CREATE FUNCTION gridflow.configuration_document() RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 3
AS $$
DECLARE
    t text;
    rows jsonb;
    doc jsonb := '{}';
BEGIN
    FOREACH t IN ARRAY gridflow.configuration_tables() LOOP
        EXECUTE pg_catalog.format('SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) '
                                  'ORDER BY pg_catalog.to_jsonb(x)::text), ''[]'') FROM gridflow.%I x', t)
            INTO rows;
        doc := doc OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(t, rows);
    END LOOP;
    RETURN doc;
END
$$;
COMMENT ON FUNCTION gridflow.configuration_document() IS 'The whole configuration (every row of the tables gridflow.configuration_tables() lists, shipped ones included) as one jsonb document';

CREATE TABLE gridflow.configuration_dump (
    taken_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    document jsonb NOT NULL
);
COMMENT ON TABLE gridflow.configuration_dump IS 'The configuration as one document (one row), kept up to date by triggers on the configuration tables: what pg_dump dumps of the configuration; a row inserted by pg_restore (or by the owner) replaces the configuration with its document. Written by the owner of gridflow only';
COMMENT ON COLUMN gridflow.configuration_dump.taken_at IS 'When the configuration last changed';
COMMENT ON COLUMN gridflow.configuration_dump.document IS 'Every row of every configuration table, by table name (gridflow.configuration_document())';

CREATE FUNCTION gridflow.configuration_dump_refresh() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- one writer at a time, so that one row, the latest, remains
    LOCK TABLE gridflow.configuration_dump IN EXCLUSIVE MODE;
    DELETE FROM gridflow.configuration_dump;
    INSERT INTO gridflow.configuration_dump (document) VALUES (gridflow.configuration_document());
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION gridflow.configuration_dump_refresh() IS 'Trigger of the configuration tables: gridflow.configuration_dump holds the configuration as it is now';

CREATE FUNCTION gridflow.configuration_dump_apply() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tables text[] := gridflow.configuration_tables();
    t text;
    cols text;
BEGIN
    -- the document a refresh writes is the configuration already
    IF pg_catalog.pg_trigger_depth() OPERATOR(pg_catalog.>) 1 THEN
        RETURN NULL;
    END IF;
    FOR i IN REVERSE pg_catalog.array_upper(tables, 1)..1 LOOP
        EXECUTE pg_catalog.format('DELETE FROM gridflow.%I', tables[i]);
    END LOOP;
    FOREACH t IN ARRAY tables LOOP
        CONTINUE WHEN NOT NEW.document OPERATOR(pg_catalog.?) t;
        -- the columns the document has (a document of an older version may
        -- lack newer columns, which then take their defaults)
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
          INTO cols
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('gridflow.' OPERATOR(pg_catalog.||) t)
           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
           AND EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(NEW.document OPERATOR(pg_catalog.->) t) r
                        WHERE r OPERATOR(pg_catalog.?) a.attname::text);
        CONTINUE WHEN cols IS NULL;
        EXECUTE pg_catalog.format('INSERT INTO gridflow.%I (%s) SELECT %s FROM '
                                  'pg_catalog.jsonb_populate_recordset(NULL::gridflow.%I, $1)',
                                  t, cols, cols, t)
            USING NEW.document OPERATOR(pg_catalog.->) t;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION gridflow.configuration_dump_apply() IS 'Trigger of gridflow.configuration_dump: a document inserted (by pg_restore) replaces the rows of every configuration table with its own';

CREATE TRIGGER configuration_apply AFTER INSERT ON gridflow.configuration_dump
    FOR EACH ROW EXECUTE FUNCTION gridflow.configuration_dump_apply();
COMMENT ON TRIGGER configuration_apply ON gridflow.configuration_dump IS 'A document inserted from outside a trigger (pg_restore) replaces the configuration';
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY gridflow.configuration_tables() LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER configuration_dump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                                  'ON gridflow.%I FOR EACH STATEMENT '
                                  'EXECUTE FUNCTION gridflow.configuration_dump_refresh()', t);
        EXECUTE pg_catalog.format('COMMENT ON TRIGGER configuration_dump ON gridflow.%I IS %L', t,
                                  'Keeps gridflow.configuration_dump, what pg_dump dumps of the configuration, up to date');
    END LOOP;
END
$$;
INSERT INTO gridflow.configuration_dump (document) VALUES (gridflow.configuration_document());
REVOKE EXECUTE ON FUNCTION gridflow.configuration_document(), gridflow.configuration_dump_refresh(),
    gridflow.configuration_dump_apply() FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('gridflow.configuration_dump', '');
SELECT pg_catalog.pg_extension_config_dump('gridflow.batch', '');
SELECT pg_catalog.pg_extension_config_dump('gridflow.build', '');
SELECT pg_catalog.pg_extension_config_dump('gridflow.batch_batch_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('gridflow.build_build_id_seq', '');
