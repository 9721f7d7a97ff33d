#!/usr/bin/env bash
# Copy the test fixtures into DIR, readable by the database server's user
# (the clone itself may sit where that user cannot read), with a scratch
# directory the server may write to, the onboarding drop, the ingest
# test's cut of the sample, and the hostile drops (test/hostile.sh) into
# DIR/hostile.  The real utility sample is copied
# too when it exists beside the project (../shared/iedr-sample, or
# GRIDFLOW_IEDR_SAMPLE); it is never part of the project.
#
# Files are replaced only when they differ, each by an atomic rename, so
# test runs from several checkouts can share DIR.
#
# DIR/attack holds what the security tests try to break in with (the server
# cannot make FIFOs or symbolic links from SQL): a FIFO, symbolic links out
# of an "allowed" directory, drops whose first file is a FIFO, /dev/zero or
# a link out, and files outside the allowed directory.
set -euo pipefail
dir="${1:?usage: stage.sh DIR}"
top="$(cd "$(dirname "$0")/.." && pwd)"

sync_tree() {   # sync_tree SRC DEST
    local src="$1" dest="$2" f rel
    mkdir -p "$dest"
    (cd "$src" && find . -type d) | while read -r rel; do mkdir -p "$dest/$rel"; done
    (cd "$src" && find . -type f) | while read -r rel; do
        f="$dest/$rel"
        if ! cmp -s "$src/$rel" "$f"; then
            cp "$src/$rel" "$f.tmp.$$"
            mv -f "$f.tmp.$$" "$f"
        fi
    done
}

# make_file PATH TEXT, make_link PATH TARGET, make_fifo PATH: create or
# replace atomically (rename), leave alone when already right.
make_file() {
    if [ ! -f "$1" ] || [ -L "$1" ] || [ "$(cat "$1")" != "$2" ]; then
        printf '%s\n' "$2" > "$1.tmp.$$"
        mv -Tf "$1.tmp.$$" "$1"
    fi
}
make_link() {
    if [ "$(readlink "$1" 2>/dev/null)" != "$2" ]; then
        ln -sfn "$2" "$1.tmp.$$"
        mv -Tf "$1.tmp.$$" "$1"
    fi
}
make_fifo() {
    if [ ! -p "$1" ] || [ -L "$1" ]; then
        rm -f "$1.tmp.$$"
        mkfifo "$1.tmp.$$"
        mv -Tf "$1.tmp.$$" "$1"
    fi
}

mkdir -p "$dir/scratch"
sync_tree "$top/data/csv" "$dir/csv"
sync_tree "$top/data/drops" "$dir/drops"
sync_tree "$top/data/sample" "$dir/sample"
# DIR/split/{a,b,c}: the shipped sample cut into three drops for the
# ingest tests: a has the first half of each file (the first 60% of the
# reads), b the rest and again the first tenth of a, c a slice of a's reads
# with two values in three changed (corrections) and the third sent again.
split_tmp="$(mktemp -d)"
for u in utility1 utility2; do
    for k in service_points meters intervals; do
        f="$top/data/sample/$u/${u}_$k.csv"
        for part in a b c; do
            [ "$part" = c ] && [ "$k" != intervals ] && continue
            mkdir -p "$split_tmp/$part/$u"
            awk -v part="$part" -v kind="$k" '
                NR == 1 { header = $0; next }
                { rows[++n] = $0 }
                END {
                    cut = (kind == "intervals") ? int(n * 6 / 10) : int(n / 2)
                    printf "%s\n", header
                    if (part == "a")
                        for (i = 1; i <= cut; i++) print rows[i]
                    else if (part == "b") {
                        for (i = cut + 1; i <= n; i++) print rows[i]
                        for (i = 1; i <= int(cut / 10) + 1; i++) print rows[i]
                    } else {
                        h = header; sub(/^\xef\xbb\xbf/, "", h)
                        nf = split(h, names, ",")
                        for (c = 1; c <= nf; c++) if (names[c] == "value") vi = c
                        from = int(cut / 4) + 1; to = from + int(cut / 8) + 1
                        for (i = from; i <= to && i <= cut; i++) {
                            nf = split(rows[i], f, ",")
                            if (i % 3 != 0 && f[vi] != "") f[vi] = f[vi] * 2 + 1
                            line = f[1]
                            for (c = 2; c <= nf; c++) line = line "," f[c]
                            print line
                        }
                    }
                }' "$f" > "$split_tmp/$part/$u/${u}_$k.csv"
        done
    done
