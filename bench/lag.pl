#!/usr/bin/perl
# lag.pl MASTER REPLICA LOG RATE SECONDS BOXES OUT
#
# The rolling-lag load: for SECONDS seconds, RATE times a second, delivers
# one message to a mailbox of MASTER (tmp/ then rename into new/, as a
# delivery agent does) and logs "APPEND mailbox" to LOG through sync-relog,
# then notes the time.  Meanwhile it watches REPLICA for every message
# delivered and notes when its file appears in cur/.  BOXES is a file of
# "directory<TAB>mailbox name" lines (the directory relative to both
# stores) to deliver to, in turn.  Writes one lag in seconds a line to OUT;
# a message not seen 30 s after the last delivery is written as "lost".
use strict;
use warnings;
use Time::HiRes qw(time sleep);

die "usage: lag.pl MASTER REPLICA LOG RATE SECONDS BOXES OUT\n"
    if @ARGV != 7;
my ($master, $replica, $log, $rate, $secs, $boxes, $out) = @ARGV;

open(my $bf, '<', $boxes) or die "lag.pl: $boxes: $!\n";
my @boxes = map { chomp; [split /\t/] } <$bf>;
close($bf);

my $body = "From: bench\@test.invalid\nSubject: lag probe\n\n" .
    ("x" x 2000) . "\n";
my (@pending, @lags);
my $seq = 0;

sub deliver {
	my ($dir, $name) = @{$boxes[$seq % @boxes]};
	my $base = sprintf('%d.M%dP%dQ%d.lagprobe', time, $seq, $$, $seq);
	my $tmp = "$master/$dir/tmp/$base";
	open(my $fh, '>', $tmp) or die "lag.pl: $tmp: $!\n";
	print $fh $body;
	close($fh) or die "lag.pl: $tmp: $!\n";
	rename($tmp, "$master/$dir/new/$base")
	    or die "lag.pl: $master/$dir/new/$base: $!\n";
	open(my $rl, '|-', 'sync-relog', $log) or die "lag.pl: sync-relog: $!\n";
	print $rl "APPEND $name\n";
	close($rl) or die "lag.pl: sync-relog failed\n";
	push @pending, ["$replica/$dir/cur/$base:2,", time];
	$seq++;
}

sub watch {
	my $now = time;

	@pending = grep {
		if (-e $_->[0]) {
			push @lags, $now - $_->[1];
			0;
		} else {
			1;
		}
	} @pending;
}

my $t0 = time;
my $n = int($rate * $secs);
for my $i (0 .. $n - 1) {
	my $due = $t0 + $i / $rate;
	while (time < $due) {
		watch();
		sleep(0.002);
	}
	deliver();
}
my $end = time + 30;
while (@pending && time < $end) {
	watch();
	sleep(0.002);
}
open(my $of, '>', $out) or die "lag.pl: $out: $!\n";
printf $of "%.4f\n", $_ for @lags;
print $of "lost\n" for @pending;
close($of);
