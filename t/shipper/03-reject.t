# 400 and 413: the batch is split in halves until the bad events are alone;
# those go to the dead-letter stream with PostHog's reason and the status,
# the good ones are delivered. Events over 900 KiB never leave.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Time::HiRes qw(sleep);

use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(add_events make_event wait_for);

my $r  = PHTest::Redis->start;
my $ph = PHTest::PostHog->start(rules => [
    { contains => 'POISON', status => 400,
      body => '{"type":"validation_error","code":"invalid_payload",'
            . '"detail":"Invalid payload: event POISON"}' },
    { contains => 'HUGE', status => 413 },
]);

my @u = add_events($r, 'phc_AAA', 20);
my @p = add_events($r, 'phc_AAA', 1, props => { bad => 'POISON' });
push @u, add_events($r, 'phc_AAA', 20);
my @h = add_events($r, 'phc_AAA', 1, props => { big => 'HUGE' });
push @u, add_events($r, 'phc_AAA', 9);

# one event over 900 KiB
my $big = make_event(props => { pad => 'x' x (901 * 1024) });
my $big_id = $r->cmd('XADD', 'posthog:events', '*', 'v', 1, 't', 'phc_AAA',
                     'e', $big);

my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
    args => ['--flush-interval', '100ms', '--batch-size', '100']);

ok(wait_for(sub { $r->cmd('XLEN', 'posthog:events:dead') >= 3
                  && @{ $ph->delivered } >= 49 }, 15),
   'good events delivered, 3 dead letters') or diag $s->log;
sleep 0.3;

my $ev = $ph->delivered;
is_deeply([sort map { $_->{uuid} } @$ev], [sort @u],
          'exactly the 49 good events delivered');

my %dead;
for my $d (@{ $r->cmd('XRANGE', 'posthog:events:dead', '-', '+') }) {
    my %f = @{ $d->[1] };
    $dead{ $f{reason} =~ /POISON/ ? 'poison'
         : $f{status} == 413      ? 'huge'
         :                          'big' } = \%f;
}

my $pd = $dead{poison};
ok($pd, 'the poison event is in the dead-letter stream');
is($pd->{status}, 400, '... with status 400');
like($pd->{reason}, qr/^\{"type":"validation_error".*Invalid payload/,
     "... and PostHog's reason");
like($pd->{e}, qr/"uuid":"$p[0]"/, '... the event as written');
is($pd->{t}, 'phc_AAA', '... its token');
is($pd->{v}, 1, '... the format version');
like($pd->{id}, qr/^\d+-\d+$/, '... the original entry id');

is($dead{huge}{status}, 413, 'a single event answered 413: dead letter');
like($dead{huge}{reason}, qr/^too_large/, '... reason too_large');
like($dead{huge}{e}, qr/"uuid":"$h[0]"/, '... the right event');

is($dead{big}{reason}, 'too_large', 'the 900 KiB+ event: too_large');
is($dead{big}{status}, 0, '... without asking PostHog (status 0)');
is($dead{big}{id}, $big_id, '... its id');
is(scalar(grep { length($_->{body}) > 900 * 1024 } @{ $ph->requests }), 0,
   'it was never sent');

# the stand-in records a request before it answers; the XACK comes after
ok(wait_for(sub { $r->cmd('XPENDING', 'posthog:events', 'posthog-shipper')
                   ->[0] == 0 }, 5), 'all acknowledged');

my $n = @{ $ph->requests };
ok($n <= 30, "bisection took $n requests for 51 events, 2 bad");
like($s->log, qr/warn: token phc_AAA: 400 for \d+ events, splitting/,
     'the split is logged');
like($s->log, qr/dead-lettered \S+ \(status 400\): .*POISON/,
     'the dead letter is logged with status and reason');

is($s->stop, 0, 'exit 0');

# 413 on a whole batch: halves
my $ph2 = PHTest::PostHog->start(queue => [413, 413]);
# added first (the group exists): read in one go, one batch of 40, however
# slow the XADDs
my @v = add_events($r, 'phc_BBB', 40);
my $s2 = PHTest::Shipper->start(redis => $r, posthog => $ph2,
    args => ['--flush-interval', '100ms']);
ok(wait_for(sub { @{ $ph2->delivered } >= 40 }, 10), '413: delivered');
my @sizes = map { scalar @{ $_->{json}{batch} } } @{ $ph2->requests };
is_deeply(\@sizes, [40, 20, 10, 10, 20], 'split in halves, then sent');
is_deeply([sort map { $_->{uuid} } @{ $ph2->delivered }], [sort @v],
          'each event once');
is($s2->stop, 0, 'exit 0');

done_testing;
