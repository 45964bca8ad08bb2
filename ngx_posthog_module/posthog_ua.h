/*
 * User-Agent -> $browser, $browser_version, $os, $os_version, $device,
 * $device_type with posthog-js's values (@posthog/core user-agent-utils),
 * and its blocked-UA list (bot-detection).  Plain C, no nginx types.
 *
 * The rules are data: posthog_ua_regex[] holds every pattern (PCRE syntax,
 * written as posthog-js has them), the tables in posthog_ua_rules.c say in
 * which order they are tried and what each gives.  The caller compiles
 * the patterns once (nginx: ngx_regex_compile at configuration time; the
 * unit test: libpcre2) and runs them through a callback, so this file
 * needs no regex library.
 */

#ifndef POSTHOG_UA_H
#define POSTHOG_UA_H

#include <stddef.h>
#include <stdint.h>


/* the ids of posthog_ua_regex[] */

enum {
    /* browser (detectBrowser) */
    POSTHOG_UA_RE_BLACKBERRY = 0,
    POSTHOG_UA_RE_KONQUEROR,

    /* browser version (versionRegexes) */
    POSTHOG_UA_RE_V_RV,
    POSTHOG_UA_RE_V_EDGE,
    POSTHOG_UA_RE_V_CHROME,
    POSTHOG_UA_RE_V_CRIOS,
    POSTHOG_UA_RE_V_UC,
    POSTHOG_UA_RE_V_DEFAULT,
    POSTHOG_UA_RE_V_OPERA,
    POSTHOG_UA_RE_V_FIREFOX,
    POSTHOG_UA_RE_V_FXIOS,
    POSTHOG_UA_RE_V_KONQUEROR,
    POSTHOG_UA_RE_V_BLACKBERRY,
    POSTHOG_UA_RE_V_ANDROID,
    POSTHOG_UA_RE_V_SAMSUNG,
    POSTHOG_UA_RE_V_OCULUS,
    POSTHOG_UA_RE_V_VIVALDI,
    POSTHOG_UA_RE_V_YANDEX,
    POSTHOG_UA_RE_V_WHALE,
    POSTHOG_UA_RE_V_BRAVE,
    POSTHOG_UA_RE_V_AI,
    POSTHOG_UA_RE_V_DDG,
    POSTHOG_UA_RE_V_PALEMOON,
    POSTHOG_UA_RE_V_WATERFOX,
    POSTHOG_UA_RE_V_IE,

    /* os (osMatchers) */
    POSTHOG_UA_RE_O_XBOX,
    POSTHOG_UA_RE_O_NINTENDO,
    POSTHOG_UA_RE_O_PLAYSTATION,
    POSTHOG_UA_RE_O_WINDOWS,
    POSTHOG_UA_RE_O_PHONE,
    POSTHOG_UA_RE_O_WPDESKTOP,
    POSTHOG_UA_RE_O_MOBILE,
    POSTHOG_UA_RE_O_IEMOBILE,
    POSTHOG_UA_RE_O_WINDOWS_NT,
    POSTHOG_UA_RE_O_ARM,
    POSTHOG_UA_RE_O_IOS,
    POSTHOG_UA_RE_O_WATCH,
    POSTHOG_UA_RE_O_ANDROID,
    POSTHOG_UA_RE_O_MAC_VERSION,
    POSTHOG_UA_RE_O_MAC,
    POSTHOG_UA_RE_O_CROS,
    POSTHOG_UA_RE_O_LINUX,

    /* device (detectDevice) */
    POSTHOG_UA_RE_D_NINTENDO,
    POSTHOG_UA_RE_D_PLAYSTATION,
    POSTHOG_UA_RE_D_XBOX,
    POSTHOG_UA_RE_D_OUYA,
    POSTHOG_UA_RE_D_WINDOWS_PHONE,
    POSTHOG_UA_RE_D_IPAD,
    POSTHOG_UA_RE_D_IPOD,
    POSTHOG_UA_RE_D_IPHONE,
    POSTHOG_UA_RE_D_WATCH,
    POSTHOG_UA_RE_D_KOBO,
    POSTHOG_UA_RE_D_NOKIA,
    POSTHOG_UA_RE_D_KINDLE,
    POSTHOG_UA_RE_D_KINDLE_HD,
    POSTHOG_UA_RE_D_ANDROID,
    POSTHOG_UA_RE_D_TABLET_MODELS,
    POSTHOG_UA_RE_D_PIXEL,
    POSTHOG_UA_RE_D_PIXEL_C,
    POSTHOG_UA_RE_D_PHONE_MODELS,
    POSTHOG_UA_RE_D_LMY47V,
    POSTHOG_UA_RE_D_QTAQZ3,
    POSTHOG_UA_RE_D_MOBILE,
    POSTHOG_UA_RE_D_TABLET,
    POSTHOG_UA_RE_D_TABLET_PC,

