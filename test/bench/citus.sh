#!/usr/bin/env bash
# Citus mode on one machine: "make bench-citus SCALE=50 [RUNS=3] [REPEAT=3]".
#
# Starts (or reuses) three throwaway clusters under BENCH_DIR/citus, a Citus
# coordinator and two workers, as in docs/distributed.md ("The same tables
# on Citus") and test/tap/t/012_citus_layers.pl: database "citus" on every
# node with the citus extension, the workers added, gridflow created on the
# coordinator and gridflow_citus_setup() run (the configuration as
# reference tables, the layers of reads, products, days and months
# distributed on service_point_id); and database "single" on the
# coordinator with gridflow alone (the reference).  Then:
#   - gridflow_build() of the generated drop of the scale, RUNS times, in
#     "single" and in "citus" alternately, each timed whole by the client;
#     the medians, min and max, their ratio and the steps of the last Citus
#     build (the "citus" steps: the rows each layer moved to the workers);
#   - the four layers (reads, products, days, months) must have the same
#     rows in both databases (count and sum of hashtext of each row);
#     otherwise the bench stops with an error;
#   - reads, in each database, each REPEAT times in one session (the median
#     of psql's \timing, every row fetched) with one EXPLAIN (ANALYZE,
#     TIMING OFF, SUMMARY ON) kept in BENCH_DIR/citus-SCALE/DB-ITEM.plan:
#     (a) a service point's days over a month, (b) daily totals per utility
#     and channel over that month, (c) the top 10 service points by peak on
#     one channel and day, (d) a meter's reads of one day, (e) reads per
#     utility with gridflow.exact_sum and gridflow.peak_pit, (f) SELECT * FROM
#     dq.snapshot, (g) count(*) of every view of schema dq (found in the
#     catalog); the values picked from the built data as test/bench/dq.sh
#     picks them (the month with the most days; in it the service point
#     with the most days, its utility's busiest day, that day's commonest
#     channel and the meter with the most reads); (a) to (e) and (g) must
#     return the same rows in both (reported); for Citus the "Task Count"
#     of the plans of (a), (d) and (e);
#   - readers beside a build: one more Citus build while pgbench runs 4
#     clients of test/bench/readers.sql (a service point's days, the same
#     joined to its service point, dq.row_counts) against "citus" for as
#     long as the median Citus build took: transactions done and failed,
#     p99 and max latency; the layers are checked against "single" again.
# Writes the "citus, scale N" section of test/bench/RESULTS.md.  The
# three clusters share this machine's cores: this shows what Citus mode
# costs and how reads are routed, not a speed-up.
#
# Without citus.so in the server's library directory (GRIDFLOW_CITUS_LIBDIR
# overrides where it is looked for) there is nothing to measure: it says
# so and exits 0.
#
# Environment: SCALE (default 50), RUNS (default 3), REPEAT (default 3),
# TIMEOUT (statement_timeout of the reads, seconds, default 120),
# BENCH_CITUS_PORT (default 54360: the coordinator; the workers take the
# next two ports), and those of common.sh (BENCH_DIR, COMPETITOR,
# GRIDFLOW_DESTDIR).
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
scale="${SCALE:-50}"
runs="${RUNS:-3}"
repeat="${REPEAT:-3}"
timeout="${TIMEOUT:-120}"
log_name="citus-$scale.log"

citus_libdir="${GRIDFLOW_CITUS_LIBDIR:-$(pg_config --pkglibdir)}"
if [ ! -f "$citus_libdir/citus.so" ]; then
    echo "bench-citus: Citus is not installed (no citus.so in $citus_libdir): nothing to measure"
    exit 0
fi

. "$top/test/bench/common.sh"

bench_install
drop="$(make_drop "$scale")"

bindir="$(pg_config --bindir)"
dir="$work/citus"
out="$work/citus-$scale"
p0="${BENCH_CITUS_PORT:-54360}"
p1=$((p0 + 1))
p2=$((p0 + 2))
mkdir -p "$dir"
chown postgres: "$dir"
rm -rf "$out"
mkdir -p "$out"
chmod a+rwx "$out"
as_pg() { runuser -u postgres -- "$@"; }

