#!/usr/bin/env bash
# DQ views and dashboard queries: "make bench-dq SCALE=50 [RUNS=3]
# [REPEAT=3] [TIMEOUT=120]".
#
# What reading the layers costs next to building them.  The generated drop
# of the scale is built once untimed, then RUNS times, timed (the median,
# and the median of the build's own "total" step).  Then, on the last
# build, each item below runs REPEAT times in one session of its own and
# its median time is reported, with its ratio to the build's median:
#   - SELECT * FROM every view of schema dq (found in the catalog, in name
#     order, so that a new view is measured too), then the report as a
#     reader gets it (SELECT line FROM dq.snapshot ORDER BY line_no);
#   - the queries of a usage dashboard, in the shape of
#     test/node/dashboard.mjs, prepared (PREPARE/EXECUTE: parameters as a
#     driver sends them) with values picked from the built data: the month
#     with the most daily rows; per utility (UTILITY2, UTILITY1) its day
#     with the most daily rows in that month, its service point with the
#     most days and reads in the month, and its meter with the most reads
#     on that day: (a) a service point's days over the month, (b) daily
#     totals per utility and channel over the month, (c) the top 10 service
#     points by peak on one channel and day, (d) a meter's reads of one day
#     (product.usage_interval), (e) the month's totals per utility and
#     channel from experience.monthly_usage, (f) the month of a service
#     point as a dense calendar (experience.calendar through the utility's
#     time zone, LEFT JOIN the days).
# The time is the client's: psql's \timing in that session, from sending
# the statement to the last row received (every row is fetched, and
# written to /dev/null); no connection set-up is counted.  Each statement
# runs under statement_timeout = TIMEOUT seconds; one that is cancelled is
# reported as "> TIMEOUT s (cancelled)" and not run again.  Then each item
# runs once more under EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON):
# reported are its Execution Time, the shared buffers its execution hit
# and read, the partitions of the layers it scanned, and, for the
# dashboard's queries, the partitions of months other than the month (or
# day) it filters on that it scanned, and which of them by a Seq Scan.
# The plans are kept in BENCH_DIR/dq-SCALE/ (NAME.json: the analyzed plan;
# NAME.plan: the plan as text, not analyzed).  Figures go to
# test/bench/RESULTS.md ("DQ views and dashboard queries, scale N").
#
# BENCH_SOURCE=/path/to/another/checkout installs gridflow from a copy of
# that checkout (built in BENCH_DIR, the checkout itself is not written)
# to measure an earlier version with the same method; its section is
# labelled with that checkout's commit.  Items that version lacks (a
# relation that does not exist) are reported as errors; of the
# dashboard's columns, those its views have are selected.
#
# Environment: SCALE (default 50), RUNS (default 3), REPEAT (default 3),
# TIMEOUT (seconds, default 120), BENCH_SOURCE, and those of common.sh
# (BENCH_DIR, BENCH_PORT, COMPETITOR, GRIDFLOW_DESTDIR).
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
scale="${SCALE:-50}"
runs="${RUNS:-3}"
repeat="${REPEAT:-3}"
timeout="${TIMEOUT:-120}"
log_name="dq-$scale.log"
. "$top/test/bench/common.sh"

source_top="${BENCH_SOURCE:-$top}"
commit="$(git -C "$source_top" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ "$source_top" != "$top" ]; then
    # built in a copy: the other checkout is only read
    bash "$top/test/setup.sh"
    copy="$work/source-dq"
    rm -rf "$copy"
    mkdir -p "$copy"
    tar -C "$source_top" --exclude=.git -cf - . | tar -C "$copy" -xf -
    install_gridflow "$copy"
    make -s -C "$top" data/gridflow_gen >/dev/null
else
    bench_install
