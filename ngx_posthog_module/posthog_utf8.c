/*
 * Strict UTF-8 decoding.
 */

#include "posthog_utf8.h"


size_t
posthog_utf8_next(const unsigned char *p, size_t len, uint32_t *cp)
{
    size_t         i, n;
    uint32_t       c;
    unsigned char  lo, hi;

    c = p[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        c &= 0x0f;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        c &= 0x07;

    } else {
        /* a continuation byte, C0/C1 (always overlong) or F5..FF */
        *cp = POSTHOG_UTF8_BAD;
        return 1;
    }

    /*
     * The second byte's range is what excludes overlongs (E0, F0),
     * surrogates (ED) and code points above U+10FFFF (F4): a second byte
     * out of range makes the lead byte alone the maximal subpart.
     */

    lo = 0x80;
    hi = 0xbf;

    switch (p[0]) {
    case 0xe0:
        lo = 0xa0;
        break;
    case 0xed:
        hi = 0x9f;
        break;
    case 0xf0:
        lo = 0x90;
        break;
    case 0xf4:
        hi = 0x8f;
        break;
    }

    for (i = 1; i < n; i++) {
        if (i == len || p[i] < lo || p[i] > hi) {
            *cp = POSTHOG_UTF8_BAD;
            return i;
        }

        c = (c << 6) | (p[i] & 0x3f);
        lo = 0x80;
        hi = 0xbf;
    }

    *cp = c;
    return n;
}


int
posthog_utf8_valid(const unsigned char *p, size_t len)
{
    size_t    i;
    uint32_t  cp;

    for (i = 0; i < len; /* void */) {
        i += posthog_utf8_next(p + i, len - i, &cp);

        if (cp == POSTHOG_UTF8_BAD) {
            return 0;
        }
    }

    return 1;
}


size_t
posthog_utf8_cut(const unsigned char *p, size_t len, size_t max)
{
    size_t  i;

    if (len <= max) {
        return len;
    }

    /* step back over continuation bytes to the start of a character */

    i = max;

    while (i > 0 && (p[i] & 0xc0) == 0x80) {
        i--;
    }

    return i;
}
