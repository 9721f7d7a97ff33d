-- The aggregates: gridflow.peak_pit(value, ts), peak and pit with
-- deterministic ties, and gridflow.exact_sum(value), the exact sum rounded
-- once; NULL handling, and the same answers from parallel (partial) plans.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

SELECT (gridflow.peak_pit(v, ts)).*
  FROM (VALUES (1.0::float8, '2025-01-01 00:00+00'::timestamptz),
               (3.0, '2025-01-01 01:00+00'),
               (2.0, '2025-01-01 02:00+00')) t(v, ts);

-- ties go to the earliest timestamp, whatever order the rows come in
SELECT (gridflow.peak_pit(v, ts ORDER BY ord)).*
  FROM (VALUES (1, 5.0::float8, '2025-01-01 03:00+00'::timestamptz),
               (2, 5.0, '2025-01-01 01:00+00'),
               (3, 0.0, '2025-01-01 04:00+00'),
               (4, 0.0, '2025-01-01 02:00+00')) t(ord, v, ts);
SELECT (gridflow.peak_pit(v, ts ORDER BY ord DESC)).*
  FROM (VALUES (1, 5.0::float8, '2025-01-01 03:00+00'::timestamptz),
               (2, 5.0, '2025-01-01 01:00+00'),
               (3, 0.0, '2025-01-01 04:00+00'),
               (4, 0.0, '2025-01-01 02:00+00')) t(ord, v, ts);

-- NULL values are ignored; a NULL timestamp loses ties; no value at all gives NULL
SELECT (gridflow.peak_pit(v, ts)).*
  FROM (VALUES (NULL::float8, '2025-01-01 00:00+00'::timestamptz),
               (7.0, NULL),
               (7.0, '2025-01-02 00:00+00'),
               (-1.0, NULL)) t(v, ts);
SELECT gridflow.peak_pit(v, ts) IS NULL AS all_null
  FROM (VALUES (NULL::float8, now())) t(v, ts);
SELECT gridflow.peak_pit(v, ts) IS NULL AS empty
  FROM (SELECT 1.0::float8, now() WHERE false) t(v, ts);
-- NaN compares above every number, as in max()
SELECT (gridflow.peak_pit(v, ts)).peak_value, max(v)
  FROM (VALUES ('NaN'::float8, now()), (1e300, now())) t(v, ts);

-- grouped, against a plain-SQL reference (first row by value, then time)
CREATE TABLE pp AS
SELECT g % 97 AS grp,
       (g * 7919 % 1000)::float8 AS v,
       '2025-01-01'::timestamptz + (g * 37 % 100000) * interval '1 minute' AS ts
  FROM generate_series(1, 200000) g;
ANALYZE pp;
CREATE TEMP VIEW reference AS
SELECT DISTINCT grp,
       first_value(v) OVER (PARTITION BY grp ORDER BY v DESC, ts) AS peak_value,
       first_value(ts) OVER (PARTITION BY grp ORDER BY v DESC, ts) AS peak_ts,
       first_value(v) OVER (PARTITION BY grp ORDER BY v, ts) AS pit_value,
       first_value(ts) OVER (PARTITION BY grp ORDER BY v, ts) AS pit_ts
  FROM pp;
