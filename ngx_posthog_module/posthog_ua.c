/*
 * posthog-js's user-agent matching: its rules, the tables of
 * posthog_ua_rules.c, tried in order (see posthog_ua.h), and the cache of
 * parsed user agents.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posthog_json.h"
#include "posthog_ua.h"
#include "posthog_ua_rules.h"


/*
 * A string folded to lower case once, for the lists of substrings, with
 * the pairs of adjacent bytes it has noted in a small bitmap (by a hash
 * of the pair): a needle with a pair the string lacks is skipped without
 * a scan, so a browser's UA costs about one bitmap test per needle.  A
 * string over the buffer is searched byte by byte per needle.
 */

#define POSTHOG_UA_PAIRS     4096
#define posthog_ua_pair(a, b)  ((((unsigned) (a) << 5) ^ (unsigned) (b))    \
                                & (POSTHOG_UA_PAIRS - 1))

typedef struct {
    const unsigned char  *s;
    size_t                len;
    int                   folded;
    unsigned char         lc[1024];
    unsigned char         seen[POSTHOG_UA_PAIRS / 8];
} posthog_ua_fold_t;


static void posthog_ua_verdict(posthog_ua_t *ua, const unsigned char *s,
    size_t len);
static void posthog_ua_fold(posthog_ua_fold_t *f, const unsigned char *s,
    size_t len);
static int posthog_ua_any(posthog_ua_fold_t *f, const char **needles,
    size_t n);
static int posthog_ua_is_client(posthog_ua_fold_t *f);
static void posthog_ua_fields(posthog_ua_t *ua, const unsigned char *s,
    size_t len, posthog_ua_exec_pt exec, void *data);
static unsigned char *posthog_ua_json_member(unsigned char *p,
    const char **first, const char *key, const unsigned char *v, size_t n,
    int how);
static int posthog_ua_has(const unsigned char *s, size_t len,
    const char *needle);
static int posthog_ua_has_lc(const unsigned char *s, size_t len,
    const char *needle);
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
    posthog_ua_verdict(ua, s, len);
    posthog_ua_fields(ua, s, len, exec, data);
}


/* zeroes "ua" and sets bot and client, with one fold for both lists */

static void
posthog_ua_verdict(posthog_ua_t *ua, const unsigned char *s, size_t len)
{
    posthog_ua_fold_t  f;

    memset(ua, 0, sizeof(posthog_ua_t));

    posthog_ua_fold(&f, s, len);

    ua->bot = posthog_ua_any(&f, posthog_ua_blocked_strs,
                             posthog_ua_blocked_strs_n);
    ua->client = posthog_ua_is_client(&f);
}


static void
posthog_ua_fields(posthog_ua_t *ua, const unsigned char *s, size_t len,
    posthog_ua_exec_pt exec, void *data)
{
    posthog_ua_browser(ua, s, len, exec, data);
    posthog_ua_os(ua, s, len, exec, data);
    posthog_ua_device(ua, s, len, exec, data);
}


void
posthog_ua_check(posthog_ua_entry_t *e, const unsigned char *s, size_t len)
{
    posthog_ua_verdict(&e->ua, s, len);

    e->parsed = 0;
    e->json_key = NULL;
    e->json_len = 0;
}


int
posthog_ua_complete(posthog_ua_entry_t *e, const unsigned char *s,
    size_t len, posthog_ua_exec_pt exec, void *data)
{
    if (!e->parsed) {
        posthog_ua_fields(&e->ua, s, len, exec, data);
        e->json_len = posthog_ua_json(e->json, &e->ua, &e->json_key);
        e->parsed = 1;
    }

    return e->ua.errors ? -1 : 0;
}


/* how a value of posthog_ua_json_member() is written */
#define POSTHOG_UA_JSON_NAME    0     /* a name of the rules: as is */
#define POSTHOG_UA_JSON_STRING  1     /* from the UA: escaped */
#define POSTHOG_UA_JSON_RAW     2     /* JSON already */

