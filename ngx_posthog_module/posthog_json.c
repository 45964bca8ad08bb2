/*
 * JSON string escaping, and the check of a number.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "posthog_json.h"
#include "posthog_utf8.h"


#if defined(__GNUC__)
/* out of line: inlined, it makes the fast path save every register */
__attribute__((noinline))
#endif
static unsigned char *posthog_json_escape_units(unsigned char *dst,
    const unsigned char *p, size_t len, size_t max);
static unsigned char *posthog_json_unit(unsigned char *dst,
    const unsigned char *p, size_t n, uint32_t cp);


static const char  posthog_json_hex[] = "0123456789abcdef";

/*
 * The output length of a byte below 0x80, which is always a unit of its
 * own: 1 copied as is, 2 a two-character escape, 6 as \u00XX.  Bytes from
 * 0x80 on are 0: they start a multi-byte or an invalid unit and go
 * through the UTF-8 decoder.  Most input is printable ASCII, so the
 * common case is one table look-up per byte.
 */

static const unsigned char  posthog_json_width[256] = {
    6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 6, 2, 2, 6, 6,   /* \b \t \n \f \r */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1,   /* '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6    /* DEL */
    /* 0x80 .. 0xff: 0 */
};


/*
 * Whether any of the 8 bytes at "p" is one posthog_json_width[] does not
 * give 1: below 0x20, '"', '\\', or 0x7F and up.  Exact for "any" (a
 * borrow or a carry between bytes only ever starts at such a byte), which
 * is all the callers need: they find the byte one at a time.  The test
 * of a word of printable ASCII is a dozen instructions instead of eight
 * table look-ups and branches.
 */

#define POSTHOG_JSON_ONES  0x0101010101010101ULL
#define POSTHOG_JSON_HIGH  0x8080808080808080ULL

static inline uint64_t
posthog_json_word_special(const unsigned char *p)
{
    uint64_t  w, q, b;

    memcpy(&w, p, 8);

    q = w ^ (POSTHOG_JSON_ONES * '"');
    b = w ^ (POSTHOG_JSON_ONES * '\\');

    return (w                                  /* 0x80 and up */
            | (w + POSTHOG_JSON_ONES)          /* 0x7F */
            | (w - POSTHOG_JSON_ONES * 0x20)   /* below 0x20 */
            | (q - POSTHOG_JSON_ONES)          /* '"' */
            | (b - POSTHOG_JSON_ONES))         /* '\\' */
           & POSTHOG_JSON_HIGH;
}


/* the output length of one unit of "n" input bytes */

static size_t
posthog_json_unit_len(uint32_t cp, size_t n)
{
    if (cp == POSTHOG_UTF8_BAD) {
        return 3;
    }

    if (cp < 0x80) {
        return posthog_json_width[cp];
    }

    return (cp == 0x2028 || cp == 0x2029) ? 6 : n;
}


/*
 * The units are cut at lim = min(len, max), but decoded with all "len"
 * bytes in view: a sequence that "max" truncates is left out whole, not
 * written as an invalid subpart.  A byte below 0x80 is a unit of one
 * byte, so it always fits when i < lim.
 */

size_t
posthog_json_escape_len(const unsigned char *p, size_t len, size_t max)
{
    size_t    i, n, lim, size, start;
    uint32_t  cp;

    lim = len < max ? len : max;
    size = 0;
    i = 0;

    while (i < lim) {

        /* a run of bytes copied as is, then one unit that is not */

        start = i;

        while (lim - i >= 8 && !posthog_json_word_special(p + i)) {
            i += 8;
        }

        /* a clean tail: its last 8 bytes, some seen already, are clean */

        if (i > start && i < lim && lim - i < 8
            && !posthog_json_word_special(p + lim - 8))
        {
            size += lim - start;
            break;
        }

        while (i < lim && posthog_json_width[p[i]] == 1) {
            i++;
        }

        size += i - start;

        if (i == lim) {
            break;
        }

        n = posthog_json_width[p[i]];

        if (n) {
            size += n;
            i++;
            continue;
        }

        n = posthog_utf8_next(p + i, len - i, &cp);

        if (n > lim - i) {
            break;
        }

        size += posthog_json_unit_len(cp, n);
        i += n;
    }

    return size;
}


size_t
posthog_json_escape_cut(const unsigned char *p, size_t len, size_t max)
{
    size_t    i, n;
    uint32_t  cp;

    for (i = 0; i < len; i += n) {
        n = posthog_utf8_next(p + i, len - i, &cp);

        if (n > max - i) {
            break;
        }
    }

    return i;
}


