# Citus mode (docs/distributed.md, "The same tables on Citus"): a
# coordinator and two workers on this machine.  gridflow_citus_setup()
# makes the configuration tables reference tables: a mapping written on the
# coordinator reaches the workers, where a reader's row-level security on a
# distributed table reads it; foreign keys and the configuration dump keep
# working; a build on the coordinator still works; and a build, rebuild or
# ingest that would write a table Citus manages is refused, nothing
# written.
#
# Citus is not in the package registries CI reaches: without citus.so in
# the server's library directory (GRIDFLOW_CITUS_LIBDIR overrides where it
# is looked for) the test is skipped.
#
# Run by test/tap.sh (make test), with GRIDFLOW_TEST_DIR (the staged
# fixtures) and, when set, GRIDFLOW_DESTDIR (where gridflow is installed).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use GridflowTest;

plan skip_all => citus_missing() if citus_missing();

my $testdir = $ENV{GRIDFLOW_TEST_DIR} // '/tmp/gridflow-regress';
my ($coord, @workers) = start_citus_cluster();
is($_->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'gridflow'"),
	'0.3.0', $_->name . ': gridflow created by the coordinator')
  for @workers;

# the setup (in the order of the foreign keys), and again: nothing more to do
my $tables = 'flow_direction quality_code unit utility source_file column_map channel role_utility '
  . 'shard vee_rule vee_estimation privacy_rule privacy_setting service_point_class';
is( $coord->safe_psql(
		'postgres', "SELECT string_agg(table_name || ':' || action, ' ') FROM gridflow_citus_setup() WHERE action = 'made a reference table' AND table_name LIKE 'gridflow.%'"),
	join(' ', map { "gridflow.$_:made a reference table" } split / /, $tables),
	'setup: every configuration table made a reference table');
is( $coord->safe_psql('postgres', "SELECT count(*) FROM gridflow_citus_setup() WHERE action = 'already a reference table' AND table_name LIKE 'gridflow.%'"),
	'14', 'setup again: nothing changed');
is( $coord->safe_psql(
		'postgres', q{
	SELECT count(*) FROM pg_dist_partition d JOIN pg_dist_shard s USING (logicalrelid)
	  JOIN pg_dist_placement p USING (shardid)
	 WHERE d.repmodel = 't' AND d.logicalrelid::text LIKE 'gridflow.%'}),
	42, 'a copy of each on the coordinator and on both workers');
# the foreign keys are back, between the reference tables
is( $coord->safe_psql(
		'postgres', q{
	SELECT count(*) FROM pg_constraint
	 WHERE contype = 'f' AND conrelid::regclass::text LIKE 'gridflow.%' AND conrelid::regclass::text !~ '_[0-9]+$'}),
	13, 'the 13 foreign keys of the configuration are there');

# configuration written on the coordinator reaches the workers
$coord->safe_psql(
	'postgres', q{
	INSERT INTO gridflow.utility (utility_id, description) VALUES ('UTILITY3', 'Utility 3');
	INSERT INTO gridflow.role_utility VALUES ('reader1', 'UTILITY1'), ('reader3', 'UTILITY3');
	UPDATE gridflow.unit SET description = 'kilowatt-hours (edited)' WHERE unit = 'kWh'});
for my $w (@workers)
{
	is( $w->safe_psql(
			'postgres', q{
		SELECT (SELECT string_agg(role_name || '=' || utility_id, ',' ORDER BY 1) FROM gridflow.role_utility)
		    || ' ' || (SELECT description FROM gridflow.unit WHERE unit = 'kWh')}),
		'reader1=UTILITY1,reader3=UTILITY3 kilowatt-hours (edited)',
		$w->name . ': the mappings and the edited unit');
	like(
		$w->safe_psql('postgres', "SELECT document->'role_utility' FROM gridflow.configuration_dump"),
		qr/"reader3".*"UTILITY3"/, $w->name . ': its configuration dump follows its copy');
}
like(
	$coord->safe_psql('postgres', "SELECT document->'role_utility' FROM gridflow.configuration_dump"),
	qr/"reader3".*"UTILITY3"/, 'coordinator: the configuration dump follows the configuration');

# a dump's document inserted (as pg_restore does) replaces the configuration, on every node
$coord->safe_psql(
	'postgres', q{
	CREATE TABLE public.saved AS SELECT document FROM gridflow.configuration_dump;
	DELETE FROM gridflow.role_utility;
	INSERT INTO gridflow.configuration_dump (document) SELECT document FROM public.saved;
	DROP TABLE public.saved});
