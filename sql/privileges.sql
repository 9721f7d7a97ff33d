-- Roles, row-level security per utility, and masking for external readers:
-- what each role may do, and attempts to read another utility's rows or an
-- unmasked address.  Every attempt must fail or return nothing.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\getenv testdir GRIDFLOW_TEST_DIR

-- The roles the extension made: plain NOLOGIN group roles.
SELECT rolname, rolcanlogin, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls
  FROM pg_roles WHERE rolname LIKE 'gridflow\_%' ORDER BY rolname;
-- What each may do: schemas, functions that read files, every relation
-- (r SELECT, a INSERT, w UPDATE, d DELETE, D TRUNCATE) and whether
-- row-level security filters it.
SELECT n.nspname AS schema,
       has_schema_privilege('gridflow_pipeline', n.oid, 'USAGE') AS pipeline,
       has_schema_privilege('gridflow_internal', n.oid, 'USAGE') AS internal,
       has_schema_privilege('gridflow_external', n.oid, 'USAGE') AS external,
       has_schema_privilege('public', n.oid, 'USAGE') AS public
  FROM pg_namespace n
 WHERE n.nspname IN ('gridflow', 'landing', 'standardized', 'product', 'experience', 'dq', 'external')
 ORDER BY 1;
SELECT p.oid::regprocedure AS function,
       has_function_privilege('gridflow_pipeline', p.oid, 'EXECUTE') AS pipeline,
       has_function_privilege('gridflow_internal', p.oid, 'EXECUTE') AS internal,
       has_function_privilege('gridflow_external', p.oid, 'EXECUTE') AS external,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p
 WHERE p.oid IN ('gridflow.read_csv'::regproc, 'gridflow.read_csv_header'::regproc, 'gridflow_build(text)'::regprocedure,
                 'gridflow_build()'::regprocedure)
 ORDER BY 1;
CREATE FUNCTION pg_temp.privs(role name, rel regclass) RETURNS text
LANGUAGE sql AS $$
SELECT concat(CASE WHEN has_table_privilege(role, rel, 'SELECT') THEN 'r' END,
              CASE WHEN has_table_privilege(role, rel, 'INSERT') THEN 'a' END,
              CASE WHEN has_table_privilege(role, rel, 'UPDATE') THEN 'w' END,
              CASE WHEN has_table_privilege(role, rel, 'DELETE') THEN 'd' END,
              CASE WHEN has_table_privilege(role, rel, 'TRUNCATE') THEN 'D' END)
$$;
SELECT c.oid::regclass AS relation,
       pg_temp.privs('gridflow_pipeline', c.oid) AS pipeline,
       pg_temp.privs('gridflow_internal', c.oid) AS internal,
       pg_temp.privs('gridflow_external', c.oid) AS external,
       pg_temp.privs('public', c.oid) AS public,
       CASE WHEN c.relkind = 'v' THEN
                CASE WHEN c.reloptions @> '{security_invoker=true}' THEN 'invoker' ELSE 'owner' END
            ELSE CASE WHEN c.relrowsecurity THEN 'rls' END END AS rows
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('gridflow', 'landing', 'standardized', 'product', 'experience', 'dq', 'external',
                     'gridflow_store', 'gridflow_next')
   AND c.relkind IN ('r', 'v', 'p') AND NOT c.relispartition
 ORDER BY n.nspname, c.relname;
-- The partitions builds create (per utility, per month) are read through
-- their table: nobody but their owner may read them directly.
SELECT c.oid::regclass AS partition,
       pg_temp.privs('gridflow_pipeline', c.oid) AS pipeline,
       pg_temp.privs('gridflow_internal', c.oid) AS internal,
       pg_temp.privs('gridflow_external', c.oid) AS external,
       pg_temp.privs('public', c.oid) AS public,
       pg_get_userbyid(c.relowner) = (SELECT pg_get_userbyid(extowner) FROM pg_extension WHERE extname = 'gridflow') AS owned_by_extension_owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'gridflow_store' AND c.relispartition AND c.relkind IN ('r', 'p')
 ORDER BY c.oid::regclass::text;

