# Edge cases: logged subrequests, identify and alias in one request, a
# refused id counted once, the logout event's device id, reset signal
# values, cached responses' signals, numbers a double cannot hold,
# reserved and duplicate property names.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
%%CAPTURE%%
proxy_cache_path %%DIR%%/cache keys_zone=pages:1m;
proxy_cache_path %%DIR%%/cache2 keys_zone=pages2:1m;

upstream app { server 127.0.0.1:%%PORT_APP%%; }

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_edge;
    posthog_identify $http_x_user;
    posthog_alias $arg_ph;
    posthog_logout ^/not-a-logout$ ^/logout-by-regex$;
    add_header X-Id $posthog_distinct_id;
    add_header X-Device $posthog_device_id;

    %%STATUS%%

    location = /ssi {
        ssi on;
        log_subrequest on;
        posthog_property uri $uri;
        return 200 '<html><!--# include virtual="/part" --></html>';
    }
    location = /part { return 200 "part"; }

    location = /forget { posthog_reset device; return 200 "<html>bye</html>"; }

    location /signals/ {
        posthog_signals on;
        proxy_pass http://app;
    }

    location /cached/ {
        posthog_signals on;
        proxy_cache pages;
        proxy_cache_valid 200 1m;
        proxy_ignore_headers Set-Cookie;
        proxy_pass http://app;
    }

    location /cachedid/ {
        posthog_identify $upstream_http_x_posthog_identify;
        proxy_cache pages2;
        proxy_cache_valid 200 1m;
        proxy_pass http://app;
    }

    location = /dup {
        posthog_signals on;
        proxy_pass http://app;
    }

    location = /logout-by-regex { return 200 "<html>out</html>"; }

    location = /not-a-logout {
        posthog_reset off;
        return 200 "<html>stays</html>";
    }

    location = /num {
        posthog_property n $arg_n number;
        return 200 "<html>n</html>";
    }

    location / { %%PAGE%% }
}

server {
    listen 127.0.0.1:%%PORT_APP%%;
    default_type text/html;
    location /signals/reset0 { add_header X-PostHog-Reset 0; return 200 "<html>0</html>"; }
    location /signals/resetfalse { add_header X-PostHog-Reset false; return 200 "<html>f</html>"; }
    location /signals/resettrue { add_header X-PostHog-Reset true; return 200 "<html>t</html>"; }
    location /cached/ { add_header X-PostHog-Identify first-visitor; return 200 "<html>c</html>"; }
    location /cachedid/ { add_header X-PostHog-Identify warm-user; return 200 "<html>c</html>"; }
    location = /dup {
        add_header X-PostHog-Event bought;
        add_header X-PostHog-Property-Plan a;
        add_header X-PostHog-Property-plan b;
        add_header X-PostHog-Property-p.q c;
        add_header X-PostHog-Property-p_q d;
        return 200 "<html>d</html>";
    }
}
EOF

# the anonymous id of an anonymous state (a valid cookie on its own: the
# short form), else the whole state
sub id_of {
    my $c = $_[0]{cookies}{ph_id} or return undef;
    return $c->{value} =~ /^[^.]*\.[^.]*\.\./ ? $c->{id} : $c->{value};
}
sub visitor { my $r = $t->get('/'); $t->new_events(1); id_of($r) }
# no reset: no cookie, or one that keeps the anonymous id (a session's)
sub kept { my ($r, $u) = @_; !id_of($r) || $r->{cookies}{ph_id}{id} eq $u }

# log_subrequest on: the main request's event, not the subrequest's

my $r = $t->get('/ssi');
is($r->{body}, '<html>part</html>', 'SSI included the part');
my @ev = $t->new_events(1);
is(scalar @ev, 1, 'one event');
is($ev[0]{properties}{uri}, '/ssi', 'the main request\'s, not the logged subrequest\'s');
my @more = $t->new_events(1, 0.5);
is(scalar @more, 0, 'and nothing for the subrequest');

# identify and alias in one request: both link the right ids

my $a = visitor();
my $other = '01a223cd-6619-7435-92fa-8223dd7d142d';
$r = $t->get("/?ph=$other", Cookie => "ph_id=$a", 'X-User' => 'alice');
@ev = $t->new_events(3);
my ($identify) = grep { $_->{event} eq '$identify' } @ev;
my ($alias) = grep { $_->{event} eq '$create_alias' } @ev;
is($identify->{distinct_id}, 'alice', '$identify as alice');
is($identify->{properties}{'$anon_distinct_id'}, $a, '... linking her own anonymous id');
is($alias->{distinct_id}, 'alice', '$create_alias to alice');
is($alias->{properties}{alias}, $other, '... of the handed-over id');

# a refused id is counted once per request

