# The first touch of a browser (its first request's referrer and URL) is
# kept in the signed state until identify, and the $identify carries the
# $set_once person properties posthog-js derives from it ($initial_referrer,
# $initial_current_url, $initial_utm_*, $initial_gclid ..., the search
# engine) with the browser's ($initial_browser, $initial_os ...); the touch
# is then dropped from the cookie.  Hostile values keep the cookie valid.
# A malformed first touch (only an unsigned cookie can carry one) is
# dropped when it is used, the rest of the cookie kept, and counted.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
%%CAPTURE%%

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_touch;
    posthog_cookie ph_id;
    posthog_cookie_secret "a test secret of enough length";

    %%STATUS%%
    location / { return 200 "<html>page</html>"; }

    location = /login {
        posthog_identify $arg_user;
        posthog_person_property_once plan $arg_plan;
        %%PAGE%%
    }
}

server {
    listen 127.0.0.1:%%PORT_NOSECRET%%;
    posthog on;
    posthog_api_key phc_touch;
    posthog_cookie ph_id;

    location / { return 200 "<html>page</html>"; }
    location = /login { posthog_identify $arg_user; %%PAGE%% }
}
EOF

my $port = $t->port('');

sub visit {
    my ($path, %h) = @_;
    my $r = $t->get($path, %h);
    return $r->{cookies}{ph_id}{value};
}

# the $identify among the next events (a login page makes its $pageview too)
sub identify_event {
    my @ev = $t->new_events(2);
    my ($id) = grep { $_->{event} eq '$identify' } @ev;
    return $id || {};
}

# a visit from a Google search with a campaign, then a page, then a login

my $c = visit('/landing?utm_source=news&utm_campaign=spring%20sale&gclid=g1',
              Referer => 'https://www.google.com/search?q=red+shoes');
ok $c, 'first visit: a cookie';
$t->new_events(1);
visit('/other', Cookie => "ph_id=$c", Referer => 'https://elsewhere.com/');
$t->new_events(1);

my $r = $t->get('/login?user=alice&plan=pro', Cookie => "ph_id=$c");
my $after = $r->{cookies}{ph_id}{value};
my $e = identify_event();
is $e->{event}, '$identify', 'login: $identify';
my $so = $e->{'$set_once'} || {};
is $so->{'$initial_referrer'}, 'https://www.google.com/search?q=red+shoes',
   '$initial_referrer is the first visit\'s';
is $so->{'$initial_referring_domain'}, 'www.google.com',
   '$initial_referring_domain';
is $so->{'$initial_current_url'}, "http://127.0.0.1:$port/landing?"
   . 'utm_source=news&utm_campaign=spring%20sale&gclid=g1',
   '$initial_current_url';
is $so->{'$initial_host'}, "127.0.0.1:$port", '$initial_host';
is $so->{'$initial_pathname'}, '/landing', '$initial_pathname';
is $so->{'$initial_utm_source'}, 'news', '$initial_utm_source';
is $so->{'$initial_utm_campaign'}, 'spring sale',
   '$initial_utm_campaign decoded';
is $so->{'$initial_gclid'}, 'g1', '$initial_gclid';
ok exists $so->{'$initial_utm_medium'} && !defined $so->{'$initial_utm_medium'},
   'an absent parameter is null, as posthog-js sets it once';
is $so->{'$initial_search_engine'}, 'google', '$initial_search_engine';
is $so->{'$initial_ph_keyword'}, 'red shoes', '$initial_ph_keyword';
is $so->{'$initial_browser'}, 'Chrome', '$initial_browser';
is $so->{'$initial_browser_version'}, 131, '$initial_browser_version';
is $so->{'$initial_os'}, 'Windows', '$initial_os';
is $so->{'$initial_os_version'}, '10', '$initial_os_version';
is $so->{'$initial_device_type'}, 'Desktop', '$initial_device_type';
is $so->{plan}, 'pro', 'posthog_person_property_once is kept beside them';
ok $after && length $after < length $c,
   'the touch is dropped from the cookie at identify';

