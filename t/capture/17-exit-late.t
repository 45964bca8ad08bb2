# Graceful shutdown, the cases 13-exit.t does not cover:
#
# * a request still in flight after exit_timeout (a slow upstream): its
#   event is written when it ends, with Redis healthy, and is not lost;
# * Redis already down when the shutdown starts, with a long reconnect
#   backoff: the worker notices the shutdown at once and quits after about
#   exit_timeout, not after the backoff plus exit_timeout; and a Redis that
#   comes back within exit_timeout still gets the events.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);
use PHTest;

my $t = PHTest->new(redis => 1);
my $r = $t->redis;

# an upstream that answers each request after $DELAY seconds

my $DELAY = 2.5;
my $up = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1',
                               LocalPort => 0, ReuseAddr => 1) or die $!;
my $up_port = $up->sockport;
my $seen = $t->dir . '/upstream-seen';
my $parent = $$;
my $up_pid = fork // die;
if ($up_pid == 0) {
    while (my $c = $up->accept) {
        exit 0 if getppid() != $parent;
        my $req = '';
        while ($req !~ /\r\n\r\n/) {
            sysread($c, $req, 4096, length $req) or last;
        }
        open my $fh, '>>', $seen;
        print $fh time, "\n";      # when its $DELAY starts
        close $fh;
        sleep $DELAY;
        print $c "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nslow";
        close $c;
    }
    POSIX::_exit(0);
}
close $up;
END {
    local $?;
    if ($up_pid && $$ == $parent) { kill 'TERM', $up_pid; waitpid $up_pid, 0 }
}

sub conf {
    my ($exit) = @_;
    return <<"EOF";
posthog_redis %%REDIS%%;
posthog_buffer 1m flush=60s exit_timeout=$exit;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    posthog_capture all;

    location / { return 200 "<html>page</html>"; }
    location /slow { proxy_pass http://127.0.0.1:$up_port; }
    %%STATUS%%
}
EOF
}

sub lost {
    my ($log) = @_;
    my $n = 0;
    $n += $1 while $log =~ /(\d+) events not acknowledged .* lost/g;
    return $n;
}

# nginx -s quit; returns how long until the workers had exited (the
# master's own exit is not timed: reaping a daemon may take a while here)
sub quit {
    my @w = $t->worker_pids;
    my $t0 = time;
    kill 'QUIT', $t->pid;
    my $end = time + 15;
    sleep 0.01 while grep({ PHTest::alive($_) } @w) && time < $end;
    my $took = time - $t0;
    $t->signal('QUIT');
    return wantarray ? ($took, $t0 + $took) : $took;
}

sub paths {
    my %p = map { ($_->{event}{properties}{'$pathname'} // '') => 1 }
            $r->entries;
    return \%p;
}

# a request that ends after exit_timeout, Redis healthy

$t->run(conf('1s'));
ok $t->wait_connected, 'connected';
$t->get("/early/$_") for 1 .. 5;

my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port,
                              Timeout => 10) or die $!;
print $c "GET /slow HTTP/1.0\r\nHost: localhost\r\n"
    . "User-Agent: $PHTest::BROWSER_UA\r\n\r\n";
my $end = time + 5;
sleep 0.02 until -s $seen || time > $end;
ok -s $seen, 'the slow request reached the upstream';

# the upstream's delay started when it saw the request, before quit()
my $seen_at = do { open my $fh, '<', $seen or die "$seen: $!"; <$fh> };
my (undef, $exited) = quit();
my $resp = do { local $/; <$c> } // '';
like $resp, qr/200 OK.*slow/s, 'the slow request was answered';
my $waited = $exited - $seen_at;
cmp_ok $waited, '>=', $DELAY - 0.1,
    sprintf('nginx waited for it (%.2f s after the upstream saw it)', $waited);

my $p = paths();
ok $p->{'/slow'}, 'its event, made after exit_timeout, reached the stream';
is scalar(grep { $p->{"/early/$_"} } 1 .. 5), 5, 'the earlier ones too';
is lost($t->error_log), 0, 'nothing counted lost';

# Redis down for a while: the reconnect backoff is long when the
# shutdown starts (100, 200 ... 1600 ms: the attempt after 3.1 s waits
# 3.2 s)

$r->cmd('DEL', 'posthog:events');
my $skip = length $t->error_log;
$t->run(conf('1s'));
ok $t->wait_connected, 'connected';
$r->stop;
$t->get("/down/$_") for 1 .. 5;
sleep 3.5;

# the worker notices the quit at its next retry timer (<= 250 ms), then
# exit_timeout; not after the backoff (3.2 s) and then exit_timeout
my $took = quit();
cmp_ok $took, '<', 2.5,
    sprintf('quit with redis down took %.2f s (exit_timeout=1s)', $took);
cmp_ok $took, '>', 0.8, 'it tried for exit_timeout';
is lost(substr $t->error_log, $skip), 5, 'the 5 events counted lost';

# ... and Redis back within exit_timeout

$r->restart;
$skip = length $t->error_log;
$t->run(conf('3s'));
ok $t->wait_connected, 'connected';
$r->stop;
$t->get("/back/$_") for 1 .. 5;
sleep 3.5;

my @w = $t->worker_pids;
my $t0 = time;
kill 'QUIT', $t->pid;
sleep 0.5;
$r->restart;
sleep 0.01 while grep({ PHTest::alive($_) } @w) && time < $t0 + 15;
$took = time - $t0;
$t->signal('QUIT');
# delivered and gone well before exit_timeout (3 s)
cmp_ok $took, '<', 2.5,
    sprintf('redis back during the shutdown: quit took %.2f s', $took);
$p = paths();
is scalar(grep { $p->{"/back/$_"} } 1 .. 5), 5, 'the 5 events delivered';
is lost(substr $t->error_log, $skip), 0, 'nothing lost';

done_testing;