--
-- Builds: a pipeline member with pg_read_server_files.  The build runs as
-- the owner of the extension; the member itself writes nothing directly.
--
CREATE ROLE regress_builder IN ROLE gridflow_pipeline, pg_read_server_files;
SET ROLE regress_builder;
SELECT step, table_name, row_count FROM gridflow_build(:'testdir' || '/drops/messy')
 WHERE table_name IS NOT NULL;
SELECT built_by FROM gridflow.build ORDER BY build_id DESC LIMIT 1;
-- it reads every utility, landing included
SELECT utility_id, count(*) FROM product.usage_interval GROUP BY 1 ORDER BY 1;
SELECT count(*) AS landed FROM landing.source_record;
SELECT utility_id, stage, reason, target_column, records FROM dq.rejects ORDER BY 1, 2, 3, 4;
-- and writes nothing, changes no policy, grants nothing, maps no role
INSERT INTO product.usage_interval SELECT * FROM product.usage_interval LIMIT 1;
DELETE FROM standardized.service_point;
-- nor in the tables behind the views
INSERT INTO gridflow_store.usage_interval SELECT * FROM gridflow_store.usage_interval LIMIT 1;
DELETE FROM gridflow_store.service_point;
TRUNCATE gridflow_store.daily_usage;
ALTER TABLE gridflow_store.usage_interval DISABLE ROW LEVEL SECURITY;
DROP POLICY mapped_utility_rows ON gridflow_store.usage_interval;
GRANT SELECT ON gridflow_store.usage_interval TO PUBLIC;
GRANT SELECT ON product.usage_interval TO PUBLIC;
INSERT INTO gridflow.role_utility VALUES ('regress_builder', 'UTILITY1');
RESET ROLE;
SELECT has_table_privilege('public', 'product.usage_interval', 'SELECT') AS public_reads_product,
       has_table_privilege('public', 'gridflow_store.usage_interval', 'SELECT') AS public_reads_storage,
       (SELECT relrowsecurity FROM pg_class WHERE oid = 'gridflow_store.usage_interval'::regclass) AS rls_still_on;

--
-- Readers.  regress_u1 and regress_u2 are internal readers mapped to one
-- utility each, regress_ext1 an external reader mapped to UTILITY1,
-- regress_unmapped an internal reader mapped to nothing; regress_member
-- gets UTILITY2 through a group role.  A mapping of a role that does not
-- exist is harmless.
--
CREATE ROLE regress_u1 IN ROLE gridflow_internal;
CREATE ROLE regress_u2 IN ROLE gridflow_internal;
CREATE ROLE regress_ext1 IN ROLE gridflow_external;
CREATE ROLE regress_unmapped IN ROLE gridflow_internal;
CREATE ROLE regress_u2_group;
CREATE ROLE regress_member IN ROLE gridflow_internal, regress_u2_group;
INSERT INTO gridflow.role_utility VALUES
    ('regress_u1', 'UTILITY1'), ('regress_u2', 'UTILITY2'), ('regress_ext1', 'UTILITY1'),
    ('regress_u2_group', 'UTILITY2'), ('regress_no_such_role', 'UTILITY2');