start_node() {   # start_node NAME PORT
    local d="$dir/$1"
    if [ ! -f "$d/PG_VERSION" ]; then
        rm -rf "$d"
        as_pg "$bindir/initdb" -D "$d" -A trust -N -E UTF8 --locale=C.UTF-8 >>"$log"
        cat >> "$d/postgresql.conf" <<EOF
port = $2
unix_socket_directories = '$dir'
listen_addresses = ''
fsync = off
synchronous_commit = off
shared_buffers = 512MB
max_wal_size = 4GB
autovacuum = off
shared_preload_libraries = 'citus'
max_worker_processes = 8
EOF
    fi
    # Citus connects to its own node too (EXPLAIN ANALYZE of some reads):
    # through the socket directory, there being no TCP
    if ! grep -q '^citus.local_hostname = ' "$d/postgresql.conf"; then
        echo "citus.local_hostname = '$dir'" >> "$d/postgresql.conf"
        as_pg "$bindir/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if destdir_conf "$d/postgresql.conf"; then
        as_pg "$bindir/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1 || true
    fi
    as_pg "$bindir/pg_ctl" -D "$d" status >/dev/null 2>&1 ||
        as_pg "$bindir/pg_ctl" -D "$d" -l "$d.log" -w start >>"$log"
}
stop_nodes() {
    for n in coordinator worker1 worker2; do
        as_pg "$bindir/pg_ctl" -D "$dir/$n" -m fast -w stop >/dev/null 2>&1 || true
    done
}
trap stop_nodes EXIT
q() {   # q PORT DB SQL
    psql -X -q -At -h "$dir" -U postgres -p "$1" -d "$2" -v ON_ERROR_STOP=1 -c "$3"
}
sql_quote() { printf "'%s'" "${1//\'/\'\'}"; }

start_node coordinator "$p0"
start_node worker1 "$p1"
start_node worker2 "$p2"
# the coordinator's databases first: its maintenance daemon holds
# connections to the workers' database
for p in "$p0" "$p1" "$p2"; do
    PGOPTIONS="-c client_min_messages=warning" q "$p" postgres "DROP DATABASE IF EXISTS citus WITH (FORCE)" >>"$log"
done
for p in "$p0" "$p1" "$p2"; do
    q "$p" postgres "CREATE DATABASE citus" >>"$log"
    q "$p" citus "SET client_min_messages = warning; CREATE EXTENSION citus" >>"$log"
done
# the nodes registered by their socket directory (the host of a
# connection through a Unix socket, as the TAP test does)
q "$p0" citus "SELECT citus_set_coordinator_host($(sql_quote "$dir"), $p0)" >>"$log"
q "$p0" citus "SELECT citus_add_node($(sql_quote "$dir"), $p1)" >>"$log"
q "$p0" citus "SELECT citus_add_node($(sql_quote "$dir"), $p2)" >>"$log"
q "$p0" citus "SET client_min_messages = warning; CREATE EXTENSION gridflow" >>"$log"
setup="$(q "$p0" citus "SELECT table_name || ': ' || action FROM gridflow_citus_setup()")"
echo "$setup" >>"$log"
distributed="$(grep -c ': made a distributed table$' <<<"$setup" || true)"
if [ "$distributed" != 4 ]; then
    say "bench: gridflow_citus_setup() made $distributed distributed tables, not 4 (see $log)" >&2
    exit 1
fi
PGOPTIONS="-c client_min_messages=warning" q "$p0" postgres "DROP DATABASE IF EXISTS single WITH (FORCE)" >>"$log"
q "$p0" postgres "CREATE DATABASE single" >>"$log"
q "$p0" single "SET client_min_messages = warning; CREATE EXTENSION gridflow" >>"$log"
citus_version="$(q "$p0" citus "SELECT split_part(citus_version(), ' ', 2)")"

# --- the builds ------------------------------------------------------------------------
steps_sql="SELECT step || ' | ' || coalesce(table_name, '') || ' | ' || coalesce(row_count::text, '') || ' | ' || round(elapsed_ms) FROM gridflow_build($(sql_quote "$drop"))"
# the four layers: rows and the sum of a hash of each, per layer
layers_sql="SELECT string_agg(t || '=' || n || '/' || h, ' ' ORDER BY t) FROM (
  SELECT 'reads' t, count(*) n, coalesce(sum(hashtext(x::text)::bigint), 0) h FROM standardized.interval_read x
  UNION ALL SELECT 'products', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) FROM product.usage_interval x
  UNION ALL SELECT 'days', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) FROM experience.daily_usage x
  UNION ALL SELECT 'months', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) FROM experience.monthly_usage x) s"
