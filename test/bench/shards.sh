#!/usr/bin/env bash
# Shards on one machine: "make bench-shards SCALE=50 [RUNS=3]".
#
# Starts (or reuses) three throwaway clusters under BENCH_DIR/shards, a
# coordinator and two shards reached through postgres_fdw, as in
# docs/distributed.md and test/tap/t/005_shards.pl, and times, alternately:
#   - gridflow_build() in a database alone (the reference);
#   - gridflow_build_distributed() with UTILITY1 whole on shard1 and
#     UTILITY2 whole on shard2;
#   - the same with UTILITY2 split by hash of the service point over both
#     shards (the coordinator reads it and routes its reads).
# After each distributed build the coordinator's daily figures must equal
# the reference's.  Prints medians, min/max and every node's steps of the
# last build of each layout, and writes the "shards, scale N" section of
# test/bench/RESULTS.md.  The three clusters share this machine's cores, so
# this shows how the work divides, not a speed-up.
#
# Environment: SCALE (default 50), RUNS (default 3), BENCH_DIR (default
# /tmp/gridflow-bench), BENCH_SHARD_PORT (default 54350: coordinator; the
# shards take the next two ports).
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
scale="${SCALE:-50}"
runs="${RUNS:-3}"
log_name="shards-$scale.log"
. "$top/test/bench/common.sh"

bench_install
drop="$(make_drop "$scale")"

bindir="$(pg_config --bindir)"
dir="$work/shards"
p0="${BENCH_SHARD_PORT:-54350}"
p1=$((p0 + 1))
p2=$((p0 + 2))
mkdir -p "$dir"
chown postgres: "$dir"
as_pg() { runuser -u postgres -- "$@"; }

start_node() {   # start_node NAME PORT
    local d="$dir/$1"
    if [ ! -f "$d/PG_VERSION" ]; then
        rm -rf "$d"
        as_pg "$bindir/initdb" -D "$d" -A trust -N -E UTF8 --locale=C.UTF-8 >>"$log"
        cat >> "$d/postgresql.conf" <<EOF
port = $2
unix_socket_directories = '$dir'
listen_addresses = ''
fsync = off
synchronous_commit = off
shared_buffers = 512MB
max_wal_size = 4GB
autovacuum = off
EOF
    fi
    if destdir_conf "$d/postgresql.conf"; then
        as_pg "$bindir/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1 || true
    fi
    as_pg "$bindir/pg_ctl" -D "$d" status >/dev/null 2>&1 ||
        as_pg "$bindir/pg_ctl" -D "$d" -l "$d.log" -w start >>"$log"
}
stop_nodes() {
    for n in coordinator shard1 shard2; do
        as_pg "$bindir/pg_ctl" -D "$dir/$n" -m fast -w stop >/dev/null 2>&1 || true
    done
}
trap stop_nodes EXIT
q() {   # q PORT DB SQL
    psql -X -q -At -h "$dir" -U postgres -p "$1" -d "$2" -v ON_ERROR_STOP=1 -c "$3"
}

start_node coordinator "$p0"
start_node shard1 "$p1"
start_node shard2 "$p2"
for p in "$p0" "$p1" "$p2"; do
    q "$p" postgres "DROP DATABASE IF EXISTS gf WITH (FORCE)" >>"$log"
    q "$p" postgres "CREATE DATABASE gf" >>"$log"
    q "$p" gf "SET client_min_messages = warning; CREATE EXTENSION gridflow" >>"$log"
done
q "$p0" postgres "DROP DATABASE IF EXISTS single WITH (FORCE)" >>"$log"
q "$p0" postgres "CREATE DATABASE single" >>"$log"
q "$p0" single "SET client_min_messages = warning; CREATE EXTENSION gridflow" >>"$log"
psql -X -q -h "$dir" -U postgres -p "$p0" -d gf -v ON_ERROR_STOP=1 >>"$log" <<SQL
CREATE EXTENSION postgres_fdw;
CREATE SERVER shard1 FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '$dir', port '$p1', dbname 'gf', async_capable 'true',
             extensions 'gridflow', batch_size '1000', fetch_size '10000');
CREATE SERVER shard2 FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '$dir', port '$p2', dbname 'gf', async_capable 'true',
             extensions 'gridflow', batch_size '1000', fetch_size '10000');
CREATE USER MAPPING FOR PUBLIC SERVER shard1 OPTIONS (user 'postgres');
CREATE USER MAPPING FOR PUBLIC SERVER shard2 OPTIONS (user 'postgres');
SQL