-- Rows with a utility other than the reader's, in every relation it can
-- read that has a utility_id (the DQ rows with utility_id NULL are totals),
-- the tables behind the views included: internal readers may name them.
CREATE FUNCTION pg_temp.foreign_rows(mine text)
RETURNS TABLE (relation regclass, visible_rows bigint, other_utility_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r regclass;
BEGIN
    FOR r IN
        SELECT c.oid
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'utility_id'
         WHERE n.nspname IN ('gridflow', 'landing', 'standardized', 'product', 'experience', 'dq', 'external',
                             'gridflow_store')
           AND c.relkind IN ('r', 'v', 'p') AND has_table_privilege(c.oid, 'SELECT')
           AND c.relname NOT LIKE '%\_history'
           AND has_schema_privilege(n.oid, 'USAGE')
         ORDER BY n.nspname, c.relname
    LOOP
        relation := r;
        EXECUTE format('SELECT count(*), count(*) FILTER (WHERE utility_id <> %L) FROM %s', mine, r)
           INTO visible_rows, other_utility_rows;
        RETURN NEXT;
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.foreign_rows(text) TO PUBLIC;
-- the stored DQ history (its size depends on how many builds ran before):
-- how many tables the reader sees rows in, and rows of other utilities
CREATE FUNCTION pg_temp.foreign_history_rows(mine text)
RETURNS TABLE (tables_with_rows bigint, other_utility_rows bigint)
LANGUAGE sql AS $$
SELECT count(*) FILTER (WHERE f.visible_rows > 0), coalesce(sum(f.other_utility_rows), 0)::bigint
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL (SELECT (xpath('/row/v/text()', query_to_xml(format(
            'SELECT count(*) AS v FROM %s', c.oid::regclass), false, true, '')))[1]::text::bigint AS visible_rows,
                            (xpath('/row/v/text()', query_to_xml(format(
            'SELECT count(*) AS v FROM %s WHERE utility_id IS DISTINCT FROM %L', c.oid::regclass, mine),
            false, true, '')))[1]::text::bigint AS other_utility_rows) f
 WHERE n.nspname = 'dq' AND c.relname LIKE '%\_history' AND has_table_privilege(c.oid, 'SELECT')
$$;
GRANT EXECUTE ON FUNCTION pg_temp.foreign_history_rows(text) TO PUBLIC;

SET ROLE regress_u1;
SELECT * FROM pg_temp.foreign_rows('UTILITY1');
SELECT * FROM pg_temp.foreign_history_rows('UTILITY1');
-- the stored quartiles of all utilities together are not for it: its total
-- row is computed over the values it sees
SELECT count(*) AS all_utility_totals_seen FROM dq.value_total;
SELECT v.median_value = r.median AND v.q1 = r.q1 AND v.q3 = r.q3 AND v.reads = r.reads AS total_is_its_own
  FROM dq.value_profile v,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median,
               percentile_cont(0.25) WITHIN GROUP (ORDER BY value) AS q1,
               percentile_cont(0.75) WITHIN GROUP (ORDER BY value) AS q3, count(*) AS reads
          FROM standardized.interval_read) r
 WHERE v.is_total;
SELECT * FROM gridflow.role_utility;
SELECT line FROM dq.snapshot WHERE line LIKE '%UTILITY%' OR line LIKE '%Records%' ORDER BY line_no;
-- asking for the other utility's rows directly
SELECT count(*) FROM product.usage_interval WHERE utility_id = 'UTILITY2';
SELECT count(*) FROM standardized.service_point WHERE utility_id = 'UTILITY2';
-- with row security turned off
SET row_security = off;
SELECT count(*) FROM product.usage_interval;
RESET row_security;
-- through a function that would raise with what it sees (cheap, so the
-- planner would like to run it first), and through an error message
CREATE FUNCTION pg_temp.peek_u1(utility text, secret text) RETURNS boolean
LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
    IF utility <> 'UTILITY1' THEN
        RAISE EXCEPTION 'leaked % %', utility, secret;
    END IF;
    RETURN true;
END
$$;
SELECT count(*) FROM product.usage_interval WHERE pg_temp.peek_u1(utility_id, street);
SELECT count(*) FROM standardized.service_point WHERE pg_temp.peek_u1(utility_id, street);
SELECT count(*) FROM experience.daily_usage WHERE pg_temp.peek_u1(utility_id, service_point_id);
SELECT count(*) FROM product.usage_interval WHERE utility_id = 'UTILITY2' AND street::integer > 0;
-- through the histograms of the planner statistics of the tables holding
-- utilities' rows (the configuration tables hold none, and autovacuum may
-- analyze them at any moment)
SELECT count(*) AS stats_rows FROM pg_stats s
 WHERE s.schemaname IN ('gridflow', 'landing', 'standardized', 'product', 'experience', 'gridflow_store')
   AND EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = s.schemaname AND c.relname = s.tablename
                  AND (c.relrowsecurity OR c.relispartition));
