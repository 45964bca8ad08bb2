# The Debian packages (make deb), installed on this machine, work as an
# operator uses them: the system nginx loads the module from the package's
# modules-enabled snippet, a request through it is captured into Redis and
# delivered by the installed posthog-shipper run as its unit runs it (not
# before POSTHOG_HOST is set), and apt-get purge leaves nothing behind.
#
# It installs and purges packages: run by make test-deb (PH_TEST_DEB=1),
# as root, on a machine where neither package is installed.  Its nginx,
# Redis and shipper are its own, on free loopback ports; system services
# are neither used nor touched.

use strict;
use warnings;
use lib 't/lib';
use Test::More;

BEGIN {
    plan skip_all => 'installs packages on this machine: make test-deb'
        unless $ENV{PH_TEST_DEB};
    plan skip_all => 'needs root (apt-get install, the system user)'
        unless $> == 0;
}

use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use HTTP::Tiny;
use POSIX qw(WNOHANG);
use Sys::Hostname qw(hostname);
use Text::ParseWords qw(shellwords);
use Time::HiRes qw(sleep time);
use PHTest ();          # its $BROWSER_UA
use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(wait_for);

my @PKGS = qw(libnginx-mod-http-posthog posthog-shipper);
my $USER = 'posthog-shipper';
my $UNIT = '/lib/systemd/system/posthog-shipper.service';
my $DEFAULT = '/etc/default/posthog-shipper';
my $ENABLED = '/etc/nginx/modules-enabled/50-mod-http-posthog.conf';
my $AVAILABLE = '/usr/share/nginx/modules-available/mod-http-posthog.conf';
my $WANTS = '/etc/systemd/system/multi-user.target.wants/'
          . 'posthog-shipper.service';
my $EXAMPLE = '/usr/share/doc/libnginx-mod-http-posthog/examples/'
            . 'posthog.conf';

