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


static unsigned char *
posthog_uuid_hex(unsigned char *p, const unsigned char *b, int n)
{
    int  i;

    for (i = 0; i < n; i++) {
        p[2 * i] = (unsigned char) posthog_hex[b[i] >> 4];
        p[2 * i + 1] = (unsigned char) posthog_hex[b[i] & 0x0f];
    }

    return p + 2 * n;
}


void
posthog_uuid_v7(unsigned char *out, uint64_t ms, const unsigned char *rnd)
{
    int             i;
    unsigned char  *p, b[16];

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

    /* 8-4-4-4-12 */

    p = posthog_uuid_hex(out, b, 4);
    *p++ = '-';
    p = posthog_uuid_hex(p, b + 4, 2);
    *p++ = '-';
    p = posthog_uuid_hex(p, b + 6, 2);
    *p++ = '-';
    p = posthog_uuid_hex(p, b + 8, 2);
    *p++ = '-';
    (void) posthog_uuid_hex(p, b + 10, 6);
}


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
