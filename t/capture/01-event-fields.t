# What becomes an event, and what the event holds: the documented fields,
# the cookie's distinct_id, properties from variables, valid UTF-8 JSON
# whatever bytes the request carried.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use PHTest;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
%%CAPTURE%%

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_fields;
    posthog_event_max_size 64k;     # the per-value cuts alone here (the
                                    # event's own: 19-event-size.t)
    posthog_property status $status number;
    posthog_property plan $sent_http_x_plan;
    posthog_property cached $arg_cached boolean;
    posthog_property rt $arg_rt number;

    location / {
        add_header X-Plan pro;
        return 200 "<html>page</html>";
    }
    location /json { default_type application/json; return 200 "{}"; }
    location /missing { return 404 "<html>nope</html>"; }
    location /redirect { return 302 /; }
    location /static/ { posthog_capture off; return 200 "<html>static</html>"; }
    location /all/ {
        posthog_capture all;
        default_type application/json;
        return 200 "{}";
    }
    location = /api/signup {
        posthog_event signed_up;
        default_type application/json;
        return 201 "{}";
    }
    location = /api/fail {
        posthog_event failed;
        return 500;
    }
    location /other/ {
        posthog_api_key phc_other;
        posthog_property only here;
        return 200 "<html>other</html>";
    }
    location /nokey/ {
        posthog off;
        return 200 "<html>untracked</html>";
    }
    %%STATUS%%
}

server {
    listen 127.0.0.1:%%PORT_NOKEY%%;
    posthog on;
    location / { return 200 "<html>no key</html>"; }
}
EOF

my $r = $t->get('/p/home?q=1', Referer => 'https://www.google.com/search?q=x',
                'User-Agent' => 'Mozilla/5.0 TestAgent/1.0');
my $id = $r->{cookies}{ph_id}{id};
my @ev = $t->new_events(1);
is(scalar @ev, 1, 'a page view makes one event');
my $e = $ev[0];
is($e->{event}, '$pageview', 'event $pageview');
is($e->{distinct_id}, $id, 'distinct_id is the cookie\'s id');
is($e->{_t}, 'phc_fields', 'entry token');
like($e->{uuid}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/, 'uuid v7');
isnt($e->{uuid}, $id, 'event uuid is not the visitor id');
like($e->{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'timestamp ISO-8601 UTC ms');
my $p = $e->{properties};
my $port = $t->port;
is($p->{'$current_url'}, "http://127.0.0.1:$port/p/home?q=1", '$current_url');
is($p->{'$host'}, "127.0.0.1:$port", '$host');
is($p->{'$pathname'}, '/p/home', '$pathname');
is($p->{'$referrer'}, 'https://www.google.com/search?q=x', '$referrer');
is($p->{'$referring_domain'}, 'www.google.com', '$referring_domain');
is($p->{'$ip'}, '127.0.0.1', '$ip');
is($p->{'$raw_user_agent'}, 'Mozilla/5.0 TestAgent/1.0', '$raw_user_agent');
is($p->{'$lib'}, 'ngx_posthog_module', '$lib');
like($p->{'$lib_version'}, qr/^\d+\.\d+\.\d+$/, '$lib_version');
is($p->{'$device_id'}, $id, '$device_id');
ok(JSON::PP::is_bool($p->{'$process_person_profile'}) && !$p->{'$process_person_profile'},
   'anonymous: $process_person_profile false');
is($p->{status}, 200, 'number property from $status');
ok(!ref $p->{status} && $e->{_raw} =~ /"status":200[,}]/, '... as a JSON number');
is($p->{plan}, 'pro', 'property from a response header');
ok(!exists $p->{cached}, 'empty value: no property');
ok(!exists $p->{rt}, 'empty number: no property');

