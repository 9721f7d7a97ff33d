# A coordinator and two shards on this machine (docs/distributed.md):
# UTILITY1 is built whole on shard1, UTILITY2 is split by hash of the
# service point across shard1 and shard2.  The coordinator's data-quality
# figures equal those of a build in one database, row for row down to the
# experience layer; its plans scan the shards asynchronously and aggregate
# on them; and a shard that fails, or is stopped in the middle of a build,
# leaves every node as it was and is named in the error.
#
# Run by test/tap.sh (make test), with GRIDFLOW_TEST_DIR (the staged
# fixtures) and, when set, GRIDFLOW_DESTDIR (where gridflow is installed).
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $testdir = $ENV{GRIDFLOW_TEST_DIR} // '/tmp/gridflow-regress';
my $destdir = $ENV{GRIDFLOW_DESTDIR};
my @drops = ("$testdir/sample");
push @drops, "$testdir/iedr-sample" if -d "$testdir/iedr-sample";

# gridflow needs UTF8 databases
sub start_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
	$node->append_conf('postgresql.conf', "extension_destdir = '$destdir'")
	  if defined $destdir && $destdir ne '';
	$node->append_conf('postgresql.conf', "log_statement = none\nmax_worker_processes = 8");
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION gridflow');
	return $node;
}

my $coord = start_node('coordinator');
my $shard1 = start_node('shard1');
my $shard2 = start_node('shard2');
my $user = $coord->safe_psql('postgres', 'SELECT current_user');

# the reference: the same builds in one database
$coord->safe_psql('postgres', 'CREATE DATABASE single');
$coord->safe_psql('single', 'CREATE EXTENSION gridflow');

# a database alone never needs postgres_fdw
my ($ret, $out, $err) = $coord->psql('single', 'SELECT * FROM gridflow_distribute()');
like($err, qr/need the postgres_fdw extension/, 'distribute without postgres_fdw: error with its hint');

my $servers = '';
for my $shard ($shard1, $shard2)
{
	my $name = $shard->name;
	$servers .= sprintf(
		"CREATE SERVER %s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '%s', port '%s', "
		  . "dbname 'postgres', async_capable 'true', extensions 'gridflow', batch_size '500');\n"
		  . "CREATE USER MAPPING FOR PUBLIC SERVER %s OPTIONS (user '%s');\n",
		$name, $shard->host, $shard->port, $name, $user);
}
$coord->safe_psql('postgres', "CREATE EXTENSION postgres_fdw;\n$servers");

# a server that cannot scan asynchronously is refused
$coord->safe_psql('postgres',
	"ALTER SERVER shard2 OPTIONS (SET async_capable 'false');\n"
	  . "INSERT INTO gridflow.shard VALUES ('UTILITY1', 1, 0, 'shard1', NULL), "
	  . "('UTILITY2', 2, 0, 'shard1', NULL), ('UTILITY2', 2, 1, 'shard2', NULL)");
($ret, $out, $err) = $coord->psql('postgres', 'SELECT * FROM gridflow_distribute()');
like($err, qr/foreign server "shard2" is not async_capable/, 'a server without async_capable is refused');
$coord->safe_psql('postgres', "ALTER SERVER shard2 OPTIONS (SET async_capable 'true')");

is( $coord->safe_psql(
		'postgres',
		'SELECT utility_id, table_name, placement, servers FROM gridflow_distribute() ORDER BY 1, 2'),
	"UTILITY1|experience.daily_usage|shard|{shard1}
UTILITY1|experience.monthly_usage|shard|{shard1}
UTILITY1|product.usage_interval|shard|{shard1}
UTILITY1|standardized.interval_read|shard|{shard1}
UTILITY2|experience.daily_usage|hash|{shard1,shard2}
UTILITY2|experience.monthly_usage|hash|{shard1,shard2}
UTILITY2|product.usage_interval|hash|{shard1,shard2}
UTILITY2|standardized.interval_read|hash|{shard1,shard2}",
	'layout: UTILITY1 on shard1, UTILITY2 by hash on both');

($ret, $out, $err) = $coord->psql('postgres', "SELECT * FROM gridflow_build('$testdir/sample')");
like($err, qr/cannot run on a coordinator of shards/, 'gridflow_build() is refused on a coordinator');