check_layers() {   # check_layers WHEN: the four layers equal in both databases
    local s c
    s="$(q "$p0" single "$layers_sql")"
    c="$(q "$p0" citus "$layers_sql")"
    if [ "$s" != "$c" ]; then
        say "bench: the layers differ $1 (layer=rows/hash sum)" >&2
        say "  single: $s" >&2
        say "  citus:  $c" >&2
        exit 1
    fi
    layers_equal="$s"
}

declare -a t_single t_citus
say "== citus, scale $scale: $drop; Citus $citus_version, a coordinator and two workers; $runs runs each"
for run in $(seq 1 "$runs"); do
    t0="$(now)"
    q "$p0" single "$steps_sql" > "$out/single.steps"
    t_single+=("$(elapsed "$t0")")
    t0="$(now)"
    q "$p0" citus "$steps_sql" > "$out/citus.steps"
    t_citus+=("$(elapsed "$t0")")
    say "   run $run: single node ${t_single[-1]} s, Citus ${t_citus[-1]} s"
done
check_layers "after the builds"
say "   the four layers equal in both databases (layer=rows/hash sum): $layers_equal"
read -r m_single lo_single hi_single <<<"$(stats "${t_single[@]}")"
read -r m_citus lo_citus hi_citus <<<"$(stats "${t_citus[@]}")"
ratio="$(awk -v a="$m_citus" -v b="$m_single" 'BEGIN { printf "%.2f", a / b }')"
moved="$(awk -F' [|] ' '$1 == "citus" && $3 != "" { n += $3; ms += $4 } END { printf "%d rows in %d ms", n, ms }' "$out/citus.steps")"
say ""
say "scale $scale                                   median   min     max"
say "  gridflow_build, single node              $(printf '%6.2f  %6.2f  %6.2f' "$m_single" "$lo_single" "$hi_single")"
say "  gridflow_build, Citus coordinator        $(printf '%6.2f  %6.2f  %6.2f' "$m_citus" "$lo_citus" "$hi_citus")"
say "  Citus / single node: $ratio; moved to the workers by the last Citus build: $moved"
say "  steps of the last Citus build (step | table | rows | ms):"
sed 's/^/    /' "$out/citus.steps" | tee -a "$log"

# --- the reads ---------------------------------------------------------------------------
# The values, from the single node's layers (equal to the Citus ones).
qs() { q "$p0" single "$1"; }
month="$(qs "SELECT date_trunc('month', local_date)::date FROM experience.daily_usage
              GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
if [ -z "$month" ]; then
    say "bench: no rows in experience.daily_usage after the builds" >&2
    exit 1
fi
next="$(qs "SELECT ($(sql_quote "$month")::date + interval '1 month')::date")"
inmonth="local_date >= $(sql_quote "$month") AND local_date < $(sql_quote "$next")"
IFS='|' read -r utility sp <<<"$(qs "SELECT utility_id || '|' || service_point_id FROM experience.daily_usage WHERE $inmonth
                                    GROUP BY utility_id, service_point_id
                                    ORDER BY count(*) DESC, sum(interval_count) DESC, service_point_id LIMIT 1")"
uq="$(sql_quote "$utility")"
day="$(qs "SELECT local_date FROM experience.daily_usage WHERE utility_id = $uq AND $inmonth
            GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
channel="$(qs "SELECT channel FROM experience.daily_usage WHERE utility_id = $uq AND local_date = $(sql_quote "$day")
                GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
meter="$(qs "SELECT meter_id FROM product.usage_interval WHERE utility_id = $uq AND local_date = $(sql_quote "$day")
              AND meter_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
# the local day as a range of the timestamp the products are partitioned on
day_from="$(qs "SELECT ($(sql_quote "$day")::date::timestamp AT TIME ZONE time_zone)::text FROM gridflow.utility WHERE utility_id = $uq")"
day_to="$(qs "SELECT (($(sql_quote "$day")::date + 1)::timestamp AT TIME ZONE time_zone)::text FROM gridflow.utility WHERE utility_id = $uq")"
params="month $month to $next (exclusive); $utility: service point $sp (a), day $day and channel $(sql_quote "$channel") (c), meter $meter on that day (d)"
say ""
say "   parameters: $params"

