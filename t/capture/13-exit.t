# Graceful shutdown and reload lose nothing: an exiting worker sends what
# it holds and waits for the replies (at most exit_timeout); what is left
# then is counted as dropped_exit.  No "open socket" alerts.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use PHTest;

my $t = PHTest->new(redis => 1, workers => 2);

my $conf = <<'EOF';
posthog_redis %%REDIS%%;
posthog_buffer 1m flush=60s exit_timeout=%%EXIT%%;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    posthog_capture all;

    location / { return 200 "<html>page</html>"; }
    %%STATUS%%
}
EOF

sub conf {
    my ($exit) = @_;
    (my $c = $conf) =~ s/%%EXIT%%/$exit/;
    return $c;
}

# quit: a flush interval of 60 s, so everything is still buffered

$t->run(conf('5s'));
ok $t->wait_connected, 'connected';   # else the first event goes at once
$t->get("/quit/$_") for 1 .. 50;
is $t->redis->xlen, 0, 'nothing written yet (flush=60s)';
is $t->wait_status(buffered_events => 50)->{buffered_events}, 50,
    '50 buffered';

my $t0 = time;
$t->signal('QUIT');
my $took = time - $t0;
is $t->redis->xlen, 50, 'quit: all 50 written';
cmp_ok $took, '<', 3, sprintf('quit took %.2f s', $took);
unlike $t->error_log, qr/open socket|\[alert\]|\[crit\]/, 'no alerts';
unlike $t->error_log, qr/lost/, 'nothing lost';

# reload: the old workers deliver theirs, the new ones take over

$t->redis->cmd('DEL', 'posthog:events');
$t->run(conf('5s'));
$t->get("/before/$_") for 1 .. 40;
my @old = $t->worker_pids;
$t->reload(conf('5s'));

# the old workers are gone
my $end = time + 10;
select undef, undef, undef, 0.1
    while time < $end && grep { PHTest::alive($_) } @old;
ok !(grep { PHTest::alive($_) } @old), 'old workers exited';
# else a new worker writes its first event at once, when it connects
ok $t->wait_connected, 'new workers connected';

$t->get("/after/$_") for 1 .. 40;
is $t->redis->xlen, 40, 'reload: the old workers delivered theirs';

$t->signal('QUIT');
is $t->redis->xlen, 80, 'and the new ones theirs at quit';

my $s_lost = () = $t->error_log =~ /lost/g;
is $s_lost, 0, 'nothing lost';
unlike $t->error_log, qr/open socket|\[alert\]|\[crit\]/, 'no alerts';

# quit with redis stopped: waits exit_timeout, then counts dropped_exit

$t->redis->cmd('DEL', 'posthog:events');
$t->run(conf('1s'));
ok $t->wait_connected, 'connected';
$t->get("/stuck/$_") for 1 .. 20;
my $held = $t->wait_status(buffered_events => 20)->{buffered_events};
is $held, 20, '20 buffered';
$t->redis->pause;

$t0 = time;
$t->signal('QUIT');
$took = time - $t0;
cmp_ok $took, '<', 4, sprintf('quit with redis stopped took %.2f s', $took);

my $log = $t->error_log;
my $lost = 0;
$lost += $1 while $log =~ /(\d+) events not acknowledged .* lost/g;
is $lost, $held, 'all counted as lost, and logged';

$t->redis->resume;

unlike $log, qr/open socket|\[alert\]|\[crit\]/, 'no alerts';

# nginx -s stop: no waiting, all counted

my $skip = length $t->error_log;
$t->run(conf('5s'));
ok $t->wait_connected, 'connected';
$t->get("/stop/$_") for 1 .. 10;

$t0 = time;
$t->signal('TERM');
cmp_ok time - $t0, '<', 3, 'stop does not wait';

$log = substr $t->error_log, $skip;
$lost = 0;
$lost += $1 while $log =~ /(\d+) events not acknowledged .* lost/g;
is $lost, 10, 'stop: all 10 counted as lost';

done_testing;
