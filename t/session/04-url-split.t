# How a URL is split into its host and path, pinned for each property made
# from one: $referring_domain (the referrer's host), the session's entry
# ($session_entry_host, _pathname, _referring_domain) and, at identify,
# the first touch's ($initial_referring_domain, $initial_host,
# $initial_pathname).  The host is after the first "://" and after the
# last '@' of a user part, up to '/', '?' or '#'.  A referrer without
# "://" is its host from the start for the request's and the session's
# properties, and gives no $initial_referring_domain (posthog-js's
# URL parse fails on it).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF2');
%%CAPTURE%%

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_split;
    posthog_cookie ph_id;

    %%STATUS%%
    location / { return 200 "<html>page</html>"; }
    location = /login { posthog_identify $arg_user; %%PAGE%% }
}
EOF2

my @cases = (
    # referrer => [ referring domain, $initial_referring_domain ]
    [ 'https://www.example.org/list?q=1', 'www.example.org', 'www.example.org' ],
    [ 'http://user:pw@ref.example:81/p@x?q#f', 'ref.example:81', 'ref.example:81' ],
    [ 'https://a.example?x=1', 'a.example', 'a.example' ],
    [ 'https://b.example#frag/x', 'b.example', 'b.example' ],
    [ 'https://c.example', 'c.example', 'c.example' ],
    [ 'android-app://com.app/path', 'com.app', 'com.app' ],
    [ 'x/y://z.example/w', 'z.example', 'z.example' ],
    [ 'no-scheme.example/path', 'no-scheme.example', undef ],
    [ 'user@no-scheme.example?q', 'no-scheme.example', undef ],
    [ 'https://', '', undef ],
    [ 'https:///path', '', undef ],
    [ 'https://' . ('h' x 40) . '.example/' . ('p' x 40),
      ('h' x 40) . '.example', ('h' x 40) . '.example' ],
);

my $port = $t->port('');

for my $c (@cases) {
    my ($ref, $domain, $initial) = @$c;

    my $r = $t->get('/entry/page;x?q=1#f', Referer => $ref);
    my $cookie = $r->{cookies}{ph_id}{value};
    my ($e) = $t->new_events(1);
    my $p = $e->{properties};

    is($p->{'$referring_domain'}, $domain, "$ref: \$referring_domain");
    is($p->{'$session_entry_referring_domain'}, $domain,
       "$ref: \$session_entry_referring_domain");
    is($p->{'$session_entry_host'}, "127.0.0.1:$port",
       "$ref: \$session_entry_host");
    is($p->{'$session_entry_pathname'}, '/entry/page;x',
       "$ref: \$session_entry_pathname");

    # a second request of the session: the entry again
    $t->get('/other', Cookie => "ph_id=$cookie", Referer => 'https://o.example/');
    ($e) = $t->new_events(1);
    is($e->{properties}{'$session_entry_referring_domain'}, $domain,
       "$ref: the entry's referring domain again");
    is($e->{properties}{'$referring_domain'}, 'o.example',
       "$ref: the request's own");

    $t->get('/login?user=u' . length($ref), Cookie => "ph_id=$cookie");
    my ($id) = grep { $_->{event} eq '$identify' } $t->new_events(2);
    my $so = ($id || {})->{'$set_once'} || {};
    is($so->{'$initial_referring_domain'}, $initial,
       "$ref: \$initial_referring_domain");
    is($so->{'$initial_host'}, "127.0.0.1:$port", "$ref: \$initial_host");
    is($so->{'$initial_pathname'}, '/entry/page;x',
       "$ref: \$initial_pathname");
}

# an entry URL without a path: "/"
my $r = $t->get('?q=1');
my ($e) = $t->new_events(1);
is($e->{properties}{'$session_entry_pathname'}, '/', 'no path: "/"')
    if $e;

done_testing();
