#!/usr/bin/env bash
# Run inside a throwaway cluster (pg_virtualenv): the pg_regress suite and
# the isolation tests (make installcheck), then the real-sample test when
# its data was staged.  Prints the diffs of a failing run.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

run() {
    if ! make -s installcheck "$@"; then
        status=1
        [ -f regression.diffs ] && cat regression.diffs
        [ -f output_iso/regression.diffs ] && cat output_iso/regression.diffs
    fi
}

run
if [ "${GRIDFLOW_IEDR:-no}" = yes ]; then
    run REGRESS=iedr_sample ISOLATION=
else
    echo "iedr_sample: SKIPPED (no ../shared/iedr-sample beside the project; the real-sample figures were not checked)"
fi
exit $status
