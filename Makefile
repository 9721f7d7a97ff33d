# gridflow: PostgreSQL extension (PGXS).
#
#   make                 build (make WERROR=1: warnings are errors)
#   make install         install (extension, library, sample drop)
#   make installcheck    the pg_regress suite and the isolation test against
#                        a running server
#   make run             everything on a fresh machine: dependencies, build,
#                        install, a throwaway cluster, the sample build and
#                        the DQ snapshot
#   make test            the whole test suite, same preparation
#   make fuzz            the fuzz targets for a minute (part of make test);
#                        make fuzz-long FUZZ_SECONDS=N for longer, with coverage
#   make tapcheck        the TAP tests (part of make test)
#   make jdbccheck       what JDBC (BI tools) lists of the catalog, against a
#                        running server (part of make test)
#   make nodecheck       a dashboard's queries through node-postgres, against
#                        a running server (part of make test)
#   make valgrindcheck   the pg_regress suite under valgrind
#   make bench SCALE=N   benchmarks against plain PostgreSQL, the COPY floor
#                        and DuckDB; bench-incremental, bench-shards,
#                        bench-citus and bench-readers too
#   make bench-dq SCALE=N  the DQ views and a dashboard's queries, timed
#                        against a build of the same drop
#   make bench-vee SCALE=N  builds with validation and estimation off and on
#   make unitcheck       the C without a server, and metacheck (META.json,
#                        gridflow.control, Makefile and CHANGELOG.md agree)
#   make depcheck        no two C modules call each other; the headers' blocks
#                        name the files that define them
#   make dist            gridflow-$(EXTVERSION).zip, the PGXN archive
#
EXTENSION = gridflow
EXTVERSION = 0.3.0

MODULE_big = gridflow
OBJS = \
	src/csv.o \
	src/parse.o \
	src/fsum.o \
	src/keytable.o \
	src/gridflow.o \
	src/access.o \
	src/rowsecurity.o \
	src/config.o \
	src/reader.o \
	src/read_csv.o \
	src/landing.o \
	src/localtime.o \
	src/units.o \
	src/wide.o \
	src/conform.o \
	src/mapping.o \
	src/meter_map.o \
	src/dedup.o \
	src/spill.o \
	src/standardized.o \
	src/estimate.o \
	src/product.o \
	src/refresh.o \
	src/experience.o \
	src/aggregates.o \
	src/dayset.o \
	src/btbuild.o \
	src/bulk.o \
	src/partition.o \
	src/history.o \
	src/citus.o \
	src/swap.o \
	src/load.o \
	src/build.o \
	src/ingest.o \
	src/distribute.o \
	src/dq.o \
	src/dqacc.o \
	src/monthly.o \
	src/shard.o \
	src/orphans.o src/pseudonym.o src/espi.o

# The install script of the current version is built from the editable
# sources in src/sql/; the full script of the first release (the base of
# every update path) and the upgrade scripts are plain files in
# src/sql/versions/.
SQL_SOURCES = $(sort $(wildcard $(srcdir)/src/sql/[0-9]*.sql))
# The update from the last release, 0.2.0, is its hand-written part
# (src/sql/update/) followed by the sources of the objects it makes anew:
# the layers and everything over them, and the files new in 0.3.0 (frozen
# into src/sql/versions/ when 0.3.0 is released).
UPDATE_SOURCES = $(addprefix $(srcdir)/src/sql/,update/0.2.0--0.3.0.sql 20_layers.sql 33_aggregates.sql 35_layer_views.sql \
	40_dq.sql 45_dq_snapshot.sql 55_pseudonyms.sql 56_external.sql 58_row_security.sql 62_builds.sql 64_calendar.sql 65_layer_privileges.sql 66_privacy.sql 67_green_button.sql \
	72_shard_stage_read.sql 80_operations.sql 85_citus.sql 86_citus_layers.sql 90_column_comments.sql)
DATA_built = gridflow--$(EXTVERSION).sql gridflow--0.2.0--$(EXTVERSION).sql
DATA = $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/src/sql/versions/gridflow--*.sql))

REGRESS = catalog upgrade reader aggregate build layers dq hostile ingest file_access privileges hijack hardening layouts edges onboard hostile_config calendar plans vee privacy green_button citus btree_build

# Isolation tests (PostgreSQL's isolation tester), run by installcheck after
# the pg_regress suite: concurrent ingests, builds and readers.
ISOLATION = ingest_concurrency build_readers config_analyze
ISOLATION_OPTS = --inputdir=$(srcdir)/test/isolation

# Fixtures are staged where the server's user can read them (see test/stage.sh).
GRIDFLOW_TEST_DIR ?= /tmp/gridflow-regress
export GRIDFLOW_TEST_DIR
REGRESS_PREP = stage-fixtures


PG_CPPFLAGS = -I$(srcdir)/src -DGRIDFLOW_VERSION=\"$(EXTVERSION)\"
# Green Button files are parsed by libxml2, which the server links too
# (PostgreSQL configured --with-libxml, as Debian's is)
PG_CPPFLAGS += $(shell xml2-config --cflags)
SHLIB_LINK += $(shell xml2-config --libs)
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare
# Warnings as errors on request (.ci/run asks), not whenever CI is set:
# packagers' builds set CI too, with compilers this code has not met.
ifeq ($(WERROR),1)
PG_CFLAGS += -Werror
endif