static unsigned char *
posthog_json_escape_units(unsigned char *dst, const unsigned char *p,
    size_t len, size_t max)
{
    size_t    i, n, lim, start;
    uint32_t  cp;

    lim = len < max ? len : max;
    i = 0;

    while (i < lim) {

        /*
         * A run of bytes copied as is, then one unit that is not: whole
         * words while they are clean, then byte by byte (at most the 7
         * before the unit, or the input's tail).
         */

        start = i;

        while (lim - i >= 8 && !posthog_json_word_special(p + i)) {
            memcpy(dst, p + i, 8);
            dst += 8;
            i += 8;
        }

        /*
         * A clean tail after a clean word: its last 8 bytes, written over
         * the word's copy of the same bytes.
         */

        if (i > start && i < lim && lim - i < 8
            && !posthog_json_word_special(p + lim - 8))
        {
            memcpy(dst + (lim - i) - 8, p + lim - 8, 8);
            dst += lim - i;
            break;
        }

        while (i < lim && posthog_json_width[p[i]] == 1) {
            *dst++ = p[i++];
        }

        if (i == lim) {
            break;
        }

        if (p[i] < 0x80) {
            n = 1;
            cp = p[i];

        } else {
            n = posthog_utf8_next(p + i, len - i, &cp);

            if (n > lim - i) {
                break;
            }
        }

        dst = posthog_json_unit(dst, p + i, n, cp);
        i += n;
    }

    return dst;
}


#if defined(__SSE2__)

/*
 * 16 bytes at a time where the compiler targets SSE2 (every x86-64): a
 * bit per byte that posthog_json_width[] does not give 1.  A signed
 * compare below 0x20 takes the bytes from 0x80 on too.
 */

static inline unsigned
posthog_json_special16(__m128i x)
{
    __m128i  s;

    s = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                                  _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f))),
                     _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                  _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));

    return (unsigned) _mm_movemask_epi8(s);
}


/*
 * The common case first, in a function that calls nothing else (few
 * registers to save): a string of printable ASCII, copied 16 bytes at a
 * time, its tail as the last 16 bytes over those copied already; a
 * shorter one as two overlapping halves of 8 or of 4 bytes.  Nothing is
 * read outside p[0..lim).  From the first byte that is not plain,
 * posthog_json_escape_units() goes on (every byte before it was a unit of
 * its own, so the rest is cut the same).
 */

unsigned char *
posthog_json_escape(unsigned char *dst, const unsigned char *p, size_t len,
    size_t max)
{
    size_t    i, n, lim;
    unsigned  mask;
    uint32_t  a, b;
    __m128i   x;

    lim = len < max ? len : max;

    if (lim >= 16) {
        i = 0;

        do {
            x = _mm_loadu_si128((const __m128i *) (p + i));
            mask = posthog_json_special16(x);

            if (mask) {
                /*
                 * Its plain bytes as the whole block, the rest written
                 * over by what follows (a unit's escape is never shorter
                 * than the unit) unless a cut ends the output inside it:
                 * then the units' function copies them.
                 */

                if (len <= max) {
                    _mm_storeu_si128((__m128i *) dst, x);
                    n = __builtin_ctz(mask);
                    dst += n;
                    i += n;
                }

                goto units;
            }

            _mm_storeu_si128((__m128i *) dst, x);
            dst += 16;
            i += 16;

        } while (lim - i >= 16);

        if (i == lim) {
            return dst;
        }

        /* the last 16 bytes: those before i are plain, copied already */

        x = _mm_loadu_si128((const __m128i *) (p + lim - 16));
        mask = posthog_json_special16(x);

        if (mask == 0) {
            _mm_storeu_si128((__m128i *) (dst - (i - (lim - 16))), x);
            return dst + (lim - i);
        }

        if (len <= max) {
            _mm_storeu_si128((__m128i *) (dst - (i - (lim - 16))), x);
            n = lim - 16 + __builtin_ctz(mask) - i;
            dst += n;
            i += n;
        }

        goto units;
    }

    if (lim >= 8) {
        x = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *) p),
                               _mm_loadl_epi64((const __m128i *)
                                               (p + lim - 8)));

        if (posthog_json_special16(x) == 0) {
            _mm_storel_epi64((__m128i *) (dst + lim - 8),
                             _mm_srli_si128(x, 8));
            _mm_storel_epi64((__m128i *) dst, x);
            return dst + lim;
        }

    } else if (lim >= 4) {
        memcpy(&a, p, 4);
        memcpy(&b, p + lim - 4, 4);

        x = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int) a),
                               _mm_cvtsi32_si128((int) b));

        if ((posthog_json_special16(x) & 0xff) == 0) {
            memcpy(dst + lim - 4, &b, 4);
            memcpy(dst, &a, 4);
            return dst + lim;
        }
    }

    i = 0;

    while (i < lim && posthog_json_width[p[i]] == 1) {
        *dst++ = p[i++];
    }

    if (i == lim) {
        return dst;
    }

