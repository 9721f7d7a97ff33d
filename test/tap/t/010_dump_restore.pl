
# Backup and restore (README, "Backup and restore"): a logical dump holds
# the configuration, edits of the shipped utilities included, and the
# history of batches and builds; the layers are made again from the history
# by gridflow_rebuild().  A database built from one drop, with two ingests
# after it and edited shipped utilities, is dumped (pg_dump -Fc) and
# restored with pg_restore -j 2 into another cluster; after the rebuild,
# every layer and every DQ view equals the original, and one more ingest
# gives the same result on both.  A schema-only dump holds none of the
# partitions builds make.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use GridflowTest;

my $fixtures = $ENV{GRIDFLOW_TEST_DIR} // '/tmp/gridflow-regress';
my $monthly = "$fixtures/drops/monthly";
plan skip_all => "the fixtures are not staged in $fixtures (make installcheck stages them)"
  unless -d "$monthly/jan";

my $origin = new_gridflow_node('origin');
my $restored = new_gridflow_node('restored');
$restored->safe_psql('postgres', 'CREATE DATABASE copy');

# Edits of the shipped configuration that a dump must keep: UTILITY2 keeps
# the last of repeated reads and reads "-" as NULL; a utility of the user's;
# a shipped unit deleted and one added.
$origin->safe_psql(
	'postgres', q{
UPDATE gridflow.utility SET interval_dedup_policy = 'keep_last' WHERE utility_id = 'UTILITY2';
UPDATE gridflow.column_map SET null_values = ARRAY['', '-']
 WHERE utility_id = 'UTILITY2' AND file_kind = 'interval' AND target_column = 'value';
INSERT INTO gridflow.utility (utility_id, description, enabled) VALUES ('REGRESS_OWN', 'a utility of the user''s', false);
DELETE FROM gridflow.unit WHERE unit = 'MWh';
INSERT INTO gridflow.unit (unit, common_unit, factor) VALUES ('GWh', 'kWh', 1000000);
});
$origin->safe_psql('postgres', "SELECT count(*) FROM gridflow_build('$monthly/jan')");
$origin->safe_psql('postgres', "SELECT count(*) FROM gridflow_ingest('$monthly/feb')");
$origin->safe_psql('postgres', "SELECT count(*) FROM gridflow_ingest('$monthly/fix')");

# What the restored database must show again.
my $views_sql = q{
SELECT string_agg(v, E'\n' ORDER BY v) FROM (
  SELECT format('%s.%s', schemaname, viewname) || ' ' ||
         (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) || ''/'' || coalesce(md5(string_agg(x::text, ''|'' ORDER BY x::text)), ''-'') AS c FROM %I.%I x',
                                                    schemaname, viewname), false, true, '')))[1]::text AS v
    FROM pg_views WHERE schemaname IN ('landing', 'standardized', 'product', 'experience', 'dq', 'external')
) s};
my $config_sql = 'SELECT gridflow.configuration_document()::text';
my $history_sql =
  q{SELECT (SELECT string_agg(b::text, E'\n' ORDER BY batch_id) FROM gridflow.batch b) || E'\n' ||
           (SELECT string_agg(b::text, E'\n' ORDER BY build_id) FROM gridflow.build b)};

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $dump = "$tmp/gridflow.dump";
command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $origin->connstr('postgres') ], 'pg_dump -Fc');
command_ok([ 'pg_restore', '-j', '2', '--exit-on-error', '-d', $restored->connstr('copy'), $dump ],
	'pg_restore -j 2 into another cluster');

is($restored->safe_psql('copy', $config_sql), $origin->safe_psql('postgres', $config_sql),
	'the configuration, edits of the shipped utilities and units included, is restored');
is( $restored->safe_psql(
		'copy',
		"SELECT interval_dedup_policy FROM gridflow.utility WHERE utility_id = 'UTILITY2'"),
	'keep_last',
	'UTILITY2 keeps the last of repeated reads');
