#!/usr/bin/perl
# The release files agree: META.json is valid for PGXN (meta-spec 1.0.0:
# required keys, semantic versions, a known license) and its version, the
# version of the extension it provides, gridflow.control's default_version
# and the Makefile's EXTVERSION are one version, which CHANGELOG.md has a
# section for.  "make metacheck" (part of "make unitcheck") runs it on the
# project, then on copies with one version changed, which must fail.
use strict;
use warnings;
use JSON::PP;
use File::Temp qw(tempdir);
use File::Copy qw(copy);

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', $path) or return undef;
	local $/;
	return <$fh>;
}

# The problems of the release files in $dir (an empty list: none).
sub problems
{
	my ($dir) = @_;
	my @p;
	my $json = slurp("$dir/META.json");
	return ("META.json is missing") unless defined $json;
	my $meta = eval { JSON::PP->new->decode($json) };
	return ("META.json is not JSON: $@") unless $meta;
	for my $key (qw(name abstract version maintainer license provides meta-spec))
	{
		push @p, "META.json has no \"$key\"" unless exists $meta->{$key};
	}
	return @p if @p;
	my $semver = qr/^\d+\.\d+\.\d+(?:-[0-9A-Za-z-]+)?$/;
	push @p, "META.json: meta-spec version is not 1.0.0"
	  unless ($meta->{'meta-spec'}{version} // '') eq '1.0.0';
	push @p, "META.json: version \"$meta->{version}\" is not a semantic version"
	  unless $meta->{version} =~ $semver;
	my %licenses = map { $_ => 1 }
	  qw(agpl_3 apache_1_1 apache_2_0 artistic_1 artistic_2 bsd gpl_1 gpl_2 gpl_3
	  lgpl_2_1 lgpl_3_0 mit mozilla_1_0 mozilla_1_1 openssl perl_5 postgresql qpl_1_0
	  ssleay sun zlib open_source restricted unrestricted unknown);
	push @p, "META.json: license \"$meta->{license}\" is not one PGXN knows"
	  unless !ref $meta->{license} && $licenses{ $meta->{license} };
	my $ext = $meta->{provides}{gridflow};
	if (!$ext)
	{
		push @p, "META.json does not provide gridflow";
	}
	else
	{
		for my $key (qw(file version))
		{
			push @p, "META.json: provides.gridflow has no \"$key\"" unless $ext->{$key};
		}
		push @p, "META.json: provides.gridflow.file \"$ext->{file}\" does not exist"
		  if $ext->{file} && !-e "$dir/$ext->{file}";
		push @p, "META.json: provides.gridflow.version differs from version"
		  if ($ext->{version} // '') ne $meta->{version};
	}
	my $control = slurp("$dir/gridflow.control") // '';
	my ($default) = $control =~ /^default_version\s*=\s*'([^']*)'/m;
	push @p, "gridflow.control has no default_version" unless defined $default;
	push @p, "META.json version $meta->{version} differs from gridflow.control's default_version $default"
	  if defined $default && $default ne $meta->{version};
	my $makefile = slurp("$dir/Makefile") // '';
	my ($extversion) = $makefile =~ /^EXTVERSION\s*=\s*(\S+)/m;
	push @p, "Makefile: EXTVERSION ($extversion) differs from META.json's version $meta->{version}"
	  if !defined $extversion || $extversion ne $meta->{version};
	my $changelog = slurp("$dir/CHANGELOG.md") // '';
	push @p, "CHANGELOG.md has no section for $meta->{version}"
	  unless $changelog =~ /^## (?:Unreleased \()?\Q$meta->{version}\E\)?\s*$/m;
	push @p, "LICENSE is missing" unless -s "$dir/LICENSE";
	return @p;
}

my $top = shift // '.';
my @p = problems($top);
if (@p)
{
	print STDERR "metacheck: $_\n" for @p;
	exit 1;
}

# The check itself: a copy whose META.json, control file or Makefile says
# another version must fail.
my $checks = 0;
for my $file (qw(META.json gridflow.control Makefile))
{
	my $tmp = tempdir(CLEANUP => 1);
	copy("$top/$_", "$tmp/$_") or die "copy $_: $!"
	  for qw(META.json gridflow.control Makefile CHANGELOG.md LICENSE);
	my $text = slurp("$tmp/$file");
	$text =~ s/(\d+)\.(\d+)\.(\d+)/$1.$2.@{[$3 + 1]}/ or die "no version in $file";
	open(my $fh, '>', "$tmp/$file") or die;
	print $fh $text;
	close $fh;
	die "metacheck: a copy with another version in $file passed\n" unless problems($tmp);
	$checks++;
}
my $version = decode_json(slurp("$top/META.json"))->{version};
print "metacheck: META.json, gridflow.control, Makefile and CHANGELOG.md agree on $version ($checks mismatches caught)\n";
