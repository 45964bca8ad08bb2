/*
 * The user-agent rules give posthog-js's own answers: every row of the
 * table files named on the command line (t/unit/ua.t makes them from
 * t/vectors/), with the patterns compiled by libpcre2 as nginx compiles
 * them (no UTF mode, caseless where posthog-js has /i).  The cache and
 * its entries return what a parse returns, for the same string only, and
 * an entry's JSON members say exactly what its fields say.
 *
 * A row: UA TAB browser TAB version TAB os TAB os_version TAB device TAB
 * device_type TAB is_bot; "*" is not checked, version "null" is none.
 */

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "jsoncheck.h"
#include "posthog_ua.h"
#include "posthog_ua_rules.h"


static pcre2_code        *re[POSTHOG_UA_RE_N];
static pcre2_match_data  *md;
static int                calls;


static int
exec_pcre2(void *data, unsigned id, const unsigned char *s, size_t len,
    int *cap, int ncap)
{
    int          rc, i;
    PCRE2_SIZE  *ov;

    (void) data;
    calls++;

    rc = pcre2_match(re[id], s, len, 0, 0, md, NULL);

    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }

    if (rc < 0) {
        return -1;
    }

    ov = pcre2_get_ovector_pointer(md);

    for (i = 0; i < rc && 2 * i < ncap; i++) {
        cap[2 * i] = ov[2 * i] == PCRE2_UNSET ? -1 : (int) ov[2 * i];
        cap[2 * i + 1] = ov[2 * i + 1] == PCRE2_UNSET ? -1
                                                      : (int) ov[2 * i + 1];
    }

    return 1;
}


static int
exec_fail(void *data, unsigned id, const unsigned char *s, size_t len,
    int *cap, int ncap)
{
    (void) data; (void) id; (void) s; (void) len; (void) cap; (void) ncap;
    return -1;
}


static void
compile_all(void)
{
    int         err;
    unsigned    i;
    PCRE2_SIZE  off;

    for (i = 0; i < POSTHOG_UA_RE_N; i++) {
        if (posthog_ua_regex[i].pattern == NULL) {
            diag("pattern %u missing", i);
            exit(1);
        }

        re[i] = pcre2_compile((PCRE2_SPTR) posthog_ua_regex[i].pattern,
                              PCRE2_ZERO_TERMINATED,
                              posthog_ua_regex[i].caseless ? PCRE2_CASELESS
                                                           : 0,
                              &err, &off, NULL);
        if (re[i] == NULL) {
            diag("pattern %u \"%s\" does not compile at %zu", i,
                 posthog_ua_regex[i].pattern, (size_t) off);
            exit(1);
        }

        if (pcre2_pattern_info(re[i], PCRE2_INFO_CAPTURECOUNT, &err) == 0
            && err + 1 > POSTHOG_UA_CAPTURES)
        {
            diag("pattern %u has %d groups, more than POSTHOG_UA_CAPTURES",
                 i, err);
            exit(1);
        }
    }

    md = pcre2_match_data_create(POSTHOG_UA_CAPTURES, NULL);
}


static int
field_ok(const char *what, const char *exp, const char *got, size_t glen,
    const char *ua)
{
    if (strcmp(exp, "*") == 0) {
        return 1;
    }

    if (strlen(exp) == glen && memcmp(exp, got, glen) == 0) {
        return 1;
    }

    diag("%s: expected '%s', got '%.*s' for %s", what, exp, (int) glen, got,
         ua);
    return 0;
}


/* the JSON members of "ua", written the plain way, to compare */

static size_t
ref_json(char *out, const posthog_ua_t *ua)
{
    char    *p;
    size_t   n;

    p = out;
    *p = '\0';

#define SEP  (p == out ? "" : ",")

    if (ua->os[0]) {
        p += sprintf(p, "%s\"$os\":\"%s\"", SEP, ua->os);
    }

    if (ua->os_version_len) {
        p += sprintf(p, "%s\"$os_version\":\"", SEP);
        n = ref_json_escape((unsigned char *) p,
                            (unsigned char *) ua->os_version,
                            ua->os_version_len, (size_t) -1);
        p += n;
        p += sprintf(p, "\"");
    }

    if (ua->browser[0]) {
        p += sprintf(p, "%s\"$browser\":\"%s\"", SEP, ua->browser);
    }

    if (ua->device[0]) {
        p += sprintf(p, "%s\"$device\":\"%s\"", SEP, ua->device);
    }

    p += sprintf(p, "%s\"$device_type\":\"%s\"", SEP, ua->device_type);
    p += sprintf(p, ",\"$browser_version\":%.*s",
                 ua->browser_version_len ? (int) ua->browser_version_len : 4,
                 ua->browser_version_len ? ua->browser_version : "null");

#undef SEP

    return p - out;
}


