package PHTest::Shipper;

# Runs build/posthog-shipper (or $PH_SHIPPER) for a test, and makes stream
# entries the way the module writes them (format v1).
#
#   my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
#                                  args => ['--batch-size', 10]);
#   $s->log;            # its stderr so far
#   $s->stop;           # SIGTERM; returns the exit code (dies after 10 s)
#   $s->kill9;
#
#   my @uuids = add_events($r, 'phc_a', 100, name => 'x');
#   wait_for(sub { ... }, 10) or fail(...);
#   my ($rc, $out, $err) = run_shipper('--batch-size', 'x');

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(add_events make_event uuid wait_for run_shipper
                    shipper_bin);
our @ALIVE;

our $ROOT = abs_path(dirname(__FILE__) . '/../../..');

sub shipper_bin {
    my $b = $ENV{PH_SHIPPER}
        || ($ENV{PH_BUILD} || "$ROOT/build") . '/posthog-shipper';
    die "$b is not built (make -C shipper)\n" unless -x $b;
    return $b;
}

my $uuid_n = 0;

# a UUIDv7-shaped id, unique within the test run
sub uuid {
    my $ms = int(time * 1000);
    $uuid_n++;
    return sprintf '%08x-%04x-7%03x-%04x-%04x%08x',
        $ms >> 16, $ms & 0xffff, $$ & 0xfff, 0x8000 | ($uuid_n >> 32 & 0x3fff),
        int(rand(0xffff)), $uuid_n & 0xffffffff;
}

sub make_event {
    my (%o) = @_;
    my $ev = {
        event       => $o{event} // '$pageview',
        distinct_id => $o{distinct_id} // 'user-1',
        properties  => { '$lib' => 'ngx_posthog_module', %{ $o{props} || {} } },
        timestamp   => '2026-11-28T20:16:33.290Z',
        uuid        => $o{uuid} // uuid(),
    };
    return JSON::PP->new->canonical->encode($ev);
}

# XADD n events for token; returns their uuids. Pipelined in one MULTI-less
# burst through the Redis connection.
sub add_events {
    my ($r, $token, $n, %o) = @_;
    my @u;
    my $stream = $o{stream} // 'posthog:events';
    for my $i (1 .. $n) {
        my $u = uuid();
        push @u, $u;
        my $e = make_event(uuid => $u, props => { i => $i, tok => $token,
                                                 %{ $o{props} || {} } });
        $r->cmd('XADD', $stream, '*', 'v', $o{v} // 1, 't', $token,
                'e', $e);
    }
    return @u;
}

sub wait_for {
    my ($cond, $timeout) = @_;
    my $end = time + ($timeout // 10);
    while (time < $end) {
        my $v = $cond->();
        return $v if $v;
        sleep 0.05;
    }
    return $cond->();
}

sub start {
    my ($class, %o) = @_;
    my $dir = tempdir('ph-shipper-XXXXXX', TMPDIR => 1,
                      CLEANUP => !$ENV{PH_KEEP});
    my @args = ('--redis', $o{redis}->addr, '--stats-interval', '0',
                '--log-level', $o{log_level} // 'debug');
    push @args, '--host', $o{posthog}->url if $o{posthog};
    push @args, @{ $o{args} || [] };

    my $self = bless { dir => $dir, owner => $$, args => \@args,
                       log => "$dir/stderr", out => "$dir/stdout" }, $class;
    my $bin = shipper_bin();
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $self->{out} or die;
        open STDERR, '>', $self->{log} or die;
        exec @{ $o{wrapper} || [] }, $bin, @args;
        die "exec $bin: $!";
    }
    $self->{pid} = $pid;
    push @ALIVE, $self;
    return $self;
}

sub pid { $_[0]{pid} }

sub log {
    my ($self) = @_;
    open my $fh, '<', $self->{log} or return '';
    local $/;
    return <$fh> // '';
}

sub stdout {
    my ($self) = @_;
    open my $fh, '<', $self->{out} or return '';
    local $/;
    return <$fh> // '';
}

sub alive {
    my ($self) = @_;
    return 0 unless $self->{pid};
    my $w = waitpid($self->{pid}, WNOHANG);
    if ($w == $self->{pid}) {
        $self->{rc} = $? >> 8;
        $self->{signal} = $? & 127;
        delete $self->{pid};
        return 0;
    }
    return 1;
}

# SIGTERM, wait; returns the exit code (undef if it had to be killed)
sub stop {
    my ($self, $timeout) = @_;
    return $self->{rc} unless $self->{pid} && $self->{owner} == $$;
    kill 'TERM', $self->{pid};
    my $end = time + ($timeout // 10);
    while (time < $end) {
        return $self->{rc} unless $self->alive;
        sleep 0.02;
    }
    $self->kill9;
    return undef;
}

sub kill9 {
    my ($self) = @_;
    local $?;    # waitpid in END must not change the test's exit code
    return unless $self->{pid} && $self->{owner} == $$;
    kill 'KILL', $self->{pid};
    waitpid($self->{pid}, 0);
    $self->{signal} = 9;
    delete $self->{pid};
}

sub DESTROY { $_[0]->kill9 }

END { $_->kill9 for grep { $_->{pid} } @ALIVE }

# Run to completion (for bad flags, --help, --replay-dead); returns
# (exit code, stdout, stderr). Killed after 10 s.
sub run_shipper {
    my (@args) = @_;
    my $dir = tempdir('ph-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $bin = shipper_bin();
    my $pid = fork // die;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$dir/out" or die;
        open STDERR, '>', "$dir/err" or die;
        exec $bin, @args;
        die;
    }
    my $end = time + 10;
    my $rc;
    while (time < $end) {
        if (waitpid($pid, WNOHANG) == $pid) { $rc = $? >> 8; last }
        sleep 0.02;
    }
    unless (defined $rc) { kill 'KILL', $pid; waitpid($pid, 0); $rc = -1 }
    local $/;
    open my $o, '<', "$dir/out"; my $out = <$o> // '';
    open my $e, '<', "$dir/err"; my $err = <$e> // '';
    return ($rc, $out, $err);
}

1;
