#!/usr/bin/env bash
# Write the drops of the "hostile" regression test into DIR: one drop per
# case, DIR/<case>/utility1/*.csv and DIR/<case>/utility2/*.csv, all small
# and valid except utility2's interval file (utility1's as well for
# "unparseable"), which holds the hostile bytes.  The big ones (a 20 MB
# field, a row of 200,000 fields, a 300 MB line) are made here rather than
# committed; they are rewritten only when their size is wrong.
#
# Files are replaced only when they differ, each by an atomic rename, so
# test runs from several checkouts can share DIR (see stage.sh).
set -euo pipefail
dir="${1:?usage: hostile.sh DIR}"
mkdir -p "$dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

U2_HEADER='channel,duration,meter_id,quality,timestamp,value'

# The valid part of every drop.
base() {    # base CASE
    local d="$tmp/$1"
    mkdir -p "$d/utility1" "$d/utility2"
    printf '%s\n' \
        'SERVICE_POINT_ID,SERVICE_POINT_NUMBER,SERVICE_POINT_STREET,SERVICE_POINT_CITY,SERVICE_POINT_ZIP,SERVICE_POINT_STATE,INSTALLED_AT,REMOVED_AT,CREATED,UPDATED' \
        'SP-1,1,MAIN ST,ALBANY,12207,NY,,,2022-05-06,2022-05-06' \
        > "$d/utility1/utility1_service_points.csv"
    printf '%s\n' 'meter_id,meter_type,meter_category' 'MTR-1,Actual,Periodic' \
        > "$d/utility1/utility1_meters.csv"
    printf '%s\n' \
        'service_delivery_point_id,meter_id,channel,duration,value,quality,timestamp,last_update_time,exported_at' \
        'SP-1,MTR-1,KWH,900,1.5,VAL,2025-01-30T06:20:00-05:00,null,null' \
        > "$d/utility1/utility1_intervals.csv"
    printf '%s\n' \
        'premise_id,created_date,premise_house_num,premise_street,premise_house_supp,premise_city,premise_zip,premise_region' \
        'PREM-1,2016-05-06,10,Oak Lane,,Albany,12207,NY' \
        > "$d/utility2/utility2_service_points.csv"
    printf '%s\n' \
        'premise_id,meter_id,meter_number,meter_type,meter_status,meter_channel,installed_at,removed_at,created,updated' \
        'PREM-1,100,100,KWH,Customer,MT,2020-01-01T00:00:00Z,,2025-03-04T09:30:42Z,2025-03-04T09:30:42Z' \
        > "$d/utility2/utility2_meters.csv"
}

# The utility2 interval file of a case, from printf's format (\r, \xHH, \0 ...).
u2() {      # u2 CASE FORMAT
    base "$1"
    printf "$2" > "$tmp/$1/utility2/utility2_intervals.csv"
}

u2 valid          "$U2_HEADER\n1,0,100,1,20250123,100\n1,0,100,1,20250124,7\n"
u2 empty          ''
u2 header_only    "$U2_HEADER\n"
u2 bom_only       '\xEF\xBB\xBF'
u2 cr_only        "$U2_HEADER\r1,0,100,1,20250123,100\r\r1,0,100,1,20250124,7\r"
base utf16
{ printf '\xFF\xFE'; printf "$U2_HEADER\r\n1,0,100,1,20250123,100\r\n" | iconv -f UTF-8 -t UTF-16LE; } \
    > "$tmp/utf16/utility2/utility2_intervals.csv"
