-- The upgrade path: installing the first release and updating it gives the
-- same extension as installing the current version.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS gridflow CASCADE;
RESET client_min_messages;

-- Everything that defines the extension, one text row per fact (its body
-- refers to tables that do not exist yet).
SET check_function_bodies = off;
CREATE FUNCTION pg_temp.signature() RETURNS SETOF text
LANGUAGE sql AS $$
WITH members AS (
    -- the partitions builds make are members too, but data, not definition
    SELECT d.classid, d.objid
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'gridflow' AND d.deptype = 'e'
       AND NOT EXISTS (SELECT FROM pg_class p
                        WHERE d.classid = 'pg_class'::regclass AND p.oid = d.objid AND p.relispartition)
), rels AS (
    SELECT c.* FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
)
SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
UNION ALL
SELECT 'comment ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
  FROM pg_description d JOIN members m ON m.classid = d.classoid AND m.objid = d.objoid
UNION ALL
SELECT 'column ' || c.oid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
       || ' #' || a.attnum
  FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
UNION ALL
SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text || ' persistence ' || c.relpersistence::text
       || ' rls ' || c.relrowsecurity::text || '/' || c.relforcerowsecurity::text
       || ' acl ' || coalesce(c.relacl::text, '-') || ' options ' || coalesce(c.reloptions::text, '-')
  FROM rels c
UNION ALL
SELECT 'constraint ' || con.conrelid::regclass || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN rels c ON c.oid = con.conrelid
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN rels c ON c.oid = i.indrelid
UNION ALL
SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid) FROM rels c WHERE c.relkind IN ('v', 'm')
UNION ALL
SELECT 'policy ' || p.schemaname || '.' || p.tablename || ' ' || p.policyname || ' ' || p.cmd || ' '
       || p.roles::text || ' ' || coalesce(p.qual, '-') || ' ' || coalesce(p.with_check, '-')
  FROM pg_policies p JOIN rels c ON c.relname = p.tablename AND c.relnamespace::regnamespace::text = p.schemaname
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN rels c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
UNION ALL
SELECT 'function ' || pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, '-')
  FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
 WHERE p.prokind <> 'a'
UNION ALL
SELECT 'aggregate ' || a.aggfnoid::regprocedure || ' ' || a.aggtransfn || ' ' || a.aggcombinefn || ' '
       || a.aggserialfn || ' ' || a.aggdeserialfn || ' ' || a.aggfinalfn || ' ' || a.aggtranstype::regtype
       || ' ' || a.aggtransspace || ' ' || p.proparallel::text
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
  JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
UNION ALL
SELECT 'schema ' || n.nspname || ' acl ' || coalesce(n.nspacl::text, '-')
  FROM pg_namespace n JOIN members m ON m.classid = 'pg_namespace'::regclass AND m.objid = n.oid
UNION ALL
SELECT 'config ' || x.rel::regclass || ' ' || coalesce(x.cond, '-')
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) x(rel, cond) WHERE e.extname = 'gridflow'
UNION ALL
SELECT 'utility ' || u::text FROM gridflow.utility u
UNION ALL
SELECT 'source_file ' || f::text FROM gridflow.source_file f
UNION ALL
SELECT 'column_map ' || m::text FROM gridflow.column_map m
UNION ALL
SELECT 'channel ' || c::text FROM gridflow.channel c
UNION ALL
SELECT 'vee_rule ' || r::text FROM gridflow.vee_rule r
UNION ALL
SELECT 'quality_code ' || q::text FROM gridflow.quality_code q
$$;

RESET check_function_bodies;
-- from the first release, through every upgrade script
CREATE EXTENSION gridflow VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'gridflow';
ALTER EXTENSION gridflow UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'gridflow';
CREATE TEMP TABLE updated AS SELECT pg_temp.signature() AS fact;
DROP EXTENSION gridflow CASCADE;

-- from the previous release, with a history of batches (as a build of
-- 0.2.0 recorded them; the library installed is the new one, which only
-- builds once the update is done): the update keeps the history and stores
-- the layers anew, empty, and gridflow_rebuild() makes them from it (a
-- utility whose id has an underscore, whose partitions 0.3.0 names
-- differently, among them)
CREATE EXTENSION gridflow VERSION '0.2.0';
\getenv testdir GRIDFLOW_TEST_DIR
-- until the update, the aggregates are those of 0.2.0 (internal state, with
-- serialization functions) over the new library, serial and parallel
SELECT aggfnoid::regprocedure, aggtranstype::regtype, aggserialfn <> 0 AS serialized
  FROM pg_aggregate WHERE aggfnoid::regproc::text IN ('gridflow.exact_sum', 'gridflow.peak_pit') ORDER BY 1;
CREATE TABLE agg_old AS
SELECT g % 7 AS grp, CASE g % 3 WHEN 0 THEN 1e16 WHEN 1 THEN -1e16 ELSE (g % 1000) * 0.25 END::float8 AS v,
       '2025-01-01'::timestamptz + (g * 37 % 100000) * interval '1 minute' AS ts
  FROM generate_series(1, 60000) g;
