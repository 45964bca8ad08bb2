/*
 * posthog-js's user-agent rules as data (see posthog_ua.h).  Each table
 * is tried in order, as posthog-js's if/else chains are: the order is
 * part of the rules (many UAs name several browsers).
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posthog_ua.h"


#define V  "(\\d+(\\.\\d+)?)"         /* BROWSER_VERSION_REGEX_SUFFIX */


const posthog_ua_regex_t  posthog_ua_regex[POSTHOG_UA_RE_N] = {
    [POSTHOG_UA_RE_BLACKBERRY] =     { "BlackBerry|PlayBook|BB10", 1 },
    [POSTHOG_UA_RE_KONQUEROR] =      { "konqueror", 1 },

    [POSTHOG_UA_RE_V_RV] =           { "rv:" V, 0 },
    [POSTHOG_UA_RE_V_EDGE] =         { "Edge?\\/" V, 0 },
    [POSTHOG_UA_RE_V_CHROME] =       { "(Chrome|CrMo)\\/" V, 0 },
    [POSTHOG_UA_RE_V_CRIOS] =        { "CriOS\\/" V, 0 },
    [POSTHOG_UA_RE_V_UC] =           { "(UCBrowser|UCWEB)\\/" V, 0 },
    [POSTHOG_UA_RE_V_DEFAULT] =      { "Version\\/" V, 0 },
    [POSTHOG_UA_RE_V_OPERA] =        { "(Opera|OPR)\\/" V, 0 },
    [POSTHOG_UA_RE_V_FIREFOX] =      { "Firefox\\/" V, 0 },
    [POSTHOG_UA_RE_V_FXIOS] =        { "FxiOS\\/" V, 0 },
    [POSTHOG_UA_RE_V_KONQUEROR] =    { "Konqueror[:/]?" V, 1 },
    [POSTHOG_UA_RE_V_BLACKBERRY] =   { "BlackBerry " V, 0 },
    [POSTHOG_UA_RE_V_ANDROID] =      { "android\\s" V, 1 },
    [POSTHOG_UA_RE_V_SAMSUNG] =      { "SamsungBrowser\\/" V, 0 },
    [POSTHOG_UA_RE_V_OCULUS] =       { "OculusBrowser\\/" V, 0 },
    [POSTHOG_UA_RE_V_VIVALDI] =      { "Vivaldi\\/" V, 0 },
    [POSTHOG_UA_RE_V_YANDEX] =       { "YaBrowser\\/" V, 0 },
    [POSTHOG_UA_RE_V_WHALE] =        { "Whale\\/" V, 0 },
    [POSTHOG_UA_RE_V_BRAVE] =        { "Brave\\/" V, 0 },
    [POSTHOG_UA_RE_V_AI] =           { "(Claude|Codex|ChatGPT)\\/" V, 0 },
    [POSTHOG_UA_RE_V_DDG] =          { "(DuckDuckGo|Ddg)\\/" V, 0 },
    [POSTHOG_UA_RE_V_PALEMOON] =     { "PaleMoon\\/" V, 0 },
    [POSTHOG_UA_RE_V_WATERFOX] =     { "Waterfox\\/" V, 0 },
    [POSTHOG_UA_RE_V_IE] =           { "(rv:|MSIE )" V, 0 },

    [POSTHOG_UA_RE_O_XBOX] =         { "Xbox; Xbox (.*?)[);]", 1 },
    [POSTHOG_UA_RE_O_NINTENDO] =     { "Nintendo", 1 },
    [POSTHOG_UA_RE_O_PLAYSTATION] =  { "PlayStation", 1 },
    [POSTHOG_UA_RE_O_WINDOWS] =      { "Windows", 1 },
    [POSTHOG_UA_RE_O_PHONE] =        { "Phone", 0 },
    [POSTHOG_UA_RE_O_WPDESKTOP] =    { "WPDesktop", 0 },
    [POSTHOG_UA_RE_O_MOBILE] =       { "Mobile", 0 },
    [POSTHOG_UA_RE_O_IEMOBILE] =     { "IEMobile\\b", 0 },
    [POSTHOG_UA_RE_O_WINDOWS_NT] =   { "Windows NT ([0-9.]+)", 1 },
    [POSTHOG_UA_RE_O_ARM] =          { "arm", 1 },
    [POSTHOG_UA_RE_O_IOS] =
        { "((iPhone|iPad|iPod).*?OS (\\d+)_(\\d+)_?(\\d+)?|iPhone)", 0 },
    [POSTHOG_UA_RE_O_WATCH] =
        { "(watch.*\\/(\\d+\\.\\d+\\.\\d+)|watch os,(\\d+\\.\\d+),)", 1 },
    [POSTHOG_UA_RE_O_ANDROID] =
        { "(Android (\\d+)\\.(\\d+)\\.?(\\d+)?|Android)", 1 },
    [POSTHOG_UA_RE_O_MAC_VERSION] =
        { "Mac OS X (\\d+)[_.](\\d+)[_.]?(\\d+)?", 1 },
    [POSTHOG_UA_RE_O_MAC] =          { "Mac", 1 },
    [POSTHOG_UA_RE_O_CROS] =         { "CrOS", 0 },
    [POSTHOG_UA_RE_O_LINUX] =        { "Linux|debian", 1 },

    [POSTHOG_UA_RE_D_NINTENDO] =     { "Nintendo \\w+", 1 },
    [POSTHOG_UA_RE_D_PLAYSTATION] =  { "PlayStation \\w+", 1 },
    [POSTHOG_UA_RE_D_XBOX] =         { "Xbox", 1 },
    [POSTHOG_UA_RE_D_OUYA] =         { "Ouya", 1 },
    [POSTHOG_UA_RE_D_WINDOWS_PHONE] = { "(Windows Phone|WPDesktop)", 1 },
    [POSTHOG_UA_RE_D_IPAD] =         { "iPad", 0 },
    [POSTHOG_UA_RE_D_IPOD] =         { "iPod", 0 },
    [POSTHOG_UA_RE_D_IPHONE] =       { "iPhone", 0 },
    [POSTHOG_UA_RE_D_WATCH] =
        { "(watch)(?: ?os[,/]|\\d,\\d\\/)[\\d.]+", 1 },
    [POSTHOG_UA_RE_D_KOBO] =         { "(kobo)\\s(ereader|touch)", 1 },
    [POSTHOG_UA_RE_D_NOKIA] =        { "Nokia", 1 },
    [POSTHOG_UA_RE_D_KINDLE] =
        { "(kf[a-z]{2}wi|aeo[c-r]{2})( bui|\\))", 1 },
    [POSTHOG_UA_RE_D_KINDLE_HD] =    { "(kf[a-z]+)( bui|\\)).+silk\\/", 1 },
    [POSTHOG_UA_RE_D_ANDROID] =      { "(Android|ZTE)", 1 },
    [POSTHOG_UA_RE_D_TABLET_MODELS] =
        { "(9138B|TB782B|Nexus [97]|pixel c|HUAWEISHT|BTV|noble nook"
          "|smart ultra 6)", 1 },
    [POSTHOG_UA_RE_D_PIXEL] =        { "pixel[\\daxl ]{1,6}", 1 },
    [POSTHOG_UA_RE_D_PIXEL_C] =      { "pixel c", 1 },
    [POSTHOG_UA_RE_D_PHONE_MODELS] =
        { "(huaweimed-al00|tah-|APA|SM-G92|i980|zte|U304AA)", 1 },
    [POSTHOG_UA_RE_D_LMY47V] =       { "lmy47v", 1 },
    [POSTHOG_UA_RE_D_QTAQZ3] =       { "QTAQZ3", 1 },
    [POSTHOG_UA_RE_D_MOBILE] =       { "(pda|Mobile)", 1 },
    [POSTHOG_UA_RE_D_TABLET] =       { "Tablet", 1 },
    [POSTHOG_UA_RE_D_TABLET_PC] =    { "Tablet pc", 1 },
};


