/*
 * base64url without padding.
 */

#include <stdint.h>

#include "posthog_base64url.h"


static const char  posthog_b64u[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static int
posthog_b64u_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    if (c == '_') {
        return 63;
    }

    return -1;
}


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
    int             v;
    size_t          i;
    uint32_t        acc;
    unsigned char  *d;

    if (n % 4 == 1) {
        return -1;
    }

    d = dst;
    acc = 0;

    for (i = 0; i < n; i++) {
        v = posthog_b64u_value(src[i]);

        if (v < 0) {
            return -1;
        }

        acc = (acc << 6) | (uint32_t) v;

        if (i % 4 == 3) {
            *d++ = (unsigned char) (acc >> 16);
            *d++ = (unsigned char) (acc >> 8);
            *d++ = (unsigned char) acc;
            acc = 0;
        }
    }

    /* the bits below the last whole byte must be zero: canonical only */

    switch (n % 4) {
    case 2:
        if (acc & 0x0f) {
            return -1;
        }

        *d++ = (unsigned char) (acc >> 4);
        break;

    case 3:
        if (acc & 0x03) {
            return -1;
        }

        *d++ = (unsigned char) (acc >> 10);
        *d++ = (unsigned char) (acc >> 2);
        break;
    }

    *len = (size_t) (d - dst);

    return 0;
}
