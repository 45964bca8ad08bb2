# posthog_redis and posthog_buffer: a bad value fails "nginx -t" naming the
# directive and the value, a second one is refused, and what they leave out
# takes its default once (stream posthog:events, MAXLEN ~ 1000000, the
# XADD on the wire as docs/stream-format.md says; maxlen=0: no MAXLEN).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
posthog_redis %%REDIS%%;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_defaults;
    location / { return 200 "<html>ok</html>"; }
    location = /status { posthog_status; }
}
EOF

$t->wait_connected;

my @x = $t->xadds(sub {
    is($t->get('/')->{status}, 200, 'a request');
    is($t->redis->wait_len(1), 1, 'its event reached the default stream');
});

is(scalar @x, 1, 'one XADD');
like($x[0], qr/\] "XADD" "posthog:events" "MAXLEN" "~" "1000000" "\*" "v" "1" "t" "phc_defaults" "e" "\{/,
     'defaults: stream posthog:events, MAXLEN ~ 1000000, then v t e');

$t->run(<<'EOF');
posthog_redis %%REDIS%% stream=other:s maxlen=0;
posthog_buffer 64k flush=10ms exit_timeout=0;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_given;
    location / { return 200 "<html>ok</html>"; }
    location = /status { posthog_status; }
}
EOF

$t->wait_connected;

@x = $t->xadds(sub {
    is($t->get('/')->{status}, 200, 'a request');
    is($t->redis->wait_len(1, stream => 'other:s'), 1,
       'its event reached stream=');
});

is(scalar @x, 1, 'one XADD');
like($x[0], qr/\] "XADD" "other:s" "\*" "v" "1" "t" "phc_given" "e" "\{/,
     'maxlen=0: no MAXLEN');

$t->stop_nginx;

# nginx -t

my @bad = (
    [ 'posthog_redis 127.0.0.1:1 maxlen=ten;',
      qr/invalid parameter "maxlen=ten" in "posthog_redis"/ ],
    [ 'posthog_redis 127.0.0.1:1 stream=;',
      qr/invalid parameter "stream=" in "posthog_redis"/ ],
    [ 'posthog_redis 127.0.0.1:1 timeout=0;',
      qr/invalid parameter "timeout=0" in "posthog_redis"/ ],
    [ 'posthog_redis 127.0.0.1:1 colour=blue;',
      qr/invalid parameter "colour=blue" in "posthog_redis"/ ],
    [ 'posthog_redis 127.0.0.1:99999;',
      qr/invalid port in "127.0.0.1:99999" of "posthog_redis"/ ],
    [ 'posthog_redis 127.0.0.1:1; posthog_redis 127.0.0.1:2;',
      qr/"posthog_redis" directive is duplicate/ ],
    [ 'posthog_redis 127.0.0.1:1; posthog_buffer 1000;',
      qr/invalid size "1000" in "posthog_buffer", at least 1024 bytes/ ],
    [ 'posthog_redis 127.0.0.1:1; posthog_buffer 1m flush=0;',
      qr/invalid parameter "flush=0" in "posthog_buffer"/ ],
    [ 'posthog_redis 127.0.0.1:1; posthog_buffer 1m; posthog_buffer 2m;',
      qr/"posthog_buffer" directive is duplicate/ ],
);

for my $b (@bad) {
    my ($ok, $out) = $t->conf_test($b->[0]);
    ok(!$ok, "refused: $b->[0]");
    like($out, $b->[1], '  with a message naming it');
}

my ($ok, $out) = $t->conf_test(
    'posthog_redis 127.0.0.1:1; posthog_buffer 1m exit_timeout=0;');
ok($ok, 'exit_timeout=0 is accepted') or diag $out;

done_testing;
