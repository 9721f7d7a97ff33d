#!/usr/bin/env bash
# The TAP tests (test/tap/t/*.pl): clusters of their own, made and driven
# by PostgreSQL's PostgreSQL::Test::Cluster, such as a coordinator and two
# shards.  Run by "make test" after the pg_regress suite, with the fixtures
# staged in GRIDFLOW_TEST_DIR and gridflow installed (in GRIDFLOW_DESTDIR
# when that is set).  initdb refuses to run as root: as root, the tests run
# as the postgres user, in a scratch directory of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

pgxs="$(pg_config --pgxs)"
bindir="$(pg_config --bindir)"
perl_lib="$(cd "$(dirname "$pgxs")/../../src/test/perl" && pwd)"
pg_regress="$(cd "$(dirname "$pgxs")/../../src/test/regress" && pwd)/pg_regress"
work="$(mktemp -d /tmp/gridflow-tap.XXXXXX)"
cp -r test/tap/t "$work/t"

run=()
if [ "$(id -u)" = 0 ]; then
    chown -R postgres: "$work"
    run=(runuser -u postgres --)
fi
status=0
(cd "$work" && "${run[@]}" env PATH="$bindir:$PATH" PG_REGRESS="$pg_regress" TESTDIR="$work" \
    GRIDFLOW_TEST_DIR="${GRIDFLOW_TEST_DIR:-/tmp/gridflow-regress}" \
    GRIDFLOW_DESTDIR="${GRIDFLOW_DESTDIR:-}" \
    prove ${PROVE_FLAGS:-} -I "$perl_lib" t/*.pl) || status=$?
if [ "$status" != 0 ]; then
    for f in "$work"/tmp_check/log/*; do
        [ -f "$f" ] || continue
        echo "=== $f"
        tail -n 60 "$f"
    done
    echo "TAP tests failed (logs kept in $work/tmp_check/log)" >&2
else
    rm -rf "$work"
fi
exit $status
