# The whole journey posthog-js recorded (t/vectors: a copy of the project's
# shared/test-vectors), driven through nginx with the app saying who logged
# in: anonymous pages, login ($identify once), pages as the user, logout (a
# new anonymous id), a second user on the same browser (identified with the
# new id, not merged with the first).  Our events must tell the same story
# as posthog-js's.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use PHTest;

my $vectors = do {
    local (@ARGV, $/) = ("$PHTest::ROOT/t/vectors/posthog-js-journey-events.json");
    decode_json(<>);
};

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
%%CAPTURE%%

upstream app { server 127.0.0.1:%%PORT_APP%%; }

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_reference;

    # the app names the user on its login response only
    posthog_identify $upstream_http_x_posthog_identify;
    posthog_person_property email $upstream_http_x_user_email;
    posthog_person_property_once first_seen_path $uri;

    location / {
        proxy_set_header X-PostHog-Distinct-Id $posthog_distinct_id;
        proxy_pass http://app;
    }

    location = /p/logout {
        posthog_reset;
        proxy_pass http://app;
    }
}

server {
    listen 127.0.0.1:%%PORT_APP%%;
    default_type text/html;

    location /p/ {
        return 200 "<html>$uri as $http_x_posthog_distinct_id</html>";
    }

    location = /p/login {
        add_header X-PostHog-Identify $arg_u;
        add_header X-User-Email "x@example.com";
        return 200 "<html>welcome $arg_u</html>";
    }
}
EOF

# a browser: one cookie jar

my %jar;
sub visit {
    my ($path) = @_;
    my $cookie = join '; ', map { "$_=$jar{$_}" } sort keys %jar;
    my $r = $t->get($path, $cookie ? (Cookie => $cookie) : ());
    for my $n (keys %{ $r->{cookies} }) {
        $jar{$n} = $r->{cookies}{$n}{value};
    }
    return $r;
}

my $r = visit('/p/home');
is($r->{status}, 200, 'home');
my $anon1 = (split /\./, $jar{ph_id})[0];    # the state's anonymous id
like($anon1, qr/^[0-9a-f-]{36}$/, 'anonymous id cookie');

visit('/p/page1');
$r = visit('/p/login?act=login&u=user-42');
ok(!exists $r->{headers}{'x-posthog-identify'},
   'the identify signal header is not shown to the client');
is($r->{headers}{'x-user-email'}, 'x@example.com', 'other headers pass');

$r = visit('/p/page2');
like($r->{body}, qr/as user-42</, 'the app sees the user id after login');

visit('/p/logout?act=logout');
isnt($jar{ph_id}, $anon1, 'logout: the cookie changed');

$r = visit('/p/after');
like($r->{body}, qr/as [0-9a-f]{8}-/, 'after logout the app sees an anonymous id');

visit('/p/login?act=login&u=user-77');
visit('/p/page4');

my @ev = $t->wait_events(10, 5);
is(scalar @ev, 10, '10 events') or diag explain [ map { "$_->{event} $_->{distinct_id}" } @ev ];

# every event: valid shape, token, version
for my $e (@ev) {
    is($e->{_t}, 'phc_reference', "token of $e->{event}");
    is($e->{_v}, '1', 'entry version 1');
    like($e->{uuid}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-7/, 'uuid is a UUIDv7');
    like($e->{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'timestamp');
}

# Map posthog-js's ids to ours by their role, then compare the stories.
# One documented difference: posthog-js resets before its logout page's
# $pageview; the module counts the logout request as the user's.

my @want = @{ $vectors->{events} };
my (%map, %seen);
my $i = 0;
for my $w (@want) {
    my $e = $ev[$i++] or last;
    my $props = $e->{properties};
    my $logout = $w->{'$pathname'} eq '/p/logout';

    is($e->{event}, $w->{event}, "event $i: $w->{event}");

    my $pathname = $w->{'$pathname'};
    is($props->{'$pathname'}, $pathname, "event $i: \$pathname");

    # roles: the same id in posthog-js must be the same id here
    my $wid = $logout ? 'user-42' : $w->{distinct_id};
    if (exists $map{$wid}) {
        is($e->{distinct_id}, $map{$wid}, "event $i: distinct_id is the same person as before");
    } else {
        ok(!$seen{ $e->{distinct_id} }++, "event $i: a new distinct_id, as in posthog-js");
        $map{$wid} = $e->{distinct_id};
    }
    is($e->{distinct_id}, $wid, "event $i: the user id") if $wid =~ /^user-/;

    my $anon = $w->{'$anon_distinct_id'};
    if (defined $anon) {
        is($props->{'$anon_distinct_id'}, $map{$anon}, "event $i: \$anon_distinct_id links the earlier anonymous events");
    } else {
        ok(!exists $props->{'$anon_distinct_id'}, "event $i: no \$anon_distinct_id");
    }

    my $personless = $logout ? JSON::PP::true : $w->{'$process_person_profile'};
    if ($personless) {
        ok(!exists $props->{'$process_person_profile'}, "event $i: a person event");
    } else {
        ok(exists $props->{'$process_person_profile'}
           && !$props->{'$process_person_profile'}
           && JSON::PP::is_bool($props->{'$process_person_profile'}),
           "event $i: \$process_person_profile is false (a JSON boolean)");
    }

    $map{ 'device:' . $w->{'$device_id'} } //= $props->{'$device_id'};
    is($props->{'$device_id'}, $map{ 'device:' . $w->{'$device_id'} }, "event $i: the device id is kept");

    if ($w->{'$set'}) {
        is_deeply($e->{'$set'}, $w->{'$set'}, "event $i: \$set");
    } else {
        ok(!exists $e->{'$set'}, "event $i: no \$set");
    }
}

is($map{'device:' . $want[0]{'$device_id'}}, $anon1, 'the device id is the first anonymous id');
is($ev[2]{'$set_once'}{first_seen_path}, '/p/login', '$set_once on $identify');
is(scalar(grep { $_->{event} eq '$identify' } @ev), 2, 'exactly one $identify per login');

# the same login again: nothing is re-sent
visit('/p/login?act=login&u=user-77');
@ev = $t->wait_events(11, 5);
is(scalar(grep { $_->{event} eq '$identify' } @ev), 2, 'same user again: no second $identify');

# another user without a logout: no merge, the new id is used
visit('/p/login?act=login&u=user-99');
visit('/p/page5');
@ev = $t->wait_events(13, 5);
is(scalar(grep { $_->{event} eq '$identify' } @ev), 2, 'different user while identified: no $identify');
is($ev[-1]{distinct_id}, 'user-99', 'and the new id is used');

done_testing;
