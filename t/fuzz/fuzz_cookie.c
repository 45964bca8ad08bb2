/*
 * libFuzzer target for posthog_cookie_find(): the value found lies inside
 * the header, holds no separator, and the count is consistent.  The input
 * is "name\0header".
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posthog_cookie.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   n;
    size_t                nlen, vlen, i;
    const uint8_t        *zero, *hdr;
    const unsigned char  *v;

    zero = memchr(data, 0, size);
    if (zero == NULL) {
        return 0;
    }

    nlen = (size_t) (zero - data);
    hdr = zero + 1;

    v = NULL;
    vlen = 0;

    n = posthog_cookie_find(hdr, size - nlen - 1, data, nlen, &v, &vlen);

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
