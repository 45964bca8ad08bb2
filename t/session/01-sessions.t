# Sessions as posthog-js keeps them: every event carries $session_id, a
# UUIDv7 of the session's first request, the same across requests a second
# apart, a new one after the idle limit, after the max age and at logout
# (with the new anonymous id); the entry page ($session_entry_*) is stable
# within a session; last activity is written only once it is a refresh
# interval old; $is_identified on every event and $pageview_id = the
# $pageview's uuid; the largest cookie stays bounded.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use PHTest;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
%%CAPTURE%%

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_sessions;
    posthog_identify $http_x_user;
    posthog_event_max_size 16k;     # the 3 KB URL below: entry cut, not event
    add_header X-Session $posthog_session_id;
    add_header X-Id $posthog_distinct_id;

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
    listen 127.0.0.1:%%PORT_SHORT%%;
    posthog on;
    posthog_api_key phc_sessions;
    posthog_session idle=3s max=1h;
    add_header X-Session $posthog_session_id;
    location / { return 200 "<html>short</html>"; }
}

server {
    listen 127.0.0.1:%%PORT_MAX%%;
    posthog on;
    posthog_api_key phc_sessions;
    posthog_session idle=3s max=4s;
    add_header X-Session $posthog_session_id;
    location / { return 200 "<html>max</html>"; }
}
EOF

my $UUID7 = qr/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
my $port = $t->port;

sub uuid_ms { my $u = shift; hex(substr($u, 0, 8)) * 65536 + hex(substr($u, 9, 4)) }

# a browser: one cookie jar per server
my %jar;
sub visit {
    my ($path, %h) = @_;
    my $p = $h{-port} // $port;
    my $r = $t->get($path, %h, $jar{$p} ? (Cookie => "ph_id=$jar{$p}") : ());
    $jar{$p} = $r->{cookies}{ph_id}{value} if $r->{cookies}{ph_id};
    return $r;
}

# first request: a session starts, its id's time is the request's

my $before = time;
my $r = visit('/p/home?x=1', Referer => 'https://www.example.org/list?q=1');
my $sid = $r->{headers}{'x-session'};
like($sid, $UUID7, '$posthog_session_id is a UUIDv7');
ok(uuid_ms($sid) >= int($before) * 1000 && uuid_ms($sid) <= (time + 1) * 1000,
   'its time is the first request\'s');
my ($e) = $t->new_events(1);
is($e->{properties}{'$session_id'}, $sid, 'the event has $session_id');
is($e->{properties}{'$pageview_id'}, $e->{uuid}, '$pageview_id is the $pageview\'s uuid');
ok(JSON::PP::is_bool($e->{properties}{'$is_identified'})
   && !$e->{properties}{'$is_identified'}, '$is_identified false, a JSON boolean');
my %entry = (
    '$session_entry_url' => "http://127.0.0.1:$port/p/home?x=1",
    '$session_entry_pathname' => '/p/home',
    '$session_entry_host' => "127.0.0.1:$port",
    '$session_entry_referrer' => 'https://www.example.org/list?q=1',
    '$session_entry_referring_domain' => 'www.example.org',
);
for my $k (sort keys %entry) {
    is($e->{properties}{$k}, $entry{$k}, "$k of the first page");
}

# a second later: the same session, the same entry, no Set-Cookie

sleep 1.1;
$r = visit('/p/two', Referer => "http://127.0.0.1:$port/p/home?x=1");
is($r->{headers}{'x-session'}, $sid, 'a second later: the same session');
ok(!$r->{headers}{'set-cookie'}, 'and no Set-Cookie (within the refresh interval)');
($e) = $t->new_events(1);
is($e->{properties}{'$session_id'}, $sid, '... on the event too');
for my $k (sort keys %entry) {
    is($e->{properties}{$k}, $entry{$k}, "$k stable within the session");
}
isnt($e->{properties}{'$pageview_id'}, undef, 'a new $pageview_id');

# identified: $is_identified true

$r = visit('/p/login', 'X-User' => 'ann');
my @ev = $t->new_events(2);
ok($ev[1]{properties}{'$is_identified'}, '$is_identified true once identified');
is($ev[1]{properties}{'$session_id'}, $sid, 'identify keeps the session');

# logout: the logout's events keep the session, the next request has a
# new anonymous id and a new session