EXTRA_CLEAN = data/gridflow_gen test/unit/test_csv test/unit/test_parse test/unit/test_fsum \
	test/fuzz/fuzz_csv test/fuzz/fuzz_parse $(EXTENSION)-$(EXTVERSION).zip

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
# the objects are made again when a header changes (PGXS tracks no headers
# unless the server was configured with --enable-depend)
$(OBJS): $(wildcard $(srcdir)/src/*.h)
else
# Without the server headers only the targets that install them work.
all install installcheck:
	@echo "PostgreSQL server development files not found: run 'make run' or 'make test', or apt-get install postgresql-server-dev-15" >&2; exit 1
endif

gridflow--$(EXTVERSION).sql: $(SQL_SOURCES)
	cat $^ > $@

gridflow--0.2.0--$(EXTVERSION).sql: $(UPDATE_SOURCES)
	cat $^ > $@

install: install-sample
install-sample:
	$(MKDIR_P) '$(DESTDIR)$(datadir)/extension/gridflow_sample/utility1' \
		'$(DESTDIR)$(datadir)/extension/gridflow_sample/utility2'
	$(INSTALL_DATA) $(srcdir)/data/sample/utility1/*.csv '$(DESTDIR)$(datadir)/extension/gridflow_sample/utility1/'
	$(INSTALL_DATA) $(srcdir)/data/sample/utility2/*.csv '$(DESTDIR)$(datadir)/extension/gridflow_sample/utility2/'

uninstall: uninstall-sample
uninstall-sample:
	rm -rf '$(DESTDIR)$(datadir)/extension/gridflow_sample'

# The data generator (plain C) and the generated sample.
data/gridflow_gen: data/gridflow_gen.c
	$(CC) -std=c99 -O2 -Wall -Wextra -o $@ $<

sample: data/gridflow_gen
	rm -rf data/sample
	data/gridflow_gen -s 0.15 -S 1 -u 1,2 data/sample

# Unit tests of the PostgreSQL-free parts.
UNIT_CFLAGS = -std=c99 -O1 -g -Wall -Wextra -Werror -Isrc
test/unit/test_csv: test/unit/test_csv.c src/csv.c src/csv.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_csv.c src/csv.c
test/unit/test_parse: test/unit/test_parse.c src/parse.c src/parse.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_parse.c src/parse.c -lm
test/unit/test_fsum: test/unit/test_fsum.c src/fsum.c src/fsum.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_fsum.c src/fsum.c -lm

unitcheck: test/unit/test_csv test/unit/test_parse test/unit/test_fsum metacheck
	test/unit/test_csv
	test/unit/test_parse
	test/unit/test_fsum

# The release files agree on the version (test/meta.pl).
metacheck:
	perl $(srcdir)/test/meta.pl $(srcdir)

# The map of the C code is honest (test/depcheck.pl): after a build.
depcheck: all
	perl $(srcdir)/test/depcheck.pl .

# The isolation tests alone (installcheck runs them after the pg_regress
# suite).
isolationcheck:
	$(MAKE) installcheck REGRESS=

# The PGXN archive: what git tracks at HEAD.
dist:
	git archive --format zip --prefix=$(EXTENSION)-$(EXTVERSION)/ -o $(EXTENSION)-$(EXTVERSION).zip HEAD

# libFuzzer targets of the same code (clang with ASan and UBSan).  "make
# fuzz" runs both side by side for FUZZ_SECONDS (default 60) from the seed
# corpus; "make fuzz-long" runs them longer (default 600 s) and reports the
# line and branch coverage they reach.  See test/fuzz/run.sh.
FUZZ_CC = clang
FUZZ_CFLAGS = -std=c99 -g -O1 -Wall -Wextra -Werror -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
test/fuzz/fuzz_csv: test/fuzz/fuzz_csv.c src/csv.c src/csv.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_csv.c src/csv.c
test/fuzz/fuzz_parse: test/fuzz/fuzz_parse.c src/parse.c src/parse.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_parse.c src/parse.c -lm

fuzz:
	bash test/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

fuzz-long:
	FUZZ_COVERAGE=1 bash test/fuzz/run.sh $(or $(FUZZ_SECONDS),600)

# TAP tests (test/tap/t), in clusters of their own: crash recovery,
# cancellation, a file changing while it is read, bounded memory, a
# coordinator and two shards, a directory swapped for a link while files
# in it are opened, a Citus coordinator and two workers (skipped without
# Citus).  They need the extension installed
# (GRIDFLOW_DESTDIR: where; see test/tap.sh).
tapcheck:
	bash test/tap.sh

# The BI client tests against the server in the PG* variables (make test
# runs them in a throwaway cluster): the catalog as JDBC lists it to a
# reader role (test/jdbc), and a dashboard's queries through node-postgres
# (test/node).  See test/bi.sh.
jdbccheck:
	bash test/bi.sh jdbc

nodecheck:
	bash test/bi.sh node

# The pg_regress suite with the server under valgrind (slow; see
# test/valgrind.sh).
valgrindcheck:
	bash test/valgrind.sh

run:
	bash test/run.sh

bench:
	bash test/bench/bench.sh

bench-incremental:
	bash test/bench/incremental.sh

bench-shards:
	bash test/bench/shards.sh

bench-citus:
	bash test/bench/citus.sh

bench-readers:
	bash test/bench/readers.sh

bench-dq:
	bash test/bench/dq.sh

bench-vee:
	bash test/bench/vee.sh

test:
	bash test/test.sh

.PHONY: install-sample uninstall-sample sample unitcheck metacheck depcheck isolationcheck dist \
	fuzz fuzz-long tapcheck jdbccheck nodecheck valgrindcheck run test bench bench-incremental bench-shards bench-citus bench-readers bench-dq bench-vee stage-fixtures
stage-fixtures:
	bash test/stage.sh '$(GRIDFLOW_TEST_DIR)'
