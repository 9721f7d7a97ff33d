
# Cancelling a build, with pg_cancel_backend() at each phase (seen from
# outside: the file it holds open, the locks it has taken, the progress
# views) and with statement_timeout at fractions of a full build's time.
# Every time: the build stops with the cancel error, the previous build is
# intact, and the backend, which stays connected, keeps no file
# descriptor of the drop, no temporary file and no memory context of
# gridflow's; its memory does not grow from one cancel to the next.  A
# last build in the same session then succeeds.
#
# How long each cancel took is printed (not checked: tests assert no
# wall-clock limits).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use GridflowTest;

my $node = new_gridflow_node('cancel');
my $drop = make_drop(20);
my $tmpdir = PostgreSQL::Test::Utils::tempdir();

# A 300 MB line, for a cancel inside one record that is too long to keep.
my $longline = "$tmpdir/long_line.csv";
{
	open my $fh, '>', $longline or die;
	print $fh "a,b\n1,2\n";
	my $mb = 'x' x 1_000_000;
	print $fh $mb for 1 .. 300;
	close $fh;
}

my $session = background_session($node);
my $pid = $session->query_safe('SELECT pg_backend_pid()');
# a second session that watches the build and cancels it: a query on an
# open connection takes a millisecond where a new psql takes tens, and some
# phases last less than that
my $watch = background_session($node);
# small memory budgets, so that sorts and hashes use temporary files
$session->query_safe("SET work_mem = '64kB'");
$session->query_safe("SET maintenance_work_mem = '1MB'");

# A full build of the drop, for its length; then the previous build, the
# sample, which every cancelled build must leave as it is.
my $t0 = time;
is($session->query_safe("SELECT count(*) FROM gridflow_build('$drop')"),
	'13', 'a full build of the drop');
my $full = time - $t0;
note sprintf('full build: %.2f s', $full);
$session->query_safe('SELECT count(*) FROM gridflow_build()');
my $before = layers_fingerprint($node);

# The session's memory, but for the caches of the catalog
# (CacheMemoryContext and the relation entries under it), which keep the
# high-water mark of the relations a statement had open at once: for a
# build, the partitions it replaced and those it made.
my $memory_sql =
  "SELECT sum(total_bytes) FROM pg_backend_memory_contexts "
  . "WHERE name <> 'CacheMemoryContext' AND parent IS DISTINCT FROM 'CacheMemoryContext'";
my $memory_base = $session->query_safe($memory_sql);
my @latencies;
my @memory;
my $temp_seen = 0;

# After a cancelled statement: what the backend kept.
sub check_clean
{
	my ($what) = @_;
	is(layers_fingerprint($node), $before, "previous build intact ($what)");
	my @kept = grep { index($_, $drop) == 0 || index($_, $tmpdir) == 0 || m{pgsql_tmp} }
	  backend_fds($pid);
	is_deeply(\@kept, [], "no descriptor of the drop or of a temporary file kept ($what)");
	is_deeply([ temp_files($node) ], [], "no temporary file left ($what)");
	is( $session->query_safe(
			"SELECT count(*) FROM pg_backend_memory_contexts WHERE name LIKE 'gridflow%'"),
		'0',
		"no gridflow memory context left ($what)");
	push @memory, $session->query_safe($memory_sql);
	is($session->query_safe('SELECT 1'), '1', "session still works ($what)");
	return;
}

