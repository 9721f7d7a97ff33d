-- Query plans of the read side on a generated drop, checked by the rows
-- their nodes handle, never by time.
--
-- The drop is the generator's utilities 1 and 2 at scale 5 (test/stage.sh
-- writes it to DIR/drops/scale5), built in a database of its own.  Each
-- statement runs under EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) and every
-- node of its plan, InitPlans and SubPlans included, is given the rows it
-- handled: (Actual Rows + Rows Removed by Filter + Rows Removed by Join
-- Filter + Rows Removed by Index Recheck) x Actual Loops.  EXPLAIN reports
-- rows and removed rows as averages per loop (rounded to whole rows), so
-- they are multiplied back; a node run N times counts at least N, so that
-- an inner side returning 0.4 rows per loop, shown as 0, still counts.
--
-- The statements and their bounds ("reads": the standardized reads of the
-- drop, 31,914):
--   * every view of schema dq, found in the catalog (a new view is checked
--     as soon as it exists), as SELECT * FROM dq.<view>, and the report,
--     SELECT line FROM dq.snapshot ORDER BY line_no: no node may handle
--     more than 2 x reads.  A plan linear in the reads hands each read to a
--     node once (a scan, a sort, a join to one row each, an aggregate's
--     input: the views that do so reach 1.0 x here); twice leaves room for
--     a node that sees the rows of two layers of reads at once.  More means
--     that the reads are multiplied: fanned out over several rows each (a
--     meter's assignments) or read again for each group (each utility),
--     which grows with the history or the configuration.  A statement still
--     running after 300 s is a failure ("timeout"), not a hang.
--   * the queries of a dashboard (those of test/node/dashboard.mjs, with
--     constants for parameters): one service point's days of a month,
--     daily totals per utility and channel over a month, the top 10 service
--     points by peak of one channel on a day, one meter's reads of a day,
--     one service point's months.  Each must reach its rows through an
--     index and partition pruning: no node may handle more than the rows
--     the query needs (its relation's rows that meet its conditions,
--     counted apart, printed as "rows_needed") plus 1% of the reads, and
--     no scan of a partition of another month than the one queried may run.
-- Plans are serial (max_parallel_workers_per_gather = 0): a parallel plan
-- handles the same rows in more processes, and builds a hash table once in
-- each, as many as there are workers free at the time.
-- Each statement prints "ok", or what went wrong: the largest figure as a
-- ratio to the reads and the node that handled it, a scan of another
-- month, or the timeout.  The exact figures of every statement and node
-- type go to results/plans.figures, beside this test's output, to be read
-- after a run; the output itself holds no figure of a plan that passes,
-- so that it stays the same while a plan changes within its bound.
--
-- Before the DQ figures were stored, these failed (serial plans, scale 5):
-- dq.meter_link_ambiguity, dq.snapshot and the report (4.31 x reads in a
-- Hash Join of every read with every assignment row of its meter),
-- dq.value_profile (2.89 x reads: the reads scanned again for the outliers
-- of each utility and of all), the top 10 peaks of a day (0.59 x reads: no
-- index led with the day) and a meter's reads of a day (0.96 x reads: no
-- index led with the meter, and local_date does not prune the products).
--
-- The first part checks the checks: plans whose figures are known, a
-- statement past its timeout, a scan of another month.
\set regress_db :DBNAME
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_gridflow_plans;
CREATE DATABASE regress_gridflow_plans TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
\c regress_gridflow_plans
SET client_min_messages = warning;
CREATE EXTENSION gridflow;
RESET client_min_messages;
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
SET max_parallel_workers_per_gather = 0;
\getenv testdir GRIDFLOW_TEST_DIR
\set drop :testdir '/drops/scale5'
SELECT step, table_name, row_count FROM gridflow_build(:'drop') WHERE table_name IS NOT NULL;
SELECT count(*) AS reads FROM standardized.interval_read \gset
SELECT :reads AS reads;

-- The nodes of a plan of EXPLAIN (ANALYZE, FORMAT JSON), down every
-- "Plans" (children, InitPlans, SubPlans), with the rows each handled.
CREATE FUNCTION pg_temp.plan_nodes(plan jsonb)
RETURNS TABLE (node_type text, relation text, loops numeric, handled numeric)
LANGUAGE sql IMMUTABLE AS $$
WITH RECURSIVE n(node) AS (
    SELECT plan -> 0 -> 'Plan'
    UNION ALL
    SELECT c.node FROM n CROSS JOIN LATERAL jsonb_array_elements(n.node -> 'Plans') AS c(node)
)
SELECT node ->> 'Node Type',
       node ->> 'Relation Name',
       (node ->> 'Actual Loops')::numeric,
       greatest((node ->> 'Actual Loops')::numeric
                * ((node ->> 'Actual Rows')::numeric
                   + coalesce((node ->> 'Rows Removed by Filter')::numeric, 0)
                   + coalesce((node ->> 'Rows Removed by Join Filter')::numeric, 0)
                   + coalesce((node ->> 'Rows Removed by Index Recheck')::numeric, 0)),
                (node ->> 'Actual Loops')::numeric)
  FROM n
