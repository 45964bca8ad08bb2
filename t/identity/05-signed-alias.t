# posthog_cookie_secret: a signed state; forged, tampered or unsigned
# cookies are replaced.  posthog_alias both ways.  posthog_reset device.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;

my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
%%CAPTURE%%

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_signed;
    posthog_cookie_secret 0123456789abcdef0123456789abcdef;
    posthog_identify $http_x_user;
    posthog_alias $arg_ph_distinct_id;
    add_header X-Id $posthog_distinct_id;
    add_header X-Anon $posthog_anon_id;
    add_header X-Device $posthog_device_id;

    location / { %%PAGE%% }
    location = /logout { posthog_reset; return 200 "<html>bye</html>"; }
    location = /forget { posthog_reset device; return 200 "<html>gone</html>"; }
    %%STATUS%%
}
EOF

my @ev;


my $r = $t->get('/');
my $cookie = $r->{cookies}{ph_id}{value};
my $anon = $r->{headers}{'x-id'};
like($anon, $UUID, 'new visitor');
my @f = split /\./, $cookie;
is(scalar @f, 10, 'with a secret the cookie is the long, signed form');
is($f[0], $anon, 'its first field is the anonymous id');
is(length $f[-1], 43, 'HMAC-SHA256 signature, base64url');
$t->new_events(1);

$r = $t->get('/', Cookie => "ph_id=$cookie");
is($r->{headers}{'x-id'}, $anon, 'a signed cookie is accepted');
ok(!$r->{headers}{'set-cookie'}, 'and not re-sent');
$t->new_events(1);

# identified state, signed
$r = $t->get('/', Cookie => "ph_id=$cookie", 'X-User' => 'dave');
my $signed = $r->{cookies}{ph_id}{value};
is($r->{headers}{'x-id'}, 'dave', 'identified');
$t->new_events(2);

# tampering: flip one character anywhere, or forge another user

my @forged;
for my $pos (0, 10, 40, 80, length($signed) - 5) {
    my $c = $signed;
    my $ch = substr($c, $pos, 1);
    substr($c, $pos, 1) = $ch eq 'a' ? 'b' : 'a';
    push @forged, [ "byte $pos changed", $c ];
}
my @g = split /\./, $signed;
$g[2] = 'ZXZl';                     # base64url("eve")
push @forged, [ 'user replaced by eve', join('.', @g) ];
push @forged, [ 'unsigned short form', $anon ];
$g[-1] = '';
push @forged, [ 'signature removed', join('.', @g) ];

$t->counter_is(bad_cookies => 0, 'signed cookies accepted: no bad_cookies');
my $bad = 0;
for my $case (@forged) {
    my ($what, $c) = @$case;
    $r = $t->get('/', Cookie => "ph_id=$c");
    my $id = $r->{headers}{'x-id'};
    like($id, $UUID, "$what: a new anonymous visitor");
    isnt($id, $anon, "$what: not the old id");
    ok($r->{cookies}{ph_id}, "$what: the cookie is replaced");
    $t->counter_is(bad_cookies => ++$bad, "$what: bad_cookies +1");
    $t->new_events(1);
}
like($t->error_log, qr/invalid "ph_id" cookie \(\d+ bytes, bad state cookie signature\)/, 'bad signatures logged');
unlike($t->error_log, qr/ZXZl/, 'the forged value is not logged');

# alias, anonymous visitor: a new visitor adopts the handed-over id

my $other = '01a223cd-6619-7435-92fa-8223dd7d142d';
my $aliases = $t->status->{aliases};
is($aliases, 0, 'no aliases yet');
$r = $t->get("/?ph_distinct_id=$other");
is($r->{headers}{'x-id'}, $other, 'new visitor adopts the id from the link');
is($r->{headers}{'x-device'}, $other, 'as its device id too');
@ev = $t->new_events(1);
is($ev[0]{event}, '$pageview', 'no merge event for a first visit');
is($ev[0]{distinct_id}, $other, 'the page view is the other platform\'s visitor\'s');
$t->counter_is(aliases => $aliases, 'a first visit: no aliases counted');

# a returning anonymous visitor adopts it and links its own history
$r = $t->get("/?ph_distinct_id=" . uc $other, Cookie => "ph_id=$cookie");
is($r->{headers}{'x-id'}, $other, 'returning visitor adopts the id (case folded)');
is($r->{headers}{'x-device'}, $anon, 'and keeps its device id');
@ev = $t->new_events(2);
is($ev[0]{event}, '$create_alias', '$create_alias');
is($ev[0]{distinct_id}, $other, '... to the other platform\'s id');
is($ev[0]{properties}{alias}, $anon, '... from the visitor\'s earlier id');
ok(!exists $ev[0]{properties}{'$process_person_profile'}, '... as a person event');
$t->counter_is(aliases => ++$aliases, 'returning visitor: aliases +1');

# identified visitor: $create_alias links the id to the user
$r = $t->get("/?ph_distinct_id=$other", Cookie => "ph_id=$signed");
is($r->{headers}{'x-id'}, 'dave', 'identified visitor stays the user');
@ev = $t->new_events(2);
is($ev[0]{event}, '$create_alias', 'identified: $create_alias');
is($ev[0]{distinct_id}, 'dave', '... distinct_id is the user');
is($ev[0]{properties}{alias}, $other, '... alias is the handed-over id');
$t->counter_is(aliases => ++$aliases, 'identified visitor: aliases +1');

# only UUIDs
for my $bad ('user-42', 'null', '01a223cd-6619-7435-92fa-8223dd7d142', '<x>') {
    $r = $t->get("/?ph_distinct_id=$bad", Cookie => "ph_id=$cookie");
    is($r->{headers}{'x-id'}, $anon, "alias '$bad' refused");
    $t->new_events(1);
}
$t->counter_is(aliases => $aliases, 'refused aliases: not counted');

# reset keeps the device id; reset device does not
$t->counter_is(resets => 0, 'no resets yet');
$r = $t->get('/logout', Cookie => "ph_id=$signed");
isnt($r->{headers}{'x-anon'}, $anon, 'logout: new anonymous id');
is($r->{headers}{'x-device'}, $anon, 'logout: device id kept');
$t->counter_is(resets => 1, 'logout: resets +1');
$t->new_events(1);

$r = $t->get('/forget', Cookie => "ph_id=$signed");
is($r->{headers}{'x-device'}, $r->{headers}{'x-anon'}, 'reset device: device id = the new anonymous id');
isnt($r->{headers}{'x-device'}, $anon, 'reset device: a new device id');
$t->counter_is(resets => 2, 'reset device: resets +1');

done_testing;
