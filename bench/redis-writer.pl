#!/usr/bin/perl
# The Redis writer under load: requests/s of nginx without the module's
# capture, with capture into a live Redis, and with Redis stopped; and
# how many events/s reach the stream.  Prints ratios; wall-clock numbers
# depend on the machine and on what else runs on it.
#
#   perl bench/redis-writer.pl [seconds] [connections]

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Time::HiRes qw(sleep time);
use PHTest;

my $secs = shift // 5;
my $conns = shift // 32;
my $workers = 2;

my $t = PHTest->new(redis => 1, workers => $workers, log_level => 'warn');

sub conf {
    my ($capture) = @_;
    return <<"EOF";
posthog_redis %%REDIS%% maxlen=0;
posthog_buffer 8m;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog $capture;
    posthog_api_key phc_bench;
    posthog_capture all;
    access_log off;

    location / { return 200 "<html>page</html>"; }
    location = /status { posthog off; posthog_status; }
}
EOF
}

sub wrk {
    my $port = $t->port('');
    my $out = `wrk -t2 -c$conns -d${secs}s http://127.0.0.1:$port/page 2>&1`;
    my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    my ($n) = $out =~ /(\d+) requests in/;
    my ($p99) = $out =~ /99%\s+([\d.]+\w+)/;
    my ($lat) = $out =~ /Latency\s+([\d.]+\w+)/;
    die "wrk: $out" unless $rps;
    return { rps => $rps, n => $n, lat => $lat };
}

# bare: the module loaded, capture off
$t->run(conf('off'));
sleep 0.5;
my $bare = wrk();
printf "capture off:          %8.0f req/s  avg latency %s\n", $bare->{rps},
    $bare->{lat};

# capture into redis
$t->run(conf('on'));
sleep 0.5;
$t->redis->cmd('DEL', 'posthog:events');
my $t0 = time;
my $on = wrk();
my $len = $t->redis->wait_len($on->{n}, timeout => 30);
my $took = time - $t0;
printf "capture, redis up:    %8.0f req/s  avg latency %s  (%.2f of off)\n",
    $on->{rps}, $on->{lat}, $on->{rps} / $bare->{rps};
printf "events in the stream: %8d of %d requests, %.0f events/s "
    . "(wrk run + drain %.1f s)\n", $len, $on->{n}, $len / $took, $took;

my $s = $t->status;
printf "dropped: full %d, too large %d, redis %d\n",
    $s->{dropped_full}, $s->{dropped_too_large}, $s->{dropped_redis};

# redis stopped: requests must not slow down (the buffer fills, then
# events are dropped and counted)
$t->redis->pause;
my $down = wrk();
printf "capture, redis stopped: %6.0f req/s  avg latency %s  (%.2f of off)\n",
    $down->{rps}, $down->{lat}, $down->{rps} / $bare->{rps};
$t->redis->resume;

$t->stop_nginx;