CREATE FUNCTION pg_temp.plan_has(query text, pattern text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
        IF l ~ pattern THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;

SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS serial_mismatches FROM (
    SELECT grp, (p).* FROM (SELECT grp, gridflow.peak_pit(v, ts) AS p FROM pp GROUP BY grp) s
    EXCEPT SELECT * FROM reference) x;

-- a parallel plan: partial states are serialized in the workers and combined
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT pg_temp.plan_has('SELECT grp, gridflow.peak_pit(v, ts) FROM pp GROUP BY grp', 'Partial') AS partial_aggregate,
       pg_temp.plan_has('SELECT grp, gridflow.peak_pit(v, ts) FROM pp GROUP BY grp', 'Workers Launched: [1-9]') AS workers_ran;
SELECT count(*) AS parallel_mismatches FROM (
    SELECT grp, (p).* FROM (SELECT grp, gridflow.peak_pit(v, ts) AS p FROM pp GROUP BY grp) s
    EXCEPT SELECT * FROM reference) x;
SELECT (gridflow.peak_pit(v, ts)).* FROM pp;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DROP VIEW reference;
DROP TABLE pp;

-- gridflow.exact_sum(v): the exact sum of the values, rounded once, where
-- sum(v) rounds after every addition.  1e16 + 1 rounds back to 1e16
-- (doubles near 1e16 are 2 apart), so a plain sum of 1e16, 1, -1e16 in that
-- order is 0; the exact sum is 1, in any order.
SELECT gridflow.exact_sum(v ORDER BY o) AS exact_sum,
       gridflow.exact_sum(v ORDER BY o DESC) AS exact_sum_reversed,
       sum(v ORDER BY o) AS plain_sum
  FROM (VALUES (1, 1e16::float8), (2, 1), (3, -1e16)) t(o, v);
-- The double 0.1 is 0.1000000000000000055511151231257827...: ten of them
-- add up to exactly 1 + 2^-54, and the double nearest to that is 1 (the
-- next one up is 1 + 2^-52), so exact_sum gives exactly 1; a plain sum
-- rounds its way down to 0.9999999999999999.
SELECT gridflow.exact_sum(0.1::float8) AS exact_sum,
       gridflow.exact_sum(0.1::float8) = 1 AS exactly_one,
       sum(0.1::float8) AS plain_sum
  FROM generate_series(1, 10);
-- NULLs are ignored; no value at all gives NULL; infinities add up as in sum()
SELECT gridflow.exact_sum(v) AS with_nulls
  FROM (VALUES (NULL::float8), (0.5), (NULL), (0.25)) t(v);
SELECT gridflow.exact_sum(v) IS NULL AS all_null
  FROM (VALUES (NULL::float8)) t(v);
SELECT gridflow.exact_sum(v) IS NULL AS empty
  FROM (SELECT 1.0::float8 WHERE false) t(v);
SELECT gridflow.exact_sum(v) AS infinite
  FROM (VALUES (1e308::float8), ('Infinity'), (-1e308)) t(v);

-- grouped, against an exact reference: each group's 2000 values are, in
-- turn, 1e16, a multiple of 0.25 below 250, -1e16 and another multiple of
-- 0.25.  Their decimal forms are exact, so summing them as numeric is exact
-- and the cast back to float8 rounds once.  A plain sum loses the quarters
-- each time it adds them to a partial sum near 1e16 (in every group, in
-- this table's order).
CREATE TABLE es AS
SELECT g % 97 AS grp,
       CASE g / 97 % 4 WHEN 0 THEN 1e16 WHEN 2 THEN -1e16 ELSE (g * 7919 % 1000) * 0.25 END::float8 AS v
  FROM generate_series(0, 97 * 2000 - 1) g;
ANALYZE es;
CREATE TEMP VIEW es_reference AS
SELECT grp, sum(v::numeric)::float8 AS total FROM es GROUP BY grp;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE p.plain IS DISTINCT FROM r.total) AS plain_sum_mismatches
  FROM es_reference r JOIN (SELECT grp, sum(v) AS plain FROM es GROUP BY grp) p USING (grp);
SELECT count(*) AS serial_mismatches
  FROM es_reference r JOIN (SELECT grp, gridflow.exact_sum(v) AS total FROM es GROUP BY grp) s USING (grp)
 WHERE s.total IS DISTINCT FROM r.total;

-- a parallel plan: partial states are serialized in the workers and combined
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
-- (the plans checked are those of the statements that keep the results)
SELECT bool_or(l ~ 'Partial') AS partial_aggregate, bool_or(l ~ 'Workers Launched: [1-9]') AS workers_ran
  FROM pg_temp.explain_analyze($$CREATE TEMP TABLE es_parallel AS
                                 SELECT grp, gridflow.exact_sum(v) AS total FROM es GROUP BY grp$$) l;
SELECT bool_or(l ~ 'Partial') AS partial_aggregate, bool_or(l ~ 'Workers Launched: [1-9]') AS workers_ran
  FROM pg_temp.explain_analyze($$CREATE TEMP TABLE es_parallel_whole AS
                                 SELECT gridflow.exact_sum(v) AS total FROM es$$) l;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT count(*) AS parallel_mismatches
  FROM es_reference r JOIN es_parallel p USING (grp)
 WHERE p.total IS DISTINCT FROM r.total;
SELECT w.total AS whole_table, w.total = (SELECT sum(v::numeric)::float8 FROM es) AS exact
  FROM es_parallel_whole w;
DROP VIEW es_reference;
DROP TABLE es;

-- The states are bytea, a real type (Citus combines partial aggregates only
-- of such states; parallel workers hand them on as they are), with a
-- combine function and no serialization.
SELECT a.aggfnoid::regprocedure AS aggregate, a.aggtranstype::regtype AS state,
       t.typtype <> 'p' AS real_type, a.aggcombinefn <> 0 AS combines, a.aggserialfn = 0 AS no_serialfn
  FROM pg_aggregate a JOIN pg_type t ON t.oid = a.aggtranstype
 WHERE a.aggfnoid::regproc::text IN ('gridflow.exact_sum', 'gridflow.exact_sum_partials', 'gridflow.peak_pit')
 ORDER BY 1;

-- 100,000 rows whose plain sum depends on the order: every group of four
-- is 1e16, a quarter, -1e16 and a quarter.  Serial and parallel (partial
-- states made by the workers, combined by the leader) give the same bits,
-- the exact sum, for exact_sum, exact_sum_partials and peak_pit, grouped
-- and over the whole table.
CREATE TABLE par AS
SELECT g % 50 AS grp,
       CASE g / 50 % 4 WHEN 0 THEN 1e16 WHEN 2 THEN -1e16 ELSE (g * 7919 % 1000) * 0.25 END::float8 AS v,
       '2025-01-01'::timestamptz + (g * 37 % 50000) * interval '1 minute' AS ts
  FROM generate_series(0, 99999) g;
ANALYZE par;
CREATE TEMP VIEW par_result AS
SELECT grp, gridflow.exact_sum(v) AS total, gridflow.exact_sum_partials(v) AS partials,
       gridflow.peak_pit(v, ts) AS pp
  FROM par GROUP BY grp;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE par_serial AS SELECT * FROM par_result;
CREATE TEMP TABLE par_serial_whole AS
SELECT gridflow.exact_sum(v) AS total, gridflow.peak_pit(v, ts) AS pp FROM par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT bool_or(l ~ 'Partial') AS partial_aggregate, bool_or(l ~ 'Workers Launched: [1-9]') AS workers_ran
  FROM pg_temp.explain_analyze($$CREATE TEMP TABLE par_parallel AS SELECT * FROM par_result$$) l;
SELECT bool_or(l ~ 'Partial') AS partial_aggregate, bool_or(l ~ 'Workers Launched: [1-9]') AS workers_ran
  FROM pg_temp.explain_analyze($$CREATE TEMP TABLE par_parallel_whole AS
                                 SELECT gridflow.exact_sum(v) AS total, gridflow.peak_pit(v, ts) AS pp FROM par$$) l;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE s.total IS DISTINCT FROM p.total) AS total_mismatches,
       count(*) FILTER (WHERE s.pp IS DISTINCT FROM p.pp) AS peak_pit_mismatches,
       count(*) FILTER (WHERE s.total IS DISTINCT FROM r.total) AS inexact,
       count(*) FILTER (WHERE (SELECT gridflow.exact_sum(x) FROM unnest(p.partials) x) IS DISTINCT FROM s.total)
           AS partials_not_adding_up
  FROM par_serial s JOIN par_parallel p USING (grp)
  JOIN (SELECT grp, sum(v::numeric)::float8 AS total FROM par GROUP BY grp) r USING (grp);
