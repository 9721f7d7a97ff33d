# The layers of reads distributed with Citus (docs/distributed.md, "The same
# tables on Citus"): a coordinator and two workers on this machine.
# gridflow_citus_setup() distributes the reads, products, days and months
# (one partition level by month, on service_point_id, co-located) and moves
# the rows of the last build there; builds and rebuilds on the coordinator
# then move each new build's rows to the workers.  Every layer and every
# data-quality view must equal what a single-node build of the same files
# gives (a database on the coordinator's server without Citus), for the
# real sample, a generated drop and a drop with reads of unknown meters (no
# service point); aggregates by utility are partial on the workers; a
# service point's days are read from one worker; readers see their
# utilities' rows; an ingest is refused; a build that loses a worker fails
# naming it and leaves every row of the previous build.
#
# Citus is not in the package registries CI reaches: without citus.so in
# the server's library directory (GRIDFLOW_CITUS_LIBDIR overrides where it
# is looked for) the test is skipped.
#
# Run by test/tap.sh (make test), with GRIDFLOW_TEST_DIR (the staged
# fixtures), GRIDFLOW_GEN (the generator) and, when set, GRIDFLOW_DESTDIR
# (where gridflow is installed).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use GridflowTest;

plan skip_all => citus_missing() if citus_missing();

my $testdir = $ENV{GRIDFLOW_TEST_DIR} // '/tmp/gridflow-regress';
my ($coord, @workers) = start_citus_cluster();
# the single-node build to compare with: a database without Citus, the same
# pseudonym key (external views) as the Citus database
$coord->safe_psql('postgres', 'CREATE DATABASE single');
$coord->safe_psql('single', 'CREATE EXTENSION gridflow');

# each drop with the name the checks give it
my @drops = ([ 'shipped sample', "$testdir/sample" ]);
push @drops, [ 'real sample', "$testdir/iedr-sample" ] if -d "$testdir/iedr-sample";
push @drops, [ 'generated drop (scale 2)', make_drop(2) ] if $ENV{GRIDFLOW_GEN};
push @drops, [ 'reads of unknown meters', "$testdir/drops/unknown_meters" ];

# the layers' row counts and hashes
sub layers
{
	my ($db) = @_;
	return $coord->safe_psql(
		$db, q{
	SELECT string_agg(t || '=' || n || '/' || h, ' ' ORDER BY t) FROM (
	  SELECT 'reads' t, count(*) n, coalesce(sum(hashtext(x::text)::bigint), 0) h FROM standardized.interval_read x
	  UNION ALL SELECT 'products', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) FROM product.usage_interval x
	  UNION ALL SELECT 'days', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) FROM experience.daily_usage x
	  UNION ALL SELECT 'months', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) FROM experience.monthly_usage x) s});
}

# every view of the layers, data quality and external readers: rows and a
# hash of them, without the columns that say when a batch was loaded or
# which build loaded it, and without the snapshot's line naming the build
# (the Citus database has one build more); each row as the text of a row of
# its columns (Citus' whole-row values of a view have no column names)
my %views = map { split /=/, $_, 2 } split /\n/, $coord->safe_psql(
	'single', q{
	SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '=' ||
	       string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	 WHERE c.relkind = 'v' AND n.nspname IN ('landing', 'standardized', 'product', 'experience', 'dq', 'external')
	   AND a.attname NOT IN ('loaded_at', 'started_at', 'finished_at', 'build_id')
	 GROUP BY n.nspname, c.relname});

sub views
{
	my ($db) = @_;
	my %h;
	for my $v (sort keys %views)
	{
		$h{$v} = $coord->safe_psql(
			$db, qq{
		SELECT count(*) || ' ' || coalesce(md5(string_agg(r, E'\\n' ORDER BY r)), '-')
		  FROM (SELECT ROW($views{$v})::text AS r FROM $v) s
		 WHERE r !~ '"Build [0-9]+ of '});
	}
	return \%h;
}

