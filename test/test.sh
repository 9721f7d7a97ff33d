#!/usr/bin/env bash
# The whole gridflow test suite ("make test"): the map of the C modules
# (make depcheck), unit tests of the PostgreSQL-free C and of the release
# files, a minute of fuzzing of the same code, then the
# pg_regress suite and the isolation tests in a throwaway cluster (with the
# figures on the real utility sample when it is beside the project), the
# BI client tests (JDBC, node-postgres) in another one, then the TAP tests
# (crash recovery, cancellation, a file changing while it is read, bounded
# memory, a coordinator and two shards).
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/setup.sh test
make -s
make -s depcheck
make -s unitcheck
make -s fuzz

# GRIDFLOW_DESTDIR=/some/dir installs into that directory instead of the
# system's, and the test cluster loads the extension from there
# (extension_destdir), so that several checkouts can be tested at once.
cluster_opts=(-o max_worker_processes=8)
if [ -n "${GRIDFLOW_DESTDIR:-}" ]; then
    make -s install DESTDIR="$GRIDFLOW_DESTDIR"
    chmod -R a+rX "$GRIDFLOW_DESTDIR"
    cluster_opts+=(-o "extension_destdir=$GRIDFLOW_DESTDIR")
else
    make -s install
fi

export GRIDFLOW_TEST_DIR="${GRIDFLOW_TEST_DIR:-/tmp/gridflow-regress}"
bash test/stage.sh "$GRIDFLOW_TEST_DIR"
if [ -d "$GRIDFLOW_TEST_DIR/iedr-sample" ]; then
    export GRIDFLOW_IEDR=yes
else
    export GRIDFLOW_IEDR=no
fi

pg_virtualenv -t "${cluster_opts[@]}" bash test/regress.sh

# what BI clients see: the catalog through JDBC, a dashboard's queries
# through node-postgres (test/bi.sh), in a throwaway cluster of their own
pg_virtualenv -t "${cluster_opts[@]}" bash test/bi.sh

# clusters of their own (PostgreSQL::Test::Cluster): crashes, cancels,
# memory, a coordinator and shards
bash test/tap.sh