# (exit code, stdout and stderr)
sub run {
    my (@cmd) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        open STDIN, '<', '/dev/null';
        exec @cmd or die "exec $cmd[0]: $!";
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

sub installed {
    my ($pkg) = @_;
    my $st = `dpkg-query -W -f='\${db:Status-Status}' $pkg 2>/dev/null`;
    return $st ne '' && $st ne 'not-installed';
}

my $dir = $ENV{PH_DEB_DIR} || 'build/deb';
my @debs = map {
    my @f = glob "$dir/${_}_*.deb";
    @f == 1 or BAIL_OUT("want one $dir/${_}_*.deb, found " . scalar @f
                        . ' (make deb)');
    File::Spec->rel2abs($f[0]);
} @PKGS;

# whatever happens below, the machine is left as it was found
plan skip_all => "@PKGS or user $USER already here: this test would remove"
                 . ' them'
    if grep({ installed($_) } @PKGS) || getpwnam($USER);

my $installed_by_us;
END {
    if ($installed_by_us) {
        local $?;
        run('apt-get', 'purge', '-y', '-q', @PKGS);
    }
}

my @enabled_before = sort glob '/etc/nginx/modules-enabled/*';

# install

$ENV{DEBIAN_FRONTEND} = 'noninteractive';
$installed_by_us = 1;
my ($rc, $out) = run('apt-get', 'install', '-y', '-q',
                     '--no-install-recommends', @debs);
is($rc, 0, 'apt-get install of both packages') or diag $out;
ok(installed($_), "$_ installed") for @PKGS;

my (undef, $dep) = run('dpkg-query', '-W', '-f=${Depends}', $PKGS[0]);
like($dep, qr/\bnginx-abi-[\d.]+-\d+\b/,
     'the module depends on the nginx ABI it was built for');
my (undef, $abi) = run('dpkg-query', '-W', '-f=${Provides}', 'nginx');
my ($want_abi) = $dep =~ /(nginx-abi-[\d.]+-\d+)/;
like($abi, qr/\Q$want_abi\E/, "the installed nginx provides $want_abi")
    if $want_abi;

my (undef, $files) = run('dpkg', '-L', @PKGS);
my @files = grep { (-f $_ || -l $_) && !-d $_ } split /\n/, $files;
ok(-f '/usr/lib/nginx/modules/ngx_http_posthog_module.so',
   'the module in /usr/lib/nginx/modules');
is(readlink($ENABLED) // '', $AVAILABLE,
   'its snippet enabled in modules-enabled');
ok(-f $EXAMPLE, 'the example configuration');
ok(-x '/usr/bin/posthog-shipper', 'the shipper binary');
ok(-f '/usr/share/man/man1/posthog-shipper.1.gz', 'its man page');
my (undef, $conffiles) = run('dpkg-query', '-W', '-f=${Conffiles}',
                             $PKGS[1]);
like($conffiles, qr/^\s*\Q$DEFAULT\E /m, "$DEFAULT is a conffile");
is(readlink($WANTS) // '', $UNIT, 'the unit is enabled');

my @pw = getpwnam($USER);
ok(@pw, "system user $USER made");
ok(@pw && $pw[2] > 0 && $pw[2] < 1000, 'a system uid');
like($pw[8] // '', qr{/(nologin|false)$}, 'no login shell');

($rc, $out) = run('systemd-analyze', 'verify', $UNIT);
is($rc, 0, 'systemd-analyze verify accepts the unit') or diag $out;

# the system nginx loads the module from the snippet

my $t = tempdir('ph-deb-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $t;

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    return $s->sockport;
}

# an nginx.conf of our own: absolute paths, no -p, so that the snippet's
# relative "modules/..." resolves as the system nginx resolves it
sub conf {
    my ($name, $main, $http) = @_;
    my $f = "$t/$name.conf";
    open my $fh, '>', $f or die "$f: $!";
    print $fh <<"EOF";
$main
user root;
worker_processes 1;
daemon on;
master_process on;
error_log $t/error.log info;
pid $t/nginx.pid;
events { worker_connections 64; }
http {
    access_log $t/access.log;
    default_type text/html;
    client_body_temp_path $t/body;
    proxy_temp_path $t/proxy;
    fastcgi_temp_path $t/fastcgi;
    uwsgi_temp_path $t/uwsgi;
    scgi_temp_path $t/scgi;
$http
}
EOF
    close $fh;
    return $f;
}

my $redis = PHTest::Redis->start;
my $ph = PHTest::PostHog->start;
my $port = free_port();
my $site = <<"EOF";
    posthog_redis 127.0.0.1:@{[ $redis->port ]};
    posthog_buffer 1m flush=50ms;
    server {
        listen 127.0.0.1:$port;
        posthog on;
        posthog_api_key phc_deb;
        location / { return 200 "ok\\n"; }
    }
EOF
my $include = 'include /etc/nginx/modules-enabled/*.conf;';

($rc, $out) = run('nginx', '-t', '-c', conf('bare', '', $site));
isnt($rc, 0, 'without the snippet, nginx -t refuses the posthog directives');
like($out, qr/unknown directive "posthog_/, '(unknown directive)');

($rc, $out) = run('nginx', '-t');
is($rc, 0, "the system's own nginx.conf passes nginx -t with the module")
    or diag $out;

my $conf = conf('site', $include, $site);
($rc, $out) = run('nginx', '-t', '-c', $conf);
is($rc, 0, 'with modules-enabled included, nginx -t accepts them')
    or diag $out;

($rc, $out) = run('nginx', '-t', '-c',
                  conf('example', $include, "include $EXAMPLE;"));
is($rc, 0, 'the example configuration passes nginx -t') or diag $out;

# a request through the installed nginx into Redis

($rc, $out) = run('nginx', '-c', $conf);
is($rc, 0, 'nginx starts') or diag $out;
# a browser's User-Agent: a non-browser gets no event (posthog_bots)
my $http = HTTP::Tiny->new(timeout => 10, agent => $PHTest::BROWSER_UA);
my $r = wait_for(sub {
    my $r = $http->get("http://127.0.0.1:$port/page");
    $r->{status} == 200 ? $r : undef
}, 10);
ok($r, 'GET /page answered 200');
my $len = wait_for(sub { $redis->cmd('XLEN', 'posthog:events') }, 10);
is($len, 1, 'the request is captured into the Redis stream');

# the installed shipper, run as the unit runs it

open my $uf, '<', $UNIT or die "$UNIT: $!";
my %unit;
while (<$uf>) {
    next unless /^(\w+)=(.*)$/;
    push @{ $unit{$1} }, $2;
}
close $uf;
is($unit{User}[0], $USER, "the unit runs as $USER");
is($unit{Restart}[0], 'on-failure', 'Restart=on-failure');

my $host = hostname();
# systemd's unescaping of an Exec line: quotes, $$ and %%, %H; no prefixes
sub exec_line {
    my ($line) = @_;
    $line =~ s/^[-\@:+!]+//;
    return map { s/\$\$/\$/g; s/%H/$host/g; s/%%/%/g; $_ } shellwords($line);
}

# Environment=, then EnvironmentFile= (which wins), as systemd does
sub unit_env {
    my %env = (PATH => '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:'
                       . '/sbin:/bin', LANG => 'C.UTF-8');
    for (@{ $unit{Environment} || [] }) {
        my ($k, $v) = split /=/, join(' ', exec_line($_)), 2;
        $env{$k} = $v;
    }
    for my $f (@{ $unit{EnvironmentFile} || [] }) {
        (my $path = $f) =~ s/^-//;
        open my $fh, '<', $path or ($f =~ /^-/ ? next : die "$path: $!");
        while (<$fh>) {
            next unless /^\s*([A-Za-z_]\w*)=(.*?)\s*$/;
            my ($k, $v) = ($1, $2);
            $v =~ s/^"(.*)"$/$1/ or $v =~ s/^'(.*)'$/$1/;
            $env{$k} = $v;
        }
    }
    return %env;
}

# forks the command with the unit's environment as the unit's user;
# returns the pid
sub spawn_unit_cmd {
    my ($line, $log) = @_;
    my %env = unit_env();
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        %ENV = %env;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log or die;
        open STDERR, '>&', \*STDOUT;
        exec 'setpriv', "--reuid=$USER", "--regid=$USER", '--init-groups',
             '--', exec_line($line);
        die "exec: $!";
    }
    return $pid;
}

sub run_unit_cmd {
    my ($line) = @_;
    my $log = "$t/condition.log";
    unlink $log;
    my $pid = spawn_unit_cmd($line, $log);
    waitpid($pid, 0);
    my $rc = $? >> 8;
    open my $fh, '<', $log;
    local $/;
    return ($rc, <$fh> // '');
}

ok($unit{ExecCondition}, 'the unit has an ExecCondition');
($rc, $out) = run_unit_cmd($unit{ExecCondition}[0]);
is($rc, 1, 'as installed (POSTHOG_HOST unset) the unit does not start');
like($out, qr/POSTHOG_HOST is not set/, '(and says why)');

# configure it as an operator does: the conffile
open my $df, '>>', $DEFAULT or die "$DEFAULT: $!";
print $df "POSTHOG_HOST=", $ph->url, "\n",
          "POSTHOG_SHIPPER_REDIS=127.0.0.1:", $redis->port, "\n",
          "POSTHOG_SHIPPER_FLUSH_INTERVAL=100ms\n";
close $df;

($rc, $out) = run_unit_cmd($unit{ExecCondition}[0]);
is($rc, 0, 'with POSTHOG_HOST set the condition passes') or diag $out;

my $log = "$t/shipper.log";
my $spid = spawn_unit_cmd($unit{ExecStart}[0], $log);
my $uid = wait_for(sub {
    open my $fh, '<', "/proc/$spid/status" or return;
    my ($u) = join('', <$fh>) =~ /^Uid:\s+(\d+)/m;
    my $exe = readlink "/proc/$spid/exe" // '';
    $exe eq '/usr/bin/posthog-shipper' ? $u : undef;
}, 10);
is($uid, $pw[2], "the installed shipper runs as $USER");

my ($stream_ev) = map { { @{ $_->[1] } } }
                  @{ $redis->cmd('XRANGE', 'posthog:events', '-', '+') };
my $delivered = wait_for(sub { @{ $ph->delivered } >= 1 ? $ph->delivered
                                                       : undef }, 15)
                || $ph->delivered;
is(scalar @$delivered, 1, 'the event is delivered to the PostHog stand-in');
is($delivered->[0]{_api_key}, 'phc_deb', 'with its project token');
like($stream_ev->{e} // '', qr/"uuid":"\Q$delivered->[0]{uuid}\E"/,
     'the event that was in the stream');
is($delivered->[0]{properties}{'$pathname'}, '/page', 'for GET /page');

kill 'TERM', $spid;
my $end = time + 10;
my $w;
sleep 0.05 until ($w = waitpid($spid, WNOHANG)) == $spid || time > $end;
is($w == $spid ? $? >> 8 : -1, 0, 'the shipper exits 0 on SIGTERM');
my $slog = do { local $/; open my $fh, '<', $log; <$fh> // '' };
unlike($slog, qr/\b(ERROR|FATAL)\b/i, 'no errors in its log') or diag $slog;

# a reinstallation (an upgrade of the same files) keeps the edited conffile
($rc, $out) = run('apt-get', 'install', '-y', '-q', '--reinstall', $debs[1]);
is($rc, 0, 'apt-get install --reinstall of the shipper') or diag $out;
my $kept = do { local $/; open my $fh, '<', $DEFAULT; <$fh> // '' };
like($kept, qr/^POSTHOG_HOST=\Q@{[ $ph->url ]}\E$/m,
     "the operator's edit of $DEFAULT is kept");
ok(getpwnam($USER), 'the user is still there');

# stop our nginx (QUIT, its master reparented: poll its pid)
open my $pf, '<', "$t/nginx.pid";
my $npid = <$pf>;
chomp $npid if defined $npid;
kill 'QUIT', $npid if $npid;
wait_for(sub { !kill 0, $npid }, 10) if $npid;
$redis->stop;

# purge: nothing left

($rc, $out) = run('apt-get', 'purge', '-y', '-q', @PKGS);
is($rc, 0, 'apt-get purge of both packages') or diag $out;
$installed_by_us = 0 if $rc == 0;
ok(!installed($_), "$_ purged") for @PKGS;
my @left = grep { -e $_ || -l $_ } @files;
is("@left", '', 'no file of the packages left');
ok(!-e $DEFAULT, "$DEFAULT removed (it was edited)");
ok(!-e $ENABLED && !-l $ENABLED && !-l "$ENABLED.removed",
   'the enabled snippet removed');
is_deeply([sort glob '/etc/nginx/modules-enabled/*'], \@enabled_before,
          'modules-enabled as before');
ok(!-l $WANTS, 'the unit is no longer enabled');
ok(!getpwnam($USER), "user $USER removed");
ok(!getgrnam($USER), "group $USER removed");
ok(!-e '/var/lib/posthog-shipper', 'no state directory');

done_testing;
