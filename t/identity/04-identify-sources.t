# Identify from each kind of source, refuse PostHog's illegal ids, the
# app's signal headers (on and off), logout by regex and by signal.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use MIME::Base64;
use PHTest;

my $t = PHTest->new(redis => 1);

$t->file(htpasswd => "alice:{PLAIN}secret\nnull:{PLAIN}x\n");

$t->run(<<'EOF');
%%CAPTURE%%

upstream app { server 127.0.0.1:%%PORT_APP%%; }

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_sources;
    posthog_logout ^/bye$ ~*^/SIGN-?OUT;
    add_header X-Id $posthog_distinct_id;
    add_header X-Identified "[$posthog_identified]";
    add_header X-Device $posthog_device_id;

    location /basic/ {
        auth_basic "test";
        auth_basic_user_file %%DIR%%/htpasswd;
        posthog_identify $remote_user;
        %%PAGE%%
    }

    location /trusted/ {
        # a header set by a trusted proxy (or auth_request_set)
        posthog_identify $http_x_authenticated_user;
        %%PAGE%%
    }

    location /session/ {
        posthog_identify $cookie_app_user;
        %%PAGE%%
    }

    location /sso/ {
        # an authentication service answers the subrequest with the user
        auth_request /auth;
        auth_request_set $auth_user $upstream_http_x_auth_user;
        posthog_identify $auth_user;
        proxy_pass http://app/page;
    }

    location = /auth {
        internal;
        proxy_pass http://app/check;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }

    location /signals/ {
        posthog_signals on;
        proxy_pass http://app;
    }

    location /nosignals/ {
        proxy_pass http://app/signals/;
    }

    location = /broken-logout {
        posthog_reset;
        return 500;
    }

    location / {
        return 200 "<html>page</html>";
    }

    %%STATUS%%
}

server {
    listen 127.0.0.1:%%PORT_APP%%;
    default_type text/html;

    location = /check {
        if ($http_authorization = "Bearer dana-token") {
            add_header X-Auth-User dana;
            return 204;
        }
        return 401;
    }

    location /page { return 200 "<html>app page</html>"; }

    location /signals/login {
        add_header X-PostHog-Identify "  user-7  ";
        return 200 "<html>in</html>";
    }
    location /signals/buy {
        add_header X-PostHog-Event purchase;
        add_header X-PostHog-Property-Plan "pro \"gold\"";
        add_header X-PostHog-Property-Amount 42;
        return 200 "<html>bought</html>";
    }
    location /signals/logout {
        add_header X-PostHog-Reset 1;
        return 200 "<html>out</html>";
    }
}
EOF

# the anonymous id of an anonymous state (a valid cookie on its own: the
# short form), else the whole state
sub id_of {
    my $c = $_[0]{cookies}{ph_id} or return undef;
    return $c->{value} =~ /^[^.]*\.[^.]*\.\./ ? $c->{id} : $c->{value};
}

my $identifies = 0;
# $remote_user

my $r = $t->get('/p');
my $anon = id_of($r);
$t->new_events(1);

$r = $t->get('/basic/x', Cookie => "ph_id=$anon",
             Authorization => 'Basic ' . encode_base64('alice:secret', ''));
is($r->{headers}{'x-id'}, 'alice', 'auth_basic: $posthog_distinct_id is the user');
is($r->{headers}{'x-identified'}, '[1]', '$posthog_identified = 1');
is($r->{headers}{'x-device'}, $anon, '$posthog_device_id is the first anonymous id');
my $state = id_of($r);
ok($state && $state ne $anon, 'the cookie now carries the identified state');
my @ev = $t->new_events(2);
is($ev[0]{event}, '$identify', 'auth_basic: $identify');
is($ev[0]{distinct_id}, 'alice', '... as alice');
is($ev[0]{properties}{'$anon_distinct_id'}, $anon, '... linking the anonymous id');
is($ev[1]{distinct_id}, 'alice', 'the page view is alice\'s');
$t->counter_is(identifies => ++$identifies, 'auth_basic: identifies +1');

# later requests without credentials keep the identity
$r = $t->get('/p', Cookie => "ph_id=$state");
is($r->{headers}{'x-id'}, 'alice', 'identity kept by the cookie');
ok(!$r->{headers}{'set-cookie'}, 'no Set-Cookie while nothing changes');
@ev = $t->new_events(1);
is($ev[0]{distinct_id}, 'alice', 'later page views are alice\'s');

