package PHTest::PostHog;

# A stand-in for PostHog's capture API: a real HTTP/1.1 listener (keep-alive,
# Content-Length bodies) on a free loopback port, in a forked child. Every
# request is recorded in the test's directory (path, headers, the body
# gunzipped when Content-Encoding: gzip, the answer given), and the answers
# are scripted:
#
#   my $ph = PHTest::PostHog->start;              # answers 200 to everything
#   $ph->script(queue => [503, 503, {status => 429, retry_after => 1},
#                         'hang', 'close', {status => 200, delay => 0.5}],
#               rules => [{contains => 'POISON', status => 400,
#                          body => '{"type":"validation_error"}'}],
#               default => 200);
#   $ph->url;                # http://127.0.0.1:PORT
#   $ph->requests;           # [{n, path, headers, body, json, status, ...}]
#   $ph->delivered;          # events (hashes) of the requests answered 2xx
#
# An answer is taken from the queue first (one per request, in order), then
# from the first rule whose string the (gunzipped) body contains, then the
# default. 'hang' reads the request and never answers; 'close' closes the
# connection without an answer. script() replaces the whole script and
# restarts the queue.

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @ALIVE;

my %REASON = (200 => 'OK', 400 => 'Bad Request', 401 => 'Unauthorized',
              403 => 'Forbidden', 404 => 'Not Found', 408 => 'Request Timeout',
              413 => 'Payload Too Large', 429 => 'Too Many Requests',
              500 => 'Internal Server Error', 502 => 'Bad Gateway',
              503 => 'Service Unavailable');

my %BODY = (
    200 => '{"status":"Ok"}',
    400 => '{"type":"validation_error","code":"invalid_payload",'
         . '"detail":"Invalid payload: some events are malformed"}',
    401 => '{"type":"authentication_error","code":"invalid_api_key",'
         . '"detail":"Project API key invalid."}',
    413 => '{"type":"validation_error","code":"payload_too_large"}',
    429 => '{"type":"rate_limited"}',
);

sub start {
    my ($class, %script) = @_;

    my $dir = tempdir('ph-posthog-XXXXXX', TMPDIR => 1,
                      CLEANUP => !$ENV{PH_KEEP});
    my $sock = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
                                     LocalPort => 0, ReuseAddr => 1)
        or die "posthog stand-in: listen: $!";

    my $self = bless { dir => $dir, port => $sock->sockport, owner => $$,
                       version => 0 }, $class;
    $self->script(%script);

    my $parent = $$;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{TERM} = sub { POSIX::_exit(0) };
        eval { serve($self, $sock, $parent) };
        warn "posthog stand-in: $@" if $@;
        POSIX::_exit(0);
    }
    close $sock;
    $self->{pid} = $pid;
    push @ALIVE, $self;
    return $self;
}

sub url  { 'http://127.0.0.1:' . $_[0]{port} }
sub port { $_[0]{port} }
sub dir  { $_[0]{dir} }

sub script {
    my ($self, %script) = @_;
    $script{default} //= 200;
    $script{queue} ||= [];
    $script{rules} ||= [];
    $script{version} = ++$self->{version};
    my $f = "$self->{dir}/script.json";
    open my $fh, '>', "$f.tmp" or die "$f.tmp: $!";
    print $fh JSON::PP->new->canonical->encode(\%script);
    close $fh;
    rename "$f.tmp", $f or die "rename $f: $!";
}

# ---- the child ----

sub load_script {
    my ($self, $state) = @_;
    # tiny: read on every request, the version says when the queue restarts
    open my $fh, '<', "$self->{dir}/script.json" or return;
    local $/;
    my $s = eval { decode_json(<$fh>) } or return;
    if (!$state->{script} || $state->{script}{version} != $s->{version}) {
        $state->{qpos} = 0;
    }
    $state->{script} = $s;
}

sub answer_for {
    my ($self, $state, $body) = @_;
    $self->load_script($state);
    my $s = $state->{script};
    my $a;
    if ($state->{qpos} < @{ $s->{queue} }) {
        $a = $s->{queue}[ $state->{qpos}++ ];
    } else {
        for my $r (@{ $s->{rules} }) {
            if (index($body, $r->{contains}) >= 0) { $a = $r; last }
        }
        $a //= $s->{default};
    }
    $a = { status => $a } unless ref $a;
    return $a;
}

