-- gridflow.peak_pit(value, ts): peak and pit with deterministic ties,
-- NULL handling, and the same answer from parallel (partial) plans.
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
