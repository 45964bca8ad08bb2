# 401/403 for one token: its events stay pending (not acknowledged, not
# dead-lettered), the error is logged, the token is left alone for
# --auth-retry-delay, and the other tokens are delivered meanwhile.

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
    { contains => '"api_key":"phc_BAD"', status => 401 },
    { contains => '"api_key":"phc_FORBIDDEN"', status => 403 },
]);

my @bad = add_events($r, 'phc_BAD', 30);
my @forb = add_events($r, 'phc_FORBIDDEN', 5);
my @good = add_events($r, 'phc_GOOD', 30);

my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
    args => ['--flush-interval', '50ms', '--batch-size', '10',
             '--auth-retry-delay', '4s', '--consumer', 'c1']);

ok(wait_for(sub { @{ $ph->delivered } >= 30 }, 10), 'the good token delivered')
    or diag $s->log;

# events of the bad token that arrive while it is blocked
push @bad, add_events($r, 'phc_BAD', 10);
push @good, add_events($r, 'phc_GOOD', 10);
ok(wait_for(sub { @{ $ph->delivered } >= 40 }, 10),
   'the good token still delivered while the other is blocked');

ok(wait_for(sub { (grep { $_->{status} eq '403' } @{ $ph->requests }) }, 5),
   'the 403 token was tried');
# a 4 s park: what came before here is well inside it, even on a slow machine
my @auth = grep { $_->{status} =~ /^40[13]$/ } @{ $ph->requests };
is(scalar(grep { $_->{status} == 401 } @auth), 1,
   'one 401: the token is not retried at once');
is(scalar(grep { $_->{status} == 403 } @auth), 1, 'one 403');

# the good token's last batch is recorded before its answer and XACK
ok(wait_for(sub { $r->cmd('XPENDING', $S, 'posthog-shipper')->[0] == 45 }, 5),
   'the 45 refused events stay pending');
is($r->cmd('XLEN', "$S:dead"), 0, 'nothing dead-lettered');

like($s->log, qr/error: token phc_BAD: PostHog answered 401 \(\{"type":"authentication_error".*\): unknown or invalid project token\? Its events stay pending; trying again in 4s/,
     'the 401 is logged as an error with the reason');
like($s->log, qr/error: token phc_FORBIDDE: PostHog answered 403/, 'the 403 too');

# after --auth-retry-delay the token is tried again; still refused
ok(wait_for(sub { (grep { $_->{status} eq '401' } @{ $ph->requests }) >= 2 },
            10), 'retried after --auth-retry-delay');
# the park began when the first 401 was answered, just after it was recorded
my @t = map { $_->{time} } grep { $_->{status} eq '401' } @{ $ph->requests };
cmp_ok($t[1] - $t[0], '>=', 3.9, 'not before');
is($r->cmd('XPENDING', $S, 'posthog-shipper')->[0], 45, 'still pending');

# the key gets fixed: everything comes through
$ph->script(rules => []);
ok(wait_for(sub { @{ $ph->delivered } >= 85 }, 15), 'all delivered after')
    or diag $s->log;
my %n;
$n{ $_->{uuid} }++ for @{ $ph->delivered };
is_deeply([sort keys %n], [sort @bad, @forb, @good], 'every event');
is(scalar(grep { $_ > 1 } values %n), 0, 'once');
ok(wait_for(sub { $r->cmd('XPENDING', $S, 'posthog-shipper')->[0] == 0 }, 5),
   'nothing pending');

is($s->stop, 0, 'exit 0');
like($s->log, qr/auth_failures=[3-9] /, 'auth failures counted');

done_testing;
