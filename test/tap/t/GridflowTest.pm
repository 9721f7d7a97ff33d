
# Helpers shared by gridflow's TAP tests (run through test/tap.sh).

package GridflowTest;

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

use Exporter 'import';
our @EXPORT = qw(new_gridflow_node make_drop layers_fingerprint backend_fds file_offset
  wait_until temp_files start_in_background finish_background table_locks
  background_session citus_missing start_citus_cluster);

# A started node with the extension created in database "postgres".
sub new_gridflow_node
{
	my ($name, %conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf',
		join('', map { "$_ = $conf{$_}\n" } sort keys %conf))
	  if %conf;
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION gridflow');
	return $node;
}

# Why the Citus tests cannot run here (no citus.so in the server's library
# directory, or in GRIDFLOW_CITUS_LIBDIR), or undef when they can.
sub citus_missing
{
	my $libdir = $ENV{GRIDFLOW_CITUS_LIBDIR};
	if (!defined $libdir || $libdir eq '')
	{
		$libdir = `pg_config --pkglibdir`;
		chomp $libdir;
	}
	return -f "$libdir/citus.so" ? undef : "Citus not installed (no citus.so in $libdir)";
}

# A Citus coordinator and two workers, started (UTF8, Citus preloaded and
# created in database "postgres", gridflow from GRIDFLOW_DESTDIR when set),
# the coordinator and the workers in Citus' metadata, and gridflow created
# on the coordinator (Citus creates it on the workers).
sub start_citus_cluster
{
	my $destdir = $ENV{GRIDFLOW_DESTDIR};
	my @nodes;
	for my $name (qw(coordinator worker1 worker2))
	{
		my $node = PostgreSQL::Test::Cluster->new($name);
		$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
		$node->append_conf('postgresql.conf', "extension_destdir = '$destdir'")
		  if defined $destdir && $destdir ne '';
		$node->append_conf('postgresql.conf',
			"shared_preload_libraries = 'citus'\nmax_worker_processes = 8\nlog_statement = none");
		$node->start;
		$node->safe_psql('postgres', 'CREATE EXTENSION citus');
		push @nodes, $node;
	}
	my ($coord, @workers) = @nodes;
	$coord->safe_psql('postgres',
		sprintf("SELECT citus_set_coordinator_host('%s', %d)", $coord->host, $coord->port));
	$coord->safe_psql('postgres',
		sprintf("SELECT citus_add_node('%s', %d)", $_->host, $_->port))
	  for @workers;
	$coord->safe_psql('postgres', 'CREATE EXTENSION gridflow');
	return ($coord, @workers);
}

# A generated drop of the given scale (data/gridflow_gen), in a temporary
# directory.
sub make_drop
{
	my ($scale) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $gen = $ENV{GRIDFLOW_GEN} or die "GRIDFLOW_GEN is not set";
	system_or_bail($gen, '-s', $scale, $dir);
	return $dir;
}

# Row count and a hash of the rows of every layer table and of the build
# log: equal before and after means the layers were left as they were.
sub layers_fingerprint
{
	my ($node) = @_;
	my @tables = qw(landing.source_record landing.reject
	  standardized.service_point standardized.meter
	  standardized.meter_assignment standardized.interval_read
	  product.usage_interval experience.daily_usage
	  gridflow.batch gridflow.build);
	my $sql = join("\nUNION ALL ",
		map {
			"SELECT '$_' AS t, count(*) AS n, "
			  . "coalesce(sum(hashtext(x::text)::bigint), 0) AS h FROM $_ x"
		} @tables);
	return $node->safe_psql('postgres',
		"SELECT string_agg(t || '=' || n || '/' || h, ' ' ORDER BY t) FROM ($sql) s");
}

# The offset of backend $pid in $file (the furthest, if it has the file
# open more than once), from /proc; undef when it does not have it open.
sub file_offset
{
	my ($pid, $file) = @_;
	my $offset;
	opendir(my $dh, "/proc/$pid/fd") or return undef;
	for my $fd (grep { /^\d+$/ } readdir $dh)
	{
		next unless (readlink("/proc/$pid/fd/$fd") // '') eq $file;
		open my $fh, '<', "/proc/$pid/fdinfo/$fd" or next;
		my ($pos) = map { /^pos:\s+(\d+)/ ? $1 : () } <$fh>;
		$offset = $pos if defined $pos && (!defined $offset || $pos > $offset);
	}
	closedir $dh;
	return $offset;
}

# What the file descriptors of process $pid point to.
sub backend_fds
{
	my ($pid) = @_;
	my @targets;
	opendir(my $dh, "/proc/$pid/fd") or return ();
	for my $fd (readdir $dh)
	{
		next if $fd =~ /^\./;
		my $t = readlink("/proc/$pid/fd/$fd");
		push @targets, $t if defined $t;
	}
	closedir $dh;
	return @targets;
}

# Files in the node's temporary-file directories.
sub temp_files
{
	my ($node) = @_;
	my @files = glob($node->data_dir . '/base/pgsql_tmp/*');
	return @files;
}

# Poll $cond every 10 ms until it returns true; false after $seconds.
sub wait_until
{
	my ($cond, $seconds) = @_;
	$seconds //= $PostgreSQL::Test::Utils::timeout_default;
	my $deadline = time + $seconds;
	while (time < $deadline)
	{
		return 1 if $cond->();
		usleep(10_000);
	}
	return 0;
}

# The locks backend $pid holds on tables, as "schema.table mode" keys.
sub table_locks
{
	my ($node, $pid) = @_;
	my $rows = $node->safe_psql(
		'postgres', qq{
		SELECT relation::regclass || ' ' || mode FROM pg_locks
		 WHERE pid = $pid AND locktype = 'relation' AND granted});
	return map { $_ => 1 } split /\n/, $rows;
}

# A background psql session that goes on after errors, each query with
# its own timeout.
sub background_session
{
	my ($node) = @_;
	my $session = $node->background_psql('postgres', on_error_stop => 0);
	$session->set_query_timer_restart();
	return $session;
}

# Send $sql to a background psql session without waiting for it to end
# (psql prints "started" just before running it).
sub start_in_background
{
	my ($session, $sql) = @_;
	$session->{stderr} = '';
	$session->query_until(qr/started/, "\\echo started\n$sql;\n");
	return;
}

# Wait for what start_in_background sent to end; returns its stdout and
# stderr (the error, if it failed).
sub finish_background
{
	my ($session) = @_;
	my ($out) = $session->query('SELECT 1');
	my $err = $session->{stderr};
	$session->{stderr} = '';
	$out =~ s/\n?1$//;
	return ($out, $err);
}

1;
