# posthog_cookie: attributes as configured; impossible settings fail
# nginx -t with a message naming the directive and the value.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;

my $t = PHTest->new;

$t->run(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_cookie __Secure-ph domain=example.com path=/shop max_age=30d
                   secure httponly samesite=strict;

    location / { return 200 "ok\n"; }

    location /none {
        posthog_cookie cross samesite=none secure;
        return 200 "ok\n";
    }

    location /short {
        posthog_cookie short max_age=1h secure=off;
        return 200 "ok\n";
    }
}
EOF

my $c = $t->get('/')->{cookies}{'__Secure-ph'};
ok($c, 'cookie with the configured name');
is($c->{attrs}{domain}, 'example.com', 'Domain');
is($c->{attrs}{path}, '/shop', 'Path');
is($c->{attrs}{'max-age'}, 30 * 86400, 'Max-Age 30d');
ok(exists $c->{attrs}{secure}, 'Secure');
ok(exists $c->{attrs}{httponly}, 'HttpOnly');
is($c->{attrs}{samesite}, 'Strict', 'SameSite=Strict');

$c = $t->get('/none')->{cookies}{cross};
is($c->{attrs}{samesite}, 'None', 'SameSite=None');
ok(exists $c->{attrs}{secure}, 'with Secure');

$c = $t->get('/short')->{cookies}{short};
is($c->{attrs}{'max-age'}, 3600, 'max_age=1h');
ok(!exists $c->{attrs}{secure}, 'secure=off');

# bad directives

my @bad = (
    [ 'posthog maybe;',
      qr/invalid value "maybe" in "posthog" directive/ ],
    [ 'posthog_cookie ph samesite=none;',
      qr/"samesite=none" requires "secure" in "posthog_cookie" directive/ ],
    [ 'posthog_cookie ph samesite=none secure=off;',
      qr/"samesite=none" requires "secure"/ ],
    [ 'posthog_cookie ph samesite=sometimes;',
      qr/invalid parameter "samesite=sometimes" in "posthog_cookie" directive in .*nginx.conf:\d+/ ],
    [ 'posthog_cookie "p h";',
      qr/invalid cookie name "p h" in "posthog_cookie"/ ],
    [ 'posthog_cookie ph max_age=forever;',
      qr/invalid parameter "max_age=forever"/ ],
    [ 'posthog_cookie ph max_age=0;',
      qr/invalid parameter "max_age=0"/ ],
    [ 'posthog_cookie ph path=shop;',
      qr/invalid parameter "path=shop"/ ],
    [ 'posthog_cookie ph "path=/a;b";',
      qr/invalid parameter "path=\/a;b"/ ],
    [ 'posthog_cookie ph "domain=a b";',
      qr/invalid parameter "domain=a b"/ ],
    [ 'posthog_cookie __Host-ph secure path=/x;',
      qr/cookie name "__Host-ph" requires "path=\/" and no "domain"/ ],
    [ 'posthog_cookie __Secure-ph;',
      qr/cookie name "__Secure-ph" requires "secure"/ ],
    [ 'posthog_cookie a; posthog_cookie b;',
      qr/"posthog_cookie" directive is duplicate/ ],
);

for my $case (@bad) {
    my ($directive, $re) = @$case;
    my ($ok, $out) = $t->conf_test(<<"EOF");
server {
    listen 127.0.0.1:%%PORT_T%%;
    location / {
        $directive
    }
}
EOF
    ok(!$ok, "nginx -t fails: $directive");
    like($out, $re, "message: $directive") or diag $out;
}

done_testing;
