# A status that is neither success, nor transient (network, 408, 429, 5xx),
# nor 400/413 (split, dead letter), nor 401/403: e.g. a 404 from a wrong
# --host, a 405, a 3xx redirect that libcurl does not follow. PostHog's SDKs
# do not retry those; the shipper must not lose them either: the token is
# parked like after a 401 (events pending, not dead-lettered, an error line
# with the status and the answer), and tried again after --auth-retry-delay.

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
my $S  = 'posthog:events';
my $ph = PHTest::PostHog->start(rules => [
    { contains => '"api_key":"phc_LOST"', status => 404,
      body => '{"detail":"Not found: /batch/"}' },
    { contains => '"api_key":"phc_MOVED"', status => 301 },
]);

my @lost  = add_events($r, 'phc_LOST', 20);
my @moved = add_events($r, 'phc_MOVED', 5);
my @good  = add_events($r, 'phc_GOOD', 20);

my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
    args => ['--flush-interval', '50ms', '--retry-delay', '20ms',
             '--max-retry-delay', '50ms', '--auth-retry-delay', '4s',
             '--consumer', 'c1']);

ok(wait_for(sub { @{ $ph->delivered } >= 20
                  && (grep { $_->{status} eq '301' } @{ $ph->requests }) },
            10), 'the good token delivered, the others tried')
    or diag $s->log;
# time for fast retries to show; the 4 s park leaves room for a slow machine
sleep 1;

my @reqs = @{ $ph->requests };
is(scalar(grep { $_->{status} eq '404' } @reqs), 1,
   'one 404: not retried on the fast schedule') or diag $s->log;
is(scalar(grep { $_->{status} eq '301' } @reqs), 1, 'one 301');
# the good token's batch is recorded before its answer and XACK
ok(wait_for(sub { $r->cmd('XPENDING', $S, 'posthog-shipper')->[0] == 25 }, 5),
   'their 25 events stay pending');
is($r->cmd('XLEN', "$S:dead"), 0, 'nothing dead-lettered');

like($s->log, qr/error: token phc_LOST: 20 events: PostHog answered 404 \(\{"detail":"Not found: \/batch\/"\}\), not retryable as is: wrong --host \(http:\S+\/batch\/\)/,
     'an error line with the status, the answer and the URL');
like($s->log, qr/error: token phc_MOVED: 5 events: PostHog answered 301/,
     'the 301 too');
unlike($s->log, qr/retry \d+ in/, 'no fast retries');

# fixed (say, a proxy put right): delivered after --auth-retry-delay
$ph->script(rules => []);
ok(wait_for(sub { @{ $ph->delivered } >= 45 }, 10), 'all delivered after')
    or diag $s->log;
# the park began when the 404 was answered, just after it was recorded
my @t = map { $_->{time} }
        grep { $_->{json} && $_->{json}{api_key} eq 'phc_LOST' }
        @{ $ph->requests };
cmp_ok($t[1] - $t[0], '>=', 3.9, 'not before --auth-retry-delay');
my %n;
$n{ $_->{uuid} }++ for @{ $ph->delivered };
is_deeply([sort keys %n], [sort @lost, @moved, @good], 'every event');
is(scalar(grep { $_ > 1 } values %n), 0, 'once');
ok(wait_for(sub { $r->cmd('XPENDING', $S, 'posthog-shipper')->[0] == 0 }, 5),
   'nothing pending');
is($s->stop, 0, 'exit 0');
like($s->log, qr/http_4xx=1 .*http_other=1 /, 'counted by class');

done_testing;
