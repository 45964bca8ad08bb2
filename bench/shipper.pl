#!/usr/bin/perl
# posthog-shipper throughput: N events (default 100000, ~600 bytes each) are
# put in a stream first, then one shipper drains it; the time is from its
# start until the group has read and acknowledged everything.
#
#   perl bench/shipper.pl [N]
#
# Sinks: --output FILE; HTTP to a local nginx answering 200 to /batch/
# (gzip on and off; nginx reads and discards the body); HTTP to the Perl
# PostHog stand-in of the tests (which records every request, so it is the
# bottleneck there). Loopback only; every process is stopped at the end.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../t/lib";

use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(make_event uuid shipper_bin);

my $N   = shift // 100000;
my $dir = tempdir('ph-bench-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $S   = 'posthog:events';

sub resp { my $s = '*' . @_ . "\r\n"; $s .= '$' . length($_) . "\r\n$_\r\n"
           for @_; $s }

sub fill {
    my ($r) = @_;
    $r->cmd('DEL', $S);
    open my $fh, '>', "$dir/fill.resp" or die;
    for my $i (1 .. $N) {
        my $e = make_event(uuid => uuid(), distinct_id => "user-$i",
            props => { '$current_url' => "https://example.com/page/$i?utm=x",
                       '$host' => 'example.com', '$pathname' => "/page/$i",
                       '$ip' => '203.0.113.7', '$referrer' => '$direct',
                       '$raw_user_agent' => 'Mozilla/5.0 (X11; Linux x86_64) '
                           . 'AppleWebKit/537.36 (KHTML, like Gecko) '
                           . 'Chrome/126.0 Safari/537.36',
                       '$session_id' => uuid(), '$device_id' => uuid(),
                       '$process_person_profile' => JSON::PP::false });
        print $fh resp('XADD', $S, '*', 'v', '1', 't',
                       'phc_' . ('A' .. 'D')[$i % 4], 'e', $e);
    }
    close $fh;
    system("redis-cli -p " . $r->port . " --pipe < $dir/fill.resp "
           . "> /dev/null") == 0 or die "redis-cli --pipe failed";
    my $len = $r->cmd('XLEN', $S);
    die "filled $len of $N" unless $len == $N;
    return -s "$dir/fill.resp";
}

sub drained {
    my ($r) = @_;
    for my $g (@{ $r->cmd('XINFO', 'GROUPS', $S) }) {
        my %g = @$g;
        return $g{pending} == 0 && ($g{lag} // 1) == 0
            && $g{'entries-read'} >= $N;
    }
    return 0;
}

sub run {
    my ($name, $r, @args) = @_;
    fill($r);
    my $s = PHTest::Shipper->start(redis => $r, log_level => 'info',
        args => ['--consumer', 'bench', @args]);
    my $t0 = time;
    my $end = $t0 + 300;
    sleep 0.01 until drained($r) || time > $end;
    my $dt = time - $t0;
    $s->stop;
    my ($req) = $s->log =~ /requests=(\d+)/;
    my $ok = drained($r) ? '' : '  (NOT DRAINED)';
    printf "%-34s %8d events %7.2f s %9.0f events/s %6d requests%s\n",
        $name, $N, $dt, $N / $dt, $req // 0, $ok;
    $r->cmd('XGROUP', 'DESTROY', $S, 'posthog-shipper');
}

my $r = PHTest::Redis->start;
my $bytes = fill($r);
printf "posthog-shipper %s, %d events of ~%d bytes, 4 tokens, batch 100\n",
    (`@{[shipper_bin()]} --version` =~ /(\S+)$/)[0], $N, $bytes / $N - 60;

run('--output FILE', $r, '--output', "$dir/out.jsonl");

# nginx answering 200
my $nginx = -x '/usr/sbin/nginx' ? '/usr/sbin/nginx' : undef;
if ($nginx) {
    my $port = PHTest::Redis::free_port();
    mkdir "$dir/ngx";
    open my $c, '>', "$dir/ngx/nginx.conf" or die;
    print $c <<"EOF";
daemon off;
master_process off;
worker_processes 1;
error_log $dir/ngx/error.log;
pid $dir/ngx/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/ngx;
    server {
        listen 127.0.0.1:$port;
        keepalive_requests 100000;
        location /batch/ {
            client_max_body_size 20m;
            return 200 '{"status":"Ok"}';
        }
    }
}
EOF
    close $c;
    my $pid = fork // die;
    if ($pid == 0) {
        open STDERR, '>', "$dir/ngx/stderr";
        exec $nginx, '-p', "$dir/ngx", '-c', "$dir/ngx/nginx.conf";
        die;
    }
    sleep 0.3;
    run('HTTP nginx (return 200), gzip', $r, '--host', "http://127.0.0.1:$port");
    run('HTTP nginx (return 200), no gzip', $r, '--host',
        "http://127.0.0.1:$port", '--gzip', 'off');
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

my $ph = PHTest::PostHog->start;
run('HTTP Perl stand-in, gzip', $r, '--host', $ph->url);
$ph->stop;