sub serve {
    my ($self, $listen, $parent) = @_;
    my $sel = IO::Select->new($listen);
    my %conn;                  # fileno => {sock, buf, hung}
    my @later;                 # [time, sock, response]
    my $n = 0;
    my $state = {};

    while (1) {
        exit 0 if getppid() != $parent;

        my $now = time;
        @later = grep {
            if ($_->[0] <= $now) {
                my ($t, $sock, $resp) = @$_;
                syswrite($sock, $resp) if $conn{ fileno($sock) // -1 };
                0;
            } else { 1 }
        } @later;

        for my $fh ($sel->can_read(0.05)) {
            if ($fh == $listen) {
                my $c = $listen->accept or next;
                $conn{ fileno $c } = { sock => $c, buf => '' };
                $sel->add($c);
                next;
            }
            my $c = $conn{ fileno $fh } or do { $sel->remove($fh); next };
            my $r = sysread($fh, my $chunk, 1 << 20);
            if (!$r) {
                $sel->remove($fh);
                delete $conn{ fileno $fh };
                close $fh;
                next;
            }
            next if $c->{hung};
            $c->{buf} .= $chunk;

            # every complete request in the buffer
            while ((my $he = index($c->{buf}, "\r\n\r\n")) >= 0) {
                my $head = substr($c->{buf}, 0, $he);
                my ($reqline, @lines) = split /\r\n/, $head;
                my %h;
                for (@lines) {
                    my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
                    $h{ lc $k } = $v;
                }
                my $len = $h{'content-length'} // 0;
                last if length($c->{buf}) < $he + 4 + $len;
                my $raw = substr($c->{buf}, $he + 4, $len);
                substr($c->{buf}, 0, $he + 4 + $len) = '';

                my ($method, $path) = split / /, $reqline;
                my $body = $raw;
                my $gzip_error = '';
                if (($h{'content-encoding'} // '') =~ /gzip/i) {
                    my $out;
                    if (gunzip(\$raw => \$out)) {
                        $body = $out;
                    } else {
                        $gzip_error = $GunzipError || 'gunzip failed';
                    }
                }

                my $a = $self->answer_for($state, $body);
                $n++;
                my $base = sprintf "%s/req-%06d", $self->{dir}, $n;
                open my $bf, '>', "$base.body" or die;
                binmode $bf;
                print $bf $body;
                close $bf;
                my $meta = {
                    n => $n, method => $method, path => $path,
                    headers => \%h, raw_length => length($raw),
                    gzip_error => $gzip_error, time => time,
                    status => $a->{status},
                };
                open my $mf, '>', "$base.tmp" or die;
                print $mf JSON::PP->new->canonical->encode($meta);
                close $mf;
                rename "$base.tmp", "$base.json";

                if ($a->{status} eq 'hang') {
                    $c->{hung} = 1;
                    last;
                }
                if ($a->{status} eq 'close') {
                    $sel->remove($fh);
                    delete $conn{ fileno $fh };
                    close $fh;
                    last;
                }

                my $rb = $a->{body} // $BODY{ $a->{status} } // '{}';
                my $resp = "HTTP/1.1 $a->{status} "
                    . ($REASON{ $a->{status} } // 'Whatever') . "\r\n"
                    . "Content-Type: application/json\r\n"
                    . "Content-Length: " . length($rb) . "\r\n"
                    . (defined $a->{retry_after}
                       ? "Retry-After: $a->{retry_after}\r\n" : '')
                    . "\r\n" . $rb;
                if ($a->{delay}) {
                    push @later, [time + $a->{delay}, $fh, $resp];
                } else {
                    syswrite($fh, $resp);
                }
            }
        }
    }
}

# ---- the parent's view ----

sub requests {
    my ($self) = @_;
    my @r;
    opendir my $d, $self->{dir} or die;
    for my $f (sort grep { /^req-\d+\.json$/ } readdir $d) {
        open my $fh, '<', "$self->{dir}/$f" or next;
        local $/;
        my $m = eval { decode_json(<$fh>) } or next;
        (my $bf = "$self->{dir}/$f") =~ s/\.json$/.body/;
        open my $bh, '<', $bf or next;
        binmode $bh;
        $m->{body} = <$bh>;
        $m->{json} = eval { JSON::PP->new->utf8->decode($m->{body}) };
        push @r, $m;
    }
    return [ sort { $a->{n} <=> $b->{n} } @r ];
}

# events of the requests answered 2xx, each with its request's api_key
sub delivered {
    my ($self) = @_;
    my @ev;
    for my $r (@{ $self->requests }) {
        next unless $r->{status} =~ /^2\d\d$/ && $r->{json};
        for my $e (@{ $r->{json}{batch} || [] }) {
            push @ev, { %$e, _api_key => $r->{json}{api_key}, _req => $r->{n} };
        }
    }
    return \@ev;
}

sub stop {
    my ($self) = @_;
    local $?;    # waitpid in END must not change the test's exit code
    return unless $self->{pid} && $self->{owner} == $$;
    kill 'TERM', $self->{pid};
    waitpid($self->{pid}, 0);
    delete $self->{pid};
}

sub DESTROY { $_[0]->stop }

END { $_->stop for grep { $_->{pid} } @ALIVE }

1;
