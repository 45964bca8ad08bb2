# Runs each libFuzzer target for $ENV{FUZZ_SECONDS} (default 10) seconds
# from its seed corpus; "make fuzz" builds them.  A missing binary fails,
# and so does a run that exits 0 without having run the target at all.
# New corpus entries go under $PH_BUILD/fuzz/corpus, never into the repo.

use strict;
use warnings;
use File::Path qw(make_path);
use Test::More;

my $build = $ENV{PH_BUILD} // 'build';
my $secs = $ENV{FUZZ_SECONDS} || 10;
# every t/fuzz/fuzz_*.c, as t/unit/Makefile.inc builds them
my @targets = map { m{/fuzz_(\w+)\.c$} ? $1 : () } sort glob 't/fuzz/fuzz_*.c';

plan tests => scalar @targets;

for my $t (@targets) {
    my $bin = "$build/fuzz/fuzz_$t";

    if (!-x $bin) {
        fail("fuzz_$t: $bin missing (run make fuzz)");
        next;
    }

    my $work = "$build/fuzz/corpus/$t";
    my $log = "$build/fuzz/fuzz_$t.log";
    make_path($work);

    my @cmd = ($bin, "-max_total_time=$secs", "-print_final_stats=1",
               "-artifact_prefix=$build/fuzz/crash-$t-", $work,
               "t/fuzz/corpus/$t");

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDOUT, '>', $log or die "$log: $!";
        open STDERR, '>&', \*STDOUT or die "dup: $!";
        exec { $cmd[0] } @cmd or die "exec $bin: $!";
    }

    waitpid $pid, 0;
    my $rc = $?;

    # -print_final_stats=1 ends the log with stat::number_of_executed_units:
    # exit 0 alone would pass a target that ran nothing
    open my $fh, '<', $log or die "$log: $!";
    my @lines = <$fh>;
    close $fh;
    my ($runs) = map { /^stat::number_of_executed_units:\s*(\d+)/ ? $1 : () }
                 @lines;

    if (!ok($rc == 0 && ($runs // 0) > 0,
            "fuzz_$t ran ${secs}s clean ("
            . ($runs // 'no') . ' runs)')) {
        diag("exit status $rc, "
             . (defined $runs ? "$runs runs" : 'no run count')
             . "; last lines of $log:");
        diag(join '', @lines[($#lines > 30 ? $#lines - 30 : 0) .. $#lines]);
    }
}