# Each item: a key (file names), a label, the statement, the PREPARE it
# needs (or nothing), whether both databases must return the same rows.
keys=()
declare -A label stmt prep compare
add_item() { keys+=("$1"); label[$1]="$2"; stmt[$1]="$3"; prep[$1]="${4:-}"; compare[$1]="${5:-yes}"; }
add_item a-sp-days "(a) a service point's days over a month" \
    "EXECUTE a($uq, $(sql_quote "$sp"), $(sql_quote "$month"), $(sql_quote "$next"))" \
    "PREPARE a(text, text, date, date) AS
     SELECT local_date, channel, unit, total_usage, interval_count, peak_usage_value, peak_usage_ts,
            pit_usage_value, pit_usage_ts
       FROM experience.daily_usage
      WHERE utility_id = \$1 AND service_point_id = \$2 AND local_date >= \$3 AND local_date < \$4
      ORDER BY local_date, channel"
add_item b-daily-totals "(b) daily totals per utility and channel over the month" \
    "EXECUTE b($(sql_quote "$month"), $(sql_quote "$next"))" \
    "PREPARE b(date, date) AS
     SELECT utility_id, local_date, channel, count(*) AS service_points,
            sum(total_usage::numeric) AS total_usage, sum(interval_count) AS reads
       FROM experience.daily_usage
      WHERE local_date >= \$1 AND local_date < \$2
      GROUP BY utility_id, local_date, channel
      ORDER BY utility_id, local_date, channel"
add_item c-top-peaks "(c) top 10 service points by peak, one channel and day" \
    "EXECUTE c($uq, $(sql_quote "$channel"), $(sql_quote "$day"))" \
    "PREPARE c(text, text, date) AS
     SELECT service_point_id, peak_usage_value, peak_usage_ts, total_usage
       FROM experience.daily_usage
      WHERE utility_id = \$1 AND channel = \$2 AND local_date = \$3
      ORDER BY peak_usage_value DESC, service_point_id
      LIMIT 10"
if [ -n "$meter" ]; then
    add_item d-meter-day "(d) a meter's reads of one day" \
        "EXECUTE d($uq, $(sql_quote "$meter"), $(sql_quote "$day_from"), $(sql_quote "$day_to"))" \
        "PREPARE d(text, text, timestamptz, timestamptz) AS
         SELECT interval_start_ts, interval_end_ts, channel, value, quality, service_point_id
           FROM product.usage_interval
          WHERE utility_id = \$1 AND meter_id = \$2
            AND interval_start_ts >= \$3 AND interval_start_ts < \$4
          ORDER BY interval_start_ts, channel"
fi
add_item e-by-utility "(e) reads per utility, exact_sum and peak_pit" \
    "SELECT utility_id, count(*), gridflow.exact_sum(value), gridflow.peak_pit(value, interval_start_ts) FROM product.usage_interval GROUP BY utility_id"
# the report names its build and when it ran: not compared
add_item f-dq-snapshot "(f) dq.snapshot" "SELECT * FROM dq.snapshot" "" no
while read -r v; do
    [ -n "$v" ] && add_item "g-dq.$v" "(g) count(*) of dq.$v" "SELECT count(*) FROM dq.$v"
done < <(qs "SELECT quote_ident(c.relname) FROM pg_class c
              WHERE c.relnamespace = 'dq'::regnamespace AND c.relkind IN ('v', 'm')
              ORDER BY c.relname COLLATE \"C\"")