fi
drop="$(make_drop "$scale")"
bench_cluster
out="$work/dq-$scale"
rm -rf "$out"
mkdir -p "$out"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
sql_quote() { printf "'%s'" "${1//\'/\'\'}"; }
# a psql script's "Time: N ms" and "@@ SQLSTATE ROWS" lines -> "ms sqlstate rows"
timings() { awk '/^Time: / { t = $2 } /^@@ / { print t, $2, $3 }' "$1"; }

# --- the builds --------------------------------------------------------------------
say "== DQ views and dashboard queries, scale $scale, gridflow $commit ($runs builds, each item $repeat times, statement_timeout ${timeout} s)"
q "SELECT count(*) FROM gridflow_build($(sql_quote "$drop"))" >/dev/null
{
    echo '\timing on'
    for r in $(seq 1 "$runs"); do
        echo "\\o $out/build$r.steps"
        echo "SELECT step, coalesce(table_name, ''), coalesce(row_count::text, ''), round(elapsed_ms::numeric) FROM gridflow_build($(sql_quote "$drop"));"
        echo '\o'
        echo '\echo @@ :SQLSTATE :ROW_COUNT'
    done
} > "$out/build.sql"
psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -f "$out/build.sql" > "$out/build.time"
build_ms=()
total_ms=()
for r in $(seq 1 "$runs"); do
    build_ms+=("$(timings "$out/build.time" | sed -n "${r}p" | awk '{ print $1 }')")
    total_ms+=("$(awk '$1 == "total" { print $NF }' "$out/build$r.steps")")
done
read -r build_med build_min build_max <<<"$(stats "${build_ms[@]}")"
read -r total_med _ _ <<<"$(stats "${total_ms[@]}")"
say "   build: median $build_med ms (min $build_min, max $build_max) as the client saw it; its \"total\" step: median $total_med ms"
say "   steps of the last build:"
while read -r step tbl n ms; do
    say "$(printf '     %-13s %-30s %10s %8s ms' "$step" "$tbl" "$n" "$ms")"
done < <(awk 'NF == 4 { print } NF == 2 { print $1, "-", "-", $2 } NF == 3 { print $1, $2, "-", $3 }' "$out/build$runs.steps")
raw_reads="$(awk '$2 == "landing.source_record" { print $3 }' "$out/build$runs.steps")"

# --- the bench's helpers in the database ---------------------------------------------
# bench.cols('experience.daily_usage', 'a, b, c'): those of the columns the
# relation has, in that order (an earlier version may lack some)
q "SET client_min_messages = warning;
   DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench;
   CREATE FUNCTION bench.cols(rel text, list text) RETURNS text LANGUAGE sql STABLE AS \$\$
       SELECT string_agg(c, ', ' ORDER BY o)
         FROM unnest(string_to_array(replace(list, ' ', ''), ',')) WITH ORDINALITY AS l(c, o)
        WHERE EXISTS (SELECT FROM pg_attribute a
                       WHERE a.attrelid = to_regclass(rel) AND a.attname = l.c
                         AND a.attnum > 0 AND NOT a.attisdropped)
   \$\$;" >/dev/null
cols() { q "SELECT coalesce(bench.cols($(sql_quote "$1"), $(sql_quote "$2")), 'NULL')"; }

# --- the items ------------------------------------------------------------------------
# Each item: a key (file name), a label, the statement, the PREPARE it
# needs (or nothing), the month it filters on (YYYYMM, or nothing).
keys=()
declare -A label stmt prep fmonth
add_item() { keys+=("$1"); label[$1]="$2"; stmt[$1]="$3"; prep[$1]="${4:-}"; fmonth[$1]="${5:-}"; }

while read -r v; do
    [ -n "$v" ] && add_item "dq.$v" "dq.$v" "SELECT * FROM dq.$v"
done < <(q "SELECT quote_ident(c.relname) FROM pg_class c
             WHERE c.relnamespace = 'dq'::regnamespace AND c.relkind IN ('v', 'm')
             ORDER BY c.relname COLLATE \"C\"")
