/*
 * UUIDv7 generation and validation.
 */

#include "posthog_uuid.h"


static const char  posthog_hex[] = "0123456789abcdef";


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

    /* 8-4-4-4-12: the dashes are before bytes 4, 6, 8 and 10 */

    for (i = 0, n = 0; i < 16; i++) {
        out[n] = posthog_hex[b[i] >> 4];
        out[n + 1] = posthog_hex[b[i] & 0x0f];
        n += 2;

        if (i == 3 || i == 5 || i == 7 || i == 9) {
            out[n++] = '-';
        }
    }
}


int
posthog_uuid_valid(const unsigned char *p, size_t len)
{
    size_t    i;
    unsigned  all;

    if (len != POSTHOG_UUID_LEN
        || p[8] != '-' || p[13] != '-' || p[18] != '-' || p[23] != '-')
    {
        return 0;
    }

    /* 0x10 stays set only if every other byte is a hex digit */

    all = 0x10;

    for (i = 0; i < 8; i++) {
        all &= posthog_hexval[p[i]];
    }

    for (i = 9; i < 13; i++) {
        all &= posthog_hexval[p[i]] & posthog_hexval[p[i + 5]]
               & posthog_hexval[p[i + 10]];
    }

    for (i = 24; i < POSTHOG_UUID_LEN; i++) {
        all &= posthog_hexval[p[i]];
    }

    /* the variant: the high bits of the 17th hex digit are 10 */

    return (all & 0x10) && (posthog_hexval[p[19]] & 0x0c) == 0x08;
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

        ms = (ms << 4) | (uint64_t) (posthog_hexval[p[i]] & 0x0f);
    }

    return ms;
}