$r = visit('/logout');
my $sid2 = $r->{headers}{'x-session'};
like($sid2, $UUID7, 'logout: a session id');
isnt($sid2, $sid, 'logout: a new session for the new anonymous id');
($e) = $t->new_events(1);
is($e->{distinct_id}, 'ann', 'the logout event is still ann\'s');
is($e->{properties}{'$session_id'}, $sid, '... in her session');
ok($e->{properties}{'$is_identified'}, '... identified');
$r = visit('/p/after');
is($r->{headers}{'x-session'}, $sid2, 'after logout: the new session');
like($r->{headers}{'x-id'}, qr/^[0-9a-f-]{36}$/, '... of the new anonymous id');
($e) = $t->new_events(1);
is($e->{properties}{'$session_id'}, $sid2, 'the next event is in the new session');
ok(!$e->{properties}{'$is_identified'}, '... anonymous');
is($e->{properties}{'$session_entry_pathname'}, '/logout',
   'its entry is where it began: the logout page');

# idle limit (idle=3s; times are whole seconds, so 1.1 s may count as 2)

my $sp = $t->port('SHORT');
$r = visit('/a', -port => $sp);
my $s1 = $r->{headers}{'x-session'};
like($s1, $UUID7, 'short idle: a session');
sleep 1.1;
$r = visit('/b', -port => $sp);
is($r->{headers}{'x-session'}, $s1, 'short idle: a second later, the same one');
sleep 4.2;
$r = visit('/c', -port => $sp);
my $s2 = $r->{headers}{'x-session'};
like($s2, $UUID7, 'after the idle limit: a session');
isnt($s2, $s1, '... a new one');
ok(int(uuid_ms($s2) / 1000) - int(uuid_ms($s1) / 1000) >= 5,
   '... whose time is its own first request');
my @short = $t->new_events(3);
is($short[2]{properties}{'$session_id'}, $s2, 'the event has the new session');
is($short[2]{properties}{'$session_entry_pathname'}, '/c', '... and its entry page');

# max age (idle=3s max=4s): active every second, a new session after 4 s

my $mp = $t->port('MAX');
$r = visit('/m', -port => $mp);
my $m1 = $r->{headers}{'x-session'};
my ($m2, $n) = (undef, 0);
while (++$n <= 8) {
    sleep 1.1;
    $r = visit("/m$n", -port => $mp);
    if ($r->{headers}{'x-session'} ne $m1) {
        $m2 = $r->{headers}{'x-session'};
        last;
    }
}
like($m2 // '', $UUID7, 'an active visitor gets a new session after max');
# times are kept in whole seconds: max is counted from the first's second
ok($m2 && int(uuid_ms($m2) / 1000) - int(uuid_ms($m1) / 1000) >= 4,
   '... no earlier than max after the first (in whole seconds)');
ok($n >= 3, '... the ones before kept the first session');
$t->new_events($n + 1);

# the largest cookie: a long URL and referrer are cut

$r = $t->get('/p/' . ('y' x 3000), Referer => 'https://ref.example/' . ('z' x 3000));
my $set = $r->{headers}{'set-cookie'};
ok($set, 'a long URL: a cookie');
diag('the largest state cookie written, entry of a 3 KB URL and referrer: '
     . length($set) . ' bytes (Set-Cookie)');
ok(length($set) < 4096, 'under the 4096 bytes a browser keeps');
($e) = $t->new_events(1);
is(length($e->{properties}{'$session_entry_url'}), 512, 'the entry URL cut at 512 bytes');
is(length($e->{properties}{'$session_entry_referrer'}), 256, 'the referrer at 256');

# a byte that is not UTF-8 in the URL: percent-encoded in the entry

$r = $t->raw("GET /p/\xffx HTTP/1.0\r\nHost: h\r\n"
            . "Referer: http://r/\x01\xc3\xa9\r\n\r\n");
($e) = $t->new_events(1);
is($e->{properties}{'$session_entry_pathname'}, '/p/%FFx',
   'a byte that is not UTF-8: %XX in the entry');
is($e->{properties}{'$session_entry_referrer'}, "http://r/%01\x{e9}",
   'a control character: %XX, UTF-8 kept');

$t->stop;
$t->check_log;

done_testing();