my $ts = $e->{timestamp};
my $uuid_ms = hex(substr($e->{uuid}, 0, 8)) * 65536 + hex(substr($e->{uuid}, 9, 4));
my ($Y, $M, $D, $h, $m, $s, $ms) = $ts =~ /(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z/;
require Time::Local;
is(Time::Local::timegm($s, $m, $h, $D, $M - 1, $Y) * 1000 + $ms, $uuid_ms,
   'the uuid\'s time is the event\'s timestamp');

$t->get('/p', Cookie => "ph_id=$id");
@ev = $t->new_events(1);
is($ev[0]{properties}{'$referrer'}, '$direct', 'no Referer: $direct');
is($ev[0]{properties}{'$referring_domain'}, '$direct', '$referring_domain $direct');

$t->get('/p?cached=on&rt=0.25');
@ev = $t->new_events(1);
is($ev[0]{properties}{cached}, JSON::PP::true, 'boolean property');
is($ev[0]{properties}{rt}, 0.25, 'number property');

$t->get('/p?rt=12abc');
@ev = $t->new_events(1);
ok(!exists $ev[0]{properties}{rt}, 'not a number: no property');

# what does not become an event

my $no_key0 = $t->status->{no_api_key};
$t->get('/json');
$t->get('/missing');
$t->get('/redirect');
$t->get('/static/x');
$t->get('/nokey/x');
$t->request('POST', '/p', -body => 'x');
$t->request('HEAD', '/p');
$t->get('/p', -port => $t->port('NOKEY'));
$t->get('/api/fail');
$t->get('/marker');
@ev = $t->new_events(1);
is(scalar @ev, 1, 'non-pages, errors, redirects, capture off, POST, HEAD: nothing');
is($ev[0]{properties}{'$pathname'}, '/marker', 'only the marker page');
# of these, only the tracked request without a key is counted as such
is($t->wait_status(no_api_key => $no_key0 + 1)->{no_api_key}, $no_key0 + 1,
   'the request without an api key: no_api_key +1');

# posthog_capture all, posthog_event

$t->get('/all/x');
$t->request('POST', '/api/signup', -body => '{}');
$t->get('/other/x');
@ev = $t->new_events(3);
is($ev[0]{event}, 'request', 'capture all: a non-page is "request"');
is($ev[1]{event}, 'signed_up', 'posthog_event names the event');
is($ev[2]{_t}, 'phc_other', 'a location\'s own api key');
is($ev[2]{properties}{only}, 'here', 'a location\'s own properties');
ok(!exists $ev[2]{properties}{plan}, 'replace the outer ones');

# hostile bytes: invalid UTF-8, controls, quotes in URL and User-Agent

my @hostile = (
    "/p/caf\xc3\xa9",                      # valid UTF-8, percent-less
    "/p/\xff\xfe\xc0\xaf",                 # invalid bytes, overlong
    "/p/\xed\xa0\x80x",                    # a surrogate
    "/p/\"quoted\"\\back",
    "/p/x%0a%22%09y",
);
for my $path (@hostile) {
    my $raw = $t->raw("GET $path HTTP/1.0\r\nHost: x\r\n"
        . "User-Agent: Mozilla/5.0 bad\xff\xfe \x01\x7f \"agent\" \xe2\x80\xa8 \xf4\x90\x80\x80\r\n"
        . "Referer: http://\xffevil/\r\n\r\n");
    like($raw, qr/^HTTP\/1.1 200/, 'hostile request answered');
}
@ev = $t->new_events(scalar @hostile);
is(scalar @ev, scalar @hostile, 'each hostile request made an event');
for my $e (@ev) {
    # wait_events decoded them as strict UTF-8 JSON; check the raw bytes too
    ok(utf8::decode(my $copy = $e->{_raw}), 'raw event is valid UTF-8');
    unlike($e->{_raw}, qr/[\x00-\x1f\x7f]/, 'no raw control characters');
    like($e->{properties}{'$raw_user_agent'}, qr/\x{fffd}/, 'invalid UA bytes became U+FFFD');
}
is($ev[0]{properties}{'$pathname'}, "/p/caf\x{e9}", 'valid UTF-8 kept');
like($ev[1]{properties}{'$pathname'}, qr/^\/p\/\x{fffd}+$/, 'invalid UTF-8 replaced');
is($ev[3]{properties}{'$pathname'}, "/p/\"quoted\"\\back", 'quotes and backslashes round-trip');
like($ev[0]{_raw}, qr/\\u2028/, 'U+2028 escaped');

# long values are cut
my $long = 'a' x 5000;
$t->get("/p/$long", 'User-Agent' => 'Mozilla/5.0 ' . 'U' x 3000);
@ev = $t->new_events(1);
is(length $ev[0]{properties}{'$raw_user_agent'}, 1000, 'user agent cut at 1000');
is(length $ev[0]{properties}{'$current_url'}, 4096, '$current_url cut at 4096');

# no api key: not captured, counted; nginx -t warned
my ($ok, $out) = $t->conf_test(<<'EOF');
posthog_redis %%REDIS%%;
server { listen 127.0.0.1:%%PORT_W%%; posthog on; }
EOF
ok($ok, 'posthog on without a key is valid');
like($out, qr/"posthog" is on but no "posthog_api_key" is set/, 'nginx -t warns');

($ok, $out) = $t->conf_test(<<'EOF');
posthog_redis %%REDIS%%;
posthog on;
server { listen 127.0.0.1:%%PORT_W%%; }
EOF
like($out, qr/"posthog" is on at the http level but no "posthog_api_key"/,
     'nginx -t warns for the http level too');

($ok, $out) = $t->conf_test(<<'EOF');
posthog on;
posthog_api_key phc_x;
server { listen 127.0.0.1:%%PORT_W%%; }
EOF
like($out, qr/"posthog_api_key" is set but "posthog_redis" is not/,
     'nginx -t warns: a key without posthog_redis');

($ok, $out) = $t->conf_test(<<'EOF');
server { listen 127.0.0.1:%%PORT_W%%; posthog_api_key phx_personal; }
EOF
ok(!$ok, 'a personal api key is refused');
like($out, qr/"phx_personal" is a personal API key in "posthog_api_key" directive/, 'with a message');

# the token rule of the stream contract (posthog_stream.c), which the
# shipper applies too: a token it would dead-letter fails nginx -t
($ok, $out) = $t->conf_test(<<EOF);
server { listen 127.0.0.1:%%PORT_W%%; posthog_api_key phc_@{[ 'a' x 197 ]}; }
EOF
ok(!$ok, 'a token over 200 bytes is refused');
like($out, qr/invalid value "phc_a+" in "posthog_api_key" directive/,
     'with a message');

($ok, $out) = $t->conf_test(<<'EOF');
server { listen 127.0.0.1:%%PORT_W%%; posthog_property x $y number; }
EOF
ok(!$ok, 'unknown variable refused');

($ok, $out) = $t->conf_test(<<'EOF');
server { listen 127.0.0.1:%%PORT_W%%; posthog_property x 1 float; }
EOF
like($out, qr/invalid type "float" in "posthog_property" directive/, 'bad property type');

($ok, $out) = $t->conf_test(<<'EOF');
server { listen 127.0.0.1:%%PORT_W%%; posthog_capture sometimes; }
EOF
like($out, qr/invalid value "sometimes" in "posthog_capture" directive, it must be "off", "pageview" or "all"/, 'bad capture mode');

done_testing;