# run_item DB KEY: the item REPEAT times in one session (planned once first,
# so that the session is warm), its rows once more into DB-KEY.out, then
# EXPLAIN ANALYZE into DB-KEY.plan; sets med (ms, or "error"), nrows, note
run_item() {
    local db="$1" k="$2" f="$out/$1-$2" r
    {
        echo "SET statement_timeout = '${timeout}s';"
        [ -n "${prep[$k]}" ] && printf '%s;\n' "${prep[$k]}"
        echo '\o /dev/null'
        printf 'EXPLAIN %s;\n' "${stmt[$k]}"
        echo '\timing on'
        for r in $(seq 1 "$repeat"); do
            printf '%s;\n' "${stmt[$k]}"
            echo '\echo @@ :SQLSTATE :ROW_COUNT'
            echo '\if :ERROR'
            echo '\q'
            echo '\endif'
        done
        echo '\timing off'
        echo "\\o $f.out"
        printf '%s;\n' "${stmt[$k]}"
        echo "\\o $f.plan"
        printf 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) %s;\n' "${stmt[$k]}"
        # where EXPLAIN ANALYZE fails, the plan without it
        echo '\if :ERROR'
        echo '\echo @@ explain-analyze-failed'
        echo "\\o $f.plan"
        printf 'EXPLAIN %s;\n' "${stmt[$k]}"
        echo '\endif'
    } > "$f.sql"
    psql -X -q -At -h "$dir" -U postgres -p "$p0" -d "$db" -f "$f.sql" > "$f.time" 2> "$f.err" || true
    awk '/^Time: / { t = $2 } /^@@ / && $2 != "explain-analyze-failed" { print t, $2, $3 }' "$f.time" > "$f.runs"
    if [ "$(wc -l < "$f.runs")" != "$repeat" ] || awk '$2 != "00000" { bad = 1 } END { exit !bad }' "$f.runs"; then
        med=error; nrows="-"
        note="$db: $(grep -m1 -o 'ERROR: .*' "$f.err" || echo 'no result')"
    else
        mapfile -t ms < <(awk '{ print $1 }' "$f.runs")
        read -r med _ _ <<<"$(stats "${ms[@]}")"
        nrows="$(awk 'END { print $3 }' "$f.runs")"
        note=""
        if grep -q '^@@ explain-analyze-failed' "$f.time"; then
            note="$db: EXPLAIN ANALYZE fails ($(grep -m1 -o 'ERROR: .*' "$f.err" | sed 's/^ERROR: *//')), the plan kept is not analyzed"
        fi
    fi
}

rows=()
failed_items=0
say ""
say "$(printf '   %-56s %10s %10s %6s %8s %6s %s' item "single ms" "citus ms" ratio rows equal "tasks")"
for k in "${keys[@]}"; do
    run_item single "$k"
    s_med="$med"; s_rows="$nrows"; notes="$note"
    run_item citus "$k"
    c_med="$med"; c_rows="$nrows"; notes="${notes:+$notes; }$note"
    r="-"
    [ "$s_med" != error ] && [ "$c_med" != error ] &&
        r="$(awk -v a="$c_med" -v b="$s_med" 'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }')"
    equal="-"
    if [ "${compare[$k]}" = yes ] && [ "$s_med" != error ] && [ "$c_med" != error ]; then
        if [ "$(sort "$out/single-$k.out" | md5sum)" = "$(sort "$out/citus-$k.out" | md5sum)" ]; then
            equal=yes
        else
            equal=NO; failed_items=$((failed_items + 1))
        fi
    fi
    # the tasks Citus split the read into (one line per distributed scan)
    tasks="$(grep -o 'Task Count: [0-9]*' "$out/citus-$k.plan" 2>/dev/null | awk '{ print $3 }' | paste -sd+ - || true)"
    case "$k" in [a-e]-*) ;; *) tasks="" ;; esac
    nr="$s_rows"; [ "$s_rows" = "$c_rows" ] || nr="$s_rows/$c_rows"
    say "$(printf '   %-56s %10s %10s %6s %8s %6s %s' "${label[$k]}" "$s_med" "$c_med" "$r" "$nr" "$equal" "${tasks:--}")${notes:+  ($notes)}"
    rows+=("| ${label[$k]} | $s_med | $c_med | $r | $nr | $equal | ${tasks:--} | ${notes//|/\\|} |")
done
if [ "$failed_items" -gt 0 ]; then
    say "bench: $failed_items reads returned different rows on Citus than on the single node (see $out/*.out)" >&2
    exit 1
fi

# --- readers beside a build --------------------------------------------------------------
# the service points that have days, numbered (the benchmark's own table,
# on the coordinator), as test/bench/readers.sh makes it
q "$p0" citus "SET client_min_messages = warning;
   DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench;
   CREATE TABLE bench.sp_ids AS
   SELECT row_number() OVER (ORDER BY service_point_id) AS n, service_point_id
     FROM (SELECT DISTINCT service_point_id FROM experience.daily_usage) s;
   CREATE UNIQUE INDEX ON bench.sp_ids (n); ANALYZE bench.sp_ids;" >>"$log"
nsp="$(q "$p0" citus "SELECT count(*) FROM bench.sp_ids")"
duration="$(awk -v m="$m_citus" 'BEGIN { d = int(m); if (d < m) d++; if (d < 1) d = 1; print d }')"
say ""
say "   readers: 4 pgbench clients of test/bench/readers.sql for $duration s ($nsp service points) beside one more Citus build"
brc=0
(
    b0="$(now)"
    q "$p0" citus "$steps_sql" > "$out/beside.steps" 2> "$out/beside.err"
    elapsed "$b0" > "$out/beside.time"
) &
bp=$!
(cd "$out" && as_pg pgbench -h "$dir" -p "$p0" -U postgres -n -c 4 -j 2 -T "$duration" \
    --log --log-prefix=readers --failures-detailed -D nsp="$nsp" \
    -f "$top/test/bench/readers.sql" citus) > "$out/readers.pgbench" 2>&1 || true
