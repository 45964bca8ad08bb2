/*
 * Strict UTF-8 decoding.
 */

#include <string.h>

#include "posthog_utf8.h"


#define POSTHOG_UTF8_ONES   0x0101010101010101ULL
#define POSTHOG_UTF8_HIGH   0x8080808080808080ULL


/*
 * Word at a time: the high bit of some byte is set in these iff one of
 * the 8 bytes is not ASCII (>= 0x80), or not printable ASCII (< 0x20,
 * 0x7f).  With every byte below 0x80 nothing carries over from one byte
 * to the next before the first one out of range: no false negative.
 */

#define posthog_utf8_not_ascii(w)  ((w) & POSTHOG_UTF8_HIGH)
#define posthog_utf8_not_printable(w)                                        \
    (((((w) - 0x20 * POSTHOG_UTF8_ONES) & ~(w)) | (w)                        \
      | ((w) + POSTHOG_UTF8_ONES)) & POSTHOG_UTF8_HIGH)


static uint64_t
posthog_utf8_word(const unsigned char *p)
{
    uint64_t  w;

    memcpy(&w, p, sizeof(uint64_t));

    return w;
}


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

    /* the common case: ASCII, 8 bytes at a time */

    for (i = 0; i + 8 <= len; i += 8) {
        if (posthog_utf8_not_ascii(posthog_utf8_word(p + i))) {
            break;
        }
    }

    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }

        i += posthog_utf8_next(p + i, len - i, &cp);

        if (cp == POSTHOG_UTF8_BAD) {
            return 0;
        }
    }

    return 1;
}


size_t
posthog_utf8_printable(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i + 8 <= len; i += 8) {
        if (posthog_utf8_not_printable(posthog_utf8_word(p + i))) {
            goto bytes;
        }
    }

    /* the last bytes: the word that ends with them, over checked ones */

    if (i < len && len >= 8
        && !posthog_utf8_not_printable(posthog_utf8_word(p + len - 8)))
    {
        return len;
    }

bytes:

    while (i < len && p[i] >= 0x20 && p[i] < 0x7f) {
        i++;
    }

    return i;
}


int
posthog_utf8_text_valid(const unsigned char *p, size_t len)
{
    size_t    i;
    uint32_t  cp;

    /* the common case: printable ASCII, 8 bytes at a time */

    i = posthog_utf8_printable(p, len);

    while (i < len) {
        if (p[i] >= 0x20 && p[i] < 0x7f) {
            i++;
            continue;
        }

        if (p[i] < 0x80) {
            return 0;
        }

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
