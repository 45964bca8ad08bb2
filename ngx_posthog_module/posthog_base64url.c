/*
 * base64url without padding.
 */

#include <stdint.h>
#include <string.h>

#include "posthog_base64url.h"


static const char  posthog_b64u[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/*
 * The two characters of each 12-bit value: a group of 3 bytes is 2
 * lookups.  Made by the preprocessor, as the decoding tables below.
 */

#define posthog_b64u_c(v)                                                    \
    ((v) < 26 ? 'A' + (v) : (v) < 52 ? 'a' + (v) - 26                        \
     : (v) < 62 ? '0' + (v) - 52 : (v) == 62 ? '-' : '_')

#define posthog_b64u_p(i)                                                    \
    posthog_b64u_c((i) >> 6), posthog_b64u_c((i) & 63)
#define posthog_b64u_p4(i)                                                   \
    posthog_b64u_p(i), posthog_b64u_p(i + 1), posthog_b64u_p(i + 2),         \
    posthog_b64u_p(i + 3)
#define posthog_b64u_p16(i)                                                  \
    posthog_b64u_p4(i), posthog_b64u_p4(i + 4), posthog_b64u_p4(i + 8),      \
    posthog_b64u_p4(i + 12)
#define posthog_b64u_p64(i)                                                  \
    posthog_b64u_p16(i), posthog_b64u_p16(i + 16),                           \
    posthog_b64u_p16(i + 32), posthog_b64u_p16(i + 48)
#define posthog_b64u_p256(i)                                                 \
    posthog_b64u_p64(i), posthog_b64u_p64(i + 64),                           \
    posthog_b64u_p64(i + 128), posthog_b64u_p64(i + 192)
#define posthog_b64u_p1024(i)                                                \
    posthog_b64u_p256(i), posthog_b64u_p256(i + 256),                        \
    posthog_b64u_p256(i + 512), posthog_b64u_p256(i + 768)

static const unsigned char  posthog_b64u_pairs[2 * 4096] = {
    posthog_b64u_p1024(0), posthog_b64u_p1024(1024),
    posthog_b64u_p1024(2048), posthog_b64u_p1024(3072)
};


/*
 * Decoding tables: the value of a character of the alphabet shifted to
 * its place in a group of 4 characters (24 bits), or 0xff000000 for any
 * other byte, so that a group is 4 lookups ORed, checked once.
 */

#define posthog_b64u_v(c)                                                    \
    ((c) >= 'A' && (c) <= 'Z' ? (c) - 'A'                                    \
     : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                             \
     : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                             \
     : (c) == '-' ? 62 : (c) == '_' ? 63 : -1)

#define posthog_b64u_d(c, s)                                                 \
    (posthog_b64u_v(c) < 0 ? 0xff000000u                                    \
                           : (uint32_t) posthog_b64u_v(c) << (s))

#define posthog_b64u_4(c, s)                                                 \
    posthog_b64u_d(c, s), posthog_b64u_d(c + 1, s),                          \
    posthog_b64u_d(c + 2, s), posthog_b64u_d(c + 3, s)
#define posthog_b64u_16(c, s)                                                \
    posthog_b64u_4(c, s), posthog_b64u_4(c + 4, s),                          \
    posthog_b64u_4(c + 8, s), posthog_b64u_4(c + 12, s)
#define posthog_b64u_64(c, s)                                                \
    posthog_b64u_16(c, s), posthog_b64u_16(c + 16, s),                       \
    posthog_b64u_16(c + 32, s), posthog_b64u_16(c + 48, s)
#define posthog_b64u_256(s)                                                  \
    posthog_b64u_64(0, s), posthog_b64u_64(64, s),                           \
    posthog_b64u_64(128, s), posthog_b64u_64(192, s)

static const uint32_t  posthog_b64u_d0[256] = { posthog_b64u_256(18) };
static const uint32_t  posthog_b64u_d1[256] = { posthog_b64u_256(12) };
static const uint32_t  posthog_b64u_d2[256] = { posthog_b64u_256(6) };
static const uint32_t  posthog_b64u_d3[256] = { posthog_b64u_256(0) };

#define POSTHOG_B64U_BAD  0xff000000u


size_t
posthog_base64url_encode(unsigned char *dst, const unsigned char *src,
    size_t n)
{
    uint32_t        v;
    unsigned char  *d;

    d = dst;

#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

    /* 6 bytes of one 8-byte load at a time, as 4 pairs of characters */

    {
        uint64_t  w;

        for ( /* void */ ; n >= 8; n -= 6, src += 6, d += 8) {
            memcpy(&w, src, sizeof(uint64_t));
            w = __builtin_bswap64(w);

            memcpy(d, &posthog_b64u_pairs[2 * (w >> 52)], 2);
            memcpy(d + 2, &posthog_b64u_pairs[2 * ((w >> 40) & 0xfff)], 2);
            memcpy(d + 4, &posthog_b64u_pairs[2 * ((w >> 28) & 0xfff)], 2);
            memcpy(d + 6, &posthog_b64u_pairs[2 * ((w >> 16) & 0xfff)], 2);
        }
    }

#endif

    /* 3 bytes read once into "v": the stores to "d" may alias "src" */

    for ( /* void */ ; n >= 3; n -= 3, src += 3, d += 4) {
        v = (uint32_t) src[0] << 16 | (uint32_t) src[1] << 8 | src[2];

        memcpy(d, &posthog_b64u_pairs[2 * (v >> 12)], 2);
        memcpy(d + 2, &posthog_b64u_pairs[2 * (v & 0xfff)], 2);
    }

    if (n == 1) {
        *d++ = posthog_b64u[src[0] >> 2];
        *d++ = posthog_b64u[(src[0] & 0x03) << 4];

    } else if (n == 2) {
        *d++ = posthog_b64u[src[0] >> 2];
        *d++ = posthog_b64u[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = posthog_b64u[(src[1] & 0x0f) << 2];
    }

    return (size_t) (d - dst);
}


int
posthog_base64url_decode(unsigned char *dst, size_t *len,
    const unsigned char *src, size_t n)
{
    uint32_t        v;
    unsigned char  *o;

    if (n % 4 == 1) {
        return -1;
    }

    o = dst;

    for ( /* void */ ; n >= 4; n -= 4, src += 4) {
        v = posthog_b64u_d0[src[0]] | posthog_b64u_d1[src[1]]
            | posthog_b64u_d2[src[2]] | posthog_b64u_d3[src[3]];

        if (v & POSTHOG_B64U_BAD) {
            return -1;
        }

        o[0] = (unsigned char) (v >> 16);
        o[1] = (unsigned char) (v >> 8);
        o[2] = (unsigned char) v;
        o += 3;
    }

    /* the bits below the last whole byte must be zero: canonical only */

    switch (n) {
    case 2:
        v = posthog_b64u_d0[src[0]] | posthog_b64u_d1[src[1]];

        if (v & (POSTHOG_B64U_BAD | 0xf000)) {
            return -1;
        }

        *o++ = (unsigned char) (v >> 16);
        break;

    case 3:
        v = posthog_b64u_d0[src[0]] | posthog_b64u_d1[src[1]]
            | posthog_b64u_d2[src[2]];

        if (v & (POSTHOG_B64U_BAD | 0xc0)) {
            return -1;
        }

        *o++ = (unsigned char) (v >> 16);
        *o++ = (unsigned char) (v >> 8);
        break;
    }

    *len = (size_t) (o - dst);

    return 0;
}
