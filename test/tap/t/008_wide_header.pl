
# A header of 100,000 columns (the most a record may have) matched against
# a wide layout of 99,990 configured columns.  The reader indexes its
# header, so matching costs the header's size plus the layout's, not their
# product (which ran for hours, deaf to every signal but SIGKILL), and the
# loops over either serve interrupts:
#
#  - a build with the plain header (1 MB) completes, and so does one with
#    the names padded with blanks to a 61 MB header (matching ignores the
#    blanks);
#  - a build that has read the 61 MB header (the file's offset is past
#    it), and is matching the layout against it, ends on
#    pg_cancel_backend() and on statement_timeout with the cancel error,
#    and the session goes on; on pg_terminate_backend() with the terminate
#    error, and the server goes on; on pg_ctl stop -m fast, after which the
#    cluster starts again.  Every time the previous build is intact.
#
# The builds' times and the latencies are printed, not checked (tests
# assert no wall-clock limits).

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use GridflowTest;

my $node = new_gridflow_node('wide_header');
my $tmpdir = PostgreSQL::Test::Utils::tempdir();

# sp, meter, day, 99,990 interval columns of one second (elapsed: a day
# has 86,400 of them, the rest stay empty) and 7 columns nobody maps
my $nwide = 99_990;
my @wide = map { sprintf('c%06d', $_) } 0 .. $nwide - 1;
my @names = ('sp', 'meter', 'day', @wide, map { "extra$_" } 1 .. 7);
die 'not 100,000 columns' unless @names == 100_000;

# A drop whose wide file has the header with $pad around every name, and
# two records: 24 reads of 1 on 2025-01-02, and 2 and 3 in the first and
# the last second of 2025-01-03.
sub write_drop
{
	my ($dir, $pad) = @_;
	mkdir $dir or die;
	mkdir "$dir/wide" or die;
	open my $fh, '>', "$dir/wide/intervals.csv" or die;
	my $header = join(',', map { "$pad$_$pad" } @names) . "\n";
	print $fh $header;
	my @cells = ('') x $nwide;
	@cells[ 0 .. 23 ] = (1) x 24;
	print $fh join(',', 'S1', 'M1', '2025-01-02', @cells, ('') x 7), "\n";
	@cells = ('') x $nwide;
	@cells[ 0, 86_399 ] = (2, 3);
	print $fh join(',', 'S1', 'M1', '2025-01-03', @cells, ('') x 7), "\n";
	close $fh or die;
	return ("$dir/wide/intervals.csv", length $header);
}
write_drop("$tmpdir/plain", '');
my ($padded_file, $padded_header) = write_drop("$tmpdir/padded", ' ' x 300);
note sprintf('padded header: %.1f MB', (-s $padded_file) / 1e6);

$node->safe_psql(
	'postgres', q{
UPDATE gridflow.utility SET enabled = false;
INSERT INTO gridflow.utility (utility_id, time_zone) VALUES ('WIDE', 'UTC');
INSERT INTO gridflow.source_file
    (utility_id, file_kind, file_path, layout, wide_columns, wide_interval_seconds, wide_dst)
SELECT 'WIDE', 'interval', 'wide/intervals.csv', 'wide',
       array_agg('c' || lpad(i::text, 6, '0') ORDER BY i), 1, 'elapsed'
  FROM generate_series(0, 99989) i;
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format) VALUES
    ('WIDE', 'interval', 'service_point_id', 'sp', NULL),
    ('WIDE', 'interval', 'meter_id', 'meter', NULL),
    ('WIDE', 'interval', 'channel', 'meter', NULL),
    ('WIDE', 'interval', 'interval_start_ts', 'day', 'YYYY-MM-DD');
});
is( $node->safe_psql(
		'postgres',
		"SELECT cardinality(wide_columns) FROM gridflow.source_file WHERE utility_id = 'WIDE'"),
	$nwide,
	'a wide layout of 99,990 columns');

my $reads_sql = q{
SELECT b.records_read, b.rows_kept, b.unpivoted_reads, count(r.*), sum(r.value), max(r.interval_start_ts)
  FROM gridflow.batch b LEFT JOIN standardized.interval_read r USING (batch_id)
 WHERE b.utility_id = 'WIDE' GROUP BY 1, 2, 3};
my @timings;

# The complete builds: every read of both records, in the right seconds.
for my $drop ('plain', 'padded')
{
	my $t0 = time;
	is($node->safe_psql('postgres', "SELECT count(*) FROM gridflow_build('$tmpdir/$drop')"),
		'13', "a build with the $drop header completes");
	push @timings, [ "complete build, $drop header", time - $t0 ];
	is($node->safe_psql('postgres', $reads_sql),
		'2|26|26|26|29|2025-01-03 23:59:59+00',
		"its reads ($drop header)");
}
my $before = layers_fingerprint($node);

