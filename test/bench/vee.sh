#!/usr/bin/env bash
# What validation and estimation cost: "make bench-vee SCALE=50 [RUNS=3]".
#
# The generated drop of the scale with the generator's anomalies for the
# validation rules (gridflow_gen -v: zero runs, flat lines, busy days with
# a spike and two-hour gaps in the quarter-hour series of utilities 3 and
# 4, which are onboarded first by the configuration statements of
# sql/onboard.sql, with UTILITY1's validation rules) is built RUNS times in
# each of three settings, in turn (off, validation, estimation, off, ...):
#   - off: every gridflow.vee_rule row disabled, no gridflow.vee_estimation
#     row (the product rows are the reads, quality 0);
#   - validation: the shipped rules (gap, off_grid, negative, zero_run,
#     spike, flat_line, high_low; ceiling off);
#   - estimation: the shipped rules and a gridflow.vee_estimation row with
#     the defaults for each utility (interpolation up to 2 hours,
#     reference days up to a day).
# Each build is timed whole (run_timed: the psql process, nothing else
# running).  Reported: the median build of each setting, what validation
# and estimation add to it (over "off"), the product rows by quality code
# and the intervals estimated by method (dq.vee_estimates) of the last
# estimation build.  Figures go to test/bench/RESULTS.md ("vee scale N").
#
# Environment: SCALE (default 50), RUNS (default 3), and those of
# common.sh (BENCH_DIR, BENCH_PORT, COMPETITOR, GRIDFLOW_DESTDIR).
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
scale="${SCALE:-50}"
runs="${RUNS:-3}"
log_name="vee-$scale.log"
BENCH_VEE=1
. "$top/test/bench/common.sh"

bench_install
drop="$(make_drop "$scale")"
bench_cluster

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# utilities 3 and 4 as the onboard test configures them, with UTILITY1's rules
sed -n '/^INSERT INTO gridflow.utility/,/^-- 5\. Build/p' "$top/sql/onboard.sql" | grep -v '^-- 5' |
    psql -X -q -v ON_ERROR_STOP=1 >>"$log" 2>&1
q "INSERT INTO gridflow.vee_rule (utility_id, rule, enabled, parameters)
   SELECT u.utility_id, r.rule, r.enabled, r.parameters
     FROM gridflow.vee_rule r CROSS JOIN (VALUES ('UTILITY3'), ('UTILITY4')) u(utility_id)
    WHERE r.utility_id = 'UTILITY1'
   ON CONFLICT DO NOTHING"
setting() {
    case "$1" in
        off)
            q "UPDATE gridflow.vee_rule SET enabled = false;
               DELETE FROM gridflow.vee_estimation;" ;;
        validation)
            q "UPDATE gridflow.vee_rule SET enabled = (rule <> 'ceiling');
               DELETE FROM gridflow.vee_estimation;" ;;
        estimation)
            q "UPDATE gridflow.vee_rule SET enabled = (rule <> 'ceiling');
               INSERT INTO gridflow.vee_estimation (utility_id) SELECT utility_id FROM gridflow.utility
               ON CONFLICT DO NOTHING;" ;;
    esac
}
build() { psql -X -q -At -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM gridflow_build('$drop')" >/dev/null; }

raw="$(awk 'END { print NR - 1 }' "$drop/utility2/utility2_intervals.csv")"
say "== scale $scale with anomalies (-v): $raw raw utility2 reads, utilities 1 to 4; $runs runs of each setting"
setting validation
build   # untimed: caches warm, partitions made once
declare -A times
for s in off validation estimation; do times[$s]=""; done
for r in $(seq 1 "$runs"); do
    for s in off validation estimation; do
        setting "$s"
        run_timed build
        times[$s]="${times[$s]} $run_s"
        say "   run $r, $s: ${run_s} s"
    done
done
read -r off_med off_min off_max <<<"$(stats ${times[off]})"
read -r val_med val_min val_max <<<"$(stats ${times[validation]})"
read -r est_med est_min est_max <<<"$(stats ${times[estimation]})"
val_pct="$(awk -v a="$val_med" -v b="$off_med" 'BEGIN { printf "%.1f", (a - b) * 100 / b }')"
est_pct="$(awk -v a="$est_med" -v b="$off_med" 'BEGIN { printf "%.1f", (a - b) * 100 / b }')"
est_share="$(awk -v a="$est_med" -v b="$off_med" 'BEGIN { printf "%.1f", (a - b) * 100 / a }')"
quality="$(q "SELECT string_agg(format('| %s | %s | %s |', utility_id, quality_code, n), E'\n' ORDER BY utility_id, quality_code)
              FROM (SELECT utility_id, quality_code, count(*) AS n FROM product.usage_interval GROUP BY 1, 2) x")"
estimates="$(q "SELECT coalesce(string_agg(format('| %s | %s | %s | %s |', utility_id, method, gaps_estimated, intervals_estimated), E'\n' ORDER BY utility_id, method), '| - | - | - | - |')
                FROM (SELECT utility_id, method, sum(gaps_estimated) AS gaps_estimated, sum(intervals_estimated) AS intervals_estimated
                        FROM dq.vee_estimates GROUP BY 1, 2) x")"
unestimated="$(q "SELECT coalesce(sum(unestimated_gaps), 0) FROM dq.vee_gaps")"
commit="$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)"

section="$work/vee-$scale.md"
{
    echo "<!-- vee scale $scale -->"
    echo "### Validation and estimation, scale $scale (drop with anomalies, utilities 1 to 4, $raw raw utility2 reads), gridflow $commit"
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(machine_line), PostgreSQL $(q 'SHOW server_version'), settings of the competitor's pg_bench.conf; $runs runs of each setting, in turn; each \`gridflow_build\` timed whole."
    echo
    echo "| setting | median s | min s | max s |"
    echo "|---|---|---|---|"
    echo "| rules off, no estimation | $off_med | $off_min | $off_max |"
    echo "| shipped validation rules | $val_med | $val_min | $val_max |"
    echo "| shipped rules and estimation (defaults) | $est_med | $est_min | $est_max |"
    echo
    echo "Validation adds **${val_pct}%** to a build without it; validation and estimation add **${est_pct}%** (they are ${est_share}% of the build's time with them)."
    echo
    echo "Product rows by quality code, last build with estimation:"
    echo
    echo "| utility | quality_code | rows |"
    echo "|---|---|---|"
    echo "$quality"
    echo
    echo "Gaps filled (dq.vee_estimates), and $unestimated gaps left unestimated (dq.vee_gaps):"
    echo
    echo "| utility | method | gaps | intervals |"
    echo "|---|---|---|---|"
    echo "$estimates"
    echo "<!-- end vee scale $scale -->"
} > "$section"
replace_section "vee scale $scale" "$section"
say "validation +${val_pct}%, validation and estimation +${est_pct}% (medians: off $off_med s, validation $val_med s, estimation $est_med s)"
say "results written to test/bench/RESULTS.md (full log: $log)"