# Start $sql, wait for $in_phase, cancel; the error must carry $context.
sub cancel_at
{
	my ($what, $sql, $in_phase, $context) = @_;
	my $reached = 0;
	start_in_background($session, $sql);
	wait_until(
		sub {
			$temp_seen ||= scalar temp_files($node);
			return $reached = 1 if $in_phase->();
			# give up when the statement is over (not before it starts)
			return $watch->query_safe(
				"SELECT state <> 'active' AND rtrim(query, ';') = '" . ($sql =~ s/'/''/gr)
				  . "' FROM pg_stat_activity WHERE pid = $pid") eq 't';
		});
	ok($reached, "reached: $what");
	my $t = time;
	$watch->query_safe("SELECT pg_cancel_backend($pid)");
	my ($out, $err) = finish_background($session);
	push @latencies, [ $what, time - $t ];
	like($err, qr/ERROR:  canceling statement due to user request/,
		"cancelled: $what");
	like($err, $context, "cancelled in the phase: $what");
	check_clean($what);
	return;
}

my $build = "SELECT count(*) FROM gridflow_build('$drop')";

cancel_at(
	'reading a file (utility2 intervals, 27 MB)',
	$build,
	sub { grep { m{/utility2/utility2_intervals\.csv$} } backend_fds($pid) },
	qr/CONTEXT:  gridflow file "[^"]*utility2_intervals\.csv", line \d+/);
# (utility2's reads are written, with their products and days, once its
# interval file is read and closed, into new partitions that its
# transaction made: other sessions cannot name them, so the phase is told
# by the file, seen open and then closed, before any index is built)
my $file_seen = 0;
cancel_at(
	'writing utility2\'s reads, with their products and days',
	$build,
	sub {
		my $open = grep { m{/utility2/utility2_intervals\.csv$} } backend_fds($pid);
		$file_seen ||= $open;
		return $file_seen && !$open
		  && $watch->query_safe(
			"SELECT count(*) = 0 FROM pg_stat_progress_create_index WHERE pid = $pid") eq 't';
	},
	qr/CONTEXT:  gridflow build: writing the interval rows of utility UTILITY2, with their products and days/);
# (with maintenance_work_mem at 1 MB its sorts spill to temporary files)
cancel_at(
	'rebuilding the index of a new partition, sorting on disk',
	$build,
	sub {
		temp_files($node)
		  && $watch->query_safe(
			"SELECT count(*) > 0 FROM pg_stat_progress_create_index WHERE pid = $pid") eq 't';
	},
	qr/CONTEXT:  SQL statement "REINDEX (?:TABLE|INDEX) gridflow_next\.\w+"\n.*gridflow build: indexing the new partitions of utility/);
cancel_at(
	'analyzing',
	$build,
	sub {
		$watch->query_safe(
			"SELECT count(*) > 0 FROM pg_stat_progress_analyze WHERE pid = $pid") eq 't';
	},
	qr/gridflow build: analyzing (the new partitions|the layers as a whole)/);
# (a reader in a transaction holds the days: the build, done, waits to
# swap its partitions in, giving its locks back between attempts)
my $reader = background_session($node);
$reader->query_safe('BEGIN');
$reader->query_safe('SELECT count(*) FROM experience.daily_usage');
cancel_at(
	'waiting for a reader to swap the new partitions in',
	$build,
	sub {
		$watch->query_safe(
			"SELECT wait_event_type IN ('Lock', 'Extension') FROM pg_stat_activity WHERE pid = $pid") eq 't'
		  && $watch->query_safe(
			"SELECT count(*) = 0 FROM pg_stat_progress_analyze WHERE pid = $pid") eq 't';
	},
	qr/CONTEXT:  gridflow build: swapping in the new partitions/);
$reader->query_safe('COMMIT');
$reader->quit;
cancel_at(
	'read_csv inside a 300 MB line',
	"SELECT count(*) FROM gridflow.read_csv('$longline')",
	# past the first megabyte: the reader is inside line 3, the long one
	sub { (file_offset($pid, $longline) // 0) >= 2_000_000 },
	qr/CONTEXT:  gridflow file "\Q$longline\E", line 3/);

# statement_timeout at fractions of the first full build's time
for my $fraction (0.1, 0.25, 0.4, 0.55, 0.7, 0.85)
{
	my $ms = int($full * $fraction * 1000);
	my $what = "statement_timeout = ${ms}ms";
	$session->query_safe("SET statement_timeout = $ms");
	my $t = time;
	start_in_background($session, $build);
	my ($out, $err) = finish_background($session);
	my $done = time;
	$session->query_safe('RESET statement_timeout');
	if ($err eq '' && $out eq '13')
	{
		# builds get faster once caches are warm: this one beat its timeout
		note "$what: the build ended before the timeout";
		$session->query_safe('SELECT count(*) FROM gridflow_build()');
		$before = layers_fingerprint($node);
		next;
	}
	push @latencies, [ $what, $done - $t - $ms / 1000 ];
	like($err, qr/ERROR:  canceling statement due to statement timeout/,
		"cancelled: $what");
	my ($context) = $err =~ /CONTEXT:  (.*)/;
	note "$what: cancelled in: " . ($context // 'the build itself');
	check_clean($what);
}

# memory of the session: the same after every cancel as before the first
# (give or take what a first use allocates for good, 1 MB)
my ($max_memory) = sort { $b <=> $a } @memory;
cmp_ok($max_memory, '<=', $memory_base + 1024 * 1024,
	"session memory does not grow with cancels (before: $memory_base, after each: @memory)");
ok($temp_seen, 'the builds did use temporary files, which the cancels removed');

# a build after all that succeeds
is($session->query_safe($build), '13', 'a build in the same session succeeds');
is($session->query_safe('SELECT 1'), '1', 'server up');

for (@latencies)
{
	diag sprintf('cancel latency %-52s %4d ms', $_->[0], $_->[1] * 1000);
}

$session->quit;
$watch->quit;
$node->stop;
done_testing();
