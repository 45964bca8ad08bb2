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
 * What the event writer needs of a result, made once per user agent: its
 * properties as JSON members, in the order posthog-js's are written,
 * empty values left out as its stripEmptyProperties does, kept as the
 * first member's key and the rest:
 *   key "$os", json "Linux","$os_version":"..","$browser":"Chrome",
 *   "$device":"..","$device_type":"Desktop","$browser_version":126
 * Every name comes from posthog_ua_rules.c (at most POSTHOG_UA_NAME_MAX
 * bytes, nothing to escape); the OS version, from the UA, is escaped.
 */

#define POSTHOG_UA_NAME_MAX  31
#define POSTHOG_UA_JSON_MAX  (96 + 4 * POSTHOG_UA_NAME_MAX                    \
                              + POSTHOG_UA_NUMBER_MAX                         \
                              + 6 * POSTHOG_UA_OS_VERSION_MAX)

/* A user agent's verdict, and its parse once it is asked for. */

typedef struct {
    posthog_ua_t    ua;               /* bot, client always; the rest when */
    unsigned        parsed:1;         /* ... parsed */
    const char     *json_key;         /* when parsed: a literal */
    size_t          json_len;
    unsigned char   json[POSTHOG_UA_JSON_MAX];
} posthog_ua_entry_t;


/* Sets the verdict (ua.bot, ua.client) of "s" alone: not parsed yet. */
void posthog_ua_check(posthog_ua_entry_t *e, const unsigned char *s,
    size_t len);

/*
 * Parses "s" into "e" and writes its JSON, if not done yet.  Returns 0, or
 * -1 if a pattern failed to run (e->ua.errors; the result is still set).
 */
int posthog_ua_complete(posthog_ua_entry_t *e, const unsigned char *s,
    size_t len, posthog_ua_exec_pt exec, void *data);

/*
 * Writes the JSON members of a parsed "ua" but the first one's key, set
 * in "key"; returns the length (POSTHOG_UA_JSON_MAX at most).
 */
size_t posthog_ua_json(unsigned char *out, const posthog_ua_t *ua,
    const char **key);


/*
 * A fixed-size cache of entries, keyed by a hash of the whole string and
 * checked against the stored copy: one slot per hash (direct-mapped), so
 * a lookup costs one hash and one compare whatever the traffic.  Strings
 * longer than POSTHOG_UA_CACHE_KEY_MAX are not cached.
 */

#define POSTHOG_UA_CACHE_KEY_MAX  512

typedef struct {
    uint32_t            hash;
    uint32_t            len;          /* 0: empty slot */
    uint32_t            stamp;        /* changes when the slot is refilled */
    posthog_ua_entry_t  e;
    unsigned char       key[POSTHOG_UA_CACHE_KEY_MAX];
} posthog_ua_slot_t;

typedef struct {
    size_t              n;
    uint64_t            hits;
    uint64_t            misses;
    posthog_ua_slot_t   slot[];
} posthog_ua_cache_t;


/* the bytes a cache of "n" slots takes; zero them before use, then set n */
size_t posthog_ua_cache_size(size_t n);

/* a hash of all of the bytes, a word at a time */
uint32_t posthog_ua_hash(const unsigned char *s, size_t len);

/*
 * The slot of "s": the one that holds it, or one taken for it, with its
 * verdict and not parsed (a miss).  NULL when "s" is not cached (no
 * cache, an empty or too long string).  A holder of a slot pointer keeps
 * its stamp: another stamp means the slot now holds another string.
 */
posthog_ua_slot_t *posthog_ua_find(posthog_ua_cache_t *cache,
    const unsigned char *s, size_t len);

/* Empties a slot, as after a parse that failed: the next try may work. */
void posthog_ua_release(posthog_ua_slot_t *slot);

/*
 * The parsed result for "s": from the cache, or parsed and stored.  "tmp"
 * holds it when the string cannot be cached ("cache" may be NULL: no
 * cache) or a pattern failed.  The pointer is valid until the next call.
 */
const posthog_ua_entry_t *posthog_ua_get(posthog_ua_cache_t *cache,
    posthog_ua_entry_t *tmp, const unsigned char *s, size_t len,
    posthog_ua_exec_pt exec, void *data);

#endif /* POSTHOG_UA_H */
