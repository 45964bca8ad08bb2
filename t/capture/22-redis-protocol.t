# A reply the writer cannot take for an XADD's (not RESP, an array, or a
# reply while no XADD waits for one) ends the connection, as hiredis does:
# logged and counted as a Redis error, the events in flight go again on
# the next connection (at least once), none is dropped.
#
# The bytes are put into the reply stream by a proxy in front of a real
# Redis (t/lib/PHTest/SlowProxy.pm), which holds the replies back while
# the XADDs reach Redis.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use PHTest;
use PHTest::SlowProxy;

my $t = PHTest->new(redis => 1);
my $r = $t->redis;
my $proxy = PHTest::SlowProxy->start(to => $r->port, rate => 0);
my $pport = $proxy->port;

$t->run(<<"EOF2");
posthog_redis 127.0.0.1:$pport;
posthog_buffer 1m flush=10ms;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    posthog_capture all;

    location / { return 200 "<html>page</html>"; }
    %%STATUS%%
}
EOF2

ok $t->wait_connected, 'connected';
$t->get('/before');
is $r->wait_len(1), 1, 'written';
$t->wait_status(buffered_events => 0);

sub paths {
    my %n;
    $n{ $_->{event}{properties}{'$pathname'} // '' }++ for $r->entries;
    return \%n;
}

# the XADDs of 5 events reach Redis, their replies wait in the proxy;
# $bytes go before them
sub broken {
    my ($what, $tag, $bytes, $logged) = @_;

    my $s0 = $t->status;
    my $len = $r->xlen;

    $proxy->rate(0.001);
    sleep 0.2;
    $t->get("/$tag/$_") for 1 .. 5;
    is $r->wait_len($len + 5), $len + 5, "$what: the XADDs reached Redis";
    is $t->status->{buffered_events}, 5, "$what: not acknowledged yet";

    $proxy->inject($bytes);
    $proxy->rate(0);

    my $s = $t->wait_status(buffered_events => 0, redis_connected => 1,
                            -timeout => 10);
    is $s->{buffered_events}, 0, "$what: all acknowledged in the end";
    is $s->{redis_errors} - $s0->{redis_errors}, 1,
        "$what: one redis error";
    cmp_ok $s->{redis_reconnects} - $s0->{redis_reconnects}, '>=', 1,
        "$what: reconnected";
    is $s->{dropped_redis} - $s0->{dropped_redis}, 0, "$what: none dropped";
    is $s->{written} - $s0->{written}, 5, "$what: 5 written";

    my $n = paths();
    is scalar(grep { ($n->{"/$tag/$_"} // 0) >= 1 } 1 .. 5), 5,
        "$what: every event in the stream";
    like $t->error_log, $logged, "$what: logged" if $logged;
}

# a reply while no XADD waits: an error a server sends before it closes

my $s0 = $t->status;
$proxy->inject("-ERR max number of clients reached\r\n");
my $s = $t->wait_status(redis_errors => $s0->{redis_errors} + 1,
                        redis_connected => 1);
is $s->{redis_errors} - $s0->{redis_errors}, 1,
    'a reply to no command: a redis error';
like $t->error_log,
    qr/unavailable: ERR max number of clients reached, 0 events/,
    'a reply to no command: its text logged';

my $len = $r->xlen;
$t->get('/after');
is $r->wait_len($len + 1), $len + 1, 'written after it';
is $t->wait_status(written => $s->{written} + 1)->{written},
    $s->{written} + 1, 'and acknowledged';

sleep 10.5;     # the redis errors' log line is rate-limited

broken('an array', 'array', "*1\r\n\$1\r\nx\r\n",
       qr/unavailable: Protocol error: not a reply to an XADD, 5 events/);

# within 10 s of that line: not logged again, counted all the same
broken('not RESP', 'junk', "?\r\n", undef);

$t->signal('QUIT');

done_testing;