add_item "dq.snapshot-lines" "dq.snapshot lines ORDER BY line_no" \
    "SELECT line FROM dq.snapshot ORDER BY line_no"

# the parameters, from the built data
month="$(q "SELECT date_trunc('month', local_date)::date FROM experience.daily_usage
             GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
params=()
if [ -z "$month" ]; then
    say "   no rows in experience.daily_usage: no dashboard queries"
else
    next="$(q "SELECT ($(sql_quote "$month")::date + interval '1 month')::date")"
    ym="$(q "SELECT to_char($(sql_quote "$month")::date, 'YYYYMM')")"
    params+=("month: $month to $next (exclusive) in (a), (b), (e), (f)")
    c_a="$(cols experience.daily_usage 'local_date, channel, unit, time_resolution, total_usage, interval_count, peak_usage_value, peak_usage_ts, peak_local, pit_usage_value, pit_usage_ts, pit_local')"
    c_d="$(cols product.usage_interval 'interval_start_ts, interval_end_ts, channel, value, quality, duration_seconds, service_point_id, service_point_known, meter_known')"
    add_item "b-daily-totals" "(b) daily totals per utility and channel" \
        "EXECUTE b($(sql_quote "$month"), $(sql_quote "$next"))" \
        "PREPARE b(date, date) AS
         SELECT utility_id, local_date, channel, count(*) AS service_points,
                sum(total_usage::numeric) AS total_usage, sum(interval_count) AS reads
           FROM experience.daily_usage
          WHERE local_date >= \$1 AND local_date < \$2
          GROUP BY utility_id, local_date, channel
          ORDER BY utility_id, local_date, channel" "$ym"
    add_item "b2-utility-days" "(b2) the same from experience.utility_daily_usage" \
        "EXECUTE b2($(sql_quote "$month"), $(sql_quote "$next"))" \
        "PREPARE b2(date, date) AS
         SELECT utility_id, local_date, channel, service_points, total_usage, interval_count AS reads
           FROM experience.utility_daily_usage
          WHERE local_date >= \$1 AND local_date < \$2
          ORDER BY utility_id, local_date, channel" "$ym"
    add_item "e-monthly-totals" "(e) monthly totals per utility and channel" \
        "EXECUTE e($(sql_quote "$month"), $(sql_quote "$next"))" \
        "PREPARE e(date, date) AS
         SELECT utility_id, month_start, channel, count(*) AS service_points,
                sum(total_usage::numeric) AS total_usage, sum(interval_count) AS reads,
                sum(day_count) AS service_point_days
           FROM experience.monthly_usage
          WHERE month_start >= \$1 AND month_start < \$2
          GROUP BY utility_id, month_start, channel
          ORDER BY utility_id, month_start, channel" "$ym"
    add_item "e2-utility-months" "(e2) the same from experience.utility_monthly_usage" \
        "EXECUTE e2($(sql_quote "$month"), $(sql_quote "$next"))" \
        "PREPARE e2(date, date) AS
         SELECT utility_id, month_start, channel, service_points, total_usage, interval_count AS reads,
                service_point_days
           FROM experience.utility_monthly_usage
          WHERE month_start >= \$1 AND month_start < \$2
          ORDER BY utility_id, month_start, channel" "$ym"
    for u in UTILITY2 UTILITY1; do
        uq="$(sql_quote "$u")"
        inmonth="local_date >= $(sql_quote "$month") AND local_date < $(sql_quote "$next")"
        day="$(q "SELECT local_date FROM experience.daily_usage WHERE utility_id = $uq AND $inmonth
                   GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
        if [ -z "$day" ]; then
            say "   $u has no days in $month: its dashboard queries are left out"
            continue
        fi
        dym="$(q "SELECT to_char($(sql_quote "$day")::date, 'YYYYMM')")"
        day_channel="$(q "SELECT channel FROM experience.daily_usage WHERE utility_id = $uq AND local_date = $(sql_quote "$day")
                           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
        sp="$(q "SELECT service_point_id FROM experience.daily_usage WHERE utility_id = $uq AND $inmonth
                  GROUP BY 1 ORDER BY count(*) DESC, sum(interval_count) DESC, 1 LIMIT 1")"
        sp_channel="$(q "SELECT channel FROM experience.daily_usage WHERE utility_id = $uq AND service_point_id = $(sql_quote "$sp") AND $inmonth
                          GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
        meter="$(q "SELECT meter_id FROM product.usage_interval WHERE utility_id = $uq AND local_date = $(sql_quote "$day")
                     GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
        params+=("$u: day $day, channel $(sql_quote "$day_channel") of the top peaks (c); service point $sp, its channel $(sql_quote "$sp_channel") in the calendar (f); meter $meter (d)")
        lu="$(echo "$u" | tr 'A-Z' 'a-z')"
        add_item "a-sp-days-$lu" "(a) a service point's month, $u" \
            "EXECUTE a_$lu($uq, $(sql_quote "$sp"), $(sql_quote "$month"), $(sql_quote "$next"))" \
            "PREPARE a_$lu(text, text, date, date) AS
             SELECT $c_a
               FROM experience.daily_usage
              WHERE utility_id = \$1 AND service_point_id = \$2 AND local_date >= \$3 AND local_date < \$4
              ORDER BY local_date, channel" "$ym"
        add_item "c-top-peaks-$lu" "(c) top 10 peaks of a day, $u" \
            "EXECUTE c_$lu($uq, $(sql_quote "$day_channel"), $(sql_quote "$day"))" \
            "PREPARE c_$lu(text, text, date) AS
             SELECT service_point_id, peak_usage_value, peak_usage_ts, total_usage
               FROM experience.daily_usage
              WHERE utility_id = \$1 AND channel = \$2 AND local_date = \$3
              ORDER BY peak_usage_value DESC, service_point_id
              LIMIT 10" "$dym"
        if [ -n "$meter" ]; then
            # the local day as a range of the timestamp, which prunes the
            # products (partitioned on it), as time-series tools filter
            day_from="$(q "SELECT ($(sql_quote "$day")::date::timestamp AT TIME ZONE time_zone)::text FROM gridflow.utility WHERE utility_id = $uq")"
            day_to="$(q "SELECT (($(sql_quote "$day")::date + 1)::timestamp AT TIME ZONE time_zone)::text FROM gridflow.utility WHERE utility_id = $uq")"
            add_item "d-meter-day-$lu" "(d) a meter's reads of a day, $u" \
                "EXECUTE d_$lu($uq, $(sql_quote "$meter"), $(sql_quote "$day_from"), $(sql_quote "$day_to"))" \
                "PREPARE d_$lu(text, text, timestamptz, timestamptz) AS
                 SELECT $c_d
                   FROM product.usage_interval
                  WHERE utility_id = \$1 AND meter_id = \$2
                    AND interval_start_ts >= \$3 AND interval_start_ts < \$4
                  ORDER BY interval_start_ts, channel" "$dym"
        fi
        add_item "f-calendar-$lu" "(f) a dense calendar month, $u" \
            "EXECUTE f_$lu($uq, $(sql_quote "$sp"), $(sql_quote "$sp_channel"), $(sql_quote "$month"), $(sql_quote "$next"))" \
            "PREPARE f_$lu(text, text, text, date, date) AS
             SELECT c.local_date, c.weekday_name, c.is_weekend, c.us_federal_holiday, c.ny_state_holiday,
                    d.total_usage, d.interval_count
               FROM gridflow.utility u
               JOIN experience.calendar c ON c.time_zone = u.time_zone
               LEFT JOIN experience.daily_usage d
                      ON d.utility_id = u.utility_id AND d.local_date = c.local_date
                     AND d.service_point_id = \$2 AND d.channel = \$3
              WHERE u.utility_id = \$1 AND c.local_date >= \$4 AND c.local_date < \$5
              ORDER BY c.local_date" "$ym"
    done
