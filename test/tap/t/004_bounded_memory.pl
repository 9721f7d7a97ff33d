
# The memory of a build does not grow with the bytes it reads: the peak
# private memory (RssAnon, sampled from /proc) of the backend building a
# small generated drop, of the same drop with 1.5 million rows appended to
# an interval file that are not valid rows of the file, or 1 million rows
# whose value does not parse (both rejects), and of the same drop with
# that file's rows repeated 20 times (same keys), must stay within 32 MB of
# each other.
# (Index sorts are bounded by maintenance_work_mem, set to 8 MB here.)

use strict;
use warnings;

use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use GridflowTest;

my $node = new_gridflow_node('memory');

my $base = make_drop(2);
my $u2 = 'utility2/utility2_intervals.csv';

# the same drop, its utility2 interval file changed by $change->($fh, @rows)
sub variant
{
	my ($change) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	for my $u ('utility1', 'utility2')
	{
		mkdir "$dir/$u";
		copy("$base/$u/$_", "$dir/$u/$_") or die
		  for map { s{.*/}{}r } glob("$base/$u/*.csv");
	}
	open my $in, '<', "$base/$u2" or die;
	my @rows = map { s/\r?\n?$/\n/r } <$in>;
	close $in;
	open my $out, '>>', "$dir/$u2" or die;
	# (generated files, like the utilities', have no final line break)
	print $out "\n";
	$change->($out, @rows);
	close $out;
	return $dir;
}

my $rejects = variant(
	sub {
		my ($fh) = @_;
		# five fields where the header has six
		print $fh "1,0,100,1,20250124\n" for 1 .. 1_500_000;
	});
my $invalid = variant(
	sub {
		my ($fh) = @_;
		print $fh "1,0,100,1,20250124,N/A\n" for 1 .. 1_000_000;
	});
my $repeated = variant(
	sub {
		my ($fh, $header, @rows) = @_;
		print $fh @rows for 2 .. 20;
	});

# peak RssAnon (kB) of a fresh backend while it builds $drop
sub build_peak
{
	my ($drop) = @_;
	my $session = background_session($node);
	my $pid = $session->query_safe('SELECT pg_backend_pid()');
	$session->query_safe("SET maintenance_work_mem = '8MB'");
	my $peak = 0;
	start_in_background($session, "SELECT count(*) FROM gridflow_build('$drop')");
	wait_until(
		sub {
			if (open my $fh, '<', "/proc/$pid/status")
			{
				while (<$fh>)
				{
					$peak = $1 if /^RssAnon:\s+(\d+)/ && $1 > $peak;
				}
				close $fh;
			}
			return $node->safe_psql('postgres',
				"SELECT state FROM pg_stat_activity WHERE pid = $pid") ne 'active';
		});
	my ($out, $err) = finish_background($session);
	is($out, '13', "build of $drop");
	is($err, '', 'without error');
	$session->quit;
	return $peak;
}

my $invalid_sql = "SELECT rows_invalid FROM gridflow.batch "
  . "WHERE utility_id = 'UTILITY2' AND file_kind = 'interval'";
my $plain = build_peak($base);
my $base_invalid = $node->safe_psql('postgres', $invalid_sql);
my $with_rejects = build_peak($rejects);
is( $node->safe_psql(
		'postgres',
		"SELECT records_rejected FROM gridflow.batch "
		  . "WHERE utility_id = 'UTILITY2' AND file_kind = 'interval'"),
	'1500000',
	'1.5 million rejects');
my $with_invalid = build_peak($invalid);
is($node->safe_psql('postgres', $invalid_sql) - $base_invalid,
	1_000_000, '1 million values that do not parse');
my $with_repeats = build_peak($repeated);
note "peak RssAnon: plain $plain kB, with rejects $with_rejects kB, "
  . "with invalid values $with_invalid kB, rows repeated 20 times $with_repeats kB";

cmp_ok($with_rejects - $plain, '<', 32 * 1024,
	"1.5 million rejects cost no memory ($plain kB, then $with_rejects kB)");
cmp_ok($with_invalid - $plain, '<', 32 * 1024,
	"1 million values that do not parse cost no memory ($plain kB, then $with_invalid kB)");
cmp_ok($with_repeats - $plain, '<', 32 * 1024,
	"20 times the duplicate rows cost no memory ($plain kB, then $with_repeats kB)");

$node->stop;
done_testing();
