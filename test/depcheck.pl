#!/usr/bin/perl
# The map of the C code is honest ("make depcheck", after "make"):
#
# - data flows one way: from the symbols each object file defines and
#   uses, no module calls, directly or not, a module that calls it;
# - the single-database build and the ingest (build.o, ingest.o and all
#   they use) use nothing of the distributed code (distribute.o, shard.o);
# - every extern function or variable of a header is defined by the file
#   its block names ("/* name.c: ..." or " * name.c: ..."; a header
#   without such blocks declares the functions of its own .c file).
#
# Prints which module calls which.  Exits non-zero on any problem.
use strict;
use warnings;

my $top = shift // '.';
chdir $top or die "depcheck: $top: $!";
my @objs = sort glob('src/*.o');
die "depcheck: no object files in src/ (run make first)\n" unless @objs;
my (%defined_in, %uses, @problems);
for my $o (@objs)
{
	(my $m = $o) =~ s{^src/(.*)\.o$}{$1};
	for (`nm -g --defined-only $o`)
	{
		$defined_in{$1} = $m if /^\S*\s+[A-Za-z]\s+(\S+)$/;
	}
}
for my $o (@objs)
{
	(my $m = $o) =~ s{^src/(.*)\.o$}{$1};
	$uses{$m} = {};
	for (`nm -u $o`)
	{
		next unless /^\s*U\s+(\S+)$/;
		my $d = $defined_in{$1};
		$uses{$m}{$d} = 1 if defined $d && $d ne $m;
	}
}

# cycles
my %state;
my @stack;
sub visit
{
	my ($m) = @_;
	$state{$m} = 1;
	push @stack, $m;
	for my $d (sort keys %{ $uses{$m} })
	{
		if (($state{$d} // 0) == 1)
		{
			my @cycle = (@stack[(grep { $stack[$_] eq $d } 0 .. $#stack)[0] .. $#stack], $d);
			push @problems, "modules call each other: " . join(' -> ', @cycle);
		}
		visit($d) unless $state{$d};
	}
	pop @stack;
	$state{$m} = 2;
}
visit($_) for grep { !$state{$_} } sort keys %uses;

# the single-database build without the distributed code
sub closure
{
	my %seen;
	my @todo = @_;
	while (defined(my $m = shift @todo))
	{
		for my $d (keys %{ $uses{$m} || {} })
		{
			push @todo, $d unless $seen{$d}++;
		}
	}
	return \%seen;
}
for my $m (qw(build ingest))
{
	my $c = closure($m);
	for my $d (qw(distribute shard))
	{
		push @problems, "$m.c uses $d.c (through " . join(', ', sort keys %$c) . ")" if $c->{$d};
	}
}

# the headers' blocks
for my $h (sort glob('src/*.h'))
{
	(my $own = $h) =~ s{^src/(.*)\.h$}{$1};
	my $file = $own;
	my $text = do { local $/; open(my $fh, '<', $h) or die; <$fh> };
	$text =~ s/\n\t+/ /g;    # declarations on one line
	for my $line (split /\n/, $text)
	{
		if ($line =~ m{^(?:/\*| \*) (\w+)\.c\b[: ]})
		{
			$file = $1;
			next;
		}
		next unless $line =~ /^extern\b/;
		next if $line =~ /^extern\s+"C"/;
		my $name;
		if ($line =~ /(\w+)\s*\(/ && $line !~ /\(\s*\*\s*\w+\s*\)/)
		{
			$name = $1;
		}
		elsif ($line =~ /(\w+)\s*(?:\[[^\]]*\])?\s*;/)
		{
			$name = $1;
		}
		next unless defined $name;
		my $d = $defined_in{$name};
		if (!defined $d)
		{
			push @problems, "$h declares $name under $file.c, but no object file defines it";
		}
		elsif ($d ne $file)
		{
			push @problems, "$h declares $name under $file.c, but $d.c defines it";
		}
	}
}

for my $m (sort keys %uses)
{
	printf "%-14s -> %s\n", $m, join(' ', sort keys %{ $uses{$m} });
}
if (@problems)
{
	print STDERR "depcheck: $_\n" for @problems;
	exit 1;
}
printf "depcheck: %d modules, no cycle; build.c and ingest.c use neither distribute.c nor shard.c; every header block names the file that defines it\n",
  scalar(@objs);
