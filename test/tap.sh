#!/usr/bin/env bash
# Run the TAP tests (test/tap/t/*.pl, PostgreSQL::Test::Cluster) against the
# installed extension.  initdb refuses to run as root, so as root the tests
# run as the unprivileged "postgres" user, on a copy of what they need in a
# directory that user owns.  GRIDFLOW_DESTDIR, as for "make test", points
# the test clusters at an extension installed there (extension_destdir).
#
#   bash test/tap.sh [test/tap/t/NNN_name.pl ...]
#
# PROVE_FLAGS=-v shows every check; GRIDFLOW_TAP_KEEP=1 keeps the work
# directory (clusters' logs in tmp_check/log) and prints where it is.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"

bash test/setup.sh
PG_CONFIG="${PG_CONFIG:-pg_config}"
bindir="$("$PG_CONFIG" --bindir)"
pgxs_dir="$(dirname "$("$PG_CONFIG" --pgxs)")/.."
perl_lib="$pgxs_dir/test/perl"
pg_regress="$pgxs_dir/test/regress/pg_regress"
[ -d "$perl_lib/PostgreSQL/Test" ] || { echo "tap.sh: PostgreSQL::Test::Cluster not found under $perl_lib" >&2; exit 1; }

make -s data/gridflow_gen

work="$(mktemp -d /tmp/gridflow-tap.XXXXXX)"
if [ -n "${GRIDFLOW_TAP_KEEP:-}" ]; then
    echo "tap.sh: work directory $work"
else
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/t" "$work/bin"
cp test/tap/t/*.pl test/tap/t/*.pm "$work/t/"
cp data/gridflow_gen "$work/bin/"
{
    echo "max_worker_processes = 8"
    if [ -n "${GRIDFLOW_DESTDIR:-}" ]; then
        echo "extension_destdir = '$GRIDFLOW_DESTDIR'"
    fi
} > "$work/extra.conf"

tests=()
for t in "${@:-test/tap/t/*.pl}"; do
    for f in $t; do tests+=("$work/t/$(basename "$f")"); done
done

run_as=()
if [ "$(id -u)" = 0 ]; then
    chown -R postgres: "$work"
    run_as=(runuser -u postgres --)
fi

status=0
"${run_as[@]}" env PATH="$bindir:$PATH" TESTDIR="$work" PG_REGRESS="$pg_regress" \
    TEMP_CONFIG="$work/extra.conf" GRIDFLOW_GEN="$work/bin/gridflow_gen" \
    GRIDFLOW_TEST_DIR="${GRIDFLOW_TEST_DIR:-/tmp/gridflow-regress}" \
    GRIDFLOW_DESTDIR="${GRIDFLOW_DESTDIR:-}" \
    PG_TEST_TIMEOUT_DEFAULT="${PG_TEST_TIMEOUT_DEFAULT:-300}" \
    prove ${PROVE_FLAGS:-} -I "$perl_lib" -I "$work/t" "${tests[@]}" || status=$?
if [ "$status" != 0 ]; then
    for log in "$work"/tmp_check/log/regress_log_*; do
        [ -f "$log" ] || continue
        echo "=== tail of $log"
        tail -n 80 "$log"
    done
fi
exit "$status"
