# posthog_session, posthog_js_cookie, posthog_js_headers: settings that
# cannot work fail nginx -t with a message naming the directive and the
# value; the js cookie's name follows posthog-js's rule for the token.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;

my $t = PHTest->new;

sub conf {
    my ($directives) = @_;
    return $t->conf_test(<<"EOF");
server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_x;
    $directives
    location / { return 200 "ok\\n"; }
}
EOF
}

my @bad = (
    [ 'posthog_session idle=abc;', qr/invalid parameter "idle=abc" in "posthog_session"/ ],
    [ 'posthog_session idle=0;', qr/invalid parameter "idle=0" in "posthog_session"/ ],
    [ 'posthog_session max=;', qr/invalid parameter "max=" in "posthog_session"/ ],
    [ 'posthog_session timeout=30m;', qr/invalid parameter "timeout=30m" in "posthog_session"/ ],
    [ 'posthog_session idle=2h max=1h;', qr/"posthog_session": idle=7200 is longer than max=3600/ ],
    [ 'posthog_session; posthog_session;', qr/"posthog_session" directive is duplicate/ ],
    [ 'posthog_js_cookie maybe;', qr/invalid value "maybe" in "posthog_js_cookie"/ ],
    [ 'posthog_js_headers 1;', qr/invalid value "1" in "posthog_js_headers"/ ],
    [ 'location /k { posthog_api_key phc_a(b; posthog_js_cookie on; }',
      qr/"posthog_js_cookie": the api key "phc_a\(b" does not make a valid cookie name/ ],
);
for my $b (@bad) {
    my ($ok, $out) = conf($b->[0]);
    ok(!$ok, "nginx -t fails: $b->[0]");
    like($out, $b->[1], '... naming the directive and the value');
}

for my $good ('posthog_session;', 'posthog_session idle=2s max=10s refresh=0;',
              'posthog_session idle=30m max=24h refresh=60s;',
              'posthog_js_cookie on; posthog_js_headers on;') {
    my ($ok, $out) = conf($good);
    ok($ok, "nginx -t accepts: $good") or diag $out;
}

# the name: "+", "/", "=" of the token as posthog-js writes them

$t->run(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_a+b/c=;
    posthog_js_cookie on;
    location / { return 200 "ok\n"; }
}
EOF

my $r = $t->get('/');
ok($r->{cookies}{ph_phc_aPLbSLcEQ_posthog}, 'ph_<token>_posthog with PL, SL, EQ');

$t->stop;
$t->check_log;

done_testing();
