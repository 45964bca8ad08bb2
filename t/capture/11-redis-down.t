# Redis unavailable never slows a request: with Redis stopped when nginx
# starts, requests answer as fast as with Redis up; the events wait in
# the buffer and arrive when Redis comes; a Redis killed in the middle of
# a run and restarted gets the events too.  An outage is logged a few
# times, not once per request.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use List::Util qw(max sum);
use PHTest;

my $N = 200;

my $t = PHTest->new(redis => 1);

my $conf = <<'EOF';
posthog_redis %%REDIS%%;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    posthog_capture all;

    location / { return 200 "<html>page</html>"; }
    %%STATUS%%
}
EOF

sub run_requests {
    my ($tag) = @_;
    my @lat;
    for my $i (1 .. $N) {
        my ($r, $s) = $t->timed_get("/$tag/$i");
        die "status $r->{status}" unless $r->{status} == 200;
        push @lat, $s;
    }
    @lat = sort { $a <=> $b } @lat;
    return { max => $lat[-1], p50 => $lat[@lat / 2],
             p99 => $lat[int(@lat * 0.99)], avg => sum(@lat) / @lat };
}

sub ms { sprintf '%.2f ms', $_[0] * 1000 }

# baseline: Redis up

$t->run($conf);
my $up = run_requests('up');
is $t->redis->wait_len($N), $N, "$N events with redis up";

# Redis down when nginx starts

$t->stop_nginx;
$t->redis->stop;
$t->run($conf);

my $down = run_requests('down');
diag sprintf 'latency of %d requests, redis up: p50 %s p99 %s max %s; '
    . 'redis down: p50 %s p99 %s max %s', $N,
    ms($up->{p50}), ms($up->{p99}), ms($up->{max}),
    ms($down->{p50}), ms($down->{p99}), ms($down->{max});

# a request that waited for redis would take connect_timeout (1 s) or hang;
# the margin is for a busy 2-core CI box, where one request may stall
cmp_ok $down->{p99}, '<', 0.25, 'redis down: requests under 250 ms (p99)';
cmp_ok $down->{max}, '<', 0.9, 'redis down: none waited for connect_timeout';
# the medians are from two moments of a shared box
cmp_ok $down->{p50}, '<', $up->{p50} * 3 + 0.010,
    'redis down: median close to redis up';

my $s = $t->status;
is $s->{buffered_events}, $N, "$N events buffered";
is $s->{written}, 0, 'none written';
is $s->{redis_connected}, 0, 'no worker connected';

$t->redis->restart;            # an empty redis on the same port
is $t->redis->wait_len($N, timeout => 10), $N, 'all arrive after redis starts';

my %seen = map { $_->{event}{properties}{'$pathname'} => 1 }
           $t->redis->entries;
is scalar(grep { $seen{"/down/$_"} } 1 .. $N), $N, 'each request once';

# in the stream, not yet acknowledged: the replies may be on their way
$s = $t->wait_status(buffered_events => 0);
is $s->{buffered_events}, 0, 'buffer empty';
is $s->{redis_connected}, 1, 'connected again';
cmp_ok $s->{redis_reconnects}, '>', 0, 'reconnects counted';
cmp_ok $s->{redis_errors}, '>', 0, 'errors counted';
like $t->error_log, qr/available again after/, 'recovery logged';

# at most one "unavailable" line per 10 s per worker

my $lines = $t->log_count(qr/posthog: redis .* unavailable/);
cmp_ok $lines, '<=', 3, "outage logged $lines times, not per request";

# killed in the middle of a run, restarted

$t->redis->cmd('DEL', 'posthog:events');

for my $i (1 .. 100) {
    $t->get("/mid/$i");

    if ($i == 30) {
        is $t->redis->wait_len(30), 30, '30 written';
        $t->redis->stop;
    }

    $t->redis->restart if $i == 70;
}

# the new redis is empty: it gets 31..100, the buffered and the new ones
is $t->redis->wait_len(70, timeout => 10), 70,
    'killed and restarted: events after the kill arrive';

%seen = map { $_->{event}{properties}{'$pathname'} => 1 }
        $t->redis->entries;
is scalar(grep { $seen{"/mid/$_"} } 31 .. 100), 70, 'requests 31..100 there';

$s = $t->status;
is $s->{dropped_full} + $s->{dropped_redis} + $s->{dropped_exit}, 0,
    'nothing dropped';

$t->signal('QUIT');
unlike $t->error_log, qr/open socket|\[alert\]|\[crit\]/, 'no alerts';

done_testing;
