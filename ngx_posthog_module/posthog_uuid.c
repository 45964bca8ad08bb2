/*
 * UUIDv7 generation and validation.
 */

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "posthog_uuid.h"


#define POSTHOG_HEX_ROW(h)                                                    \
    h "0", h "1", h "2", h "3", h "4", h "5", h "6", h "7",                   \
    h "8", h "9", h "a", h "b", h "c", h "d", h "e", h "f"

/* where the text of each of the 16 bytes starts, around the dashes */
static const unsigned char  posthog_uuid_at[16] = {
    0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34
};

/* a byte's two lower-case hex digits (no NUL) */
static const char  posthog_hex2[256][2] = {
    POSTHOG_HEX_ROW("0"), POSTHOG_HEX_ROW("1"),
    POSTHOG_HEX_ROW("2"), POSTHOG_HEX_ROW("3"),
    POSTHOG_HEX_ROW("4"), POSTHOG_HEX_ROW("5"),
    POSTHOG_HEX_ROW("6"), POSTHOG_HEX_ROW("7"),
    POSTHOG_HEX_ROW("8"), POSTHOG_HEX_ROW("9"),
    POSTHOG_HEX_ROW("a"), POSTHOG_HEX_ROW("b"),
    POSTHOG_HEX_ROW("c"), POSTHOG_HEX_ROW("d"),
    POSTHOG_HEX_ROW("e"), POSTHOG_HEX_ROW("f"),
};


static int
posthog_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    /* lower case only: the canonical form, and what posthog-js writes */

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


void
posthog_uuid_v7(unsigned char *out, uint64_t ms, const unsigned char *rnd)
{
    int            i;
    unsigned char  b[16];

    b[0] = (unsigned char) (ms >> 40);
    b[1] = (unsigned char) (ms >> 32);
    b[2] = (unsigned char) (ms >> 24);
    b[3] = (unsigned char) (ms >> 16);
    b[4] = (unsigned char) (ms >> 8);
    b[5] = (unsigned char) ms;

    for (i = 0; i < POSTHOG_UUID_RANDOM; i++) {
        b[6 + i] = rnd[i];
    }

    b[6] = (unsigned char) (0x70 | (b[6] & 0x0f));     /* version 7 */
    b[8] = (unsigned char) (0x80 | (b[8] & 0x3f));     /* variant 10 */

    /* two hex digits a byte, by table, where each byte's go */

    for (i = 0; i < 16; i++) {
        memcpy(out + posthog_uuid_at[i], posthog_hex2[b[i]], 2);
    }

    out[8] = '-';
    out[13] = '-';
    out[18] = '-';
    out[23] = '-';
}


#if defined(__SSE2__)

/*
 * 16 of the text's bytes: hex digits, and dashes where "dashes" has a
 * bit.  Signed compares: a byte from 0x80 on is below '0'.
 */

static inline int
posthog_uuid_block(const unsigned char *p, unsigned dashes)
{
    unsigned  hex, dash;
    __m128i   x, digit, af;

    x = _mm_loadu_si128((const __m128i *) p);

    digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                          _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), x));
    af = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('a' - 1)),
                       _mm_cmpgt_epi8(_mm_set1_epi8('f' + 1), x));

    hex = (unsigned) _mm_movemask_epi8(_mm_or_si128(digit, af));
    dash = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(x,
                                                       _mm_set1_epi8('-')));

    return ((hex & ~dashes) | (dash & dashes)) == 0xffff;
}


/*
 * Three blocks of 16 (the last over the second's end) instead of a
 * branch a byte: it checks every cookie's ids on every request.
 */

int
posthog_uuid_valid(const unsigned char *p, size_t len)
{
    if (len != POSTHOG_UUID_LEN) {
        return 0;
    }

    /* dashes at 8, 13 | 18, 23 | 23 */

    if (!posthog_uuid_block(p, 1u << 8 | 1u << 13)
        || !posthog_uuid_block(p + 16, 1u << 2 | 1u << 7)
        || !posthog_uuid_block(p + 20, 1u << 3))
    {
        return 0;
    }

    /* the variant: the high bits of the 17th hex digit are 10 */

    return p[19] == '8' || p[19] == '9' || p[19] == 'a' || p[19] == 'b';
}

#else

int
posthog_uuid_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len != POSTHOG_UUID_LEN) {
        return 0;
    }

    for (i = 0; i < POSTHOG_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-') {
                return 0;
            }

            continue;
        }

        if (posthog_hexval(p[i]) < 0) {
            return 0;
        }
    }

    /* the variant: the high bits of the 17th hex digit are 10 */

    return (posthog_hexval(p[19]) & 0x0c) == 0x08;
}

#endif


int
posthog_uuid_v7_valid(const unsigned char *p, size_t len)
{
    return posthog_uuid_valid(p, len) && p[14] == '7';
}


uint64_t
posthog_uuid_v7_time(const unsigned char *p)
{
    int       i;
    uint64_t  ms;

    ms = 0;

    for (i = 0; i < 13; i++) {
        if (i == 8) {
            continue;
        }

        ms = (ms << 4) | (uint64_t) posthog_hexval(p[i]);
    }

    return ms;
}
