#!/usr/bin/env bash
# Run inside a throwaway cluster (pg_virtualenv): the pg_regress suite, the
# isolation tests, then the real-sample test when its data was staged.  Prints the diffs of a
# failing run.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

run() {
    if ! make -s installcheck "$@"; then
        status=1
        [ -f regression.diffs ] && cat regression.diffs
    fi
}

run
if ! make -s isolationcheck; then
    status=1
    [ -f test/isolation/output/regression.diffs ] && cat test/isolation/output/regression.diffs
fi
if [ "${GRIDFLOW_IEDR:-no}" = yes ]; then
    run REGRESS=iedr_sample
else
    echo "iedr_sample: SKIPPED (no ../shared/iedr-sample beside the project; the real-sample figures were not checked)"
fi
exit $status