/* an entry made in two steps (as nginx makes it) is the parse, and JSON */

static int
entry_ok(const posthog_ua_t *ua, const unsigned char *s, size_t len)
{
    int                  ok;
    char                 exp[POSTHOG_UA_JSON_MAX + 1];
    size_t               n, k;
    posthog_ua_entry_t   e;

    posthog_ua_check(&e, s, len);

    ok = (e.ua.bot == ua->bot && e.ua.client == ua->client && !e.parsed);

    (void) posthog_ua_complete(&e, s, len, exec_pcre2, NULL);

    ok &= (e.parsed && memcmp(&e.ua, ua, sizeof(posthog_ua_t)) == 0);

    n = ref_json(exp, ua);
    k = e.json_key ? strlen(e.json_key) : 0;

    ok &= (e.json_key && n == k + 3 + e.json_len && exp[0] == '"'
           && memcmp(exp + 1, e.json_key, k) == 0
           && memcmp(exp + 1 + k, "\":", 2) == 0
           && memcmp(exp + k + 3, e.json, e.json_len) == 0
           && ref_utf8_valid(e.json, e.json_len));

    if (!ok) {
        diag("entry: '%s' '%.*s', expected '%s'",
             e.json_key ? e.json_key : "(null)", (int) e.json_len, e.json,
             exp);
    }

    return ok;
}


static void
run_file(const char *path)
{
    int            ok;
    char           line[8192], *f[8], *p;
    size_t         n, i;
    FILE          *fp;
    posthog_ua_t   ua;
    const char    *ver;

    fp = fopen(path, "r");
    if (fp == NULL) {
        diag("cannot open %s", path);
        exit(1);
    }

    while (fgets(line, sizeof(line), fp)) {
        n = strlen(line);

        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }

        if (n == 0 || line[0] == '#') {
            continue;
        }

        p = line;

        for (i = 0; i < 8; i++) {
            f[i] = p;
            p = strchr(p, '\t');

            if (p == NULL) {
                break;
            }

            *p++ = '\0';
        }

        if (i != 7) {
            diag("%s: bad row: %s", path, line);
            exit(1);
        }

        posthog_ua_parse(&ua, (unsigned char *) f[0], strlen(f[0]),
                         exec_pcre2, NULL);

        ver = strcmp(f[2], "null") == 0 ? "" : f[2];

        ok = field_ok("$browser", f[1], ua.browser, strlen(ua.browser), f[0]);
        ok &= field_ok("$browser_version", ver, ua.browser_version,
                       ua.browser_version_len, f[0]);
        ok &= field_ok("$os", f[3], ua.os, strlen(ua.os), f[0]);
        ok &= field_ok("$os_version", f[4], ua.os_version, ua.os_version_len,
                       f[0]);
        ok &= field_ok("$device", f[5], ua.device, strlen(ua.device), f[0]);
        ok &= field_ok("$device_type", f[6], ua.device_type,
                       strlen(ua.device_type), f[0]);
        ok &= field_ok("is_bot", f[7], ua.bot ? "true" : "false",
                       ua.bot ? 4 : 5, f[0]);
        ok &= !ua.errors;
        ok &= entry_ok(&ua, (unsigned char *) f[0], strlen(f[0]));

        tap_ok(ok, __FILE__, __LINE__, "%s", f[0]);
    }

    fclose(fp);
}