size_t
posthog_ua_json(unsigned char *out, const posthog_ua_t *ua,
    const char **key)
{
    unsigned char  *p;

    p = out;
    *key = NULL;

    /* the order of posthog-js's properties; empty ones are left out */

    if (ua->os[0]) {
        p = posthog_ua_json_member(p, key, "$os",
                                   (const unsigned char *) ua->os,
                                   strlen(ua->os), POSTHOG_UA_JSON_NAME);
    }

    if (ua->os_version_len) {
        p = posthog_ua_json_member(p, key, "$os_version",
                                   (const unsigned char *) ua->os_version,
                                   ua->os_version_len,
                                   POSTHOG_UA_JSON_STRING);
    }

    if (ua->browser[0]) {
        p = posthog_ua_json_member(p, key, "$browser",
                                   (const unsigned char *) ua->browser,
                                   strlen(ua->browser), POSTHOG_UA_JSON_NAME);
    }

    if (ua->device[0]) {
        p = posthog_ua_json_member(p, key, "$device",
                                   (const unsigned char *) ua->device,
                                   strlen(ua->device), POSTHOG_UA_JSON_NAME);
    }

    p = posthog_ua_json_member(p, key, "$device_type",
                               (const unsigned char *) ua->device_type,
                               strlen(ua->device_type), POSTHOG_UA_JSON_NAME);

    /* a number, or null as posthog-js sends it */

    if (ua->browser_version_len) {
        p = posthog_ua_json_member(p, key, "$browser_version",
                                   (const unsigned char *) ua->browser_version,
                                   ua->browser_version_len,
                                   POSTHOG_UA_JSON_RAW);

    } else {
        p = posthog_ua_json_member(p, key, "$browser_version",
                                   (const unsigned char *) "null", 4,
                                   POSTHOG_UA_JSON_RAW);
    }

    return p - out;
}


/* ,"key":value; the first member without its key: "*first" is set */

static unsigned char *
posthog_ua_json_member(unsigned char *p, const char **first, const char *key,
    const unsigned char *v, size_t n, int how)
{
    size_t  k;

    if (*first == NULL) {
        *first = key;

    } else {
        k = strlen(key);

        *p++ = ',';
        *p++ = '"';
        memcpy(p, key, k);
        p += k;
        *p++ = '"';
        *p++ = ':';
    }

    switch (how) {

    case POSTHOG_UA_JSON_STRING:
        *p++ = '"';
        p = posthog_json_escape(p, v, n, (size_t) -1);
        *p++ = '"';
        break;

    case POSTHOG_UA_JSON_RAW:
        n = n < POSTHOG_UA_NUMBER_MAX ? n : POSTHOG_UA_NUMBER_MAX;
        memcpy(p, v, n);
        p += n;
        break;

    default: /* POSTHOG_UA_JSON_NAME */
        n = n < POSTHOG_UA_NAME_MAX ? n : POSTHOG_UA_NAME_MAX;
        *p++ = '"';
        memcpy(p, v, n);
        p += n;
        *p++ = '"';
    }

    return p;
}


