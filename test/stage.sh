#!/usr/bin/env bash
# Copy the test fixtures into DIR, readable by the database server's user
# (the clone itself may sit where that user cannot read), with a scratch
# directory the server may write to.  The real utility sample is copied
# too when it exists beside the project (../shared/iedr-sample, or
# GRIDFLOW_IEDR_SAMPLE); it is never part of the project.
set -euo pipefail
dir="${1:?usage: stage.sh DIR}"
top="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$dir"
mkdir -p "$dir/scratch"
cp -r "$top/data/csv" "$top/data/drops" "$top/data/sample" "$dir/"
sample="${GRIDFLOW_IEDR_SAMPLE:-$top/../shared/iedr-sample}"
if [ -d "$sample" ]; then
    cp -r "$sample" "$dir/iedr-sample"
fi
chmod -R a+rX "$dir"
chmod 1777 "$dir/scratch"
chmod a+rx "$(dirname "$dir")" 2>/dev/null || true
