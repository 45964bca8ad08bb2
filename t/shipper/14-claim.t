# Taking over a dead consumer's pending entries at full speed (not 10
# XAUTOCLAIM pages per claim_idle/2), but no more than --max-buffered; --replay-dead with a shipper running
# that dead-letters the replayed entries again (it must end), and as a user
# that may not XDEL (it must stop); and reply
# shapes of other Redis versions, through a scripted fake Redis: the bare
# nil of Redis 6.2's XAUTOCLAIM (read our PEL, acknowledge it there, count
# it once), an entry without fields (no proof it is gone: left pending).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use IO::Select;
use IO::Socket::INET;
use File::Temp ();
use POSIX ();
use Time::HiRes qw(sleep time);

use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(add_events make_event wait_for run_shipper);

my $r = PHTest::Redis->start;
my $S = 'posthog:events';
my $G = 'posthog-shipper';

# ---- a dead consumer with 2000 pending entries ----
{
    my $ph = PHTest::PostHog->start;
    my @u = add_events($r, 'phc_AAA', 2000);
    $r->cmd('XGROUP', 'CREATE', $S, $G, '0');
    $r->cmd('XREADGROUP', 'GROUP', $G, 'dead', 'COUNT', 5000,
            'STREAMS', $S, '>');
    is($r->cmd('XPENDING', $S, $G)->[0], 2000, '2000 pending for "dead"');
    sleep 1.1;

    my $t0 = time;
    my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
        log_level => 'info',
        args => ['--flush-interval', '50ms', '--claim-idle', '1s',
                 '--batch-size', '10', '--consumer', 'heir']);
    # polled on Redis: decoding every request body each time would take
    # the CPU the shipper is being timed on
    ok(wait_for(sub { $r->cmd('XPENDING', $S, $G)->[0] == 0 }, 30),
       'taken over, all acknowledged') or diag $s->log;
    my $took = time - $t0;
    # the old pacing, 10 pages of 10 every 500 ms, takes 10 s at least;
    # the margin is for a busy CI machine
    ok($took < 8.5, sprintf 'at full speed (%.1fs)', $took);
    is(scalar @{ $ph->delivered }, 2000, 'each once');
    is($s->stop, 0, 'exit 0');
    like($s->log, qr/claimed=2000 /, 'claimed=2000');
}

# ---- a claim takes no more than --max-buffered leaves room for ----
{
    my $c = PHTest::Redis->start;
    my $ph = PHTest::PostHog->start(default => 'hang');
    add_events($c, 'phc_AAA', 50);
    $c->cmd('XGROUP', 'CREATE', $S, $G, '0');
    $c->cmd('XREADGROUP', 'GROUP', $G, 'dead', 'COUNT', 100,
            'STREAMS', $S, '>');
    sleep 1.1;
    my $s = PHTest::Shipper->start(redis => $c, posthog => $ph,
        args => ['--flush-interval', '50ms', '--claim-idle', '1s',
                 '--batch-size', '10', '--max-buffered', '5',
                 '--consumer', 'heir']);
    ok(wait_for(sub { @{ $ph->requests } >= 1 }, 10), 'a batch in flight')
        or diag $s->log;
    sleep 0.5;
    my ($heir) = grep { $_->[0] eq 'heir' }
        @{ $c->cmd('XPENDING', $S, $G)->[3] || [] };
    is($heir->[1], 5, 'it claimed 5 of the page of 10: the room left');
    $s->kill9;
}

# ---- --replay-dead while a shipper dead-letters them again ----
{
    my $ph = PHTest::PostHog->start;
    my $N = 2000;
    for (1 .. $N) {
        $r->cmd('XADD', "$S:dead", '*', 'v', 2, 't', 'phc_AAA',
                'e', make_event(), 'reason', 'unknown_version',
                'status', 0, 'id', '1-1');
    }
    my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
        log_level => 'info',
        args => ['--flush-interval', '50ms', '--consumer', 'busy']);
    sleep 0.3;
    my ($rc, $out, $err) = run_shipper('--redis', $r->addr, '--replay-dead');
    is($rc, 0, '--replay-dead ends') or diag $err;
    like($err, qr/replayed $N dead-letter entries/,
         "it moved the $N entries that were there, once");
    ok(wait_for(sub { $r->cmd('XLEN', "$S:dead") == $N }, 10),
       'the running shipper dead-lettered them again (a v2 it does not know)');
    is($s->stop, 0, 'exit 0');
}

# ---- --replay-dead as an ACL user that may not XDEL ----
# (the entries stay in the dead-letter stream: it must stop at once, not
# read and XADD them again forever)
{
    my $a = PHTest::Redis->start;
    $a->cmd('ACL', 'SETUSER', 'u', 'on', '>pw', '~*', '&*', '+@all', '-xdel');
    my $N = 5;
    for (1 .. $N) {
        $a->cmd('XADD', "$S:dead", '*', 'v', 1, 't', 'phc_AAA',
                'e', make_event(), 'reason', 'too_large',
                'status', 0, 'id', '1-1');
    }
    my $t0 = time;
    my ($rc, $out, $err) = run_shipper('--redis', $a->addr,
        '--redis-username', 'u', '--redis-password', 'pw', '--replay-dead');
    isnt($rc, 0, '--replay-dead without XDEL: exit non-zero');
    isnt($rc, -1, '... by itself (not killed after 10 s)');
    cmp_ok(time - $t0, '<', 5, '... within seconds');
    like($err, qr/redis XDEL: NOPERM/, 'the XDEL error is logged');
    like($err, qr/replay stopped after 0 entries: XDEL \S+ from $S:dead failed/,
         '... and why it stopped');
    cmp_ok($a->xlen($S), '<=', $N, 'the stream did not grow past the dead letters');
    is($a->xlen("$S:dead"), $N, 'the dead letters are all still there');
}

