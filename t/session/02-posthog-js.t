# One identity with posthog-js (posthog_js_cookie on): the cookie posthog-js
# wrote (t/vectors/posthog-js-cookies.json) is adopted, distinct id, device
# id and session; the cookie the module writes decodes to the fields
# posthog-js reads, shaped as posthog-js's own at the first visit, after
# identify and after reset; when both cookies disagree posthog-js's wins
# unless ours is signed; hostile posthog-js cookies are ignored, counted
# and replaced; posthog_js_headers identifies a cookie-less client.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use PHTest;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
%%CAPTURE%%

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_reference;
    posthog_js_cookie on;
    posthog_identify $http_x_user;
    add_header X-Session $posthog_session_id;
    add_header X-Id $posthog_distinct_id;
    add_header X-Device $posthog_device_id;

    %%STATUS%%
    location = /logout { posthog_reset; return 200 "<html>bye</html>"; }
    # identify applies past the access phase: not to a "return"
    location / { proxy_pass http://127.0.0.1:%%PORT_APP%%; }
}

server {
    listen 127.0.0.1:%%PORT_APP%%;
    location / { return 200 "<html>page</html>"; }
}

server {
    listen 127.0.0.1:%%PORT_SIGNED%%;
    posthog on;
    posthog_api_key phc_reference;
    posthog_cookie_secret 0123456789abcdef0123456789abcdef;
    posthog_js_cookie on;
    posthog_js_headers on;
    add_header X-Id $posthog_distinct_id;
    location / { return 200 "<html>signed</html>"; }
}

server {
    listen 127.0.0.1:%%PORT_HEADERS%%;
    posthog on;
    posthog_api_key phc_reference;
    posthog_js_headers on;
    add_header X-Id $posthog_distinct_id;
    add_header X-Session $posthog_session_id;
    location / { return 200 "<html>api</html>"; }
}
EOF

my $JS = 'ph_phc_reference_posthog';
my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
my $port = $t->port;

my $vectors = do {
    local (@ARGV, $/) = ('t/vectors/posthog-js-cookies.json');
    decode_json(<>);
};
my %step = map { $_->{step} => $_ } @{ $vectors->{steps} };
is($step{home}{cookie_name}, $JS, 'the vectors\' cookie name is ours for phc_reference');

