#!/usr/bin/env bash
# gridflow benchmark: "make bench SCALE=50 [RUNS=5]".
#
# Generates a drop with the project's generator, starts (or reuses) a
# throwaway PostgreSQL cluster with the settings of the plain-PostgreSQL
# competitor (../shared/bench, which is run, not copied), checks on a small
# drop that gridflow's standardized reads equal the competitor's, then runs
# the competitor, the load floor (a bare COPY of the raw utility2 intervals)
# and gridflow_build alternately, and prints medians, min/max, ratios, rows
# per second and the backend's peak memory.  The figures are written into
# test/bench/RESULTS.md (one section per scale, replaced on each run).
#
# DuckDB (read_csv + SQL, test/bench/duckdb_pipeline.sql) runs in the same
# alternation when Node.js can install @duckdb/node-api from the npm registry
# into BENCH_DIR; set DUCKDB=0 to leave it out.
#
# Every contender is timed the same way: the whole command (psql, the
# competitor's script, node), process start-up included, with nothing else
# running.  Peak memory is measured afterwards, in one more run of each
# whose backend (or process) is sampled every 20 ms: the sampler would
# otherwise take CPU from the timed runs on a small machine.
#
# Environment: SCALE (default 50), RUNS (default 5, 3 above scale 100),
# BENCH_DIR (default /tmp/gridflow-bench: drops, cluster, logs),
# COMPETITOR (default ../shared/bench beside the project), DUCKDB (1/0).
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
scale="${SCALE:-50}"
runs="${RUNS:-}"
if [ -z "$runs" ]; then
    runs=5
    awk -v s="$scale" 'BEGIN { exit !(s > 100) }' && runs=3
fi
log_name="bench-$scale.log"
. "$top/test/bench/common.sh"
if [ ! -f "$competitor/run_pg_baseline.sh" ]; then
    echo "bench: the plain-PostgreSQL competitor is not at $competitor (set COMPETITOR)" >&2
    exit 2
fi

# --- build and install --------------------------------------------------------
bench_install

# --- DuckDB, optional -------------------------------------------------------------
duckdb_version="1.5.6-r.1"
duck="$work/duckdb"
use_duckdb=0
if [ "${DUCKDB:-1}" != 0 ]; then
    if ! command -v npm >/dev/null 2>&1; then
        { apt-get install -y -q nodejs npm || { apt-get update -q && apt-get install -y -q nodejs npm; }; } >>"$log" 2>&1 || true
    fi
    if command -v npm >/dev/null 2>&1; then
        if [ ! -d "$duck/node_modules/@duckdb/node-api" ]; then
            mkdir -p "$duck"
            npm install --silent --no-audit --no-fund --prefix "$duck" "@duckdb/node-api@$duckdb_version" >>"$log" 2>&1 || true
        fi
        if [ -d "$duck/node_modules/@duckdb/node-api" ]; then
            cp "$top/test/bench/duckdb_run.mjs" "$top/test/bench/duckdb_pipeline.sql" "$duck/"
            use_duckdb=1
        fi
    fi
    [ "$use_duckdb" = 1 ] || say "bench: DuckDB left out (Node.js or @duckdb/node-api could not be installed)"
fi

# --- drops and cluster ------------------------------------------------------------
drop="$(make_drop "$scale")"
check_drop="$(make_drop 1)"
bench_cluster

# --- helpers ---------------------------------------------------------------------
gridflow_build() {   # gridflow_build DROP
    psql -X -q -At -v ON_ERROR_STOP=1 \
        -c "SELECT step || ' ' || coalesce(table_name, '') || ' ' || coalesce(row_count::text, '') || ' ' || round(elapsed_ms::numeric) FROM gridflow_build('$1')"
}
baseline() { bash "$competitor/run_pg_baseline.sh" "$1"; }
duckdb_pipeline() { node "$duck/duckdb_run.mjs" "$duck/duckdb_pipeline.sql" "$1"; }
floor_copy() { bash "$competitor/limit_pg.sh" "$1" copy; }