#define NONE  -1


/*
 * detectBrowser: the first rule whose substrings are all present (case
 * sensitive, as posthog-js's includes()), whose "none" substrings are all
 * absent, and whose regex (if any) matches.  An "or" in posthog-js is two
 * rules with the same name.
 */

typedef struct {
    const char     *all[2];
    const char     *none[2];
    int             re;
    const char     *name;
} posthog_ua_browser_rule_t;

static const posthog_ua_browser_rule_t  posthog_ua_browsers[] = {
    { { " OPR/", "Mini" }, { NULL }, NONE, "Opera Mini" },
    { { " OPR/" }, { NULL }, NONE, "Opera" },
    { { NULL }, { NULL }, POSTHOG_UA_RE_BLACKBERRY, "BlackBerry" },
    { { "IEMobile" }, { NULL }, NONE, "Internet Explorer Mobile" },
    { { "WPDesktop" }, { NULL }, NONE, "Internet Explorer Mobile" },
    { { "OculusBrowser" }, { NULL }, NONE, "Oculus Browser" },
    { { "SamsungBrowser" }, { NULL }, NONE, "Samsung Internet" },
    { { "Edge" }, { NULL }, NONE, "Microsoft Edge" },
    { { "Edg/" }, { NULL }, NONE, "Microsoft Edge" },
    { { "Vivaldi/" }, { NULL }, NONE, "Vivaldi" },
    { { "YaBrowser/" }, { NULL }, NONE, "Yandex" },
    { { "Whale/" }, { NULL }, NONE, "Whale" },
    { { "DuckDuckGo/" }, { NULL }, NONE, "DuckDuckGo" },
    { { "Ddg/" }, { NULL }, NONE, "DuckDuckGo" },
    { { "Claude/" }, { NULL }, NONE, "Claude" },
    { { "Codex/" }, { NULL }, NONE, "Codex" },
    { { "ChatGPT/" }, { NULL }, NONE, "ChatGPT" },
    { { "FBIOS" }, { NULL }, NONE, "Facebook Mobile" },
    { { "UCWEB" }, { NULL }, NONE, "UC Browser" },
    { { "UCBrowser" }, { NULL }, NONE, "UC Browser" },
    { { "CriOS" }, { NULL }, NONE, "Chrome iOS" },
    { { "CrMo" }, { NULL }, NONE, "Chrome" },
    { { "Chrome" }, { NULL }, NONE, "Chrome" },
    { { "Android", "Safari" }, { NULL }, NONE, "Android Mobile" },
    { { "FxiOS" }, { NULL }, NONE, "Firefox iOS" },
    { { NULL }, { NULL }, POSTHOG_UA_RE_KONQUEROR, "Konqueror" },
    { { "Brave/" }, { NULL }, NONE, "Brave" },
    /* safariCheck() without navigator.vendor, which a server never has */
    { { "Safari", "Mobile" }, { "Chrome", "Android" }, NONE, "Mobile Safari" },
    { { "Safari" }, { "Chrome", "Android" }, NONE, "Safari" },
    { { "PaleMoon/" }, { NULL }, NONE, "Pale Moon" },
    { { "Waterfox/" }, { NULL }, NONE, "Waterfox" },
    { { "Firefox" }, { NULL }, NONE, "Firefox" },
    { { "MSIE" }, { NULL }, NONE, "Internet Explorer" },
    { { "Trident/" }, { NULL }, NONE, "Internet Explorer" },
    { { "Gecko" }, { NULL }, NONE, "Firefox" },
};