# a direct visit

$c = visit('/');
$t->new_events(1);
$t->get('/login?user=bob', Cookie => "ph_id=$c");
$e = identify_event();
$so = $e->{'$set_once'} || {};
is $so->{'$initial_referrer'}, '$direct', 'direct: $initial_referrer';
is $so->{'$initial_referring_domain'}, '$direct',
   'direct: $initial_referring_domain';
is $so->{'$initial_pathname'}, '/', 'direct: $initial_pathname';
ok !exists $so->{'$initial_search_engine'}, 'direct: no search engine';

# hostile bytes and a long URL: the cookie is still made, the values safe

my $long = 'x' x 3000;
my $raw = $t->raw("GET /h/\xff\xfe?utm_source=$long HTTP/1.0\r\nHost: x\r\n"
    . "Referer: http://evil.example/\xff\xfe\x7f\r\n\r\n");
my ($hc) = $raw =~ /^Set-Cookie: ph_id=([^;\r\n]*)/m;
ok $hc, 'hostile first visit: a cookie';
$t->new_events(1);
$t->get('/login?user=carol', Cookie => "ph_id=$hc");
$e = identify_event();
$so = $e->{'$set_once'} || {};
ok utf8::decode(my $copy = $e->{_raw} // ''), 'the $identify is valid UTF-8';
is $so->{'$initial_referrer'}, 'http://evil.example/%FF%FE%7F',
   'invalid and control bytes of the referrer are %-escaped';
is $so->{'$initial_pathname'}, '/h/%FF%FE', 'and of the URL';
ok length($so->{'$initial_current_url'} // '') <= 512,
   'the stored URL is bounded';
like $so->{'$initial_utm_source'} // '', qr/^x+$/,
   'a cut parameter is still read';

# no posthog_cookie_secret: the first touch is kept all the same (unsigned,
# as posthog-js's own cookie)

my $ns = $t->port('NOSECRET');
$r = $t->get('/?utm_source=x', -port => $ns, Referer => 'https://a.example/');
$c = $r->{cookies}{ph_id}{value};
ok $c, 'unsigned: a cookie';
$t->new_events(1);
$t->get('/login?user=dave', -port => $ns, Cookie => "ph_id=$c");
$e = identify_event();
$so = $e->{'$set_once'} || {};
is $so->{'$initial_referrer'}, 'https://a.example/', 'unsigned: the first touch';
is $so->{'$initial_utm_source'}, 'x', 'unsigned: its campaign';
is $so->{'$initial_browser'}, 'Chrome', 'unsigned: $initial_browser';

# a malformed first touch ("a", NUL, "b", LF, "c") in an unsigned cookie:
# the cookie is kept, the touch dropped where it would be used

my $anon = '01a223cd-6619-7435-92fa-8223dd7d142d';
my $bad = "$anon.......YQBiCmM..";
my $bad_n = $t->status->{bad_cookies};
$r = $t->get('/', -port => $ns, Cookie => "ph_id=$bad");
my ($ev) = $t->new_events(1);
is $ev->{distinct_id}, $anon, 'malformed first touch: the id is kept';
$c = $r->{cookies}{ph_id}{value} // '';
is((split /\./, $c, -1)[7], '', 'the rewritten cookie has no first touch');
like $c, qr/^\Q$anon\E\./, 'and the same id';
is($t->wait_status(bad_cookies => $bad_n + 1)->{bad_cookies}, $bad_n + 1,
   'counted in bad_cookies');
$t->get('/login?user=erin', -port => $ns, Cookie => "ph_id=$bad");
$e = identify_event();
is $e->{properties}{'$anon_distinct_id'}, $anon,
   'identify: the anonymous id is the cookie\'s';
$so = $e->{'$set_once'} || {};
ok !exists $so->{'$initial_referrer'} && !exists $so->{'$initial_current_url'},
   'identify: nothing of the malformed touch';
is $so->{'$initial_browser'}, 'Chrome', 'identify: the browser\'s all the same';

ok $t->check_log, 'no errors logged';

done_testing;
