
# A backend killed with SIGKILL in the middle of a build: the cluster
# restarts (restart_after_crash), recovers, and the previous build's tables
# are exactly as they were; a new build then succeeds.  The backend is
# killed three times: while it reads a file, while it writes the layers'
# new partitions, and while it waits to swap them in.  Both under wal_level = minimal (the build's writes to the tables
# it truncated skip the WAL) and replica (they are all in the WAL, and
# recovery replays them).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use GridflowTest;

my $drop = make_drop(20);

for my $wal_level ('minimal', 'replica')
{
	my $node = new_gridflow_node(
		"crash_$wal_level",
		restart_after_crash => 'on',
		wal_level => $wal_level,
		max_wal_size => '1GB');

	# The previous build: the sample shipped with the extension.
	$node->safe_psql('postgres', 'SELECT count(*) FROM gridflow_build()');
	my $before = layers_fingerprint($node);
	my $builds =
	  $node->safe_psql('postgres', 'SELECT count(*) FROM gridflow.build');

	# Kill the backend of a build of $drop once $in_phase->($pid) is true.
	my $kill_build = sub {
		my ($what, $in_phase) = @_;
		$what .= ", wal_level $wal_level";
		my $session = background_session($node);
		my $pid = $session->query_safe('SELECT pg_backend_pid()');
		start_in_background($session,
			"SELECT count(*) FROM gridflow_build('$drop')");
		ok(wait_until(sub { $in_phase->($pid) }),
			"build reached the phase: $what");

		my $log_offset = -s $node->logfile;
		kill 'KILL', $pid;
		$session->{run}->finish;    # psql loses its connection

		ok($node->poll_query_until('postgres', 'SELECT 1', '1'),
			"cluster accepts connections again after SIGKILL $what");
		ok( $node->log_contains(
				qr/server process \(PID $pid\) was terminated by signal 9/,
				$log_offset),
			"postmaster saw the backend die ($what)");
		ok( $node->log_contains(
				qr/all server processes terminated; reinitializing/,
				$log_offset),
			"cluster reinitialized ($what)");
		is(layers_fingerprint($node), $before,
			"previous build intact after SIGKILL $what");
		is($node->safe_psql('postgres', 'SELECT count(*) FROM gridflow.build'),
			$builds, "build log unchanged after SIGKILL $what");
		is(scalar(temp_files($node)), 0, "no temporary files left ($what)");
	};

	# while it reads utility2's interval file
	$kill_build->(
		'while reading a file',
		sub {
			my ($pid) = @_;
			return grep { m{/utility2/utility2_intervals\.csv$} }
			  backend_fds($pid);
		});

	# while it writes utility2's reads with their products and days, into
	# new partitions that only its transaction can name: once its interval
	# file has been seen open, then closed, and before any index is built
	my $seen = 0;
	$kill_build->(
		'while writing the reads, products and days',
		sub {
			my ($pid) = @_;
			my $open = grep { m{/utility2/utility2_intervals\.csv$} } backend_fds($pid);
			$seen ||= $open;
			return $seen && !$open
			  && $node->safe_psql('postgres',
				"SELECT count(*) = 0 FROM pg_stat_progress_create_index WHERE pid = $pid") eq 't';
		});

	# while it waits to swap its new partitions in: a reader holds the days
	my $reader = background_session($node);
	$reader->query_safe('BEGIN');
	$reader->query_safe('SELECT count(*) FROM experience.daily_usage');
	$kill_build->(
		'while waiting to swap its partitions in',
		sub {
			my ($pid) = @_;
			return $node->safe_psql('postgres',
				"SELECT wait_event_type IN ('Lock', 'Extension') AND query LIKE '%gridflow_build%' "
				  . "FROM pg_stat_activity WHERE pid = $pid") eq 't';
		});
	$reader->{run}->finish;    # the crash ended its connection too

	# A new build succeeds, on the same drop.
	is($node->safe_psql('postgres', "SELECT count(*) FROM gridflow_build('$drop')"),
		'13', "a new build succeeds after the crashes (wal_level $wal_level)");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM gridflow.build'),
		$builds + 1, "and is logged (wal_level $wal_level)");
	is( $node->safe_psql(
			'postgres', q{
			SELECT (SELECT count(*) FROM standardized.interval_read) > 100000
			   AND (SELECT count(*) FROM standardized.interval_read)
			     = (SELECT count(*) FROM product.usage_interval)}),
		't',
		"the new build has its layers (wal_level $wal_level)");

	$node->stop;
}

done_testing();
