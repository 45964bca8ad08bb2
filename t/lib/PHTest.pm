package PHTest;

# The test harness: each test file gets its own nginx (the system binary, or
# $NGINX_BIN) with the built module, on free loopback ports, with the config
# the test writes; a redis-server when asked for; and HTTP helpers.  All
# processes are stopped at the end, also when a test dies.
#
#   my $t = PHTest->new(redis => 1);
#   $t->run(<<'EOF');                       # the http{} block's content
#   server {
#       listen 127.0.0.1:%%PORT%%;
#       posthog on;
#       location / { return 200 "ok"; }
#   }
#   EOF
#   my $r = $t->get('/', Cookie => 'a=b');  # {status, headers, body, cookies}
#
# In a config, %%PORT%% is nginx's main port, %%PORT_<NAME>%% another free
# port per name, %%REDIS%% the redis address, %%DIR%% the test's directory;
# and what most configs share, so that a test shows what is its own:
#   %%CAPTURE%%  posthog_redis to the test's redis, a 1m buffer flushed
#                every 20 ms (http level)
#   %%STATUS%%   location = /status, the status page (untracked)
#   %%PAGE%%     a static page: "root ...; try_files /page.html =404;".  Identify
# applies only to a request that passed the access phase, which a "return"
# (rewrite phase) never reaches: a location that identifies serves %%PAGE%%
# or proxies.
#
# Events, counters and access log lines are made at the log phase, after
# the response went out, and reach Redis later still: a test waits for
# them (wait_status, wait_events, the redis wait_len) instead of sleeping
# and reading once.  CI is a slow, busy 2-core box.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP ();
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our $ROOT = abs_path(dirname(__FILE__) . '/../..');
our @ALIVE;

