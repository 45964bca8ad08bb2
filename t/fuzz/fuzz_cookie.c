/*
 * libFuzzer target for posthog_cookie_find(): the value found lies inside
 * the header, holds no separator, and the count and the first value are
 * those of the byte-at-a-time reference scanner below (the first
 * version's, kept as the rules' reference).  The input is "name\0header".
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posthog_cookie.h"


#define ws(c)   ((c) == ' ' || (c) == '\t')
#define sep(c)  ((c) == ';' || (c) == ',')


static int
ref_find(const unsigned char *hdr, size_t len, const unsigned char *name,
    size_t nlen, const unsigned char **value, size_t *vlen)
{
    int                   n;
    size_t                i;
    const unsigned char  *p, *end, *k, *v, *ve;

    n = 0;
    p = hdr;
    end = hdr + len;

    while (p < end) {

        while (p < end && (ws(*p) || sep(*p))) {
            p++;
        }

        k = p;

        while (p < end && *p != '=' && !sep(*p)) {
            p++;
        }

        if (p == end || *p != '=') {
            continue;
        }

        for (i = (size_t) (p - k); i && ws(k[i - 1]); i--) {
            /* void */
        }

        p++;

        while (p < end && ws(*p)) {
            p++;
        }

        v = p;

        while (p < end && !sep(*p)) {
            p++;
        }

        ve = p;

        while (ve > v && ws(ve[-1])) {
            ve--;
        }

        if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }

        if (i == nlen && memcmp(k, name, nlen) == 0 && n++ == 0) {
            *value = v;
            *vlen = (size_t) (ve - v);
        }
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   n;
    size_t                nlen, vlen, rvlen, i;
    const uint8_t        *zero, *hdr;
    const unsigned char  *v, *rv;

    zero = memchr(data, 0, size);
    if (zero == NULL) {
        return 0;
    }

    nlen = (size_t) (zero - data);
    hdr = zero + 1;

    v = NULL;
    vlen = 0;

    n = posthog_cookie_find(hdr, size - nlen - 1, data, nlen, &v, &vlen);

    rv = NULL;
    rvlen = 0;

    if (ref_find(hdr, size - nlen - 1, data, nlen, &rv, &rvlen) != n
        || rv != v || rvlen != vlen)
    {
        abort();
    }

    if (n < 0 || (size_t) n > size) {
        abort();
    }

    if (n == 0) {
        if (v != NULL) {
            abort();
        }

        return 0;
    }

    if (v < hdr || v + vlen > hdr + (size - nlen - 1)) {
        abort();
    }

    for (i = 0; i < vlen; i++) {
        if (v[i] == ';' || v[i] == ',') {
            abort();
        }
    }

    (void) posthog_cookie_value_valid(v, vlen);
    (void) posthog_cookie_name_valid(data, nlen);

    return 0;
}
