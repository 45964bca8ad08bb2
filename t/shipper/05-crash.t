# At-least-once across crashes: SIGKILL while a request hangs, restart with
# the same consumer name: its pending entries are sent again (same uuids) and
# nothing is lost. A dead consumer's entries are taken over by another
# shipper (XAUTOCLAIM). Two shippers in one group never send the same event.
# SIGTERM while a request is in flight: it is finished, then exit 0.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use List::Util qw(max);
use Test::More;
use Time::HiRes qw(sleep time);

use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(add_events wait_for);

my $r  = PHTest::Redis->start;
my $S  = 'posthog:events';
my $G  = 'posthog-shipper';
my @fast = ('--flush-interval', '50ms', '--retry-delay', '50ms',
            '--max-retry-delay', '200ms', '--batch-size', '25');

sub pending { $r->cmd('XPENDING', $S, $G)->[0] }

# our group's XINFO GROUPS fields, by name (lag: entries not yet read)
sub group {
    for my $g (@{ $r->cmd('XINFO', 'GROUPS', $S) || [] }) {
        my %f = @$g;
        return \%f if ($f{name} // '') eq $G;
    }
    return {};
}

sub check_once {
    my ($ph, $uuids, $what) = @_;
    my (%n, %body);
    my $conflict = 0;
    for my $e (@{ $ph->delivered }) {
        $n{ $e->{uuid} }++;
        my $b = join '|', $e->{event}, $e->{distinct_id}, $e->{properties}{i};
        $conflict++ if exists $body{ $e->{uuid} } && $body{ $e->{uuid} } ne $b;
        $body{ $e->{uuid} } = $b;
    }
    is_deeply([sort keys %n], [sort @$uuids], "$what: every event delivered");
    is($conflict, 0, "$what: a duplicate is the same event (same uuid)");
    return \%n;
}

# ---- SIGKILL mid-batch ----
{
    my $ph = PHTest::PostHog->start(queue => [200, 'hang']);
    my @u = add_events($r, 'phc_AAA', 100);
    my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => [@fast, '--consumer', 'crashy', '--timeout', '60s']);

    ok(wait_for(sub { @{ $ph->requests } >= 2 }, 10),
       'first batch delivered, second one hangs') or diag $s->log;
    sleep 0.2;
    $s->kill9;
    ok(pending() > 0, 'killed with ' . pending() . ' pending');
    is(scalar @{ $ph->delivered }, 25, '25 delivered before the kill');

    my $s2 = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => [@fast, '--consumer', 'crashy']);
    ok(wait_for(sub { pending() == 0 && (group()->{lag} // -1) == 0 }, 10),
       'restart: all read and acknowledged')
        or diag explain(group()), $s2->log;
    check_once($ph, \@u, 'after SIGKILL');
    my @hung = map { $_->{uuid} } @{ $ph->requests->[1]{json}{batch} };
    my %again = map { $_->{uuid} => 1 }
        grep { $_->{_req} > 2 } @{ $ph->delivered };
    is(scalar(grep { $again{$_} } @hung), 25,
       'the hung batch was sent again, same uuids');
    is($s2->stop, 0, 'exit 0');
}

# ---- a dead consumer's entries: XAUTOCLAIM by another name ----
{
    my $ph = PHTest::PostHog->start(default => 'hang');
    my @u = add_events($r, 'phc_AAA', 30);
    my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => [@fast, '--consumer', 'dies', '--timeout', '60s']);
    # and its request hanging: killed before it was sent, the request
    # would reach the stand-in after the switch to 200 below, and be taken
    # for the heir's
    ok(wait_for(sub { pending() == 30 && @{ $ph->requests } >= 1 }, 10),
       '30 pending for "dies", its request hanging');
    $s->kill9;
    $ph->script(default => 200);

    # idle since "dies" read them, not since now: the earliest read, from
    # Redis's idle times (the clock read before asking)
    my $now = time;
    my $pel = $r->cmd('XPENDING', $S, $G, '-', '+', 100);
    my $t0  = $now - max(map { $_->[2] } @$pel) / 1000;
    my $s2 = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => [@fast, '--consumer', 'heir', '--claim-idle', '1s']);
    ok(wait_for(sub { pending() == 0 }, 10), 'taken over and delivered')
        or diag $s2->log;
    my ($first) = grep { $_->{status} eq '200' } @{ $ph->requests };
    cmp_ok($first->{time} - $t0, '>=', 0.95, 'not before --claim-idle');
    check_once($ph, \@u, 'XAUTOCLAIM');
    is($s2->stop, 0, 'exit 0');
    like($s2->log, qr/claimed=30 /, 'claimed counter');
}

