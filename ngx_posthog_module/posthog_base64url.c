/*
 * base64url without padding.
 */

#include <stdint.h>

#include "posthog_base64url.h"


static const char  posthog_b64u[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/* the value of each byte in the alphabet, XX (0xff) for any other byte */

#define XX  0xff

static const unsigned char  posthog_b64u_val[256] = {
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX,
    XX, XX, XX, XX, XX,  0,  1,  2,  3,  4,  5,  6,
     7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
    19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, 63,
    XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
    37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
    49, 50, 51, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX,
};

#undef XX


size_t
posthog_base64url_encode(unsigned char *dst, const unsigned char *src,
    size_t n)
{
    unsigned char  *d;

    d = dst;

    while (n >= 3) {
        *d++ = posthog_b64u[src[0] >> 2];
        *d++ = posthog_b64u[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = posthog_b64u[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *d++ = posthog_b64u[src[2] & 0x3f];

        src += 3;
        n -= 3;
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
    uint32_t        a, b, c, d;
    unsigned char  *o;

    if (n % 4 == 1) {
        return -1;
    }

    o = dst;

    /* 4 characters -> 3 bytes; any byte out of the alphabet has 0xc0 set */

    for ( /* void */ ; n >= 4; n -= 4, src += 4) {
        a = posthog_b64u_val[src[0]];
        b = posthog_b64u_val[src[1]];
        c = posthog_b64u_val[src[2]];
        d = posthog_b64u_val[src[3]];

        if ((a | b | c | d) & 0xc0) {
            return -1;
        }

        a = a << 18 | b << 12 | c << 6 | d;

        o[0] = (unsigned char) (a >> 16);
        o[1] = (unsigned char) (a >> 8);
        o[2] = (unsigned char) a;
        o += 3;
    }

    /* the bits below the last whole byte must be zero: canonical only */

    switch (n) {
    case 2:
        a = posthog_b64u_val[src[0]];
        b = posthog_b64u_val[src[1]];

        if (((a | b) & 0xc0) || (b & 0x0f)) {
            return -1;
        }

        *o++ = (unsigned char) (a << 2 | b >> 4);
        break;

    case 3:
        a = posthog_b64u_val[src[0]];
        b = posthog_b64u_val[src[1]];
        c = posthog_b64u_val[src[2]];

        if (((a | b | c) & 0xc0) || (c & 0x03)) {
            return -1;
        }

        a = a << 12 | b << 6 | c;

        *o++ = (unsigned char) (a >> 10);
        *o++ = (unsigned char) (a >> 2);
        break;
    }

    *len = (size_t) (o - dst);

    return 0;
}
