# Stream entries the shipper must refuse without crashing: unknown format
# version, missing or bad token (what posthog_api_key does not allow), missing
# event, an event that is not one JSON object (one that would rewrite the
# request body it is pasted into, invalid UTF-8, nested too deep). And
# pending entries trimmed from the stream (MAXLEN ~) before delivery: counted
# as lost and acknowledged, also when they come back as nil.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;

use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(add_events make_event wait_for);

my $r  = PHTest::Redis->start;
my $ph = PHTest::PostHog->start;
my $S  = 'posthog:events';

my @good = add_events($r, 'phc_AAA', 2);
my %bad = (
    v2      => [v => 2, t => 'phc_AAA', e => make_event()],
    nov     => [t => 'phc_AAA', e => make_event()],
    vx      => [v => 'x1', t => 'phc_AAA', e => make_event()],
    notok   => [v => 1, e => make_event()],
    emptyt  => [v => 1, t => '', e => make_event()],
    noev    => [v => 1, t => 'phc_AAA'],
    array   => [v => 1, t => 'phc_AAA', e => '[1,2]'],
    text    => [v => 1, t => 'phc_AAA', e => 'hello'],
    other   => [x => 'y'],
    # {...} at both ends, but not one object: pasted into "batch":[...]
    # they would rewrite the request
    inject  => [v => 1, t => 'phc_AAA',
                e => '{"event":"c"}],"api_key":"phc_OTHER","batch":[{"event":"d"}'],
    twoobj  => [v => 1, t => 'phc_AAA', e => '{"a":1},{"b":2}'],
    instr   => [v => 1, t => 'phc_AAA', e => '{"a":"x\\\\"}],[{"}'],
    badesc  => [v => 1, t => 'phc_AAA', e => '{"a":"\\x41"}'],
    badu    => [v => 1, t => 'phc_AAA', e => '{"a":"\\u12g4"}'],
    ctl     => [v => 1, t => 'phc_AAA', e => "{\"a\":\"x\ny\"}"],
    ctlout  => [v => 1, t => 'phc_AAA', e => "{\"a\":1\x01}"],
    kinds   => [v => 1, t => 'phc_AAA', e => '{"a":[1}]}'],
    unclos  => [v => 1, t => 'phc_AAA', e => '{"a":"}'],
    deep    => [v => 1, t => 'phc_AAA',
                e => '{"a":' . ('[' x 64) . (']' x 64) . '}'],
    badutf8 => [v => 1, t => 'phc_AAA', e => "{\"a\":\"\xc3\x28\"}"],
    surrog  => [v => 1, t => 'phc_AAA', e => "{\"a\":\"\xed\xa0\x80\"}"],
    after   => [v => 1, t => 'phc_AAA', e => '{"a":1} x}'],
    # tokens posthog_api_key does not allow: they would go into the JSON
    # body and raw into log lines
    tnl     => [v => 1, t => "phc_A\n2026 error: forged", e => make_event()],
    tquote  => [v => 1, t => 'phc_A","batch":[', e => make_event()],
    tbslash => [v => 1, t => 'phc_A\\', e => make_event()],
    tspace  => [v => 1, t => 'phc_A B', e => make_event()],
    t8bit   => [v => 1, t => "phc_\xc3\xa9", e => make_event()],
    tdel    => [v => 1, t => "phc_\x7f", e => make_event()],
    tlong   => [v => 1, t => 'phc_' . ('A' x 197), e => make_event()],
);
my %id;
$id{$_} = $r->cmd('XADD', $S, '*', @{ $bad{$_} }) for sort keys %bad;
push @good, add_events($r, 'phc_AAA', 2);
# the longest token allowed, and every byte allowed
push @good, add_events($r, 'phc_' . ('A' x 196), 1);
my $all = join '', grep { $_ ne '"' && $_ ne '\\' } map { chr } 0x21 .. 0x7e;
push @good, add_events($r, $all, 1);
# what the structural check must let through: escapes, brackets and quotes
# in strings, UTF-8, depth 64, whitespace around
my %okev = (
    esc   => '{"a":"q\\"}],[{\\\\ \\/\\b\\f\\n\\r\\t \\u00e9\\uD83D\\uDE00"}',
    utf8  => "{\"a\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
    deep  => '{"a":' . ('[' x 63) . (']' x 63) . '}',
    ws    => " \r\n\t{\"a\" :\t[ {} , [] ]}\n ",
);
for my $k (sort keys %okev) {
    my $u = PHTest::Shipper::uuid();
    (my $e = $okev{$k}) =~ s/^(\s*)\{/$1\{"uuid":"$u","event":"ok_$k",/;
    $r->cmd('XADD', $S, '*', v => 1, t => 'phc_AAA', e => $e);
    push @good, $u;
}

my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
    args => ['--flush-interval', '50ms', '--consumer', 'one']);

ok(wait_for(sub { $r->cmd('XLEN', "$S:dead") >= 29
                  && @{ $ph->delivered } >= 10 }, 10), 'processed')
    or diag $s->log;

is_deeply([sort map { $_->{uuid} } @{ $ph->delivered }], [sort @good],
          'the good entries delivered');
ok((grep { $_->{_api_key} eq $all } @{ $ph->delivered }),
   'a token with every byte allowed survives as api_key');
unlike($s->log, qr/forged/, 'a bad token is not in the log');

my %dead;
for my $d (@{ $r->cmd('XRANGE', "$S:dead", '-', '+') }) {
    my %f = @{ $d->[1] };
    $dead{ $f{id} } = \%f;
}

my %want = (v2 => 'unknown_version', nov => 'unknown_version',
            vx => 'unknown_version', notok => 'missing_token',
            emptyt => 'missing_token', noev => 'missing_event',
            array => 'not_a_json_object', text => 'not_a_json_object',
            other => 'unknown_version',
            (map { $_ => 'bad_token' }
                 qw(tnl tquote tbslash tspace t8bit tdel tlong)),
            (map { $_ => 'not_a_json_object' }
                 qw(inject twoobj instr badesc badu ctl ctlout kinds unclos
                    deep badutf8 surrog after)));
for my $k (sort keys %want) {
    is($dead{ $id{$k} }{reason}, $want{$k}, "$k: dead letter, $want{$k}");
}
is($dead{ $id{v2} }{v}, 2, 'the original fields are kept (v)');
is($dead{ $id{v2} }{e}, $bad{v2}[5], '... (e)');
is($dead{ $id{v2} }{status}, 0, 'status 0: not an HTTP refusal');

# the stand-in records a request before it answers; the XACK comes after
ok(wait_for(sub { $r->cmd('XPENDING', $S, 'posthog-shipper')->[0] == 0 }, 5),
   'all acknowledged');
ok($s->alive, 'still running');

# trimmed while pending: PostHog hangs, so the entries stay pending; the
# shipper is killed; MAXLEN trims them; a restart finds nil entries
$ph->script(default => 'hang');
my $before = @{ $ph->requests };
my @lost = add_events($r, 'phc_AAA', 5);
ok(wait_for(sub { @{ $ph->requests } > $before }, 10),
   'the batch is in flight');
# the first batch may have left before the last XADD: wait until all are read
ok(wait_for(sub { $r->cmd('XPENDING', $S, 'posthog-shipper')->[0] == 5 }, 10),
   '5 pending');
$s->kill9;
$r->cmd('XTRIM', $S, 'MAXLEN', 0);
$ph->script(default => 200);

my $s2 = PHTest::Shipper->start(redis => $r, posthog => $ph,
    args => ['--flush-interval', '50ms', '--consumer', 'one']);
ok(wait_for(sub { $r->cmd('XPENDING', $S, 'posthog-shipper')->[0] == 0 }, 10),
   'the trimmed entries are acknowledged');
is($s2->stop, 0, 'exit 0');
like($s2->log, qr/trimmed=5 /, 'counted as trimmed');
like($s2->log, qr/warn: entry \d+-\d+ was trimmed from the stream before delivery: lost/,
     'and logged');

# the same through XAUTOCLAIM (another consumer's trimmed entries)
$ph->script(default => 'hang');
add_events($r, 'phc_AAA', 3);
my $s3 = PHTest::Shipper->start(redis => $r, posthog => $ph,
    args => ['--flush-interval', '50ms', '--consumer', 'two']);
ok(wait_for(sub { $r->cmd('XPENDING', $S, 'posthog-shipper')->[0] == 3 }, 10),
   '3 pending for consumer two');
$s3->kill9;
$r->cmd('XTRIM', $S, 'MAXLEN', 0);
$ph->script(default => 200);
my $s4 = PHTest::Shipper->start(redis => $r, posthog => $ph,
    args => ['--flush-interval', '50ms', '--consumer', 'three',
             '--claim-idle', '200ms']);
ok(wait_for(sub { $r->cmd('XPENDING', $S, 'posthog-shipper')->[0] == 0 }, 10),
   'XAUTOCLAIM cleared the trimmed entries of a dead consumer');
is($s4->stop, 0, 'exit 0');
like($s4->log, qr/trimmed=3 /, 'counted as trimmed');

done_testing;
