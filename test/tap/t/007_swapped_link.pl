# A directory swapped for a symbolic link out of gridflow.allowed_directories
# while read_csv opens a file in it.  The path is checked (realpath) before
# the file is opened; a directory of the resolved path that becomes a link
# in between would redirect the open, and only the check of the opened
# descriptor (/proc/self/fd) catches it.  Here a child process keeps
# swapping allowed/sub between a real directory and a link to outside/,
# while the backend reads allowed/sub/data.csv in a loop.  Every read must
# return the inside file or fail; the outside file's bytes must never come
# back.
#
# To make the window between the check and the open wide enough to hit,
# gridflow.allowed_directories lists first a directory 300 levels deep:
# resolving it, which every check does before it reaches allowed/, takes
# milliseconds.  The loop stops after 1,000 reads once the check after
# opening has refused 20 files, at the first read of the outside file, or
# after 10,000 reads; the counts of each outcome are printed.

use strict;
use warnings;

use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use GridflowTest;

my $base = PostgreSQL::Test::Utils::tempdir();
my $allowed = "$base/allowed";
my $outside = "$base/outside";
mkdir $_ or die "mkdir $_: $!" for $allowed, "$allowed/sub", $outside;
sub write_file
{
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
	return;
}
write_file("$allowed/sub/data.csv", "who\ninside\n");
write_file("$outside/data.csv", "who\noutside\n");
# the link waits beside the directory under another name
symlink('../outside', "$allowed/sub.link") or die "symlink: $!";

my $deep = "$base/deep" . ('/d' x 300);
system_or_bail('mkdir', '-p', $deep);

my $node = new_gridflow_node('swapped_link',
	'gridflow.allowed_directories' => "'$deep, $allowed'");

my $file = "$allowed/sub/data.csv";
is($node->safe_psql('postgres', "SELECT fields[1] FROM gridflow.read_csv('$file')"),
	'inside', 'the file inside is read when nothing moves');
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT * FROM gridflow.read_csv('$outside/data.csv')");
like($err, qr/permission denied to read/, 'the file outside is refused');

# One read_csv per iteration; each outcome is counted: what was read, or
# the SQLSTATE and detail of the error.
$node->safe_psql(
	'postgres', q{
CREATE FUNCTION race(path text, n integer)
RETURNS TABLE (outcome text, times bigint)
LANGUAGE plpgsql AS $$
DECLARE
    got text;
    detail text;
    seen text[] := '{}';
BEGIN
    FOR i IN 1 .. n LOOP
        BEGIN
            SELECT string_agg(array_to_string(fields, ','), ';') INTO got
              FROM gridflow.read_csv(path);
            seen := seen || ('read ' || coalesce(got, 'no row'));
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
            seen := seen || (SQLSTATE || CASE
                WHEN detail LIKE 'The file opened is %' THEN ' refused after opening'
                WHEN detail LIKE 'It resolves to %' THEN ' refused before opening'
                ELSE ' ' || SQLERRM END);
        END;
    END LOOP;
    RETURN QUERY SELECT s, count(*) FROM unnest(seen) s GROUP BY s ORDER BY s;
END $$});

# The swapper: sub is a directory, then (renamed away) the link, and back,
# until told to stop; it stops on its own after ten minutes or when this
# test's process is gone.
my $stop = "$base/stop";
my $swaps_file = "$base/swaps";
my $test_pid = $$;
my $swapper = fork();
die "fork: $!" unless defined $swapper;
if ($swapper == 0)
{
	my $swaps = 0;
	my $deadline = time + 600;
	while (!-e $stop && time < $deadline && getppid() == $test_pid)
	{
		rename("$allowed/sub", "$allowed/sub.dir") or last;
		rename("$allowed/sub.link", "$allowed/sub") or last;
		usleep(1500);
		rename("$allowed/sub", "$allowed/sub.link") or last;
		rename("$allowed/sub.dir", "$allowed/sub") or last;
		usleep(1500);
		$swaps++;
	}
	write_file($swaps_file, $swaps);
	POSIX::_exit(0);
}

my (%count, $reads);
my $batch = 200;
my $max_reads = 10_000;
for ($reads = 0; $reads < $max_reads;)
{
	my $rows = $node->safe_psql('postgres', "SELECT * FROM race('$file', $batch)");
	$reads += $batch;
	for my $row (split /\n/, $rows)
	{
		my ($outcome, $times) = split /\|/, $row;
		$count{$outcome} += $times;
	}
	last if grep { /^read .*outside/ } keys %count;
	last if $reads >= 1000 && ($count{'42501 refused after opening'} // 0) >= 20;
}
write_file($stop, '');
waitpid($swapper, 0);
my $swaps = -e $swaps_file ? slurp_file($swaps_file) : 'unknown';

diag("$reads reads while allowed/sub was swapped $swaps times:");
diag(sprintf('%6d  %s', $count{$_}, $_)) for sort keys %count;

ok(!grep({ /^read .*outside/ } keys %count), 'the outside file was never read');
ok(($count{'read inside'} // 0) > 0, 'the inside file was read while the swapper ran');
ok(($count{'42501 refused after opening'} // 0) > 0,
	'a link swapped in after the check was caught by the check of the opened file');
my @unexpected = grep
{
	!/^(read inside|42501 refused (before|after) opening|58P01 could not open file .* No such file or directory)$/
} keys %count;
is_deeply(\@unexpected, [], 'no other outcome');

# once the swapper has stopped, sub is the directory again
is($node->safe_psql('postgres', "SELECT fields[1] FROM gridflow.read_csv('$file')"),
	'inside', 'the file inside is read again');

done_testing();
