# Shared by the benchmark scripts (sourced): the bench directory and log,
# building and installing gridflow, generated drops, the throwaway cluster
# with the competitor's settings, timing and memory sampling, statistics,
# and the sections of test/bench/RESULTS.md.
#
# The sourcing script sets: top (the project), scale, log_name.
# Environment: BENCH_DIR (default /tmp/gridflow-bench), COMPETITOR (default
# ../shared/bench beside the project), BENCH_PORT (default 54330),
# GRIDFLOW_DESTDIR (as for "make test": install gridflow into that directory
# instead of the server's, and point the bench cluster at it with
# extension_destdir: install_gridflow, bench_install, bench_cluster and
# destdir_conf honour it), BENCH_VEE (set: drops made with gridflow_gen -v,
# anomalies for the validation rules, in drop-SCALE-vee).

work="${BENCH_DIR:-/tmp/gridflow-bench}"
competitor="${COMPETITOR:-$top/../shared/bench}"
port="${BENCH_PORT:-54330}"
results="$top/test/bench/RESULTS.md"

if [ ! -f "$competitor/pg_cluster.sh" ]; then
    echo "bench: the competitor's scripts are not at $competitor (set COMPETITOR)" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "bench: run as root (the cluster runs as the postgres user, gridflow is installed system-wide)" >&2
    exit 2
fi

mkdir -p "$work"
chmod a+rx "$work"
log="$work/$log_name"
: > "$log"
say() { printf '%s\n' "$*" | tee -a "$log"; }

destdir="${GRIDFLOW_DESTDIR:-}"

install_gridflow() {   # install_gridflow DIR: build and install the checkout in DIR
    make -s -C "$1" >/dev/null
    if [ -n "$destdir" ]; then
        make -s -C "$1" install DESTDIR="$destdir" >/dev/null
        chmod -R a+rX "$destdir"
    else
        make -s -C "$1" install >/dev/null
    fi
}

# destdir_conf CONF: make the extension_destdir line of the server
# configuration CONF GRIDFLOW_DESTDIR's (none without it); true when it
# changed (a running server must be restarted)
destdir_conf() {
    local want=""
    [ -z "$destdir" ] || want="extension_destdir = '$destdir'"
    [ "$(grep '^extension_destdir = ' "$1" || true)" != "$want" ] || return 1
    sed -i '/^extension_destdir = /d' "$1"
    [ -z "$want" ] || echo "$want" >> "$1"
}

bench_install() {   # build and install gridflow and the generator
    bash "$top/test/setup.sh"
    install_gridflow "$top"
    make -s -C "$top" data/gridflow_gen >/dev/null
}

make_drop() {   # make_drop SCALE -> prints the directory of the generated drop
    # BENCH_VEE=1: with the generator's anomalies for the validation rules (-v)
    local s="$1" d="$work/drop-$1${BENCH_VEE:+-vee}" vee=""
    [ -z "${BENCH_VEE:-}" ] || vee="-v"
    if [ ! -f "$d/.complete" ]; then
        rm -rf "$d"
        "$top/data/gridflow_gen" -s "$s" -S 1 $vee "$d" 2>>"$log"
        touch "$d/.complete"
    fi
    chmod -R a+rX "$d"
    echo "$d"
}

bench_cluster() {   # start (or reuse) the cluster; a fresh gridflow in it
    local cluster="$work/cluster"
    if [ ! -f "$cluster/data/PG_VERSION" ]; then
        bash "$competitor/pg_cluster.sh" init "$cluster" "$port" >>"$log"
    fi
    eval "$(bash "$competitor/pg_cluster.sh" env "$cluster")"
    if destdir_conf "$cluster/data/postgresql.conf" && pg_isready -q; then
        bash "$competitor/pg_cluster.sh" stop "$cluster" >>"$log"
    fi
    if ! pg_isready -q; then
        bash "$competitor/pg_cluster.sh" start "$cluster" >>"$log"
    fi
    psql -X -q -v ON_ERROR_STOP=1 <<'SQL' >>"$log" 2>&1
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS gridflow CASCADE;
CREATE EXTENSION gridflow;
SQL
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

# Run a command and time it, whole (process start-up included), with
# nothing else running: sets $run_s (wall).  The timed runs of every
# contender go through here; memory is sampled in runs of their own
# (run_sampled), whose sampler (psql and awk every 20 ms) would otherwise
# share the cores with what it measures.
run_timed() {
    local t0
    t0="$(now)"
    "$@" >>"$log" 2>&1
    run_s="$(elapsed "$t0")"
}

# Run a command whose database session is tagged APPNAME; sample its
# backend's memory and CPU time while it runs.  Sets $run_s (wall),
# $run_cpu_s (the backend's user + system time at the last sample, a lower
# bound taken every 20 ms), $run_anon_kb and $run_hwm_kb.
run_sampled() {
    local appname="$1"; shift
    local t0 pid="" anon=0 hwm=0 a h cmdpid ticks=0 c
    t0="$(now)"
    PGAPPNAME="$appname" "$@" >>"$log" 2>&1 &
    cmdpid=$!
    while kill -0 "$cmdpid" 2>/dev/null; do
        if [ -z "$pid" ]; then
            pid="$(psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$appname' LIMIT 1" 2>/dev/null || true)"
        fi
        if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
            a="$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)"
            h="$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)"
            [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon="$a"
            [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm="$h"
            c="$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || true)"
            [ -n "$c" ] && [ "$c" -gt "$ticks" ] && ticks="$c"
        fi
        sleep 0.02
    done
    wait "$cmdpid"
    run_s="$(elapsed "$t0")"
    run_cpu_s="$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')"
    run_anon_kb="$anon"
    run_hwm_kb="$hwm"
}

stats() {   # stats v1 v2 ... -> "median min max"
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
        printf "%.2f %.2f %.2f", m, v[1], v[NR] }'
}
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }

machine_line() {
    echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(awk -F: '/model name/ { gsub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)"
}

# replace_section KEY FILE: put FILE (which starts with "<!-- KEY -->" and
# ends with "<!-- end KEY -->") into RESULTS.md in place of the section of
# that key, or append it.
replace_section() {
    if [ ! -f "$results" ]; then
        printf '# gridflow benchmark results\n\nWritten by `make bench SCALE=N` (test/bench/bench.sh) and `make bench-incremental SCALE=N` (test/bench/incremental.sh); see the README.\n' > "$results"
    fi
    awk -v k="$1" -v f="$2" '
        $0 == "<!-- " k " -->" { skip = 1; while ((getline line < f) > 0) print line; next }
        skip && $0 == "<!-- end " k " -->" { skip = 0; done = 1; next }
        !skip { print }
        END { if (!done) { print ""; while ((getline line < f) > 0) print line } }
    ' "$results" > "$results.new"
    mv "$results.new" "$results"
}