static void
posthog_ua_fold(posthog_ua_fold_t *f, const unsigned char *s, size_t len)
{
    size_t    i;
    unsigned  pair;

    f->s = s;
    f->len = len;
    f->folded = (len <= sizeof(f->lc));

    if (!f->folded) {
        return;
    }

    memset(f->seen, 0, sizeof(f->seen));

    for (i = 0; i < len; i++) {
        f->lc[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (s[i] | 0x20) : s[i];

        if (i) {
            pair = posthog_ua_pair(f->lc[i - 1], f->lc[i]);
            f->seen[pair >> 3] |= 1 << (pair & 7);
        }
    }
}


/* any of the lower-case "needles" in the string, case-insensitively */

static int
posthog_ua_any(posthog_ua_fold_t *f, const char **needles, size_t n)
{
    size_t                i, k;
    unsigned              pair;
    const unsigned char  *nd;

    if (!f->folded) {
        for (i = 0; i < n; i++) {
            if (posthog_ua_has_lc(f->s, f->len, needles[i])) {
                return 1;
            }
        }

        return 0;
    }

    for (i = 0; i < n; i++) {
        nd = (const unsigned char *) needles[i];

        for (k = 1; nd[k]; k++) {
            pair = posthog_ua_pair(nd[k - 1], nd[k]);

            if (!(f->seen[pair >> 3] & (1 << (pair & 7)))) {
                break;
            }
        }

        if (nd[k] == '\0' && posthog_ua_has(f->lc, f->len, needles[i])) {
            return 1;
        }
    }

    return 0;
}


int
posthog_ua_blocked(const unsigned char *s, size_t len)
{
    posthog_ua_fold_t  f;

    posthog_ua_fold(&f, s, len);

    return posthog_ua_any(&f, posthog_ua_blocked_strs,
                          posthog_ua_blocked_strs_n);
}


int
posthog_ua_client(const unsigned char *s, size_t len)
{
    posthog_ua_fold_t  f;

    posthog_ua_fold(&f, s, len);

    return posthog_ua_is_client(&f);
}


static int
posthog_ua_is_client(posthog_ua_fold_t *f)
{
    if (!(f->len >= 8 && memcmp(f->s, "Mozilla/", 8) == 0)
        && !(f->len >= 6 && memcmp(f->s, "Opera/", 6) == 0))
    {
        return 1;
    }

    return posthog_ua_any(f, posthog_ua_client_strs,
                          posthog_ua_client_strs_n);
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

    for (i = 0; i < posthog_ua_browsers_n; i++) {
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

    for (i = 0; i < posthog_ua_versions_n; i++) {
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

    for (i = 0; i < posthog_ua_oses_n; i++) {
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

            for (k = 0; k < posthog_ua_windows_n; k++) {
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

    for (i = 0; i < posthog_ua_devices_n; i++) {
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

    for (i = 0; i < posthog_ua_device_types_n; i++) {
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


/*
 * 8 bytes at a time: a multiply and a rotation per word, the tail read as
 * the last 8 bytes (they overlap the words before), then mixed.  Not for
 * an adversary: a collision costs a compare and a miss, never a wrong hit.
 */

#define POSTHOG_UA_K1  0x9e3779b97f4a7c15ULL
#define POSTHOG_UA_K2  0xff51afd7ed558ccdULL

uint32_t
posthog_ua_hash(const unsigned char *s, size_t len)
{
    size_t    i;
    uint64_t  h, w;

    h = (uint64_t) len * POSTHOG_UA_K1;

    if (len < 8) {
        w = 0;

        for (i = 0; i < len; i++) {
            w = w << 8 | s[i];
        }

        h = (h ^ w) * POSTHOG_UA_K2;

    } else {
        for (i = 0; i + 8 <= len; i += 8) {
            memcpy(&w, s + i, 8);
            h = (h ^ w) * POSTHOG_UA_K2;
            h = h << 31 | h >> 33;
        }

        if (i < len) {
            memcpy(&w, s + len - 8, 8);
            h = (h ^ w) * POSTHOG_UA_K2;
        }
    }

    h ^= h >> 33;
    h *= POSTHOG_UA_K1;
    h ^= h >> 29;

    return (uint32_t) h;
}


posthog_ua_slot_t *
posthog_ua_find(posthog_ua_cache_t *cache, const unsigned char *s,
    size_t len)
{
    uint32_t            h;
    posthog_ua_slot_t  *slot;

    if (cache == NULL || cache->n == 0 || len == 0
        || len > POSTHOG_UA_CACHE_KEY_MAX)
    {
        return NULL;
    }

    h = posthog_ua_hash(s, len);
    slot = &cache->slot[h % cache->n];

    if (slot->len == len && slot->hash == h
        && memcmp(slot->key, s, len) == 0)
    {
        cache->hits++;
        return slot;
    }

    cache->misses++;

    slot->hash = h;
    slot->len = (uint32_t) len;
    slot->stamp++;
    memcpy(slot->key, s, len);

    posthog_ua_check(&slot->e, s, len);

    return slot;
}


void
posthog_ua_release(posthog_ua_slot_t *slot)
{
    slot->len = 0;
    slot->stamp++;
}


const posthog_ua_entry_t *
posthog_ua_get(posthog_ua_cache_t *cache, posthog_ua_entry_t *tmp,
    const unsigned char *s, size_t len, posthog_ua_exec_pt exec, void *data)
{
    posthog_ua_slot_t  *slot;

    slot = posthog_ua_find(cache, s, len);

    if (slot == NULL) {
        posthog_ua_check(tmp, s, len);
        (void) posthog_ua_complete(tmp, s, len, exec, data);
        return tmp;
    }

    /* a result a failed pattern made is not kept: the next try may work */

    if (posthog_ua_complete(&slot->e, s, len, exec, data) != 0) {
        *tmp = slot->e;
        posthog_ua_release(slot);
        return tmp;
    }

    return &slot->e;
}
