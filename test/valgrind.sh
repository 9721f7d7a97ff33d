#!/usr/bin/env bash
# The pg_regress suite with the server under valgrind ("make valgrindcheck").
#
# Builds gridflow, installs it into a private directory, starts a private
# cluster whose postmaster runs under valgrind --trace-children=yes (every
# backend, parallel worker and auxiliary process is checked), runs every
# pg_regress test against it, stops it, and reads the per-process valgrind
# logs.  Fails when a test fails or when valgrind reports an error with
# gridflow's code on its stack; other reports (PostgreSQL itself, left
# unsuppressed in test/valgrind.supp) are counted and listed, not fatal.
#
# Slow: ten to twenty minutes on two cores.  VALGRIND_KEEP=1 keeps the logs and
# prints where they are.  Run as root (then the cluster runs as "postgres")
# or as a user who may run initdb.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"

if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
    else
        echo "valgrind.sh: valgrind is not installed" >&2
        exit 1
    fi
fi
bash test/setup.sh test
make -s

PG_CONFIG="${PG_CONFIG:-pg_config}"
bindir="$("$PG_CONFIG" --bindir)"
work="$(mktemp -d /tmp/gridflow-valgrind.XXXXXX)"
if [ -n "${VALGRIND_KEEP:-}" ]; then
    echo "valgrind.sh: work directory $work"
else
    trap 'rm -rf "$work"' EXIT
fi
make -s install DESTDIR="$work/dest"
mkdir -p "$work/vg"
cp test/valgrind.supp "$work/"
chmod -R a+rX "$work"
export GRIDFLOW_TEST_DIR=/tmp/gridflow-regress
bash test/stage.sh "$GRIDFLOW_TEST_DIR"

as_server=()
if [ "$(id -u)" = 0 ]; then
    chown -R postgres: "$work/vg"
    mkdir -p "$work/data" "$work/run"
    chown postgres: "$work/data" "$work/run"
    as_server=(runuser -u postgres --)
else
    mkdir -p "$work/data" "$work/run"
fi
"${as_server[@]}" "$bindir/initdb" -D "$work/data" -E UTF8 --locale=C.UTF-8 -A trust > "$work/initdb.log"
port=$((20000 + RANDOM % 20000))
cat >> "$work/data/postgresql.conf" <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$work/run'
extension_destdir = '$work/dest'
max_worker_processes = 8
fsync = off
# JIT would load LLVM into backends under valgrind: slow, and glibc's
# loader reports its own reads while it does
jit = off
EOF

echo "starting the server under valgrind (port $port; logs in $work/vg)"
"${as_server[@]}" valgrind --quiet --trace-children=yes --error-limit=no \
    --leak-check=no --num-callers=40 --read-var-info=no \
    --suppressions="$work/valgrind.supp" --log-file="$work/vg/%p.log" \
    "$bindir/postgres" -D "$work/data" > "$work/server.log" 2>&1 &
server=$!
stop_server() {
    "${as_server[@]}" "$bindir/pg_ctl" -D "$work/data" -m fast -w -t 600 stop > /dev/null 2>&1 || true
    wait "$server" 2>/dev/null || true
}
for _ in $(seq 1 600); do
    "$bindir/pg_isready" -q -h "$work/run" -p "$port" && break
    sleep 1
done

status=0
mkdir -p "$work/out"
PGHOST="$work/run" PGPORT="$port" PGUSER=postgres \
    make -s installcheck EXTRA_REGRESS_OPTS="--outputdir=$work/out" || status=1
[ "$status" = 0 ] || { [ -f "$work/out/regression.diffs" ] && cat "$work/out/regression.diffs"; }
stop_server

# What valgrind found: every error, and those with gridflow on the stack.
processes=$(ls "$work/vg" | wc -l)
errors=0
ours=0
# the C files of gridflow, as a pattern: a stack through any of them is ours
ours_files=$(cd src && ls *.c | sed 's/\.c$//' | paste -sd '|')
for log in "$work"/vg/*.log; do
    n=$(grep -c '^==[0-9]*== [A-Z]' "$log" || true)
    # an error report starts with a line naming it and ends at a blank line
    awk '/^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Source and destination|Mismatched|Argument)/ {e=$0; s=""; inerr=1; next}
         inerr && /^==[0-9]+== *$/ {print e "\n" s; inerr=0; next}
         inerr {s = s $0 "\n"}' "$log" > "$log.errors"
    if [ -s "$log.errors" ]; then
        errors=$((errors + $(grep -c '^==[0-9]*== [A-Z]' "$log.errors")))
        # gridflow.so has symbols and line numbers; Debian's server is stripped
        if grep -Eq "\\(($ours_files)\\.c:[0-9]+\\)|gridflow\\.so" "$log.errors"; then
            ours=$((ours + 1))
            echo "=== errors with gridflow code on the stack in $log:"
            cat "$log.errors"
        fi
    fi
    : "$n"
done
echo "valgrind: $processes processes checked, $errors error reports, in gridflow's code: $ours processes"
if [ "$errors" -gt 0 ] && [ "$ours" = 0 ]; then
    echo "(the other reports, from PostgreSQL itself:)"
    cat "$work"/vg/*.errors | grep '^==[0-9]*== [A-Z]' | sed 's/^==[0-9]*== //' | sort | uniq -c
fi
[ "$ours" = 0 ] || status=1
[ "$status" = 0 ] && echo "valgrind: regression suite passed, no error in gridflow's code"
exit $status