/*
 * detectBrowserVersion: the browser's patterns in order; the version is
 * parseFloat() of the group before the last (posthog-js takes
 * matches[matches.length - 2]), "group" here.
 */

typedef struct {
    const char     *browser;
    int             re[2];
    int             group[2];
} posthog_ua_version_rule_t;

static const posthog_ua_version_rule_t  posthog_ua_versions[] = {
    { "Internet Explorer Mobile", { POSTHOG_UA_RE_V_RV, NONE }, { 1 } },
    { "Microsoft Edge", { POSTHOG_UA_RE_V_EDGE, NONE }, { 1 } },
    { "Chrome", { POSTHOG_UA_RE_V_CHROME, NONE }, { 2 } },
    { "Chrome iOS", { POSTHOG_UA_RE_V_CRIOS, NONE }, { 1 } },
    { "UC Browser", { POSTHOG_UA_RE_V_UC, NONE }, { 2 } },
    { "Safari", { POSTHOG_UA_RE_V_DEFAULT, NONE }, { 1 } },
    { "Mobile Safari", { POSTHOG_UA_RE_V_DEFAULT, NONE }, { 1 } },
    { "Opera", { POSTHOG_UA_RE_V_OPERA, NONE }, { 2 } },
    { "Firefox", { POSTHOG_UA_RE_V_FIREFOX, NONE }, { 1 } },
    { "Firefox iOS", { POSTHOG_UA_RE_V_FXIOS, NONE }, { 1 } },
    { "Konqueror", { POSTHOG_UA_RE_V_KONQUEROR, NONE }, { 1 } },
    { "BlackBerry", { POSTHOG_UA_RE_V_BLACKBERRY, POSTHOG_UA_RE_V_DEFAULT },
                    { 1, 1 } },
    { "Android Mobile", { POSTHOG_UA_RE_V_ANDROID, NONE }, { 1 } },
    { "Samsung Internet", { POSTHOG_UA_RE_V_SAMSUNG, NONE }, { 1 } },
    { "Oculus Browser", { POSTHOG_UA_RE_V_OCULUS, NONE }, { 1 } },
    { "Vivaldi", { POSTHOG_UA_RE_V_VIVALDI, NONE }, { 1 } },
    { "Yandex", { POSTHOG_UA_RE_V_YANDEX, NONE }, { 1 } },
    { "Whale", { POSTHOG_UA_RE_V_WHALE, NONE }, { 1 } },
    { "Brave", { POSTHOG_UA_RE_V_BRAVE, NONE }, { 1 } },
    { "Claude", { POSTHOG_UA_RE_V_AI, NONE }, { 2 } },
    { "Codex", { POSTHOG_UA_RE_V_AI, NONE }, { 2 } },
    { "ChatGPT", { POSTHOG_UA_RE_V_AI, NONE }, { 2 } },
    { "DuckDuckGo", { POSTHOG_UA_RE_V_DDG, NONE }, { 2 } },
    { "Pale Moon", { POSTHOG_UA_RE_V_PALEMOON, NONE }, { 1 } },
    { "Waterfox", { POSTHOG_UA_RE_V_WATERFOX, NONE }, { 1 } },
    { "Internet Explorer", { POSTHOG_UA_RE_V_IE, NONE }, { 2 } },
};


/* detectOS: the first pattern that matches decides; "how" makes the version */

enum {
    OS_FIXED = 0,        /* no version */
    OS_GROUP,            /* group "g", or "" */
    OS_DOTTED,           /* groups g, g+1, g+2 or "0", joined by '.' */
    OS_WATCH,            /* group 2, else group 3 */
    OS_WINDOWS           /* the Windows function */
};

typedef struct {
    int             re;
    const char     *name;
    int             how;
    int             group;
} posthog_ua_os_rule_t;

