# A tracked request becomes one stream entry: v=1, t=<token>, e=<event>;
# the status page counts what happened, as JSON and as Prometheus text.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;
use PHTest::Redis;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
posthog_redis %%REDIS%%;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;

    location / { return 200 "<html>page</html>"; }
    location /all/ { posthog_capture all; return 204; }
    location /other/ { posthog_api_key phc_other; return 200 "other"; }

    %%STATUS%%
    location = /metrics { posthog off; posthog_status prometheus; }
}
EOF

is $t->get('/')->{status}, 200, 'page';
is $t->redis->wait_len(1), 1, 'one entry';

my ($e) = $t->redis->entries;
is_deeply [sort keys %{ $e->{fields} }], [qw(e t v)], 'fields v, t, e';
is $e->{fields}{v}, '1', 'format version 1';
is $e->{fields}{t}, 'phc_test', 'token';
ok $e->{event}, 'e is JSON' or diag $e->{fields}{e};
is $e->{event}{event}, '$pageview', '$pageview';
like $e->{event}{uuid}, qr/^[0-9a-f-]{36}$/, 'uuid';

# capture all: every request, also a 204; another project's token

$t->get("/all/$_") for 1 .. 5;
$t->get('/other/x');
is $t->redis->wait_len(7), 7, 'seven entries';

my @e = $t->redis->entries;
is scalar(grep { $_->{fields}{t} eq 'phc_other' } @e), 1, 'other token';
is scalar(grep { $_->{event} } @e), 7, 'all valid JSON';

# the status page: what was sent, counted once; in the stream before the
# worker read the replies, so wait for the counters

my $s = $t->wait_status(written => 7, buffered_events => 0);
is $s->{events}, 7, 'events';
is $s->{written}, 7, 'written';
is $s->{buffered_events}, 0, 'nothing buffered';
is $s->{buffered_bytes}, 0, 'no bytes buffered';
is $s->{redis_connected}, 1, 'one worker connected';
is $s->{$_}, 0, $_ for qw(dropped_full dropped_too_large dropped_redis
                          dropped_exit redis_errors redis_reconnects);

my $p = $t->get('/metrics');
like $p->{headers}{'content-type'}, qr{^text/plain}, 'prometheus type';
like $p->{body}, qr/^# TYPE posthog_events_total counter$/m, 'TYPE';
like $p->{body}, qr/^posthog_events_total 7$/m, 'events_total';
like $p->{body}, qr/^posthog_events_written_total 7$/m, 'written_total';
like $p->{body}, qr/^posthog_events_dropped_total\{reason="buffer_full"\} 0$/m,
    'dropped by reason';
like $p->{body}, qr/^# TYPE posthog_buffered_events gauge$/m, 'gauge';
my %type;
$type{$1}++ while $p->{body} =~ /^# TYPE (\S+)/mg;
ok !(grep { $_ > 1 } values %type), 'one TYPE line per family';

like $t->get('/status?format=prometheus')->{body},
    qr/^posthog_events_total 7$/m, '?format=prometheus';
like $t->get('/metrics?format=json')->{body}, qr/"events":7/, '?format=json';

# counters survive a reload (the zone is kept)

$t->reload;
sleep 1;
is $t->status->{events}, 7, 'counters kept across reload';

# another stream name, trimming off, a database and a password

my $r2 = PHTest::Redis->start(password => 's3cret');
my $port = $r2->port;

$t->run(<<"EOF");
posthog_redis 127.0.0.1:$port stream=ph:test maxlen=0 db=3 password=s3cret;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    location / { return 200 "<html>page</html>"; }
}
EOF

my $c = Redis->new(server => $r2->addr, password => 's3cret');
$t->get('/') for 1 .. 3;
my $n = 0;
$c->select(3);
for (1 .. 100) {
    $n = $c->xlen('ph:test');
    last if $n >= 3;
    select undef, undef, undef, 0.05;
}
is $n, 3, 'stream=, db=, password=';
$c->select(0);
is $c->exists('ph:test'), 0, 'not in db 0';

# a wrong password: nothing written, nothing lost, the reason logged

$t->run(<<"EOF");
posthog_redis 127.0.0.1:$port stream=ph:wrong password=nope;
posthog_buffer 1m exit_timeout=500ms;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    location / { return 200 "<html>page</html>"; }
    %%STATUS%%
}
EOF

$t->get('/') for 1 .. 3;
# the refusal is logged when the reply to AUTH comes: wait for it (5 s)
for (1 .. 100) {
    last if $t->error_log =~ /AUTH failed/;
    select undef, undef, undef, 0.05;
}
is $c->exists('ph:wrong'), 0, 'wrong password: not written';
is $t->status->{buffered_events}, 3, 'kept in the buffer';
like $t->error_log, qr/AUTH failed: .*(WRONGPASS|invalid password)/i,
    'AUTH failure logged';

$t->stop_nginx;
$r2->stop;

# a unix socket

my $sock = $t->dir . '/redis.sock';
my $r3 = PHTest::Redis->start(args => ['--unixsocket', $sock,
                                       '--unixsocketperm', '777']);

$t->run(<<"EOF");
posthog_redis unix:$sock;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_test;
    location / { return 200 "<html>page</html>"; }
}
EOF

$t->get('/') for 1 .. 2;
$n = 0;
for (1 .. 100) {
    $n = $r3->cmd('XLEN', 'posthog:events');
    last if $n >= 2;
    select undef, undef, undef, 0.05;
}
is $n, 2, 'unix socket';

$t->stop_nginx;
$r3->stop;

# posthog_status in a location that has another content handler: the
# message names the conflict; twice in one location: a duplicate

my ($ok, $out) = $t->conf_test(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    location = /status { proxy_pass http://127.0.0.1:1; posthog_status; }
}
EOF
ok !$ok, 'posthog_status after proxy_pass: refused';
like $out, qr/"posthog_status" cannot be used in a location that already has a content handler/,
    'posthog_status after proxy_pass: the conflict named';

($ok, $out) = $t->conf_test(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    location = /status { posthog_status; posthog_status prometheus; }
}
EOF
ok !$ok, 'posthog_status twice: refused';
like $out, qr/"posthog_status" directive is duplicate/,
    'posthog_status twice: is duplicate';

done_testing;