# Every figure a database shows of its build: the data-quality views (but
# times and run numbers), the report, and every row of the layers.
sub figures
{
	my ($node, $db) = @_;
	my %f;
	my @views = split /\n/,
	  $node->safe_psql($db,
		"SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'dq'::regnamespace "
		  . "AND c.relkind = 'v' AND c.relname <> 'snapshot' ORDER BY 1");
	for my $v (@views)
	{
		my $cols = $node->safe_psql($db,
			"SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
			  . "WHERE attrelid = 'dq.$v'::regclass AND attnum > 0 "
			  . "AND attname NOT IN ('started_at', 'finished_at', 'loaded_at', 'build_id')");
		$f{"dq.$v"} = $node->safe_psql($db, "SELECT x::text FROM (SELECT $cols FROM dq.$v) x ORDER BY 1");
	}
	$f{'dq.snapshot'} = $node->safe_psql($db,
		"SELECT line FROM dq.snapshot WHERE line NOT LIKE 'Build %' ORDER BY line_no");
	for my $t (
		'experience.daily_usage', 'product.usage_interval',
		'standardized.interval_read', 'standardized.service_point',
		'standardized.meter', 'standardized.meter_assignment',
		'landing.reject')
	{
		$f{$t} = $node->safe_psql($db, "SELECT x::text FROM $t x ORDER BY 1");
	}
	return \%f;
}

sub same_figures
{
	my ($got, $want, $what) = @_;
	my @differ = grep { $got->{$_} ne $want->{$_} } sort keys %$want;
	is(join(', ', @differ), '', "$what: every figure equal");
	for my $k (@differ)
	{
		diag("$k differs:\n--- got\n$got->{$k}\n--- expected\n$want->{$k}");
	}
}

for my $drop (@drops)
{
	$coord->safe_psql('single', "SELECT count(*) FROM gridflow_build('$drop')");
	my $steps = $coord->safe_psql('postgres',
		"SELECT coalesce(server_name, 'coordinator') || ' ' || step || ' ' || coalesce(table_name, '') "
		  . "|| ' ' || coalesce(row_count::text, '') FROM gridflow_build_distributed('$drop')");
	like($steps, qr/^shard1 UTILITY1 build: experience experience.daily_usage \d+/m,
		"$drop: shard1 builds UTILITY1");
	like($steps, qr/^shard2 UTILITY2 hash part: experience experience.daily_usage \d+/m,
		"$drop: shard2 builds its part of UTILITY2");
	my $want = figures($coord, 'single');
	my $got = figures($coord, 'postgres');
	ok($want->{'experience.daily_usage'} ne '', "$drop: the experience layer has rows");
	same_figures($got, $want, "$drop: coordinator and single database");
	# the rows are where the layout says
	is( $shard2->safe_psql('postgres',
			"SELECT count(*) FROM experience.daily_usage WHERE utility_id <> 'UTILITY2'"),
		'0', "$drop: shard2 has UTILITY2 rows only");
	is( $coord->safe_psql('postgres',
			"SELECT count(*) FROM (SELECT service_point_id FROM gridflow_store.daily_usage_utility2_shard1 "
			  . "OFFSET 0) s WHERE "
			  . "satisfies_hash_partition('gridflow_store.daily_usage_utility2'::regclass, 2, 1, service_point_id)"),
		'0', "$drop: shard1 has none of shard2's service points");
}

# A shard's queue runs only what the coordinator's build queued, in its
# own transaction.  A member of gridflow_pipeline on a shard, without
# pg_read_server_files, may not write the queue or the stage tables (it
# could otherwise have a coordinator's build read any server file for it,
# or write forged rows into the layers); and work or rows that the owner
# left there in an earlier transaction are never run or built.
$shard1->safe_psql('postgres',
	"CREATE ROLE regress_pipe LOGIN; GRANT gridflow_pipeline TO regress_pipe;");
