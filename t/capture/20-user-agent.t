# A request's User-Agent gives the same $browser, $browser_version, $os,
# $os_version, $device, $device_type as posthog-js (the 40 vectors, through
# nginx's compiled patterns and the $posthog_* variables, and in events);
# bots and clients that are not browsers get no event and no cookie unless
# "posthog_bots capture" (then $bot_pageview); Accept-Language and the
# campaign parameters become properties, hostile values staying safe;
# $posthog_is_bot and the gate follow the location asking, through an
# internal redirect too.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use PHTest;

my $t = PHTest->new(redis => 1);

$t->run(<<'EOF');
%%CAPTURE%%

server {
    listen 127.0.0.1:%%PORT%%;
    posthog on;
    posthog_api_key phc_ua;
    posthog_cookie ph_id;

    location / { return 200 "<html>page</html>"; }

    location = /vars {
        posthog off;
        return 200 "$posthog_browser|$posthog_browser_version|$posthog_os|$posthog_os_version|$posthog_device|$posthog_device_type|$posthog_is_bot|$posthog_browser_language";
    }

    location /capture/ {
        posthog_bots capture;
        return 200 "<html>page</html>";
    }

    location /extra/ {
        posthog_bot_user_agent "MyMonitor/\d" "zeta probe";
        return 200 "<html>page</html>";
    }

    location /noparse/ {
        posthog_user_agent_parse off;
        return 200 "<html>page</html>";
    }

    # read in one location, then asked again in another after a redirect
    location /seen/ {
        posthog_bot_user_agent "MyMonitor/\d";
        set $was_bot $posthog_is_bot;
        rewrite ^ /after/ last;
    }

    location /after/ {
        add_header X-Was-Bot $was_bot;
        add_header X-Is-Bot $posthog_is_bot;
        return 200 "<html>page</html>";
    }

    location /seen-plain/ {
        set $was_bot $posthog_is_bot;
        rewrite ^ /after-extra/ last;
    }

    location /after-extra/ {
        posthog_bot_user_agent "MyMonitor/\d";
        add_header X-Was-Bot $was_bot;
        add_header X-Is-Bot $posthog_is_bot;
        return 200 "<html>page</html>";
    }

    %%STATUS%%
}
EOF

ok $t->wait_connected, 'connected';

# the vectors, through nginx's compiled patterns

open my $fh, '<', 't/vectors/user-agents.json' or die $!;
my $vec = decode_json(do { local $/; <$fh> });
for my $row (@{ $vec->{rows} }) {
    my $ua = $row->{user_agent};
    my $r = $t->get('/vars', 'User-Agent' => $ua);
    my @got = split /\|/, $r->{body}, -1;
    my $ver = $row->{'$browser_version'};
    my @exp = ($row->{'$browser'}, defined $ver ? "$ver" : '',
               @$row{qw($os $os_version $device $device_type)},
               ($row->{is_bot} || $ua !~ m{^Mozilla/}) ? 1 : 0, '');
    is_deeply \@got, \@exp, "variables: $ua";
}

my $r = $t->get('/vars', 'Accept-Language' => 'pt-BR,pt;q=0.9');
like $r->{body}, qr/\|pt-BR$/, '$posthog_browser_language';

# a browser: an event with posthog-js's properties

my $iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) '
    . 'AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 '
    . 'Safari/604.1';
$r = $t->get('/p?utm_source=news%20letter&utm_medium=email&gclid=abc+1'
             . '&utm_source=second',
             'User-Agent' => $iphone, 'Accept-Language' => 'en-GB,en;q=0.8');
ok $r->{cookies}{ph_id}, 'a browser gets the cookie';
my ($e) = $t->new_events(1);
my $p = $e->{properties};
is $e->{event}, '$pageview', 'a browser: $pageview';
is $p->{'$browser'}, 'Mobile Safari', '$browser';
is $p->{'$browser_version'}, 17.6, '$browser_version';
like $e->{_raw}, qr/"\$browser_version":17\.6[,}]/, '$browser_version is a JSON number';
is $p->{'$os'}, 'iOS', '$os';
is $p->{'$os_version'}, '17.6.1', '$os_version';
is $p->{'$device'}, 'iPhone', '$device';
is $p->{'$device_type'}, 'Mobile', '$device_type';
is $p->{'$browser_language'}, 'en-GB', '$browser_language';
is $p->{'$browser_language_prefix'}, 'en', '$browser_language_prefix';
is $p->{utm_source}, 'news letter', 'utm_source decoded, the first one';
is $p->{utm_medium}, 'email', 'utm_medium';
is $p->{gclid}, 'abc 1', 'gclid: + is a space';
ok exists $p->{utm_campaign} && !defined $p->{utm_campaign},
   'an absent campaign parameter is null, as posthog-js registers it';
