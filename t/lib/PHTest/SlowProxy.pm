package PHTest::SlowProxy;

# A TCP proxy on a free loopback port, in a forked child, that passes what
# the client sends on at once and what the server answers back slowly, at
# most "rate" bytes per second: in front of Redis, a Redis that answers
# one XADD at a time, far slower than nginx makes events.
#
#   my $p = PHTest::SlowProxy->start(to => $t->redis->port, rate => 2300);
#   $p->port;            # what nginx connects to
#   $p->rate(0);         # another rate from now on; 0: no limit
#   $p->inject($bytes);  # once, before the replies not yet passed back
#   $p->stop;

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time);

our @ALIVE;

sub start {
    my ($class, %o) = @_;

    my $listen = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
                                       LocalPort => 0, ReuseAddr => 1)
        or die "slow proxy: listen: $!";

    my $dir = tempdir('ph-proxy-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $self = bless { port => $listen->sockport, owner => $$,
                       file => "$dir/rate" }, $class;
    $self->rate($o{rate} // 0);

    my $parent = $$;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{TERM} = sub { POSIX::_exit(0) };
        eval { serve($listen, $o{to}, $self->{file}, $parent) };
        warn "slow proxy: $@" if $@;
        POSIX::_exit(0);
    }
    close $listen;
    $self->{pid} = $pid;
    push @ALIVE, $self;
    return $self;
}

sub port { $_[0]{port} }

sub rate {
    my ($self, $rate) = @_;
    open my $fh, '>', "$self->{file}.tmp" or die "$self->{file}.tmp: $!";
    print $fh $rate;
    close $fh;
    rename "$self->{file}.tmp", $self->{file} or die "rename: $!";
}

# bytes the server did not send, put before the replies waiting on every
# connection (within 0.1 s): a server that breaks the protocol
sub inject {
    my ($self, $bytes) = @_;
    open my $fh, '>', "$self->{file}.inject.tmp" or die "$self->{file}: $!";
    print $fh $bytes;
    close $fh;
    rename "$self->{file}.inject.tmp", "$self->{file}.inject"
        or die "rename: $!";
}

sub read_rate {
    my ($file) = @_;
    open my $fh, '<', $file or return 0;
    my $r = <$fh> // 0;
    return $r + 0;
}

sub write_all {
    my ($fh, $data) = @_;
    while (length $data) {
        my $n = syswrite($fh, $data);
        return 0 unless defined $n;
        substr($data, 0, $n) = '';
    }
    return 1;
}

sub serve {
    my ($listen, $to, $file, $parent) = @_;
    my $sel = IO::Select->new($listen);
    my %peer;       # fileno => the other socket
    my %client;     # fileno of an upstream socket => its client
    my %pending;    # fileno of a client => bytes not yet passed back
    my %csock;      # fileno of a client => the client socket
    my $last = time;
    my $allow = 0;
    my $rate = read_rate($file);
    my $checked = time;

    while (1) {
        exit 0 if getppid() != $parent;

        if (time - $checked > 0.1) {
            $rate = read_rate($file);
            $checked = time;

            if (open my $fh, '<', "$file.inject") {
                local $/;
                my $bytes = <$fh> // '';
                unlink "$file.inject";
                $pending{$_} = $bytes . $pending{$_} for keys %pending;
            }
        }

        for my $fh ($sel->can_read(0.005)) {
            if ($fh == $listen) {
                my $c = $listen->accept or next;
                my $u = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                              PeerPort => $to)
                    or do { close $c; next };
                $peer{ fileno $c } = $u;
                $peer{ fileno $u } = $c;
                $client{ fileno $u } = $c;
                $pending{ fileno $c } = '';
                $csock{ fileno $c } = $c;
                $sel->add($c, $u);
                next;
            }

            my $other = $peer{ fileno $fh } or do { $sel->remove($fh); next };
            my $n = sysread($fh, my $buf, 1 << 20);

            if (!$n) {
                $sel->remove($fh, $other);
                delete @peer{ fileno $fh, fileno $other };
                delete @client{ fileno $fh, fileno $other };
                delete @pending{ fileno $fh, fileno $other };
                delete @csock{ fileno $fh, fileno $other };
                close $fh;
                close $other;
                next;
            }

            if ($client{ fileno $fh }) {
                $pending{ fileno $other } .= $buf;       # a reply: later
            } else {
                write_all($other, $buf);                 # a command: now
            }
        }

        # the replies, "rate" bytes per second over all connections

        my $now = time;
        $allow = $rate ? $allow + ($now - $last) * $rate : 1 << 30;
        $last = $now;

        for my $fd (keys %pending) {
            next unless length $pending{$fd};
            my $n = int $allow;
            last if $n < 1;
            $n = length $pending{$fd} if $n > length $pending{$fd};
            write_all($csock{$fd}, substr($pending{$fd}, 0, $n, ''));
            $allow -= $n;
        }

        # no credit piles up while nothing waits
        $allow = 0 unless grep { length } values %pending;
    }
}

sub stop {
    my ($self) = @_;
    local $?;
    return unless $self->{pid} && $self->{owner} == $$;
    kill 'TERM', $self->{pid};
    waitpid($self->{pid}, 0);
    delete $self->{pid};
}

sub DESTROY { $_[0]->stop }

END { $_->stop for grep { $_->{pid} } @ALIVE }

1;