# --- correctness first: gridflow's standardized reads equal the competitor's -----
say "== checking gridflow against the competitor on the scale-1 drop"
baseline "$check_drop" >>"$log" 2>&1
gridflow_build "$check_drop" >>"$log"
# Utility1 keeps ISO instants; utility2's integer dates are local midnight in
# gridflow and UTC midnight in the competitor, so its reads compare by date.
mismatch="$(psql -X -At -v ON_ERROR_STOP=1 <<'SQL'
WITH g AS (
    SELECT utility_id, coalesce(service_point_id, '') AS sp, meter_id, channel, value,
           CASE WHEN utility_id = 'UTILITY2'
                THEN to_char(interval_start_ts AT TIME ZONE 'America/New_York', 'YYYY-MM-DD')
                ELSE to_char(interval_start_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') END AS t
      FROM standardized.interval_read
), b AS (
    SELECT utility_id, coalesce(service_point_id, '') AS sp, meter_id, channel, value,
           CASE WHEN utility_id = 'UTILITY2'
                THEN to_char(interval_start_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                ELSE to_char(interval_start_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') END AS t
      FROM gfb.intervals
)
SELECT (SELECT count(*) FROM g) || ' ' || (SELECT count(*) FROM b) || ' ' ||
       (SELECT count(*) FROM (SELECT * FROM g EXCEPT ALL SELECT * FROM b) x) || ' ' ||
       (SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM g) x);
SQL
)"
read -r n_g n_b only_g only_b <<<"$mismatch"
say "   standardized reads: gridflow $n_g, competitor $n_b; only in gridflow $only_g, only in competitor $only_b"
if [ "$n_g" != "$n_b" ] || [ "$only_g" != 0 ] || [ "$only_b" != 0 ]; then
    say "bench: gridflow and the competitor disagree; not timing anything"
    exit 1
fi
# Experience, rolled up to the competitor's grain (UTC day, no channel):
# counts and totals per service point and day.
exp_check="$(psql -X -At -v ON_ERROR_STOP=1 <<'SQL'
WITH g AS (
    SELECT utility_id, service_point_id,
           (interval_start_ts AT TIME ZONE 'UTC')::date AS day,
           count(value) AS n, sum(value) AS total, max(value) AS peak, min(value) AS pit
      FROM product.usage_interval WHERE service_point_id IS NOT NULL
     GROUP BY 1, 2, 3
), b AS (
    SELECT utility_id, service_point_id, bucket_start::date AS day,
           interval_count AS n, total_usage AS total, peak_usage_value AS peak, pit_usage_value AS pit
      FROM gfb.experience
)
SELECT count(*) FILTER (WHERE b.day IS NULL OR g.day IS NULL
                          OR g.n <> b.n OR g.peak <> b.peak OR g.pit <> b.pit
                          OR abs(g.total - b.total) > 1e-6 * greatest(abs(b.total), 1))
  FROM g FULL JOIN b USING (utility_id, service_point_id, day);
SQL
)"
say "   experience rolled up to UTC days without channel: $exp_check differing rows"
if [ "$exp_check" != 0 ]; then
    say "bench: the experience layers disagree; not timing anything"
    exit 1
fi

# DuckDB: the same kept reads (count and total per utility) and the same
# service-point days (UTC, no channel, orphans as UNKNOWN_SERVICE_POINT).
if [ "$use_duckdb" = 1 ]; then
    duck_out="$(duckdb_pipeline "$check_drop")"
    printf '%s\n' "$duck_out" >>"$log"
    norm() { awk -F'\t' -v OFS='\t' '$1 == "days" { print } $1 == "reads" { $4 = sprintf("%.3f", $4); print }' | sort; }
    duck_lines="$(printf '%s\n' "$duck_out" | norm)"
    grid_lines="$(psql -X -At -F $'\t' -v ON_ERROR_STOP=1 <<'SQL' | sort
SELECT 'reads', utility_id, count(*), round(sum(value::numeric), 3)
  FROM standardized.interval_read GROUP BY utility_id;
SELECT 'days', count(*) FROM (
    SELECT DISTINCT utility_id, coalesce(service_point_id, 'UNKNOWN_SERVICE_POINT'),
           (interval_start_ts AT TIME ZONE 'UTC')::date
      FROM product.usage_interval) d;
