#!/usr/bin/perl
# mkstore.pl POOL ROOT USERS FOLDERS PER [MODE]
#
# Builds a Maildir store for the benchmark out of the message files listed
# in POOL (one path a line): USERS users (u000, u001, ...), each with an
# INBOX and FOLDERS-1 folders (.f01, .f02, ...), PER messages in each.
# MODE "link" (the default) hard-links the files, so that a store of
# 100,000 messages takes seconds and no space; "copy" copies them.  A file
# keeps its base name and its directory (cur/ or new/).  The messages of a
# mailbox are consecutive files of the pool, starting where the previous
# mailbox stopped, wrapping around at the end.
use strict;
use warnings;
use File::Copy qw(copy);

die "usage: mkstore.pl POOL ROOT USERS FOLDERS PER [link|copy]\n"
    if @ARGV < 5;
my ($pool, $root, $users, $folders, $per, $mode) = @ARGV;
$mode //= 'link';

open(my $fh, '<', $pool) or die "mkstore.pl: $pool: $!\n";
chomp(my @files = <$fh>);
close($fh);
die "mkstore.pl: $pool: fewer than $per files\n" if @files < $per;

sub mkdirs {
	for my $d (@_) {
		next if -d $d;
		mkdir($d) or die "mkstore.pl: $d: $!\n";
	}
}

mkdirs($root);
my $k = 0;
for my $u (0 .. $users - 1) {
	my $home = sprintf('%s/u%03d', $root, $u);
	mkdirs($home, "$home/Maildir");
	for my $f (0 .. $folders - 1) {
		my $box = "$home/Maildir";
		$box .= sprintf('/.f%02d', $f) if $f > 0;
		mkdirs($box, "$box/cur", "$box/new", "$box/tmp");
		if ($f > 0) {
			open(my $mf, '>', "$box/maildirfolder")
			    or die "mkstore.pl: $box: $!\n";
			close($mf);
		}
		for my $j (0 .. $per - 1) {
			my $src = $files[$k++ % @files];
			my ($sub, $base) = $src =~ m{/(cur|new)/([^/]+)$}
			    or die "mkstore.pl: $src: not in cur/ or new/\n";
			my $dst = "$box/$sub/$base";
			my $ok = $mode eq 'copy' ? copy($src, $dst) :
			    link($src, $dst);
			$ok or die "mkstore.pl: $dst: $!\n";
		}
	}
}