layout() {   # layout whole|hash: place the utilities, make the partitions
    local rows="('UTILITY1', 1, 0, 'shard1', NULL), ('UTILITY2', 1, 0, 'shard2', NULL)"
    [ "$1" = hash ] &&
        rows="('UTILITY1', 1, 0, 'shard1', NULL), ('UTILITY2', 2, 0, 'shard1', NULL), ('UTILITY2', 2, 1, 'shard2', NULL)"
    q "$p0" gf "DELETE FROM gridflow.shard; INSERT INTO gridflow.shard (utility_id, hash_modulus, hash_remainder, server_name, drop_dir) VALUES $rows; SELECT count(*) FROM gridflow_distribute()" >>"$log"
}
days_sql="SELECT count(*) || ' ' || gridflow.exact_sum(total_usage) FROM experience.daily_usage"

declare -a t_single t_whole t_hash
say "== shards, scale $scale: $drop; $runs runs each"
for run in $(seq 1 "$runs"); do
    t0="$(now)"
    q "$p0" single "SELECT step || ' ' || coalesce(table_name, '') || ' ' || coalesce(row_count::text, '') || ' ' || round(elapsed_ms) FROM gridflow_build('$drop')" > "$dir/single.txt"
    t_single+=("$(elapsed "$t0")")
    want="$(q "$p0" single "$days_sql")"
    for l in whole hash; do
        layout "$l"
        t0="$(now)"
        q "$p0" gf "SELECT coalesce(server_name, 'coordinator') || ' | ' || step || ' | ' || coalesce(table_name, '') || ' | ' || coalesce(row_count::text, '') || ' | ' || round(elapsed_ms) FROM gridflow_build_distributed('$drop')" > "$dir/$l.txt"
        s="$(elapsed "$t0")"
        got="$(q "$p0" gf "$days_sql")"
        if [ "$got" != "$want" ]; then
            say "bench: the coordinator's days ($got) differ from a database alone ($want) after the $l build" >&2
            exit 1
        fi
        if [ "$l" = whole ]; then t_whole+=("$s"); else t_hash+=("$s"); fi
    done
    say "   run $run: alone ${t_single[-1]} s, shards whole ${t_whole[-1]} s, UTILITY2 split by hash ${t_hash[-1]} s (days equal: $want)"
done
read -r m_single lo_single hi_single <<<"$(stats "${t_single[@]}")"
read -r m_whole lo_whole hi_whole <<<"$(stats "${t_whole[@]}")"
read -r m_hash lo_hash hi_hash <<<"$(stats "${t_hash[@]}")"
say ""
say "scale $scale                                   median   min     max"
say "  gridflow_build, one database             $(printf '%6.2f  %6.2f  %6.2f' "$m_single" "$lo_single" "$hi_single")"
say "  distributed, each utility on a shard     $(printf '%6.2f  %6.2f  %6.2f' "$m_whole" "$lo_whole" "$hi_whole")"
say "  distributed, UTILITY2 split by hash      $(printf '%6.2f  %6.2f  %6.2f' "$m_hash" "$lo_hash" "$hi_hash")"
for l in whole hash; do
    say "  steps of the last $l build (node | step | table | rows | ms):"
    sed 's/^/    /' "$dir/$l.txt" | tee -a "$log"
done

section="$(mktemp)"
{
    echo "<!-- shards scale $scale -->"
    echo "### Shards, scale $scale: a coordinator and two shards on this machine"
    echo
    echo "Measured $(date +%F) on $(machine_line), PostgreSQL $(psql -X -At -h "$dir" -U postgres -p "$p0" -d gf -c 'SHOW server_version'); three clusters (shared_buffers 512MB, fsync off) sharing the cores; $runs runs each, alternating (\`make bench-shards SCALE=$scale\`). After each distributed build the coordinator's days equal those of the database alone."
    echo
    echo "| build | median s | min s | max s |"
    echo "|---|---|---|---|"
    echo "| \`gridflow_build\`, one database | $m_single | $lo_single | $hi_single |"
    echo "| \`gridflow_build_distributed\`, UTILITY1 on shard1, UTILITY2 on shard2 | $m_whole | $lo_whole | $hi_whole |"
    echo "| \`gridflow_build_distributed\`, UTILITY1 on shard1, UTILITY2 split by hash over both | $m_hash | $lo_hash | $hi_hash |"
    for l in whole hash; do
        echo
        echo "Steps of the last $l build (node | step | table | rows | ms):"
        echo
        echo '```'
        cat "$dir/$l.txt"
        echo '```'
    done
    echo "<!-- end shards scale $scale -->"
} > "$section"
replace_section "shards scale $scale" "$section"
rm -f "$section"
say ""
say "results written to test/bench/RESULTS.md (full log: $log)"