ok exists $p->{_kx}, 'all 24 of posthog-js\'s parameters';
ok !exists $p->{'$browser_type'}, 'no $browser_type for a browser';

# no campaign parameter: none of them; no language, no properties for it

$t->get('/p?q=1');
($e) = $t->new_events(1);
$p = $e->{properties};
ok !exists $p->{utm_source} && !exists $p->{gclid}, 'no campaign: none sent';
ok !exists $p->{'$browser_language'}, 'no Accept-Language: no language';
ok !exists $p->{'$device'}, 'empty values are left out (desktop: no $device)';
is $p->{'$device_type'}, 'Desktop', 'desktop';

# hostile campaign values stay valid, bounded JSON

my $long = 'x' x 3000;
my $raw = $t->raw("GET /p?utm_source=%FF%FEa&utm_term=a%0D%0A%22b%00"
    . "&utm_content=\xff\xfe\"&utm_campaign=$long HTTP/1.0\r\nHost: x\r\n"
    . "Accept-Language: \xff\r\n\r\n");
like $raw, qr/^HTTP\/1.1 200/, 'hostile campaign request answered';
($e) = $t->new_events(1);
$p = $e->{properties};
ok utf8::decode(my $copy = $e->{_raw}), 'the event is valid UTF-8';
unlike $e->{_raw}, qr/[\x00-\x1f]/, 'no raw control characters';
is $p->{utm_source}, '%FF%FEa', 'a value that does not decode is kept raw';
is $p->{utm_term}, "a\r\n\"b\x00", 'decoded control characters are escaped';
like $p->{utm_content}, qr/^\x{fffd}+"$/, 'invalid bytes become U+FFFD';
is length $p->{utm_campaign}, 1000, 'a value is cut at 1000 bytes';
ok !exists $p->{'$browser_language'}, 'a bad Accept-Language is left out';

# seven parameters at their 1000-byte limit and the URL: over
# posthog_event_max_size, the event is cut (campaign values with the custom
# ones), not dropped

my $cut0 = $t->status->{events_cut};
my @names = qw(utm_source utm_medium utm_campaign utm_content utm_term
    gad_source mc_cid gclid gclsrc dclid gbraid wbraid fbclid msclkid twclid
    li_fat_id igshid ttclid rdt_cid epik qclid sccid irclid _kx);
$r = $t->get('/p?' . join('&', map { "$_=" . ('v' x 1000) } @names[0 .. 6]));
($e) = $t->new_events(1);
ok $e && length $e->{_raw} <= 8192, 'a campaign-heavy event fits the max';
is $e->{properties}{'$browser'}, 'Chrome', 'the other properties are there';
is $t->wait_status(events_cut => $cut0 + 1)->{events_cut}, $cut0 + 1,
   'events_cut +1';

# bots and non-browsers: no event, no cookie, counted

my $bots0 = $t->status->{bots};
my @skip = (
    [ 'Googlebot', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; '
      . 'compatible; Googlebot/2.1; +http://www.google.com/bot.html) '
      . 'Chrome/131.0.6778.69 Safari/537.36' ],
    [ 'Slackbot', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' ],
    [ 'headless', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) '
      . 'AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 '
      . 'Safari/537.36' ],
    [ 'curl', 'curl/8.5.0' ],
    [ 'python', 'python-requests/2.31.0' ],
    [ 'uptime probe', 'Mozilla/5.0 (compatible; Pingdom.com_bot_version_1.4)' ],
);
for my $case (@skip) {
    my ($what, $ua) = @$case;
    $r = $t->get('/p', 'User-Agent' => $ua);
    is $r->{status}, 200, "$what: answered";
    ok !$r->{cookies}{ph_id}, "$what: no cookie";
}
$raw = $t->raw("GET /p HTTP/1.0\r\nHost: x\r\n\r\n", undef, no_ua => 1);
unlike $raw, qr/^Set-Cookie/mi, 'no User-Agent: no cookie';
my $n = @skip + 1;
is $t->wait_status(bots => $bots0 + $n)->{bots}, $bots0 + $n,
   "bots: +$n";

# the extra patterns, only where they are configured