for my $attempt (
	[
		'queue a task',
		"INSERT INTO gridflow.shard_task (tag, operation, utility_id, drop_dir, build_id, configuration, gridflow_version) "
		  . "VALUES ('shard1', 'build_utility', 'UTILITY1', '/', 1, '{}', '0')"
	],
	[ 'stage a read', "INSERT INTO gridflow.shard_stage_read (utility_id, service_point_id) VALUES ('UTILITY2', 'SP-FORGED')" ],
	[
		'stage a service point',
		"INSERT INTO gridflow.shard_stage_service_point (utility_id, service_point_id) VALUES ('UTILITY2', 'SP-FORGED')"
	],
	[ 'run the queue', 'SELECT * FROM gridflow.shard_run' ],
	[ 'empty the queue', 'DELETE FROM gridflow.shard_task' ])
{
	my ($what, $sql) = @$attempt;
	($ret, $out, $err) = $shard1->psql('postgres', $sql, extra_params => [ '-U', 'regress_pipe' ]);
	like($err, qr/permission denied/, "a pipeline member may not $what on a shard");
}
# what the pipeline may do: configure a utility, here one whose "meter
# file" is the server's /etc/passwd
$shard1->safe_psql(
	'postgres', q{
INSERT INTO gridflow.utility (utility_id, enabled) VALUES ('EVIL', false);
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, delimiter)
    VALUES ('EVIL', 'meter', 'etc/passwd', ':');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column)
    VALUES ('EVIL', 'meter', 'meter_id', 'root');
}, extra_params => [ '-U', 'regress_pipe' ]);
# work and rows left by an earlier transaction (only the owner can write
# them): a build of EVIL from "/", a hash part with a forged read, and a
# task that fails
$shard1->safe_psql(
	'postgres', q{
INSERT INTO gridflow.shard_task (tag, operation, utility_id, drop_dir, build_id, file_kinds, batch_ids,
                                 configuration, gridflow_version)
SELECT 'shard1', 'build_utility', 'EVIL', '/', 1, '{meter}', '{900}', '{}',
       (SELECT extversion FROM pg_extension WHERE extname = 'gridflow');
INSERT INTO gridflow.shard_task (tag, operation, utility_id, drop_dir, build_id, configuration, gridflow_version)
SELECT 'shard1', 'build_hash_part', 'UTILITY2', NULL, 1, '{}',
       (SELECT extversion FROM pg_extension WHERE extname = 'gridflow');
INSERT INTO gridflow.shard_task (tag, operation, utility_id, drop_dir, build_id, configuration, gridflow_version)
VALUES ('shard1', 'build_hash_part', 'NO_SUCH_UTILITY', NULL, 1, '{}', '0');
INSERT INTO gridflow.shard_stage_service_point (utility_id, service_point_id, batch_id, line_no, last_batch_id,
                                                source_rows, conflicting_rows)
VALUES ('UTILITY2', 'SP-FORGED', 1, 2, 1, 1, 0);
INSERT INTO gridflow.shard_stage_read (utility_id, service_point_id, meter_id, channel, interval_start_ts,
                                       interval_end_ts, value, batch_id, line_no, last_batch_id, source_rows,
                                       conflicting_rows, time_resolution)
VALUES ('UTILITY2', 'SP-FORGED', 'M-FORGED', '1', '2025-01-23 00:00-05', '2025-01-23 00:00-05', 1e9, 1, 2, 1, 1, 0,
        'interval');
});
{
	my $drop = $drops[-1];
	my ($bret, $bout, $berr) = $coord->psql('postgres', "SELECT count(*) FROM gridflow_build_distributed('$drop')");
	is($bret, 0, 'the build runs despite the planted work');
	note($berr);
	my $f = figures($coord, 'postgres');
	same_figures($f, figures($coord, 'single'), 'after planted work: the figures of a clean build');
	is( $shard1->safe_psql('postgres',
			"SELECT count(*) FROM landing.source_record WHERE record LIKE '%daemon%' OR record LIKE '%root:%'"),
		'0', 'no line of /etc/passwd was read');
	is( $coord->safe_psql('postgres',
			"SELECT (SELECT count(*) FROM standardized.interval_read WHERE service_point_id = 'SP-FORGED') "
			  . "+ (SELECT count(*) FROM experience.daily_usage WHERE service_point_id = 'SP-FORGED')"),
		'0', 'no forged row reached the layers');
	is( $shard1->safe_psql('postgres',
			"SELECT (SELECT count(*) FROM gridflow.shard_task) + (SELECT count(*) FROM gridflow.shard_stage_read) "
			  . "+ (SELECT count(*) FROM gridflow.shard_stage_service_point)"),
		'0', 'nothing stays queued or staged on the shard');
	is($shard1->safe_psql('postgres', "SELECT count(*) FROM gridflow.batch WHERE utility_id = 'EVIL'"),
		'0', 'EVIL was never built');
}
$shard1->safe_psql('postgres', "DELETE FROM gridflow.utility WHERE utility_id = 'EVIL'");

