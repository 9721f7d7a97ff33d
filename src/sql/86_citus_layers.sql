--
-- Citus: the layers of reads distributed (docs/distributed.md, "The same
-- tables on Citus").  gridflow_citus_setup() (85_citus.sql) calls
-- gridflow.citus_setup_layers() once the configuration is made of
-- reference tables: the tables of reads, products, days and months get a
-- copy in schema gridflow_citus, one partition level (RANGE by month,
-- which Citus accepts, where the single-node storage has two) distributed
-- on service_point_id and co-located; the dimensions (service points,
-- meters, assignments) a copy as reference tables, on every node, so that
-- a layer joined to them runs on the workers; the views read them.
-- Builds and rebuilds still read, de-duplicate and compute every layer on
-- the coordinator, with the same code as on one server, in new local
-- partitions; before those would be swapped in, gridflow.citus_load_layer()
-- moves their rows into the distributed tables (Citus sends them to the
-- workers with COPY) and the local partitions are swapped in empty.
--
-- Citus cannot store a NULL distribution column: a read without a
-- service point (its meter unknown) is stored with service_point_id ''
-- (which no read has: an empty key is NULL), and the views of schema
-- gridflow_citus_layer show it as NULL again (days and months always have
-- one: their views pass it as it is, so that a condition on it is routed
-- to one worker).
--
CREATE FUNCTION gridflow.citus_layer_tables(OUT table_name text, OUT month_column text, OUT key_columns text,
                                             OUT lookup_columns text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES ('interval_read', 'interval_start_ts', 'service_point_id, interval_start_ts, utility_id, meter_id, channel', NULL),
           ('usage_interval', 'interval_start_ts', 'service_point_id, interval_start_ts, utility_id, meter_id, channel',
            'meter_id, interval_start_ts'),
           ('daily_usage', 'local_date', 'service_point_id, local_date, utility_id, channel',
            'local_date, channel, peak_usage_value DESC, service_point_id'),
           ('monthly_usage', 'month_start', 'service_point_id, month_start, utility_id, channel', NULL),
           ('service_point', NULL, 'utility_id, service_point_id', NULL),
           ('meter', NULL, 'utility_id, meter_id', NULL),
           ('meter_assignment', NULL, 'utility_id, batch_id, line_no', 'utility_id, meter_id')
$$;
COMMENT ON FUNCTION gridflow.citus_layer_tables() IS 'The tables of gridflow_store that gridflow_citus_setup() gives to Citus (in schema gridflow_citus, the same names): the layers of reads distributed on service_point_id, each with the column its months partition; the dimensions (month_column NULL) reference tables; each with its key and the index of look-ups';

CREATE FUNCTION gridflow.citus_layers()
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.to_regclass('gridflow_citus.interval_read') IS NOT NULL;
COMMENT ON FUNCTION gridflow.citus_layers() IS 'Are the layers of reads distributed with Citus (has gridflow_citus_setup() run)?';

--
-- A month partition of a distributed table for every month that the rows
-- of staged (a partition of a build, by month or not) may hold.
--
CREATE FUNCTION gridflow.citus_months(target regclass, month_column text, staged regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    zone text := (SELECT l.time_zone FROM gridflow_citus.layout l);
    is_date boolean;
    lo timestamptz;
    hi timestamptz;
    m timestamp;
    made integer := 0;
    part text;
    b record;
BEGIN
    SELECT a.atttypid OPERATOR(pg_catalog.=) 'pg_catalog.date'::pg_catalog.regtype INTO is_date
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) target AND a.attname OPERATOR(pg_catalog.=) month_column;
    -- the bounds of staged's months when it has some (no rows read), else its rows'
    FOR b IN
        SELECT pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                       '^FOR VALUES FROM \(''([^'']*)''\) TO \(''([^'']*)''\)$') AS fromto
          FROM pg_catalog.pg_partition_tree(staged) t
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid
         WHERE t.isleaf AND t.level OPERATOR(pg_catalog.>) 0
    LOOP
        IF b.fromto IS NULL THEN
            RAISE EXCEPTION 'gridflow: a partition of % is not a range of months', staged;
        END IF;
        IF is_date THEN
            lo := LEAST(lo, pg_catalog.timezone(zone, b.fromto[1]::date::timestamp));
            hi := GREATEST(hi, pg_catalog.timezone(zone, b.fromto[2]::date::timestamp));
        ELSE
            lo := LEAST(lo, b.fromto[1]::timestamptz);
            hi := GREATEST(hi, b.fromto[2]::timestamptz);
        END IF;
    END LOOP;
    IF lo IS NULL AND NOT EXISTS (SELECT FROM pg_catalog.pg_partition_tree(staged) t WHERE t.level OPERATOR(pg_catalog.>) 0) THEN
        IF is_date THEN
            EXECUTE pg_catalog.format('SELECT pg_catalog.timezone(%L, pg_catalog.min(%I)::timestamp), '
                                      'pg_catalog.timezone(%L, pg_catalog.max(%I)::timestamp) FROM %s',
                                      zone, month_column, zone, month_column, staged)
               INTO lo, hi;
        ELSE
            EXECUTE pg_catalog.format('SELECT pg_catalog.min(%I), pg_catalog.max(%I) FROM %s',
                                      month_column, month_column, staged)
               INTO lo, hi;
        END IF;
        hi := hi OPERATOR(pg_catalog.+) '1 microsecond'::interval;
    END IF;
    IF lo IS NULL THEN
        RETURN 0;
    END IF;
    m := pg_catalog.date_trunc('month', pg_catalog.timezone(zone, lo));
    WHILE pg_catalog.timezone(zone, m) OPERATOR(pg_catalog.<) hi LOOP
        part := pg_catalog.format('%s_%s', (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) target),
                                  pg_catalog.to_char(m, 'YYYYMM'));
        IF pg_catalog.to_regclass(pg_catalog.format('gridflow_citus.%I', part)) IS NULL THEN
            -- made apart and attached, which takes SHARE UPDATE EXCLUSIVE on
            -- the table (CREATE TABLE ... PARTITION OF takes ACCESS
            -- EXCLUSIVE, and readers would wait until the build commits)
            EXECUTE pg_catalog.format('CREATE TABLE gridflow_citus.%I (LIKE %s INCLUDING ALL)', part, target);
            IF is_date THEN
                EXECUTE pg_catalog.format('ALTER TABLE %s ATTACH PARTITION gridflow_citus.%I FOR VALUES FROM (%L) TO (%L)',
                                          target, part, m::date, (m OPERATOR(pg_catalog.+) '1 month'::interval)::date);
            ELSE
                EXECUTE pg_catalog.format('ALTER TABLE %s ATTACH PARTITION gridflow_citus.%I FOR VALUES FROM (%L) TO (%L)',
                                          target, part, pg_catalog.timezone(zone, m),
                                          pg_catalog.timezone(zone, m OPERATOR(pg_catalog.+) '1 month'::interval));
            END IF;
            made := made OPERATOR(pg_catalog.+) 1;
        END IF;
        m := m OPERATOR(pg_catalog.+) '1 month'::interval;
    END LOOP;
    RETURN made;