-- through the landing tables, the build's defining views, the mapping
SELECT count(*) FROM landing.source_record;
SELECT count(*) FROM gridflow.product_source;
INSERT INTO gridflow.role_utility VALUES ('regress_u1', 'UTILITY2');
UPDATE gridflow.role_utility SET utility_id = 'UTILITY2';
RESET ROLE;
-- (those statistics exist: the build analyzed the tables)
SELECT count(DISTINCT s.schemaname || '.' || s.tablename) > 10 AS analyzed_tables FROM pg_stats s
  JOIN pg_namespace n ON n.nspname = s.schemaname
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename
 WHERE c.relrowsecurity OR c.relispartition;
-- even when granted, the defining view shows what row security allows
GRANT SELECT ON gridflow.product_source TO regress_u1;
SET ROLE regress_u1;
SELECT utility_id, count(*) FROM gridflow.product_source GROUP BY 1 ORDER BY 1;
RESET ROLE;
REVOKE SELECT ON gridflow.product_source FROM regress_u1;

SET ROLE regress_u2;
SELECT * FROM pg_temp.foreign_rows('UTILITY2');
SELECT * FROM pg_temp.foreign_history_rows('UTILITY2');
SELECT utility_id, stage, reason, records FROM dq.rejects ORDER BY 1, 2, 3;
RESET ROLE;
SET ROLE regress_member;
SELECT * FROM pg_temp.foreign_rows('UTILITY2') WHERE relation = 'product.usage_interval'::regclass;
RESET ROLE;
SET ROLE regress_unmapped;
SELECT * FROM pg_temp.foreign_rows('none') WHERE visible_rows > 0;
SELECT * FROM dq.readiness;
RESET ROLE;

-- The policies are calls of functions, with no subquery in them (Citus
-- refuses subqueries in the policies of its tables): what each role's
-- policies see is gridflow.caller_utilities(), the utilities mapped to the
-- roles whose privileges it has (through a group too; the mapping of a role
-- that does not exist maps nothing), and its own mappings only.
SELECT count(*) AS policies,
       count(*) FILTER (WHERE p.polqual::text ~ 'SUBLINK' OR coalesce(p.polwithcheck::text, '') ~ 'SUBLINK')
           AS with_subquery,
       count(*) FILTER (WHERE pg_get_expr(p.polqual, p.polrelid) ~ 'caller_utilities\(\)|caller_has_privileges_of\(')
           AS calling_functions
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('gridflow', 'gridflow_store', 'landing', 'standardized', 'product', 'experience', 'dq')
   AND p.polname IN ('mapped_utility_rows', 'own_mappings');
SET ROLE regress_u1;
SELECT gridflow.caller_utilities() AS utilities, array_agg(role_name || ':' || utility_id) AS mappings_seen
  FROM gridflow.role_utility;
SET ROLE regress_u2;
SELECT gridflow.caller_utilities() AS utilities, array_agg(role_name || ':' || utility_id) AS mappings_seen
  FROM gridflow.role_utility;
SET ROLE regress_member;
SELECT gridflow.caller_utilities() AS utilities, array_agg(role_name || ':' || utility_id) AS mappings_seen
  FROM gridflow.role_utility;
SET ROLE regress_unmapped;
SELECT gridflow.caller_utilities() AS utilities, array_agg(role_name || ':' || utility_id) AS mappings_seen
  FROM gridflow.role_utility;
RESET ROLE;
-- a role sees what its policies let it see, never more, whatever it does:
-- a cursor opened by regress_u1 and fetched as regress_u2 shows no row of
-- regress_u1's utility (the utilities are asked for again when the role
-- changes), parallel workers apply the same policies
BEGIN;
SET LOCAL ROLE regress_u1;
DECLARE c CURSOR FOR SELECT utility_id FROM product.usage_interval;
FETCH 1 FROM c;
SET LOCAL ROLE regress_u2;
CREATE TEMP TABLE fetched_as_u2 (utility_id text);
DO $$
DECLARE
    cur refcursor := 'c';
    u text;
