# Transient failures (503, 500, 429 with Retry-After, a closed connection, a
# request that never gets an answer) are retried with backoff until PostHog
# takes the batch: nothing lost, nothing acknowledged early, and each attempt
# carries a fresh sent_at.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Time::HiRes qw(time sleep);

use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(add_events wait_for);

my $r  = PHTest::Redis->start;
my $ph = PHTest::PostHog->start(queue => [
    503, 'hang', 500, { status => 429, retry_after => 1 }, 'close', 408,
]);

my @u = add_events($r, 'phc_AAA', 20);

my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
    args => ['--flush-interval', '50ms', '--retry-delay', '50ms',
             '--max-retry-delay', '200ms', '--timeout', '500ms']);

ok(wait_for(sub { @{ $ph->delivered } >= 20 }, 15), 'delivered in the end')
    or diag $s->log;

my $reqs = $ph->requests;
is(scalar @$reqs, 7, '6 failed attempts, then the 7th succeeded');
is_deeply([map { $_->{status} } @$reqs],
          [503, 'hang', 500, 429, 'close', 408, 200], 'in the scripted order');

my @sets = map { join ',', sort map { $_->{uuid} } @{ $_->{json}{batch} } }
           @$reqs;
is(scalar(grep { $_ eq $sets[0] } @sets), 7, 'every attempt: the same events');
is_deeply([sort split /,/, $sets[0]], [sort @u], '... all 20 of them');

# libcurl itself resends at once, on a new connection, a request whose reused
# connection was closed without an answer: the 'close' and the 408 are one
# attempt of the shipper, with one body
my @sent = map { $_->{json}{sent_at} } @$reqs;
is($sent[4], $sent[5], "libcurl's own resend after 'close': same body");
splice @sent, 5, 1;
my %distinct = map { $_ => 1 } @sent;
is(scalar keys %distinct, 6, 'a fresh sent_at on every attempt of the shipper');
is_deeply(\@sent, [sort @sent], 'sent_at increases');

my $gap = $reqs->[4]{time} - $reqs->[3]{time};
ok($gap >= 0.95, sprintf 'Retry-After: 1 honoured (%.2fs > the 200ms cap)',
   $gap);

my $g1 = $reqs->[1]{time} - $reqs->[0]{time};
ok($g1 < 0.5, sprintf 'backoff short as configured (%.2fs)', $g1);

my $log = $s->log;
like($log, qr/warn: token phc_AAA: 20 events: transient 503 \(.*\); retry 1/,
     'a 503 is logged with its status and body');
like($log, qr/transient 429 .*honouring Retry-After/, 'the 429 too');
like($log, qr/network error: .*(timed out|Timeout)/i, 'the hang: a timeout');

# the stand-in records a request before it answers; the XACK comes after
ok(wait_for(sub { $r->cmd('XPENDING', 'posthog:events', 'posthog-shipper')
                   ->[0] == 0 }, 5), 'acknowledged after the 2xx');
is($s->stop, 0, 'exit 0');
like($s->log, qr/retried=100 .*requests=6 /,
     'counters: 6 requests, 5 failed attempts x 20 events');

# a stopped PostHog (connection refused) for a while, then back
my $ph2 = PHTest::PostHog->start(default => 503);
# added first: read in one go, all 30 pending from the first attempt on
my @v = add_events($r, 'phc_BBB', 30);
my $s2 = PHTest::Shipper->start(redis => $r, posthog => $ph2,
    args => ['--flush-interval', '50ms', '--retry-delay', '20ms',
             '--max-retry-delay', '100ms']);
ok(wait_for(sub { @{ $ph2->requests } >= 5 }, 10), 'retrying 503s');
is($r->cmd('XPENDING', 'posthog:events', 'posthog-shipper')->[0], 30,
   'meanwhile all 30 pending');
$ph2->script(default => 200);
ok(wait_for(sub { @{ $ph2->delivered } >= 30 }, 10), 'delivered after');
is(scalar @{ $ph2->delivered }, 30, 'once each');
is($s2->stop, 0, 'exit 0');

done_testing;