sub build
{
	my ($db, $drop) = @_;
	return $coord->safe_psql($db,
		"SELECT string_agg(step || ':' || coalesce(table_name, '') || ':' || coalesce(row_count, -1), ' ') FROM gridflow_build('$drop')"
	);
}

# a build before the setup, on the coordinator's own tables
build('postgres', $drops[0][1]);
my $before = layers('postgres');

# the setup: configuration as reference tables, then the layers distributed
# and the views over them made to read them
my $setup = $coord->safe_psql('postgres',
	"SELECT string_agg(table_name || ':' || action, ' ' ORDER BY table_name) FROM gridflow_citus_setup() WHERE action <> 'made a reference table'"
);
like($setup,
	qr/gridflow_citus\.daily_usage:made a distributed table gridflow_citus\.interval_read:made a distributed table gridflow_citus\.monthly_usage:made a distributed table gridflow_citus\.usage_interval:made a distributed table/,
	'setup: the four layers of reads distributed');
like($setup, qr/product\.usage_interval:reads the distributed tables/, 'setup: the views read them');
is(layers('postgres'), $before, 'setup: the rows of the last build moved, none lost');
is( $coord->safe_psql(
		'postgres', q{
	SELECT (SELECT count(*) FROM gridflow_store.interval_read) + (SELECT count(*) FROM gridflow_store.usage_interval)
	     + (SELECT count(*) FROM gridflow_store.daily_usage) + (SELECT count(*) FROM gridflow_store.monthly_usage)
	     + (SELECT count(*) FROM gridflow_store.service_point) + (SELECT count(*) FROM gridflow_store.meter)
	     + (SELECT count(*) FROM gridflow_store.meter_assignment)}),
	'0', 'setup: nothing of them left on the coordinator');
is( $coord->safe_psql(
		'postgres', q{
	SELECT string_agg(DISTINCT colocationid::text, ',') || ' ' || count(*) FROM pg_dist_partition
	 WHERE logicalrelid IN ('gridflow_citus.interval_read'::regclass, 'gridflow_citus.usage_interval'::regclass,
	                        'gridflow_citus.daily_usage'::regclass, 'gridflow_citus.monthly_usage'::regclass)
	   AND partmethod = 'h' AND partkey IS NOT NULL}) =~ /^\d+ 4$/ ? 1 : 0,
	1, 'the four tables hash-distributed and co-located');
is( $coord->safe_psql(
		'postgres', q{
	SELECT count(*) FROM pg_partition_tree('gridflow_citus.interval_read') WHERE level > 1}),
	'0', 'one partition level (by month)');
is( $coord->safe_psql(
		'postgres', q{
	SELECT string_agg(logicalrelid::text, ' ' ORDER BY logicalrelid::text) FROM pg_dist_partition
	 WHERE logicalrelid::text LIKE 'gridflow_citus.%' AND partmethod = 'n' AND repmodel = 't'}),
	'gridflow_citus.meter gridflow_citus.meter_assignment gridflow_citus.service_point',
	'the dimensions are reference tables');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM gridflow_citus_setup() WHERE action LIKE \'already%\''),
	'21', 'setup again: nothing changed');

# every drop: a build on Citus and one on a single node give the same views
$coord->safe_psql('single',
	"INSERT INTO gridflow.pseudonym_key (key) VALUES ('"
	  . $coord->safe_psql('postgres', 'SELECT key FROM gridflow.pseudonym_key') . "')");
for (@drops)
{
	my ($name, $drop) = @$_;
	my $steps = build('postgres', $drop);
	like($steps, qr/citus:standardized\.interval_read:[1-9]/, "$name: the build moved its reads to the workers");
	build('single', $drop);
	my $c = views('postgres');
	my $s = views('single');
	my @differ = grep { $c->{$_} ne $s->{$_} } sort keys %$s;
	is(join(' ', @differ), '', "$name: every view equal to the single-node build (" . scalar(keys %$s) . ' views)');
	diag("$_: citus $c->{$_}, single $s->{$_}") for @differ;
	is(layers('postgres'), layers('single'), "$name: every row of the four layers");
}

