# A request that nginx or the application refused identifies nobody: no
# identified cookie and no $identify for a 401/403/5xx, whatever the source
# (auth_basic's $remote_user, a header, X-PostHog-Identify, posthog_alias),
# nor for a request answered before the access phase (a "return"), nor
# through a variable read before the access check.  The same requests
# with the right credentials identify.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use MIME::Base64;
use PHTest;

my $t = PHTest->new(redis => 1);

$t->file(htpasswd => "alice:{PLAIN}secret\n");

$t->run(<<'EOF');
%%CAPTURE%%

upstream app { server 127.0.0.1:%%PORT_APP%%; }

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_rejected;
    posthog_capture off;                  # identity events only
    posthog_cookie_secret 0123456789abcdef0123456789abcdef;
    add_header X-Id $posthog_distinct_id;

    location /basic/ {
        auth_basic "test";
        auth_basic_user_file %%DIR%%/htpasswd;
        posthog_identify $remote_user;
        %%PAGE%%
    }

    # read in the rewrite phase, before auth_basic checked the password
    location /early/ {
        auth_basic "test";
        auth_basic_user_file %%DIR%%/htpasswd;
        posthog_identify $remote_user;
        set $early $posthog_distinct_id;
        add_header X-Early $early;
        %%PAGE%%
    }

    # "return" answers in the rewrite phase: auth_basic never runs
    location /returned/ {
        auth_basic "test";
        auth_basic_user_file %%DIR%%/htpasswd;
        posthog_identify $remote_user;
        return 200 "<html>returned</html>";
    }

    location /denied/ {
        posthog_identify $http_x_user;
        posthog_alias $arg_ph;
        deny all;
    }

    location /app/ {
        posthog_identify $http_x_user;
        posthog_alias $arg_ph;
        proxy_pass http://app;
    }

    location /signals/ {
        posthog_signals on;
        proxy_pass http://app;
    }

    # untracked, but posthog_signals is on elsewhere: the app's signal
    # headers still never reach the client
    location /untracked/ {
        posthog off;
        proxy_pass http://app/signals/;
    }

    location / { %%PAGE%% }
    %%STATUS%%
}

server {
    listen 127.0.0.1:%%PORT_APP%%;
    default_type text/html;

    location /app/ok { return 200 "<html>ok</html>"; }
    location /app/error { return 500; }
    location /app/forbidden { return 403; }

    location /signals/login-failed {
        add_header X-PostHog-Identify victim@corp.com always;
        return 401;
    }
    location /signals/login {
        add_header X-PostHog-Identify user-9;
        return 200 "<html>in</html>";
    }
}
EOF

my $VICTIM = 'victim@corp.com';

# a returning anonymous visitor: its cookie
sub visitor {
    my $r = $t->get('/');
    return $r->{cookies}{ph_id}{value};
}

# the user id a state cookie carries ('' when anonymous)
sub user_of {
    my ($v) = @_;
    my @f = split /\./, $v // '', -1;
    return '' if @f < 3 || $f[2] eq '';
    (my $b = $f[2]) =~ tr/-_/+\//;
    return decode_base64($b . '=' x (-length($b) % 4));
}

sub basic { 'Basic ' . encode_base64($_[0], '') }

# Each refused request: its status, the id it got, and no identified cookie.
sub refused {
    my ($what, $path, $status, %h) = @_;
    my $c = visitor();
    my $r = $t->get($path, Cookie => "ph_id=$c", %h);
    is($r->{status}, $status, "$what: $status");
    my $set = $r->{cookies}{ph_id}{value};
    is(user_of($set // $c), '', "$what: no identified cookie");
    isnt($r->{headers}{'x-id'} // '', $VICTIM, "$what: not the victim's id");
    return $c;
}

refused('auth_basic, wrong password', '/basic/',
        401, Authorization => basic("$VICTIM:wrong"));
refused('auth_basic, unknown user', '/basic/',
        401, Authorization => basic("alice:wrong"));
refused('variable read before auth, wrong password', '/early/',
        401, Authorization => basic("$VICTIM:wrong"));
refused('a trusted header on a denied location', '/denied/',
        403, 'X-User' => $VICTIM);
refused('a header, the application answers 500', '/app/error',
        500, 'X-User' => $VICTIM);
refused('a header, the application answers 403', '/app/forbidden',
        403, 'X-User' => $VICTIM);
refused('X-PostHog-Identify on a 401', '/signals/login-failed',
        401);

# "return" never checks the password: neither a right nor a wrong one
# identifies there
refused('a "return" location, wrong password', '/returned/',
        200, Authorization => basic("$VICTIM:wrong"));
refused('a "return" location, right password', '/returned/',
        200, Authorization => basic("alice:secret"));

# posthog_alias on refused requests: the anonymous id stays
my $other = '01a223cd-6619-7435-92fa-8223dd7d142d';
for my $path ("/denied/?ph=$other", "/app/error?ph=$other") {
    my $c = visitor();
    my $r = $t->get($path, Cookie => "ph_id=$c");
    ok(!$r->{cookies}{ph_id} || $r->{cookies}{ph_id}{value} !~ /^\Q$other\E/,
       "alias on $r->{status}: the other id is not adopted");
}

my $st = $t->wait_status(identify_on_error => 4);
is($st->{identifies}, 0, 'no $identify counted');
is($st->{aliases}, 0, 'no $create_alias counted');
is($st->{identify_on_error}, 4,
   'each refused response that had an identity to undo is counted');

# The same requests, accepted: identified, one $identify each.

my $c = visitor();
my $r = $t->get('/basic/', Cookie => "ph_id=$c",
                Authorization => basic('alice:secret'));
is($r->{status}, 200, 'auth_basic, right password: 200');
is($r->{headers}{'x-id'}, 'alice', '... $posthog_distinct_id is the user');
is(user_of($r->{cookies}{ph_id}{value}), 'alice', '... identified cookie');

$c = visitor();
$r = $t->get('/early/', Cookie => "ph_id=$c",
             Authorization => basic('alice:secret'));
is($r->{headers}{'x-early'}, (split /\./, $c)[0],
   'a variable read before the access check has the anonymous id');
is(user_of($r->{cookies}{ph_id}{value}), 'alice',
   '... and the response identifies');

$c = visitor();
$r = $t->get('/app/ok', Cookie => "ph_id=$c", 'X-User' => 'bob');
is(user_of($r->{cookies}{ph_id}{value}), 'bob', 'a header, 200: identified');

$c = visitor();
$r = $t->get('/signals/login', Cookie => "ph_id=$c");
is(user_of($r->{cookies}{ph_id}{value}), 'user-9',
   'X-PostHog-Identify on a 200: identified');

my @ev = $t->wait_events(4);
is(scalar @ev, 4, 'four events in all');
is_deeply([sort map { $_->{distinct_id} } @ev], [sort qw(alice alice bob user-9)],
          'each one an $identify of an accepted request');
ok(!grep({ $_->{event} ne '$identify' } @ev), 'no other event');
is($t->wait_status(identifies => 4)->{identifies}, 4, 'identifies +4');

# signal headers where posthog is off
$r = $t->get('/untracked/login');
is($r->{status}, 200, 'an untracked location proxies the login');
ok(!exists $r->{headers}{'x-posthog-identify'},
   'its X-PostHog-Identify is removed (posthog_signals is on elsewhere)');
ok(!$r->{cookies}{ph_id}, 'and nothing is set there');

done_testing;