static void
test_number(void)
{
    size_t        i;
    posthog_ua_t  ua;

    static const char  *cases[][2] = {
        { "Chrome/007.50", "7.5" },
        { "Chrome/0.0", "0" },
        { "Chrome/100", "100" },
        { "Chrome/12345678901234567890.5", "12345678901234567000" },
        { "Chrome/1.10000000000000000000000001", "1.1" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        posthog_ua_parse(&ua, (unsigned char *) cases[i][0],
                         strlen(cases[i][0]), exec_pcre2, NULL);

        tap_is_mem(ua.browser_version, ua.browser_version_len, cases[i][1],
                   strlen(cases[i][1]), __FILE__, __LINE__,
                   "version of %s", cases[i][0]);
    }

    /* parseFloat() of 400 digits is Infinity: null; of 300, 1e+299 */

    {
        char  big[7 + 400 + 3];

        memcpy(big, "Chrome/", 7);
        memset(big + 7, '1', 400);
        memcpy(big + 407, ".5", 3);

        posthog_ua_parse(&ua, (unsigned char *) big, strlen(big),
                         exec_pcre2, NULL);
        tap_ok(ua.browser_version_len == 0, __FILE__, __LINE__,
               "400 digits: null");

        memcpy(big + 307, ".5", 3);

        posthog_ua_parse(&ua, (unsigned char *) big, strlen(big),
                         exec_pcre2, NULL);
        tap_is_mem(ua.browser_version, ua.browser_version_len,
                   "1.1111111111111112e+299", 23, __FILE__, __LINE__,
                   "300 digits: the double's shortest form");
    }
}


/* found by fuzz_ua: an OS version longer than its buffer */

static void
test_long_os_version(void)
{
    size_t        i;
    char          ua[300];
    posthog_ua_t  r;

    static const char  *pre[] = {
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 1",
        "Mozilla/5.0 (Linux; Android 1",
    };

    for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
        memset(ua, '8', sizeof(ua));
        memcpy(ua, pre[i], strlen(pre[i]));
        memcpy(ua + 150, i == 2 ? ".1.2 x" : "_1_2 x", 6);

        posthog_ua_parse(&r, (unsigned char *) ua, sizeof(ua), exec_pcre2,
                         NULL);

        tap_ok(r.os_version_len == POSTHOG_UA_OS_VERSION_MAX, __FILE__,
               __LINE__, "a long OS version is cut to the buffer (%s)",
               r.os);
    }
}