fi
for p in "${params[@]}"; do say "   parameters: $p"; done

# --- timing ---------------------------------------------------------------------------
# run_item KEY: REPEAT runs in one session, stopping at the first error;
# sets med (ms, or a phrase), nrows, status (ok, cancelled, error), note
run_item() {
    local k="$1" f="$out/$1" r
    {
        echo "SET statement_timeout = '${timeout}s';"
        [ -n "${prep[$k]}" ] && printf '%s;\n' "${prep[$k]}"
        # planned once first (the plan as text): the session's caches
        # are warm for the timed runs, as in a pooled connection
        echo "\\o $f.plan"
        printf 'EXPLAIN %s;\n' "${stmt[$k]}"
        echo '\o /dev/null'
        echo '\timing on'
        for r in $(seq 1 "$repeat"); do
            printf '%s;\n' "${stmt[$k]}"
            echo '\echo @@ :SQLSTATE :ROW_COUNT'
            echo '\if :ERROR'
            echo '\q'
            echo '\endif'
        done
    } > "$f.sql"
    psql -X -q -At -f "$f.sql" > "$f.time" 2> "$f.err" || true
    timings "$f.time" > "$f.runs"
    if grep -q ' 57014 ' "$f.runs"; then
        status=cancelled; med="> $timeout s (cancelled)"; nrows="-"
        note="cancelled by statement_timeout after $(awk '$2 == "57014" { printf "%.0f", $1; exit }' "$f.runs") ms"
    elif [ ! -s "$f.runs" ] || awk '$2 != "00000" { bad = 1 } END { exit !bad }' "$f.runs"; then
        status=error; med="error"; nrows="-"
        note="$(grep -m1 -o 'ERROR: .*' "$f.err" || echo 'no result')"
    else
        status=ok
        read -r med _ _ <<<"$(stats $(awk '{ print $1 }' "$f.runs"))"
        nrows="$(awk 'END { print $3 }' "$f.runs")"
        note=""
    fi
}

