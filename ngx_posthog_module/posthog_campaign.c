/*
 * Campaign parameters and the browser language (see posthog_campaign.h).
 */

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "posthog_campaign.h"
#include "posthog_utf8.h"


const char  *posthog_campaign_params[] = {
    "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
    "gad_source", "mc_cid",
    /* PERSONAL_DATA_CAMPAIGN_PARAMS: the click ids */
    "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "fbclid", "msclkid",
    "twclid", "li_fat_id", "igshid", "ttclid", "rdt_cid", "epik", "qclid",
    "sccid", "irclid", "_kx",
};

const size_t  posthog_campaign_nparams =
    sizeof(posthog_campaign_params) / sizeof(posthog_campaign_params[0]);

typedef char posthog_campaign_n_ok[
    sizeof(posthog_campaign_params) / sizeof(posthog_campaign_params[0])
    == POSTHOG_CAMPAIGN_NPARAMS ? 1 : -1];


/* the names by length, made at the first call: a key is compared with few */

#define POSTHOG_CAMPAIGN_KEY_MAX  12

static unsigned char  posthog_campaign_by_len[POSTHOG_CAMPAIGN_KEY_MAX + 1]
                                            [POSTHOG_CAMPAIGN_NPARAMS];
static unsigned char  posthog_campaign_nlen[POSTHOG_CAMPAIGN_KEY_MAX + 1];
static int            posthog_campaign_ready;


static void
posthog_campaign_init(void)
{
    size_t  i, n;

    for (i = 0; i < POSTHOG_CAMPAIGN_NPARAMS; i++) {
        n = strlen(posthog_campaign_params[i]);

        if (n <= POSTHOG_CAMPAIGN_KEY_MAX) {
            posthog_campaign_by_len[n][posthog_campaign_nlen[n]++] =
                (unsigned char) i;
        }
    }

    posthog_campaign_ready = 1;
}


const unsigned char *
posthog_query_param(const unsigned char *url, size_t len, const char *name,
    size_t *vlen)
{
    size_t                n;
    const unsigned char  *p, *end, *part, *eq, *v;

    end = memchr(url, '#', len);
    if (end == NULL) {
        end = url + len;
    }

    p = memchr(url, '?', end - url);
    if (p == NULL) {
        return NULL;
    }

    while (p < end && *p == '?') {
        p++;
    }

    n = strlen(name);

    while (p <= end) {
        part = p;

        while (p < end && *p != '&') {
            p++;
        }

        /* [part, p) is one "key=value=..." */

        eq = memchr(part, '=', p - part);

        if (eq && (size_t) (eq - part) == n && memcmp(part, name, n) == 0) {
            v = eq + 1;
            eq = memchr(v, '=', p - v);
            *vlen = (eq ? eq : p) - v;
            return v;
        }

        p++;
    }

    return NULL;
}


size_t
posthog_campaign_find(const unsigned char *url, size_t len,
    const unsigned char *v[POSTHOG_CAMPAIGN_NPARAMS],
    size_t vlen[POSTHOG_CAMPAIGN_NPARAMS])
{
    size_t                i, j, k, found;
    const unsigned char  *p, *end, *part, *q, *ve;

    if (!posthog_campaign_ready) {
        posthog_campaign_init();
    }

    for (i = 0; i < POSTHOG_CAMPAIGN_NPARAMS; i++) {
        v[i] = NULL;
    }

    /* the query as posthog_query_param() sees it */

    end = memchr(url, '#', len);
    if (end == NULL) {
        end = url + len;
    }

    p = memchr(url, '?', end - url);
    if (p == NULL) {
        return 0;
    }

    while (p < end && *p == '?') {
        p++;
    }

    found = 0;

    while (p <= end) {

        /* "key=value=...&": the key, then the rest of the part */

        part = p;

        for (q = p; q < end && *q != '&' && *q != '='; q++) {
            /* void */
        }

        p = (q < end && *q == '=') ? memchr(q, '&', end - q) : q;

        if (p == NULL) {
            p = end;
        }

        k = q - part;

        if (q == p || k > POSTHOG_CAMPAIGN_KEY_MAX) {
            p++;                                   /* no '=', or too long */
            continue;
        }

        for (j = 0; j < posthog_campaign_nlen[k]; j++) {
            i = posthog_campaign_by_len[k][j];

            if (posthog_campaign_params[i][0] != part[0]
                || memcmp(part, posthog_campaign_params[i], k) != 0)
            {
                continue;
            }

            /* the first of a name wins */

            if (v[i] == NULL) {
                ve = memchr(q + 1, '=', p - (q + 1));
                v[i] = q + 1;
                vlen[i] = (ve ? ve : p) - v[i];
                found++;
            }

            break;
        }

        p++;
    }

    return found;
}