static void
test_client(void)
{
    size_t  i;

    static const struct {
        const char  *ua;
        int          client;
    } cases[] = {
        { "", 1 },
        { "curl/8.5.0", 1 },
        { "HTTP-Tiny/0.086", 1 },
        { "python-requests/2.31.0", 1 },
        { "Mozilla/5.0 (compatible; Pingdom.com_bot_version_1.4)", 1 },
        { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
          "Gecko) Chrome/111.0.0.0 Safari/537.36", 0 },
        { "Opera/9.80 (Windows NT 6.1) Presto/2.12.388 Version/12.16", 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tap_ok(posthog_ua_client((unsigned char *) cases[i].ua,
                                 strlen(cases[i].ua)) == cases[i].client,
               __FILE__, __LINE__, "client %d: '%s'", cases[i].client,
               cases[i].ua);
    }

    tap_ok(posthog_ua_blocked((unsigned char *) "x GOOGLEBOT y", 13),
           __FILE__, __LINE__, "the blocked list ignores case");

    {
        char  big[2100];

        memset(big, 'a', sizeof(big));
        memcpy(big, "Mozilla/5.0 ", 12);
        memcpy(big + sizeof(big) - 9, "GoogleBot", 9);

        tap_ok(posthog_ua_blocked((unsigned char *) big, sizeof(big))
               && !posthog_ua_blocked((unsigned char *) big,
                                      sizeof(big) - 1),
               __FILE__, __LINE__, "a string over the fold buffer: the "
               "whole of it is searched");
    }
}


static void
test_cache(void)
{
    const char                *a, *b;
    uint32_t                   stamp;
    posthog_ua_t               fresh;
    posthog_ua_slot_t         *slot;
    posthog_ua_entry_t         tmp;
    posthog_ua_cache_t        *c;
    const posthog_ua_entry_t  *r;
    char                       longua[POSTHOG_UA_CACHE_KEY_MAX + 2];

    a = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
        "Firefox/133.0";
    b = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) "
        "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 "
        "Safari/604.1";

    /* one slot: every string maps to it, so the stored copy decides */

    c = calloc(1, posthog_ua_cache_size(1));
    c->n = 1;

    r = posthog_ua_get(c, &tmp, (unsigned char *) a, strlen(a), exec_pcre2,
                       NULL);
    tap_ok(strcmp(r->ua.browser, "Firefox") == 0 && c->misses == 1
           && r == &c->slot[0].e, __FILE__, __LINE__, "a miss parses");

    calls = 0;
    r = posthog_ua_get(c, &tmp, (unsigned char *) a, strlen(a), exec_pcre2,
                       NULL);
    tap_ok(strcmp(r->ua.browser, "Firefox") == 0 && c->hits == 1
           && calls == 0, __FILE__, __LINE__, "a hit runs no pattern");

    stamp = c->slot[0].stamp;
    slot = posthog_ua_find(c, (unsigned char *) a, strlen(a));
    tap_ok(slot == &c->slot[0] && slot->stamp == stamp && slot->e.parsed,
           __FILE__, __LINE__, "a hit keeps the stamp and the parse");

    r = posthog_ua_get(c, &tmp, (unsigned char *) a, strlen(a) - 1,
                       exec_pcre2, NULL);
    tap_ok(c->misses == 2 && c->slot[0].stamp != stamp, __FILE__, __LINE__,
           "a prefix of a cached string is a miss, and a new stamp");

    /* a miss found for the verdict alone: checked, not parsed */

    calls = 0;
    slot = posthog_ua_find(c, (unsigned char *) b, strlen(b));
    tap_ok(slot && !slot->e.parsed && calls == 0 && !slot->e.ua.bot
           && !slot->e.ua.client && c->misses == 3, __FILE__, __LINE__,
           "a miss by posthog_ua_find: the verdict, no pattern run");

    r = posthog_ua_get(c, &tmp, (unsigned char *) b, strlen(b), exec_pcre2,
                       NULL);
    posthog_ua_parse(&fresh, (unsigned char *) b, strlen(b), exec_pcre2,
                     NULL);
    tap_ok(memcmp(&r->ua, &fresh, sizeof(fresh)) == 0 && c->misses == 3
           && c->hits == 3 && r->parsed, __FILE__, __LINE__,
           "... then parsed where it is");

    memset(longua, 'a', sizeof(longua) - 1);
    longua[sizeof(longua) - 1] = '\0';
    r = posthog_ua_get(c, &tmp, (unsigned char *) longua, strlen(longua),
                       exec_pcre2, NULL);
    tap_ok(r == &tmp && r->parsed && r->ua.client, __FILE__, __LINE__,
           "a string over the key max is parsed, not cached");
    tap_ok(posthog_ua_find(c, (unsigned char *) longua, strlen(longua))
           == NULL && posthog_ua_find(c, (unsigned char *) "", 0) == NULL
           && posthog_ua_find(NULL, (unsigned char *) a, 1) == NULL,
           __FILE__, __LINE__, "too long, empty, no cache: no slot");

    stamp = c->slot[0].stamp;
    r = posthog_ua_get(c, &tmp, (unsigned char *) a, strlen(a), exec_fail,
                       NULL);
    tap_ok(r == &tmp && r->ua.errors && c->slot[0].len == 0
           && c->slot[0].stamp != stamp, __FILE__, __LINE__,
           "a result of failed patterns is not cached");

    r = posthog_ua_get(NULL, &tmp, (unsigned char *) a, strlen(a),
                       exec_pcre2, NULL);
    tap_ok(r == &tmp && strcmp(r->ua.browser, "Firefox") == 0, __FILE__,
           __LINE__, "no cache: parsed into tmp");

    free(c);

    /* the hash takes every byte: strings one byte apart differ */

    {
        size_t    i, same;
        char      buf[64];
        uint32_t  h0;

        memset(buf, 'x', sizeof(buf));
        same = 0;

        for (i = 0; i < sizeof(buf); i++) {
            h0 = posthog_ua_hash((unsigned char *) buf, 40);
            buf[i % 40] ^= 1;
            same += (posthog_ua_hash((unsigned char *) buf, 40) == h0);
            buf[i % 40] ^= 1;
        }

        same += (posthog_ua_hash((unsigned char *) buf, 40)
                 == posthog_ua_hash((unsigned char *) buf, 41));

        tap_ok(same == 0, __FILE__, __LINE__, "the hash of each byte");
    }
}


/* every name the rules give fits an entry's JSON as it is: no escape */

static int
name_ok(const char *name)
{
    size_t  i;

    for (i = 0; name[i]; i++) {
        if (name[i] < 0x20 || name[i] > 0x7e || name[i] == '"'
            || name[i] == '\\')
        {
            break;
        }
    }

    if (name[i] || i > POSTHOG_UA_NAME_MAX) {
        diag("name '%s' does not fit", name);
        return 0;
    }

    return 1;
}


