#!/usr/bin/env bash
# Copy the test fixtures into DIR, readable by the database server's user
# (the clone itself may sit where that user cannot read), with a scratch
# directory the server may write to, and generate the hostile drops
# (test/hostile.sh) into DIR/hostile.  The real utility sample is copied
# too when it exists beside the project (../shared/iedr-sample, or
# GRIDFLOW_IEDR_SAMPLE); it is never part of the project.
#
# Files are replaced only when they differ, each by an atomic rename, so
# test runs from several checkouts can share DIR.
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

mkdir -p "$dir/scratch"
sync_tree "$top/data/csv" "$dir/csv"
sync_tree "$top/data/drops" "$dir/drops"
sync_tree "$top/data/sample" "$dir/sample"
bash "$top/test/hostile.sh" "$dir/hostile"
sample="${GRIDFLOW_IEDR_SAMPLE:-$top/../shared/iedr-sample}"
if [ -d "$sample" ]; then
    sync_tree "$sample" "$dir/iedr-sample"
fi
chmod -R a+rX "$dir"
chmod 1777 "$dir/scratch"