# reads without a service point (unknown meters) are stored, shown with NULL
my $nulls = $coord->safe_psql('postgres',
	'SELECT count(*) FROM standardized.interval_read WHERE service_point_id IS NULL');
ok($nulls > 0, "reads without a service point kept ($nulls)");
is( $coord->safe_psql(
		'postgres', q{SELECT count(*) FROM gridflow_citus.interval_read WHERE service_point_id = ''}),
	$nulls, 'stored with service_point_id \'\' on the workers');

# where the rows are: on both workers, none on the coordinator
is( $coord->safe_psql(
		'postgres', q{
	SELECT count(DISTINCT n.nodeport) FILTER (WHERE n.groupid <> 0) || ' ' || count(*) FILTER (WHERE n.groupid = 0)
	  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
	 WHERE s.logicalrelid = 'gridflow_citus.usage_interval'::regclass}),
	'2 0', 'the products are on both workers, none on the coordinator');

# the views of the layers read the distributed tables on a worker too
is($workers[0]->safe_psql('postgres', 'SELECT count(*) FROM product.usage_interval'),
	$coord->safe_psql('postgres', 'SELECT count(*) FROM product.usage_interval'),
	'worker1: product.usage_interval reads every worker\'s rows');

# aggregates by utility: partial on the workers, combined on the coordinator
my $plan = $coord->safe_psql('postgres',
	'EXPLAIN (VERBOSE, COSTS OFF) SELECT utility_id, gridflow.exact_sum(value), gridflow.peak_pit(value, interval_start_ts) '
	  . 'FROM product.usage_interval GROUP BY utility_id');