sub uri_decode { my $s = shift; $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; $s }
sub uri_encode {    # encodeURIComponent
    my $s = shift;
    $s =~ s/([^A-Za-z0-9\-_.!~*'()])/sprintf '%%%02X', ord $1/ge;
    return $s;
}
sub js_of { my $r = shift; my $c = $r->{cookies}{$JS} or return undef;
            decode_json(uri_decode($c->{value})) }

# a JSON value's shape: the type, and for an array or object its members'
sub shape {
    my $v = shift;
    return 'null' unless defined $v;
    return 'bool' if JSON::PP::is_bool($v);
    return '[' . join(',', map { shape($_) } @$v) . ']' if ref $v eq 'ARRAY';
    return '{' . join(',', map { "$_:" . shape($v->{$_}) } sort keys %$v) . '}'
        if ref $v eq 'HASH';
    return JSON::PP->new->allow_nonref->encode($v) =~ /^"/ ? 'string' : 'number';
}

# the members posthog-js reads, with posthog-js's shape
my @READ = qw(distinct_id $device_id $user_state $sesid $client_session_props);
sub same_shape {
    my ($ours, $theirs, $what, @keys) = @_;
    for my $k (@keys) {
        is(shape($ours->{$k}), shape($theirs->{$k}), "$what: $k shaped as posthog-js's");
    }
}

# 1. a first visit: the module writes posthog-js's cookie

my $r = $t->get('/p/home');
my $c = $r->{cookies}{$JS};
ok($c, 'first visit: posthog-js\'s cookie written');
is($c->{attrs}{path}, '/', '... Path=/');
is($c->{attrs}{samesite}, 'Lax', '... SameSite=Lax');
is($c->{attrs}{'max-age'}, 365 * 86400, '... a year');
ok(!exists $c->{attrs}{httponly}, '... not HttpOnly: posthog-js reads it');
like($c->{value}, qr/^[A-Za-z0-9\-_.!~*'()%]+$/, '... encodeURIComponent\'s alphabet');
my $js = js_of($r);
my $id = $r->{cookies}{ph_id}{id};
is($js->{distinct_id}, $id, 'distinct_id = our anonymous id');
is($js->{'$device_id'}, $id, '$device_id = it too, as posthog-js\'s first visit');
is($js->{'$user_state'}, 'anonymous', '$user_state anonymous');
is($js->{'$sesid'}[1], $r->{headers}{'x-session'}, '$sesid[1] = $posthog_session_id');
ok($js->{'$sesid'}[0] >= $js->{'$sesid'}[2] && $js->{'$sesid'}[2] > 1e12,
   '$sesid times in ms, last >= start');
is($js->{'$client_session_props'}{sessionId}, $js->{'$sesid'}[1],
   '$client_session_props of the session');
is($js->{'$client_session_props'}{props}{u}, "http://127.0.0.1:$port/p/home",
   '... its entry URL');
is($js->{'$client_session_props'}{props}{r}, '$direct', '... and referrer');
same_shape($js, $step{home}{decoded}, 'first visit', @READ);
my $first = $js;
my $jar_ph = $r->{cookies}{ph_id}{value};
my $jar_js = $c->{value};

# 2. identify: the cookie as posthog-js leaves it after identify()

$r = $t->get('/p/login', 'X-User' => 'user-42', Cookie => "ph_id=$jar_ph; $JS=$jar_js");
$js = js_of($r);
ok($js, 'identify: posthog-js\'s cookie rewritten');
is($js->{distinct_id}, 'user-42', 'distinct_id the user');
is($js->{'$user_state'}, 'identified', '$user_state identified');
is($js->{'$device_id'}, $first->{'$device_id'}, '$device_id kept');
is($js->{'$user_id'}, 'user-42', '$user_id');
ok(JSON::PP::is_bool($js->{'$epp'}) && $js->{'$epp'}, '$epp true');
is($js->{'$sesid'}[1], $first->{'$sesid'}[1], 'the session kept');
my $login = $step{'login?act=login&u=user-42'}{decoded};
same_shape($js, $login, 'after identify', @READ, '$user_id', '$epp');
$jar_ph = $r->{cookies}{ph_id}{value};
$jar_js = $r->{cookies}{$JS}{value};

# 3. reset: as posthog-js's reset()

$r = $t->get('/logout', Cookie => "ph_id=$jar_ph; $JS=$jar_js");
$js = js_of($r);
ok($js, 'reset: posthog-js\'s cookie rewritten');
like($js->{distinct_id}, $UUID, 'a new anonymous distinct_id');
isnt($js->{distinct_id}, $first->{distinct_id}, '... not the first one');
is($js->{distinct_id}, $r->{headers}{'x-id'}, '... ours');
is($js->{'$device_id'}, $first->{'$device_id'}, '$device_id kept');
is($js->{'$user_state'}, 'anonymous', 'anonymous again');
isnt($js->{'$sesid'}[1], $first->{'$sesid'}[1], 'a new session');
like($js->{'$last_posthog_reset'}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     '$last_posthog_reset as toISOString()');
ok(!exists $js->{'$user_id'} && !exists $js->{'$epp'}, 'no $user_id, no $epp');
my $logout = $step{'logout?act=logout'}{decoded};
same_shape($js, $logout, 'after reset', @READ, '$last_posthog_reset');
is(join(',', sort grep { !/^\$(capture_rate_limit|initial_person_info)$/ } keys %$logout),
   join(',', sort keys %$js),
   'after reset: posthog-js\'s members, but its rate limiter and first touch');

# 4. adopting what posthog-js wrote

my $page1 = $step{page1};
$r = $t->get('/p/x', Cookie => "$JS=$page1->{raw}");
is($r->{headers}{'x-id'}, $page1->{decoded}{distinct_id}, 'posthog-js\'s distinct_id adopted');
is($r->{headers}{'x-device'}, $page1->{decoded}{'$device_id'}, '... its $device_id');
isnt($r->{headers}{'x-session'}, $page1->{decoded}{'$sesid'}[1],
     'its session, days old, is over: a new one');
my ($e) = grep { $_->{properties}{'$pathname'} eq '/p/x' } $t->wait_events(5);
is($e->{distinct_id}, $page1->{decoded}{distinct_id}, 'the event is posthog-js\'s person\'s');
is($e->{properties}{'$device_id'}, $page1->{decoded}{'$device_id'}, '... on its device');

# the same cookie with its times moved to now: the session is adopted too
my $now = int(time * 1000);
my $fresh = decode_json(encode_json($page1->{decoded}));
$fresh->{'$sesid'} = [ $now - 1000, $fresh->{'$sesid'}[1], $now - 5000 ];
my $raw = uri_encode(JSON::PP->new->encode($fresh));
$r = $t->get('/p/y', Cookie => "$JS=$raw");
is($r->{headers}{'x-session'}, $fresh->{'$sesid'}[1], 'a live posthog-js session adopted');
($e) = grep { $_->{properties}{'$pathname'} eq '/p/y' } $t->wait_events(6);
is($e->{properties}{'$session_id'}, $fresh->{'$sesid'}[1], '... on the event');
is($e->{properties}{'$session_entry_url'}, $fresh->{'$client_session_props'}{props}{u},
   '... with posthog-js\'s entry URL');
is($e->{properties}{'$session_entry_referrer'}, '$direct', '... and referrer');
my $ours = $r->{cookies}{ph_id};
ok($ours, 'our cookie written for the adopted identity');
is($ours->{id}, $page1->{decoded}{distinct_id}, '... with posthog-js\'s anonymous id');

# an identified posthog-js cookie (after its identify)
my $login_raw = $step{'login?act=login&u=user-42'}{raw};
$r = $t->get('/p/z', Cookie => "$JS=$login_raw");
is($r->{headers}{'x-id'}, 'user-42', 'an identified posthog-js cookie: its user');

# the largest posthog-js cookie: an entry of a 3 KB URL and referrer, cut

$r = $t->get('/p/' . ('%C3%A9' x 1000), Referer => 'https://r.example/' . ('"' x 3000));
my $big = $r->{headers}{'set-cookie'};
my ($jsline) = grep { /^\Q$JS\E=/ } ref $big ? @$big : ($big);
diag('the largest posthog-js cookie written, entry of a 3 KB URL and referrer: '
     . length($jsline) . ' bytes (Set-Cookie)');
ok(length($jsline) < 4096, 'under the 4096 bytes a browser keeps');
is(length(js_of($r)->{'$client_session_props'}{props}{u}), 512, 'its entry URL cut at 512 bytes');
my $raw_resp = $t->raw("GET /p/" . ('"' x 600) . " HTTP/1.0\r\nHost: h\r\n"
                      . "Referer: http://r/" . ('"' x 300) . "\r\n\r\n");
($jsline) = $raw_resp =~ /^Set-Cookie: (\Q$JS\E=[^\r\n]*)/m;
ok($jsline && length($jsline) < 4096,
   'a URL that would not fit encoded: the cookie still written, within 4096 bytes');
$r = { cookies => PHTest::parse_set_cookie($jsline) };
ok(!exists js_of($r)->{'$client_session_props'}, '... without the entry');

# 5. both cookies, disagreeing

$r = $t->get('/p/a');
my $mine = $r->{cookies}{ph_id}{value};
my $mine_id = $r->{cookies}{ph_id}{id};
$r = $t->get('/p/b', Cookie => "ph_id=$mine; $JS=$login_raw");
is($r->{headers}{'x-id'}, 'user-42', 'unsigned: posthog-js\'s identity wins');

my $sp = $t->port('SIGNED');
$r = $t->get('/s', -port => $sp);
my $signed = $r->{cookies}{ph_id}{value};
my $signed_id = $r->{cookies}{ph_id}{id};
$r = $t->get('/s', -port => $sp, Cookie => "ph_id=$signed; $JS=$login_raw");
is($r->{headers}{'x-id'}, $signed_id, 'signed: our identity wins');
is(js_of($r)->{distinct_id}, $signed_id, '... and posthog-js\'s cookie is rewritten to it');
$r = $t->get('/s', -port => $sp, Cookie => "$JS=$login_raw");
isnt($r->{headers}{'x-id'}, 'user-42', 'signed, no cookie of ours: posthog-js\'s id not adopted');

# 6. hostile posthog-js cookies: ignored, counted, replaced

my $bad = $t->status->{bad_js_cookies};
is($bad, 0, 'no refused posthog-js cookie so far');
my @hostile = (
    [ 'not JSON', 'hello' ],
    [ 'truncated', substr($page1->{raw}, 0, 200) ],
    [ 'bad escape', '%7B%ZZ' ],
    [ 'an array', uri_encode('["distinct_id"]') ],
    [ 'numeric id', uri_encode('{"distinct_id":42}') ],
    [ 'illegal id', uri_encode('{"distinct_id":"null"}') ],
    [ 'CR LF in the id', uri_encode('{"distinct_id":"a\r\nSet-Cookie: x=1"}') ],
    [ 'escaped CR LF', uri_encode('{"distinct_id":"a\\r\\nX: y"}') ],
    [ 'invalid UTF-8', '%7B%22distinct_id%22%3A%22%FF%FE%22%7D' ],
    [ 'lone surrogate', uri_encode('{"distinct_id":"\\ud800"}') ],
    [ 'deep', uri_encode('{"distinct_id":"a","x":' . ('[' x 100) . (']' x 100) . '}') ],
    [ 'oversized', uri_encode('{"distinct_id":"a","x":"' . ('y' x 5000) . '"}') ],
    [ 'duplicate id', uri_encode('{"distinct_id":"a","distinct_id":"b"}') ],
    [ 'bad $sesid', uri_encode('{"distinct_id":"a","$sesid":[1,"<script>",2]}') ],
    [ 'too long id', uri_encode('{"distinct_id":"' . ('x' x 201) . '"}') ],
);
for my $h (@hostile) {
    my ($what, $v) = @$h;
    $r = $t->get('/p/h', Cookie => "ph_id=$mine; $JS=$v");
    is($r->{status}, 200, "$what: answered");
    is($r->{headers}{'x-id'}, $mine_id, "$what: ignored, our id kept");
    my $new = js_of($r);
    is($new && $new->{distinct_id}, $mine_id, "$what: replaced by a good cookie");
    $bad++;
    is($t->wait_status(bad_js_cookies => $bad)->{bad_js_cookies}, $bad, "$what: counted");
}
my @ev;
for (1 .. 100) {
    @ev = grep { $_->{properties}{'$pathname'} eq '/p/h' } $t->events;
    last if @ev >= @hostile;
    select undef, undef, undef, 0.05;
}
is(scalar(grep { $_->{distinct_id} eq $mine_id } @ev), scalar @hostile,
   'their events are our visitor\'s');
unlike($t->error_log, qr/script|Set-Cookie: x|\xff/, 'nothing of them in the error log');
like($t->error_log, qr/posthog-js's cookie "$JS" refused/, 'refusals logged');

# a doubled posthog-js cookie is ambiguous: ignored
$r = $t->get('/p/d', Cookie => "ph_id=$mine; $JS=$login_raw; $JS=$page1->{raw}");
is($r->{headers}{'x-id'}, $mine_id, 'doubled: ignored');

# 7. posthog-js's tracing headers, for a client without cookies

my $hp = $t->port('HEADERS');
my $did = '01a223cd-6619-7435-92fa-8223dd7d142d';
my $sid = sprintf('%08x-%04x-7abc-8def-0123456789ab', int($now / 65536), $now % 65536);
$r = $t->get('/api', -port => $hp, 'X-POSTHOG-DISTINCT-ID' => $did,
             'X-POSTHOG-SESSION-ID' => $sid);
is($r->{headers}{'x-id'}, $did, 'X-POSTHOG-DISTINCT-ID used');
is($r->{headers}{'x-session'}, $sid, 'X-POSTHOG-SESSION-ID used');
ok(!$r->{headers}{'set-cookie'}, 'no cookie for a client of the headers');
$r = $t->get('/api', -port => $hp, 'X-POSTHOG-DISTINCT-ID' => 'user-9');
is($r->{headers}{'x-id'}, 'user-9', 'an identified id from the header');
my $refused = $t->status->{refused_ids};
$r = $t->get('/api', -port => $hp, 'X-POSTHOG-DISTINCT-ID' => 'undefined',
             'X-POSTHOG-SESSION-ID' => 'nope');
like($r->{headers}{'x-id'}, $UUID, 'an illegal id from the header: refused');
isnt($r->{headers}{'x-session'}, 'nope', '... a bad session id too');
is($t->wait_status(refused_ids => $refused + 1)->{refused_ids}, $refused + 1,
   '... counted');
$r = $t->get('/api', -port => $hp, Cookie => "ph_id=$mine",
             'X-POSTHOG-DISTINCT-ID' => $did);
is($r->{headers}{'x-id'}, $mine_id, 'our cookie beats the headers');
$r = $t->get('/api', -port => $t->port('SIGNED'), 'X-POSTHOG-DISTINCT-ID' => 'user-9');
isnt($r->{headers}{'x-id'}, 'user-9', 'with posthog_cookie_secret: the headers ignored');

# a user id that cannot fit in posthog-js's cookie (200 four-byte
# characters, twice, percent-encoded): posthog-js's is not written, ours is

$r = $t->get('/p/long');
my $ours = $r->{cookies}{ph_id}{value};
my $bad0 = $t->status->{bad_js_cookies};
my $long = "\xf0\x9f\x98\x80" x 200;
# (raw: HTTP::Tiny sends no bytes over 0x7f in a header)
my $raw = $t->raw("GET /p/long HTTP/1.0\r\nHost: x\r\nCookie: ph_id=$ours\r\n"
                  . "X-User: $long\r\n\r\n");
my ($set) = $raw =~ /^Set-Cookie: ph_id=([^;\r\n]+)/m;
ok($set, 'a 200-emoji user id: our cookie is written');
unlike($raw, qr/^Set-Cookie: \Q$JS\E=/m,
       "... posthog-js's is not (it would be over 4096 bytes)");
$raw = $t->raw("GET /p/long HTTP/1.0\r\nHost: x\r\nCookie: ph_id=$set\r\n\r\n");
my ($xid) = $raw =~ /^X-Id: (.*?)\r$/m;
is($xid, $long, '... and ours keeps the user');
is($t->wait_status(bad_js_cookies => $bad0 + 2)->{bad_js_cookies}, $bad0 + 2,
   '... counted in bad_js_cookies, on both responses that could not carry it');

$t->stop;
$t->check_log;   # no [alert] either

done_testing();
