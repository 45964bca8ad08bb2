# Under valgrind (memcheck): a run through delivery, retries, a 400 split
# with a dead letter, a 401, a metrics scrape and SIGTERM ends with no
# invalid access and no leak. Skipped without valgrind; PH_VALGRIND=0 skips.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use File::Temp qw(tempdir);
use HTTP::Tiny;
use Test::More;

use PHTest::Redis;
use PHTest::PostHog;
use PHTest::Shipper qw(add_events wait_for);

plan skip_all => 'valgrind not installed'
    unless grep { -x "$_/valgrind" } split /:/, $ENV{PATH};
plan skip_all => 'PH_VALGRIND=0' if defined $ENV{PH_VALGRIND}
    && !$ENV{PH_VALGRIND};

my $dir = tempdir(CLEANUP => !$ENV{PH_KEEP});
my $r  = PHTest::Redis->start;
my $ph = PHTest::PostHog->start(queue => [503],
    rules => [{ contains => 'POISON', status => 400 },
              { contains => '"api_key":"phc_BAD"', status => 401 }]);
my $port = PHTest::Redis::free_port();

my @u = add_events($r, 'phc_AAA', 300);
add_events($r, 'phc_AAA', 1, props => { x => 'POISON' });
add_events($r, 'phc_BAD', 5);
$r->cmd('XADD', 'posthog:events', '*', 'v', 9, 't', 'x', 'e', '{}');

my $s = PHTest::Shipper->start(redis => $r, posthog => $ph,
    wrapper => ['valgrind', '--leak-check=full', '--show-leak-kinds=definite,indirect,possible',
                '--errors-for-leak-kinds=definite,indirect,possible',
                '--error-exitcode=99', "--log-file=$dir/vg.log"],
    args => ['--metrics-port', $port, '--flush-interval', '50ms',
             '--retry-delay', '20ms', '--batch-size', '64']);

ok(wait_for(sub { @{ $ph->delivered } >= 300 }, 60), 'delivered under valgrind')
    or diag $s->log;
ok(wait_for(sub { HTTP::Tiny->new->get("http://127.0.0.1:$port/metrics")
                  ->{status} == 200 }, 10), 'metrics scraped');
is($s->stop(60), 0, 'SIGTERM: exit 0 (99 would be a valgrind error)');

open my $fh, '<', "$dir/vg.log";
my $vg = do { local $/; <$fh> };
like($vg, qr/ERROR SUMMARY: 0 errors/, 'valgrind: no errors')
    or diag $vg;
like($vg, qr/definitely lost: 0 bytes|All heap blocks were freed/,
     'valgrind: nothing definitely lost');

done_testing;