is($restored->safe_psql('copy', $history_sql), $origin->safe_psql('postgres', $history_sql),
	'the history of batches and builds is restored');
is($restored->safe_psql('copy', 'SELECT count(*) FROM standardized.interval_read'),
	'0', 'the layers are not in the dump');
like($restored->safe_psql('copy', "SELECT string_agg(line, ' ') FROM dq.snapshot"),
	qr/gridflow_rebuild\(\)/, 'the DQ snapshot says to rebuild');

# one call makes the layers again
$restored->safe_psql('copy', 'SELECT count(*) FROM gridflow_rebuild()');
$origin->safe_psql('postgres', 'SELECT count(*) FROM gridflow_rebuild()');
my ($got, $want) =
  ($restored->safe_psql('copy', $views_sql), $origin->safe_psql('postgres', $views_sql));
cmp_ok(scalar(() = $want =~ /\n/g), '>', 20, 'the comparison covers the layer and DQ views');
is($got, $want, 'after gridflow_rebuild(): every layer and DQ view equals the original');

# one more ingest: a correction of February's reads
my $more = "$tmp/more";
mkdir "$more";
mkdir "$more/utility2";
{
	open my $in, '<', "$monthly/feb/utility2/utility2_intervals.csv" or die $!;
	open my $out, '>', "$more/utility2/utility2_intervals.csv" or die $!;
	my $header = <$in>;
	print $out $header;
	(my $names = $header) =~ s/\r?\n$//;
	my @cols = split /,/, $names;
	my ($value) = grep { $cols[$_] =~ /^"?value"?$/i } 0 .. $#cols;
	while (my $line = <$in>)
	{
		$line =~ s/\r?\n$//;
		my @f = split /,/, $line, -1;
		$f[$value] = $f[$value] eq '' ? '' : $f[$value] * 2 + 1 if defined $value;
		print $out join(',', @f), "\n";
	}
}
chmod 0755, $tmp, $more, "$more/utility2";
chmod 0644, "$more/utility2/utility2_intervals.csv";
my $ingest_sql =
  "SELECT string_agg(concat_ws(' ', batch_id, utility, kind, outcome, same_as_batch, records_read, rows_kept, rows_matched, rows_replaced, days_refreshed), E'\\n' ORDER BY batch_id) "
  . "FROM gridflow_ingest('$more', 'UTILITY2')";
my $ingested = $origin->safe_psql('postgres', $ingest_sql);
like($ingested, qr/loaded/, 'one more ingest loads the correction');
is($restored->safe_psql('copy', $ingest_sql), $ingested,
	'the same ingest gives the same result, batch numbers included');
# (its batch's times are the only difference: when each ingest ran)
for my $node ([ $origin, 'postgres' ], [ $restored, 'copy' ])
{
	$node->[0]->safe_psql($node->[1],
		"UPDATE gridflow.batch SET started_at = '2026-01-01', finished_at = '2026-01-01' "
		  . 'WHERE batch_id = (SELECT max(batch_id) FROM gridflow.batch)');
}
is($restored->safe_psql('copy', $views_sql), $origin->safe_psql('postgres', $views_sql),
	'and the same layers and DQ views');

# a schema-only dump holds no partition that builds make
my $schema = "$tmp/schema.sql";
command_ok([ 'pg_dump', '--schema-only', '-f', $schema, '-d', $origin->connstr('postgres') ],
	'pg_dump --schema-only');
my $ddl = slurp_file($schema);
unlike($ddl, qr/gridflow_(store|next)\.\w+_utility/, 'no partition of a utility');
unlike($ddl, qr/ATTACH PARTITION/, 'no ATTACH PARTITION');
like($ddl, qr/CREATE EXTENSION IF NOT EXISTS gridflow/, 'the extension');

$origin->stop;
$restored->stop;
done_testing();