sub new {
    my ($class, %opt) = @_;

    my $build = $ENV{PH_BUILD} || "$ROOT/build";
    my $dir = tempdir('ph-test-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{PH_KEEP});
    chmod 0755, $dir;
    mkdir "$dir/tmp";
    mkdir "$dir/logs";    # the default error log of an nginx.org build
    mkdir "$dir/html";
    open my $page, '>', "$dir/html/page.html" or die "$dir/html: $!";
    print $page "<html>page</html>\n";
    close $page;

    my $self = bless {
        dir     => $dir,
        nginx   => $ENV{NGINX_BIN} || '/usr/sbin/nginx',
        module  => $ENV{PH_MODULE} || "$build/ngx_http_posthog_module.so",
        workers => $opt{workers} || 1,
        ports   => {},
        log_level => $opt{log_level} || 'info',
        owner   => $$,
    }, $class;

    # PH_MODULE=static: an nginx built with --add-module, nothing to load
    die "module $self->{module} is not built (run make)\n"
        unless $self->{module} eq 'static' || -f $self->{module};

    if ($opt{redis}) {
        require PHTest::Redis;
        $self->{redis} = PHTest::Redis->start;
    }

    push @ALIVE, $self;
    return $self;
}

sub dir   { $_[0]{dir} }
sub redis { $_[0]{redis} }

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub port {
    my ($self, $name) = @_;
    $name //= '';
    return $self->{ports}{$name} //= free_port();
}

sub expand {
    my ($self, $text) = @_;
    $text =~ s/%%PORT_(\w+)%%/$self->port($1)/ge;
    $text =~ s/%%PORT%%/$self->port('')/ge;
    $text =~ s{%%CAPTURE%%}{posthog_redis %%REDIS%%;\nposthog_buffer 1m flush=20ms;}g;
    $text =~ s{%%STATUS%%}{location = /status { posthog off; posthog_status; }}g;
    $text =~ s{%%PAGE%%}{root $self->{dir}/html; try_files /page.html =404;}g;
    $text =~ s/%%DIR%%/$self->{dir}/g;
    if ($self->{redis}) {
        my $r = '127.0.0.1:' . $self->{redis}->port;
        $text =~ s/%%REDIS%%/$r/g;
    }
    return $text;
}

# The whole nginx.conf around the test's http{} content.
sub write_conf {
    my ($self, $http, %opt) = @_;
    my $d = $self->{dir};
    my $user = $> == 0 ? "user root;\n" : '';
    my $main = $self->expand($opt{main} // '');
    my $events = $opt{events} // '';     # e.g. "use poll;"
    my $load = $self->{module} eq 'static' ? ''
             : "load_module $self->{module};";
    my $conf = <<"CONF";
$load
${user}worker_processes $self->{workers};
daemon on;
master_process on;
error_log $d/error.log $self->{log_level};
pid $d/nginx.pid;
$main
events { worker_connections 1024; $events }

http {
    access_log $d/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    default_type text/html;

@{[ $self->expand($http) ]}
}
CONF
    open my $fh, '>', "$d/nginx.conf" or die "$d/nginx.conf: $!";
    print $fh $conf;
    close $fh;
    return "$d/nginx.conf";
}

# nginx -t: returns (exit ok, output)
sub conf_test {
    my ($self, $http, %opt) = @_;
    my $conf = $self->write_conf($http, %opt);
    my $out = `$self->{nginx} -t -p $self->{dir} -c $conf 2>&1`;
    return ($? == 0, $out);
}

sub run {
    my ($self, $http, %opt) = @_;
    $self->stop_nginx;
    my $conf = $self->write_conf($http, %opt);
    my $out = `$self->{nginx} -p $self->{dir} -c $conf 2>&1`;
    die "nginx failed to start:\n$out\n" . $self->error_log if $?;
    $self->{running} = 1;
    $self->wait_port($self->port(''));
    return $self;
}

sub pid {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/nginx.pid" or return;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

sub wait_port {
    my ($self, $port, $timeout) = @_;
    my $end = time + ($timeout || 10);
    while (time < $end) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Timeout => 1);
        return 1 if $s;
        sleep 0.02;
    }
    die "nothing listens on 127.0.0.1:$port\n" . $self->error_log;
}

# Whether a process runs.  The daemonized master is reparented to pid 1:
# once it exited it stays a zombie until pid 1 reaps it, which may take
# seconds, or never happen in a container.
sub alive {
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // '';
    return $stat !~ /\) Z /;
}

# nginx -s SIGNAL equivalent; waits for a quit/stop to finish.
sub signal {
    my ($self, $sig, $timeout) = @_;
    my $pid = $self->pid or return;
    kill $sig, $pid;
    if ($sig eq 'QUIT' || $sig eq 'TERM') {
        my $end = time + ($timeout || 15);
        sleep 0.02 while alive($pid) && time < $end;
        if (alive($pid)) {
            kill 'KILL', $pid;
            die "nginx did not exit after SIG$sig\n";
        }
        $self->{running} = 0;
    }
    return 1;
}

sub reload {
    my ($self, $http, %opt) = @_;
    $self->write_conf($http, %opt) if defined $http;
    my $pid = $self->pid;
    kill 'HUP', $pid;
}

sub stop_nginx {
    my ($self) = @_;
    return unless $self->{running};
    eval { $self->signal('QUIT', 10) };
    if ($@) {
        my $pid = $self->pid;
        kill 'KILL', $pid if $pid;
    }
    $self->{running} = 0;
}

sub stop {
    my ($self) = @_;
    # a forked child (a test's fake upstream) must not stop our servers
    return unless $self->{owner} == $$;
    return if $self->{stopped}++;
    $self->stop_nginx;
    $self->{redis}->stop if $self->{redis};
    delete $self->{redis};
    return $self->check_log;
}

# Whatever a test did, nginx must not have crashed, leaked a socket or
# tripped a sanitizer: such lines in error.log fail the test file.
our $LOG_PROBLEMS = qr/AddressSanitizer|LeakSanitizer|runtime error:|\[alert\]|\[crit\]|open socket #\d+ left in connection|exited on signal/;