BEGIN
    LOOP
        FETCH cur INTO u;
        EXIT WHEN NOT FOUND;
        INSERT INTO fetched_as_u2 VALUES (u);
    END LOOP;
END
$$;
SELECT count(*) AS rows_fetched, count(*) FILTER (WHERE utility_id <> 'UTILITY2') AS rows_not_of_u2
  FROM fetched_as_u2;
ROLLBACK;
-- (as regress_u1 all along, the same cursor goes on with UTILITY1's rows)
BEGIN;
SET LOCAL ROLE regress_u1;
DECLARE c CURSOR FOR SELECT utility_id FROM product.usage_interval;
FETCH 1 FROM c;
CREATE TEMP TABLE fetched_as_u1 (utility_id text);
DO $$
DECLARE
    cur refcursor := 'c';
    u text;
BEGIN
    LOOP
        FETCH cur INTO u;
        EXIT WHEN NOT FOUND;
        INSERT INTO fetched_as_u1 VALUES (u);
    END LOOP;
END
$$;
SELECT count(*) > 0 AS more_rows, count(*) FILTER (WHERE utility_id <> 'UTILITY1') AS rows_not_of_u1
  FROM fetched_as_u1;
ROLLBACK;
SET ROLE regress_u1;
CREATE TEMP TABLE serial_counts AS
SELECT utility_id, count(*) AS n FROM gridflow_store.usage_interval GROUP BY 1;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
CREATE FUNCTION pg_temp.explain_analyze(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query;
END $$;
SELECT bool_or(l ~ 'Workers Launched: [1-9]') AS workers_ran
  FROM pg_temp.explain_analyze($$CREATE TEMP TABLE parallel_counts AS
                                 SELECT utility_id, count(*) AS n FROM gridflow_store.usage_interval GROUP BY 1$$) l;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT s.utility_id, s.n > 0 AS has_rows, s.n = p.n AS parallel_same
  FROM serial_counts s FULL JOIN parallel_counts p USING (utility_id) ORDER BY 1;
DROP TABLE serial_counts, parallel_counts;
RESET ROLE;

--
-- The external reader: masked views of its utility, nothing else.
--
SET ROLE regress_ext1;
SELECT * FROM pg_temp.foreign_rows('UTILITY1');
-- identifiers are pseudonyms (a keyed hash: random per database, so only
-- their shape is shown here; they are checked against the key below)
SELECT utility_id, service_point_id ~ '^sp_[0-9a-f]{24}$' AS sp_pseudonym,
       service_point_number ~ '^spnum_[0-9a-f]{24}$' AS number_pseudonym,
       house_num, street, house_supp, city, zip3, state
  FROM external.service_point ORDER BY city;
SELECT count(*) AS reads, count(house_num) AS house_nums, count(street) AS streets,
       count(house_supp) AS house_supps, count(zip3) AS zip3s, max(length(zip3)) AS zip_digits,
       bool_and(service_point_id ~ '^sp_[0-9a-f]{24}$') AS sp_pseudonyms,
       bool_and(meter_id ~ '^meter_[0-9a-f]{24}$') AS meter_pseudonyms
  FROM external.usage_interval;
-- the pseudonyms join: each day's service point is a service point
SELECT count(*) AS days, count(s.service_point_id) AS joined
  FROM external.daily_usage d LEFT JOIN external.service_point s USING (utility_id, service_point_id);
-- the key is not the reader's
SELECT * FROM gridflow.pseudonym_key;
SELECT gridflow.pseudonym(NULL, 'sp', 'UTILITY1', 'SP-00000001') AS without_key;
-- through the tables and views with the raw columns
SELECT street FROM product.usage_interval;
SELECT street FROM standardized.service_point;
SELECT record FROM landing.source_record;
SELECT * FROM dq.conflicting_service_points;
SELECT * FROM gridflow.product_source;
-- through functions
SELECT * FROM gridflow.read_csv(:'testdir' || '/drops/messy/utility2/utility2_service_points.csv');
SELECT * FROM gridflow_build();
-- through the statistics of the base tables or of the views
SELECT count(*) AS stats_rows FROM pg_stats
 WHERE schemaname IN ('gridflow', 'landing', 'standardized', 'product', 'experience', 'external', 'gridflow_store');
SELECT count(*) FROM pg_statistic;
-- through functions that see the rows of the views, and error messages
CREATE FUNCTION pg_temp.peek_ext1(utility text, secret text) RETURNS boolean
LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
    IF utility <> 'UTILITY1' OR length(secret) > 3 THEN
        RAISE EXCEPTION 'leaked % %', utility, secret;
    END IF;
    RETURN true;
END
$$;
SELECT count(*) FROM external.usage_interval WHERE pg_temp.peek_ext1(utility_id, coalesce(street, zip3));
SELECT count(*) FROM external.service_point WHERE pg_temp.peek_ext1(utility_id, coalesce(street, zip3));
SELECT count(*) FROM external.daily_usage WHERE pg_temp.peek_ext1(utility_id, '');
SELECT count(*) FROM external.service_point WHERE utility_id = 'UTILITY2' AND (zip3 || 'x')::integer > 0;
RESET ROLE;
-- what the masks hide (the superuser's view of the same service points):
-- each pseudonym is the keyed hash of its utility and identifier, and no
-- identifier of the utility's shows through
SELECT s.utility_id, s.service_point_id, s.house_num, s.street, s.house_supp, s.zip,
       e.service_point_id = gridflow.pseudonym(k.key, 'sp', s.utility_id, s.service_point_id) AS keyed_hash
  FROM standardized.service_point s
  JOIN external.service_point e ON e.utility_id = s.utility_id AND e.city = s.city
 CROSS JOIN gridflow.pseudonym_key k
 WHERE s.utility_id = 'UTILITY1' ORDER BY 1, 2;
SELECT count(*) AS utility_ids_shown
  FROM (SELECT service_point_id AS id FROM external.usage_interval
        UNION ALL SELECT meter_id FROM external.usage_interval
        UNION ALL SELECT service_point_number FROM external.service_point) e
 WHERE e.id IN (SELECT service_point_id FROM standardized.service_point
                UNION ALL SELECT meter_id FROM standardized.meter
                UNION ALL SELECT service_point_number FROM standardized.service_point);
-- the statistics the readers could not see exist
SELECT count(*) > 0 AS stats_exist FROM pg_stats
 WHERE schemaname = 'gridflow_store' AND tablename LIKE 'usage\_interval%' AND attname IN ('street', 'zip');

DELETE FROM gridflow.role_utility WHERE role_name LIKE 'regress\_%';
DROP OWNED BY regress_builder, regress_u1, regress_u2, regress_ext1, regress_unmapped, regress_member;
DROP ROLE regress_builder, regress_u1, regress_u2, regress_ext1, regress_unmapped, regress_member, regress_u2_group;

--
-- A second database reuses the roles; a role of the same name that can log
-- in (made to receive gridflow's grants) is refused; DROP EXTENSION leaves
-- the roles to the other databases.
--
\set regress_db :DBNAME
CREATE DATABASE regress_gridflow_second TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
\c regress_gridflow_second
ALTER ROLE gridflow_external LOGIN;
\set VERBOSITY terse
CREATE EXTENSION gridflow;
\set VERBOSITY default
ALTER ROLE gridflow_external NOLOGIN;
CREATE EXTENSION gridflow;
SELECT count(*) AS policies FROM pg_policies WHERE 'gridflow_pipeline' = ANY (roles);
DROP EXTENSION gridflow;
SELECT rolname FROM pg_roles WHERE rolname LIKE 'gridflow\_%' ORDER BY 1;
\c :regress_db
DROP DATABASE regress_gridflow_second;
SELECT count(*) AS policies FROM pg_policies WHERE 'gridflow_pipeline' = ANY (roles);
