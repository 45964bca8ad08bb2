/*
 * UUIDv7 generation and validation.
 */

#include "posthog_uuid.h"


static const char  posthog_hex[] = "0123456789abcdef";


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
    int            i, n;
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

    for (i = 0, n = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[n++] = '-';
        }

        out[n++] = posthog_hex[b[i] >> 4];
        out[n++] = posthog_hex[b[i] & 0x0f];
    }
}


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
