#!/usr/bin/env bash
# Readers during builds: "make bench-readers SCALE=20 [DURATION=30] [CLIENTS=8]".
#
# What a dashboard's users see while the layers are rebuilt.  pgbench runs
# CLIENTS readers for DURATION seconds, each transaction a point look-up of
# one service point's days and the same joined to its service point
# (test/bench/readers_lookups.sql), then the same followed by dq.row_counts
# (test/bench/readers.sql, a whole-table report); each alone, then while
# builds of the generated drop of the scale run back to back beside it.  Then a
# report that reads experience.daily_usage, sleeps a second and reads
# standardized.service_point in one transaction, with a build started
# 0.7 s after it, three times.  Reported: reader transactions done and
# failed (by SQLSTATE), their latency (mean, 50th, 99th percentile, max),
# the builds done and failed, "deadlock detected" in the server log, and
# the report's outcome.  Figures go to test/bench/RESULTS.md ("readers
# during builds, scale N").
#
# BENCH_SOURCE=/path/to/another/checkout installs gridflow from there
# instead (to measure an earlier version with the same method); its
# section is labelled with that checkout's commit.
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
scale="${SCALE:-20}"
duration="${DURATION:-30}"
clients="${CLIENTS:-8}"
log_name="readers-$scale.log"
. "$top/test/bench/common.sh"

source_top="${BENCH_SOURCE:-$top}"
commit="$(git -C "$source_top" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ "$source_top" != "$top" ]; then
    bash "$top/test/setup.sh"
    install_gridflow "$source_top"
    make -s -C "$top" data/gridflow_gen >/dev/null
else
    bench_install
fi
drop="$(make_drop "$scale")"
bench_cluster
server_log="$work/cluster/server.log"
out="$work/readers-$scale"
rm -rf "$out"
mkdir -p "$out"
chmod a+rwx "$out"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
q "SELECT count(*) FROM gridflow_build('$drop')" >/dev/null
# the service points that have days, numbered (the benchmark's own table)
q "DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench;
   CREATE TABLE bench.sp_ids AS
   SELECT row_number() OVER (ORDER BY service_point_id) AS n, service_point_id
     FROM (SELECT DISTINCT service_point_id FROM experience.daily_usage) s;
   CREATE UNIQUE INDEX ON bench.sp_ids (n); ANALYZE bench.sp_ids;"
nsp="$(q "SELECT count(*) FROM bench.sp_ids")"
days="$(q "SELECT count(*) FROM experience.daily_usage")"

# builds back to back for $duration seconds; one line each: ms, error
build_loop() {
    local t0 b0 res
    t0="$(now)"
    : > "$1"
    while awk -v a="$(now)" -v b="$t0" -v d="$duration" 'BEGIN { exit !(a - b < d) }'; do
        b0="$(now)"
        if res="$(psql -X -At -c "SELECT count(*) FROM gridflow_build('$drop')" 2>&1)"; then
            echo "ok $(awk -v a="$b0" -v b="$(now)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')" >> "$1"
        else
            echo "failed $(awk -v a="$b0" -v b="$(now)" 'BEGIN { printf "%.0f", (b - a) * 1000 }') $(echo "$res" | grep -m1 -o 'ERROR:.*' || true)" >> "$1"
        fi
    done
}

# pgbench's per-transaction log -> "done failed mean p50 p99 max" (ms)
latencies() {
    local sorted
    sorted="$(mktemp)"
    cat "$out/$1".[0-9]* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ { print $3 / 1000 }' | sort -g > "$sorted"
    awk -v failed="$(cat "$out/$1".[0-9]* 2>/dev/null | awk '$3 !~ /^[0-9]+$/' | wc -l)" '
        { l[NR] = $1; s += $1 }
        END {
            if (NR == 0) { printf "0 %d - - - -", failed; exit }
            printf "%d %d %.1f %.1f %.1f %.1f", NR, failed, s / NR,
                   l[int((NR - 1) * 0.50) + 1], l[int((NR - 1) * 0.99) + 1], l[NR]
        }' "$sorted"
    rm -f "$sorted"
}

run_readers() {   # run_readers LABEL SCRIPT [build]
    local label="$1" script="$2" mode="${3:-}" l0 bp=""
    l0="$(wc -l < "$server_log")"
    [ "$mode" = build ] && { build_loop "$out/$label.builds" & bp=$!; }
    (cd "$out" && runuser -u postgres -- env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
        pgbench -n -c "$clients" -j 2 -T "$duration" -r --log --log-prefix="$label" --failures-detailed \
        -D nsp="$nsp" -f "$top/test/bench/$script" postgres) > "$out/$label.pgbench" 2>&1 || true
    [ -n "$bp" ] && wait "$bp"
    tail -n +"$((l0 + 1))" "$server_log" > "$out/$label.serverlog"
}

