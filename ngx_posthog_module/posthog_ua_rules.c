/*
 * posthog-js's user-agent rules as data (see posthog_ua.h): every pattern
 * in posthog_ua_regex[], and the tables that say in which order they are
 * tried and what each gives.  Each table is tried in order, as
 * posthog-js's if/else chains are: the order is part of the rules (many
 * UAs name several browsers).  The matching is in posthog_ua.c.
 */

#include <stddef.h>

#include "posthog_ua.h"
#include "posthog_ua_rules.h"


#define nelts(a)  (sizeof(a) / sizeof((a)[0]))


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


/* detectBrowser */

const posthog_ua_browser_rule_t  posthog_ua_browsers[] = {
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
const size_t  posthog_ua_browsers_n = nelts(posthog_ua_browsers);


/* detectBrowserVersion */

const posthog_ua_version_rule_t  posthog_ua_versions[] = {
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
const size_t  posthog_ua_versions_n = nelts(posthog_ua_versions);


/* detectOS */

const posthog_ua_os_rule_t  posthog_ua_oses[] = {
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
const size_t  posthog_ua_oses_n = nelts(posthog_ua_oses);


/* windowsVersionMap */

const char  *posthog_ua_windows[][2] = {
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
const size_t  posthog_ua_windows_n = nelts(posthog_ua_windows);


/* detectDevice */

const posthog_ua_device_rule_t  posthog_ua_devices[] = {
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
const size_t  posthog_ua_devices_n = nelts(posthog_ua_devices);


/* detectDeviceType: devices that are not "Mobile"; none at all: "Desktop" */

const char  *posthog_ua_device_types[][2] = {
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
const size_t  posthog_ua_device_types_n = nelts(posthog_ua_device_types);


/* DEFAULT_BLOCKED_UA_STRS, lower case; matched case-insensitively */

const char  *posthog_ua_blocked_strs[] = {
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
const size_t  posthog_ua_blocked_strs_n = nelts(posthog_ua_blocked_strs);

/*
 * Ours, not posthog-js's (a browser never runs it on these): markers of
 * clients that are not browsers though their UA starts with "Mozilla/".
 */

const char  *posthog_ua_client_strs[] = {
    "pingdom", "statuscake", "site24x7", "uptime", "monitoring",
    "nagios", "zabbix", "check_http", "kube-probe", "elb-healthchecker",
    "googlehc", "healthcheck", "health-check", "datadog", "newrelicpinger",
    "phantomjs", "puppeteer", "playwright", "selenium", "spider",
    "python-", "curl/", "wget/", "httpclient", "okhttp", "go-http-client",
    "node-fetch", "axios/", "java/", "libwww-perl", "http-tiny", "scrapy",
};
const size_t  posthog_ua_client_strs_n = nelts(posthog_ua_client_strs);
