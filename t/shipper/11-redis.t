# Redis trouble: not there at start, restarted (without persistence: the group
# is made again), hung (SIGSTOP) past --redis-timeout, the stream deleted
# under the shipper. The shipper keeps running and delivers what is there.

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
my @fast = ('--flush-interval', '50ms', '--redis-timeout', '500ms');

$r->stop;
my $s = PHTest::Shipper->start(redis => $r, posthog => $ph, args => \@fast);
ok(wait_for(sub { $s->log =~ /error: redis connect 127\.0\.0\.1:\d+: Connection refused/ }, 5),
   'Redis down at start: logged');
sleep 0.3;
ok($s->alive, 'and still running');

$r->spawn;
my @u = add_events($r, 'phc_AAA', 10);
ok(wait_for(sub { @{ $ph->delivered } >= 10 }, 10), 'delivered once Redis is up')
    or diag $s->log;

# restart without persistence: stream and group are gone
$r->restart;
push @u, add_events($r, 'phc_AAA', 10);
ok(wait_for(sub { @{ $ph->delivered } >= 20 }, 10),
   'after a Redis restart: group made again, delivered') or diag $s->log;

# hung Redis
$r->pause;
sleep 1.2;
$r->resume;
push @u, add_events($r, 'phc_AAA', 10);
ok(wait_for(sub { @{ $ph->delivered } >= 30 }, 10), 'after a hung Redis')
    or diag $s->log;
like($s->log, qr/error: redis XREADGROUP: .*reconnecting/,
     'the timeout is logged');

# the stream deleted under the shipper
$r->cmd('DEL', 'posthog:events');
sleep 0.3;
push @u, add_events($r, 'phc_AAA', 10);
ok(wait_for(sub { @{ $ph->delivered } >= 40 }, 10), 'after DEL of the stream')
    or diag $s->log;

my %n;
$n{ $_->{uuid} }++ for @{ $ph->delivered };
is_deeply([sort keys %n], [sort @u], 'every event');
ok($s->alive, 'still running');
is($s->stop, 0, 'exit 0');

done_testing;