SELECT s.total = p.total AS same_total, s.total = (SELECT sum(v::numeric)::float8 FROM par) AS exact,
       s.pp = p.pp AS same_peak_pit, (p.pp).*
  FROM par_serial_whole s, par_parallel_whole p;
-- a plain sum of the same rows is not exact
SELECT sum(v) = (SELECT sum(v::numeric)::float8 FROM par) AS plain_sum_exact FROM par;
DROP VIEW par_result;
DROP TABLE par;

-- Any bytea can reach the aggregates' functions (an aggregate of a user's
-- may name them): one that is not a state of theirs is an error, whatever
-- its bytes; outside an aggregate they do not run at all.
CREATE AGGREGATE pg_temp.es_state(float8) (SFUNC = gridflow.exact_sum_transfn, STYPE = bytea);
CREATE AGGREGATE pg_temp.pp_state(float8, timestamptz) (SFUNC = gridflow.peak_pit_transfn, STYPE = bytea);
CREATE AGGREGATE pg_temp.es_combine(bytea) (SFUNC = gridflow.exact_sum_combinefn, STYPE = bytea,
                                            FINALFUNC = gridflow.exact_sum_finalfn);
CREATE AGGREGATE pg_temp.pp_combine(bytea) (SFUNC = gridflow.peak_pit_combinefn, STYPE = bytea,
                                            FINALFUNC = gridflow.peak_pit_finalfn);
