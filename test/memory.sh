#!/usr/bin/env bash
# Peak memory of the backend during gridflow builds, at several scales of
# generated drops:
#
#   bash test/memory.sh 20 80          builds of gridflow_gen -s 20 and -s 80
#   REPEAT=100 bash test/memory.sh 20  the same, with utility2's interval file
#                                      repeated 100 times (same keys, 100x bytes)
#   bash test/memory.sh m3000000       a utility (utility2's layout) with
#                                      3,000,000 meters, as many service
#                                      points and one read per meter
#
# Against a running server with gridflow installed (PGHOST, PGPORT, PGUSER,
# PGDATABASE as for psql), on this machine: the backend's /proc/PID/status
# is sampled every 20 ms.  Prints, per build, the input size, the time, the
# backend's peak resident set (VmHWM, which includes the shared buffers it
# touched) and its peak private memory (RssAnon).  Drops are written under
# ${GRIDFLOW_MEMORY_DIR:-/tmp/gridflow-memory}, readable by the server.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || { echo "usage: memory.sh SCALE..." >&2; exit 1; }
repeat="${REPEAT:-1}"
dir="${GRIDFLOW_MEMORY_DIR:-/tmp/gridflow-memory}"
make -s data/gridflow_gen
mkdir -p "$dir"

printf '%-24s %10s %9s %12s %12s\n' drop input_MB build_s VmHWM_MB RssAnon_MB
# A drop of utility2 alone with n meters, n service points (one meter each)
# and one daily read per meter: the dimensions, not the reads, are large.
meters_drop() {
    local n="$1" out="$2/utility2"
    mkdir -p "$out"
    awk -v n="$n" -v out="$out" 'BEGIN {
        sp = out "/utility2_service_points.csv"; m = out "/utility2_meters.csv"
        iv = out "/utility2_intervals.csv"
        print "premise_id,created_date,premise_house_num,premise_street,premise_house_supp,premise_city,premise_zip,premise_region" > sp
        print "premise_id,meter_id,meter_number,meter_type,meter_status,meter_channel,installed_at,removed_at,created,updated" > m
        print "channel,duration,meter_id,quality,timestamp,value" > iv
        for (i = 1; i <= n; i++) {
            printf "PREM-%08d,2016-05-09,%d,Silver Knoll Drive,,Josephinestad,%05d,NY\n", i, i % 997, i % 99999 > sp
            printf "PREM-%08d,7%09d,7%09d,KV2,Customer,MT,2024-03-28T00:00:00Z,,2025-03-04T09:30:42Z,2025-03-04T09:30:42Z\n", i, i, i > m
            printf "1,0,7%09d,1,20250123,%d\n", i, i % 100000 > iv
        }
    }'
}

for scale in "$@"; do
    drop="$dir/s$scale-r$repeat"
    if [ ! -f "$drop/done" ]; then
        rm -rf "$drop"
        case "$scale" in
            m*) meters_drop "${scale#m}" "$drop" ;;
            *) data/gridflow_gen -s "$scale" "$drop" > /dev/null 2>&1 ;;
        esac
        if [ "$repeat" -gt 1 ]; then
            f="$drop/utility2/utility2_intervals.csv"
            tail -n +2 "$f" > "$drop/body"
            for _ in $(seq 2 "$repeat"); do cat "$drop/body" >> "$f"; done
            rm "$drop/body"
        fi
        touch "$drop/done"
    fi
    chmod -R a+rX "$dir"
    bytes=$(cat "$drop"/utility[12]/*.csv | wc -c)

    # a drop of utility2 alone is built with the other utilities disabled,
    # in a transaction rolled back afterwards
    only=""
    [ -d "$drop/utility1" ] || only="UPDATE gridflow.utility SET enabled = (utility_id = 'UTILITY2');"
    app="gridflow-memory-$$-$scale"
    start=$(date +%s.%N)
    PGAPPNAME="$app" psql -X -q -At -v ON_ERROR_STOP=1 -c "BEGIN; $only
        SELECT count(*) FROM gridflow_build('$drop'); SELECT pg_sleep(1); ROLLBACK" > "$dir/build.out" &
    client=$!
    pid=""
    while [ -z "$pid" ] && kill -0 "$client" 2>/dev/null; do
        pid=$(psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'")
    done
    hwm=0
    anon=0
    while [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; do
        read -r h a < <(awk '/^VmHWM:/ {h=$2} /^RssAnon:/ {a=$2} END {print h+0, a+0}' "/proc/$pid/status" 2>/dev/null || echo "0 0")
        [ "$h" -gt "$hwm" ] && hwm=$h
        [ "$a" -gt "$anon" ] && anon=$a
        sleep 0.02
    done
    wait "$client"
    took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s - 1 }')
    printf '%-24s %10d %9s %12d %12d\n' "s$scale x$repeat" $((bytes / 1000000)) "$took" \
        $((hwm / 1024)) $((anon / 1024))
done