is($_->safe_psql('postgres', q{SELECT string_agg(role_name || '=' || utility_id, ',' ORDER BY 1) FROM gridflow.role_utility}),
	'reader1=UTILITY1,reader3=UTILITY3', $_->name . ': the restored document\'s mappings')
  for @workers;

# the foreign keys work on every copy: a cascade, a refusal
$coord->safe_psql('postgres', "DELETE FROM gridflow.utility WHERE utility_id = 'UTILITY3'");
is($_->safe_psql('postgres', "SELECT count(*) FROM gridflow.role_utility WHERE utility_id = 'UTILITY3'"),
	'0', $_->name . ': a deleted utility\'s mappings are deleted with it')
  for @workers;
my ($ret, $out, $err) =
  $coord->psql('postgres', "INSERT INTO gridflow.role_utility VALUES ('reader9', 'NO_SUCH_UTILITY')");
like($err, qr/violates foreign key constraint "role_utility_utility_id_fkey/,
	'a mapping to no utility is refused');

# a reader's row-level security on a distributed table runs on the workers,
# with their copy of the mappings
$coord->safe_psql(
	'postgres', q{
	CREATE ROLE reader1 LOGIN;
	CREATE ROLE reader2 LOGIN;
	GRANT gridflow_internal TO reader1, reader2;
	CREATE TABLE public.reads (utility_id text NOT NULL, service_point_id text NOT NULL, value float8);
	ALTER TABLE public.reads ENABLE ROW LEVEL SECURITY;
	CREATE POLICY mapped ON public.reads FOR SELECT USING (utility_id = ANY (gridflow.caller_utilities()));
	GRANT SELECT ON public.reads TO gridflow_internal;
	SELECT create_distributed_table('public.reads', 'service_point_id');
	INSERT INTO public.reads
	SELECT 'UTILITY' || (i % 2 + 1), 'SP' || i, i FROM generate_series(1, 1000) i});
is( $coord->safe_psql(
		'postgres', q{
	SELECT count(DISTINCT n.nodeport) FILTER (WHERE n.groupid <> 0) || ' ' || count(*) FILTER (WHERE n.groupid = 0)
	  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
	 WHERE s.logicalrelid = 'public.reads'::regclass}),
	'2 0', 'the distributed table is on both workers, none of it on the coordinator');
is($coord->safe_psql('postgres', q{SET ROLE reader1; SELECT utility_id || ':' || count(*) FROM public.reads GROUP BY utility_id}),
	'UTILITY1:500', 'reader1 sees its utility\'s rows, from the workers');
is($coord->safe_psql('postgres', 'SET ROLE reader2; SELECT count(*) FROM public.reads'),
	'0', 'reader2, mapped to nothing, sees no rows');
$coord->safe_psql('postgres', "INSERT INTO gridflow.role_utility VALUES ('reader2', 'UTILITY2')");
is($coord->safe_psql('postgres', q{SET ROLE reader2; SELECT utility_id || ':' || count(*) FROM public.reads GROUP BY utility_id}),
	'UTILITY2:500', 'reader2 mapped on the coordinator: the workers show it its rows');
is($coord->safe_psql('postgres', q{SET ROLE reader2; SELECT string_agg(utility_id, ',') FROM gridflow.utility}),
	'UTILITY2', 'reader2 sees its utility in the reference table gridflow.utility');

# a build on the coordinator (the layers are its own tables)
like(
	$coord->safe_psql('postgres', "SELECT row_count FROM gridflow_build('$testdir/sample') WHERE step = 'product'"),
	qr/^[1-9][0-9]*$/, 'a build on the coordinator writes the products');
my $batches = $coord->safe_psql('postgres', 'SELECT count(*) FROM gridflow.batch');
ok($batches > 0, "the build recorded its batches ($batches)");

# a layer table made a Citus table by hand: every run that writes is refused
$coord->safe_psql('postgres',
	"SELECT create_distributed_table('gridflow_store.utility_daily_usage', 'utility_id')");
my $before = layers_fingerprint($coord);
for my $run ("gridflow_build('$testdir/sample')", 'gridflow_rebuild()', "gridflow_ingest('$testdir/sample')")
{
	($ret, $out, $err) = $coord->psql('postgres', "SELECT * FROM $run");
	like(
		$err,
		qr/ERROR:  gridflow cannot write table "gridflow_store\.utility_daily_usage", which Citus manages as a distributed table\n.*DETAIL:  .*rows written into the coordinator's local stand-in of a Citus table would be lost.*\n.*HINT:  .*docs\/distributed\.md/s,
		"$run refused: the table named, why, where to read");
}
is(layers_fingerprint($coord), $before, 'nothing was written');

done_testing();
