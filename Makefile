# gridflow: PostgreSQL extension (PGXS).
#
#   make                 build
#   make install         install (extension, library, sample drop)
#   make installcheck    pg_regress against a running server
#   make run             everything on a fresh machine: dependencies, build,
#                        install, a throwaway cluster, the sample build and
#                        the DQ snapshot
#   make test            the whole test suite, same preparation
#   make fuzz            the fuzz targets for a minute (part of make test);
#                        make fuzz-long FUZZ_SECONDS=N for longer, with coverage
#   make tapcheck        the TAP tests (part of make test)
#   make valgrindcheck   the pg_regress suite under valgrind
#   make bench SCALE=N   benchmarks against plain PostgreSQL, the COPY floor
#                        and DuckDB; bench-incremental, bench-shards too
#
EXTENSION = gridflow
EXTVERSION = 0.3.0

MODULE_big = gridflow
OBJS = \
	src/access.o \
	src/adapt.o \
	src/build.o \
	src/bulk.o \
	src/csv.o \
	src/distribute.o \
	src/emit.o \
	src/exactsum.o \
	src/fsum.o \
	src/gridflow.o \
	src/ingest.o \
	src/keytable.o \
	src/landing.o \
	src/layout.o \
	src/load.o \
	src/localtime.o \
	src/orphans.o \
	src/partition.o \
	src/parse.o \
	src/peakpit.o \
	src/read_csv.o \
	src/reader.o \
	src/shard.o \
	src/units.o

# The install script of the current version is built from the editable
# sources in src/sql/; the full scripts of released versions and the upgrade
# scripts are plain files in src/sql/versions/.
SQL_SOURCES = $(sort $(wildcard src/sql/[0-9]*.sql))
DATA_built = gridflow--$(EXTVERSION).sql
DATA = $(wildcard src/sql/versions/gridflow--*.sql)

REGRESS = catalog upgrade reader aggregate build layers dq hostile ingest file_access privileges hijack hardening layouts edges onboard hostile_config

# Fixtures are staged where the server's user can read them (see test/stage.sh).
GRIDFLOW_TEST_DIR ?= /tmp/gridflow-regress
export GRIDFLOW_TEST_DIR
REGRESS_PREP = stage-fixtures


PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare
ifdef CI
PG_CFLAGS += -Werror
endif

EXTRA_CLEAN = data/gridflow_gen test/unit/test_csv test/unit/test_parse test/unit/test_fsum \
	test/fuzz/fuzz_csv test/fuzz/fuzz_parse

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
# Without the server headers only the targets that install them work.
all install installcheck:
	@echo "PostgreSQL server development files not found: run 'make run' or 'make test', or apt-get install postgresql-server-dev-15" >&2; exit 1
endif

gridflow--$(EXTVERSION).sql: $(SQL_SOURCES)
	cat $^ > $@

SAMPLE_FILES = $(wildcard data/sample/utility1/*.csv data/sample/utility2/*.csv)

install: install-sample
install-sample:
	$(MKDIR_P) '$(DESTDIR)$(datadir)/extension/gridflow_sample/utility1' \
		'$(DESTDIR)$(datadir)/extension/gridflow_sample/utility2'
	$(INSTALL_DATA) data/sample/utility1/*.csv '$(DESTDIR)$(datadir)/extension/gridflow_sample/utility1/'
	$(INSTALL_DATA) data/sample/utility2/*.csv '$(DESTDIR)$(datadir)/extension/gridflow_sample/utility2/'

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

unitcheck: test/unit/test_csv test/unit/test_parse test/unit/test_fsum
	test/unit/test_csv
	test/unit/test_parse
	test/unit/test_fsum

# Isolation tests (PostgreSQL's isolation tester) against a running server:
# concurrent ingests, builds and readers.
PG_ISOLATION_REGRESS = $(dir $(PGXS))../../src/test/isolation/pg_isolation_regress
ISOLATION_TESTS = ingest_concurrency
isolationcheck:
	$(PG_ISOLATION_REGRESS) --inputdir=test/isolation --outputdir=test/isolation/output \
		--dbname=gridflow_isolation $(ISOLATION_TESTS)

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
# in it are opened.  They need the extension installed
# (GRIDFLOW_DESTDIR: where; see test/tap.sh).
tapcheck:
	bash test/tap.sh

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

test:
	bash test/test.sh

.PHONY: install-sample uninstall-sample sample unitcheck isolationcheck fuzz fuzz-long tapcheck \
	valgrindcheck run test bench bench-incremental bench-shards stage-fixtures
stage-fixtures:
	bash test/stage.sh '$(GRIDFLOW_TEST_DIR)'
