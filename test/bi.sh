#!/usr/bin/env bash
# The BI client tests, against the server that the PG* variables point to
# (make jdbccheck, make nodecheck; make test runs both in a throwaway
# cluster of their own, made by pg_virtualenv):
#
#   jdbc  a Java program reads the catalog through Debian's PostgreSQL JDBC
#         driver, as BI tools do (test/jdbc/CatalogListing.java);
#   node  a Node.js program runs a dashboard's queries through node-postgres
#         (test/node/dashboard.mjs), installed from the npm registry into
#         GRIDFLOW_NODE_DIR (default /tmp/gridflow-node), outside the tree.
#
#   bash test/bi.sh [jdbc] [node]          (both when none is named)
#
# Both work on a database of their own, gridflow_bi (made anew, with the
# extension and a build of the sample shipped with it), as login roles made
# for the run with a random password: gridflow_bi_internal and
# gridflow_bi_external (granted gridflow_internal and gridflow_external,
# mapped to UTILITY1) for JDBC, gridflow_bi_dash_internal (UTILITY1 and
# UTILITY2) and gridflow_bi_dash_external (UTILITY2) for the dashboard.
# The database and the roles are dropped at the end.  Each output is
# compared with its expected file (test/jdbc/expected, test/node/expected),
# like pg_regress: a difference is printed and fails the run.  Outputs are
# left in test/jdbc/results and test/node/results (git-ignored); to accept
# a changed output, read the diff and copy the result over the expected
# file.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
top="$PWD"
bash test/setup.sh bi

what=("$@")
[ "${#what[@]}" -gt 0 ] || what=(jdbc node)
for w in "${what[@]}"; do
    case "$w" in jdbc|node) ;; *) echo "bi.sh: unknown test \"$w\" (jdbc or node)" >&2; exit 2 ;; esac
done

db=gridflow_bi
password="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
# JDBC speaks TCP only: a socket directory in PGHOST means this machine
host="${PGHOST:-localhost}"
case "$host" in /*) tcp_host=localhost ;; *) tcp_host="$host" ;; esac
port="${PGPORT:-5432}"
roles=(gridflow_bi_internal gridflow_bi_external gridflow_bi_dash_internal gridflow_bi_dash_external)

psql_admin() {
    psql -X -q -v ON_ERROR_STOP=1 "$@"
}

cleanup() {
    psql_admin -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    for r in "${roles[@]}"; do
        psql_admin -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

cleanup
psql_admin -d postgres -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
psql_admin -d "$db" -v password="$password" <<'EOF'
SET client_min_messages = warning;
CREATE EXTENSION gridflow;
SELECT count(*) AS tables_built FROM gridflow_build() WHERE table_name IS NOT NULL \gset
CREATE ROLE gridflow_bi_internal LOGIN PASSWORD :'password' IN ROLE gridflow_internal;
CREATE ROLE gridflow_bi_external LOGIN PASSWORD :'password' IN ROLE gridflow_external;
CREATE ROLE gridflow_bi_dash_internal LOGIN PASSWORD :'password' IN ROLE gridflow_internal;
CREATE ROLE gridflow_bi_dash_external LOGIN PASSWORD :'password' IN ROLE gridflow_external;
INSERT INTO gridflow.role_utility VALUES
    ('gridflow_bi_internal', 'UTILITY1'), ('gridflow_bi_external', 'UTILITY1'),
    ('gridflow_bi_dash_internal', 'UTILITY1'), ('gridflow_bi_dash_internal', 'UTILITY2'),
    ('gridflow_bi_dash_external', 'UTILITY2');
EOF

status=0

# compare RESULT with EXPECTED like pg_regress: print the difference
compare() {
    if ! diff -u "$1" "$2"; then
        echo "bi.sh: $2 differs from $1 (the diff above; if the new output is right, copy it over the expected file)" >&2
        status=1
    fi
}

for w in "${what[@]}"; do
    case "$w" in
    jdbc)
        jar="${GRIDFLOW_JDBC_JAR:-/usr/share/java/postgresql.jar}"
        [ -f "$jar" ] || { echo "bi.sh: no JDBC driver at $jar (apt-get install libpostgresql-jdbc-java)" >&2; exit 1; }
        classes="$(mktemp -d /tmp/gridflow-jdbc.XXXXXX)"
        javac -d "$classes" test/jdbc/CatalogListing.java
        mkdir -p test/jdbc/results
        echo "jdbc: the catalog of $db as gridflow_bi_internal and gridflow_bi_external ($jar)"
        jstatus=0
        GRIDFLOW_BI_PASSWORD="$password" java -cp "$classes:$jar" CatalogListing "$tcp_host" "$port" "$db" \
            test/jdbc/known_issues.txt \
            "gridflow_bi_internal:granted gridflow_internal, mapped to UTILITY1" \
            "gridflow_bi_external:granted gridflow_external, mapped to UTILITY1" \
            > test/jdbc/results/catalog.out || jstatus=$?
        rm -rf "$classes"
        [ "$jstatus" = 0 ] || { echo "bi.sh: CatalogListing failed (exit $jstatus)" >&2; status=1; }
        compare test/jdbc/expected/catalog.out test/jdbc/results/catalog.out
        ;;
    node)
        dir="${GRIDFLOW_NODE_DIR:-/tmp/gridflow-node}"
        mkdir -p "$dir"
        cp test/node/package.json test/node/dashboard.mjs "$dir/"
        if ! (cd "$dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null); then
            echo "bi.sh: npm could not install node-postgres into $dir (is the npm registry reachable?)" >&2
            exit 1
        fi
        rm -rf test/node/results
        echo "node: $(node --version), pg $(node -p "require('$dir/node_modules/pg/package.json').version"), dashboard queries on $db"
        nstatus=0
        pseudonym="$(psql_admin -d "$db" -At -c "SELECT gridflow.pseudonym(key, 'sp', 'UTILITY2', 'PREM-16248064') FROM gridflow.pseudonym_key")"
        PGHOST="$host" PGPORT="$port" PGDATABASE="$db" GRIDFLOW_BI_PASSWORD="$password" \
            GRIDFLOW_BI_INTERNAL=gridflow_bi_dash_internal GRIDFLOW_BI_EXTERNAL=gridflow_bi_dash_external \
            GRIDFLOW_BI_SP_PSEUDONYM="$pseudonym" \
            node "$dir/dashboard.mjs" "$top/test/node/results" || nstatus=$?
        [ "$nstatus" = 0 ] || { echo "bi.sh: dashboard.mjs failed (exit $nstatus)" >&2; status=1; }
        for f in test/node/expected/*.out; do
            compare "$f" "test/node/results/$(basename "$f")"
        done
        for f in test/node/results/*.out; do
            [ -f "test/node/expected/$(basename "$f")" ] ||
                { echo "bi.sh: $f has no expected file" >&2; status=1; }
        done
        ;;
    esac
done
[ "$status" = 0 ] && echo "bi.sh: ${what[*]}: ok"
exit "$status"