# illegal ids are refused: the visitor stays anonymous

for my $bad ('null', 'undefined', 'anonymous', 'Guest', '"None"', "'0'",
             '[object Object]', ' ', 'distinct_id', 'x' x 201) {
    my $v = $t->get('/p');
    my $a = id_of($v);
    $t->new_events(1);
    $r = $t->get('/trusted/x', Cookie => "ph_id=$a", 'X-Authenticated-User' => $bad);
    is($r->{headers}{'x-id'}, $a, "illegal id '$bad': stays anonymous");
    is($r->{headers}{'x-identified'}, '[]', "illegal id '$bad': not identified");
    @ev = $t->new_events(1);
    is($ev[0]{event}, '$pageview', "illegal id '$bad': no \$identify");
    is($ev[0]{distinct_id}, $a, "illegal id '$bad': the event keeps the anonymous id");
}

# the user name from auth_basic may be illegal too
$r = $t->get('/basic/x', Authorization => 'Basic ' . encode_base64('null:x', ''));
is($r->{status}, 200, 'user "null" logged in');
is($r->{headers}{'x-identified'}, '[]', 'but is not identified as "null"');
$t->new_events(1);

my $status = $t->get('/p');
$t->new_events(1);
$t->counter_is(identifies => $identifies, 'illegal ids: no identifies counted');

