package PHTest::Redis;

# A real redis-server for one test file, on a free loopback port, without
# persistence; stopped when the object goes away or the test ends.
#
#   my $r = PHTest::Redis->start;
#   $r->cmd('XLEN', 'posthog:events');
#   $r->pause; ... $r->resume;           # SIGSTOP / SIGCONT: a hung redis
#   $r->stop; $r->restart;                # same port

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
             '--daemonize', 'no', @{ $self->{args} };
        die "exec $self->{bin}: $!";
    }
    $self->{pid} = $pid;
    my $end = time + 10;
    while (time < $end) {
        my $c = eval { Redis->new(server => "127.0.0.1:$self->{port}",
                                  reconnect => 0, cnx_timeout => 1) };
        if ($c && eval { $c->ping }) {
            $self->{conn} = $c;
            return;
        }
        sleep 0.02;
    }
    die "redis-server did not start on port $self->{port}";
}

sub port { $_[0]{port} }
sub addr { '127.0.0.1:' . $_[0]{port} }
sub pid  { $_[0]{pid} }

sub conn {
    my ($self) = @_;
    $self->{conn} ||= Redis->new(server => $self->addr, reconnect => 2,
                                 cnx_timeout => 2);
    return $self->{conn};
}

# Any command; replies as the Redis module gives them.
sub cmd {
    my ($self, $cmd, @args) = @_;
    my $c = $self->conn;
    return $c->__std_cmd($cmd, @args) if $c->can('__std_cmd');
    return $c->$cmd(@args);
}

sub pause  { kill 'STOP', $_[0]{pid} }
sub resume { kill 'CONT', $_[0]{pid} }

sub stop {
    my ($self) = @_;
    # a forked child (a test's fake upstream) must not stop our server
    local $?;    # waitpid in END must not change the test's exit code
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
