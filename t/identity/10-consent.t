# Without consent (posthog_consent empty, 0, off, false or no; or Sec-GPC: 1
# with posthog_honor_gpc on) the module sets no cookie, reads none of its
# own, identifies nobody, and sends PostHog's cookieless events (the
# sentinel "$posthog_cookieless" as distinct_id, $device_id and $session_id,
# "$cookieless_mode": true, person-less), or none with
# "posthog_consent_missing drop" (counted); consent withdrawn deletes the
# cookie in the same response; with consent, or without posthog_consent,
# everything is as before.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
%%CAPTURE%%

upstream app { server 127.0.0.1:%%PORT_APP%%; }

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_consent;
    posthog_consent $cookie_cookie_consent;
    posthog_identify $http_x_user;
    add_header X-Id $posthog_distinct_id;
    add_header X-Anon $posthog_anon_id;
    add_header X-Consent $posthog_consent;

    location / { %%PAGE%% }
    location /gpc/ { posthog_honor_gpc on; %%PAGE%% }
    location /drop/ { posthog_consent_missing drop; %%PAGE%% }
    location /signals/ { posthog_signals on; proxy_pass http://app; }
    location /loop/ { posthog_consent $posthog_distinct_id; %%PAGE%% }
    location /js/ { posthog_js_cookie on; %%PAGE%% }
    # a client without a User-Agent is not a browser: tracked only here
    location /nua/ { posthog_bots capture; %%PAGE%% }
    %%STATUS%%
}

# posthog_consent unset: consent assumed; a cookie with its attributes
server {
    listen 127.0.0.1:%%PORT_OLD%%;
    posthog on;
    posthog_api_key phc_consent;
    posthog_cookie ph2 domain=example.test path=/shop max_age=1d httponly
                   samesite=strict;
    add_header X-Id $posthog_distinct_id;

    location / { %%PAGE%% }
    location /shop/ {
        posthog_consent $cookie_cookie_consent;
        %%PAGE%%
    }
}

server {
    listen 127.0.0.1:%%PORT_APP%%;
    default_type text/html;

    location /signals/login {
        add_header X-PostHog-Identify user-9;
        add_header X-PostHog-Event signed_up;
        return 200 "<html>in</html>";
    }
}
EOF

my $SENTINEL = '$posthog_cookieless';
my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

