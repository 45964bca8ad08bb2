# Our user-agent rules give what posthog-js's own code gives, on 20 000
# user agents made up from the markers its rules look for (browsers, OSes,
# devices, bots, in random orders): every field of every one, compared with
# @posthog/core run by node.  Needs node and @posthog/core
# (PH_POSTHOG_CORE=<path of the package>, or resolvable from here):
# "npm install @posthog/core" in a scratch directory.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempfile);

# "make test" installs the package and sets PH_POSTHOG_CORE: there, a
# missing node or package is a failure, not a skip
my $required = defined $ENV{PH_POSTHOG_CORE};
my $core = $ENV{PH_POSTHOG_CORE} // '@posthog/core';
my $node = `command -v node 2>/dev/null`;
chomp $node;
unless ($node && system($node, '-e', "require('$core')") == 0) {
    BAIL_OUT("node cannot load $core") if $required;
    plan skip_all => 'node or @posthog/core missing (make test installs it)';
}

my @tok = (
    'Mozilla/5.0', '(Windows NT 10.0; Win64; x64)', '(Windows NT 6.1; WOW64)',
    '(Windows Phone 8.1; ARM;', 'IEMobile/11.0', 'WPDesktop', 'Trident/7.0',
    'rv:11.0)', 'MSIE 9.0;', '(Macintosh; Intel Mac OS X 10_15_7)',
    '(Macintosh; Intel Mac OS X 10.15; rv:120.0)', 'Mac_PowerPC',
    '(iPhone; CPU iPhone OS 17_6_1 like Mac OS X)',
    '(iPad; CPU OS 16_5 like Mac OS X)',
    '(iPod touch; CPU iPhone OS 12_0 like Mac OS X)',
    '(Linux; Android 13; Pixel 7)', '(Linux; Android 4.4.2; Nexus 7 Build/KOT49H)',
    '(Linux; Android 9; KFTRWI Build/PS7)', 'Silk/80.1', '(X11; Linux x86_64)',
    '(X11; CrOS x86_64 14541.0.0)', 'debian', 'AppleWebKit/537.36',
    '(KHTML, like Gecko)', 'Gecko/20100101', 'Chrome/131.0.0.0',
    'CriOS/131.0.6778.73', 'CrMo/16.0', 'Safari/537.36', 'Mobile Safari/537.36',
    'Mobile/15E148', 'Version/17.6', 'Firefox/133.0', 'FxiOS/132.0',
    'Edg/131.0.2903.70', 'Edge/18.19041', 'EdgA/131.0', 'OPR/115.0.0.0',
    'Opera Mini/8.0', 'Mini', 'SamsungBrowser/23.0', 'OculusBrowser/30.0',
    'Vivaldi/7.0', 'YaBrowser/24.12.0.0', 'Whale/3.21', 'DuckDuckGo/5',
    'Ddg/7.85', 'Claude/1.2.3', 'Codex/2.3', 'ChatGPT/1.2026.190',
    '[FBAN/FBIOS;FBAV/440.0]', 'UCBrowser/10.7.5', 'UCWEB/2.0',
    'Konqueror/5.20', 'konqueror/22.08', 'Brave/1.51', 'PaleMoon/33.0.1',
    'Waterfox/G6.0', 'Waterfox/56.2', '(BlackBerry; U; BlackBerry 9900; en)',
    'BB10', 'PlayBook', '(PlayStation; PlayStation 5/2.26)',
    'PlayStation 4 11.00', '(Nintendo Switch; WifiWebAuthApplet)',
    'Nintendo 3DS', '(Xbox; Xbox One)', 'Xbox; Xbox Series X;', 'Ouya',
    'Nokia', 'Kobo Touch', '(Apple Watch; watchOS 10.0)', 'Watch4,3/5.3.8',
    'watch os,8.1,', 'Tablet', 'Tablet PC 2.0', 'pda', 'Googlebot/2.1',
    'bingbot/2.0', 'HeadlessChrome/131.0', 'Slackbot',
    'facebookexternalhit/1.1', 'curl/8.0', 'ZTE', 'SM-G920', 'pixel c',
    'HUAWEISHT', 'BTV-W09', 'tah-AN00', 'lmy47v', 'QTAQZ3', 'Electron/33',
    'Chrome/37000000000001111', 'Version/0.000000012',
);

srand(11);
my @ua = map { join ' ', map { $tok[rand @tok] } 1 .. 1 + int rand 9 } 1 .. 20000;
my ($fh, $in) = tempfile(UNLINK => 1);
print $fh map { "$_\n" } @ua;
close $fh;

my $js = <<"EOF";
const c = require('$core');
const lines = require('fs').readFileSync(0, 'latin1').split('\\n'); lines.pop();
const out = lines.map((ua) => {
  const [os, osv] = c.detectOS(ua);
  const v = c.detectBrowserVersion(ua, '');
  return [c.detectBrowser(ua, ''), (v === null || !isFinite(v)) ? '' : JSON.stringify(v),
          os, osv === undefined ? '' : osv, c.detectDevice(ua), c.detectDeviceType(ua),
          c.isBlockedUA(ua) ? 1 : 0].join('\\t');
});
process.stdout.write(out.join('\\n') + '\\n');
EOF

my $bin = ($ENV{PH_BUILD} // 'build') . '/unit/test_ua';
my @ours = split /\n/, `$bin --dump < $in`;
my ($jfh, $jsfile) = tempfile(SUFFIX => '.js', UNLINK => 1);
print $jfh $js;
close $jfh;
my @theirs = split /\n/, `$node $jsfile < $in`;

is scalar @ours, scalar @ua, 'ours: one line per UA';
is scalar @theirs, scalar @ua, 'posthog-js: one line per UA';
my @diff = grep { ($ours[$_] // '') ne ($theirs[$_] // '') } 0 .. $#ua;
is scalar @diff, 0, 'the same fields for every UA';
for my $i (@diff[0 .. ($#diff < 9 ? $#diff : 9)]) {
    diag "$ua[$i]\n  ours:       $ours[$i]\n  posthog-js: $theirs[$i]";
}

done_testing;