static const posthog_ua_os_rule_t  posthog_ua_oses[] = {
    { POSTHOG_UA_RE_O_XBOX, "Xbox", OS_GROUP, 1 },
    { POSTHOG_UA_RE_O_NINTENDO, "Nintendo", OS_FIXED, 0 },
    { POSTHOG_UA_RE_O_PLAYSTATION, "PlayStation", OS_FIXED, 0 },
    { POSTHOG_UA_RE_BLACKBERRY, "BlackBerry", OS_FIXED, 0 },
    { POSTHOG_UA_RE_O_WINDOWS, "Windows", OS_WINDOWS, 0 },
    { POSTHOG_UA_RE_O_IOS, "iOS", OS_DOTTED, 3 },
    { POSTHOG_UA_RE_O_WATCH, "watchOS", OS_WATCH, 2 },
    { POSTHOG_UA_RE_O_ANDROID, "Android", OS_DOTTED, 2 },
    { POSTHOG_UA_RE_O_MAC_VERSION, "Mac OS X", OS_DOTTED, 1 },
    { POSTHOG_UA_RE_O_MAC, "Mac OS X", OS_FIXED, 0 },
    { POSTHOG_UA_RE_O_CROS, "Chrome OS", OS_FIXED, 0 },
    { POSTHOG_UA_RE_O_LINUX, "Linux", OS_FIXED, 0 },
};

/* windowsVersionMap */

static const char  *posthog_ua_windows[][2] = {
    { "NT3.51", "NT 3.11" },
    { "NT4.0", "NT 4.0" },
    { "5.0", "2000" },
    { "5.1", "XP" },
    { "5.2", "XP" },
    { "6.0", "Vista" },
    { "6.1", "7" },
    { "6.2", "8" },
    { "6.3", "8.1" },
    { "6.4", "10" },
    { "10.0", "10" },
};


/*
 * detectDevice: the first rule whose "re" (or "re_or") matches and whose
 * "re_not" does not.  "android" marks the Android rule, whose tablet
 * tests follow in posthog_ua_android().
 */

typedef struct {
    int             re;
    int             re_or;
    int             re_not;
    unsigned        android;
    const char     *name;
} posthog_ua_device_rule_t;

static const posthog_ua_device_rule_t  posthog_ua_devices[] = {
    { POSTHOG_UA_RE_D_NINTENDO, NONE, NONE, 0, "Nintendo" },
    { POSTHOG_UA_RE_D_PLAYSTATION, NONE, NONE, 0, "PlayStation" },
    { POSTHOG_UA_RE_D_XBOX, NONE, NONE, 0, "Xbox" },
    { POSTHOG_UA_RE_D_OUYA, NONE, NONE, 0, "Ouya" },
    { POSTHOG_UA_RE_D_WINDOWS_PHONE, NONE, NONE, 0, "Windows Phone" },
    { POSTHOG_UA_RE_D_IPAD, NONE, NONE, 0, "iPad" },
    { POSTHOG_UA_RE_D_IPOD, NONE, NONE, 0, "iPod Touch" },
    { POSTHOG_UA_RE_D_IPHONE, NONE, NONE, 0, "iPhone" },
    { POSTHOG_UA_RE_D_WATCH, NONE, NONE, 0, "Apple Watch" },
    { POSTHOG_UA_RE_BLACKBERRY, NONE, NONE, 0, "BlackBerry" },
    { POSTHOG_UA_RE_D_KOBO, NONE, NONE, 0, "Kobo" },
    { POSTHOG_UA_RE_D_NOKIA, NONE, NONE, 0, "Nokia" },
    { POSTHOG_UA_RE_D_KINDLE, POSTHOG_UA_RE_D_KINDLE_HD, NONE, 0,
      "Kindle Fire" },
    { POSTHOG_UA_RE_D_ANDROID, NONE, NONE, 1, "Android" },
    { POSTHOG_UA_RE_D_MOBILE, NONE, NONE, 0, "Generic mobile" },
    { POSTHOG_UA_RE_D_TABLET, NONE, POSTHOG_UA_RE_D_TABLET_PC, 0,
      "Generic tablet" },
};

/* detectDeviceType: devices that are not "Mobile"; none at all: "Desktop" */

static const char  *posthog_ua_device_types[][2] = {
    { "iPad", "Tablet" },
    { "Android Tablet", "Tablet" },
    { "Kobo", "Tablet" },
    { "Kindle Fire", "Tablet" },
    { "Generic tablet", "Tablet" },
    { "Nintendo", "Console" },
    { "Xbox", "Console" },
    { "PlayStation", "Console" },
    { "Ouya", "Console" },
    { "Apple Watch", "Wearable" },
};


/* DEFAULT_BLOCKED_UA_STRS, lower case; matched case-insensitively */