# checks one event is cookieless, and carries none of @ids anywhere
sub cookieless_ok {
    my ($e, $what, @ids) = @_;
    my $p = $e->{properties};
    is($e->{distinct_id}, $SENTINEL, "$what: distinct_id is the sentinel");
    is($p->{'$device_id'}, $SENTINEL, "$what: \$device_id is the sentinel");
    is($p->{'$session_id'}, $SENTINEL, "$what: \$session_id is the sentinel");
    ok(JSON::PP::is_bool($p->{'$cookieless_mode'}) && $p->{'$cookieless_mode'},
       "$what: \$cookieless_mode is true");
    ok(JSON::PP::is_bool($p->{'$process_person_profile'})
       && !$p->{'$process_person_profile'}, "$what: person-less");
    ok(length($p->{'$raw_user_agent'} // ''), "$what: a user agent to hash");
    ok(length($p->{'$ip'} // '') && length($p->{'$host'} // ''),
       "$what: an ip and a host to hash");
    for my $id (@ids) {
        unlike($e->{_raw}, qr/\Q$id\E/, "$what: no old id in the event");
    }
    ok(!exists $e->{'$set'} && !exists $e->{'$set_once'},
       "$what: no person properties");
}

# no consent in its forms: no cookie, no id, one cookieless event each

for my $c (undef, '', '0', 'off', 'FALSE', 'No') {
    my $what = defined $c ? "consent \"$c\"" : 'no consent cookie';
    my $r = $t->get('/', defined $c ? (Cookie => "cookie_consent=$c") : ());
    is($r->{status}, 200, "$what: 200");
    ok(!defined $r->{headers}{'set-cookie'}, "$what: no Set-Cookie");
    is($r->{headers}{'x-id'} // '', '', "$what: \$posthog_distinct_id empty");
    is($r->{headers}{'x-anon'} // '', '', "$what: \$posthog_anon_id empty");
    is($r->{headers}{'x-consent'} // '', '', "$what: \$posthog_consent empty");
    my ($e) = $t->new_events(1);
    is($e->{event}, '$pageview', "$what: a pageview");
    cookieless_ok($e, $what);
}

# consent: as before (a cookie, an id, a normal event)

my $r = $t->get('/', Cookie => 'cookie_consent=yes');
my $c = $r->{cookies}{ph_id}{value};
like($c // '', qr/^0/, 'consent: a cookie is set');
like($r->{headers}{'x-id'}, $UUID, 'consent: $posthog_distinct_id is the id');
is($r->{headers}{'x-consent'}, '1', 'consent: $posthog_consent is 1');
my ($e) = $t->new_events(1);
is($e->{distinct_id}, $r->{headers}{'x-id'}, 'consent: the event has the id');
ok(!exists $e->{properties}{'$cookieless_mode'}, '... and is not cookieless');
my $anon = $r->{headers}{'x-id'};

# no consent, a login header and our cookie (consent withdrawn): no
# identify, the cookie deleted in this response, nothing with the old ids

$r = $t->get('/', Cookie => "cookie_consent=no; ph_id=$c", 'X-User' => 'alice');
my $del = $r->{cookies}{ph_id};
ok($del, 'withdrawn: the cookie is set again...');
is($del->{value}, '', '... empty');
is($del->{attrs}{'max-age'}, '0', '... Max-Age=0');
like($del->{attrs}{expires} // '', qr/1970/, '... an Expires in the past');
is($del->{attrs}{path}, '/', '... the same Path');
is($del->{count}, 1, '... once');
is($r->{headers}{'x-id'} // '', '', 'withdrawn: no id for the application');
my @ev = $t->new_events(1);
is(scalar @ev, 1, 'withdrawn: one event, no $identify');
cookieless_ok($ev[0], 'withdrawn', $anon, 'alice');

# after: no cookie comes back, and no cookie is set
$r = $t->get('/', Cookie => 'cookie_consent=no', 'X-User' => 'alice');
ok(!defined $r->{headers}{'set-cookie'}, 'after withdrawal: no Set-Cookie');
($e) = $t->new_events(1);
cookieless_ok($e, 'after withdrawal', $anon, 'alice');

# signals without consent: the identify is ignored and never reaches the
# client, the event is cookieless
$r = $t->get('/signals/login');
ok(!defined $r->{headers}{'x-posthog-identify'}, 'signals: headers removed');
ok(!defined $r->{headers}{'set-cookie'}, 'signals: no Set-Cookie');
@ev = $t->new_events(2);
is(join(',', map { $_->{event} } @ev), 'signed_up,$pageview',
   'signals: the signal event and the pageview, no $identify');
cookieless_ok($_, "signals, $_->{event}", 'user-9') for @ev;

# consent and a login: $identify as before
$r = $t->get('/', Cookie => 'cookie_consent=yes');
$c = $r->{cookies}{ph_id}{value};
$t->new_events(1);
$r = $t->get('/', Cookie => "cookie_consent=yes; ph_id=$c", 'X-User' => 'bob');
is($r->{headers}{'x-id'}, 'bob', 'consent and a login: identified');
@ev = $t->new_events(2);
is($ev[0]{event}, '$identify', '... with $identify');

# Global Privacy Control

$r = $t->get('/gpc/', Cookie => 'cookie_consent=yes', 'Sec-GPC' => '1');
ok(!defined $r->{headers}{'set-cookie'}, 'Sec-GPC: 1, honored: no cookie');
is($r->{headers}{'x-consent'} // '', '', '... $posthog_consent empty');
($e) = $t->new_events(1);
cookieless_ok($e, 'Sec-GPC: 1, honored');

$r = $t->get('/gpc/', Cookie => "cookie_consent=yes; ph_id=$c",
             'Sec-GPC' => '1');
is($r->{cookies}{ph_id}{attrs}{'max-age'}, '0',
   'Sec-GPC: 1 with our cookie: the cookie is deleted');
($e) = $t->new_events(1);
cookieless_ok($e, 'Sec-GPC: 1 with our cookie', 'bob');

$r = $t->get('/gpc/', Cookie => 'cookie_consent=yes', 'Sec-GPC' => '0');
ok($r->{cookies}{ph_id}{value}, 'Sec-GPC: 0: consent, a cookie');
$t->new_events(1);

$r = $t->get('/', Cookie => 'cookie_consent=yes', 'Sec-GPC' => '1');
ok($r->{cookies}{ph_id}{value},
   'Sec-GPC: 1 where posthog_honor_gpc is off: a cookie');
($e) = $t->new_events(1);
like($e->{distinct_id}, $UUID, '... and a normal event');

# a request without a user agent cannot be hashed: dropped, counted
my $resp = $t->raw("GET /nua/ HTTP/1.0\r\nHost: example.test\r\n\r\n",
                   undef, no_ua => 1);
like($resp, qr{^HTTP/1\.1 200}, 'no user agent, no consent: 200');
my $st = $t->wait_status(dropped_unhashable => 1);
is($st->{dropped_unhashable}, 1, '... the event dropped, counted');

# a consent that reads the module's own variables cannot be decided: no
# consent, logged
$r = $t->get('/loop/', Cookie => 'cookie_consent=yes');
is($r->{status}, 200, 'posthog_consent $posthog_*: 200');
ok(!defined $r->{headers}{'set-cookie'}, '... no cookie');
($e) = $t->new_events(1);
cookieless_ok($e, 'posthog_consent $posthog_*');
ok($t->log_count(qr/"posthog_consent" depends on the module's own/),
   '... logged');

# posthog_consent_missing drop: no event, counted

my $before = $t->status;
for (1 .. 3) {
    $r = $t->get('/drop/');
    ok(!defined $r->{headers}{'set-cookie'}, "drop: no Set-Cookie ($_)");
}
$r = $t->get('/drop/', Cookie => "ph_id=$c");
is($r->{cookies}{ph_id}{attrs}{'max-age'}, '0',
   'drop, withdrawn: the cookie is deleted too');
$st = $t->wait_status(dropped_unconsented => 4);
is($st->{dropped_unconsented}, 4, 'drop: four events not made, counted');
$r = $t->get('/drop/', Cookie => 'cookie_consent=1');
@ev = $t->new_events(1);
is(scalar @ev, 1, 'drop: nothing in the stream but the consented event');
like($ev[0]{distinct_id}, $UUID, 'drop, with consent: a normal event');

$st = $t->status;
is($st->{cookieless}, 13, 'the cookieless events are counted');
is($st->{events} - $before->{events}, 1,
   'dropped events are not counted as made');

# posthog_consent unset: as before, Sec-GPC ignored (posthog_honor_gpc off)
my $old = $t->port('OLD');
$r = $t->get('/', -port => $old, 'Sec-GPC' => '1');
ok($r->{cookies}{ph2}{value}, 'no posthog_consent: a cookie, as before');
like($r->{headers}{'x-id'}, $UUID, '... and an id');
my $c2 = $r->{cookies}{ph2}{value};
($e) = $t->new_events(1);
like($e->{distinct_id}, $UUID, '... and a normal event');

# withdrawal deletes with the cookie's own domain, path and attributes
$r = $t->get('/shop/', -port => $old, Cookie => "ph2=$c2; cookie_consent=0");
$del = $r->{cookies}{ph2};
is($del->{value}, '', 'withdrawn (ph2): deleted');
is($del->{attrs}{domain}, 'example.test', '... Domain as set');
is($del->{attrs}{path}, '/shop', '... Path as set');
is($del->{attrs}{'max-age'}, '0', '... Max-Age=0');
ok($del->{attrs}{httponly} && $del->{attrs}{samesite} eq 'Strict',
   '... HttpOnly and SameSite as set');
($e) = $t->new_events(1);
cookieless_ok($e, 'withdrawn (ph2)', (split /\./, $c2)[0]);

# bad values fail nginx -t, naming the directive and the value

for my $bad (['posthog_consent_missing maybe;',
              qr/invalid value "maybe" in "posthog_consent_missing"/],
             ['posthog_honor_gpc yes;',
              qr/invalid value "yes" in "posthog_honor_gpc"/])
{
    my $b = PHTest->new;
    my ($ok, $out) = $b->conf_test(<<"EOF");
server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    $bad->[0]
    location / { return 200; }
}
EOF
    ok(!$ok, "nginx -t fails: $bad->[0]");
    like($out, $bad->[1], '... naming the directive and the value');
}

# withdrawal with posthog_js_cookie on: posthog-js's cookie goes too

$r = $t->get('/js/', Cookie => 'cookie_consent=yes');
my $ours = $r->{cookies}{ph_id}{value};
my $js = $r->{cookies}{ph_phc_consent_posthog}{value};
ok($ours && $js, 'posthog_js_cookie, consent: both cookies set');
$r = $t->get('/js/',
             Cookie => "cookie_consent=no; ph_id=$ours; ph_phc_consent_posthog=$js");
is($r->{cookies}{ph_id}{attrs}{'max-age'}, '0', 'withdrawn: ours deleted');
my $jd = $r->{cookies}{ph_phc_consent_posthog};
is($jd->{value}, '', "withdrawn: posthog-js's deleted too");
is($jd->{attrs}{'max-age'}, '0', '... Max-Age=0');
is($jd->{attrs}{path}, '/', '... Path=/, as it was written');
ok(!exists $jd->{attrs}{httponly}, '... not HttpOnly, as it was written');

done_testing();
