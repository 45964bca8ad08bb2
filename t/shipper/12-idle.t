# The loop sleeps when it has nothing to do: while a batch backs off (also
# with a full buffer, the normal state of a long PostHog outage), and when
# Redis answers every read with an error (NOPERM, READONLY after a
# failover...). A restart finding its group is not logged as an error.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Time::HiRes qw(sleep time);

use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(add_events wait_for);

plan skip_all => 'needs /proc' unless -r "/proc/$$/stat";

my $r = PHTest::Redis->start;
my $S = 'posthog:events';

# user + system CPU time of a process, in clock ticks
sub cpu {
    open my $f, '<', "/proc/$_[0]/stat" or return 0;
    my $l = <$f>;
    $l =~ s/^.*\) //;
    my @f = split / /, $l;
    return $f[11] + $f[12];
}

sub calls {
    my ($cmd) = @_;
    my $i = $r->cmd('INFO', 'commandstats');
    return $i =~ /cmdstat_\Q$cmd\E:calls=(\d+)/ ? $1 : 0;
}

my $hz = eval { require POSIX; POSIX::sysconf(POSIX::_SC_CLK_TCK()) } || 100;

# ---- backing off with a full buffer ----
{
    my $ph = PHTest::PostHog->start(default => 503);
    add_events($r, 'phc_AAA', 5);
    # the retry comes after 5 to 10 s (jitter): far from the 1.2 s watched
    my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => ['--flush-interval', '50ms', '--retry-delay', '10s',
                 '--max-retry-delay', '10s', '--max-buffered', '5',
                 '--consumer', 'full']);
    ok(wait_for(sub { @{ $ph->requests } >= 1 }, 10), 'the batch failed')
        or diag $s->log;
    sleep 0.2;
    my $c0 = cpu($s->pid);
    sleep 1;
    my $used = (cpu($s->pid) - $c0) / $hz;
    ok($used < 0.2, sprintf 'backing off with a full buffer: %.2fs of CPU '
       . 'in 1s (no busy loop)', $used);
    is(scalar @{ $ph->requests }, 1, 'and no request before the retry');
    is($s->stop, 0, 'exit 0');
}

# ---- backing off with room: the read is the sleep ----
{
    my $ph = PHTest::PostHog->start(default => 503);
    add_events($r, 'phc_AAA', 5);
    my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
        args => ['--flush-interval', '50ms', '--retry-delay', '3s',
                 '--max-retry-delay', '3s', '--consumer', 'room']);
    ok(wait_for(sub { @{ $ph->requests } >= 1 }, 10), 'the batch failed')
        or diag $s->log;
    sleep 0.2;
    # Redis itself times BLOCK out at its hz (10/s by default) at best;
    # make it exact, so that a BLOCK 1 would show as what it is
    $r->cmd('CONFIG', 'SET', 'hz', 500);
    my ($c0, $x0) = (cpu($s->pid), calls('xreadgroup'));
    sleep 1;
    my $n = calls('xreadgroup') - $x0;
    my $used = (cpu($s->pid) - $c0) / $hz;
    $r->cmd('CONFIG', 'SET', 'hz', 10);
    ok($n <= 25, "backing off: $n reads in 1s (blocking ones, ~100ms each)");
    ok($used < 0.2, sprintf '%.2fs of CPU', $used);
    is($s->stop, 0, 'exit 0');
}

# ---- every read refused: back off, do not flood the log ----
{
    my $ph = PHTest::PostHog->start;
    $r->cmd('DEL', $S);
    my @u = add_events($r, 'phc_AAA', 5);
    my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
        log_level => 'info',
        args => ['--flush-interval', '50ms', '--consumer', 'noperm']);
    ok(wait_for(sub { @{ $ph->delivered } >= 5 }, 10), 'delivered')
        or diag $s->log;

    $r->cmd('ACL', 'SETUSER', 'default', '-xreadgroup');
    my $c0 = cpu($s->pid);
    sleep 1.5;
    my $used = (cpu($s->pid) - $c0) / $hz;
    my $errors = () = $s->log =~ /error: redis XREADGROUP: NOPERM/g;
    ok($errors >= 1, 'the refusal is logged');
    ok($errors <= 12, "... $errors times in 1.5s, not in a loop");
    ok($used < 0.3, sprintf '%.2fs of CPU in 1.5s', $used);

    $r->cmd('ACL', 'SETUSER', 'default', '+xreadgroup');
    push @u, add_events($r, 'phc_AAA', 5);
    ok(wait_for(sub { @{ $ph->delivered } >= 10 }, 10),
       'delivered again once reads are allowed') or diag $s->log;
    is_deeply([sort map { $_->{uuid} } @{ $ph->delivered }], [sort @u],
              'every event once');
    is($s->stop, 0, 'exit 0');

    # a restart: the group is there; the new process reads (the reads of
    # the ones before are counted already)
    my $x0 = calls('xreadgroup');
    my $s2 = PHTest::Shipper->start(redis => $r, posthog => $ph,
        log_level => 'info', args => ['--consumer', 'noperm']);
    ok(wait_for(sub { calls('xreadgroup') > $x0
                      && $s2->log =~ /posthog-shipper 0/ }, 5),
       'restarted, and reading') or diag $s2->log;
    sleep 0.3;
    is($s2->stop, 0, 'exit 0');
    unlike($s2->log, qr/error:/, 'an existing group (BUSYGROUP) is no error');
}

done_testing;
