# Thousands of events in one flush: their XADDs go out pipelined, and
# all the replies are read, also when they arrive faster than one read
# takes them (hiredis reads 16 KB at a time; nginx's epoll events are
# edge-triggered and do not come again for what is left in the socket).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use HTTP::Tiny;
use PHTest;

my $N = 5000;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
posthog_redis %%REDIS%%;
posthog_buffer 64m flush=6s;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    posthog_capture all;

    location / { return 200 "<html>page</html>"; }
    %%STATUS%%
}
EOF

ok $t->wait_connected, 'connected';

# The requests go on keep-alive connections: all $N take about 0.5 s, a
# third of what a connection each takes, far less than the 6 s flush
# interval, so that they are all in the buffer when the flush timer fires.
my $http = HTTP::Tiny->new(keep_alive => 1, timeout => 10,
                           agent => $PHTest::BROWSER_UA);
my $url = 'http://127.0.0.1:' . $t->port('');
my $t0 = time;
my $served = grep { $http->get("$url/p/$_")->{status} == 200 } 1 .. $N;
my $took = time - $t0;
is $served, $N, "$N requests served";

my $s = $t->wait_status(buffered_events => $N);
is $s->{written}, 0, sprintf('nothing written before the flush timer '
                             . '(%d requests took %.1f s)', $N, $took);
is $s->{buffered_events}, $N, "$N events in the buffer, one flush";

# the flush timer fires 6 s after the first event
my $len = $t->redis->wait_len($N, timeout => 15);
is $len, $N, "all $N written";

# in the stream before the worker read all the replies
$s = $t->wait_status(written => $N, buffered_events => 0, -timeout => 10);
is $s->{written}, $N, "all $N acknowledged";
is $s->{buffered_events}, 0, 'buffer empty';
is $s->{redis_errors}, 0, 'no errors (no reply timeout)';

# the same with the replies held back: redis stopped while the XADDs
# are written, then all the replies at once

$t->redis->cmd('DEL', 'posthog:events');
$t->run(<<'EOF');
posthog_redis %%REDIS%% timeout=60s;
posthog_buffer 64m flush=10ms;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    posthog_capture all;

    location / { return 200 "<html>page</html>"; }
    %%STATUS%%
}
EOF

ok $t->wait_connected, 'connected';
my $written0 = $t->status->{written};
my ($worker) = $t->worker_pids;

# the XADDs wait in the sockets of a stopped redis; then the worker is
# stopped while redis answers them all: the replies pile up in the
# worker's socket and come with one edge when the worker continues
$t->redis->pause;
$t->get("/q/$_") for 1 .. 2000;
sleep 0.3;
kill 'STOP', $worker;
$t->redis->resume;
sleep 1;
kill 'CONT', $worker;

is $t->redis->wait_len(2000, timeout => 10), 2000, 'all 2000 written';
$s = $t->wait_status(written => $written0 + 2000, buffered_events => 0,
                     -timeout => 10);
is $s->{written} - $written0, 2000, 'all 2000 acknowledged';
is $s->{buffered_events}, 0, 'buffer empty';

$t->signal('QUIT');
unlike $t->error_log, qr/open socket|\[alert\]|\[crit\]/, 'no alerts';

done_testing;
