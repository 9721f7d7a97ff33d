#!/usr/bin/env bash
# The whole gridflow test suite ("make test"): unit tests of the
# PostgreSQL-free C, then the pg_regress suite in a throwaway cluster, then
# the figures on the real utility sample when it is beside the project.
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/setup.sh
make -s
make -s install
make -s unitcheck

export GRIDFLOW_TEST_DIR=/tmp/gridflow-regress
bash test/stage.sh "$GRIDFLOW_TEST_DIR"
if [ -d "$GRIDFLOW_TEST_DIR/iedr-sample" ]; then
    export GRIDFLOW_IEDR=yes
else
    export GRIDFLOW_IEDR=no
fi

pg_virtualenv -o max_worker_processes=8 bash test/regress.sh
