
# A file that changes size while it is read.  To make the change happen
# while the reader has the file open, deterministically, the backend is
# frozen (SIGSTOP) once /proc shows it holds the file open, the file is
# grown or truncated, and the backend resumes (SIGCONT).  The reader keeps
# its descriptor until the end of the file, so it always sees a size other
# than the one it opened: the read ends normally, with a WARNING naming the
# file and both sizes, and the server stays up.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use GridflowTest;

my $node = new_gridflow_node('changing');
my $dir = PostgreSQL::Test::Utils::tempdir();

# Freeze the backend $pid as soon as it has $file open, run $change, resume.
sub change_while_open
{
	my ($pid, $file, $change) = @_;
	my $open = wait_until(sub { grep { $_ eq $file } backend_fds($pid) });
	kill 'STOP', $pid;
	# still open once stopped: the change happens between open and close
	$open &&= grep { $_ eq $file } backend_fds($pid);
	$change->() if $open;
	kill 'CONT', $pid;
	return $open;
}

# 1. read_csv on a file that grows: 2,000,000 rows, then 1,000 more.
my $file = "$dir/growing.csv";
{
	open my $fh, '>', $file or die;
	print $fh "id,name\n";
	print $fh "$_,name$_\n" for 1 .. 2_000_000;
	close $fh;
}
my $size = -s $file;
my $session = background_session($node);
my $pid = $session->query_safe('SELECT pg_backend_pid()');
start_in_background($session,
	"SELECT count(*) FROM gridflow.read_csv('$file') WHERE reject_reason IS NULL");
ok( change_while_open(
		$pid, $file,
		sub {
			open my $fh, '>>', $file or die;
			print $fh "$_,name$_\n" for 2_000_001 .. 2_001_000;
			close $fh;
		}),
	'file grown while the reader had it open');
my ($out, $err) = finish_background($session);
like(
	$err,
	qr/WARNING:  file "\Q$file\E" changed size while it was read\nDETAIL:  It had $size bytes when opened, ${\( -s $file )} bytes now; \d+ bytes were read\./,
	'read_csv warns that the file grew, with both sizes');
# the rows appended are read when the reader had not reached the end yet
ok($out eq '2000000' || $out eq '2001000',
	"every row read, the appended ones or none of them ($out)");
is($session->query_safe('SELECT 1'), '1', 'server up after a growing file');

# 2. a build whose interval file is truncated while it is read: the rows
# read up to the cut are loaded, the build commits, with the warning.
my $drop = make_drop(20);
my $intervals = "$drop/utility2/utility2_intervals.csv";
my $cut;
{
	# cut at a line break near the middle
	open my $fh, '<', $intervals or die;
	seek $fh, (-s $intervals) / 2, 0;
	<$fh>;
	$cut = tell $fh;
	close $fh;
}
start_in_background($session, "SELECT count(*) FROM gridflow_build('$drop')");
ok(change_while_open($pid, $intervals, sub { truncate $intervals, $cut or die }),
	'interval file truncated while the build had it open');
($out, $err) = finish_background($session);
is($out, '13', 'the build completes');
like(
	$err,
	qr/WARNING:  file "\Q$intervals\E" changed size while it was read\nDETAIL:  It had \d+ bytes when opened, $cut bytes now; \d+ bytes were read\./,
	'the build warns that the interval file shrank');
my ($read, $bytes) = split /\|/,
  $session->query_safe(
	"SELECT records_read + records_rejected, file_bytes FROM gridflow.batch "
	  . "WHERE utility_id = 'UTILITY2' AND file_kind = 'interval'");
ok($bytes >= $cut, "the batch records the bytes read ($bytes, file cut at $cut)");
ok($read > 0, "records of the truncated file were loaded ($read)");
is($session->query_safe('SELECT 1'), '1', 'server up after a truncated file');

$session->quit;
$node->stop;
done_testing();