u2 invalid_utf8   "$U2_HEADER\n1,0,100,1,20250123,100\n1,0,100,caf\xE9,20250124,7\n1,0,100,\xC0\xAF,20250125,5\n1,0,100,ok,20250126,6\n"
u2 nul            "$U2_HEADER\n1,0,100,1,20250123,100\n1,0,100,x\0y,20250124,7\n1,0,100,1,20250125,5\n"
u2 unterminated   "$U2_HEADER\n1,0,100,1,20250123,100\n1,0,100,\"open,20250124,7\n1,0,100,1,20250125,5\n"
u2 ragged         "$U2_HEADER\n1,0,100,1,20250123,100\n1,0,100,1,20250124\n1,0,100,1,20250125,5,extra\n1,0,100,1,20250126,6\n"
u2 missing_column "channel,duration,meter_id,quality,timestamp\n1,0,100,1,20250123\n"
u2 dup_header     "$U2_HEADER,METER_ID\n1,0,100,1,20250123,100,100\n"
base missing_file
# values that do not parse: a 13th month, February 30th, N/A, a number
# beyond double precision; one good row each
u2 unparseable    "$U2_HEADER\n1,0,100,1,20250123,100\n1,0,100,1,20251345,5\n1,0,100,1,20250124,N/A\n1,0,100,1,20250125,1e400\n1,N/A,100,1,20250126,6\n"
printf '%s\n' \
    'service_delivery_point_id,meter_id,channel,duration,value,quality,timestamp,last_update_time,exported_at' \
    'SP-1,MTR-1,KWH,900,1.5,VAL,2025-01-30T06:20:00-05:00,null,null' \
    'SP-1,MTR-1,KWH,900,2.5,VAL,2025-02-30T06:20:00-05:00,null,null' \
    'SP-1,MTR-1,KWH,900,N/A,VAL,2025-01-30T06:35:00-05:00,null,null' \
    'SP-1,MTR-1,KWH,900,1e400,VAL,2025-01-30T06:50:00-05:00,null,null' \
    'SP-1,MTR-1,KWH,900,1,VAL,20251345,null,null' \
    > "$tmp/unparseable/utility1/utility1_intervals.csv"
# one meter named with 100,000 premises, another on 100,000 rows of one
# premise (what the meter-to-premise figures must count without comparing
# every row with every other)
u2 meter_many_premises "$U2_HEADER\n1,0,100,1,20250123,100\n1,0,200,1,20250124,7\n"
awk 'BEGIN {
    print "premise_id,meter_id,meter_number,meter_type,meter_status,meter_channel,installed_at,removed_at,created,updated"
    for (i = 1; i <= 100000; i++) {
        printf "PREM-%d,100,100,KWH,Customer,MT,2020-01-01T00:00:00Z,,2025-03-04T09:30:42Z,2025-03-04T09:30:42Z\n", i
        print "PREM-1,200,200,KWH,Customer,MT,2020-01-01T00:00:00Z,,2025-03-04T09:30:42Z,2025-03-04T09:30:42Z"
    }
}' > "$tmp/meter_many_premises/utility2/utility2_meters.csv"
# big cases: the valid files here, the interval file below
base field_20mb
base fields_200k
base line_300mb
mkdir -p "$tmp/files"
printf 'a,b\n1,2\n' > "$tmp/files/header_only_ab.csv"

# Small files: replace those that differ.
(cd "$tmp" && find . -type d) | while read -r rel; do mkdir -p "$dir/$rel"; done
(cd "$tmp" && find . -type f) | while read -r rel; do
    if ! cmp -s "$tmp/$rel" "$dir/$rel"; then
        cp "$tmp/$rel" "$dir/$rel.tmp.$$"
        mv -f "$dir/$rel.tmp.$$" "$dir/$rel"
    fi
done
rm -f "$dir/missing_file/utility2/utility2_intervals.csv"

# Big files: written by a function when missing or of the wrong size.
big() {     # big PATH SIZE FUNCTION
    local f="$1" size="$2"
    if [ "$(stat -c %s "$f" 2>/dev/null || echo -1)" != "$size" ]; then
        "$3" > "$f.tmp.$$"
        mv -f "$f.tmp.$$" "$f"
    fi
}
xs() { head -c "$1" /dev/zero | tr '\0' x; }   # xs N: N bytes of x

# a 20,000,000-byte quality field
field_20mb() { printf '%s\n1,0,100,' "$U2_HEADER"; xs 20000000; printf ',20250123,100\n1,0,100,1,20250124,7\n'; }
# a row of 200,000 fields between two good ones
fields_200k() { printf '%s\n1,0,100,1,20250123,100\n' "$U2_HEADER"; seq -s, 1 200000; printf '1,0,100,1,20250124,7\n'; }
# a header of 200,000 fields
header_200k() { seq -s, 1 200000; printf '1\n'; }
# a 300,000,000-byte line with no line break, after a good row
line_300mb() { printf '%s\n1,0,100,1,20250123,100\n' "$U2_HEADER"; xs 300000000; }

big "$dir/field_20mb/utility2/utility2_intervals.csv" 20000093 field_20mb
big "$dir/fields_200k/utility2/utility2_intervals.csv" 1288989 fields_200k
big "$dir/files/header_200k.csv" 1288897 header_200k
big "$dir/line_300mb/utility2/utility2_intervals.csv" 300000073 line_300mb
chmod -R a+rX "$dir"