static const char  *posthog_ua_blocked_strs[] = {
    "amazonbot", "amazonproductbot", "app.hypefactors.com", "applebot",
    "archive.org_bot", "awariobot", "backlinksextendedbot", "baiduspider",
    "bingbot", "bingpreview", "chrome-lighthouse", "dataforseobot",
    "deepscan", "duckduckbot", "facebookexternal", "facebookcatalog",
    "http://yandex.com/bots", "hubspot", "ia_archiver", "leikibot",
    "linkedinbot", "meta-externalagent", "mj12bot", "msnbot", "nessus",
    "petalbot", "pinterest", "prerender", "rogerbot", "screaming frog",
    "sebot-wa", "sitebulb", "slackbot", "slurp", "trendictionbot",
    "turnitin", "twitterbot", "vercel-screenshot", "vercelbot",
    "yahoo! slurp", "yandexbot", "zoombot",
    "bot.htm", "bot.php", "(bot;", "bot/", "crawler",
    "ahrefsbot", "ahrefssiteaudit",
    "semrushbot", "siteauditbot", "splitsignalbot",
    "gptbot", "oai-searchbot", "chatgpt-user", "perplexitybot",
    "better uptime bot", "sentryuptimebot", "uptimerobot",
    "headlesschrome", "cypress",
    "google-hoteladsverifier", "adsbot-google", "apis-google",
    "duplexweb-google", "feedfetcher-google", "google favicon",
    "google web preview", "google-read-aloud", "googlebot", "googleother",
    "google-cloudvertexbot", "googleweblight", "mediapartners-google",
    "storebot-google", "google-inspectiontool", "bytespider",
};

/*
 * Ours, not posthog-js's (a browser never runs it on these): markers of
 * clients that are not browsers though their UA starts with "Mozilla/".
 */

static const char  *posthog_ua_client_strs[] = {
    "pingdom", "statuscake", "site24x7", "uptime", "monitoring",
    "nagios", "zabbix", "check_http", "kube-probe", "elb-healthchecker",
    "googlehc", "healthcheck", "health-check", "datadog", "newrelicpinger",
    "phantomjs", "puppeteer", "playwright", "selenium", "spider",
    "python-", "curl/", "wget/", "httpclient", "okhttp", "go-http-client",
    "node-fetch", "axios/", "java/", "libwww-perl", "http-tiny", "scrapy",
};


#define nelts(a)  (sizeof(a) / sizeof((a)[0]))


static int posthog_ua_has(const unsigned char *s, size_t len,
    const char *needle);
static int posthog_ua_has_lc(const unsigned char *s, size_t len,
    const char *needle);
static int posthog_ua_any_lc(const unsigned char *s, size_t len,
    const char **needles, size_t n);
static int posthog_ua_run(posthog_ua_t *ua, int id, const unsigned char *s,
    size_t len, int *cap, posthog_ua_exec_pt exec, void *data);
static void posthog_ua_browser(posthog_ua_t *ua, const unsigned char *s,
    size_t len, posthog_ua_exec_pt exec, void *data);
static void posthog_ua_os(posthog_ua_t *ua, const unsigned char *s,
    size_t len, posthog_ua_exec_pt exec, void *data);
static void posthog_ua_device(posthog_ua_t *ua, const unsigned char *s,
    size_t len, posthog_ua_exec_pt exec, void *data);
static const char *posthog_ua_android(posthog_ua_t *ua,
    const unsigned char *s, size_t len, posthog_ua_exec_pt exec,
    void *data);
static size_t posthog_ua_number(char *out, const unsigned char *p,
    size_t len);
static void posthog_ua_os_version(posthog_ua_t *ua, const unsigned char *p,
    size_t len);


void
posthog_ua_parse(posthog_ua_t *ua, const unsigned char *s, size_t len,
    posthog_ua_exec_pt exec, void *data)
{
    memset(ua, 0, sizeof(posthog_ua_t));

    ua->bot = posthog_ua_blocked(s, len);
    ua->client = posthog_ua_client(s, len);

    posthog_ua_browser(ua, s, len, exec, data);
    posthog_ua_os(ua, s, len, exec, data);
    posthog_ua_device(ua, s, len, exec, data);
}


/*
 * Any of the lower-case "needles" in "s", case-insensitively.  The string
 * is folded once, and the pairs of adjacent bytes it has are noted in a
 * bitmap: a needle with a pair the string lacks is skipped without a scan,
 * so a browser's UA costs about one bitmap test per needle.  Only a string
 * over the buffer is folded byte by byte per needle.
 */

