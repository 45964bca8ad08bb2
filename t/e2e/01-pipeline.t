# End to end: HTTP requests to nginx -> events in the Redis stream ->
# posthog-shipper -> a PostHog stand-in.  Every event the module made is
# delivered exactly once, to its project, with the identity story intact,
# also across PostHog outages and an nginx graceful shutdown.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;
use PHTest::PostHog;
use PHTest::Shipper qw(wait_for);

my $t = PHTest->new(redis => 1, workers => 2);
my $ph = PHTest::PostHog->start;

$t->run(<<'EOF');
posthog_redis %%REDIS%%;
posthog_buffer 1m flush=50ms;

upstream app { server 127.0.0.1:%%PORT_APP%%; }

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_shop;
    posthog_identify $upstream_http_x_posthog_identify;
    posthog_person_property email $upstream_http_x_email;

    location / { proxy_pass http://app; }
    location = /logout { posthog_reset; proxy_pass http://app; }
    location /blog/ {
        posthog_api_key phc_blog;
        proxy_pass http://app;
    }
}

server {
    listen 127.0.0.1:%%PORT_APP%%;
    default_type text/html;
    location / { return 200 "<html>$uri</html>"; }
    location = /login {
        add_header X-PostHog-Identify $arg_u;
        add_header X-Email "$arg_u@example.com";
        return 302 /;
    }
}
EOF

my $sh = PHTest::Shipper->start(redis => $t->redis, posthog => $ph,
    args => ['--flush-interval', '100ms', '--retry-delay', '100ms',
             '--max-retry-delay', '500ms', '--batch-size', '20']);

my %jar;
sub visit {
    my ($who, $path) = @_;
    my $c = $jar{$who};
    my $r = $t->get($path, $c ? (Cookie => "ph_id=$c") : ());
    $jar{$who} = $r->{cookies}{ph_id}{value} if $r->{cookies}{ph_id};
    die "$path: $r->{status}" unless $r->{status} =~ /^[23]/;
    return $r;
}

# two visitors: one logs in and out, one reads the blog
for my $i (1 .. 5) { visit(alice => "/p/$i") }
visit(alice => '/login?u=alice');
for my $i (1 .. 5) { visit(alice => "/account/$i") }
visit(alice => '/logout');
visit(alice => '/p/after');
for my $i (1 .. 10) { visit(bob => "/blog/post-$i") }

my $made = 5 + 1 + 5 + 1 + 1 + 10;    # pages, $identify, pages, logout, page, blog

my $delivered = wait_for(sub {
    my $d = $ph->delivered;
    @$d >= $made ? $d : undef;
}, 15) || $ph->delivered;

is(scalar @$delivered, $made, "all $made events delivered");

my @stream = $t->events;
is(scalar @stream, $made, 'the same number in the stream');
my %in_stream = map { $_->{uuid} => $_ } @stream;
my %seen;
$seen{ $_->{uuid} }++ for @$delivered;
is(scalar(grep { $_ != 1 } values %seen), 0, 'each uuid delivered exactly once');
is(scalar(grep { !$in_stream{$_} } keys %seen), 0, 'each delivered event is one the module made');

# what PostHog received is what the module wrote, byte for byte in meaning
my $same = grep {
    my $s = $in_stream{ $_->{uuid} };
    $s && $s->{distinct_id} eq $_->{distinct_id} && $s->{event} eq $_->{event}
       && $s->{timestamp} eq $_->{timestamp}
} @$delivered;
is($same, $made, 'events arrive unchanged');

# projects: one batch never mixes tokens
my %by_key;
push @{ $by_key{ $_->{_api_key} } }, $_ for @$delivered;
is(scalar @{ $by_key{phc_shop} || [] }, 13, 'phc_shop got the shop events');
is(scalar @{ $by_key{phc_blog} || [] }, 10, 'phc_blog got the blog events');
my $wrong = grep { $in_stream{ $_->{uuid} }{_t} ne $_->{_api_key} } @$delivered;
is($wrong, 0, 'each event went out with its own project\'s token');
my $first = $ph->requests->[0];
is($first->{headers}{'content-encoding'}, 'gzip', 'bodies are gzipped');
like($first->{json}{sent_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     'sent_at is set');

# the identity story, as PostHog sees it
my @shop = sort { $a->{timestamp} cmp $b->{timestamp} } @{ $by_key{phc_shop} };
my ($identify) = grep { $_->{event} eq '$identify' } @shop;
ok($identify, '$identify delivered');
is($identify->{distinct_id}, 'alice', 'as alice');
my $anon = $identify->{properties}{'$anon_distinct_id'};
is(scalar(grep { $_->{distinct_id} eq $anon && $_->{properties}{'$pathname'} =~ m{^/p/\d} } @shop),
   5, '$anon_distinct_id is the id of the pages before login');
is($identify->{'$set'}{email}, 'alice@example.com', '$set from the login response');
is(scalar(grep { $_->{distinct_id} eq 'alice' } @shop), 1 + 5 + 1,
   '$identify, the account pages and the logout page are alice\'s');
my ($after) = grep { $_->{properties}{'$pathname'} eq '/p/after' } @shop;
ok($after, 'the page after logout delivered');
ok($after && length($after->{distinct_id} // '')
   && $after->{distinct_id} ne 'alice' && $after->{distinct_id} ne $anon,
   'after logout: a new anonymous id');

# PostHog has an outage: nothing is lost

$ph->script(queue => [503, 503, { status => 429, retry_after => 1 }, 503],
            default => 200);
for my $i (1 .. 20) { visit(carol => "/p/outage-$i") }
$delivered = wait_for(sub {
    my $d = $ph->delivered;
    @$d >= $made + 20 ? $d : undef;
}, 20) || $ph->delivered;
is(scalar @$delivered, $made + 20, 'after 503, 429 and 503: all delivered');
my %n;
$n{ $_->{uuid} }++ for @$delivered;
is(scalar(grep { $_ > 1 } values %n), 0, 'still no duplicates');
ok(scalar(grep { $_->{status} == 503 } @{ $ph->requests }) >= 2, 'the outage was seen');

# nginx -s quit with events still buffered (flush interval far away):
# the exiting workers flush them first

my @old = $t->worker_pids;
$t->reload(<<'EOF');
posthog_redis %%REDIS%%;
posthog_buffer 1m flush=1h;
server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_shop;
    location / { return 200 "<html>late</html>"; }
}
EOF
# the old workers would proxy to the app this config removes
ok(wait_for(sub { !grep { PHTest::alive($_) } @old }, 10),
   'the old workers exited');
for my $i (1 .. 30) { visit(dave => "/late/$i") }
$t->signal('QUIT');
$delivered = wait_for(sub {
    my $d = $ph->delivered;
    @$d >= $made + 50 ? $d : undef;
}, 15) || $ph->delivered;
is(scalar @$delivered, $made + 50, 'nginx -s quit lost nothing that was buffered');

is($sh->stop, 0, 'the shipper stops cleanly on SIGTERM');
unlike($sh->log, qr/\bERROR\b|\bFATAL\b/i, 'no errors in the shipper log')
    or diag $sh->log;

done_testing;