$$;

-- One statement checked: its plan's largest node and the scans of
-- partitions of other months than MONTH (YYYYMM; NULL: not checked) that
-- ran, or the statement timeout.  A cancel of another kind is raised.
CREATE TABLE pg_temp.plan_result (
    ord serial,
    kind text,              -- dq, dashboard, self
    statement text,
    needed bigint,          -- dashboard: the rows the query needs
    bound numeric,          -- no node may handle more
    max_handled numeric,
    max_node text,
    other_months text,      -- scans of another month's partition that ran
    timed_out boolean,
    timeout text            -- the statement_timeout it ran under
);
CREATE TABLE pg_temp.plan_node (ord int, node_type text, relation text, loops numeric, handled numeric);
CREATE PROCEDURE pg_temp.plan_check(kind text, statement text, query text, bound numeric,
                                    needed bigint DEFAULT NULL, month text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    plan json;
    r int;
BEGIN
    BEGIN
        EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || query INTO plan;
    EXCEPTION WHEN query_canceled THEN
        IF SQLERRM NOT LIKE '%statement timeout%' THEN
            RAISE;
        END IF;
        INSERT INTO pg_temp.plan_result (kind, statement, needed, bound, timed_out, timeout)
        VALUES (kind, statement, needed, bound, true, current_setting('statement_timeout'));
        RETURN;
    END;
    INSERT INTO pg_temp.plan_result (kind, statement, needed, bound, timed_out, timeout)
    VALUES (kind, statement, needed, bound, false, current_setting('statement_timeout'))
    RETURNING ord INTO r;
    INSERT INTO pg_temp.plan_node SELECT r, p.* FROM pg_temp.plan_nodes(plan::jsonb) p;
    UPDATE pg_temp.plan_result res
       SET max_handled = m.handled,
           max_node = m.node_type || coalesce(' on ' || m.relation, '')
      FROM (SELECT handled, node_type, relation FROM pg_temp.plan_node
             WHERE ord = r ORDER BY handled DESC, node_type, relation LIMIT 1) m
     WHERE res.ord = r;
    UPDATE pg_temp.plan_result res
       SET other_months = (SELECT string_agg(DISTINCT n.relation, ', ')
                             FROM pg_temp.plan_node n
                            WHERE n.ord = r AND n.loops > 0
                              AND substring(n.relation FROM '_([0-9]{6})$') <> month)
     WHERE res.ord = r AND month IS NOT NULL;
END
$$;

-- What went wrong with a statement, or ok.
CREATE FUNCTION pg_temp.verdict(r pg_temp.plan_result, reads numeric) RETURNS text
LANGUAGE sql AS $$
SELECT CASE
    WHEN r.timed_out THEN 'timeout: still running after ' || r.timeout
    WHEN r.max_handled > r.bound OR r.other_months IS NOT NULL THEN
        concat_ws('; ',
            CASE WHEN r.max_handled > r.bound THEN
                format('too many rows: %s x reads (%s)', round(r.max_handled / reads, 2), r.max_node)
            END,
            CASE WHEN r.other_months IS NOT NULL THEN
                'scans another month: ' || r.other_months
            END)
    ELSE 'ok'
END
$$;

-- Checking the checks.  Rows removed by a filter, per loop, in a SubPlan
-- run 300 times (300 x 200 rows); rows removed by a join filter (300 x
-- 200); an index probed 1000 times for 9 rows in all (0 per loop, as
-- EXPLAIN rounds it: 1000); a cross join of the reads with 10 of them
-- (10 x reads).
CALL pg_temp.plan_check('self', 'subplan with a filter', $$
    SELECT count(*) FROM generate_series(1, 300) a
     WHERE (SELECT count(*) FROM generate_series(1, 200) b WHERE b > a) > 100$$, 1e9);
CALL pg_temp.plan_check('self', 'index probed in a subplan', $$
    SELECT count(*) FROM generate_series(1, 1000) a
     WHERE (SELECT c.oid FROM pg_catalog.pg_class c WHERE c.oid = a::oid) IS NOT NULL$$, 1e9);
SET enable_hashjoin = off;
SET enable_mergejoin = off;
CALL pg_temp.plan_check('self', 'nested loop with a join filter', $$
    SELECT count(*) FROM generate_series(1, 300) a JOIN generate_series(1, 200) b ON a + b = 1000$$, 1e9);
RESET enable_hashjoin;
RESET enable_mergejoin;
SELECT format('CALL pg_temp.plan_check(%L, %L, %L, %s)', 'self', 'reads x 10 reads',
              'SELECT count(*) FROM standardized.interval_read r
                CROSS JOIN (SELECT 1 FROM standardized.interval_read LIMIT 10) t',
              2 * :reads)
\gexec
SET statement_timeout = '500ms';
CALL pg_temp.plan_check('self', 'ten seconds of sleep', 'SELECT pg_sleep(10)', 1e9);
RESET statement_timeout;
CALL pg_temp.plan_check('self', 'every month of a utility''s days, checked for January',
    $$SELECT count(*) FROM experience.daily_usage WHERE utility_id = 'UTILITY2'$$, 1e9, NULL, '202501');
SELECT r.statement, n.node_type, n.loops, n.handled
  FROM pg_temp.plan_result r JOIN pg_temp.plan_node n USING (ord)
 WHERE r.statement IN ('subplan with a filter', 'nested loop with a join filter', 'index probed in a subplan')
 ORDER BY r.ord, n.handled DESC, n.node_type;
SELECT statement, pg_temp.verdict(r, :reads) AS result
  FROM pg_temp.plan_result r WHERE kind = 'self' ORDER BY ord;
DELETE FROM pg_temp.plan_node;
DELETE FROM pg_temp.plan_result;

-- Every view of dq, and the report as it is read, with 300 s each.
SET statement_timeout = '300s';
SELECT format('CALL pg_temp.plan_check(%L, %L, %L, %s)', 'dq', 'dq.' || c.relname,
              format('SELECT * FROM dq.%I', c.relname), 2 * :reads)
  FROM pg_class c
 WHERE c.relnamespace = 'dq'::regnamespace AND c.relkind IN ('v', 'm')
 ORDER BY c.relname
\gexec
CALL pg_temp.plan_check('dq', 'dq.snapshot, the report', 'SELECT line FROM dq.snapshot ORDER BY line_no', 2 * :reads);
RESET statement_timeout;
SELECT statement, pg_temp.verdict(r, :reads) AS result
  FROM pg_temp.plan_result r WHERE kind = 'dq' ORDER BY ord;

-- The privacy-screened aggregates read the monthly rollup and the service
-- points once each: no node may handle more than twice their rows (with
-- a join on the utility alone, or the months read again per group, they
-- would).
SELECT (SELECT count(*) FROM experience.monthly_usage) + (SELECT count(*) FROM standardized.service_point)
       AS privacy_rows \gset
SET statement_timeout = '300s';
CALL pg_temp.plan_check('privacy', 'external.usage_by_zip', 'SELECT * FROM external.usage_by_zip', 2 * :privacy_rows);
CALL pg_temp.plan_check('privacy', 'external.privacy_suppression', 'SELECT * FROM external.privacy_suppression',
                        2 * :privacy_rows);
RESET statement_timeout;
SELECT statement, pg_temp.verdict(r, :reads) AS result
  FROM pg_temp.plan_result r WHERE kind = 'privacy' ORDER BY ord;

-- The dashboard: UTILITY2's service point with the most days in January,
-- the meter with the most reads on 2025-01-24, channel 1 on 2025-01-23.
SELECT service_point_id AS sp FROM experience.daily_usage
 WHERE utility_id = 'UTILITY2' AND local_date >= '2025-01-01' AND local_date < '2025-02-01'
 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 \gset
SELECT meter_id AS meter FROM product.usage_interval
 WHERE utility_id = 'UTILITY2' AND local_date = '2025-01-24'
 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 \gset
SELECT ceil(0.01 * :reads) AS slack \gset
SET statement_timeout = '300s';
SELECT count(*) AS needed FROM experience.daily_usage
 WHERE utility_id = 'UTILITY2' AND service_point_id = :'sp'
   AND local_date >= '2025-01-01' AND local_date < '2025-02-01' \gset
SELECT format('CALL pg_temp.plan_check(%L, %L, %L, %s, %s, %L)', 'dashboard',
              'one service point''s days of a month',
              format($q$SELECT local_date, channel, unit, time_resolution, total_usage, interval_count,
                               peak_usage_value, peak_usage_ts, peak_local, pit_usage_value, pit_usage_ts, pit_local
                          FROM experience.daily_usage
                         WHERE utility_id = 'UTILITY2' AND service_point_id = %L
                           AND local_date >= '2025-01-01' AND local_date < '2025-02-01'
                         ORDER BY local_date, channel$q$, :'sp'),
              :needed + :slack, :needed, '202501')
\gexec
SELECT count(*) AS needed FROM experience.daily_usage
 WHERE local_date >= '2025-01-01' AND local_date < '2025-02-01' \gset
SELECT format('CALL pg_temp.plan_check(%L, %L, %L, %s, %s, %L)', 'dashboard',
              'daily totals per utility and channel over a month',
              $q$SELECT utility_id, local_date, channel, count(*) AS service_points,
                        sum(total_usage::numeric) AS total_usage, sum(interval_count) AS reads
                   FROM experience.daily_usage
                  WHERE local_date >= '2025-01-01' AND local_date < '2025-02-01'
                  GROUP BY utility_id, local_date, channel
                  ORDER BY utility_id, local_date, channel$q$,
              :needed + :slack, :needed, '202501')
\gexec
-- the same from the rollup the builds keep
SELECT count(*) AS needed FROM experience.utility_daily_usage
 WHERE local_date >= '2025-01-01' AND local_date < '2025-02-01' \gset
SELECT format('CALL pg_temp.plan_check(%L, %L, %L, %s, %s)', 'dashboard',
              'daily totals per utility and channel over a month, from the rollup',
              $q$SELECT utility_id, local_date, channel, service_points, total_usage, interval_count AS reads
                   FROM experience.utility_daily_usage
                  WHERE local_date >= '2025-01-01' AND local_date < '2025-02-01'
                  ORDER BY utility_id, local_date, channel$q$,
              :needed + :slack, :needed)
\gexec
SELECT count(*) AS needed FROM experience.daily_usage
 WHERE utility_id = 'UTILITY2' AND channel = '1' AND local_date = '2025-01-23' \gset
SELECT format('CALL pg_temp.plan_check(%L, %L, %L, %s, %s, %L)', 'dashboard',
              'top 10 service points by peak of a channel on a day',
              $q$SELECT service_point_id, peak_usage_value, peak_usage_ts, total_usage
                   FROM experience.daily_usage
                  WHERE utility_id = 'UTILITY2' AND channel = '1' AND local_date = '2025-01-23'
                  ORDER BY peak_usage_value DESC, service_point_id
                  LIMIT 10$q$,
              :needed + :slack, :needed, '202501')
\gexec
-- (products are partitioned on the timestamp, as time-series tools filter:
-- the local day as a range of interval_start_ts prunes, local_date cannot)
SELECT count(*) AS needed FROM product.usage_interval
 WHERE utility_id = 'UTILITY2' AND meter_id = :'meter'
   AND interval_start_ts >= '2025-01-24 00:00 America/New_York'
   AND interval_start_ts < '2025-01-25 00:00 America/New_York' \gset
SELECT format('CALL pg_temp.plan_check(%L, %L, %L, %s, %s, %L)', 'dashboard',
              'one meter''s reads of a day',
              format($q$SELECT interval_start_ts, interval_end_ts, channel, value, quality, duration_seconds,
                               service_point_id, service_point_known, meter_known
                          FROM product.usage_interval
                         WHERE utility_id = 'UTILITY2' AND meter_id = %L
                           AND interval_start_ts >= '2025-01-24 00:00 America/New_York'
                           AND interval_start_ts < '2025-01-25 00:00 America/New_York'
                         ORDER BY interval_start_ts, channel$q$, :'meter'),
              :needed + :slack, :needed, '202501')
\gexec
SELECT count(*) AS needed FROM experience.monthly_usage
 WHERE utility_id = 'UTILITY2' AND service_point_id = :'sp' \gset
SELECT format('CALL pg_temp.plan_check(%L, %L, %L, %s, %s)', 'dashboard',
              'one service point''s months',
              format($q$SELECT month_start, channel, unit, day_count, interval_count, total_usage,
                               avg_daily_usage, peak_day, peak_day_usage, peak_usage_value, peak_local
                          FROM experience.monthly_usage
                         WHERE utility_id = 'UTILITY2' AND service_point_id = %L
                         ORDER BY month_start, channel$q$, :'sp'),
              :needed + :slack, :needed)
\gexec
-- the reads of a Green Button export (gridflow.green_button_reads, which
-- the planner inlines) of one service point and month
SELECT count(*) AS needed FROM product.usage_interval
 WHERE utility_id = 'UTILITY2' AND service_point_id = :'sp'
   AND interval_start_ts >= '2025-01-01 00:00 America/New_York'
   AND interval_start_ts < '2025-02-01 00:00 America/New_York' \gset
SELECT format('CALL pg_temp.plan_check(%L, %L, %L, %s, %s, %L)', 'dashboard',
              'one service point''s Green Button reads of a month',
              format($q$SELECT * FROM gridflow.green_button_reads('UTILITY2', %L,
                                                                 '2025-01-01 00:00 America/New_York',
                                                                 '2025-02-01 00:00 America/New_York')$q$, :'sp'),
              :needed + :slack, :needed, '202501')
\gexec
RESET statement_timeout;
SELECT statement, needed AS rows_needed, pg_temp.verdict(r, :reads) AS result
  FROM pg_temp.plan_result r WHERE kind = 'dashboard' ORDER BY ord;

-- The figures, for reading after a run (not compared): each statement's
-- largest node as a ratio to the reads, and the largest figure of each
-- node type, in results/plans.figures (nowhere when pg_regress writes its
-- results elsewhere).
\set figures `if [ -d results ]; then echo results/plans.figures; else echo /dev/null; fi`
\o :figures
SELECT kind, statement, round(max_handled / :reads, 3) AS max_node_per_read, max_node,
       bound, needed, other_months, timed_out, pg_temp.verdict(r, :reads) AS result
  FROM pg_temp.plan_result r ORDER BY ord;
SELECT r.statement, n.node_type, max(n.handled) AS handled, round(max(n.handled) / :reads, 3) AS per_read
  FROM pg_temp.plan_result r JOIN pg_temp.plan_node n USING (ord)
 GROUP BY r.ord, r.statement, n.node_type
 ORDER BY r.ord, handled DESC, n.node_type;
\o

-- The months the build rolled up from the days as it wrote them
-- (monthly.c) equal their SQL definition over the days.
SELECT count(*) AS months,
       (SELECT count(*) FROM (SELECT * FROM experience.monthly_usage EXCEPT ALL SELECT * FROM gridflow.monthly_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.monthly_source EXCEPT ALL SELECT * FROM experience.monthly_usage) b)
       AS month_differences
  FROM experience.monthly_usage;

-- The DQ figures the build gathered while writing its layers (dqacc.c)
-- equal those gridflow.dq_refresh() computes by scanning the layers (what
-- ingests do): every stored row, exact-sum partials included, computed
-- again from the partitions of each utility under the same run, compared
-- table by table (refreshed_at aside).
CREATE FUNCTION pg_temp.dq_stored()
RETURNS TABLE (table_name text, row_count bigint, digest text)
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE (n.nspname = 'dq' AND c.relkind = 'r' AND c.relname <> 'current_run')
            OR (n.nspname = 'gridflow_store' AND c.relname IN ('utility_daily_usage', 'utility_monthly_usage'))
         ORDER BY 1::text
    LOOP
        table_name := t::text;
        EXECUTE format('SELECT count(*), md5(coalesce(string_agg(x::text, %L ORDER BY x::text), %L)) FROM %s x',
                       E'\n', '', t) INTO row_count, digest;
        RETURN NEXT;
    END LOOP;
END
$$;
CREATE TEMP TABLE gathered AS SELECT * FROM pg_temp.dq_stored();
SELECT count(*) AS utilities
  FROM dq.current_run c,
       LATERAL gridflow.dq_refresh(c.build_id, c.utility_id,
           format('gridflow_store.interval_read_%s', lower(c.utility_id))::regclass,
           format('gridflow_store.usage_interval_%s', lower(c.utility_id))::regclass,
           format('gridflow_store.daily_usage_%s', lower(c.utility_id))::regclass,
           format('gridflow_store.service_point_%s', lower(c.utility_id))::regclass,
           format('gridflow_store.meter_%s', lower(c.utility_id))::regclass,
           format('gridflow_store.meter_assignment_%s', lower(c.utility_id))::regclass,
           false) r;
SELECT gridflow.dq_refresh_total(true);
SELECT g.table_name, g.row_count, s.row_count = g.row_count AND s.digest = g.digest AS same_when_scanned
  FROM gathered g JOIN pg_temp.dq_stored() s USING (table_name)
 ORDER BY 1;

\c :regress_db
DROP DATABASE regress_gridflow_plans;
