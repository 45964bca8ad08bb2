/*
 * Cookie header scanning, RFC 6265 section 4.2 and 5.4, tolerant the
 * way browsers and nginx are: only the named cookie matters to us.
 */

#include <string.h>

#include "posthog_cookie.h"


/* '=' and the separators */

static const unsigned char  posthog_cookie_not_in_name[256] = {
    ['='] = 1, [';'] = 1, [','] = 1
};


static int
posthog_cookie_sep(unsigned char c)
{
    return c == ';' || c == ',';
}


static int
posthog_cookie_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}


/* the next ';' or ',' at or after "p", or "end" */

static const unsigned char *
posthog_cookie_next_sep(const unsigned char *p, const unsigned char *end)
{
    const unsigned char  *semi, *comma;

    semi = memchr(p, ';', (size_t) (end - p));

    if (semi == NULL) {
        semi = end;
    }

    comma = memchr(p, ',', (size_t) (semi - p));

    return comma ? comma : semi;
}


/*
 * Pairs start after a separator (or the header's start) and whitespace.
 * A pair is ours if its name, up to '=' and without trailing whitespace,
 * is "name"; whatever it is, the next pair starts after the next
 * separator, so a pair that is not ours is skipped with memchr().
 */

int
posthog_cookie_find(const unsigned char *hdr, size_t len,
    const unsigned char *name, size_t nlen, const unsigned char **value,
    size_t *vlen)
{
    int                   n;
    size_t                i;
    const unsigned char  *p, *q, *end, *v, *ve;

    /* no pair has a name with '=', a separator or trailing whitespace */

    for (i = 0; i < nlen; i++) {
        if (posthog_cookie_not_in_name[name[i]]) {
            return 0;
        }
    }

    if (nlen && posthog_cookie_ws(name[nlen - 1])) {
        return 0;
    }

    n = 0;
    p = hdr;
    end = hdr + len;

    for ( ;; ) {

        while (p < end && (posthog_cookie_ws(*p) || posthog_cookie_sep(*p))) {
            p++;
        }

        if (p == end) {
            return n;
        }

        /* ours: "name", whitespace, '=' */

        if ((size_t) (end - p) < nlen || memcmp(p, name, nlen) != 0) {
            p = posthog_cookie_next_sep(p, end);
            continue;
        }

        q = p + nlen;

        while (q < end && posthog_cookie_ws(*q)) {
            q++;
        }

        if (q == end || *q != '=') {
            p = posthog_cookie_next_sep(p, end);
            continue;
        }

        for (q++; q < end && posthog_cookie_ws(*q); q++) {
            /* void */
        }

        v = q;
        p = posthog_cookie_next_sep(q, end);
        ve = p;

        while (ve > v && posthog_cookie_ws(ve[-1])) {
            ve--;
        }

        if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }

        if (n++ == 0) {
            *value = v;
            *vlen = (size_t) (ve - v);
        }
    }
}


int
posthog_cookie_value_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    /* cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */

    for (i = 0; i < len; i++) {
        if (p[i] < 0x21 || p[i] > 0x7e || p[i] == '"' || p[i] == ','
            || p[i] == ';' || p[i] == '\\')
        {
            return 0;
        }
    }

    return 1;
}


int
posthog_cookie_name_valid(const unsigned char *p, size_t len)
{
    size_t          i;
    unsigned char   c;
    static const char  *separators = "()<>@,;:\\\"/[]?={}";
    const char     *s;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c <= 0x20 || c >= 0x7f) {
            return 0;
        }

        for (s = separators; *s; s++) {
            if (c == (unsigned char) *s) {
                return 0;
            }
        }
    }

    return 1;
}