sub check_log {
    my ($self) = @_;
    my @bad = grep { /$LOG_PROBLEMS/ } split /\n/, $self->error_log;
    return 1 unless @bad;
    print STDERR "# error.log of $self->{dir} has:\n",
        map({ "#   $_\n" } @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
    return 0;
}

sub error_log {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/error.log" or return '';
    local $/;
    return <$fh>;
}

# HTTP, one connection per request.  Returns
# { status, headers => {lc name => value or [values]}, body,
#   cookies => {name => {value, attrs => {lc attr => value}}} }
#
# Requests come from a browser unless a test says otherwise: the module
# makes no event and no cookie for bots and clients that are not browsers
# (HTTP::Tiny's own UA is one).  A test of bots sends its own User-Agent.
our $BROWSER_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) '
    . 'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

sub request {
    my ($self, $method, $path, %headers) = @_;
    my $port = delete $headers{-port} || $self->port('');
    my $body = delete $headers{-body};
    my $http = HTTP::Tiny->new(keep_alive => 0, max_redirect => 0,
                               timeout => 10, agent => $BROWSER_UA);
    my $r = $http->request($method, "http://127.0.0.1:$port$path",
        { headers => \%headers, defined $body ? (content => $body) : () });
    $r->{body} = $r->{content};
    $r->{cookies} = parse_set_cookie($r->{headers}{'set-cookie'});
    return $r;
}

sub get { my $self = shift; $self->request('GET', @_) }

# Raw request bytes (for what HTTP::Tiny refuses to send); returns the
# response as text.  A request without a User-Agent gets $BROWSER_UA after
# its request line, unless no_ua => 1.
sub raw {
    my ($self, $bytes, $port, %opt) = @_;
    $bytes =~ s/^([^\r\n]*\r?\n)/$1User-Agent: $BROWSER_UA\r\n/
        unless $opt{no_ua} || $bytes =~ /^User-Agent:/mi;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port || $self->port(''), Timeout => 5)
        or die "connect: $!";
    print $s $bytes;
    local $/;
    my $resp = <$s>;
    return $resp;
}

# The events in the Redis stream, decoded, oldest first; each has its
# entry's fields as _v, _t (token) and _id.  "stream" defaults to ours.
sub events {
    my ($self, %opt) = @_;
    my $stream = $opt{stream} || 'posthog:events';
    my $entries = $self->{redis}->cmd('XRANGE', $stream, '-', '+') || [];
    my @ev;
    for my $en (@$entries) {
        my %f = @{ $en->[1] };
        my $e = JSON::PP->new->utf8->decode($f{e});
        @$e{qw(_v _t _id _raw)} = ($f{v}, $f{t}, $en->[0], $f{e});
        push @ev, $e;
    }
    return @ev;
}

# The XADD commands Redis receives while $code runs, as MONITOR shows them
# (one line each).
sub xadds {
    my ($self, $code) = @_;
    my $file = $self->dir . '/monitor.txt';
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $file or die "$file: $!";
        exec 'redis-cli', '-h', '127.0.0.1', '-p', $self->redis->port,
            'monitor';
        die "redis-cli: $!";
    }
    sleep 0.3;    # MONITOR attached
    $code->();
    sleep 0.3;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    open my $fh, '<', $file or die "$file: $!";
    return grep { /"XADD"/i } <$fh>;
}

# Waits until the stream holds at least $n events (or $timeout seconds).
sub wait_events {
    my ($self, $n, $timeout, %opt) = @_;
    my $end = time + ($timeout || 5);
    my @ev;
    while (1) {
        @ev = $self->events(%opt);
        return @ev if @ev >= $n || time > $end;
        sleep 0.05;
    }
}

