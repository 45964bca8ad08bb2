# UUIDs made by several workers, and by the workers after a reload, never
# share their random bits: each worker draws its own random pool after
# fork (see ngx_http_posthog_random()).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PHTest;

my $UUID7 = qr/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

my $t = PHTest->new(redis => 1, workers => 3);

my $conf = <<'EOF';
posthog_redis %%REDIS%%;
posthog_buffer 1m flush=10ms;

server {
    # reuseport: the kernel spreads the connections over the workers
    listen 127.0.0.1:%%PORT%% reuseport;
    posthog on;
    posthog_api_key phc_test;

    location / {
        add_header X-Pid $pid;
        add_header X-Anon $posthog_anon_id;
        return 200 "<html>page</html>";
    }
}
EOF

my (%pids, @ids);

sub visit {
    my ($n) = @_;
    for (1 .. $n) {
        my $r = $t->get('/', Accept => 'text/html');
        $pids{ $r->{headers}{'x-pid'} // '' }++;
        push @ids, $r->{headers}{'x-anon'} // '';
    }
}

$t->run($conf);
visit(300);
$t->reload($conf);
visit(300);

my @ev = $t->wait_events(600, 10);
is scalar @ev, 600, 'an event per request';
push @ids, map { $_->{uuid} // '' } @ev;

cmp_ok scalar(keys %pids), '>=', 2, scalar(keys %pids) . ' workers answered';
is scalar(grep { !/$UUID7/ } @ids), 0, 'all 1200 ids are UUIDv7';

# the bits after the 48-bit time: 74 random ones (and version, variant)
my %rand;
$rand{ substr $_, 14 }++ for @ids;
is scalar(keys %rand), scalar(@ids), 'no two ids share their random bits';

done_testing;