static void
test_names(void)
{
    int     ok;
    size_t  i;

    ok = name_ok("Windows Phone") && name_ok("Windows Mobile")
         && name_ok("Android") && name_ok("Android Tablet")
         && name_ok("Desktop") && name_ok("Mobile");

    for (i = 0; i < posthog_ua_browsers_n; i++) {
        ok &= name_ok(posthog_ua_browsers[i].name);
    }

    for (i = 0; i < posthog_ua_oses_n; i++) {
        ok &= name_ok(posthog_ua_oses[i].name);
    }

    for (i = 0; i < posthog_ua_devices_n; i++) {
        ok &= name_ok(posthog_ua_devices[i].name);
    }

    for (i = 0; i < posthog_ua_device_types_n; i++) {
        ok &= name_ok(posthog_ua_device_types[i][0])
              && name_ok(posthog_ua_device_types[i][1]);
    }

    tap_ok(ok, __FILE__, __LINE__, "every name: printable, at most %d bytes",
           POSTHOG_UA_NAME_MAX);
}


/* the worst case of an entry's JSON fits it; the OS version is escaped */

static void
test_json(void)
{
    char                 exp[POSTHOG_UA_JSON_MAX + 1];
    size_t               n;
    const char          *k;
    posthog_ua_t         ua;
    unsigned char        out[POSTHOG_UA_JSON_MAX];

    memset(&ua, 0, sizeof(ua));
    ua.browser = "Internet Explorer Mobile";
    ua.os = "Windows Mobile";
    ua.device = "Android Tablet";
    ua.device_type = "Wearable";
    memset(ua.browser_version, '9', sizeof(ua.browser_version));
    ua.browser_version_len = sizeof(ua.browser_version);
    memset(ua.os_version, 0x01, sizeof(ua.os_version));
    ua.os_version_len = sizeof(ua.os_version);

    n = posthog_ua_json(out, &ua, &k);
    tap_ok(n <= sizeof(out) && n + 6 == ref_json(exp, &ua)
           && memcmp(out, exp + 6, n) == 0 && strcmp(k, "$os") == 0,
           __FILE__, __LINE__, "the longest members fit (%zu of %d bytes)",
           n, POSTHOG_UA_JSON_MAX);

    memset(&ua, 0, sizeof(ua));
    ua.browser = "";
    ua.os = "";
    ua.device = "";
    ua.device_type = "Desktop";
    memcpy(ua.os_version, "a\"\\\xff\n", 5);
    ua.os_version_len = 5;

    n = posthog_ua_json(out, &ua, &k);
    tap_is_mem(out, n, "\"a\\\"\\\\\xef\xbf\xbd\\n\","
               "\"$device_type\":\"Desktop\",\"$browser_version\":null",
               sizeof("\"a\\\"\\\\\xef\xbf\xbd\\n\","
                      "\"$device_type\":\"Desktop\",\"$browser_version\":null")
               - 1, __FILE__, __LINE__,
               "an OS version from the UA is escaped, valid UTF-8");
    tap_ok(strcmp(k, "$os_version") == 0, __FILE__, __LINE__,
           "the first key: $os_version");
}


/* "--dump": one result line per UA line of stdin (t/unit/ua-posthog-js.t) */

static int
dump(void)
{
    size_t                     n;
    char                       line[8192];
    posthog_ua_entry_t         tmp;
    posthog_ua_cache_t        *c;
    const posthog_ua_t        *u;
    const posthog_ua_entry_t  *e;

    /* through the cache, as nginx asks: what it returns is compared */

    c = calloc(1, posthog_ua_cache_size(64));
    c->n = 64;

    while (fgets(line, sizeof(line), stdin)) {
        n = strlen(line);

        if (n && line[n - 1] == '\n') {
            line[--n] = '\0';
        }

        e = posthog_ua_get(c, &tmp, (unsigned char *) line, n, exec_pcre2,
                           NULL);
        u = &e->ua;

        printf("%s\t%.*s\t%s\t%.*s\t%s\t%s\t%d\n", u->browser,
               (int) u->browser_version_len, u->browser_version, u->os,
               (int) u->os_version_len, u->os_version, u->device,
               u->device_type, u->bot);
    }

    free(c);

    return 0;
}


int
main(int argc, char **argv)
{
    int  i;

    compile_all();

    if (argc == 2 && strcmp(argv[1], "--dump") == 0) {
        return dump();
    }

    for (i = 1; i < argc; i++) {
        run_file(argv[i]);
    }

    test_number();
    test_long_os_version();
    test_client();
    test_cache();
    test_names();
    test_json();

    return done_testing();
}