ANALYZE agg_old;
CREATE TEMP TABLE agg_old_reference AS
SELECT grp, sum(v::numeric)::float8 AS total, max(v) AS peak, min(v) AS pit FROM agg_old GROUP BY grp;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE FUNCTION pg_temp.explain_analyze(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query;
END $$;
SELECT bool_or(l ~ 'Partial') AS partial_aggregate, bool_or(l ~ 'Workers Launched: [1-9]') AS workers_ran
  FROM pg_temp.explain_analyze('SELECT grp, gridflow.exact_sum(v), gridflow.peak_pit(v, ts) FROM agg_old GROUP BY grp') l;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE a.total IS DISTINCT FROM r.total OR (a.pp).peak_value IS DISTINCT FROM r.peak
                         OR (a.pp).pit_value IS DISTINCT FROM r.pit) AS mismatches
  FROM agg_old_reference r
  JOIN (SELECT grp, gridflow.exact_sum(v) AS total, gridflow.peak_pit(v, ts) AS pp FROM agg_old GROUP BY grp) a USING (grp);
RESET max_parallel_workers_per_gather;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE a.total IS DISTINCT FROM r.total OR (a.pp).peak_value IS DISTINCT FROM r.peak
                         OR (a.pp).pit_value IS DISTINCT FROM r.pit) AS mismatches
  FROM agg_old_reference r
  JOIN (SELECT grp, gridflow.exact_sum(v) AS total, gridflow.peak_pit(v, ts) AS pp FROM agg_old GROUP BY grp) a USING (grp);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
UPDATE gridflow.utility SET enabled = false;
INSERT INTO gridflow.utility (utility_id, service_point_link) VALUES ('U_ONE', 'read');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path)
SELECT 'U_ONE', file_kind, file_path FROM gridflow.source_file WHERE utility_id = 'UTILITY1';
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format, null_values)
SELECT 'U_ONE', file_kind, target_column, source_column, format, null_values
  FROM gridflow.column_map WHERE utility_id = 'UTILITY1';
WITH b AS (
    INSERT INTO gridflow.build (drop_dir, started_at, finished_at, operation)
    VALUES (:'testdir' || '/sample', now(), now(), 'build') RETURNING build_id
)
INSERT INTO gridflow.batch (build_id, utility_id, file_kind, file_path, content_sha256, started_at, status)
SELECT b.build_id, 'U_ONE', f.file_kind, :'testdir' || '/sample/' || f.file_path,
       sha256(pg_read_binary_file(:'testdir' || '/sample/' || f.file_path)), now(), 'loaded'
  FROM b, gridflow.source_file f
  JOIN (VALUES ('service_point', 1), ('meter', 2), ('interval', 3)) k(kind, ord) ON k.kind = f.file_kind
 WHERE f.utility_id = 'U_ONE'
 ORDER BY k.ord;
-- the new library refuses to build into the old version's layers
SELECT gridflow_rebuild();
ALTER EXTENSION gridflow UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'gridflow';
-- the update made the aggregates anew, of bytea state, with the same answers
SELECT aggfnoid::regprocedure, aggtranstype::regtype, aggserialfn <> 0 AS serialized
  FROM pg_aggregate WHERE aggfnoid::regproc::text IN ('gridflow.exact_sum', 'gridflow.peak_pit') ORDER BY 1;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE a.total IS DISTINCT FROM r.total OR (a.pp).peak_value IS DISTINCT FROM r.peak
                         OR (a.pp).pit_value IS DISTINCT FROM r.pit) AS mismatches
  FROM agg_old_reference r
  JOIN (SELECT grp, gridflow.exact_sum(v) AS total, gridflow.peak_pit(v, ts) AS pp FROM agg_old GROUP BY grp) a USING (grp);
DROP TABLE agg_old;
SELECT count(*) AS reads_after_update FROM standardized.interval_read;
SELECT count(*) AS batches_kept FROM gridflow.batch;
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT count(*) > 0 AS has_reads,
       count(*) = (SELECT count(*) FROM gridflow.read_csv(:'testdir' || '/sample/utility1/utility1_intervals.csv')
                    WHERE reject_reason IS NULL) AS every_record_a_read
  FROM standardized.interval_read;
SELECT relname FROM pg_class WHERE relname ~ '^interval_read_u_+one' ORDER BY 1;
DELETE FROM gridflow.utility WHERE utility_id = 'U_ONE';
UPDATE gridflow.utility SET enabled = true;
CREATE TEMP TABLE updated_last AS SELECT pg_temp.signature() AS fact;
DROP EXTENSION gridflow CASCADE;

CREATE EXTENSION gridflow;
CREATE TEMP TABLE fresh AS SELECT pg_temp.signature() AS fact;

SELECT count(*) > 100 AS enough_facts FROM fresh;
-- differences (none expected)
(SELECT 'only after update from 0.1.0: ' || fact FROM updated EXCEPT ALL SELECT 'only after update from 0.1.0: ' || fact FROM fresh)
UNION ALL
(SELECT 'only in fresh install, not from 0.1.0: ' || fact FROM fresh EXCEPT ALL SELECT 'only in fresh install, not from 0.1.0: ' || fact FROM updated)
UNION ALL
(SELECT 'only after update from 0.2.0: ' || fact FROM updated_last EXCEPT ALL SELECT 'only after update from 0.2.0: ' || fact FROM fresh)
UNION ALL
(SELECT 'only in fresh install, not from 0.2.0: ' || fact FROM fresh EXCEPT ALL SELECT 'only in fresh install, not from 0.2.0: ' || fact FROM updated_last)
ORDER BY 1;