# ---- a live shipper retrying through an outage keeps its entries ----
{
    my $ph = PHTest::PostHog->start(default => 503);
    my @u = add_events($r, 'phc_AAA', 20);
    # a heartbeat every 667 ms against 2 s: a stall of "busy" on a loaded
    # machine is not a death; without the heartbeat "other" (XAUTOCLAIM
    # every 1 s) would claim within 3 s
    my $a = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => [@fast, '--consumer', 'busy', '--claim-idle', '2s']);
    ok(wait_for(sub { pending() == 20 }, 10), '20 pending for "busy"');
    my $b = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => [@fast, '--consumer', 'other', '--claim-idle', '2s']);
    sleep 4;
    $ph->script(default => 200);
    ok(wait_for(sub { pending() == 0 }, 10), 'delivered after the outage');
    is($a->stop, 0, 'busy: exit 0');
    is($b->stop, 0, 'other: exit 0');
    like($b->log, qr/claimed=0 /,
         'the other shipper claimed nothing: the heartbeat kept them busy');
    check_once($ph, \@u, 'outage with two shippers');
    is(scalar @{ $ph->delivered }, 20, 'no duplicates');
}

# ---- two shippers, one group ----
{
    my $ph = PHTest::PostHog->start;
    my $a = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => [@fast, '--consumer', 'a', '--batch-size', 10]);
    my $b = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => [@fast, '--consumer', 'b', '--batch-size', 10]);
    my @u;
    for (1 .. 20) {
        push @u, add_events($r, 'phc_AAA', 15);
        push @u, add_events($r, 'phc_BBB', 5);
        sleep 0.02;
    }
    ok(wait_for(sub { @{ $ph->delivered } >= 400 }, 15), '400 delivered');
    sleep 0.3;
    my $n = check_once($ph, \@u, 'two shippers');
    is(scalar(grep { $_ > 1 } values %$n), 0, 'no event delivered twice');
    is(scalar @{ $ph->delivered }, 400, 'exactly 400');
    is($a->stop, 0, 'a: exit 0');
    is($b->stop, 0, 'b: exit 0');
    my ($da) = $a->log =~ /delivered=(\d+)/;
    my ($db) = $b->log =~ /delivered=(\d+)/;
    is($da + $db, 400, "both worked: a=$da b=$db");
}

# ---- SIGTERM with a request in flight ----
{
    my $ph = PHTest::PostHog->start(queue => [{ status => 200, delay => 0.7 }]);
    my @u = add_events($r, 'phc_AAA', 10);
    my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => [@fast, '--consumer', 'term']);
    ok(wait_for(sub { @{ $ph->requests } >= 1 }, 10), 'in flight');
    is($s->stop, 0, 'SIGTERM: exit 0');
    # the 0.7 s began when the stand-in recorded the request
    cmp_ok(time - $ph->requests->[0]{time}, '>=', 0.65,
           'after waiting for the answer');
    is(pending(), 0, 'the answered batch was acknowledged');

    # one that never comes: abandoned after --shutdown-timeout
    $ph->script(default => 'hang');
    add_events($r, 'phc_AAA', 10);
    my $s2 = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => [@fast, '--consumer', 'term', '--shutdown-timeout', '300ms',
                 '--timeout', '60s']);
    ok(wait_for(sub { @{ $ph->requests } >= 2 }, 10), 'in flight');
    my $t0 = time;
    is($s2->stop, 0, 'SIGTERM: exit 0');
    ok(time - $t0 < 2, sprintf 'abandoned after --shutdown-timeout (%.2fs)',
       time - $t0);
    is(pending(), 10, 'not acknowledged: 10 still pending');
    like($s2->log, qr/abandoned the request in flight; its 10 events stay pending/,
         'logged');
}

done_testing;