like($plan, qr/coord_combine_agg.*coord_combine_agg/, 'exact_sum and peak_pit combined on the coordinator');
like($plan, qr/worker_partial_agg\('gridflow\.exact_sum\(double precision\)'.*worker_partial_agg\('gridflow\.peak_pit\(/,
	'their partial states made on the workers');
my $agg = q{SELECT string_agg(utility_id || '=' || s || '/' || p, ' ' ORDER BY utility_id) FROM (
	SELECT utility_id, gridflow.exact_sum(value) s, gridflow.peak_pit(value, interval_start_ts)::text p
	  FROM product.usage_interval GROUP BY utility_id) x};
is($coord->safe_psql('postgres', $agg), $coord->safe_psql('single', $agg),
	'the combined results equal the single-node ones, to the last bit');

# a dashboard's look-up of one service point's month: one worker, one month
my $sp = $coord->safe_psql('postgres',
	'SELECT service_point_id FROM experience.daily_usage ORDER BY service_point_id LIMIT 1');
$plan = $coord->safe_psql('postgres',
	"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM experience.daily_usage "
	  . "WHERE service_point_id = '$sp' AND local_date >= '2025-01-01' AND local_date < '2025-02-01'");
like($plan, qr/Task Count: 1\b/, 'a service point\'s days: one task');
my @scans = $plan =~ /Scan[^\n]* on (daily_usage_\d+_\d+)/g;
is(scalar(@scans), 1, "of one month's shard (@scans)");

# a service point's days joined to its service point (a dashboard's query):
# one task on one worker, with the reference table there; nothing shipped
$plan = $coord->safe_psql('postgres',
	"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT d.local_date, d.total_usage, s.city "
	  . "FROM experience.daily_usage d JOIN standardized.service_point s "
	  . "ON s.utility_id = d.utility_id AND s.service_point_id = d.service_point_id WHERE d.service_point_id = '$sp'");
like($plan, qr/Task Count: 1\b/, 'days joined to their service point: one task');
unlike($plan, qr/Distributed Subplan|intermediate_result/, 'no table sent to the workers');

# a Green Button export reads the distributed products (its read function
# made PL/pgSQL by the setup: Citus plans no SQL function called with
# parameters over its tables); the same feed as on one server, but the
# time it was made
my $gb = "SELECT md5(regexp_replace(gridflow.green_button('$sp', '2025-01-01', '2025-02-28')::text, "
  . "'<(updated|published)>[^<]*</(updated|published)>', '', 'g')) || ' ' "
  . "|| (xpath('count(//*[local-name()=\"IntervalReading\"])', gridflow.green_button('$sp', '2025-01-01', '2025-02-28')))[1]";
my $gb_citus = $coord->safe_psql('postgres', $gb);
is($gb_citus, $coord->safe_psql('single', $gb), "a Green Button export equal to the single-node one ($gb_citus)");
unlike($gb_citus, qr/ 0$/, 'and it has readings');

# readers see their utilities' rows, filtered on the workers
$coord->safe_psql(
	'postgres', q{
	CREATE ROLE reader1 LOGIN;
	GRANT gridflow_internal TO reader1;
	INSERT INTO gridflow.role_utility VALUES ('reader1', 'UTILITY1')});
is( $coord->safe_psql(
		'postgres', q{SET ROLE reader1; SELECT string_agg(DISTINCT utility_id, ',') || ' ' || count(*) FROM product.usage_interval}),
	'UTILITY1 ' . $coord->safe_psql('postgres', q{SELECT count(*) FROM product.usage_interval WHERE utility_id = 'UTILITY1'}),
	'reader1 sees the products of its utility only');

my ($ret, $out, $err);

# external readers: Citus reads its tables with the reader's privileges,
# not the external views' owner's, so their views cannot be read; the
# error says so
$coord->safe_psql(
	'postgres', q{
	CREATE ROLE external1 LOGIN;
	GRANT gridflow_external TO external1;
	INSERT INTO gridflow.role_utility VALUES ('external1', 'UTILITY1')});
($ret, $out, $err) = $coord->psql('postgres', 'SET ROLE external1; SELECT count(*) FROM external.usage_interval');
like($err,
	qr/ERROR:  role "external1" cannot read gridflow's layers on Citus\n.*DETAIL:  Citus reads its tables with the privileges of the role that runs the query/s,
	'an external reader is told why the external views cannot be read on Citus');

# a rebuild on Citus: the same rows again
$before = layers('postgres');
$coord->safe_psql('postgres', 'SELECT count(*) FROM gridflow_rebuild()');
is(layers('postgres'), $before, 'a rebuild gives the same rows');

# an ingest would update the layers in place: refused
($ret, $out, $err) = $coord->psql('postgres', "SELECT * FROM gridflow_ingest('$drops[0][1]')");
like($err,
	qr/ERROR:  gridflow_ingest\(\) cannot run where the layers are distributed with Citus\n.*DETAIL:  .*Nothing was written/s,
	'an ingest is refused');

# a worker builds nothing (a build delegated to it would wait for the coordinator)
($ret, $out, $err) = $workers[0]->psql('postgres', "SELECT * FROM gridflow_build('$drops[0][1]')");
like($err, qr/ERROR:  gridflow builds, rebuilds and ingests run on the Citus coordinator, not on a worker/,
	'a build on a worker is refused');

# a worker lost during a build: the error names it, nothing changes
$workers[1]->stop('fast');
($ret, $out, $err) = $coord->psql('postgres', "SELECT * FROM gridflow_build('$drops[0][1]')");
my $port = $workers[1]->port;
like($err, qr/ERROR:  connection to the remote node [^ ]*:$port failed/, 'a build without worker2: the error names it');
$workers[1]->start;
is(layers('postgres'), $before, 'and every row of the previous build is there');

done_testing();