say "== readers during builds, scale $scale ($days days, $nsp service points), gridflow $commit: $clients clients, $duration s each"
rows=()
builds=()
for workload in lookups dq; do
    script="readers.sql"; [ "$workload" = lookups ] && script="readers_lookups.sql"
    run_readers "$workload-alone" "$script"
    run_readers "$workload-build" "$script" build
    for mode in alone build; do
        read -r done failed mean p50 p99 max <<<"$(latencies "$workload-$mode")"
        what="$( [ "$workload" = lookups ] && echo "look-ups" || echo "look-ups + dq.row_counts" ), $( [ "$mode" = alone ] && echo alone || echo "during builds" )"
        say "   $what: $done transactions, $failed failed; latency mean $mean, p50 $p50, p99 $p99, max $max ms"
        rows+=("| $what | $done | $failed | $mean | $p50 | $p99 | $max |")
    done
    f="$out/$workload-build"
    b_ok="$(grep -c '^ok' "$f.builds" || true)"
    b_bad="$(grep -c '^failed' "$f.builds" || true)"
    b_ms="$(awk '$1 == "ok" { printf "%s%s", sep, $2; sep = " " }' "$f.builds")"
    read -r bms_med bms_min bms_max <<<"$( [ -n "$b_ms" ] && stats $b_ms || echo '- - -')"
    deadlocks="$(grep -c 'deadlock detected' "$f.serverlog" || true)"
    errors="$(grep -o 'ERROR: .*' "$f.serverlog" | sed 's/[0-9]\{3,\}/N/g' | sort | uniq -c | sort -rn | head -5 | awk '{ $1 = $1 "x"; print }' | paste -sd ';' - || true)"
    failures="$(grep -E 'number of (deadlock|serialization|other) failures' "$f.pgbench" | sed 's/^ *//' | paste -sd ';' - || true)"
    line="$( [ "$workload" = lookups ] && echo "look-ups" || echo "look-ups + dq.row_counts" ): $b_ok builds done (median $bms_med ms, min $bms_min, max $bms_max), $b_bad failed; \"deadlock detected\" in the server log: $deadlocks; pgbench: ${failures:-no failures}; server errors: ${errors:-none}"
    say "   $line"
    builds+=("$line")
done

# the report that reads, sleeps, reads; a build 0.7 s after it starts
report_lines=()
for r in 1 2 3; do
    l0="$(wc -l < "$server_log")"
    psql -X -v ON_ERROR_STOP=1 > "$out/report$r.reader" 2>&1 <<'SQL' &
\timing on
BEGIN;
SELECT count(*) FROM experience.daily_usage;
SELECT pg_sleep(1);
SELECT count(*) FROM standardized.service_point;
COMMIT;
SQL
    rp=$!
    sleep 0.7
    t0="$(now)"
    psql -X -At -c "SELECT count(*) FROM gridflow_build('$drop')" > "$out/report$r.build" 2>&1 &
    bp=$!
    rrc=0; wait "$rp" || rrc=$?
    brc=0; wait "$bp" || brc=$?
    bms="$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')"
    second="$(grep -E '^Time:' "$out/report$r.reader" | sed -n 4p | awk '{ print $2 }')"
    tail -n +"$((l0 + 1))" "$server_log" > "$out/report$r.serverlog"
    line="report $r: $( [ "$rrc" = 0 ] && echo "committed, its second read took ${second} ms" || echo "failed: $(grep -m1 -o 'ERROR:.*' "$out/report$r.reader")" ); build $( [ "$brc" = 0 ] && echo "done in $bms ms" || echo "failed after $bms ms: $(grep -m1 -o 'ERROR:.*' "$out/report$r.build")" ); deadlocks: $(grep -c 'deadlock detected' "$out/report$r.serverlog" || true)"
    say "   $line"
    report_lines+=("$line")
    sleep 1
done

section="$(mktemp)"
{
    echo "<!-- readers scale $scale $commit -->"
    echo "### Readers during builds, scale $scale, gridflow $commit"
    echo ""
    echo "Measured $(date -u +%Y-%m-%d) on $(machine_line), PostgreSQL $(q 'SHOW server_version'), settings of the competitor's pg_bench.conf. $clients pgbench clients for $duration s, each transaction test/bench/readers_lookups.sql (a service point's days, the same joined to its service point), or test/bench/readers.sql (the same, then dq.row_counts), over $days days of $nsp service points; each alone, then while builds of the scale-$scale drop run back to back (\`make bench-readers SCALE=$scale\`)."
    echo ""
    echo "| readers | transactions | failed | mean ms | p50 ms | p99 ms | max ms |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for r in "${rows[@]}"; do echo "$r"; done
    echo ""
    echo "Builds beside the readers:"
    echo ""
    for l in "${builds[@]}"; do echo "- $l"; done
    echo ""
    echo "A report (BEGIN; count the days; sleep 1 s; count the service points; COMMIT) with a build started 0.7 s after it:"
    echo ""
    for l in "${report_lines[@]}"; do echo "- $l"; done
    echo "<!-- end readers scale $scale $commit -->"
} > "$section"
replace_section "readers scale $scale $commit" "$section"
rm -f "$section"
say "written to $results (section \"readers scale $scale $commit\")"
