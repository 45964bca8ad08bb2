# The writer with a level-triggered event method (poll): the same
# results as with epoll, and no busy loop on a writable socket.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use PHTest;

my $t = PHTest->new(redis => 1);

# Debian's nginx has epoll only: nginx -t says 'invalid event type "poll"'.
# That alone is a skip, and not even that with PH_REQUIRE_POLL=1 (make
# test-asan builds nginx with the poll module); any other failure of
# nginx -t is a failure of this test.
my ($ok, $out) = $t->conf_test('', events => 'use poll;');
unless ($ok) {
    my $no_poll = $out =~ /invalid event type "poll"/;
    plan skip_all => 'this nginx has no poll module'
        if $no_poll && !$ENV{PH_REQUIRE_POLL};
    fail($no_poll ? 'this nginx has no poll module, and PH_REQUIRE_POLL=1'
                  : 'nginx -t with "use poll;"');
    diag $out;
    done_testing;
    exit;
}

$t->run(<<'EOF', events => 'use poll;');
posthog_redis %%REDIS%% timeout=30s;
posthog_buffer 4m flush=20ms;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    posthog_capture all;

    location / { return 200 "<html>page</html>"; }
    %%STATUS%%
}
EOF

like $t->error_log, qr/using the "poll" event method/, 'poll';
ok $t->wait_connected, 'connected';

$t->get("/p/$_") for 1 .. 500;
is $t->redis->wait_len(500), 500, '500 written';

# idle: the worker must not spin on its writable redis socket
my ($worker) = $t->worker_pids;
sub cpu_ticks {
    open my $fh, '<', "/proc/$_[0]/stat" or return 0;
    my @f = split ' ', (split /\) /, <$fh>)[1];
    return $f[11] + $f[12];
}
my $c0 = cpu_ticks($worker);
sleep 1;
my $used = cpu_ticks($worker) - $c0;
cmp_ok $used, '<', 10, "idle worker used $used ticks in 1 s";

# stopped, then all the replies at once
$t->redis->pause;
$t->get("/q/$_") for 1 .. 1000;
sleep 0.2;
$t->redis->resume;
is $t->redis->wait_len(1500), 1500, 'all 1500 written';
# in the stream before the worker read all the replies
is $t->wait_status(buffered_events => 0, -timeout => 10)->{buffered_events},
    0, 'buffer empty';

# redis restarted
$t->redis->restart;
$t->get("/r/$_") for 1 .. 50;
is $t->redis->wait_len(50), 50, 'after a restart';

$t->signal('QUIT');

done_testing;
