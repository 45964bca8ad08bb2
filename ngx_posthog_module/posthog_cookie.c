/*
 * Cookie header scanning, RFC 6265 section 4.2 and 5.4, tolerant the
 * way browsers and nginx are: only the named cookie matters to us.
 */

#include "posthog_cookie.h"


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


int
posthog_cookie_find(const unsigned char *hdr, size_t len,
    const unsigned char *name, size_t nlen, const unsigned char **value,
    size_t *vlen)
{
    int                   n;
    size_t                i;
    const unsigned char  *p, *end, *k, *v, *ve;

    n = 0;
    p = hdr;
    end = hdr + len;

    while (p < end) {

        while (p < end && (posthog_cookie_ws(*p) || posthog_cookie_sep(*p))) {
            p++;
        }

        k = p;

        while (p < end && *p != '=' && !posthog_cookie_sep(*p)) {
            p++;
        }

        if (p == end || *p != '=') {
            /* a pair without '=' is not our cookie */
            continue;
        }

        /* the name, without trailing whitespace */

        for (i = (size_t) (p - k); i && posthog_cookie_ws(k[i - 1]); i--) {
            /* void */
        }

        p++;

        while (p < end && posthog_cookie_ws(*p)) {
            p++;
        }

        v = p;

        while (p < end && !posthog_cookie_sep(*p)) {
            p++;
        }

        ve = p;

        while (ve > v && posthog_cookie_ws(ve[-1])) {
            ve--;
        }

        if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }

        if (i == nlen) {
            for (i = 0; i < nlen && k[i] == name[i]; i++) {
                /* void */
            }

            if (i == nlen) {
                if (n++ == 0) {
                    *value = v;
                    *vlen = (size_t) (ve - v);
                }
            }
        }
    }

    return n;
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