my $mon = 'Mozilla/5.0 (X11; Linux x86_64) MyMonitor/2 Chrome/120.0 Safari/537.36';
$r = $t->get('/extra/x', 'User-Agent' => $mon);
ok !$r->{cookies}{ph_id}, 'posthog_bot_user_agent: no cookie';
$r = $t->get('/extra/x', 'User-Agent' => "Mozilla/5.0 ZETA PROBE");
ok !$r->{cookies}{ph_id}, 'posthog_bot_user_agent: case-insensitive';
$r = $t->get('/p', 'User-Agent' => $mon);
ok $r->{cookies}{ph_id}, 'the pattern does not apply elsewhere';
($e) = $t->new_events(1);
is $e->{properties}{'$raw_user_agent'}, $mon,
   'the only event since the browser\'s is that one';
is $t->wait_status(bots => $bots0 + $n + 2)->{bots}, $bots0 + $n + 2,
   'bots: +2 for the extra patterns';

# posthog_bots capture: the bot's page view is $bot_pageview

$r = $t->get('/capture/x', 'User-Agent' => $skip[0][1]);
ok $r->{cookies}{ph_id}, 'capture: the bot gets a cookie';
($e) = $t->new_events(1);
is $e->{event}, '$bot_pageview', 'capture: $bot_pageview';
is $e->{properties}{'$browser_type'}, 'bot', 'capture: $browser_type bot';
is $e->{properties}{'$browser'}, 'Chrome', 'capture: parsed as posthog-js';
$r = $t->get('/capture/y', 'User-Agent' => 'curl/8.5.0');
($e) = $t->new_events(1);
is $e->{event}, '$bot_pageview', 'capture: curl too';
$r = $t->get('/capture/z');
($e) = $t->new_events(1);
is $e->{event}, '$pageview', 'capture: a browser\'s is still $pageview';

# posthog_user_agent_parse off: no UA properties, bots still left out

$r = $t->get('/noparse/x');
($e) = $t->new_events(1);
ok !exists $e->{properties}{'$browser'}
   && !exists $e->{properties}{'$device_type'}, 'parse off: no properties';
$r = $t->get('/noparse/x', 'User-Agent' => 'curl/8.5.0');
ok !$r->{cookies}{ph_id}, 'parse off: curl still has no cookie';

# one request, two locations: each asks with its own patterns

$r = $t->get('/seen/x', 'User-Agent' => $mon);
is $r->{headers}{'x-was-bot'}, '1', 'is_bot: 1 where the pattern is';
is $r->{headers}{'x-is-bot'}, '0', '... 0 after a redirect to where not';
ok $r->{cookies}{ph_id}, '... and the gate there lets it in';
($e) = $t->new_events(1);
is $e->{properties}{'$raw_user_agent'}, $mon, '... with its event';
$r = $t->get('/seen-plain/x', 'User-Agent' => $mon);
is $r->{headers}{'x-was-bot'}, '0', 'is_bot: 0 where no pattern is';
is $r->{headers}{'x-is-bot'}, '1', '... 1 after a redirect to the pattern';
ok !$r->{cookies}{ph_id}, '... and the gate there keeps it out';
$r = $t->get('/seen-plain/x', 'User-Agent' => $skip[0][1]);
is $r->{headers}{'x-was-bot'} . $r->{headers}{'x-is-bot'}, '11',
   'posthog-js\'s list: a bot in both';

# nginx -t names the directive and the value

my ($ok, $out) = $t->conf_test(<<'EOF');
server { listen 127.0.0.1:%%PORT_T%%; posthog_bots maybe; }
EOF
ok !$ok, 'posthog_bots maybe: refused';
like $out, qr/invalid value "maybe" in "posthog_bots"/, '... naming it';

($ok, $out) = $t->conf_test(<<'EOF');
server { listen 127.0.0.1:%%PORT_T%%; posthog_bot_user_agent "bad(" ; }
EOF
ok !$ok, 'a bad pattern: refused';
like $out, qr/"posthog_bot_user_agent" "bad\(":/, '... naming it';

($ok, $out) = $t->conf_test(<<'EOF');
posthog_user_agent_cache many;
server { listen 127.0.0.1:%%PORT_T%%; }
EOF
ok !$ok, 'posthog_user_agent_cache many: refused';
like $out, qr/"posthog_user_agent_cache": invalid number of slots "many"/,
     '... naming it';

($ok, $out) = $t->conf_test(<<'EOF');
posthog_user_agent_cache 0;
server { listen 127.0.0.1:%%PORT_T%%; posthog_user_agent_parse off; }
EOF
ok $ok, 'posthog_user_agent_cache 0 and posthog_user_agent_parse off: valid';

ok $t->check_log, 'no errors logged';

done_testing;
