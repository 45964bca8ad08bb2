# A signed state is bound to the site that issued it and to its lifetime:
# with one posthog_cookie_secret at the http level, a cookie signed for
# one project (api key) or cookie name is a bad cookie on another (counted,
# replaced, nobody identified), and an identified cookie older than the
# cookie's max_age is no longer trusted (a new anonymous id).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use MIME::Base64;
use Time::HiRes qw(sleep);
use PHTest;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
%%CAPTURE%%
posthog_cookie_secret 0123456789abcdef0123456789abcdef;

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_project_a;
    posthog_identify $http_x_user;
    add_header X-Id $posthog_distinct_id;
    location / { %%PAGE%% }
    location /renamed/ { posthog_cookie ph_other; %%PAGE%% }
    %%STATUS%%
}

server {
    listen 127.0.0.1:%%PORT_B%%;
    posthog on;
    posthog_api_key phc_project_b;
    add_header X-Id $posthog_distinct_id;
    location / { %%PAGE%% }
}

server {
    listen 127.0.0.1:%%PORT_SHORT%%;
    posthog on;
    posthog_api_key phc_project_a;
    posthog_cookie ph_id max_age=2s;
    posthog_identify $http_x_user;
    add_header X-Id $posthog_distinct_id;
    location / { %%PAGE%% }
}
EOF

my $B = $t->port('B');
my $SHORT = $t->port('SHORT');

# an identified cookie of project A
my $r = $t->get('/');
my $anon = $r->{cookies}{ph_id}{value};
$r = $t->get('/', Cookie => "ph_id=$anon", 'X-User' => 'alice');
my $alice = $r->{cookies}{ph_id}{value};
is($r->{headers}{'x-id'}, 'alice', 'project A: identified');
$r = $t->get('/', Cookie => "ph_id=$alice");
is($r->{headers}{'x-id'}, 'alice', 'project A takes its own cookie back');

my $bad = $t->status->{bad_cookies};

# replayed on project B, same secret
$r = $t->get('/', -port => $B, Cookie => "ph_id=$alice");
isnt($r->{headers}{'x-id'}, 'alice', 'project B: not identified by A\'s cookie');
like($r->{headers}{'x-id'}, qr/^[0-9a-f-]{36}$/, '... a new anonymous id');
ok($r->{cookies}{ph_id}, '... and the cookie is replaced');
isnt((split /\./, $r->{cookies}{ph_id}{value})[0], (split /\./, $alice)[0],
     '... with none of its ids');
is($t->wait_status(bad_cookies => $bad + 1)->{bad_cookies}, $bad + 1,
   '... counted as a bad cookie');

# under another cookie name, same project
$r = $t->get('/renamed/', Cookie => "ph_other=$alice");
isnt($r->{headers}{'x-id'}, 'alice', 'another cookie name: not identified');
is($t->wait_status(bad_cookies => $bad + 2)->{bad_cookies}, $bad + 2,
   '... counted as a bad cookie');

# the lifetime: identified under max_age=2s, replayed later
$r = $t->get('/', -port => $SHORT);
my $a2 = $r->{cookies}{ph_id}{value};
$r = $t->get('/', -port => $SHORT, Cookie => "ph_id=$a2", 'X-User' => 'bob');
my $bob = $r->{cookies}{ph_id}{value};
$r = $t->get('/', -port => $SHORT, Cookie => "ph_id=$bob");
is($r->{headers}{'x-id'}, 'bob', 'within max_age: identified');

sleep 3.2;
$r = $t->get('/', -port => $SHORT, Cookie => "ph_id=$bob");
isnt($r->{headers}{'x-id'}, 'bob', 'past max_age: no longer identified');
isnt($r->{headers}{'x-id'}, (split /\./, $bob)[0],
     '... nor its anonymous id, merged into bob');
ok($r->{cookies}{ph_id}, '... a new cookie');
is($t->wait_status(expired_identities => 1)->{expired_identities}, 1,
   'expired_identities +1');

done_testing;
