#!/usr/bin/env bash
# Incremental benchmark: "make bench-incremental SCALE=50 [RUNS=5]".
#
# How much does one more day cost?  From the generated drop of the scale,
# a month is made: its service points and meters as they are, and its
# reads spread over 31 days (line by line, day = line number mod 31, so
# every meter has reads on every day and duplicates stay duplicates of the
# day they fall on).  The base drop holds days 1..30, the increment day 31
# (the interval files only).  Then, alternately:
#   - gridflow_build(base) and, timed, gridflow_ingest(increment);
#   - the same increment again (a no-op: its checksum is known);
#   - gridflow_rebuild() of that history (base and increment);
#   - gridflow_build() of the whole month in one drop.
# Before timing, it checks that the ingested month has the same product
# rows and daily summaries as the month built in one go.  Figures go to
# test/bench/RESULTS.md ("incremental, scale N").
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
scale="${SCALE:-50}"
runs="${RUNS:-5}"
log_name="incremental-$scale.log"
. "$top/test/bench/common.sh"

bench_install
source_drop="$(make_drop "$scale")"

# --- the month: base (days 1..30), increment (day 31), whole ----------------------
month="$work/month-$scale"
if [ ! -f "$month/.complete" ]; then
    rm -rf "$month"
    for part in base increment whole; do mkdir -p "$month/$part/utility1" "$month/$part/utility2"; done
    for u in utility1 utility2; do
        for k in service_points meters; do
            cp "$source_drop/$u/${u}_$k.csv" "$month/base/$u/"
            cp "$source_drop/$u/${u}_$k.csv" "$month/whole/$u/"
        done
    done
    # utility2: YYYYMMDD in column 5; utility1: ISO 8601 in column 7
    awk -F, -v OFS=, -v base="$month/base/utility2/utility2_intervals.csv" \
        -v inc="$month/increment/utility2/utility2_intervals.csv" '
        NR == 1 { print > base; print > inc; next }
        { d = NR % 31; $5 = sprintf("202501%02d", d + 1); print > (d == 30 ? inc : base) }
    ' "$source_drop/utility2/utility2_intervals.csv"
    awk -F, -v OFS=, -v base="$month/base/utility1/utility1_intervals.csv" \
        -v inc="$month/increment/utility1/utility1_intervals.csv" '
        NR == 1 { print > base; print > inc; next }
        { d = NR % 31; $7 = sprintf("2025-01-%02d", d + 1) substr($7, 11); print > (d == 30 ? inc : base) }
    ' "$source_drop/utility1/utility1_intervals.csv"
    for u in utility1 utility2; do
        { cat "$month/base/$u/${u}_intervals.csv"; tail -n +2 "$month/increment/$u/${u}_intervals.csv"; } \
            > "$month/whole/$u/${u}_intervals.csv"
    done
    touch "$month/.complete"
fi
chmod -R a+rX "$month"
bench_cluster

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
build() { q "SELECT count(*) FROM gridflow_build('$1')" >/dev/null; }
ingest() { q "SELECT string_agg(outcome || ' ' || kind || ' ' || records_read || ' ' || days_refreshed, ', ') FROM gridflow_ingest('$1')"; }
rebuild() { q "SELECT count(*) FROM gridflow_rebuild()" >/dev/null; }

# --- correctness first ------------------------------------------------------------
say "== checking: the month ingested in two drops equals the month built in one"
build "$month/whole"
q "DROP TABLE IF EXISTS bench_whole_products, bench_whole_days;
   CREATE UNLOGGED TABLE bench_whole_products AS
   SELECT utility_id, service_point_id, meter_id, channel, interval_start_ts, local_date, value,
          service_point_known, meter_known, quality_code, vee_flags FROM product.usage_interval;
   CREATE UNLOGGED TABLE bench_whole_days AS SELECT * FROM experience.daily_usage;"
build "$month/base"
say "   increment: $(ingest "$month/increment")"
check="$(q "SELECT (SELECT count(*) FROM (SELECT utility_id, service_point_id, meter_id, channel,
                       interval_start_ts, local_date, value, service_point_known, meter_known,
                       quality_code, vee_flags
                  FROM product.usage_interval EXCEPT ALL SELECT * FROM bench_whole_products) a)
              + (SELECT count(*) FROM (SELECT * FROM bench_whole_products EXCEPT ALL
                  SELECT utility_id, service_point_id, meter_id, channel, interval_start_ts,
                         local_date, value, service_point_known, meter_known, quality_code, vee_flags
                    FROM product.usage_interval) b)
              + (SELECT count(*) FROM (SELECT * FROM experience.daily_usage EXCEPT ALL
                                       SELECT * FROM bench_whole_days) c)
              + (SELECT count(*) FROM (SELECT * FROM bench_whole_days EXCEPT ALL
                                       SELECT * FROM experience.daily_usage) d)")"
q "DROP TABLE bench_whole_products, bench_whole_days"
say "   rows that differ between the two: $check"
if [ "$check" != 0 ]; then
    say "bench: the ingested month differs from the month built in one go; not timing anything"
    exit 1
fi