SQL
)"
    grid_lines="$(printf '%s\n' "$grid_lines" | norm)"
    say "   DuckDB: $(printf '%s' "$duck_lines" | tr '\t\n' ' ;')"
    if [ "$duck_lines" != "$grid_lines" ]; then
        say "   gridflow:  $(printf '%s' "$grid_lines" | tr '\t\n' ' ;')"
        say "bench: gridflow and DuckDB disagree; not timing anything"
        exit 1
    fi
fi

# --- timing ----------------------------------------------------------------------
raw_rows=$(( $(wc -l < "$drop/utility2/utility2_intervals.csv") ))
bytes=$(cat "$drop"/utility1/*.csv "$drop"/utility2/*.csv | wc -c)
say "== scale $scale: $raw_rows raw utility2 reads, $bytes bytes in six files; $runs runs each"
declare -a t_base t_grid t_floor t_duck m_base_anon m_base_hwm m_grid_anon m_grid_hwm m_duck
cat "$drop"/utility1/*.csv "$drop"/utility2/*.csv > /dev/null   # warm the page cache
for i in $(seq 1 "$runs"); do
    run_timed baseline "$drop"
    t_base+=("$run_s")
    run_timed floor_copy "$drop"
    t_floor+=("$run_s")
    run_timed gridflow_build "$drop"
    t_grid+=("$run_s")
    duck_note=""
    if [ "$use_duckdb" = 1 ]; then
        run_timed duckdb_pipeline "$drop"
        t_duck+=("$run_s")
        duck_note=", DuckDB ${t_duck[-1]} s"
    fi
    say "   run $i: competitor ${t_base[-1]} s, floor ${t_floor[-1]} s, gridflow ${t_grid[-1]} s$duck_note"
done
# peak memory, in runs of their own
run_sampled gridflow-bench-baseline baseline "$drop"
m_base_anon+=("$run_anon_kb"); m_base_hwm+=("$run_hwm_kb")
run_sampled gridflow-bench-gridflow gridflow_build "$drop"
m_grid_anon+=("$run_anon_kb"); m_grid_hwm+=("$run_hwm_kb")
if [ "$use_duckdb" = 1 ]; then
    /usr/bin/time -f 'maxrss %M' -o "$work/duck.time" node "$duck/duckdb_run.mjs" "$duck/duckdb_pipeline.sql" "$drop" >>"$log"
    m_duck+=("$(awk '/^maxrss/ { print $2 }' "$work/duck.time")")
fi
say "   peak memory (sampled runs): competitor ${m_base_anon[-1]} kB private, gridflow ${m_grid_anon[-1]} kB private"
# the phases of the last gridflow build
phases="$(gridflow_build "$drop")"

read -r base_med base_min base_max <<<"$(stats "${t_base[@]}")"
read -r grid_med grid_min grid_max <<<"$(stats "${t_grid[@]}")"
read -r floor_med floor_min floor_max <<<"$(stats "${t_floor[@]}")"
speedup=$(awk -v b="$base_med" -v g="$grid_med" 'BEGIN { printf "%.1f", b / g }')
vs_floor=$(awk -v f="$floor_med" -v g="$grid_med" 'BEGIN { printf "%.2f", g / f }')
rate=$(awk -v r="$raw_rows" -v g="$grid_med" 'BEGIN { printf "%.0f", r / g }')
base_rate=$(awk -v r="$raw_rows" -v g="$base_med" 'BEGIN { printf "%.0f", r / g }')
mem_grid_anon=$(( $(maxof "${m_grid_anon[@]}") / 1024 ))
mem_grid_hwm=$(( $(maxof "${m_grid_hwm[@]}") / 1024 ))
mem_base_anon=$(( $(maxof "${m_base_anon[@]}") / 1024 ))
mem_base_hwm=$(( $(maxof "${m_base_hwm[@]}") / 1024 ))
if [ "$use_duckdb" = 1 ]; then
    read -r duck_med duck_min duck_max <<<"$(stats "${t_duck[@]}")"
    duck_rate=$(awk -v r="$raw_rows" -v g="$duck_med" 'BEGIN { printf "%.0f", r / g }')
    vs_duck=$(awk -v d="$duck_med" -v g="$grid_med" 'BEGIN { printf "%.2f", d / g }')
    mem_duck=$(( $(maxof "${m_duck[@]}") / 1024 ))
fi

say ""
say "scale $scale ($raw_rows raw utility2 reads)      median   min     max     reads/s"
say "  plain PostgreSQL (COPY + SQL)        $(printf '%6.2f  %6.2f  %6.2f  %9s' "$base_med" "$base_min" "$base_max" "$base_rate")"
say "  floor: COPY raw utility2 intervals   $(printf '%6.2f  %6.2f  %6.2f' "$floor_med" "$floor_min" "$floor_max")"
[ "$use_duckdb" = 1 ] && say "  DuckDB (read_csv + SQL, in memory)   $(printf '%6.2f  %6.2f  %6.2f  %9s' "$duck_med" "$duck_min" "$duck_max" "$duck_rate")"
say "  gridflow_build                       $(printf '%6.2f  %6.2f  %6.2f  %9s' "$grid_med" "$grid_min" "$grid_max" "$rate")"
say "  gridflow is ${speedup}x faster than plain PostgreSQL and takes ${vs_floor}x the floor"
[ "$use_duckdb" = 1 ] && say "  DuckDB takes ${vs_duck}x gridflow's time (peak RSS of the node process ${mem_duck} MB)"
say "  backend peak memory: gridflow ${mem_grid_anon} MB private (VmHWM ${mem_grid_hwm} MB with shared buffers touched);"
say "                       plain PostgreSQL ${mem_base_anon} MB private (VmHWM ${mem_base_hwm} MB)"
say "  phases of a gridflow build (step, table, rows, ms):"
printf '%s\n' "$phases" | sed 's/^/    /' | tee -a "$log"

# --- RESULTS.md ----------------------------------------------------------------
machine="$(machine_line)"
pgver="$(psql -X -At -c "SHOW server_version")"
section="$(mktemp)"
{
    echo "<!-- scale $scale -->"
    echo "### Scale $scale: $raw_rows raw utility2 reads, $(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1e6 }') MB in six files"
    echo ""
    echo "Measured $(date -u +%Y-%m-%d) on $machine, PostgreSQL $pgver, settings of the competitor's pg_bench.conf; $runs runs each, alternating, each timed whole (process start-up included) with nothing else running; peak memory from one more run of each, sampled every 20 ms."
    echo ""
    echo "| pipeline | median s | min s | max s | raw reads/s | backend peak memory |"
    echo "|---|---|---|---|---|---|"
    echo "| plain PostgreSQL (COPY + SQL) | $base_med | $base_min | $base_max | $base_rate | $mem_base_anon MB private, VmHWM $mem_base_hwm MB |"
    echo "| floor: bare COPY of the raw utility2 intervals | $floor_med | $floor_min | $floor_max | | |"
    if [ "$use_duckdb" = 1 ]; then
        echo "| DuckDB $duckdb_version read_csv + SQL, in memory | $duck_med | $duck_min | $duck_max | $duck_rate | $mem_duck MB peak RSS (whole process) |"
    fi
    echo "| gridflow_build | $grid_med | $grid_min | $grid_max | $rate | $mem_grid_anon MB private, VmHWM $mem_grid_hwm MB |"
    echo ""
    if [ "$use_duckdb" = 1 ]; then
        echo "gridflow: **${speedup}x** faster than plain PostgreSQL, **${vs_floor}x** the floor; DuckDB takes **${vs_duck}x** gridflow's time."
    else
        echo "gridflow: **${speedup}x** faster than plain PostgreSQL, **${vs_floor}x** the floor (DuckDB not run)."
    fi
    echo ""
    echo "Phases of the last build (\`gridflow_build\` result: step, table, rows, ms):"
    echo ""
    echo '```'
    printf '%s\n' "$phases"
    echo '```'
    echo "<!-- end scale $scale -->"
} > "$section"
replace_section "scale $scale" "$section"
rm -f "$section"
say ""
say "results written to test/bench/RESULTS.md (full log: $log)"
