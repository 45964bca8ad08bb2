# Flags and their environment variables: --help has every flag and variable
# of the table in docs/shipper.md, and no flag the table lacks; a bad value
# exits non-zero with a message naming the flag (or variable) and the value.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;

use PHTest::Shipper qw(run_shipper);

my ($rc, $out, $err) = run_shipper('--help');
is($rc, 0, '--help: exit 0');

# the flags (and variables) of the table in docs/shipper.md, rows like
# | `--redis ADDR` | `POSTHOG_SHIPPER_REDIS` | ... and | `--help`, `--version` |
my $doc = "$FindBin::Bin/../../docs/shipper.md";
open my $fh, '<', $doc or die "$doc: $!";
my (%doc_flag, %doc_env);
while (my $line = <$fh>) {
    next unless $line =~ /^\|\s*`--/;
    my ($flags, $env) = (split /(?<!\\)\|/, $line)[1, 2];
    $doc_flag{$1} = 1 while $flags =~ /`(--[a-z][a-z0-9-]*)/g;
    $doc_env{$1} = 1 while ($env // '') =~ /`([A-Z][A-Z0-9_]*)`/g;
}
close $fh;
cmp_ok(scalar keys %doc_flag, '>=', 20, 'docs/shipper.md: the flags table read')
    or diag "no rows like | `--flag` | in $doc";

my %help_flag = map { $_ => 1 } $out =~ /^ {2}(--[a-z][a-z0-9-]*)/mg;
for my $f (sort keys %doc_flag) {
    ok($help_flag{$f}, "--help has the documented $f");
}
for my $f (sort keys %help_flag) {
    ok($doc_flag{$f}, "$f of --help is in docs/shipper.md");
}
for my $v (sort keys %doc_env) {
    like($out, qr/\benv \Q$v\E\b/, "--help names the documented $v");
}

($rc, $out) = run_shipper('--version');
is($rc, 0, '--version: exit 0');
like($out, qr/^posthog-shipper \d+\.\d+/, 'prints the version');

my @bad = (
    [['--batch-size', '0'],         qr/"0" for --batch-size: expected an integer from 1 to 10000/],
    [['--batch-size', 'ten'],       qr/"ten" for --batch-size/],
    [['--batch-size=12x'],          qr/"12x" for --batch-size/],
    [['--batch-bytes', '6m'],       qr/"6m" for --batch-bytes: expected a size from 1024 to 5242880/],
    [['--batch-bytes', '-1'],       qr/"-1" for --batch-bytes/],
    [['--flush-interval', '2 s'],   qr/"2 s" for --flush-interval: expected a duration/],
    [['--timeout', '5x'],           qr/"5x" for --timeout/],
    [['--gzip', 'yes'],             qr/"yes" for --gzip: expected on or off/],
    [['--redis', 'localhost'],      qr/"localhost" for --redis: expected host:port or unix:\/path/],
    [['--redis', 'h:99999'],        qr/"h:99999" for --redis/],
    [['--redis', 'unix:rel'],       qr/"unix:rel" for --redis/],
    [['--host', 'us.i.posthog.com'], qr/"us.i.posthog.com" for --host: expected an http:\/\/ or https:\/\/ URL/],
    [['--metrics-port', '70000'],   qr/"70000" for --metrics-port/],
    [['--metrics-listen', '1.2.3.4'], qr/"1.2.3.4" for --metrics-listen: expected ADDR:PORT/],
    [['--log-level', 'loud'],       qr/"loud" for --log-level/],
    [['--claim-idle', '1'],         qr/"1" for --claim-idle/],
    [['--stream', ''],              qr/"" for --stream: must not be empty/],
    [['--stream', 's', '--dead-stream', 's'], qr/"s" for --dead-stream: must differ/],
    [['--bogus'],                   qr/unknown option "--bogus"/],
    [['--batch-size'],              qr/--batch-size needs a value/],
    [['stray'],                     qr/unexpected argument "stray"/],
);
for my $b (@bad) {
    my ($rc, $out, $err) = run_shipper(@{ $b->[0] });
    is($rc, 2, "@{ $b->[0] }: exit 2");
    like($err, $b->[1], "... names the flag and value");
}

# the environment
{
    local $ENV{POSTHOG_SHIPPER_BATCH_SIZE} = 'many';
    ($rc, $out, $err) = run_shipper();
    is($rc, 2, 'a bad variable: exit 2');
    like($err, qr/"many" for POSTHOG_SHIPPER_BATCH_SIZE \(environment, for --batch-size\)/,
         '... names the variable and its flag');

    # a flag wins over its variable (exit 1: parsed, then no Redis there)
    ($rc, $out, $err) = run_shipper('--batch-size', '5', '--redis',
                                    '127.0.0.1:1', '--replay-dead');
    is($rc, 1, 'a flag overrides a bad variable');
    like($err, qr/redis connect 127.0.0.1:1: Connection refused/,
         '... and the run went on to Redis');
}
{
    local $ENV{POSTHOG_HOST} = 'ftp://x';
    ($rc, $out, $err) = run_shipper();
    is($rc, 2, 'POSTHOG_HOST checked');
    like($err, qr/"ftp:\/\/x" for POSTHOG_HOST/, '... named');
}

done_testing;