done
sync_tree "$split_tmp" "$dir/split"
rm -rf "$split_tmp"

# The drop of the btree_build test (DIR/drops/unknown_meters): the shipped
# sample with every third row of utility2's meter file left out, so that
# the reads of some meters have no service point.
unknown_tmp="$(mktemp -d)"
cp -r "$top/data/sample/utility1" "$top/data/sample/utility2" "$unknown_tmp/"
awk 'NR == 1 || NR % 3 != 0' "$top/data/sample/utility2/utility2_meters.csv" \
    > "$unknown_tmp/utility2/utility2_meters.csv"
sync_tree "$unknown_tmp" "$dir/drops/unknown_meters"
rm -rf "$unknown_tmp"

# The onboarding drop (DIR/drops/onboard): the generator's four utilities at
# the sample's scale and seed.  Utilities 1 and 2 are the shipped sample, byte
# for byte (checked here, so that a generator change cannot leave the sample
# behind); utilities 3 and 4 are the ones the onboard test configures.
gen="$(mktemp -d)"
trap 'rm -rf "$gen"' EXIT
"${CC:-cc}" -std=c99 -O2 -o "$gen/gridflow_gen" "$top/data/gridflow_gen.c"
"$gen/gridflow_gen" -s 0.15 -S 1 "$gen/onboard" 2>/dev/null
for u in utility1 utility2; do
    if ! diff -r -q "$gen/onboard/$u" "$top/data/sample/$u" >/dev/null; then
        echo "stage.sh: data/sample/$u is not what data/gridflow_gen.c writes; run make sample" >&2
        exit 1
    fi
done
sync_tree "$gen/onboard" "$dir/drops/onboard"
# The drop of the plans test (DIR/drops/scale5): utilities 1 and 2 at scale
# 5 (250,000 records, 32,000 standardized reads, 10 MB).  Written only when
# it is missing or was made by another version of the generator: its stamp,
# written last, names the generator's checksum and arguments.
stamp="$(sha256sum "$top/data/gridflow_gen.c" | cut -d' ' -f1) -s 5 -S 1 -u 1,2"
if [ "$(cat "$dir/drops/scale5/.stamp" 2>/dev/null)" != "$stamp" ]; then
    "$gen/gridflow_gen" -s 5 -S 1 -u 1,2 "$gen/scale5" 2>/dev/null
    sync_tree "$gen/scale5" "$dir/drops/scale5"
    make_file "$dir/drops/scale5/.stamp" "$stamp"
fi
bash "$top/test/hostile.sh" "$dir/hostile"
sample="${GRIDFLOW_IEDR_SAMPLE:-$top/../shared/iedr-sample}"
if [ -d "$sample" ]; then
    sync_tree "$sample" "$dir/iedr-sample"
fi
a="$dir/attack"
mkdir -p "$a/outside" "$a/allowed2" "$a/allowed/sub" \
    "$a/allowed/drops/fifo/utility1" "$a/allowed/drops/zero/utility1" \
    "$a/allowed/drops/escape/utility1"
make_fifo "$a/fifo"
make_file "$a/outside/secret.csv" "$(printf 'secret\noutside the allowed directory')"
make_file "$a/allowed2/secret.csv" "$(printf 'secret\nin a sibling whose name extends the allowed one')"
make_file "$a/allowed/ok.csv" "$(printf 'a,b\n1,2')"
make_file "$a/allowed/sub/ok.csv" "$(printf 'a,b\n3,4')"
make_link "$a/allowed/link_in.csv" "ok.csv"
make_link "$a/allowed/link_out.csv" "../outside/secret.csv"
make_link "$a/allowed/link_passwd.csv" "/etc/passwd"
make_link "$a/allowed/link_dir" "../outside"
make_link "$a/alias" "allowed"
make_fifo "$a/allowed/drops/fifo/utility1/utility1_service_points.csv"
make_link "$a/allowed/drops/zero/utility1/utility1_service_points.csv" "/dev/zero"
make_link "$a/allowed/drops/escape/utility1/utility1_service_points.csv" "../../../../outside/secret.csv"

chmod -R a+rX "$dir"
chmod 1777 "$dir/scratch"
