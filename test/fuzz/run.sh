#!/usr/bin/env bash
# Run the libFuzzer targets side by side for SECONDS each, starting from
# the seed corpus in test/fuzz/corpus/<target>, and print what each did
# (executions, edges covered, corpus size, time).  A crash, a failed
# invariant, a leak or an input that runs over 10 s fails the run; the
# input is saved in test/fuzz/findings/ and its reproduction command
# printed.  "make fuzz" and "make fuzz-long" call this.
#
#   bash test/fuzz/run.sh SECONDS [TARGET...]     targets: csv parse
#
# FUZZ_COVERAGE=1 also reports the line and branch coverage of src/csv.c
# and src/parse.c reached by the final corpus (llvm-cov).  FUZZ_WORKDIR=DIR
# keeps the grown corpora in DIR/<target> (reused by the next run there).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:?usage: run.sh SECONDS [TARGET...]}"
shift
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(csv parse)
bash test/setup.sh test

if [ -n "${FUZZ_WORKDIR:-}" ]; then
    work="$FUZZ_WORKDIR"
    mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p test/fuzz/findings

for t in "${targets[@]}"; do
    make -s "test/fuzz/fuzz_$t"
    mkdir -p "$work/$t"
done

echo "fuzzing ${targets[*]} for $seconds s each"
pids=()
for t in "${targets[@]}"; do
    "test/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -dict="test/fuzz/$t.dict" \
        -artifact_prefix="test/fuzz/findings/$t-" \
        "$work/$t" "test/fuzz/corpus/$t" > "$work/$t.log" 2>&1 &
    pids+=($!)
done

status=0
for i in "${!targets[@]}"; do
    t="${targets[$i]}"
    rc=0
    wait "${pids[$i]}" || rc=$?
    log="$work/$t.log"
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    took="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)"
    last="$(grep -E '^#[0-9]+[[:space:]].* cov: ' "$log" | tail -1 || true)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")"
    corp="$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<< "$last")"
    if [ "$rc" = 0 ]; then
        echo "fuzz_$t: ok, ${runs:-?} executions in ${took:-?} s, ${cov:-?} edges (${ft:-?} features), corpus ${corp:-?} inputs/bytes"
    else
        status=1
        echo "fuzz_$t: FAILED (exit $rc)"
        tail -n 60 "$log"
        for f in test/fuzz/findings/"$t"-*; do
            [ -f "$f" ] && echo "reproduce: test/fuzz/fuzz_$t $f"
        done
    fi
done

if [ "${FUZZ_COVERAGE:-}" = 1 ]; then
    # the same targets built for source-based coverage, run once over the
    # corpora, with the llvm tools of the clang in use
    llvm_bin="$(dirname "$(readlink -f "$(command -v clang)")")"
    for t in "${targets[@]}"; do
        case "$t" in
            csv) src=src/csv.c ;;
            parse) src=src/parse.c ;;
        esac
        clang -g -O0 -Isrc -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
            -o "$work/cov_$t" "test/fuzz/fuzz_$t.c" "$src" -lm
        LLVM_PROFILE_FILE="$work/$t.profraw" "$work/cov_$t" -runs=0 \
            "$work/$t" "test/fuzz/corpus/$t" > /dev/null 2>&1
        "$llvm_bin/llvm-profdata" merge -sparse -o "$work/$t.profdata" "$work/$t.profraw"
        echo "coverage of $src by the fuzz_$t corpus:"
        "$llvm_bin/llvm-cov" report "$work/cov_$t" -instr-profile="$work/$t.profdata" "$src"
    done
fi
exit $status