static int
posthog_ua_any_lc(const unsigned char *s, size_t len, const char **needles,
    size_t n)
{
    size_t                i, k;
    unsigned              pair;
    const unsigned char  *nd;
    unsigned char         lc[1024], seen[65536 / 8];

    if (len > sizeof(lc)) {
        for (i = 0; i < n; i++) {
            if (posthog_ua_has_lc(s, len, needles[i])) {
                return 1;
            }
        }

        return 0;
    }

    memset(seen, 0, sizeof(seen));

    for (i = 0; i < len; i++) {
        lc[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (s[i] | 0x20) : s[i];

        if (i) {
            pair = (unsigned) lc[i - 1] << 8 | lc[i];
            seen[pair >> 3] |= 1 << (pair & 7);
        }
    }

    for (i = 0; i < n; i++) {
        nd = (const unsigned char *) needles[i];

        for (k = 1; nd[k]; k++) {
            pair = (unsigned) nd[k - 1] << 8 | nd[k];

            if (!(seen[pair >> 3] & (1 << (pair & 7)))) {
                break;
            }
        }

        if (nd[k] == '\0' && posthog_ua_has(lc, len, needles[i])) {
            return 1;
        }
    }

    return 0;
}


int
posthog_ua_blocked(const unsigned char *s, size_t len)
{
    return posthog_ua_any_lc(s, len, posthog_ua_blocked_strs,
                             nelts(posthog_ua_blocked_strs));
}


int
posthog_ua_client(const unsigned char *s, size_t len)
{
    if (!(len >= 8 && memcmp(s, "Mozilla/", 8) == 0)
        && !(len >= 6 && memcmp(s, "Opera/", 6) == 0))
    {
        return 1;
    }

    return posthog_ua_any_lc(s, len, posthog_ua_client_strs,
                             nelts(posthog_ua_client_strs));
}


static void
posthog_ua_browser(posthog_ua_t *ua, const unsigned char *s, size_t len,
    posthog_ua_exec_pt exec, void *data)
{
    int                               cap[2 * POSTHOG_UA_CAPTURES], g;
    size_t                            i, k;
    const posthog_ua_browser_rule_t  *b;
    const posthog_ua_version_rule_t  *v;

    ua->browser = "";

    for (i = 0; i < nelts(posthog_ua_browsers); i++) {
        b = &posthog_ua_browsers[i];

        for (k = 0; k < 2 && b->all[k]; k++) {
            if (!posthog_ua_has(s, len, b->all[k])) {
                goto next;
            }
        }

        for (k = 0; k < 2 && b->none[k]; k++) {
            if (posthog_ua_has(s, len, b->none[k])) {
                goto next;
            }
        }

        if (b->re != NONE && !posthog_ua_run(ua, b->re, s, len, cap, exec,
                                             data))
        {
            goto next;
        }

        ua->browser = b->name;
        break;

    next:
        continue;
    }

    for (i = 0; i < nelts(posthog_ua_versions); i++) {
        v = &posthog_ua_versions[i];

        if (strcmp(v->browser, ua->browser) != 0) {
            continue;
        }

        for (k = 0; k < 2 && v->re[k] != NONE; k++) {
            if (!posthog_ua_run(ua, v->re[k], s, len, cap, exec, data)) {
                continue;
            }

            g = v->group[k];

            if (cap[2 * g] >= 0) {
                ua->browser_version_len = posthog_ua_number(
                    ua->browser_version, s + cap[2 * g],
                    cap[2 * g + 1] - cap[2 * g]);
            }

            return;
        }

        return;
    }
}


static void
posthog_ua_os(posthog_ua_t *ua, const unsigned char *s, size_t len,
    posthog_ua_exec_pt exec, void *data)
{
    int                          cap[2 * POSTHOG_UA_CAPTURES], wcap[4], g;
    char                         buf[POSTHOG_UA_OS_VERSION_MAX];
    size_t                       i, n, k, l;
    const posthog_ua_os_rule_t  *o;

    ua->os = "";

    for (i = 0; i < nelts(posthog_ua_oses); i++) {
        o = &posthog_ua_oses[i];

        if (!posthog_ua_run(ua, o->re, s, len, cap, exec, data)) {
            continue;
        }

        ua->os = o->name;
        g = o->group;

        switch (o->how) {

        case OS_GROUP:
            if (cap[2 * g] >= 0) {
                posthog_ua_os_version(ua, s + cap[2 * g],
                                      cap[2 * g + 1] - cap[2 * g]);
            }

            break;

        case OS_WATCH:
            if (cap[2 * g] < 0) {
                g++;
            }

            if (cap[2 * g] >= 0) {
                posthog_ua_os_version(ua, s + cap[2 * g],
                                      cap[2 * g + 1] - cap[2 * g]);
            }

            break;

        case OS_DOTTED:
            if (cap[2 * g] < 0) {
                break;
            }

            /* a version past the buffer is cut there: the rest is noise */

            n = 0;

            for (k = 0; k < 3 && n < sizeof(buf); k++) {
                if (k) {
                    buf[n++] = '.';

                    if (n == sizeof(buf)) {
                        break;
                    }
                }

                if (cap[2 * (g + k)] < 0) {
                    buf[n++] = '0';
                    continue;
                }

                l = cap[2 * (g + k) + 1] - cap[2 * (g + k)];

                if (l > sizeof(buf) - n) {
                    l = sizeof(buf) - n;
                }

                memcpy(buf + n, s + cap[2 * (g + k)], l);
                n += l;
            }

            posthog_ua_os_version(ua, (unsigned char *) buf, n);
            break;

        case OS_WINDOWS:
            if (posthog_ua_run(ua, POSTHOG_UA_RE_O_PHONE, s, len, cap, exec,
                               data)
                || posthog_ua_run(ua, POSTHOG_UA_RE_O_WPDESKTOP, s, len, cap,
                                  exec, data))
            {
                ua->os = "Windows Phone";
                break;
            }

            if (posthog_ua_run(ua, POSTHOG_UA_RE_O_MOBILE, s, len, cap, exec,
                               data)
                && !posthog_ua_run(ua, POSTHOG_UA_RE_O_IEMOBILE, s, len, cap,
                                   exec, data))
            {
                ua->os = "Windows Mobile";
                break;
            }

            if (!posthog_ua_run(ua, POSTHOG_UA_RE_O_WINDOWS_NT, s, len, cap,
                                exec, data))
            {
                break;
            }

            wcap[0] = cap[2];
            wcap[1] = cap[3];
            l = wcap[1] - wcap[0];

            for (k = 0; k < nelts(posthog_ua_windows); k++) {
                if (strlen(posthog_ua_windows[k][0]) == l
                    && memcmp(posthog_ua_windows[k][0], s + wcap[0], l) == 0)
                {
                    posthog_ua_os_version(ua, (const unsigned char *)
                                          posthog_ua_windows[k][1],
                                          strlen(posthog_ua_windows[k][1]));
                    break;
                }
            }

            if (posthog_ua_run(ua, POSTHOG_UA_RE_O_ARM, s, len, cap, exec,
                               data))
            {
                posthog_ua_os_version(ua, (const unsigned char *) "RT", 2);
            }

            break;

        default: /* OS_FIXED */
            break;
        }

        return;
    }
}


static void
posthog_ua_device(posthog_ua_t *ua, const unsigned char *s, size_t len,
    posthog_ua_exec_pt exec, void *data)
{
    int                              cap[2 * POSTHOG_UA_CAPTURES];
    size_t                           i;
    const posthog_ua_device_rule_t  *d;

    ua->device = "";

    for (i = 0; i < nelts(posthog_ua_devices); i++) {
        d = &posthog_ua_devices[i];

        if (!posthog_ua_run(ua, d->re, s, len, cap, exec, data)
            && (d->re_or == NONE
                || !posthog_ua_run(ua, d->re_or, s, len, cap, exec, data)))
        {
            continue;
        }

        if (d->re_not != NONE
            && posthog_ua_run(ua, d->re_not, s, len, cap, exec, data))
        {
            continue;
        }

        ua->device = d->android ? posthog_ua_android(ua, s, len, exec, data)
                                : d->name;
        break;
    }

    ua->device_type = "Desktop";

    if (ua->device[0] == '\0') {
        return;
    }

    ua->device_type = "Mobile";

    for (i = 0; i < nelts(posthog_ua_device_types); i++) {
        if (strcmp(posthog_ua_device_types[i][0], ua->device) == 0) {
            ua->device_type = posthog_ua_device_types[i][1];
            break;
        }
    }
}


/* an Android without "Mobile", or a known tablet, is a tablet unless ... */

static const char *
posthog_ua_android(posthog_ua_t *ua, const unsigned char *s, size_t len,
    posthog_ua_exec_pt exec, void *data)
{
    int  cap[2 * POSTHOG_UA_CAPTURES];

#define RUN(id)  posthog_ua_run(ua, id, s, len, cap, exec, data)

    if (RUN(POSTHOG_UA_RE_O_MOBILE) && !RUN(POSTHOG_UA_RE_D_TABLET_MODELS)) {
        return "Android";
    }

    if ((RUN(POSTHOG_UA_RE_D_PIXEL) && !RUN(POSTHOG_UA_RE_D_PIXEL_C))
        || RUN(POSTHOG_UA_RE_D_PHONE_MODELS)
        || (RUN(POSTHOG_UA_RE_D_LMY47V) && !RUN(POSTHOG_UA_RE_D_QTAQZ3)))
    {
        return "Android";
    }

#undef RUN

    return "Android Tablet";
}


static int
posthog_ua_run(posthog_ua_t *ua, int id, const unsigned char *s, size_t len,
    int *cap, posthog_ua_exec_pt exec, void *data)
{
    int  rc, i;

    for (i = 0; i < 2 * POSTHOG_UA_CAPTURES; i++) {
        cap[i] = -1;
    }

    rc = exec(data, (unsigned) id, s, len, cap, 2 * POSTHOG_UA_CAPTURES);

    if (rc < 0) {
        ua->errors = 1;
        return 0;
    }

    return rc > 0;
}


static int
posthog_ua_has(const unsigned char *s, size_t len, const char *needle)
{
    size_t                n;
    const unsigned char  *p, *end;

    n = strlen(needle);

    if (n > len) {
        return 0;
    }

    end = s + len - n + 1;

    for (p = s; p < end; p++) {
        p = memchr(p, needle[0], end - p);

        if (p == NULL) {
            return 0;
        }

        if (memcmp(p, needle, n) == 0) {
            return 1;
        }
    }

    return 0;
}


/* "needle" is lower case; ASCII case folding, as toLowerCase() for ASCII */

static int
posthog_ua_has_lc(const unsigned char *s, size_t len, const char *needle)
{
    size_t          n, i, k;
    unsigned char   c;

    n = strlen(needle);

    if (n > len) {
        return 0;
    }

    for (i = 0; i + n <= len; i++) {
        for (k = 0; k < n; k++) {
            c = s[i + k];

            if (c >= 'A' && c <= 'Z') {
                c |= 0x20;
            }

            if (c != (unsigned char) needle[k]) {
                break;
            }
        }

        if (k == n) {
            return 1;
        }
    }

    return 0;
}


/*
 * parseFloat() of "digits[.digits]" printed as JSON the way JavaScript's
 * Number#toString() prints it: the shortest digits that read back as the
 * same double, in plain notation from 1e-7 to 1e21 and with an exponent
 * outside ("131", "17.6", "1e-7", "1.5e+21").  Returns 0 for a value JSON
 * cannot hold (posthog-js's is Infinity, sent as null).
 */

static size_t
posthog_ua_number(char *out, const unsigned char *p, size_t len)
{
    int                   prec, e, k, pt, i;
    char                  tmp[309 + 1 + 20 + 1], sci[32], dig[20];
    size_t                n, il, fl;
    double                d;
    const unsigned char  *dot, *end;

    end = p + len;
    dot = memchr(p, '.', len);

    il = (dot ? dot : end) - p;
    fl = dot ? (size_t) (end - dot - 1) : 0;

    /* more than 309 integer digits: Infinity; 20 fraction digits decide */

    if (il > 309) {
        return 0;
    }

    memcpy(tmp, p, il);
    n = il;

    if (fl) {
        tmp[n++] = '.';
        fl = fl < 20 ? fl : 20;
        memcpy(tmp + n, dot + 1, fl);
        n += fl;
    }

    tmp[n] = '\0';
    d = strtod(tmp, NULL);

    if (!isfinite(d)) {
        return 0;
    }

    if (d == 0) {
        out[0] = '0';
        return 1;
    }

    /* the shortest "D.DDDe+X" that reads back as d */

    for (prec = 1; prec <= 17; prec++) {
        snprintf(sci, sizeof(sci), "%.*e", prec - 1, d);

        if (strtod(sci, NULL) == d) {
            break;
        }
    }

    k = 0;

    for (i = 0; sci[i] != 'e'; i++) {
        if (sci[i] != '.') {
            dig[k++] = sci[i];
        }
    }

    e = atoi(sci + i + 1);
    pt = e + 1;                       /* ECMAScript's n: digits before '.' */
    n = 0;

    if (k <= pt && pt <= 21) {
        memcpy(out, dig, k);
        memset(out + k, '0', pt - k);
        return pt;
    }

    if (0 < pt && pt <= 21) {
        memcpy(out, dig, pt);
        out[pt] = '.';
        memcpy(out + pt + 1, dig + pt, k - pt);
        return k + 1;
    }

    if (-6 < pt && pt <= 0) {
        out[n++] = '0';
        out[n++] = '.';
        memset(out + n, '0', -pt);
        n += -pt;
        memcpy(out + n, dig, k);
        return n + k;
    }

    out[n++] = dig[0];

    if (k > 1) {
        out[n++] = '.';
        memcpy(out + n, dig + 1, k - 1);
        n += k - 1;
    }

    n += snprintf(out + n, POSTHOG_UA_NUMBER_MAX - n, "e%c%d",
                  pt - 1 < 0 ? '-' : '+', pt - 1 < 0 ? 1 - pt : pt - 1);

    return n;
}


static void
posthog_ua_os_version(posthog_ua_t *ua, const unsigned char *p, size_t len)
{
    if (len > sizeof(ua->os_version)) {
        len = sizeof(ua->os_version);
    }

    memcpy(ua->os_version, p, len);
    ua->os_version_len = len;
}


/* the cache */

size_t
posthog_ua_cache_size(size_t n)
{
    return sizeof(posthog_ua_cache_t) + n * sizeof(posthog_ua_slot_t);
}


static uint32_t
posthog_ua_hash(const unsigned char *s, size_t len)
{
    size_t    i;
    uint32_t  h;

    /* FNV-1a */

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h ^= s[i];
        h *= 16777619u;
    }

    return h;
}


const posthog_ua_t *
posthog_ua_get(posthog_ua_cache_t *cache, posthog_ua_t *tmp,
    const unsigned char *s, size_t len, posthog_ua_exec_pt exec, void *data)
{
    uint32_t            h;
    posthog_ua_slot_t  *slot;

    if (cache == NULL || cache->n == 0 || len == 0
        || len > POSTHOG_UA_CACHE_KEY_MAX)
    {
        posthog_ua_parse(tmp, s, len, exec, data);
        return tmp;
    }

    h = posthog_ua_hash(s, len);
    slot = &cache->slot[h % cache->n];

    if (slot->len == len && slot->hash == h
        && memcmp(slot->key, s, len) == 0)
    {
        cache->hits++;
        return &slot->ua;
    }

    cache->misses++;

    posthog_ua_parse(&slot->ua, s, len, exec, data);

    /* a result a failed pattern made is not kept: the next try may work */

    if (slot->ua.errors) {
        *tmp = slot->ua;
        slot->len = 0;
        return tmp;
    }

    slot->hash = h;
    slot->len = (uint32_t) len;
    memcpy(slot->key, s, len);

    return &slot->ua;
}
