# Counters: Prometheus text on --metrics-port, the periodic stats line; and
# --replay-dead, which moves dead letters back into the stream.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use HTTP::Tiny;
use Test::More;

use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(add_events wait_for run_shipper);

my $r  = PHTest::Redis->start;
my $ph = PHTest::PostHog->start(queue => [503],
    rules => [{ contains => 'POISON', status => 400 }]);
my $port = PHTest::Redis::free_port();

my @u = add_events($r, 'phc_AAA', 10);
add_events($r, 'phc_AAA', 1, props => { x => 'POISON' });

my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
    log_level => 'info',
    args => ['--metrics-port', $port, '--flush-interval', '50ms',
             '--shutdown-timeout', '200ms',
             '--retry-delay', '20ms', '--stats-interval', '300ms']);

ok(wait_for(sub { $r->cmd('XLEN', 'posthog:events:dead') == 1
                  && @{ $ph->delivered } == 10 }, 10), 'delivered')
    or diag $s->log;

# the stand-in records the last request before it answers; the shipper
# counts and acknowledges it after; the group's gauges are those of the
# loop's last XINFO (a scrape never asks Redis): scrape until all caught up
my $http = HTTP::Tiny->new(timeout => 3);
my ($res, $m, %v);
wait_for(sub {
    $res = $http->get("http://127.0.0.1:$port/metrics");
    $m = $res->{content};
    %v = $m =~ /^(posthog_shipper_\w+(?:\{[^}]*\})?) (-?\d+)$/mg;
    ($v{posthog_shipper_events_delivered_total} // -1) == 10
        && ($v{posthog_shipper_group_pending} // -1) == 0
        && ($v{posthog_shipper_group_lag} // -1) == 0;
}, 5);
is($res->{status}, 200, '/metrics: 200');
like($res->{headers}{'content-type'}, qr{^text/plain; version=0.0.4},
     'Prometheus text format');
is($v{posthog_shipper_events_read_total}, 11, 'read 11');
is($v{posthog_shipper_events_delivered_total}, 10, 'delivered 10');
is($v{posthog_shipper_events_dead_lettered_total}, 1, 'dead-lettered 1');
is($v{posthog_shipper_events_retried_total}, 11, 'retried 11 (the 503)');
is($v{'posthog_shipper_responses_total{class="5xx"}'}, 1, '5xx: 1');
ok($v{'posthog_shipper_responses_total{class="4xx"}'} >= 1, '4xx: the 400s');
ok($v{'posthog_shipper_responses_total{class="2xx"}'} >= 2, '2xx');
is($v{posthog_shipper_group_pending}, 0, 'pending 0');
is($v{posthog_shipper_group_lag}, 0, 'lag 0');
is($v{posthog_shipper_stream_length}, 11, 'stream length 11');
is($v{posthog_shipper_redis_connected}, 1, 'connected');
like($m, qr/^# TYPE posthog_shipper_events_delivered_total counter$/m,
     'TYPE lines');
like($m, qr/^# HELP posthog_shipper_group_lag /m, 'HELP lines');

is($http->get("http://127.0.0.1:$port/other")->{status}, 404, 'other: 404');

ok(wait_for(sub { $s->log =~ /info: stats: read=11 delivered=10 retried=11 dead_lettered=1 trimmed=0 claimed=0 batches=\d+ requests=\d+ http_2xx=\d+ http_4xx=\d+ http_5xx=1 .*pending=0 lag=0/ }, 5),
   'the periodic stats line');

# a scrape is answered from memory, never from Redis (a blocking XINFO
# there would stall the loop while a request is in flight)
$r->cmd('CONFIG', 'RESETSTAT');
$http->get("http://127.0.0.1:$port/metrics") for 1 .. 20;
# (Redis 7 counts subcommands as "xinfo|groups")
my $info = $r->cmd('INFO', 'commandstats');
my $xinfo = 0;
$xinfo += $1 while $info =~ /^cmdstat_xinfo(?:\|groups)?:calls=(\d+)/mg;
like($info, qr/^cmdstat_/m, 'INFO commandstats read');
cmp_ok($xinfo, '<', 20, "20 scrapes, $xinfo XINFO: scrapes do not ask Redis");

# metrics are served while a request hangs
$ph->script(default => 'hang');
add_events($r, 'phc_AAA', 1);
ok(wait_for(sub { $ph->requests->[-1]{status} eq 'hang' }, 5), 'hanging');
my $t0 = Time::HiRes::time();
$res = $http->get("http://127.0.0.1:$port/metrics");
is($res->{status}, 200, '/metrics answered while a request hangs');
ok(Time::HiRes::time() - $t0 < 1, 'promptly');
like($res->{content}, qr/^posthog_shipper_held_events 1$/m, 'held 1');

is($s->stop, 0, 'exit 0');

# --replay-dead: the dead letter back into the stream, delivered once the
# rule is gone
$ph->script(default => 200);
my ($rc, $out, $err) = run_shipper('--redis', $r->addr, '--replay-dead');
is($rc, 0, '--replay-dead: exit 0');
like($err, qr/replayed 1 dead-letter entries from posthog:events:dead to posthog:events/,
     'says what it did');
is($r->cmd('XLEN', 'posthog:events:dead'), 0, 'the dead-letter stream is empty');

my $s2 = PHTest::Shipper->start(redis => $r, posthog => $ph,
    args => ['--flush-interval', '50ms']);
ok(wait_for(sub { grep { $_->{properties}{x} && $_->{properties}{x} eq 'POISON' }
                  @{ $ph->delivered } }, 10), 'the replayed event delivered');
is($s2->stop, 0, 'exit 0');

done_testing;