# explain_item KEY: unless the item was cancelled or failed, its analyzed
# plan (planned once before, so that the planning time is a warm
# session's); sets exec_ms, plan_ms, bufs, parts, other, other_seq
explain_item() {
    local k="$1" f="$out/$1" res
    exec_ms="-"; plan_ms="-"; bufs="-"; parts="-"; other="-"; other_seq="-"
    [ "$status" = ok ] || return 0
    {
        echo "SET statement_timeout = '${timeout}s';"
        [ -n "${prep[$k]}" ] && printf '%s;\n' "${prep[$k]}"
        echo '\o /dev/null'
        printf 'EXPLAIN %s;\n' "${stmt[$k]}"
        echo "\\o $f.json"
        printf 'EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, SUMMARY ON, FORMAT JSON) %s;\n' "${stmt[$k]}"
    } > "$f.explain.sql"
    if ! psql -X -q -At -v ON_ERROR_STOP=1 -f "$f.explain.sql" 2>>"$f.err" >/dev/null; then
        note="${note:+$note; }EXPLAIN ANALYZE: $(grep -o 'ERROR: .*' "$f.err" | tail -1)"
        return 0
    fi
    # the scans of relations that ran (Actual Loops > 0); a partition's
    # month is the YYYYMM its name ends with
    res="$(psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -v m="${fmonth[$k]}" <<SQL
\set j \`cat '$f.json'\`
WITH p AS (SELECT (:'j'::jsonb) -> 0 AS j),
scan AS (
    SELECT n ->> 'Relation Name' AS rel, n ->> 'Node Type' AS node,
           substring(n ->> 'Relation Name' FROM '_([0-9]{6})\$') AS month
      FROM p, jsonb_path_query(p.j, 'strict \$.**') AS n
     WHERE jsonb_typeof(n) = 'object' AND n ? 'Relation Name'
       AND (n ->> 'Actual Loops')::numeric > 0
       AND EXISTS (SELECT FROM pg_class c WHERE c.relname = n ->> 'Relation Name' AND c.relispartition)
)
SELECT round((p.j ->> 'Execution Time')::numeric, 2),
       round((p.j ->> 'Planning Time')::numeric, 2),
       (p.j -> 'Plan' ->> 'Shared Hit Blocks')::bigint + (p.j -> 'Plan' ->> 'Shared Read Blocks')::bigint,
       (SELECT count(DISTINCT rel) FROM scan),
       (SELECT count(DISTINCT rel) FROM scan WHERE month <> :'m'),
       (SELECT coalesce(string_agg(DISTINCT rel, ',' ORDER BY rel), '-') FROM scan WHERE month <> :'m' AND node = 'Seq Scan')
  FROM p
SQL
)" || { note="${note:+$note; }the plan could not be read"; return 0; }
    read -r exec_ms plan_ms bufs parts other other_seq <<<"$res"
    [ -n "${fmonth[$k]}" ] || { other="-"; other_seq="-"; }
}

rows=()
printf -v head '   %-44s %20s %8s %9s %10s %8s %10s %6s %6s' item "median ms" "% build" rows "server ms" "plan ms" "buffers" parts other
say ""
say "$head"
for k in "${keys[@]}"; do
    run_item "$k"
    explain_item "$k"
    pct="-"
    [ "$status" = ok ] && pct="$(awk -v a="$med" -v b="$build_med" 'BEGIN { printf "%.1f%%", 100 * a / b }')"
    [ "${other_seq:--}" != "-" ] && note="${note:+$note; }Seq Scan of other months: $other_seq"
    say "$(printf '   %-44s %20s %8s %9s %10s %8s %10s %6s %6s%s' "${label[$k]}" "$med" "$pct" "$nrows" "$exec_ms" "$plan_ms" "$bufs" "$parts" "$other" "${note:+  ($note)}")"
    rows+=("| ${label[$k]} | $med | $pct | $nrows | $exec_ms | $plan_ms | $bufs | $parts | $other | ${note//|/\\|} |")
done

# --- RESULTS.md -----------------------------------------------------------------------
settings="$(q "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name)
                FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'jit', 'random_page_cost', 'effective_cache_size')")"
section="$(mktemp)"
{
    echo "<!-- dq scale $scale $commit -->"
    echo "### DQ views and dashboard queries, scale $scale, gridflow $commit"
    echo ""
    echo "Measured $(date -u +%Y-%m-%d) on $(machine_line), PostgreSQL $(q 'SHOW server_version'), settings of the competitor's pg_bench.conf ($settings); statement_timeout $timeout s (\`make bench-dq SCALE=$scale RUNS=$runs REPEAT=$repeat TIMEOUT=$timeout\`). The scale-$scale drop ($raw_reads landing records) built after an untimed build, $runs timed: median **$build_med ms** as the client saw it (min $build_min, max $build_max), the build's \"total\" step median $total_med ms. Then each item $repeat times in a session of its own: the median of psql's \\timing (statement sent to last row received, every row fetched and discarded; no connection set-up), its share of the build's median, the rows returned; then once under EXPLAIN (ANALYZE, BUFFERS, TIMING OFF): the server's Execution Time, the shared buffers its execution hit or read, the partitions it scanned, and of those the partitions of other months than the one the query filters on."
    echo ""
    for p in "${params[@]}"; do echo "- parameters: $p"; done
    echo ""
    echo "| item | median ms | of the build | rows | execution ms (EXPLAIN) | planning ms | shared buffers hit+read | partitions scanned | of other months | notes |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for r in "${rows[@]}"; do echo "$r"; done
    echo "<!-- end dq scale $scale $commit -->"
} > "$section"
replace_section "dq scale $scale $commit" "$section"
rm -f "$section"
say ""
say "plans in $out; written to $results (section \"dq scale $scale $commit\")"
