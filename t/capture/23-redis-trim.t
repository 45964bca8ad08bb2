# MAXLEN on one XADD in 64 (in maxlen/64 for a maxlen under 4096), the
# first on each connection included: Redis checks the trim only when an
# XADD asks, and the stream stays at its cap within a 64th of it.  The
# other XADDs are the same command without "MAXLEN ~ n".

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use HTTP::Tiny;
use PHTest;

my $t = PHTest->new(redis => 1);

# the 1-based positions of the XADDs with MAXLEN, and the count of the rest
sub trims {
    my @x = @_;
    my (@at, $plain);
    for my $i (0 .. $#x) {
        if ($x[$i] =~ /\] "XADD" "(\S+)" "MAXLEN" "~" "\d+" "\*" "v" "1" "t" /) {
            push @at, $i + 1;
        } elsif ($x[$i] =~ /\] "XADD" "(\S+)" "\*" "v" "1" "t" /) {
            $plain++;
        }
    }
    return (\@at, $plain // 0);
}

my $http = HTTP::Tiny->new(keep_alive => 1, timeout => 10,
                           agent => $PHTest::BROWSER_UA);

sub requests {
    my ($n, $stream) = @_;
    my $url = 'http://127.0.0.1:' . $t->port('');
    my $before = $t->status->{written};
    my $ok = grep { $http->get("$url/p/$_")->{status} == 200 } 1 .. $n;
    $t->wait_status(written => $before + $n, buffered_events => 0);
    return $ok;
}

# nginx capturing every request into stream "s:$name", trimmed to $maxlen
sub run_stream {
    my ($name, $maxlen) = @_;
    $t->run(<<"EOF");
posthog_redis %%REDIS%% stream=s:$name maxlen=$maxlen;
posthog_buffer 4m flush=10ms;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_trim;
    posthog_capture all;
    location / { return 200 "<html>ok</html>"; }
    %%STATUS%%
}
EOF
}

# the default maxlen: one in 64

run_stream('big', 100000);

ok $t->wait_connected, 'connected';

my @x = $t->xadds(sub { is requests(130), 130, '130 requests' });
is scalar @x, 130, '130 XADDs';
my ($at, $plain) = trims(@x);
is_deeply $at, [1, 65, 129], 'MAXLEN on the 1st, 65th and 129th XADD';
is $plain, 127, 'the others without MAXLEN';

# a new connection: its first XADD trims

my $id = (grep { /cmd=xadd/ } split /\n/,
          $t->redis->cmd('CLIENT', 'LIST'))[0] =~ /\bid=(\d+)/ ? $1 : undef;
ok defined $id, "the module's connection";
$t->redis->cmd('CLIENT', 'KILL', 'ID', $id);
sleep 0.3;
ok $t->wait_connected, 'connected again';

@x = $t->xadds(sub { is requests(3), 3, '3 requests' });
($at, $plain) = trims(@x);
is_deeply $at, [1], 'MAXLEN on the first XADD of the new connection';
is $plain, 2, 'then none';

# a small maxlen: one in maxlen/64, the stream stays near its cap

run_stream('small', 640);

ok $t->wait_connected, 'connected';

@x = $t->xadds(sub { is requests(2000), 2000, '2000 requests' });
($at, $plain) = trims(@x);
is scalar @$at, 200, 'maxlen=640: MAXLEN on 200 of 2000 XADDs';
is_deeply [ @$at[0 .. 2] ], [1, 11, 21], 'one in 10';

my $len = $t->redis->xlen('s:small');
cmp_ok $len, '>=', 640, "the stream at its cap ($len)";
# "~" removes whole nodes (at most 100 entries), plus 9 XADDs since a trim
cmp_ok $len, '<', 640 + 100 + 10, 'and not far past it';

is $t->status->{dropped_redis}, 0, 'nothing refused';

$t->stop_nginx;
done_testing;
