#!/usr/bin/env bash
# Install what building and testing gridflow needs, when it is missing
# (Debian 12 with the PostgreSQL 15 server; run as root to install).
set -euo pipefail
PGVER="${PGVER:-15}"
need=()
[ -f "/usr/include/postgresql/$PGVER/server/postgres.h" ] || need+=("postgresql-server-dev-$PGVER")
command -v make >/dev/null || need+=(make)
command -v gcc >/dev/null || need+=(gcc)
command -v pg_virtualenv >/dev/null || need+=(postgresql-common)
perl -MIPC::Run -e1 2>/dev/null || need+=(libipc-run-perl)
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "gridflow needs these packages: ${need[*]} (run as root to install them)" >&2
        exit 1
    fi
    echo "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
