#!/usr/bin/env bash
# "make run": build and install gridflow, start a throwaway PostgreSQL
# cluster, build every layer from the sample shipped with the extension (or
# from DROP=/path/to/drop, which the server's user must be able to read)
# and print the data-quality snapshot.  The cluster is dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/setup.sh
make -s
make -s install

export GRIDFLOW_DROP="${DROP:-}"
pg_virtualenv -t bash -c '
    echo "throwaway cluster: host $PGHOST, port $PGPORT, user $PGUSER (dropped at the end)"
    psql -X -q -v drop="$GRIDFLOW_DROP" -f test/run.sql
'
echo "done: the throwaway cluster has been stopped and removed"
