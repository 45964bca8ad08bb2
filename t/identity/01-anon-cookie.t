# The anonymous id cookie: issued once, kept, visible to the app, never
# doubled by subrequests or internal redirects, and replaced when bad.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;

my $UUID7 = qr/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

my $t = PHTest->new;

$t->run(<<'EOF');
log_format seen '$uri $http_x_posthog_distinct_id';
log_format ids '$uri $posthog_distinct_id $posthog_anon_id';

upstream app { server 127.0.0.1:%%PORT_APP%%; }

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    access_log %%DIR%%/ids.log ids;

    location = /if {
        if ($posthog_distinct_id ~ "^[0-9a-f]{8}-") {
            return 200 "uuid $posthog_distinct_id\n";
        }
        return 500;
    }

    location / {
        add_header X-Id $posthog_distinct_id;
        add_header X-Anon $posthog_anon_id;
        return 200 "page\n";
    }

    location /app/ {
        proxy_set_header X-PostHog-Distinct-Id $posthog_distinct_id;
        proxy_pass http://app;
    }

    location /sub {
        auth_request /auth;
        auth_request_set $seen $upstream_http_x_seen;
        add_header X-Seen $seen;
        add_header X-Id $posthog_distinct_id;
        proxy_pass http://app/app/sub;
    }

    location = /auth {
        internal;
        proxy_set_header X-PostHog-Distinct-Id $posthog_distinct_id;
        proxy_pass http://app/auth;
    }

    location /redirect {
        # the id is read before the internal redirect (by the app, which
        # logs it) and after it (add_header in /landing)
        proxy_set_header X-PostHog-Distinct-Id $posthog_distinct_id;
        proxy_intercept_errors on;
        error_page 404 = /landing;
        proxy_pass http://app/missing;
    }

    location /landing {
        add_header X-Id $posthog_distinct_id;
        return 200 "landing\n";
    }

    location /static/ {
        posthog off;
        add_header X-Id "[$posthog_distinct_id]";
        return 200 "static\n";
    }

    %%STATUS%%
}

server {
    listen 127.0.0.1:%%PORT_APP%%;
    access_log %%DIR%%/app.log seen;

    location /app/ {
        add_header X-Seen $http_x_posthog_distinct_id;
        return 200 "app saw $http_x_posthog_distinct_id\n";
    }
    location /auth {
        add_header X-Seen $http_x_posthog_distinct_id;
        return 204;
    }
    location /missing { return 404; }
}
EOF

# first visit

my $r = $t->get('/');
is($r->{status}, 200, 'first visit answered');
my $c = $r->{cookies}{ph_id};
ok($c, 'first visit gets the ph_id cookie') or diag explain $r->{headers};
like($c->{id}, $UUID7, 'its value is a UUIDv7');
is($c->{count}, 1, 'one Set-Cookie');
is($c->{attrs}{path}, '/', 'Path=/');
is($c->{attrs}{'max-age'}, 365 * 86400, 'Max-Age 365 days');
like($c->{attrs}{expires}, qr/GMT$/, 'Expires for old browsers');
is($c->{attrs}{samesite}, 'Lax', 'SameSite=Lax');
ok(!exists $c->{attrs}{secure}, 'no Secure on plain http');
ok(!exists $c->{attrs}{httponly}, 'no HttpOnly by default');
is($r->{headers}{'x-id'}, $c->{id}, '$posthog_distinct_id = cookie, first request');
is($r->{headers}{'x-anon'}, $c->{id}, '$posthog_anon_id = cookie');

# the UUIDv7 time is the request's time
my $ms = hex(substr($c->{id}, 0, 8)) * 65536 + hex(substr($c->{id}, 9, 4));
ok(abs($ms / 1000 - time) < 5, 'UUIDv7 timestamp is now');

my $id = $c->{id};
my $cv = $c->{value};    # the whole state: its session too

# a returning visitor

$r = $t->get('/', Cookie => "other=1; ph_id=$cv; more=2");
is($r->{headers}{'x-id'}, $id, 'returning visitor keeps the id');
ok(!$r->{headers}{'set-cookie'}, 'and gets no Set-Cookie');

$r = $t->get('/', Cookie => "ph_id=\"$id\"");
is($r->{headers}{'x-id'}, $id, 'a quoted cookie value is accepted');

# new visitors get different ids
my %ids = map { $t->get('/')->{cookies}{ph_id}{id} => 1 } 1 .. 20;
is(scalar keys %ids, 20, '20 new visitors, 20 distinct ids');

# the app behind nginx sees the id the browser gets

$r = $t->get('/app/x');
$c = $r->{cookies}{ph_id};
like($r->{body}, qr/^app saw \Q$c->{id}\E$/, 'upstream sees the new id on the first request');

$r = $t->get('/app/x', Cookie => "ph_id=$cv");
like($r->{body}, qr/^app saw \Q$id\E$/, 'upstream sees the returning id');
ok(!$r->{headers}{'set-cookie'}, 'no cookie for the returning visitor');

# subrequest: the same id, one cookie

