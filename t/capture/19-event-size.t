# An event never exceeds posthog_event_max_size (8k by default), whatever
# the request carries: string properties are cut in the documented order
# ($raw_user_agent, $referrer, $referring_domain, custom properties,
# $current_url, $pathname, $host), the ids and the event name never; the
# JSON stays valid; events_cut counts it.  An event whose fixed part alone
# is too large is dropped and counted.  Prints the Redis memory that
# hostile events take, per entry and per million.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use PHTest;

my $t = PHTest->new(redis => 1);

# bad values fail nginx -t, naming the directive and the value
for my $bad ('1k', '1m', 'big') {
    my ($ok, $out) = $t->conf_test(<<"EOF");
server { listen 127.0.0.1:%%PORT%%; posthog_event_max_size $bad; }
EOF
    ok(!$ok, "posthog_event_max_size $bad: nginx -t fails");
    like($out, qr/posthog_event_max_size/, '... naming the directive');
}

$t->run(<<'EOF');
posthog_redis %%REDIS%%;
posthog_buffer 4m flush=20ms;

server {
    listen 127.0.0.1:%%PORT%%;
    large_client_header_buffers 8 16k;
    posthog on;
    posthog_api_key phc_size;
    posthog_property custom $http_x_custom;

    location / { return 200 "<html>page</html>"; }
    location /small/ {
        posthog_event_max_size 2k;
        posthog_event $arg_name;
        return 200 "<html>small</html>";
    }
    %%STATUS%%
}
EOF

my $ff = "\xff" x 7000;

sub raw_get {
    my ($uri, %h) = @_;
    my $req = "GET $uri HTTP/1.0\r\n";
    $req .= "$_: $h{$_}\r\n" for sort keys %h;
    return $t->raw("$req\r\n");
}

# the 28 KB request of the report: URI, Host, Referer and User-Agent each
# 7000 invalid bytes, and a custom property as large
my $resp = raw_get("/$ff", Host => $ff, Referer => $ff, 'User-Agent' => "Mozilla/5.0 $ff",
                   'X-Custom' => $ff);
like($resp, qr{^HTTP/1.1 200}, 'the hostile request is served');
my ($ev) = $t->new_events(1);
ok($ev, 'and captured');
my $len = length $ev->{_raw};
cmp_ok($len, '<=', 8192, "its event takes $len bytes, within 8k");
ok(eval { JSON::PP->new->utf8->decode($ev->{_raw}); 1 }, 'valid UTF-8 JSON');
like($ev->{distinct_id}, qr/^[0-9a-f-]{36}$/, 'distinct_id intact');
like($ev->{uuid}, qr/^[0-9a-f-]{36}$/, 'uuid intact');
is($ev->{event}, '$pageview', 'event name intact');
is($ev->{properties}{'$lib'}, 'ngx_posthog_module', '$lib intact');
is($ev->{properties}{'$raw_user_agent'}, '', '$raw_user_agent cut first');
is($ev->{properties}{custom}, '', 'the custom property cut');
ok(length $ev->{properties}{'$host'}, '$host, cut last, keeps a part');
my $st = $t->wait_status(events_cut => 1);
is($st->{events_cut}, 1, 'events_cut +1');

# the order: a long user agent and referrer, a normal URL
my $ua = "Mozilla/5.0 " . "\xff" x 1500;  # 1000 bytes kept -> ~3000 escaped
my $ref = 'a' x 5000;                   # 4096 bytes kept
raw_get('/order?x=1', Host => 'example.com', Referer => $ref,
        'User-Agent' => $ua);
($ev) = $t->new_events(1);
my $p = $ev->{properties};
is($p->{'$raw_user_agent'}, '', 'order: the user agent goes first');
ok(length($p->{'$referrer'}) > 0 && length($p->{'$referrer'}) < 4096,
   'order: then the referrer, cut as much as needed (' .
   length($p->{'$referrer'}) . ' bytes left)');
is(length $p->{'$referring_domain'}, 4096, 'order: the referring domain whole');
is($p->{'$current_url'}, 'http://example.com/order?x=1', 'the URL whole');
cmp_ok(length $ev->{_raw}, '<=', 8192, 'within 8k');
is($t->wait_status(events_cut => 2)->{events_cut}, 2, 'events_cut +1');

# an ordinary request is not cut
$t->get('/plain', 'User-Agent' => 'Mozilla/5.0', Referer => 'https://a.example/');
($ev) = $t->new_events(1);
is($ev->{properties}{'$raw_user_agent'}, 'Mozilla/5.0', 'an ordinary event whole');
is($t->status->{events_cut}, 2, 'and not counted as cut');

# a smaller limit per location
raw_get("/small/$ff?name=small", Host => 'h', 'User-Agent' => "Mozilla/5.0 $ff");
($ev) = $t->new_events(1);
cmp_ok(length $ev->{_raw}, '<=', 2048, 'posthog_event_max_size 2k holds');
is($ev->{event}, 'small', '... with its name');