my $build = "SELECT count(*) FROM gridflow_build('$tmpdir/padded')";
my $in_file = qr/CONTEXT:  gridflow file "\Q$padded_file\E", line 1\n/;
my $session = background_session($node);
my $pid = $session->query_safe('SELECT pg_backend_pid()');
my $watch = background_session($node);

# Has backend $p read the padded file's header?  It reads a megabyte at a
# time, and reads on only when the header is done with, so from the read
# that takes the file's offset past the header's end until the offset
# moves again, the backend splits the header into its fields, indexes it
# and matches the layout against it (which took hours, deaf to signals,
# when matching cost the product of their sizes).
sub past_header
{
	my ($p) = @_;
	my $pos = file_offset($p, $padded_file);
	return defined $pos && $pos >= $padded_header;
}

# pg_cancel_backend() once the header is read: it is being matched.
my $t = time;
start_in_background($session, $build);
ok(wait_until(sub { past_header($pid) }), 'the build has read the padded header');
my $read_header = time - $t;
push @timings, [ 'padded header read after', $read_header ];
$t = time;
$watch->query_safe("SELECT pg_cancel_backend($pid)");
my ($out, $err) = finish_background($session);
push @timings, [ 'pg_cancel_backend latency', time - $t ];
like($err, qr/ERROR:  canceling statement due to user request/, 'pg_cancel_backend ends the build');
like($err, $in_file, 'inside the header of the file');
note "cancel: $err";
is($session->query_safe('SELECT 1'), '1', 'the session goes on after the cancel');
is(layers_fingerprint($node), $before, 'previous build intact after the cancel');

# statement_timeout once the header is read, as the cancel found it
my $ms = int($read_header * 1000) + 100;
$session->query_safe("SET statement_timeout = $ms");
$t = time;
start_in_background($session, $build);
($out, $err) = finish_background($session);
push @timings, [ "statement_timeout = ${ms}ms, past it by", time - $t - $ms / 1000 ];
$session->query_safe('RESET statement_timeout');
like($err, qr/ERROR:  canceling statement due to statement timeout/,
	'statement_timeout ends the build');
my ($context) = $err =~ /CONTEXT:  (.*)/;
note 'statement_timeout: cancelled in: ' . ($context // 'the build itself');
is($session->query_safe('SELECT 1'), '1', 'the session goes on after the timeout');
is(layers_fingerprint($node), $before, 'previous build intact after the timeout');

# A build in a psql of its own, which terminating or stopping ends: its
# harness, output and backend.
sub start_build
{
	my ($app) = @_;
	my %b = (out => '', err => '');
	$b{run} = IPC::Run::start(
		[
			'psql', '-XAtq', '-d',
			$node->connstr('postgres') . " application_name=$app",
			'-c', $build
		],
		'>', \$b{out}, '2>', \$b{err},
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	wait_until(
		sub {
			$b{pid} = $watch->query_safe(
				"SELECT pid FROM pg_stat_activity WHERE application_name = '$app'");
			return $b{pid} ne '';
		});
	ok(wait_until(sub { past_header($b{pid}) }), "the build has read the padded header ($app)");
	return \%b;
}

# pg_terminate_backend(): the backend goes, the server stays.
my $b = start_build('terminated');
$t = time;
$watch->query_safe("SELECT pg_terminate_backend($b->{pid})");
$b->{run}->finish;
push @timings, [ 'pg_terminate_backend latency', time - $t ];
like($b->{err}, qr/FATAL:  terminating connection due to administrator command/,
	'pg_terminate_backend ends the build');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server goes on after the terminate');
is(layers_fingerprint($node), $before, 'previous build intact after the terminate');

# pg_ctl stop -m fast: the cluster stops, and starts again.
$session->quit;
$watch->quit;
$watch = background_session($node);
$b = start_build('stopped');
$watch->quit;
$t = time;
$node->stop('fast');
push @timings, [ 'pg_ctl stop -m fast', time - $t ];
$b->{run}->finish;
like($b->{err}, qr/FATAL:  terminating connection due to administrator command/,
	'pg_ctl stop -m fast ends the build');
$node->start;
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the cluster starts again after the fast stop');
is(layers_fingerprint($node), $before, 'previous build intact after the fast stop');

for (@timings)
{
	diag sprintf('%-52s %6d ms', $_->[0], $_->[1] * 1000);
}

$node->stop;
done_testing();
