
# gridflow.allowed_directories set server-wide with ALTER SYSTEM, as the
# README recommends.  PostgreSQL 15 accepts ALTER SYSTEM only for settings
# it knows, and it knows gridflow's once the library is loaded in the
# session: with gridflow in shared_preload_libraries (or
# session_preload_libraries) every session can set it; without, a session
# must LOAD 'gridflow' first.  Either way, once the configuration is
# reloaded, every new session is held to the directory, superusers
# included, before and after the library loads.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use GridflowTest;

my $dir = PostgreSQL::Test::Utils::tempdir();
mkdir "$dir/allowed" or die;
mkdir "$dir/outside" or die;
for my $d ('allowed', 'outside')
{
	open my $fh, '>', "$dir/$d/f.csv" or die;
	print $fh "a,b\n1,$d\n";
	close $fh;
}
# The library to preload: the installed one, or the copy an install into
# GRIDFLOW_DESTDIR made (which extension_destdir points CREATE EXTENSION
# at, but not the preloading of libraries)
my $library = 'gridflow';
if (($ENV{GRIDFLOW_DESTDIR} // '') ne '')
{
	my $pkglibdir = `pg_config --pkglibdir`;
	chomp $pkglibdir;
	$library = "$ENV{GRIDFLOW_DESTDIR}$pkglibdir/gridflow";
}

my $read_outside = "SELECT fields[2] FROM gridflow.read_csv('$dir/outside/f.csv')";
my $read_allowed = "SELECT fields[2] FROM gridflow.read_csv('$dir/allowed/f.csv')";

# What every new session sees once the setting is in place.
sub held_to_allowed
{
	my ($node, $what) = @_;
	is($node->safe_psql('postgres', $read_allowed), 'allowed', "$what: the allowed directory is read");
	my ($ret, $out, $err) = $node->psql('postgres', $read_outside);
	like($err, qr/resolves to .*which is not in gridflow.allowed_directories/,
		"$what: a file outside is refused");
	# a session that has not loaded gridflow yet shows the value too
	is($node->safe_psql('postgres', 'SHOW gridflow.allowed_directories'), "$dir/allowed",
		"$what: SHOW gives the value");
}

# 1. gridflow in shared_preload_libraries: ALTER SYSTEM in a fresh session
my $node = new_gridflow_node('preload', shared_preload_libraries => "'$library'");
is($node->safe_psql('postgres', $read_outside), 'outside', 'preload: no restriction at first');
$node->safe_psql('postgres', "ALTER SYSTEM SET gridflow.allowed_directories = '$dir/allowed'");
$node->reload;
held_to_allowed($node, 'preload');
# the setting is the superuser's: other roles cannot override it
$node->safe_psql('postgres', 'CREATE ROLE regress_reader LOGIN; GRANT pg_read_server_files TO regress_reader');
my ($ret, $out, $err) = $node->psql('postgres',
	"SET gridflow.allowed_directories = ''; $read_outside",
	extra_params => [ '-U', 'regress_reader' ]);
like($err, qr/permission denied to set parameter "gridflow.allowed_directories"/,
	'preload: another role cannot lift it');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET gridflow.allowed_directories');
$node->reload;
is($node->safe_psql('postgres', $read_outside), 'outside', 'preload: ALTER SYSTEM RESET lifts it');
$node->stop;

# 2. session_preload_libraries, the same without a restart
$node = new_gridflow_node('session_preload');
$node->safe_psql('postgres', "ALTER SYSTEM SET session_preload_libraries = '$library'");
$node->reload;
$node->safe_psql('postgres', "ALTER SYSTEM SET gridflow.allowed_directories = '$dir/allowed'");
$node->reload;
held_to_allowed($node, 'session_preload_libraries');
$node->stop;

# 3. neither: a session that has not loaded gridflow cannot name the
# setting (PostgreSQL 15's rule); LOAD 'gridflow' first, as the README says
$node = new_gridflow_node('no_preload');
($ret, $out, $err) = $node->psql('postgres',
	"ALTER SYSTEM SET gridflow.allowed_directories = '$dir/allowed'");
like($err, qr/unrecognized configuration parameter "gridflow.allowed_directories"/,
	'no preload: ALTER SYSTEM alone does not know the setting');
$node->safe_psql('postgres',
	"LOAD '$library';\nALTER SYSTEM SET gridflow.allowed_directories = '$dir/allowed'");
$node->reload;
held_to_allowed($node, "LOAD 'gridflow' first");
$node->stop;

done_testing();
