# --output FILE / --output -: each batch as it would be sent, one JSON line,
# uncompressed; acknowledged once written. No network at all.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

use PHTest::Redis;
use PHTest::Shipper qw(add_events wait_for);

my $r   = PHTest::Redis->start;
my $dir = tempdir(CLEANUP => 1);
my $out = "$dir/batches.jsonl";

my @u = add_events($r, 'phc_AAA', 120);
push @u, add_events($r, 'phc_BBB', 7);

# --host points nowhere: nothing must try it
my $s = PHTest::Shipper->start(redis => $r,
    args => ['--output', $out, '--host', 'http://127.0.0.1:9',
             '--batch-size', 50, '--flush-interval', '50ms']);

sub lines {
    open my $fh, '<', $out or return ();
    return map { JSON::PP->new->utf8->decode($_) } <$fh>;
}

ok(wait_for(sub { (map { @{ $_->{batch} } } lines()) >= 127 }, 10),
   'all written') or diag $s->log;
my @l = lines();
is_deeply([sort map { $_->{uuid} } map { @{ $_->{batch} } } @l], [sort @u],
          'every event once');
ok(@l >= 4, scalar(@l) . ' lines, one per batch');
is(scalar(grep { @{ $_->{batch} } > 50 } @l), 0, 'batch size honoured');
is(scalar(grep { $_->{api_key} !~ /^phc_(AAA|BBB)$/ || !$_->{sent_at} } @l), 0,
   'api_key and sent_at on every line');
is(scalar(grep { $_->{api_key} ne $_->{batch}[0]{properties}{tok} } @l), 0,
   'one token per line');
# a line is written, then acknowledged
ok(wait_for(sub { $r->cmd('XPENDING', 'posthog:events', 'posthog-shipper')
                   ->[0] == 0 }, 5), 'acknowledged');
is($s->stop, 0, 'exit 0');
unlike($s->log, qr/(error|warn):/, 'no warnings');

# --output -
my @v = add_events($r, 'phc_CCC', 3);
my $s2 = PHTest::Shipper->start(redis => $r,
    args => ['--output', '-', '--flush-interval', '50ms']);
ok(wait_for(sub { $s2->stdout =~ /\n/ }, 10), 'a line on stdout');
is($s2->stop, 0, 'exit 0');
my @o = map { decode_json($_) } split /\n/, $s2->stdout;
is_deeply([sort map { $_->{uuid} } map { @{ $_->{batch} } } @o], [sort @v],
          'the events on stdout');

# an output that cannot be written: not acknowledged, retried
my @w = add_events($r, 'phc_DDD', 2);
my $s3 = PHTest::Shipper->start(redis => $r,
    args => ['--output', '/dev/full', '--flush-interval', '50ms',
             '--retry-delay', '50ms']);
ok(wait_for(sub { $s3->log =~ /writing --output \/dev\/full: No space/ }, 10),
   'a write error is logged');
is($r->cmd('XPENDING', 'posthog:events', 'posthog-shipper')->[0], 2,
   'and the events stay pending');
is($s3->stop, 0, 'exit 0');

my ($rc, undef, $err) = PHTest::Shipper::run_shipper('--redis', $r->addr,
    '--output', "$dir/no/such/dir/file");
is($rc, 1, 'an output that cannot be opened: exit 1');
like($err, qr/--output "\Q$dir\E\/no\/such\/dir\/file": No such file/,
     '... with a message');

done_testing;
