# A Redis that refuses writes for a while (out of memory with noeviction,
# a replica after a failover) concerns the connection, not the events:
# they stay in the buffer, the writer reconnects with backoff, and they
# arrive once Redis takes writes again; none is counted as dropped_redis.
# An error about the event itself (WRONGTYPE) still drops that event.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use PHTest;

my $t = PHTest->new(redis => 1);
my $r = $t->redis;

$t->run(<<'EOF');
%%CAPTURE%%

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
$t->get('/before');
is $r->wait_len(1), 1, 'written';

sub paths {
    my ($prefix) = @_;
    my %n;
    $n{ $_->{event}{properties}{'$pathname'} // '' }++ for $r->entries;
    return map { $n{"$prefix$_"} // 0 } @_[1 .. $#_];
}

sub refused {
    my ($what, $tag, $refuse, $accept, $reason) = @_;

    my $s0 = $t->status;
    $refuse->();

    my @lat;
    for my $i (1 .. 30) {
        my (undef, $sec) = $t->timed_get("/$tag/$i");
        push @lat, $sec;
    }
    # CI margin; on a busy box one request may stall
    @lat = sort { $a <=> $b } @lat;
    cmp_ok $lat[-2], '<', 0.25, "$what: requests stay fast (all but one)";
    cmp_ok $lat[-1], '<', 0.9, "$what: none waits for a timeout";

    sleep 1.5;          # several attempts, with backoff

    my $s = $t->status;
    is $s->{dropped_redis} - $s0->{dropped_redis}, 0,
        "$what: nothing dropped_redis";
    is $s->{buffered_events}, 30, "$what: the 30 events kept";
    cmp_ok $s->{redis_errors} - $s0->{redis_errors}, '>', 0,
        "$what: redis errors counted";
    my $rc = $s->{redis_reconnects} - $s0->{redis_reconnects};
    cmp_ok $rc, '<=', 6, "$what: reconnects with backoff ($rc in 1.5 s)";
    like $t->error_log, $reason, "$what: the refusal logged" if $reason;

    # counted before Redis takes writes: they may arrive at once
    my $want = $r->xlen + 30;
    $accept->();

    cmp_ok $r->wait_len($want, timeout => 10), '>=', $want,
        "$what: the events arrive when redis takes writes again";
    # the length counts duplicates, and replies may be on their way
    $s = $t->wait_status(buffered_events => 0, -timeout => 10);
    my @n = paths("/$tag/", 1 .. 30);
    is scalar(grep { $_ >= 1 } @n), 30, "$what: every event there";

    is $s->{buffered_events}, 0, "$what: buffer empty";
    is $s->{dropped_redis} - $s0->{dropped_redis}, 0,
        "$what: still nothing dropped_redis";
}

# out of memory: -OOM command not allowed when used memory > 'maxmemory'

refused('OOM', 'oom',
    sub {
        $r->cmd('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
        $r->cmd('CONFIG', 'SET', 'maxmemory', '1');
    },
    sub { $r->cmd('CONFIG', 'SET', 'maxmemory', '0') },
    qr/unavailable: XADD refused: OOM /);

# a replica (e.g. the old master after a failover): -READONLY; its master
# is unreachable, so it keeps its data

refused('READONLY', 'replica',
    sub { $r->cmd('REPLICAOF', '127.0.0.1', PHTest::free_port()) },
    sub { $r->cmd('REPLICAOF', 'NO', 'ONE') },
    undef);             # within 10 s of the last line: not logged again

cmp_ok $t->log_count(qr/XADD refused/), '<=', 4,
    'refusals logged rate-limited';

# the stream key of another type: about the event, dropped and counted

$r->cmd('DEL', 'posthog:events');
$r->cmd('SET', 'posthog:events', 'not a stream');
my $s0 = $t->status;
$t->get('/wrongtype');
my $s = $t->wait_status(dropped_redis => $s0->{dropped_redis} + 1,
                        buffered_events => 0);
is $s->{dropped_redis} - $s0->{dropped_redis}, 1, 'WRONGTYPE: dropped';
is $s->{buffered_events}, 0, 'WRONGTYPE: not kept';
is $s->{redis_connected}, 1, 'WRONGTYPE: the connection stays';

$r->cmd('DEL', 'posthog:events');
$t->get('/after');
is $r->wait_len(1), 1, 'written again after WRONGTYPE';

$t->signal('QUIT');

done_testing;
