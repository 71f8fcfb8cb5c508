#!/usr/bin/env bash
# perl with a hash-heavy script.
source "$(dirname "$0")/common.sh"
need perl

workload() {
    cat >"$1/work.pl" <<'PL'
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

open(my $maps, '<', '/proc/self/maps') or die;
my $mapped = grep { /libsable/ } <$maps>;
close $maps;
print STDERR $mapped ? "libsable mapped\n" : "libsable NOT mapped\n";

my %h;
for my $i (1 .. 300000) {
    $h{"k$i"} = { n => $i, s => "v" x ($i % 40), l => [ 1 .. $i % 10 ] };
}
delete $h{"k$_"} for grep { $_ % 3 == 0 } 1 .. 300000;
my $ctx = Digest::MD5->new;
for my $k (sort keys %h) {
    my $v = $h{$k};
    $ctx->add($k, $v->{n}, $v->{s}, scalar @{ $v->{l} });
}
print "hash ", scalar(keys %h), " ", $ctx->hexdigest, "\n";

# word counts over generated text
my %count;
for my $i (1 .. 200000) {
    my $w = join '', map { chr(97 + ($i * $_) % 26) } 1 .. (1 + $i % 6);
    $count{$w}++;
}
my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 9];
print "words ", scalar(keys %count), " @top\n";

# string building and regexes
my $text = join "\n", map { "line $_: " . ("abc" x ($_ % 50)) } 1 .. 50000;
my @m = ($text =~ /line (\d+): (?:abc){10}\n/g);
print "regex ", scalar(@m), " ", md5_hex($text), "\n";
PL
    perl "$1/work.pl"
}

compare_runs
grep -q "libsable mapped" "$SCRATCH/sable/err" || fail "libsable.so was not mapped in perl"
