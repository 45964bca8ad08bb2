/*
 * UUIDv7 generation and validation.
 */

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "posthog_uuid.h"


/* the two hex digits of each byte value */

static const char  posthog_hex2[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";


/*
 * 0x10 | the value of a hex digit, 0 for any other byte: lower case only,
 * the canonical form and what posthog-js writes.
 */

static const unsigned char  posthog_hexval[256] = {
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
       0,    0,    0,    0,
};


#define posthog_uuid_byte(p, b)                                              \
    memcpy(p, &posthog_hex2[2 * (unsigned) (b)], 2)


void
posthog_uuid_v7(unsigned char *out, uint64_t ms, const unsigned char *rnd)
{
    /* 8-4-4-4-12: the time's 6 bytes, then the random ones */

    posthog_uuid_byte(out, (ms >> 40) & 0xff);
    posthog_uuid_byte(out + 2, (ms >> 32) & 0xff);
    posthog_uuid_byte(out + 4, (ms >> 24) & 0xff);
    posthog_uuid_byte(out + 6, (ms >> 16) & 0xff);
    out[8] = '-';
    posthog_uuid_byte(out + 9, (ms >> 8) & 0xff);
    posthog_uuid_byte(out + 11, ms & 0xff);
    out[13] = '-';
    posthog_uuid_byte(out + 14, 0x70 | (rnd[0] & 0x0f));     /* version 7 */
    posthog_uuid_byte(out + 16, rnd[1]);
    out[18] = '-';
    posthog_uuid_byte(out + 19, 0x80 | (rnd[2] & 0x3f));     /* variant 10 */
    posthog_uuid_byte(out + 21, rnd[3]);
    out[23] = '-';
    posthog_uuid_byte(out + 24, rnd[4]);
    posthog_uuid_byte(out + 26, rnd[5]);
    posthog_uuid_byte(out + 28, rnd[6]);
    posthog_uuid_byte(out + 30, rnd[7]);
    posthog_uuid_byte(out + 32, rnd[8]);
    posthog_uuid_byte(out + 34, rnd[9]);
}


#if defined(__SSE2__)

/*
 * 16 of the text's bytes: the bits of the hex digits and dashes, and in
 * "dash" the bits of the dashes.  A byte is a digit if it is at most 9
 * above '0', unsigned (a byte below '0' wraps high), a letter if at most
 * 5 above 'a'.
 */

static inline unsigned
posthog_uuid_block(const unsigned char *p, unsigned *dash)
{
    __m128i  x, d, a, m;

    x = _mm_loadu_si128((const __m128i *) p);

    d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    d = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    a = _mm_sub_epi8(x, _mm_set1_epi8('a'));
    a = _mm_cmpeq_epi8(_mm_min_epu8(a, _mm_set1_epi8(5)), a);
    m = _mm_cmpeq_epi8(x, _mm_set1_epi8('-'));

    *dash = (unsigned) _mm_movemask_epi8(m);

    return (unsigned) _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(d, a), m));
}


/*
 * Three blocks of 16 (the last over the second's end), checked at once:
 * the cookie's ids are checked on every request.
 */

int
posthog_uuid_valid(const unsigned char *p, size_t len)
{
    unsigned  all, d0, d1, d2;

    if (len != POSTHOG_UUID_LEN) {
        return 0;
    }

    all = posthog_uuid_block(p, &d0) & posthog_uuid_block(p + 16, &d1)
          & posthog_uuid_block(p + 20, &d2);

    /* dashes at 8, 13 | 18, 23 | 23, and only there */

    if (all != 0xffff
        || ((d0 ^ (1u << 8 | 1u << 13)) | (d1 ^ (1u << 2 | 1u << 7))
            | (d2 ^ 1u << 3)) != 0)
    {
        return 0;
    }

    /* the variant: the high bits of the 17th hex digit are 10 */

    return (unsigned) p[19] - '8' <= 1 || (unsigned) p[19] - 'a' <= 1;
}

#else

int
posthog_uuid_valid(const unsigned char *p, size_t len)
{
    unsigned  all;

    if (len != POSTHOG_UUID_LEN
        || p[8] != '-' || p[13] != '-' || p[18] != '-' || p[23] != '-')
    {
        return 0;
    }

    /* 0x10 stays set only if every other byte is a hex digit */

#define H(i)  posthog_hexval[p[i]]

    all = H(0) & H(1) & H(2) & H(3) & H(4) & H(5) & H(6) & H(7)
          & H(9) & H(10) & H(11) & H(12)
          & H(14) & H(15) & H(16) & H(17)
          & H(19) & H(20) & H(21) & H(22)
          & H(24) & H(25) & H(26) & H(27) & H(28) & H(29) & H(30) & H(31)
          & H(32) & H(33) & H(34) & H(35);

#undef H

    /* the variant: the high bits of the 17th hex digit are 10 */

    return (all & 0x10) && (posthog_hexval[p[19]] & 0x0c) == 0x08;
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

        ms = (ms << 4) | (uint64_t) (posthog_hexval[p[i]] & 0x0f);
    }

    return ms;
}