# ---- a scripted fake Redis ----
#
# Answers what the shipper asks; XAUTOCLAIM and the PEL reads
# (XREADGROUP ... 0-0) come from the test's script; records XACK.

sub resp {
    my ($v) = @_;
    return "\$-1\r\n" unless defined $v;
    return '*' . @$v . "\r\n" . join('', map { resp($_) } @$v)
        if ref $v eq 'ARRAY';
    return $$v if ref $v eq 'SCALAR';           # raw
    return '$' . length($v) . "\r\n$v\r\n";
}

sub fake_redis {
    my (%o) = @_;    # claims => [reply, ...] (one per XAUTOCLAIM, then
                     # empty), pel => sub { $claims_done } -> entries
    my $l = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1) or die;
    my $log = File::Temp->new;
    my $pid = fork // die;
    if ($pid == 0) {
        my $sel = IO::Select->new($l);
        my (%buf, $claims);
        $claims = 0;
        open my $lf, '>>', $log->filename or die;
        $lf->autoflush(1);
        while (1) {
            for my $fh ($sel->can_read(0.05)) {
                if ($fh == $l) { $sel->add($l->accept); next }
                my $n = sysread($fh, my $chunk, 65536);
                if (!$n) { $sel->remove($fh); close $fh; next }
                $buf{$fh} .= $chunk;
                while ($buf{$fh} =~ /^\*(\d+)\r\n/) {
                    my ($argc, $p, @a) = ($1, length($&));
                    my $b = $buf{$fh};
                    for (1 .. $argc) {
                        substr($b, $p) =~ /^\$(\d+)\r\n/ or last;
                        $p += length($&);
                        last if length($b) < $p + $1 + 2;
                        push @a, substr($b, $p, $1);
                        $p += $1 + 2;
                    }
                    last if @a < $argc;
                    substr($buf{$fh}, 0, $p) = '';
                    my $c = uc $a[0];
                    print $lf "@a\n";
                    my $rep;
                    if ($c eq 'XGROUP')  { $rep = \"+OK\r\n" }
                    elsif ($c eq 'XACK') { $rep = \":1\r\n" }
                    elsif ($c eq 'XLEN') { $rep = \":0\r\n" }
                    elsif ($c eq 'XINFO' || $c eq 'XCLAIM') { $rep = [] }
                    elsif ($c eq 'XADD') { $rep = '9-9' }
                    elsif ($c eq 'XAUTOCLAIM') {
                        $rep = $o{claims}[$claims] // ['0-0', []];
                        $claims++;
                    }
                    elsif ($c eq 'XREADGROUP') {
                        if ($a[-1] eq '>') {
                            sleep 0.05;
                            $rep = undef;
                        } else {
                            # a PEL read: entries after the cursor
                            my $after = $a[-1];
                            my @e = grep { cmp_id($_->[0], $after) > 0 }
                                    @{ $o{pel}->($claims) };
                            $rep = [[$a[-2], \@e]];
                        }
                    }
                    else { $rep = \"-ERR unknown command\r\n" }
                    syswrite($fh, resp($rep));
                }
            }
        }
    }
    my $port = $l->sockport;
    close $l;
    return bless { pid => $pid, port => $port, log => $log },
                 'FakeRedis';
}

sub cmp_id {
    my ($a1, $a2) = split /-/, $_[0];
    my ($b1, $b2) = split /-/, $_[1];
    return $a1 <=> $b1 || $a2 <=> $b2;
}

sub FakeRedis::addr { '127.0.0.1:' . $_[0]{port} }
sub FakeRedis::cmds {
    open my $f, '<', $_[0]{log}->filename or return [];
    return [map { chomp; $_ } <$f>];
}
sub FakeRedis::DESTROY {
    local $?;
    kill 'KILL', $_[0]{pid};
    waitpid($_[0]{pid}, 0);
}

# Redis 6.2: XAUTOCLAIM answers a deleted pending entry with a bare nil,
# after moving it to our PEL, where a read returns it as [id, nil]
{
    my $fr = fake_redis(
        claims => [['0-0', []], ['0-0', [undef]]],
        pel    => sub { $_[0] >= 2 ? [['5-1', undef]] : [] });
    my $s = PHTest::Shipper->start(redis => $fr, log_level => 'info',
        args => ['--output', '-', '--claim-idle', '200ms']);
    ok(wait_for(sub { grep { /^XACK \S+ \S+ 5-1$/ } @{ $fr->cmds } }, 5),
       'Redis 6.2 nil from XAUTOCLAIM: our PEL read again, the entry '
       . 'acknowledged there') or diag join "\n", @{ $fr->cmds };
    sleep 0.5;
    is($s->stop, 0, 'exit 0');
    like($s->log, qr/trimmed=1 /, 'counted once');
    like($s->log, qr/entry 5-1 was trimmed from the stream before delivery/,
         'and logged with its id');
}

# an entry without its fields: not the shape of a trimmed one
{
    my $fr = fake_redis(pel => sub { [['6-1']] });
    my $s = PHTest::Shipper->start(redis => $fr, log_level => 'info',
        args => ['--output', '-']);
    ok(wait_for(sub { $s->log =~ /entry 6-1: unexpected reply shape/ }, 5),
       'an entry without fields: warned') or diag $s->log;
    sleep 0.2;
    is($s->stop, 0, 'exit 0');
    is(scalar(grep { /^XACK/ } @{ $fr->cmds }), 0,
       'and not acknowledged: it stays pending');
    like($s->log, qr/trimmed=0 /, 'not counted as trimmed');
}

done_testing;
