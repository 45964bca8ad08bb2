# An event's JSON is the same bytes whether it is written in one pass (the
# worst case of its strings, 6 bytes a byte, fits posthog_event_max_size)
# or measured exactly first (the worst case does not fit, the event does):
# two servers that differ only in posthog_event_max_size get the same
# request, and their events differ only in the ids and times made for
# each.  And the timestamp's text, made once a second, is each event's.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use PHTest;

my $t = PHTest->new(redis => 1);

my $server = <<'EOF';
    posthog on;
    posthog_api_key phc_onepass;
    posthog_property custom $http_x_custom;
    location / { return 200 "<html>page</html>"; }
    %%STATUS%%
EOF

$t->run(<<"EOF");
%%CAPTURE%%

server {
    listen 127.0.0.1:%%PORT%%;
    posthog_event_max_size 64k;
$server
}

server {
    listen 127.0.0.1:%%PORT_EXACT%%;
    posthog_event_max_size 2k;
$server
}
EOF

# a path of 200 bytes is in four properties ($current_url, $pathname and
# the session's entry): 4800 bytes at worst, over 2k; the event is not
my $path = '/' . ('p' x 150) . '%22%5C' . ('q' x 43);
my %h = (
    Host => 'example.com',
    Referer => "https://ref.example/\"quoted\"\\back\t\x7f\xff\xc3\xa9end",
    'User-Agent' => "Mozilla/5.0 (X11; Linux x86_64) \xe2\x80\xa8 \xc3",
    'X-Custom' => "a\"b\\c\x01" . ('z' x 20) . "\xf0\x9f\x98\x80",
);

sub raw_get {
    my ($port) = @_;
    my $req = "GET $path?x=\"1\" HTTP/1.0\r\n";
    $req .= "$_: $h{$_}\r\n" for sort keys %h;
    return $t->raw("$req\r\n", $port);
}

like(raw_get($t->port('')), qr{^HTTP/1.1 200}, 'one pass: served');
my ($one) = $t->new_events(1);
like(raw_get($t->port('EXACT')), qr{^HTTP/1.1 200}, 'measured first: served');
my ($exact) = $t->new_events(1);

ok($one && $exact, 'both captured');
cmp_ok(length $exact->{_raw}, '<=', 2048, 'the event fits 2k: '
       . length($exact->{_raw}) . ' bytes');
cmp_ok(6 * 4 * length($path), '>', 2048, 'its strings at worst do not');
is($t->status->{events_cut}, 0, 'neither was cut');
ok(eval { JSON::PP->new->utf8->decode($exact->{_raw}); 1 },
   'valid UTF-8 JSON');
is($exact->{properties}{custom}, "a\"b\\c\x{1}" . ('z' x 20) . "\x{1f600}",
   'escapes and a 4-byte character come back');

# the ids and times of each event, then the same bytes
sub plain {
    my ($raw) = @_;
    $raw =~ s/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g;
    $raw =~ s/"timestamp":"[^"]*"/"timestamp":T/;
    return $raw;
}

is(plain($one->{_raw}), plain($exact->{_raw}), 'the same JSON');

# the timestamp's text is kept for a second: each event's is its uuid's
# time, over requests more than a second apart
require Time::Local;
my $bad = 0;
for my $i (1 .. 4) {
    select(undef, undef, undef, 0.4) if $i > 1;
    $t->get('/time');
    my ($e) = $t->new_events(1);
    my $ms = hex(substr($e->{uuid}, 0, 8)) * 65536
             + hex(substr($e->{uuid}, 9, 4));
    my ($Y, $M, $D, $h, $m, $s, $f) =
        $e->{timestamp} =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d{3})Z$/;
    $bad++ unless defined $f
        && Time::Local::timegm($s, $m, $h, $D, $M - 1, $Y) * 1000 + $f == $ms;
}
is($bad, 0, 'the timestamp is the uuid\'s time, second after second');

done_testing;