units:

    return posthog_json_escape_units(dst, p + i, len - i, lim - i);
}

#else

/*
 * The common case first, in a function that calls nothing else (few
 * registers to save): a string of printable ASCII, copied 8 bytes at a
 * time.  From the first byte that is not, posthog_json_escape_units()
 * goes on (every byte before it was a unit of its own, so the rest is cut
 * the same).
 */

unsigned char *
posthog_json_escape(unsigned char *dst, const unsigned char *p, size_t len,
    size_t max)
{
    size_t  i, lim;

    lim = len < max ? len : max;
    i = 0;

    while (lim - i >= 8 && !posthog_json_word_special(p + i)) {
        memcpy(dst, p + i, 8);
        dst += 8;
        i += 8;
    }

    if (i == lim) {
        return dst;
    }

    /* a clean tail: its last 8 bytes, over the copy of those before it */

    if (i && lim - i < 8 && !posthog_json_word_special(p + lim - 8)) {
        memcpy(dst + (lim - i) - 8, p + lim - 8, 8);
        return dst + (lim - i);
    }

    while (posthog_json_width[p[i]] == 1) {
        *dst++ = p[i++];

        if (i == lim) {
            return dst;
        }
    }

    return posthog_json_escape_units(dst, p + i, len - i, lim - i);
}

#endif


/* writes the unit "p", "n" bytes, that decoded to "cp" */

static unsigned char *
posthog_json_unit(unsigned char *dst, const unsigned char *p, size_t n,
    uint32_t cp)
{
    if (cp == POSTHOG_UTF8_BAD) {
        *dst++ = 0xef;
        *dst++ = 0xbf;
        *dst++ = 0xbd;
        return dst;
    }

    switch (cp) {
    case '"':
    case '\\':
        *dst++ = '\\';
        *dst++ = (unsigned char) cp;
        return dst;
    case '\b':
        *dst++ = '\\';
        *dst++ = 'b';
        return dst;
    case '\f':
        *dst++ = '\\';
        *dst++ = 'f';
        return dst;
    case '\n':
        *dst++ = '\\';
        *dst++ = 'n';
        return dst;
    case '\r':
        *dst++ = '\\';
        *dst++ = 'r';
        return dst;
    case '\t':
        *dst++ = '\\';
        *dst++ = 't';
        return dst;
    }

    if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029) {
        *dst++ = '\\';
        *dst++ = 'u';
        *dst++ = posthog_json_hex[(cp >> 12) & 0x0f];
        *dst++ = posthog_json_hex[(cp >> 8) & 0x0f];
        *dst++ = posthog_json_hex[(cp >> 4) & 0x0f];
        *dst++ = posthog_json_hex[cp & 0x0f];
        return dst;
    }

    memcpy(dst, p, n);

    return dst + n;
}


size_t
posthog_json_escape_fit(const unsigned char *p, size_t len, size_t max,
    size_t budget)
{
    size_t    i, n, w, lim, size;
    uint32_t  cp;

    lim = len < max ? len : max;
    size = 0;
    i = 0;

    while (i < lim) {
        w = posthog_json_width[p[i]];

        if (w) {
            n = 1;

        } else {
            n = posthog_utf8_next(p + i, len - i, &cp);

            if (n > lim - i) {
                break;
            }

            w = posthog_json_unit_len(cp, n);
        }

        if (size + w > budget) {
            break;
        }

        size += w;
        i += n;
    }

    return i;
}


int
posthog_json_number_valid(const unsigned char *p, size_t len)
{
    char                  buf[POSTHOG_JSON_NUMBER_MAX + 1];
    const unsigned char  *end, *d;

    if (len == 0 || len > POSTHOG_JSON_NUMBER_MAX) {
        return 0;
    }

    memcpy(buf, p, len);
    buf[len] = '\0';

    if (!isfinite(strtod(buf, NULL))) {
        return 0;
    }

    end = p + len;

    if (p < end && *p == '-') {
        p++;
    }

    if (p == end) {
        return 0;
    }

    if (*p == '0') {
        p++;

    } else {
        for (d = p; p < end && *p >= '0' && *p <= '9'; p++) { /* void */ }

        if (p == d) {
            return 0;
        }
    }

    if (p < end && *p == '.') {
        for (d = ++p; p < end && *p >= '0' && *p <= '9'; p++) { /* void */ }

        if (p == d) {
            return 0;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }

        for (d = p; p < end && *p >= '0' && *p <= '9'; p++) { /* void */ }

        if (p == d) {
            return 0;
        }
    }

    return p == end;
}