# an event name of 3000 bytes cannot fit in 2k: dropped and counted
my $before = $t->status->{dropped_too_large};
$t->get('/small/x?name=' . ('n' x 3000));
$st = $t->wait_status(dropped_too_large => $before + 1);
is($st->{dropped_too_large}, $before + 1, 'too large even when cut: dropped, counted');
like($t->error_log, qr/over posthog_event_max_size 2048/, '... and logged');

# the session's entry, written as one piece while the event fits, is cut
# as its members are: in their order, the last of a kind first (the
# entry's URL before the request's)
my $entry = '/entry/' . ('e' x 300);
my $r = $t->get("$entry?name=first");
my $c = $r->{cookies}{ph_id}{value};
($ev) = $t->new_events(1);
is($ev->{properties}{'$session_entry_pathname'}, $entry,
   'a long entry, whole in an event that fits');
my $ent = $ev->{properties}{'$session_entry_url'};
$t->get('/small/two?name=second&pad=' . ('x' x 600), Cookie => "ph_id=$c",
        'User-Agent' => 'Mozilla/5.0', 'X-Custom' => 'c' x 100);
($ev) = $t->new_events(1);
$p = $ev->{properties};
cmp_ok(length $ev->{_raw}, '<=', 2048, 'cut to 2k');
is($p->{'$raw_user_agent'}, '', 'entry cut: the user agent first');
is($p->{'$session_entry_referrer'}, '', '... the entry\'s referrer');
is($p->{custom}, '', '... the custom property');
ok(length($p->{'$session_entry_url'}) < length($ent)
   && index($ent, $p->{'$session_entry_url'}) == 0,
   '... then the entry\'s URL, a part of it kept ('
   . length($p->{'$session_entry_url'}) . ' bytes)');
like($p->{'$current_url'}, qr{/small/two\?name=second&pad=x{600}$},
     '... not the request\'s');
is($p->{'$session_entry_pathname'}, $entry,
   '... nor the entry\'s path, cut later');

# the session's piece, made once per session without members, is the
# very bytes its members write: an entry that needs every kind of escape,
# its event (the piece made), the next (the piece kept) and one that is
# cut (the piece's members again, the user agent cut alone)
my $q = "\"q\"\\b\xe2\x80\xa8\xc3\xa9";
my $resp2 = raw_get("/small/entry/$q?name=first&v=$q", Host => 'h.example',
                    Referer => "http://r\"e\\f\@ref.example:8/$q?x=$q");
my ($sc) = $resp2 =~ /^Set-Cookie: ph_id=([^;\r\n]*)/mi;
ok($sc, 'an entry to escape: a session');
my ($made) = $t->new_events(1);
raw_get('/small/again?name=second', Cookie => "ph_id=$sc");
my ($kept) = $t->new_events(1);
raw_get('/small/again?name=third', Cookie => "ph_id=$sc",
        'User-Agent' => 'Mozilla/5.0 ' . ('u' x 1600), 'X-Custom' => 'c' x 300);
my ($cut) = $t->new_events(1);
cmp_ok(length $cut->{properties}{'$raw_user_agent'}, '<', 1000,
       'the third is cut');
is($cut->{properties}{custom}, 'c' x 300, '... its user agent only');
sub session_bytes {
    my ($raw) = @_;
    return $raw =~ /("\$device_id":.*"\$session_entry_referring_domain":"[^"]*")/
           ? $1 : 'none';
}
like(session_bytes($made->{_raw}), qr/\\"q\\"\\\\b\\u2028\x{c3}\x{a9}/,
     'the entry escaped: ' . session_bytes($made->{_raw}));
is(session_bytes($kept->{_raw}), session_bytes($made->{_raw}),
   'the piece kept: the same bytes');
is(session_bytes($cut->{_raw}), session_bytes($made->{_raw}),
   'its members: the same bytes');

# Redis memory: hostile events at the default limit
my $n = 200;
my $len0 = $t->redis->xlen('posthog:events');
raw_get("/$ff", Host => $ff, Referer => $ff, 'User-Agent' => "Mozilla/5.0 $ff",
        'X-Custom' => $ff) for 1 .. $n;
$t->redis->wait_len($len0 + $n);
my $mem = $t->redis->cmd('MEMORY', 'USAGE', 'posthog:events', 'SAMPLES', 0);
my $count = $t->redis->xlen('posthog:events');
my $per = $mem / $count;
diag(sprintf 'Redis: %d entries, %d bytes; %.0f bytes per entry, '
     . '%.1f GiB per million hostile entries', $count, $mem, $per,
     $per * 1e6 / 2**30);
# a stream entry over stream-node-max-bytes (4096) gets a listpack of its
# own, rounded up to the allocator's size class
cmp_ok($per, '<', 8192 * 1.5, 'an entry takes the limit and its overhead');

done_testing;