my $before = $t->status('/status')->{refused_ids};
$t->get('/', 'X-User' => 'null');
$t->new_events(1);
is($t->status('/status')->{refused_ids} - $before, 1, 'one refusal counted for one request');

# posthog_reset device: the logout request's event keeps the old device id

my $d = visitor();
$r = $t->get('/forget', Cookie => "ph_id=$d");
isnt($r->{headers}{'x-device'}, $d, 'a new device id');
@ev = $t->new_events(1);
is($ev[0]{properties}{'$device_id'}, $d, 'the logout event has the device id it happened on');

# X-PostHog-Reset takes 1, true, device; not 0 or false

my $u = visitor();
$r = $t->get('/signals/reset0', Cookie => "ph_id=$u");
ok(kept($r, $u), 'X-PostHog-Reset: 0 does not reset');
$r = $t->get('/signals/resetfalse', Cookie => "ph_id=$u");
ok(kept($r, $u), 'X-PostHog-Reset: false does not reset');
$r = $t->get('/signals/resettrue', Cookie => "ph_id=$u");
ok(id_of($r), 'X-PostHog-Reset: true resets');
$t->new_events(3);

# a cached response's signals are not applied to whoever gets the copy

my $v1 = visitor();
$r = $t->get('/cached/page', Cookie => "ph_id=$v1");
is($r->{headers}{'x-id'}, 'first-visitor', 'from the upstream: identified');
my $v2 = visitor();
$r = $t->get('/cached/page', Cookie => "ph_id=$v2");
isnt($r->{headers}{'x-id'}, 'first-visitor', 'from the cache: not identified as someone else');
ok(!exists $r->{headers}{'x-posthog-identify'}, 'the cached signal header is still stripped');
$t->new_events(2);

# posthog_identify from an upstream header: not from a cached copy

$v1 = visitor();
$r = $t->get('/cachedid/page', Cookie => "ph_id=$v1");
is($r->{headers}{'x-id'}, 'warm-user', 'posthog_identify from the upstream: identified');
@ev = $t->new_events(2);
is($ev[0]{event}, '$identify', '... with $identify');
$v2 = visitor();
$r = $t->get('/cachedid/page', Cookie => "ph_id=$v2");
isnt($r->{headers}{'x-id'}, 'warm-user', 'posthog_identify from a cache hit: not identified');
@ev = $t->new_events(1);
is(join(',', map { $_->{event} } @ev), '$pageview', '... and no $identify');

# repeated signal property names: one key each, the last header wins

$t->get('/dup');
@ev = $t->new_events(2);
my ($bought) = grep { $_->{event} eq 'bought' } @ev;
is($bought->{properties}{plan}, 'b', 'Plan and plan: one "plan", the last');
is($bought->{properties}{p_q}, 'd', 'p.q and p_q: one "p_q", the last');
my $n = () = $bought->{_raw} =~ /"plan":/g;
is($n, 1, 'no duplicate key in the JSON');

# posthog_reset off exempts a location that posthog_logout matches

$u = visitor();
$r = $t->get('/not-a-logout', Cookie => "ph_id=$u");
ok(kept($r, $u), 'posthog_reset off: no reset though the regex matches');
$r = $t->get('/logout-by-regex', Cookie => "ph_id=$u");
ok(id_of($r), 'the other regex resets');
$t->new_events(2);

# numbers a double cannot hold are not sent (PostHog would refuse the batch)

for my $n ('1e999', '-1e400', ('9' x 70)) {
    $t->get("/num?n=$n");
    @ev = $t->new_events(1);
    ok(!exists $ev[0]{properties}{n}, "number $n not sent");
}
$t->get('/num?n=-12.5e3');
@ev = $t->new_events(1);
is($ev[0]{properties}{n}, -12500, 'a normal number is');

# property names

my ($ok, $out) = $t->conf_test(<<'EOF');
server { listen 127.0.0.1:%%PORT_W%%; posthog_property $ip $http_x_forwarded_for; }
EOF
like($out, qr/property "\$ip" in "posthog_property" directive is set by the module/,
     'a reserved property name is refused');

($ok, $out) = $t->conf_test(<<'EOF');
server { listen 127.0.0.1:%%PORT_W%%; posthog_property a 1; posthog_property a 2; }
EOF
like($out, qr/duplicate property "a" in "posthog_property" directive/,
     'a duplicate property name is refused');

($ok, $out) = $t->conf_test(<<'EOF');
server { listen 127.0.0.1:%%PORT_W%%; posthog_cookie ph max_age=401d; }
EOF
like($out, qr/"max_age=401d" in "posthog_cookie" directive is over 400 days/,
     'a cookie lifetime browsers would cut is refused');

done_testing;