base_reads=$(( $(wc -l < "$month/base/utility2/utility2_intervals.csv") + $(wc -l < "$month/base/utility1/utility1_intervals.csv") - 2 ))
inc_reads=$(( $(wc -l < "$month/increment/utility2/utility2_intervals.csv") + $(wc -l < "$month/increment/utility1/utility1_intervals.csv") - 2 ))
say "== scale $scale month: $base_reads raw reads in days 1..30, $inc_reads on day 31; $runs runs each"
declare -a t_inc t_noop t_rebuild t_whole m_inc c_inc c_rebuild c_whole
for i in $(seq 1 "$runs"); do
    build "$month/base"
    run_sampled gridflow-bench-ingest ingest "$month/increment"
    t_inc+=("$run_s"); m_inc+=("$run_anon_kb"); c_inc+=("$run_cpu_s")
    run_sampled gridflow-bench-noop ingest "$month/increment"
    t_noop+=("$run_s")
    run_sampled gridflow-bench-rebuild rebuild
    t_rebuild+=("$run_s"); c_rebuild+=("$run_cpu_s")
    run_sampled gridflow-bench-whole build "$month/whole"
    t_whole+=("$run_s"); c_whole+=("$run_cpu_s")
    say "   run $i: ingest one day ${t_inc[-1]} s (again: ${t_noop[-1]} s), rebuild ${t_rebuild[-1]} s, build of the month ${t_whole[-1]} s; backend CPU ${c_inc[-1]} / ${c_rebuild[-1]} / ${c_whole[-1]} s"
done
build "$month/base"
detail="$(q "SELECT kind || ': ' || records_read || ' records, ' || rows_kept || ' new rows, ' || days_refreshed || ' service-point days refreshed, ' || round(elapsed_ms::numeric) || ' ms' FROM gridflow_ingest('$month/increment')")"
days_total="$(q "SELECT count(*) FROM experience.daily_usage")"

read -r inc_med inc_min inc_max <<<"$(stats "${t_inc[@]}")"
read -r noop_med noop_min noop_max <<<"$(stats "${t_noop[@]}")"
read -r reb_med reb_min reb_max <<<"$(stats "${t_rebuild[@]}")"
read -r whole_med whole_min whole_max <<<"$(stats "${t_whole[@]}")"
read -r cinc_med _ _ <<<"$(stats "${c_inc[@]}")"
read -r creb_med _ _ <<<"$(stats "${c_rebuild[@]}")"
read -r cwhole_med _ _ <<<"$(stats "${c_whole[@]}")"
cpu_ratio=$(awk -v a="$cinc_med" -v b="$creb_med" 'BEGIN { printf "%.3f", a / b }')
ratio_reb=$(awk -v a="$inc_med" -v b="$reb_med" 'BEGIN { printf "%.3f", a / b }')
ratio_whole=$(awk -v a="$inc_med" -v b="$whole_med" 'BEGIN { printf "%.3f", a / b }')
mem_inc=$(( $(maxof "${m_inc[@]}") / 1024 ))

say ""
say "scale $scale month                               median   min     max"
say "  gridflow_ingest(one more day)              $(printf '%6.2f  %6.2f  %6.2f' "$inc_med" "$inc_min" "$inc_max")"
say "  the same day again (checksum known)        $(printf '%6.2f  %6.2f  %6.2f' "$noop_med" "$noop_min" "$noop_max")"
say "  gridflow_rebuild() of base + day           $(printf '%6.2f  %6.2f  %6.2f' "$reb_med" "$reb_min" "$reb_max")"
say "  gridflow_build() of the whole month        $(printf '%6.2f  %6.2f  %6.2f' "$whole_med" "$whole_min" "$whole_max")"
say "  one more day costs ${ratio_reb} of a rebuild, ${ratio_whole} of a build of the month (peak private memory ${mem_inc} MB)"
say "  backend CPU, medians: ingest ${cinc_med} s, rebuild ${creb_med} s, build of the month ${cwhole_med} s (ingest/rebuild ${cpu_ratio})"
say "  $(printf '%s' "$detail" | tr '\n' ';')"

section="$(mktemp)"
{
    echo "<!-- incremental scale $scale -->"
    echo "### Incremental, scale $scale: one more day on a month of $base_reads raw reads"
    echo ""
    echo "Measured $(date -u +%Y-%m-%d) on $(machine_line), PostgreSQL $(q 'SHOW server_version'), settings of the competitor's pg_bench.conf; $runs runs each, alternating. The month is the scale-$scale drop with its reads spread over 31 days; day 31 ($inc_reads raw reads) is ingested on top of days 1..30 ($days_total service-point days after it)."
    echo ""
    echo "| operation | median s | min s | max s | backend CPU s (median) |"
    echo "|---|---|---|---|---|"
    echo "| \`gridflow_ingest\` of day 31 | $inc_med | $inc_min | $inc_max | $cinc_med |"
    echo "| the same files again (checksum known: nothing to do) | $noop_med | $noop_min | $noop_max | |"
    echo "| \`gridflow_rebuild()\` of the history (days 1..30, day 31) | $reb_med | $reb_min | $reb_max | $creb_med |"
    echo "| \`gridflow_build\` of the whole month in one drop | $whole_med | $whole_min | $whole_max | $cwhole_med |"
    echo ""
    echo "One more day costs **${ratio_reb}** of a rebuild and **${ratio_whole}** of a build of the month (backend CPU: ${cpu_ratio} of a rebuild); peak private memory of the ingest ${mem_inc} MB."
    echo ""
    echo '```'
    printf '%s\n' "$detail"
    echo '```'
    echo "<!-- end incremental scale $scale -->"
} > "$section"
replace_section "incremental scale $scale" "$section"
rm -f "$section"
say ""
say "results written to test/bench/RESULTS.md (full log: $log)"