$r = $t->get('/sub');
$c = $r->{cookies}{ph_id};
is($c->{count}, 1, 'auth_request subrequest: one Set-Cookie');
is($r->{headers}{'x-seen'}, $c->{id}, 'the subrequest saw the same id');
is($r->{headers}{'x-id'}, $c->{id}, 'the main request has the same id');

# internal redirect: the same id, one cookie

$r = $t->get('/redirect');
is($r->{body}, "landing\n", 'internal redirect happened');
$c = $r->{cookies}{ph_id};
is($c->{count}, 1, 'internal redirect: one Set-Cookie');
is($r->{headers}{'x-id'}, $c->{id}, 'id after the redirect = cookie');
my $log = do { local (@ARGV, $/) = ($t->dir . '/app.log'); <> };
like($log, qr{^/missing \Q$c->{id}\E$}m, 'id before the redirect = cookie');

# the variables in "if" and in log_format

$r = $t->get('/if');
$c = $r->{cookies}{ph_id};
is($r->{body}, "uuid $c->{id}\n", '"if" sees the id on the first request');
# the log phase runs after the response was sent: wait for the line
for (1 .. 100) {
    $log = do { local (@ARGV, $/) = ($t->dir . '/ids.log'); <> };
    last if $log =~ m{^/if }m;
    select undef, undef, undef, 0.05;
}
like($log, qr{^/if \Q$c->{id}\E \Q$c->{id}\E$}m, 'log_format logs the id');

# posthog off

$r = $t->get('/static/a.css');
ok(!$r->{headers}{'set-cookie'}, 'posthog off: no cookie');
is($r->{headers}{'x-id'}, '[]', 'posthog off: the variable is empty');

# malformed cookies are treated as absent and replaced, and counted

my $bad_n = $t->status->{bad_cookies};
is($bad_n, 0, 'the good cookies so far: no bad_cookies');

my @bad = (
    [ 'not a uuid',    'hello' ],
    [ 'too long',      $id x 40 ],
    [ 'odd bytes',     substr($id, 0, 35) . "\x01" ],
    [ 'non-ascii',     substr($id, 0, 34) . "\xc3\xa9" ],
    [ 'upper case',    uc $id ],
    [ 'bad variant',   substr($id, 0, 19) . 'c' . substr($id, 20) ],
    [ 'script',        '<script>alert(1)</script>' ],
    [ 'empty',         '' ],
);

for my $case (@bad) {
    my ($what, $value) = @$case;
    my $raw = $t->raw("GET / HTTP/1.0\r\nHost: x\r\nCookie: ph_id=$value\r\n\r\n");
    my ($new) = $raw =~ /^Set-Cookie: ph_id=([^;.\r\n]*)/m;
    like($new // '', $UUID7, "$what: replaced by a new UUIDv7");
    isnt($new // '', $value, "$what: not the client's value");
    my ($xid) = $raw =~ /^X-Id: (.*?)\r$/m;
    is($xid, $new, "$what: the variable has the new id");
    $bad_n++;
    is($t->wait_status(bad_cookies => $bad_n)->{bad_cookies}, $bad_n,
       "$what: bad_cookies +1");
}

# Two cookies of our name (a sibling subdomain's, another path's): the
# first valid one is used, the identity does not churn, the case is counted.
my $raw = $t->raw("GET / HTTP/1.0\r\nHost: x\r\nCookie: ph_id=$cv; ph_id=$cv\r\n\r\n");
my ($xid) = $raw =~ /^X-Id: (.*?)\r$/m;
is($xid, $id, 'twice in one header: the id is kept');
unlike($raw, qr/^Set-Cookie: ph_id=/m, 'twice in one header: nothing re-sent');

$raw = $t->raw("GET / HTTP/1.0\r\nHost: x\r\nCookie: ph_id=garbage!\r\nCookie: a=b; ph_id=$cv\r\n\r\n");
($xid) = $raw =~ /^X-Id: (.*?)\r$/m;
is($xid, $id, 'a bad one, then a valid one in another header: the valid one is used');

$raw = $t->raw("GET / HTTP/1.0\r\nHost: x\r\nCookie: ph_id=bad1; ph_id=bad2\r\n\r\n");
my ($new) = $raw =~ /^Set-Cookie: ph_id=([^;.\r\n]*)/m;
like($new // '', $UUID7, 'two bad ones: replaced by a new id');
my $st = $t->wait_status(duplicate_cookies => 3, bad_cookies => $bad_n + 1);
is($st->{duplicate_cookies}, 3, 'each doubled cookie: duplicate_cookies +1');
is($st->{bad_cookies}, $bad_n + 1, 'bad_cookies +1 only where none was valid');

$log = $t->error_log;
unlike($log, qr/script|hello|\x01|\xc3/, 'nothing of the bad values reached the error log');
like($log, qr/client sent an invalid "ph_id" cookie/, 'bad cookies are logged');
like($log, qr/client sent the "ph_id" cookie 2 times, the first valid one is used/,
     'doubled cookies are logged');

done_testing;