like($t->error_log, qr/posthog: refused an identify id \(illegal/, 'refusal logged');
my $lines = () = $t->error_log =~ /refused an identify id/g;
ok($lines < 5, "refusals are rate-limited in the log ($lines lines for 11 refusals)");

# trusted request header
$r = $t->get('/p');
my $b = id_of($r);
$t->new_events(1);
$r = $t->get('/trusted/x', Cookie => "ph_id=$b", 'X-Authenticated-User' => "bob");
is($r->{headers}{'x-id'}, 'bob', 'trusted header: identified');
my $bob = id_of($r);
@ev = $t->new_events(2);
is($ev[0]{event}, '$identify', 'trusted header: $identify');
is($ev[0]{distinct_id}, 'bob', '... as bob');
is($ev[0]{properties}{'$anon_distinct_id'}, $b, '... linking the earlier anonymous id');
$t->counter_is(identifies => ++$identifies, 'trusted header: identifies +1');

# a client that keeps no cookie (an API client with credentials): its
# anonymous id is new on every request, with no history to join
for (1 .. 3) {
    $r = $t->get('/trusted/x', 'X-Authenticated-User' => "bob");
    is($r->{headers}{'x-id'}, 'bob', 'no cookie: identified');
}
@ev = $t->new_events(3);
is(scalar(grep { $_->{event} eq '$identify' } @ev), 0,
   'no cookie: no $identify (nothing to merge)');
is(scalar(grep { $_->{distinct_id} eq 'bob' } @ev), 3, 'the events are bob\'s');
$t->counter_is(identifies => $identifies, 'no cookie: no identifies counted');

# auth_request + auth_request_set
$r = $t->get('/p');
my $dn = id_of($r);
$t->new_events(1);
$r = $t->get('/sso/x', Cookie => "ph_id=$dn", Authorization => 'Bearer nope');
is($r->{status}, 401, 'auth_request refuses a bad token');
$r = $t->get('/sso/x', Cookie => "ph_id=$dn", Authorization => 'Bearer dana-token');
is($r->{status}, 200, 'auth_request accepts dana');
is($r->{headers}{'x-id'}, 'dana', 'auth_request_set: identified');
@ev = $t->new_events(2);
is($ev[0]{event}, '$identify', 'auth_request_set: $identify');
is($ev[0]{distinct_id}, 'dana', '... as dana');
is($ev[0]{properties}{'$anon_distinct_id'}, $dn, '... linking her anonymous id');
$t->counter_is(identifies => ++$identifies, 'auth_request_set: identifies +1');

# a session cookie of the app
$r = $t->get('/session/x', Cookie => "ph_id=$bob; app_user=carol");
is($r->{headers}{'x-id'}, 'carol', 'cookie: identified (another user, no logout)');
@ev = $t->new_events(1);
is($ev[0]{event}, '$pageview', 'identified as bob before: no $identify, no merge');
$t->counter_is(identifies => $identifies, '... and no identifies counted');
$r = $t->get('/p');
my $c = id_of($r);
$t->new_events(1);
$r = $t->get('/session/x', Cookie => "ph_id=$c; app_user=carol");
@ev = $t->new_events(2);
is($ev[0]{event}, '$identify', 'cookie: $identify');
is($ev[0]{distinct_id}, 'carol', '... as carol');
$t->counter_is(identifies => ++$identifies, 'cookie: identifies +1');

# logout by posthog_logout regex (case-insensitive one)
my $carol = id_of($r);
$t->counter_is(resets => 0, 'no resets yet');
$r = $t->get('/sign-out', Cookie => "ph_id=$carol");
my $new = id_of($r);
ok($new, 'logout regex: new cookie');
$t->counter_is(resets => 1, 'logout regex: resets +1');
like($r->{headers}{'x-id'}, qr/^[0-9a-f]{8}-/, 'logout regex: anonymous again');
@ev = $t->new_events(1);
is($ev[0]{distinct_id}, 'carol', 'the logout request\'s own event is carol\'s');
$r = $t->get('/p', Cookie => "ph_id=$new");
@ev = $t->new_events(1);
isnt($ev[0]{distinct_id}, 'carol', 'after logout: not carol');
is($ev[0]{properties}{'$process_person_profile'}, JSON::PP::false(), 'after logout: person-less again');

# a logout that fails logs nobody out
$r = $t->get('/broken-logout', Cookie => "ph_id=$carol");
is($r->{status}, 500, 'the logout failed');
ok(!id_of($r), 'a failed logout sets no cookie');
$t->counter_is(resets => 1, 'a failed logout: no resets counted');

$r = $t->get('/bye', Cookie => "ph_id=$carol");
ok(id_of($r), 'the other logout regex resets too');
$t->counter_is(resets => 2, 'the other logout regex: resets +1');
$t->new_events(1);

# signals on: identify, custom event with properties, reset

$r = $t->get('/p');
my $s = id_of($r);
$t->new_events(1);
$r = $t->get('/signals/login', Cookie => "ph_id=$s");
ok(!exists $r->{headers}{'x-posthog-identify'}, 'signal header stripped');
is($r->{headers}{'x-id'}, 'user-7', 'X-PostHog-Identify (trimmed) identifies');
my $u7 = id_of($r);
@ev = $t->new_events(2);
is($ev[0]{event}, '$identify', 'signal: $identify');
$t->counter_is(identifies => ++$identifies, 'signal: identifies +1');

$r = $t->get('/signals/buy', Cookie => "ph_id=$u7");
ok(!grep(/^x-posthog/, keys %{ $r->{headers} }), 'all X-PostHog-* headers stripped');
@ev = $t->new_events(2);
my ($buy) = grep { $_->{event} eq 'purchase' } @ev;
ok($buy, 'X-PostHog-Event: purchase captured');
is($buy->{distinct_id}, 'user-7', 'as the user');
is($buy->{properties}{plan}, 'pro "gold"', 'X-PostHog-Property-Plan');
is($buy->{properties}{amount}, '42', 'X-PostHog-Property-Amount');

$r = $t->get('/signals/logout', Cookie => "ph_id=$u7");
like($r->{headers}{'x-id'}, qr/^[0-9a-f]{8}-/, 'X-PostHog-Reset logs out');
$t->counter_is(resets => 3, 'X-PostHog-Reset: resets +1');
$t->new_events(1);

# signals off: stripped and ignored

$r = $t->get('/nosignals/login');
ok(!exists $r->{headers}{'x-posthog-identify'}, 'signals off: header still stripped');
like($r->{headers}{'x-id'}, qr/^[0-9a-f]{8}-/, 'signals off: not identified');
$r = $t->get('/nosignals/buy');
@ev = $t->new_events(2);
ok(!grep({ $_->{event} eq 'purchase' } @ev), 'signals off: no custom event');
ok(!grep({ $_->{event} eq '$identify' } @ev), 'signals off: no $identify');
$t->counter_is(identifies => $identifies, 'signals off: no identifies counted');

done_testing;
