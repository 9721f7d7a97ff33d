
# Relation files that a crash leaves behind: a build's backend is killed
# while it writes its new tables; after recovery its files are on disk
# and no relation owns them.  gridflow.orphan_relation_files() lists them
# (superusers only), never a file of a relation that a transaction still
# running is creating, and gridflow.remove_orphan_relation_files() removes
# them; the layers are as before the crash, and builds go on.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use GridflowTest;

my $drop = make_drop(20);
my $node = new_gridflow_node('orphans', restart_after_crash => 'on');

$node->safe_psql('postgres', "SELECT count(*) FROM gridflow_build('$drop')");
my $before = layers_fingerprint($node);
is($node->safe_psql('postgres', 'SELECT count(*) FROM gridflow.orphan_relation_files()'),
	'0', 'no orphan files after clean builds');

# Kill a build well after it created its tables: the new partitions it
# writes, which other sessions cannot see in pg_class yet, though they see
# its locks on them.
my $session = background_session($node);
my $pid = $session->query_safe('SELECT pg_backend_pid()');
start_in_background($session, "SELECT count(*) FROM gridflow_build('$drop')");
ok( wait_until(
		sub {
			$node->safe_psql('postgres',
				"SELECT count(*) >= 20 FROM pg_locks l WHERE l.pid = $pid AND l.locktype = 'relation' "
				  . "AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation)") eq 't';
		}),
	'the build writes its new tables');
kill 'KILL', $pid;
$session->{run}->finish;
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'the cluster recovered');
is(layers_fingerprint($node), $before, 'the layers are as before the crash');

my ($count, $bytes) = split /\|/,
  $node->safe_psql('postgres', 'SELECT count(*), coalesce(sum(bytes), 0) FROM gridflow.orphan_relation_files()');
cmp_ok($count, '>', 0, "the killed build left orphan files ($count files)");
cmp_ok($bytes, '>', 0, "of $bytes bytes");
# each listed file exists, and its number names no relation
for my $row (split /\n/,
	$node->safe_psql('postgres', 'SELECT path, filenode FROM gridflow.orphan_relation_files()'))
{
	my ($path, $filenode) = split /\|/, $row;
	ok(-f $node->data_dir . "/$path", "$path exists");
	is($node->safe_psql('postgres', "SELECT pg_filenode_relation(0, $filenode) IS NULL"),
		't', "no relation has file number $filenode");
}

# A relation being created by a transaction still running is not an orphan.
my $open = background_session($node);
$open->query_safe('BEGIN');
$open->query_safe('CREATE TABLE regress_in_progress AS SELECT g FROM generate_series(1, 100000) g');
my $in_progress = $open->query_safe("SELECT pg_relation_filenode('regress_in_progress')");
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM gridflow.orphan_relation_files() WHERE filenode = $in_progress"),
	'0', "a table another transaction is creating is not listed");

# Not for other roles.
$node->safe_psql('postgres', 'CREATE ROLE regress_operator LOGIN; GRANT USAGE ON SCHEMA gridflow TO regress_operator');
$node->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION gridflow.orphan_relation_files() TO regress_operator');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM gridflow.orphan_relation_files()',
	extra_params => [ '-U', 'regress_operator' ]);
like($err, qr/permission denied to list relation files/, 'a role that is not superuser may not list them');
($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM gridflow.remove_orphan_relation_files()',
	extra_params => [ '-U', 'regress_operator' ]);
like($err, qr/permission denied for function remove_orphan_relation_files/,
	'nor remove them without EXECUTE');

# Removal: exactly what was listed; then nothing is left, and all still works.
my $listed = $node->safe_psql('postgres', 'SELECT path FROM gridflow.orphan_relation_files() ORDER BY 1');
is($node->safe_psql('postgres', 'SELECT path FROM gridflow.remove_orphan_relation_files() ORDER BY 1'),
	$listed, 'remove_orphan_relation_files() removes the files listed');
ok(!-e $node->data_dir . "/$_", "$_ is gone") for split /\n/, $listed;
is($node->safe_psql('postgres', 'SELECT count(*) FROM gridflow.orphan_relation_files()'),
	'0', 'nothing is listed after removal');
$open->query_safe('COMMIT');
is($node->safe_psql('postgres', 'SELECT count(*) FROM regress_in_progress'), '100000',
	'the table created meanwhile is intact');
is(layers_fingerprint($node), $before, 'the layers are intact after removal');
# (the rows of the layers; the batches and the build log record another run)
sub rows_of_layers
{
	(my $f = shift) =~ s/gridflow\.(batch|build)=\S+ ?//g;
	return $f;
}
$node->safe_psql('postgres', "SELECT count(*) FROM gridflow_build('$drop')");
is(rows_of_layers(layers_fingerprint($node)), rows_of_layers($before), 'a build afterwards gives the same layers');
$node->safe_psql('postgres', 'CHECKPOINT');
$node->restart;
is(rows_of_layers(layers_fingerprint($node)), rows_of_layers($before), 'and they survive a checkpoint and a restart');
is($node->safe_psql('postgres', 'SELECT count(*) FROM gridflow.orphan_relation_files()'),
	'0', 'and no file is an orphan then');

done_testing();