static int
posthog_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


size_t
posthog_campaign_decode(unsigned char *out, const unsigned char *v,
    size_t len)
{
    int      hi, lo;
    size_t   i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (v[i] != '%') {
            out[n++] = v[i];
            continue;
        }

        if (i + 2 >= len) {
            goto raw;
        }

        hi = posthog_hex(v[i + 1]);
        lo = posthog_hex(v[i + 2]);

        if (hi < 0 || lo < 0) {
            goto raw;
        }

        out[n++] = (unsigned char) (hi << 4 | lo);
        i += 2;
    }

    /* decodeURIComponent throws on %-escapes that are not UTF-8 */

    if (!posthog_utf8_valid(out, n)) {
        goto raw;
    }

    goto plus;

raw:

    memcpy(out, v, len);
    n = len;

plus:

    for (i = 0; i < n; i++) {
        if (out[i] == '+') {
            out[i] = ' ';
        }
    }

    return n;
}


/* the bytes of a language tag: 1, and '-': 2 (0x80 and up: 0) */

static const unsigned char  posthog_language_char[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0,   /* '-' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,   /* 0-9 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* A-Z */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,   /* A-Z, '_' */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* a-z */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,   /* a-z */
};


size_t
posthog_language(const unsigned char *h, size_t len,
    const unsigned char **tag, size_t *prefix)
{
    size_t                n;
    unsigned              c;
    const unsigned char  *p, *end, *t, *dash;

    p = h;
    end = h + len;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    t = p;
    dash = NULL;

    /* one look-up a byte, the first '-' on the way */

    while (p < end && (c = posthog_language_char[*p]) != 0) {
        if (c == 2 && dash == NULL) {
            dash = p;
        }

        p++;
    }

    n = p - t;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (n == 0 || n > 35 || (p < end && *p != ',' && *p != ';')) {
        return 0;
    }

    *tag = t;
    *prefix = dash ? (size_t) (dash - t) : n;

    return n;
}


int
posthog_url_split(const unsigned char *url, size_t len, posthog_url_t *u,
    int path)
{
    int                   scheme;
    const unsigned char  *p, *q, *end;

    end = url + len;
    p = url;
    scheme = 1;

    /* the usual schemes without a loop, else the first "://" */

    if (len >= 8 && memcmp(url, "https://", 8) == 0) {
        p += 8;

    } else if (len >= 7 && memcmp(url, "http://", 7) == 0) {
        p += 7;

    } else {
        for (q = url; end - q >= 3; q++) {
            if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
                break;
            }
        }

        if (end - q >= 3) {
            p = q + 3;

        } else {
            scheme = 0;
        }
    }

    q = posthog_url_host_end(p, end, &u->host);

    u->host_len = q - u->host;

    if (path) {
        u->path = q;
        u->path_len = posthog_url_path_end(q, end) - q;
    }

    return scheme;
}


