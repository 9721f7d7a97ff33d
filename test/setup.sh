#!/usr/bin/env bash
# Install what building and testing gridflow needs, when it is missing
# (Debian 12 with the PostgreSQL 15 server; run as root to install):
# the server headers, libxml2's headers, make and gcc, pg_virtualenv, IPC::Run for the TAP
# tests; with the argument "test", clang with libFuzzer for the fuzz
# targets and what the BI client tests need too; with "bi", only the
# latter: a JDK, Debian's PostgreSQL JDBC driver, Node.js and npm (which
# installs node-postgres from the npm registry when the test runs).
set -euo pipefail
PGVER="${PGVER:-15}"
need=()
[ -f "/usr/include/postgresql/$PGVER/server/postgres.h" ] || need+=("postgresql-server-dev-$PGVER")
[ -f /usr/include/libxml2/libxml/xmlreader.h ] || need+=(libxml2-dev)
command -v make >/dev/null || need+=(make)
command -v gcc >/dev/null || need+=(gcc)
command -v pg_virtualenv >/dev/null || need+=(postgresql-common)
perl -MIPC::Run -e1 2>/dev/null || need+=(libipc-run-perl)
# the BI client tests (test/bi.sh): a JDK and the JDBC driver, Node.js and
# npm
if [ "${1:-}" = test ] || [ "${1:-}" = bi ]; then
    command -v javac >/dev/null || need+=(default-jdk-headless)
    [ -f /usr/share/java/postgresql.jar ] || need+=(libpostgresql-jdbc-java)
    command -v node >/dev/null || need+=(nodejs)
    command -v npm >/dev/null || need+=(npm)
fi
# the fuzz targets: clang with libFuzzer and the sanitizers, and for the
# coverage report of "make fuzz-long" the llvm tools beside it
if [ "${1:-}" != test ]; then
    :
elif ! command -v clang >/dev/null; then
    need+=(clang libclang-rt-dev llvm)
else
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' |
        clang -x c -fsanitize=fuzzer,address,undefined -o /dev/null - 2>/dev/null ||
        need+=(libclang-rt-dev)
    [ -x "$(dirname "$(readlink -f "$(command -v clang)")")/llvm-cov" ] || need+=(llvm)
fi
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "gridflow needs these packages: ${need[*]} (run as root to install them)" >&2
        exit 1
    fi
    echo "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