CREATE AGGREGATE pg_temp.es_from(float8) (SFUNC = gridflow.exact_sum_transfn, STYPE = bytea,
                                          INITCOND = '\x0102', FINALFUNC = gridflow.exact_sum_finalfn);
-- states made by the transition functions combine as partial aggregates do
-- (exactly: 1e16 + 1 and -1e16 + 2 make 3)
CREATE TEMP TABLE states AS
SELECT 1 AS part, pg_temp.es_state(v) AS es, pg_temp.pp_state(v, ts) AS pp
  FROM (VALUES (1e16::float8, '2025-01-01 00:00+00'::timestamptz), (1, '2025-01-01 01:00+00')) t(v, ts)
UNION ALL
SELECT 2, pg_temp.es_state(v), pg_temp.pp_state(v, ts)
  FROM (VALUES (-1e16::float8, '2025-01-01 02:00+00'::timestamptz), (2, '2025-01-01 03:00+00')) t(v, ts);
SELECT pg_temp.es_combine(es) AS combined_sum, (pg_temp.pp_combine(pp)).* FROM states;
SELECT pg_temp.es_combine(es) FROM (SELECT es FROM states UNION ALL SELECT '\x00'::bytea) s;  -- ERROR
SELECT pg_temp.es_combine(es) FROM (SELECT es FROM states UNION ALL SELECT pp FROM states) s;  -- ERROR
SELECT pg_temp.pp_combine(pp) FROM (SELECT pp FROM states UNION ALL SELECT es FROM states) s;  -- ERROR
-- a state whose count of partials exceeds its room, and one cut short
SELECT pg_temp.es_combine(es)
  FROM (SELECT es FROM states UNION ALL SELECT set_byte(es, 4, 255) FROM states WHERE part = 1) s;  -- ERROR
SELECT pg_temp.es_combine(es)
  FROM (SELECT es FROM states UNION ALL SELECT substr(es, 1, length(es) - 8) FROM states WHERE part = 1) s;  -- ERROR
SELECT pg_temp.pp_combine(pp)
  FROM (SELECT pp FROM states UNION ALL SELECT substr(pp, 1, 20) FROM states WHERE part = 1) s;  -- ERROR
SELECT pg_temp.es_from(v) FROM (VALUES (1.0::float8)) t(v);  -- ERROR
SELECT gridflow.exact_sum_transfn(NULL, 1.0);  -- ERROR
SELECT gridflow.peak_pit_combinefn(pp, pp) FROM states;  -- ERROR
SELECT gridflow.exact_sum_finalfn(es) FROM states;  -- ERROR