# Queries: the shards are scanned asynchronously, and aggregates that group
# by the partition keys are computed on the shards.
my $plan = $coord->safe_psql('postgres',
	"SET enable_partitionwise_aggregate = on;\n"
	  . "EXPLAIN (VERBOSE, COSTS OFF) SELECT utility_id, service_point_id, count(*), "
	  . "gridflow.exact_sum(value), gridflow.peak_pit(value, interval_start_ts) "
	  . "FROM product.usage_interval GROUP BY utility_id, service_point_id");
note($plan);
is(scalar(() = $plan =~ /Async Foreign Scan/g), 3, 'three asynchronous foreign scans');
is(scalar(() = $plan =~ /Remote SQL: SELECT .*gridflow\.exact_sum\(value\), gridflow\.peak_pit\(value, interval_start_ts\) FROM gridflow_store\.usage_interval_utility\d GROUP BY 1, 2/g),
	3, 'each shard aggregates its rows (gridflow aggregates shipped)');
unlike($plan, qr/->\s+(Finalize |Partial )?(Hash|Group)Aggregate/, 'no aggregation on the coordinator');

$plan = $coord->safe_psql('postgres',
	"SET enable_partitionwise_aggregate = on;\n"
	  . "EXPLAIN (VERBOSE, COSTS OFF) SELECT utility_id, count(*), gridflow.exact_sum(total_usage) "
	  . "FROM experience.daily_usage GROUP BY utility_id");
note($plan);
like($plan, qr/Async Foreign Scan.*\n.*\n.*Aggregate on \(gridflow_store\.daily_usage_utility1/,
	'by utility: the whole utility is aggregated on its shard');
like($plan, qr/Partial HashAggregate/,
	'by utility: the hash parts are aggregated partially on the coordinator (PostgreSQL 15)');

my $sp = $coord->safe_psql('postgres',
	"SELECT service_point_id FROM experience.daily_usage WHERE utility_id = 'UTILITY2' ORDER BY 1 LIMIT 1");
$plan = $coord->safe_psql('postgres',
	"EXPLAIN (COSTS OFF) SELECT * FROM experience.daily_usage "
	  . "WHERE utility_id = 'UTILITY2' AND service_point_id = '$sp'");
# the view joins the utility (its time zone): one foreign scan, on one shard
is(scalar(() = $plan =~ /Foreign Scan/g), 1, 'one service point: one foreign scan');
like($plan, qr/Foreign Scan on daily_usage_utility2_shard\d d\b/, 'one service point: one shard');

# What a failed build must leave: the last good state, on every node.
my $before = figures($coord, 'postgres');
my $shard1_rows = $shard1->safe_psql('postgres', 'SELECT count(*) FROM product.usage_interval');

# A shard that errors is named; nothing changes.
$coord->safe_psql('postgres',
	"UPDATE gridflow.shard SET drop_dir = '$testdir/no-such-drop' WHERE utility_id = 'UTILITY1'");
($ret, $out, $err) = $coord->psql('postgres',
	"SELECT count(*) FROM gridflow_build_distributed('$testdir/split/a')");
like($err, qr/gridflow build failed on shard "shard1": could not open directory/,
	'a shard that cannot read its drop: error names it');
$coord->safe_psql('postgres', "UPDATE gridflow.shard SET drop_dir = NULL WHERE utility_id = 'UTILITY1'");
same_figures(figures($coord, 'postgres'), $before, 'after a shard error');

# A shard stopped in the middle of a build: shard2 waits for a lock (held
# here) in its part of the build, while shard1 has done its work.
my ($lock_in, $lock_out, $lock_err) = ('', '', '');
my $lock = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $shard2->connstr('postgres'), '-f', '-' ],
	'<', \$lock_in, '>', \$lock_out, '2>', \$lock_err);
$lock_in .= "BEGIN;\nLOCK TABLE standardized.service_point IN SHARE MODE;\nSELECT 'locked';\n";
$lock->pump until $lock_out =~ /locked/;

