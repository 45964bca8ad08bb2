# posthog-js's answers for user agents: t/vectors/user-agents.json (40
# strings with all fields) and t/vectors/user-agents-posthog-js.tsv (cases
# from posthog-js's own tests), checked by test_ua against our rules.
use strict;
use warnings;
use JSON::PP;
use File::Temp qw(tempfile);

my $dir = 't/vectors';
open my $fh, '<', "$dir/user-agents.json" or die "$dir/user-agents.json: $!";
my $v = decode_json(do { local $/; <$fh> });
my ($out, $tsv) = tempfile(UNLINK => 1);
binmode $out, ':utf8';
for my $r (@{ $v->{rows} }) {
    my $ver = $r->{'$browser_version'};
    print $out join("\t", $r->{user_agent}, $r->{'$browser'},
        defined $ver ? $ver : 'null', map({ $r->{$_} }
            qw($os $os_version $device $device_type)),
        $r->{is_bot} ? 'true' : 'false'), "\n";
}
close $out;
my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_ua';
system { $t } $t, $tsv, "$dir/user-agents-posthog-js.tsv";
exit($? >> 8 || ($? & 127 ? 1 : 0));