wait "$bp" || brc=$?
if [ "$brc" != 0 ]; then
    say "bench: the Citus build beside the readers failed: $(grep -m1 -o 'ERROR:.*' "$out/beside.err" || true)" >&2
    exit 1
fi
check_layers "after the build beside the readers"
b_s="$(cat "$out/beside.time")"
# the per-transaction log -> "done failed p99 max" (ms): a latency in
# microseconds, or the kind of failure, in the third field
r_failed="$(cat "$out"/readers.[0-9]* 2>/dev/null | awk '$3 !~ /^[0-9]+$/' | wc -l)"
read -r r_done r_p99 r_max <<<"$(cat "$out"/readers.[0-9]* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ { print $3 / 1000 }' | sort -g | awk '
    { l[NR] = $1 }
    END {
        if (NR == 0) { print "0 - -"; exit }
        printf "%d %.1f %.1f", NR, l[int((NR - 1) * 0.99) + 1], l[NR]
    }')"
aborted="$(grep -cE 'client [0-9]+ aborted' "$out/readers.pgbench" || true)"
r_err="$(grep -m1 -o 'ERROR: .*' "$out/readers.pgbench" || true)"
readers_line="$r_done transactions, $r_failed failed, $aborted clients aborted${r_err:+ ($r_err)}; latency p99 $r_p99 ms, max $r_max ms; the build beside them took $b_s s (median alone $m_citus s), the layers equal to the single node's after it"
say "   readers: $readers_line"

# --- RESULTS.md --------------------------------------------------------------------------
section="$(mktemp)"
{
    echo "<!-- citus scale $scale -->"
    echo "### Citus, scale $scale: a coordinator and two workers on this machine"
    echo
    echo "Measured $(date +%F) on $(machine_line), PostgreSQL $(q "$p0" citus 'SHOW server_version'), Citus $citus_version; three clusters (shared_buffers 512MB, fsync off) sharing this machine's $(nproc) cores, so this shows what Citus mode costs and how reads are routed, not a speed-up (\`make bench-citus SCALE=$scale RUNS=$runs REPEAT=$repeat\`). Database \`single\` on the coordinator has gridflow alone; database \`citus\` has the layers distributed by \`gridflow_citus_setup()\` (on service_point_id, co-located, one level of months). $runs builds each, alternating, timed whole by the client. After the builds the four layers of reads are equal in both (rows and sum of a hash of each row: $layers_equal)."
    echo
    echo "| build | median s | min s | max s |"
    echo "|---|---|---|---|"
    echo "| \`gridflow_build\`, single node | $m_single | $lo_single | $hi_single |"
    echo "| \`gridflow_build\`, Citus coordinator | $m_citus | $lo_citus | $hi_citus |"
    echo
    echo "Citus / single node: $ratio. Steps of the last Citus build (step | table | rows | ms; the \`citus\` steps move each layer's rows to the workers, $moved):"
    echo
    echo '```'
    cat "$out/citus.steps"
    echo '```'
    echo
    echo "Reads, each $repeat times in a session of its own (median of psql's \\timing, every row fetched; prepared where they take values), in both databases; \"equal\": the same rows; \"tasks\": the Task Count of the Citus plan of (a) to (e), the shards it was sent to (EXPLAIN ANALYZE, kept in BENCH_DIR/citus-$scale/). Values: $params."
    echo
    echo "| read | single ms | Citus ms | Citus / single | rows | equal | tasks | notes |"
    echo "|---|---:|---:|---:|---:|---|---|---|"
    for r in "${rows[@]}"; do echo "$r"; done
    echo
    echo "Readers beside a build: 4 pgbench clients of test/bench/readers.sql (a service point's days, the same joined to its service point, \`dq.row_counts\`) against \`citus\` for $duration s, beside one more Citus build: $readers_line."
    echo "<!-- end citus scale $scale -->"
} > "$section"
replace_section "citus scale $scale" "$section"
rm -f "$section"
say ""
say "results written to test/bench/RESULTS.md (plans in $out; full log: $log)"
