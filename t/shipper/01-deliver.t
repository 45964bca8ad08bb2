# Normal case: every event is delivered exactly once, grouped by token, in
# gzip-compressed /batch/ requests with a fresh sent_at; nothing stays pending.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Time::HiRes qw(sleep time);

use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(add_events wait_for);

my $r  = PHTest::Redis->start;
my $ph = PHTest::PostHog->start;

# some events before the shipper starts (the group is created from id 0)
my @a = add_events($r, 'phc_AAA', 150);

my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
    args => ['--batch-size', 40, '--flush-interval', '100ms']);

# and some while it runs
my @b = add_events($r, 'phc_BBB', 70);
push @a, add_events($r, 'phc_AAA', 30);

ok(wait_for(sub { @{ $ph->delivered } >= 250 }, 15), 'all 250 delivered')
    or diag $s->log;
sleep 0.5;    # nothing more must come

my $ev = $ph->delivered;
is(scalar @$ev, 250, 'exactly 250 events delivered');

my %seen;
$seen{ $_->{uuid} }++ for @$ev;
is_deeply([sort keys %seen], [sort @a, @b], 'the uuid sets are equal');
is(scalar(grep { $_ > 1 } values %seen), 0, 'no event delivered twice');

is(scalar(grep { $_->{_api_key} ne $_->{properties}{tok} } @$ev), 0,
   'each event in a request of its own token');

my $reqs = $ph->requests;
ok(@$reqs >= 7, 'batches of at most 40: ' . scalar(@$reqs) . ' requests');
is(scalar(grep { @{ $_->{json}{batch} } > 40 } @$reqs), 0,
   'no batch above --batch-size');

my $bad = 0;
for my $q (@$reqs) {
    $bad++ unless $q->{path} eq '/batch/'
        && $q->{method} eq 'POST'
        && ($q->{headers}{'content-encoding'} // '') eq 'gzip'
        && $q->{gzip_error} eq ''
        && ($q->{headers}{'content-type'} // '') eq 'application/json'
        && $q->{raw_length} < length $q->{body}
        && $q->{json}
        && $q->{json}{api_key} =~ /^phc_/
        && $q->{json}{sent_at} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
}
is($bad, 0, 'POST /batch/, gzip (smaller than the JSON), api_key, sent_at');

# sent_at is the shipper's clock at sending time
my $q = $reqs->[-1];
my ($Y, $M, $D, $h, $m, $sec) = $q->{json}{sent_at} =~
    /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+\.\d+)Z$/;
require Time::Local;
my $t = Time::Local::timegm(0, $m, $h, $D, $M - 1, $Y) + $sec;
ok(abs($t - $q->{time}) < 5, "sent_at is now ($q->{json}{sent_at})");

# the events are passed through byte for byte
like($q->{body}, qr/"batch":\[\{"distinct_id":"user-1","event":"\$pageview"/,
     'event JSON concatenated as written');

ok(wait_for(sub { $r->cmd('XPENDING', 'posthog:events', 'posthog-shipper')
                   ->[0] == 0 }, 5), 'nothing pending: all acknowledged');
is($r->cmd('XLEN', 'posthog:events:dead'), 0, 'no dead letters');

is($s->stop, 0, 'SIGTERM: exit 0');
like($s->log, qr/stats: read=250 delivered=250/, 'final stats line');
unlike($s->log, qr/\b(error|warn):/, 'no warnings or errors logged');

# --gzip off
my $ph2 = PHTest::PostHog->start;
my $s2 = PHTest::Shipper->start(redis => $r, posthog => $ph2,
    args => ['--gzip', 'off', '--flush-interval', '50ms']);
my @c = add_events($r, 'phc_CCC', 5);
ok(wait_for(sub { @{ $ph2->delivered } >= 5 }, 10), '--gzip off delivered');
my $r2 = $ph2->requests->[0];
ok(!exists $r2->{headers}{'content-encoding'}, 'no Content-Encoding');
is($r2->{raw_length}, length $r2->{body}, 'plain body');
is($s2->stop, 0, 'exit 0');

done_testing;