# The status page (posthog_status) at $path, decoded from JSON.
sub status {
    my ($self, $path) = @_;
    require JSON::PP;
    my $r = $self->get($path // '/status');
    die "status page: $r->{status}\n$r->{body}" unless $r->{status} == 200;
    return JSON::PP->new->decode($r->{body});
}

# Waits until the status page (at /status) shows each counter of %want
# (or $timeout seconds passed); returns the last status read.  With more
# than one worker a client can have a response before the worker that sent
# it ran the log phase, and another worker answers /status meanwhile.
sub wait_status {
    my ($self, %want) = @_;
    my $end = time + (delete $want{-timeout} // 5);
    my $s;
    while (1) {
        $s = $self->status;
        return $s if time > $end
            || !grep { ($s->{$_} // -1) != $want{$_} } keys %want;
        sleep 0.05;
    }
}

# A test of one counter: waits until the status page shows it at $want
# (or 5 s passed), then checks it.
sub counter_is {
    my ($self, $name, $want, $what) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is($self->wait_status($name => $want)->{$name}, $want, $what);
}

# Writes a file into the test's directory (e.g. an htpasswd); its path.
sub file {
    my ($self, $name, $content) = @_;
    my $path = "$self->{dir}/$name";
    open my $fh, '>', $path or die "$path: $!";
    print $fh $content;
    close $fh;
    return $path;
}

# Waits until all workers are connected to redis (the status page's
# redis_connected gauge, at $path) or $timeout seconds passed.
sub wait_connected {
    my ($self, %opt) = @_;
    my $want = $opt{workers} // $self->{workers};
    my $end = time + ($opt{timeout} // 10);
    while (time < $end) {
        my $s = eval { $self->status($opt{path}) };
        return 1 if $s && ($s->{redis_connected} // 0) >= $want;
        sleep 0.05;
    }
    return 0;
}

# Like get(), and how long it took (seconds): ($response, $seconds)
sub timed_get {
    my $self = shift;
    my $t0 = time;
    my $r = $self->get(@_);
    return ($r, time - $t0);
}

# Number of lines of error.log matching a regexp.
sub log_count {
    my ($self, $re) = @_;
    return scalar grep { /$re/ } split /\n/, $self->error_log;
}

# Pids of the worker processes (children of the master).
sub worker_pids {
    my ($self) = @_;
    my $master = $self->pid or return;
    my @pids;
    for my $st (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $st or next;
        my $line = <$fh> // next;
        my ($pid, $ppid) = $line =~ /^(\d+) \(.*\) \S+ (\d+)/ or next;
        push @pids, $pid if $ppid == $master;
    }
    return @pids;
}

# The events that arrived since the last call: waits for at least $n of
# them (up to $timeout seconds), returns what is there.
sub new_events {
    my ($self, $n, $timeout) = @_;
    my $seen = $self->{events_seen} // 0;
    my @ev = $self->wait_events($seen + $n, $timeout || 5);
    $self->{events_seen} = @ev;
    return @ev[$seen .. $#ev];
}

sub parse_set_cookie {
    my ($h) = @_;
    my %c;
    return \%c unless defined $h;
    for my $line (ref $h ? @$h : ($h)) {
        my ($pair, @attrs) = split /;\s*/, $line;
        my ($n, $v) = split /=/, $pair, 2;
        my %a = map { my ($k, $x) = split /=/, $_, 2; (lc $k => $x // 1) }
                @attrs;
        # id: the anonymous id, the first field of the state (the whole
        # value on a first visit without a session)
        $c{$n} = { value => $v, id => (split /\./, $v // '')[0] // '',
                   attrs => \%a, raw => $line,
                   count => ($c{$n} ? $c{$n}{count} + 1 : 1) };
    }
    return \%c;
}

END {
    my $rc = $?;
    my $clean = 1;
    for (@ALIVE) {
        $clean = 0 unless $_->stop // 1;
    }
    $? = $rc || ($clean ? 0 : 254);
}

1;