my ($build_out, $build_err) = ('', '');
my $build = IPC::Run::start(
	[
		'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $coord->connstr('postgres'), '-c',
		"SELECT count(*) FROM gridflow_build_distributed('$testdir/split/a')"
	],
	'>', \$build_out, '2>', \$build_err);
ok( $shard2->poll_query_until(
		'postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'postgres_fdw' "
		  . "AND wait_event_type = 'Lock'"),
	'shard2 is in the middle of the build');
ok( $shard1->poll_query_until(
		'postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'postgres_fdw' "
		  . "AND state = 'idle in transaction'"),
	'shard1 has done its part');
$shard2->stop('immediate');
ok(!$build->finish, 'the build fails');
like($build_err, qr/gridflow build failed on shard "shard2"/, 'the error names the stopped shard');
note($build_err);
$lock->kill_kill;
$shard2->start;

same_figures(figures($coord, 'postgres'), $before, 'after a shard stopped mid-build');
is($shard1->safe_psql('postgres', 'SELECT count(*) FROM product.usage_interval'),
	$shard1_rows, 'shard1 kept its rows');
is($shard2->safe_psql('postgres', 'SELECT count(*) FROM gridflow.shard_stage_read'),
	'0', 'nothing stays staged on shard2');

# A shard that is down when the build starts is named too.
$shard1->stop('fast');
($ret, $out, $err) = $coord->psql('postgres',
	"SELECT count(*) FROM gridflow_build_distributed('$testdir/split/a')");
like($err, qr/gridflow build failed on shard "shard1" while .*could not connect to server "shard1"/s,
	'a shard that is down: error names it');
$shard1->start;
same_figures(figures($coord, 'postgres'), $before, 'after a shard that was down');

# and the next build works again
my $last = $drops[-1];
$coord->safe_psql('single', "SELECT count(*) FROM gridflow_build('$last')");
$coord->safe_psql('postgres', "SELECT count(*) FROM gridflow_build_distributed('$last')");
same_figures(figures($coord, 'postgres'), figures($coord, 'single'), 'a build after the failures');

# A shard builds with the configuration its coordinator sent in the build,
# even for a utility the shard has never heard of: UTILITY1B reads
# UTILITY1's files, in Wh (its values a thousandth of UTILITY1's), whole
# on shard2.
$coord->safe_psql(
	'postgres', q{
INSERT INTO gridflow.utility (utility_id, build_order) VALUES ('UTILITY1B', 15);
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path)
SELECT 'UTILITY1B', file_kind, file_path FROM gridflow.source_file WHERE utility_id = 'UTILITY1';
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format, null_values, unit)
SELECT 'UTILITY1B', file_kind, target_column, source_column, format, null_values,
       CASE WHEN file_kind = 'interval' AND target_column = 'value' THEN 'Wh' END
  FROM gridflow.column_map WHERE utility_id = 'UTILITY1';
INSERT INTO gridflow.shard VALUES ('UTILITY1B', 1, 0, 'shard2', NULL);
SELECT count(*) FROM gridflow_distribute();
});
is($shard2->safe_psql('postgres', "SELECT count(*) FROM gridflow.utility WHERE utility_id = 'UTILITY1B'"),
	'0', 'shard2 has no configuration of UTILITY1B before the build');
($ret, $out, $err) = $coord->psql('postgres', "SELECT count(*) FROM gridflow_build_distributed('$last')");
is($ret, 0, 'a utility new to its shard builds there');
note($err) if $ret;
is( $coord->safe_psql(
		'postgres',
		"SELECT (SELECT count(*) FROM standardized.interval_read WHERE utility_id = 'UTILITY1B') "
		  . "= (SELECT count(*) FROM standardized.interval_read WHERE utility_id = 'UTILITY1') "
		  . "AND (SELECT round(sum(value)::numeric * 1000, 6) FROM standardized.interval_read WHERE utility_id = 'UTILITY1B') "
		  . "= (SELECT round(sum(value)::numeric, 6) FROM standardized.interval_read WHERE utility_id = 'UTILITY1') "
		  . "AND (SELECT count(*) FROM standardized.interval_read WHERE utility_id = 'UTILITY1') > 0"),
	't', "the shard read UTILITY1B's files with the coordinator's units (Wh)");

done_testing();