    POSTHOG_UA_RE_N
};


typedef struct {
    const char     *pattern;
    unsigned        caseless;
} posthog_ua_regex_t;

extern const posthog_ua_regex_t  posthog_ua_regex[POSTHOG_UA_RE_N];


/* the most capture pairs any pattern needs, group 0 included */
#define POSTHOG_UA_CAPTURES  6


/*
 * Runs pattern "id" on "s".  Returns 1 on a match, with cap[2i], cap[2i+1]
 * the offsets of group i (-1, -1 for a group that took no part), 0 when
 * it does not match, -1 on an error (taken as no match).  "ncap" is the
 * number of ints in "cap", a multiple of 2.
 */
typedef int (*posthog_ua_exec_pt)(void *data, unsigned id,
    const unsigned char *s, size_t len, int *cap, int ncap);


#define POSTHOG_UA_NUMBER_MAX      32   /* a JSON number */
#define POSTHOG_UA_OS_VERSION_MAX  64


typedef struct {
    const char     *browser;          /* "" when posthog-js finds none */
    const char     *os;
    const char     *device;
    const char     *device_type;      /* never "" */
    size_t          browser_version_len;   /* 0: null */
    size_t          os_version_len;
    char            browser_version[POSTHOG_UA_NUMBER_MAX];  /* JSON */
    char            os_version[POSTHOG_UA_OS_VERSION_MAX];
    unsigned        bot:1;            /* posthog-js's blocked-UA list */
    unsigned        client:1;         /* not a browser: curl, a library */
    unsigned        errors:1;         /* a pattern failed to run */
} posthog_ua_t;


/* Fills "ua" from the "len" bytes at "s". */
void posthog_ua_parse(posthog_ua_t *ua, const unsigned char *s, size_t len,
    posthog_ua_exec_pt exec, void *data);

/* 1 if posthog-js's isBlockedUA() blocks it (case-insensitive substrings) */
int posthog_ua_blocked(const unsigned char *s, size_t len);

/*
 * 1 if it is not a browser: empty, not "Mozilla/..." or "Opera/..." as
 * every browser's is (curl, wget, HTTP libraries, native apps), or naming
 * an uptime probe, a headless driver or an HTTP library.
 */
int posthog_ua_client(const unsigned char *s, size_t len);


/*
 * A fixed-size cache of results, keyed by a hash of the whole string and
 * checked against the stored copy: one slot per hash (direct-mapped), so
 * a lookup costs one hash and one compare whatever the traffic.  Strings
 * longer than POSTHOG_UA_CACHE_KEY_MAX are not cached.
 */

#define POSTHOG_UA_CACHE_KEY_MAX  512

typedef struct {
    uint32_t        hash;
    uint32_t        len;              /* 0: empty slot */
    posthog_ua_t    ua;
    unsigned char   key[POSTHOG_UA_CACHE_KEY_MAX];
} posthog_ua_slot_t;

typedef struct {
    size_t              n;
    uint64_t            hits;
    uint64_t            misses;
    posthog_ua_slot_t   slot[];
} posthog_ua_cache_t;


/* the bytes a cache of "n" slots takes; zero them before use, then set n */
size_t posthog_ua_cache_size(size_t n);

/*
 * The result for "s": from the cache, or parsed and stored.  "tmp" holds
 * it when the string cannot be cached ("cache" may be NULL: no cache).
 * The pointer is valid until the next call.
 */
const posthog_ua_t *posthog_ua_get(posthog_ua_cache_t *cache,
    posthog_ua_t *tmp, const unsigned char *s, size_t len,
    posthog_ua_exec_pt exec, void *data);

#endif /* POSTHOG_UA_H */
