# A Redis that accepts connections and never answers (SIGSTOP): requests
# stay fast, memory stays within the buffer, the events arrive after
# SIGCONT; and a full buffer drops the newest events, counted.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use PHTest;

my $t = PHTest->new(redis => 1);

sub rss_kb {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return 0;
}

sub distinct_uuids {
    my %u = map { ($_->{event}{uuid} // '') => 1 } $t->redis->entries;
    return scalar keys %u;
}

# wait_len counts the entries, the duplicates too: waits until $n distinct
# events are there (or 10 s passed)
sub wait_distinct {
    my ($n) = @_;
    my $end = time + 10;
    my $d;
    sleep 0.05 while ($d = distinct_uuids()) < $n && time < $end;
    return $d;
}

$t->run(<<'EOF');
posthog_redis %%REDIS%% timeout=1s connect_timeout=500ms;
posthog_buffer 256k flush=50ms;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    posthog_capture all;

    location / { return 200 "<html>page</html>"; }
    %%STATUS%%
}
EOF

$t->get('/warmup');
is $t->redis->wait_len(1), 1, 'connected';

my ($worker) = $t->worker_pids;
my $rss0 = rss_kb($worker);

$t->redis->pause;

my ($n, @lat) = (150);
for my $i (1 .. $n) {
    my ($r, $s) = $t->timed_get("/stopped/$i");
    push @lat, $s;
}
@lat = sort { $a <=> $b } @lat;
my ($p99, $max) = @lat[-2, -1];
diag sprintf 'redis stopped: latency of %d requests p99 %.2f ms max %.2f ms',
    $n, $p99 * 1000, $max * 1000;
# waiting on a stopped redis would hang, or take the 1 s timeout; the
# margin is for a busy CI box, where one request may stall
cmp_ok $p99, '<', 0.25, 'redis stopped: requests under 250 ms (p99)';
cmp_ok $max, '<', 0.9, 'redis stopped: none waited for the timeout';

# past the reply timeout and a few reconnects (that must not send XADDs
# to the stopped redis: they stop at the PING)
sleep 3;

my $s = $t->status;
is $s->{buffered_events}, $n, 'all buffered';
cmp_ok $s->{buffered_bytes}, '<=', 256 * 1024, 'within the buffer';

$t->redis->resume;

# the XADDs written before the reply timeout may be executed twice (at
# least once delivery; the uuid lets PostHog collapse them)
my $want = $n + 1;
my $len = $t->redis->wait_len($want, timeout => 10);
cmp_ok $len, '>=', $want, 'events arrive after SIGCONT';
is wait_distinct($want), $want, 'every event there';
is $t->wait_status(buffered_events => 0)->{buffered_events}, 0,
    'buffer empty';
cmp_ok $t->redis->xlen, '<=', 2 * $want, 'duplicates bounded';

# overflow: a stopped redis, far more events than the buffer holds; the
# newest are dropped and counted, the memory does not grow

$t->redis->cmd('DEL', 'posthog:events');
my $sent0 = $t->status->{events};
$t->redis->pause;

my $m = 1500;
$t->get("/flood/$_") for 1 .. $m;

$s = $t->status;
my $sent = $s->{events} - $sent0;
is $sent, $m, "$m events made";
cmp_ok $s->{dropped_full}, '>', 0, 'some dropped: buffer full';
cmp_ok $s->{buffered_bytes}, '<=', 256 * 1024, 'within the buffer';
is $s->{buffered_events} + $s->{dropped_full}, $m, 'buffered + dropped';

my $rss1 = rss_kb($worker);
diag "worker RSS: $rss0 kB before, $rss1 kB with a full buffer";
SKIP: {
    skip 'RSS under AddressSanitizer', 1 if ($ENV{ASAN_OPTIONS} // '') ne '';
    cmp_ok $rss1 - $rss0, '<', 4096, 'memory bounded (< 4 MB more)';
}

like $t->error_log, qr/buffer full .* event dropped/, 'drop logged';
cmp_ok $t->log_count(qr/buffer full/), '<=', 2, 'drops logged rate-limited';

$t->redis->resume;

$len = $t->redis->wait_len($m - $s->{dropped_full}, timeout => 10);
my $d = wait_distinct($m - $s->{dropped_full});
is $d + $s->{dropped_full}, $m, 'distinct in stream + dropped_full == sent';

# the kept ones are the oldest: the first requests are all there
my %path = map { ($_->{event}{properties}{'$pathname'} // '') => 1 }
           $t->redis->entries;
cmp_ok $d, '>', 0, 'some were kept';
is scalar(grep { $path{"/flood/$_"} } 1 .. $d), $d, 'the oldest were kept';
ok !$path{"/flood/$m"}, 'the newest was dropped';

# one event larger than the whole buffer

$t->run(<<'EOF');
posthog_redis %%REDIS%%;
posthog_buffer 1k;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    posthog_capture all;

    location / { return 200 "<html>page</html>"; }
    %%STATUS%%
}
EOF

my $before = $t->status->{dropped_too_large};
$t->get('/' . ('x' x 2000));
is $t->status->{dropped_too_large} - $before, 1, 'too large: counted';
like $t->error_log, qr/event of \d+ bytes dropped/, 'too large: logged';

$t->signal('QUIT');
unlike $t->error_log, qr/open socket|\[alert\]|\[crit\]/, 'no alerts';

done_testing;