const unsigned char *
posthog_url_host(const unsigned char *url, size_t len, size_t *hlen,
    const unsigned char **path, size_t *plen)
{
    posthog_url_t  u;

    if (!posthog_url_split(url, len, &u, 1)) {
        return NULL;
    }

    *hlen = u.host_len;
    *path = u.path;
    *plen = u.path_len;

    return u.host;
}


/*
 * 16 bytes at a time with SSE2: the referrer is split on every request.
 * The tail, and without SSE2 all of it, byte by byte.
 */

const unsigned char *
posthog_url_host_end(const unsigned char *p, const unsigned char *end,
    const unsigned char **host)
{
#if defined(__SSE2__)
    unsigned  stop, at;
    __m128i   x;
#endif

    *host = p;

#if defined(__SSE2__)
    while (end - p >= 16) {
        x = _mm_loadu_si128((const __m128i *) p);

        stop = (unsigned) _mm_movemask_epi8(
                   _mm_or_si128(_mm_or_si128(
                                    _mm_cmpeq_epi8(x, _mm_set1_epi8('/')),
                                    _mm_cmpeq_epi8(x, _mm_set1_epi8('?'))),
                                _mm_cmpeq_epi8(x, _mm_set1_epi8('#'))));
        at = (unsigned) _mm_movemask_epi8(
                 _mm_cmpeq_epi8(x, _mm_set1_epi8('@')));

        if (stop) {
            /* the '@'s before the stop only */
            at &= (1u << __builtin_ctz(stop)) - 1;
        }

        if (at) {
            *host = p + (31 - __builtin_clz(at)) + 1;
        }

        if (stop) {
            return p + __builtin_ctz(stop);
        }

        p += 16;
    }
#endif

    for ( /* void */ ; p < end && *p != '/' && *p != '?' && *p != '#'; p++) {
        if (*p == '@') {
            *host = p + 1;
        }
    }

    return p;
}


const unsigned char *
posthog_url_path_end(const unsigned char *p, const unsigned char *end)
{
#if defined(__SSE2__)
    unsigned  stop;
    __m128i   x;

    while (end - p >= 16) {
        x = _mm_loadu_si128((const __m128i *) p);

        stop = (unsigned) _mm_movemask_epi8(
                   _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('?')),
                                _mm_cmpeq_epi8(x, _mm_set1_epi8('#'))));

        if (stop) {
            return p + __builtin_ctz(stop);
        }

        p += 16;
    }
#endif

    while (p < end && *p != '?' && *p != '#') {
        p++;
    }

    return p;
}


/* "word" followed by any one byte, then "tail" (a regex's "word.tail") */

static int
posthog_has_word(const unsigned char *p, size_t len, const char *word,
    const char *tail)
{
    size_t  i, w, t;

    w = strlen(word);
    t = strlen(tail);

    for (i = 0; i + w + 1 + t <= len; i++) {
        if (memcmp(p + i, word, w) == 0
            && memcmp(p + i + w + 1, tail, t) == 0)
        {
            return 1;
        }
    }

    return 0;
}


const char *
posthog_search_engine(const unsigned char *ref, size_t len,
    const char **param)
{
    size_t  s;

    /* 'https?://(.*)' + 'google.([^/?]*)' etc., matched at the start */

    if (len >= 7 && memcmp(ref, "http://", 7) == 0) {
        s = 7;

    } else if (len >= 8 && memcmp(ref, "https://", 8) == 0) {
        s = 8;

    } else {
        return NULL;
    }

    ref += s;
    len -= s;

    *param = "q";

    if (posthog_has_word(ref, len, "google", "")) {
        return "google";
    }

    if (posthog_has_word(ref, len, "bing", "com")) {
        return "bing";
    }

    if (posthog_has_word(ref, len, "yahoo", "com")) {
        *param = "p";
        return "yahoo";
    }

    if (posthog_has_word(ref, len, "duckduckgo", "com")) {
        return "duckduckgo";
    }

    return NULL;
}
