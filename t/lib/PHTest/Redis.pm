package PHTest::Redis;

# A real redis-server for one test file, on a free loopback port, without
# persistence; stopped when the object goes away or the test ends.
#
#   my $r = PHTest::Redis->start;
#   $r->cmd('XLEN', 'posthog:events');
#   $r->pause; ... $r->resume;           # SIGSTOP / SIGCONT: a hung redis
#   $r->stop; $r->restart;                # same port
#   PHTest::Redis->start(password => 'pw');   # requirepass

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Socket::INET;
use Redis;
use Time::HiRes qw(sleep time);

our @ALIVE;

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub start {
    my ($class, %opt) = @_;
    my $self = bless {
        port => $opt{port} || free_port(),
        dir  => tempdir('ph-redis-XXXXXX', TMPDIR => 1, CLEANUP => 1),
        bin  => $ENV{REDIS_SERVER} || 'redis-server',
        args => $opt{args} || [],
        password => $opt{password},
        owner => $$,
    }, $class;
    $self->spawn;
    push @ALIVE, $self;
    return $self;
}

sub spawn {
    my ($self) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$self->{dir}/redis.log";
        open STDERR, '>&', \*STDOUT;
        exec $self->{bin}, '--port', $self->{port}, '--bind', '127.0.0.1',
             '--save', '', '--appendonly', 'no', '--dir', $self->{dir},
             '--daemonize', 'no',
             (defined $self->{password}
                 ? ('--requirepass', $self->{password}) : ()),
             @{ $self->{args} };
        die "exec $self->{bin}: $!";
    }
    $self->{pid} = $pid;
    my $end = time + 10;
    while (time < $end) {
        my $c = eval { Redis->new(server => "127.0.0.1:$self->{port}",
                                  reconnect => 0, cnx_timeout => 1,
                                  $self->auth) };
        if ($c && eval { $c->ping }) {
            $self->{conn} = $c;
            return;
        }
        sleep 0.02;
    }
    die "redis-server did not start on port $self->{port}";
}

sub auth {
    my ($self) = @_;
    return defined $self->{password} ? (password => $self->{password}) : ();
}

sub port { $_[0]{port} }
sub addr { '127.0.0.1:' . $_[0]{port} }
sub pid  { $_[0]{pid} }

sub conn {
    my ($self) = @_;
    $self->{conn} ||= Redis->new(server => $self->addr, reconnect => 2,
                                 cnx_timeout => 2, $self->auth);
    return $self->{conn};
}

# Any command; replies as the Redis module gives them.
sub cmd {
    my ($self, $cmd, @args) = @_;
    my $c = $self->conn;
    return $c->__std_cmd($cmd, @args) if $c->can('__std_cmd');
    return $c->$cmd(@args);
}

# The entries of a stream, oldest first, as
# { id, fields => {name => value}, event => decoded "e" (undef if not JSON) }
sub entries {
    my ($self, $stream) = @_;
    require JSON::PP;
    my $raw = $self->cmd('XRANGE', $stream // 'posthog:events', '-', '+');
    my @out;
    for my $x (@{ $raw || [] }) {
        my ($id, $kv) = @$x;
        my %f = @$kv;
        my $e = eval { JSON::PP->new->utf8->decode($f{e} // '') };
        push @out, { id => $id, fields => \%f, event => $e };
    }
    return @out;
}

sub xlen {
    my ($self, $stream) = @_;
    return $self->cmd('XLEN', $stream // 'posthog:events') // 0;
}

# Waits until the stream holds at least $n entries (or $timeout seconds
# passed); returns its length.
sub wait_len {
    my ($self, $n, %opt) = @_;
    my $end = time + ($opt{timeout} // 10);
    my $len = 0;
    while (1) {
        $len = eval { $self->xlen($opt{stream}) } // 0;
        last if $len >= $n || time > $end;
        sleep 0.05;
    }
    return $len;
}

sub pause  { kill 'STOP', $_[0]{pid} }
sub resume { kill 'CONT', $_[0]{pid} }

sub stop {
    my ($self) = @_;
    # waitpid sets $?, which at END time is the test's exit status
    local $?;
    # a forked child (a test's fake upstream) must not stop our server
    return unless $self->{pid} && $self->{owner} == $$;
    delete $self->{conn};
    kill 'CONT', $self->{pid};
    kill 'TERM', $self->{pid};
    my $end = time + 5;
    while (time < $end) {
        last if waitpid($self->{pid}, 1) == $self->{pid};   # WNOHANG
        sleep 0.02;
    }
    kill 'KILL', $self->{pid};
    waitpid($self->{pid}, 0);
    delete $self->{pid};
}

sub restart {
    my ($self) = @_;
    $self->stop;
    $self->spawn;
}

sub DESTROY { $_[0]->stop }

END { $_->stop for grep { $_->{pid} } @ALIVE }

1;