END
$$;
COMMENT ON FUNCTION gridflow.citus_months(regclass, text, regclass) IS 'Creates the month partitions (months of gridflow_citus.layout''s time zone) of a distributed table of gridflow_citus that the rows of staged need; returns how many it made. Builds call it';
REVOKE EXECUTE ON FUNCTION gridflow.citus_months(regclass, text, regclass) FROM PUBLIC;

--
-- The rows of staged (a utility's partition of gridflow_store.<table_name>,
-- made by a build) into gridflow_citus.<table_name>; staged is emptied.
--
CREATE FUNCTION gridflow.citus_load_layer(table_name text, staged regclass)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    layer record;
    target regclass;
    cols text;
    vals text;
    moved bigint;
BEGIN
    SELECT * INTO layer FROM gridflow.citus_layer_tables() l WHERE l.table_name OPERATOR(pg_catalog.=) citus_load_layer.table_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'gridflow: % is not a distributed layer', table_name;
    END IF;
    target := pg_catalog.format('gridflow_citus.%I', table_name)::pg_catalog.regclass;
    IF layer.month_column IS NOT NULL THEN
        PERFORM gridflow.citus_months(target, layer.month_column, staged);
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum),
           pg_catalog.string_agg(CASE WHEN a.attname OPERATOR(pg_catalog.=) 'service_point_id'
                                       AND layer.month_column IS NOT NULL
                                      THEN 'COALESCE(service_point_id, '''')'
                                      ELSE pg_catalog.quote_ident(a.attname) END, ', ' ORDER BY a.attnum)
      INTO cols, vals
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) target AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    EXECUTE pg_catalog.format('INSERT INTO %s (%s) SELECT %s FROM %s', target, cols, vals, staged);
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE pg_catalog.format('TRUNCATE %s', staged);
    RETURN moved;
END
$$;
COMMENT ON FUNCTION gridflow.citus_load_layer(text, regclass) IS 'Moves the rows of a partition a build made (staged) into the distributed table gridflow_citus.<table_name>, making the months it needs (a read without a service point gets service_point_id ''''), and empties staged; returns the rows moved. Builds call it';
REVOKE EXECUTE ON FUNCTION gridflow.citus_load_layer(text, regclass) FROM PUBLIC;

--
-- The distributed rows of utilities (or, with every_utility, all) out
-- before a build loads its own.  Rows are deleted, not truncated: readers
-- go on reading the previous build until the build commits.
--
CREATE FUNCTION gridflow.citus_clear_layers(utilities text[], every_utility boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT l.table_name FROM gridflow.citus_layer_tables() l LOOP
        IF every_utility THEN
            EXECUTE pg_catalog.format('DELETE FROM gridflow_citus.%I', t);
        ELSE
            EXECUTE pg_catalog.format('DELETE FROM gridflow_citus.%I WHERE utility_id OPERATOR(pg_catalog.=) ANY ($1)', t)
              USING utilities;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION gridflow.citus_clear_layers(text[], boolean) IS 'Deletes the rows of utilities (every row with every_utility) from the distributed layers, before a build loads its own. Builds call it';
REVOKE EXECUTE ON FUNCTION gridflow.citus_clear_layers(text[], boolean) FROM PUBLIC;

--
-- The layers distributed: called by gridflow_citus_setup() on the
-- coordinator, with the configuration already made of reference tables.
--
CREATE FUNCTION gridflow.citus_setup_layers(OUT table_name text, OUT action text)
RETURNS SETOF record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    layer record;
    t text;
    first text;
    v record;
    def text;
    opts text;
    zones text[];
    u record;
    col record;
    res record;
    stmt text;
    changed boolean;
    worker_views text := '';
    green_button_reads text := $gb$
CREATE OR REPLACE FUNCTION gridflow.green_button_reads(utility_id text, service_point_id text, lo timestamptz, hi timestamptz)
RETURNS TABLE (meter_id text, channel text, unit text, interval_start_ts timestamptz, duration_seconds integer,
               local_date date, value double precision, quality_code smallint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN QUERY
    SELECT p.meter_id, p.channel, p.unit, p.interval_start_ts, p.duration_seconds, p.local_date, p.value, p.quality_code
      FROM product.usage_interval p
     WHERE p.service_point_id OPERATOR(pg_catalog.=) green_button_reads.service_point_id
       AND p.utility_id OPERATOR(pg_catalog.=) green_button_reads.utility_id
       AND p.interval_start_ts OPERATOR(pg_catalog.>=) green_button_reads.lo
       AND p.interval_start_ts OPERATOR(pg_catalog.<) green_button_reads.hi;
END
$body$
$gb$;
BEGIN
    -- made once; what follows (the rows moved, the views pointed at them) is
    -- done again by every run, as after an update that made the views anew
    IF gridflow.citus_layers() THEN
        FOR layer IN SELECT * FROM gridflow.citus_layer_tables() LOOP
            table_name := 'gridflow_citus.' OPERATOR(pg_catalog.||) layer.table_name;
            action := CASE WHEN layer.month_column IS NULL THEN 'already a reference table' ELSE 'already distributed' END;
            RETURN NEXT;
        END LOOP;
    ELSE
        CREATE SCHEMA gridflow_citus;
        COMMENT ON SCHEMA gridflow_citus IS 'gridflow on Citus: the layers of reads, products, days and months as distributed tables (on service_point_id, co-located, by month), read through the views of the layers; made by gridflow_citus_setup() (machinery: read the views)';
        CREATE SCHEMA gridflow_citus_layer;
        COMMENT ON SCHEMA gridflow_citus_layer IS 'gridflow on Citus: the distributed tables of gridflow_citus as the views of the layers read them (a read without a service point, stored with service_point_id '''', shown with NULL)';
        GRANT USAGE ON SCHEMA gridflow_citus, gridflow_citus_layer TO gridflow_pipeline, gridflow_internal;

        -- the months of one time zone: the utilities', when they share one
        SELECT pg_catalog.array_agg(DISTINCT x.time_zone) INTO zones FROM gridflow.utility x;
        CREATE TABLE gridflow_citus.layout (time_zone text NOT NULL);
        INSERT INTO gridflow_citus.layout
        VALUES (CASE WHEN pg_catalog.cardinality(zones) OPERATOR(pg_catalog.=) 1 THEN zones[1] ELSE 'UTC' END);
        COMMENT ON TABLE gridflow_citus.layout IS 'The time zone whose months partition the distributed layers (the utilities'' when they shared one at setup, else UTC); on the coordinator only';
        COMMENT ON COLUMN gridflow_citus.layout.time_zone IS 'Time zone of the months';

        FOR layer IN SELECT * FROM gridflow.citus_layer_tables() LOOP
            t := pg_catalog.format('gridflow_citus.%I', layer.table_name);
            IF layer.month_column IS NULL THEN
                EXECUTE pg_catalog.format('CREATE TABLE %s (LIKE gridflow_store.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                                          t, layer.table_name);
            ELSE
                EXECUTE pg_catalog.format('CREATE TABLE %s (LIKE gridflow_store.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
                                          'PARTITION BY RANGE (%I)', t, layer.table_name, layer.month_column);
                EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN service_point_id SET NOT NULL', t);
            END IF;
            EXECUTE pg_catalog.format('CREATE UNIQUE INDEX %I ON %s (%s)', layer.table_name OPERATOR(pg_catalog.||) '_key', t,
                                      layer.key_columns);
            IF layer.lookup_columns IS NOT NULL THEN
                EXECUTE pg_catalog.format('CREATE INDEX %I ON %s (%s)', layer.table_name OPERATOR(pg_catalog.||) '_lookup', t,
                                          layer.lookup_columns);
            END IF;
            EXECUTE pg_catalog.format('COMMENT ON TABLE %s IS %L', t,
                                      CASE WHEN layer.month_column IS NULL
                                      THEN pg_catalog.format('Storage of %s on Citus, a reference table (a copy on every node; grain '
                                                             'and columns as gridflow_store.%s, whose rows builds move here)',
                                                             (SELECT x.layer_view FROM (VALUES ('service_point', 'standardized.service_point'),
                                                                                         ('meter', 'standardized.meter'),
                                                                                         ('meter_assignment', 'standardized.meter_assignment')) x(t, layer_view)
                                                               WHERE x.t OPERATOR(pg_catalog.=) layer.table_name),
                                                             layer.table_name)
                                      ELSE pg_catalog.format('Distributed storage of %s on Citus (grain and columns as gridflow_store.%s, '
                                                             'whose rows builds move here), partitioned by month of %s, distributed on '
                                                             'service_point_id and co-located with gridflow_citus.interval_read; a read '
                                                             'without a service point has service_point_id ''''',
                                                             (SELECT x.layer_view FROM (VALUES ('interval_read', 'standardized.interval_read'),
                                                                                         ('usage_interval', 'product.usage_interval'),
                                                                                         ('daily_usage', 'experience.daily_usage'),
                                                                                         ('monthly_usage', 'experience.monthly_usage')) x(t, layer_view)
                                                               WHERE x.t OPERATOR(pg_catalog.=) layer.table_name),
                                                             layer.table_name, layer.month_column) END);
            FOR col IN
                SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS d
                  FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.format('gridflow_store.%I', layer.table_name)::pg_catalog.regclass
                   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
            LOOP
                EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', t, col.attname,
                                          CASE WHEN col.attname OPERATOR(pg_catalog.=) 'service_point_id'
                                                AND layer.month_column IS NOT NULL
                                               THEN col.d OPERATOR(pg_catalog.||) ' ('''' for none: the distribution column)'
                                               ELSE col.d END);
            END LOOP;
            IF layer.month_column IS NULL THEN
                PERFORM pg_catalog.create_reference_table(t::pg_catalog.regclass);
            ELSIF first IS NULL THEN
                PERFORM pg_catalog.create_distributed_table(t::pg_catalog.regclass, 'service_point_id');
                first := t;
            ELSE
                PERFORM pg_catalog.create_distributed_table(t::pg_catalog.regclass, 'service_point_id', colocate_with => first);
            END IF;
            -- who reads it, and which rows (the policies of the storage, 65_layer_privileges.sql)
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO gridflow_pipeline, gridflow_internal', t);
            EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
            EXECUTE pg_catalog.format('CREATE POLICY pipeline_all_rows ON %s FOR SELECT TO gridflow_pipeline USING (true)', t);
            EXECUTE pg_catalog.format('COMMENT ON POLICY pipeline_all_rows ON %s IS %L', t,
                                      'gridflow_pipeline sees the rows of every utility');
            EXECUTE pg_catalog.format('CREATE POLICY mapped_utility_rows ON %s FOR SELECT TO PUBLIC USING ('
                                      'utility_id OPERATOR(pg_catalog.=) ANY (gridflow.caller_utilities()))', t);
            EXECUTE pg_catalog.format('COMMENT ON POLICY mapped_utility_rows ON %s IS %L', t,
                                      'A role sees the rows of the utilities mapped to it in gridflow.role_utility');

            -- the same rows as the storage, a read without a service point with NULL
            EXECUTE pg_catalog.format('CREATE VIEW gridflow_citus_layer.%I WITH (security_invoker = true) AS SELECT %s FROM %s',
                                      layer.table_name,
                                      (SELECT pg_catalog.string_agg(CASE WHEN a.attname OPERATOR(pg_catalog.=) 'service_point_id'
                                                                              AND NOT s.attnotnull
                                                                              AND layer.month_column IS NOT NULL
                                                                         THEN 'NULLIF(service_point_id, '''') AS service_point_id'
                                                                         ELSE pg_catalog.quote_ident(a.attname) END, ', ' ORDER BY a.attnum)
                                         FROM pg_catalog.pg_attribute a
                                         JOIN pg_catalog.pg_attribute s
                                           ON s.attrelid OPERATOR(pg_catalog.=) pg_catalog.format('gridflow_store.%I', layer.table_name)::pg_catalog.regclass
                                          AND s.attname OPERATOR(pg_catalog.=) a.attname
                                        WHERE a.attrelid OPERATOR(pg_catalog.=) t::pg_catalog.regclass
                                          AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped),
                                      t);
            EXECUTE pg_catalog.format('COMMENT ON VIEW gridflow_citus_layer.%I IS %L', layer.table_name,
                                      pg_catalog.format('The rows of %s with the columns of gridflow_store.%s (service_point_id NULL for none), '
                                                        'which the views of the layers read on Citus', t, layer.table_name));
            EXECUTE pg_catalog.format('GRANT SELECT ON gridflow_citus_layer.%I TO gridflow_pipeline, gridflow_internal', layer.table_name);
            table_name := t;
            action := CASE WHEN layer.month_column IS NULL THEN 'made a reference table' ELSE 'made a distributed table' END;
            RETURN NEXT;
        END LOOP;
    END IF;

    -- the rows of the last build, moved (each utility's partition emptied)
    FOR layer IN SELECT * FROM gridflow.citus_layer_tables() LOOP
        FOR u IN
            SELECT i.inhrelid::pg_catalog.regclass AS part
              FROM pg_catalog.pg_inherits i
             WHERE i.inhparent OPERATOR(pg_catalog.=) pg_catalog.format('gridflow_store.%I', layer.table_name)::pg_catalog.regclass
        LOOP
            PERFORM gridflow.citus_load_layer(layer.table_name, u.part);
        END LOOP;
    END LOOP;

    -- A Green Button export's reads: Citus plans no SQL function over its
    -- tables called with parameters (an error, or within a materialized
    -- CTE no rows at all), so gridflow.green_button_reads(), an SQL
    -- function on one server for its plan, becomes a PL/pgSQL one, here
    -- and on the workers.
    IF (SELECT l.lanname FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) f.prolang
         WHERE f.oid OPERATOR(pg_catalog.=) 'gridflow.green_button_reads(text, text, timestamptz, timestamptz)'::pg_catalog.regprocedure)
       OPERATOR(pg_catalog.=) 'sql' THEN
        EXECUTE green_button_reads;
        table_name := 'gridflow.green_button_reads(text, text, timestamptz, timestamptz)';
        action := 'made PL/pgSQL';
        RETURN NEXT;
    END IF;
    worker_views := green_button_reads OPERATOR(pg_catalog.||) '; ';

    -- Every view over the storage of these tables reads the Citus ones
    -- (those that still read the storage are made again here), and so do
    -- the workers' views, each made as the coordinator's now is (Citus made
    -- gridflow_citus_layer there; the extension's views it leaves as the
    -- extension made them), so that a reader on a worker reads the same rows.
    FOR v IN
        SELECT DISTINCT r.ev_class::pg_catalog.regclass AS view, c.reloptions
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_rewrite r ON r.oid OPERATOR(pg_catalog.=) d.objid
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.refobjid OPERATOR(pg_catalog.=) ANY (SELECT pg_catalog.format('%s.%I', n, l.table_name)::pg_catalog.regclass
                                                        FROM gridflow.citus_layer_tables() l,
                                                             pg_catalog.unnest(ARRAY['gridflow_store', 'gridflow_citus_layer']) n)
           AND c.relnamespace OPERATOR(pg_catalog.<>) 'gridflow_citus_layer'::pg_catalog.regnamespace
         ORDER BY 1
    LOOP
        opts := pg_catalog.array_to_string(v.reloptions, ', ');
        def := pg_catalog.pg_get_viewdef(v.view);
        stmt := pg_catalog.regexp_replace(def,
                    '\mgridflow_store\.(interval_read|usage_interval|daily_usage|monthly_usage|service_point|meter|meter_assignment)\M',
                    'gridflow_citus_layer.\1', 'g');
        changed := stmt OPERATOR(pg_catalog.<>) def;
        stmt := pg_catalog.format('CREATE OR REPLACE VIEW %s %s AS %s', v.view,
                                  CASE WHEN opts IS NULL THEN '' ELSE 'WITH (' OPERATOR(pg_catalog.||) opts OPERATOR(pg_catalog.||) ')' END,
                                  stmt);
        IF changed THEN
            EXECUTE stmt;
            table_name := v.view::pg_catalog.text;
            action := 'reads the distributed tables';
            RETURN NEXT;
        END IF;
        worker_views := worker_views OPERATOR(pg_catalog.||) stmt OPERATOR(pg_catalog.||) ' ';
    END LOOP;
    -- (a view over Citus' objects is made from the coordinator, unless
    -- Citus is told not to propagate it: these are the node's own)
    FOR res IN SELECT * FROM pg_catalog.run_command_on_workers('SET LOCAL citus.enable_ddl_propagation = off; '
                                                                OPERATOR(pg_catalog.||) worker_views) LOOP
        IF NOT res.success THEN
            RAISE EXCEPTION 'could not make the views of the layers on worker %:% read the distributed tables: %',
                            res.nodename, res.nodeport, res.result
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Fix the worker, then run gridflow_citus_setup() again.';
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION gridflow.citus_setup_layers() IS 'The layers of reads, products, days and months distributed with Citus (schema gridflow_citus), their rows moved there, and the views over them made to read them; called by gridflow_citus_setup()';
REVOKE EXECUTE ON FUNCTION gridflow.citus_setup_layers() FROM PUBLIC;
