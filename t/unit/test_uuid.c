/*
 * UUIDv7: format, version, variant, time round trip, validation.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "posthog_uuid.h"


static void
rand_bytes(unsigned char *p, size_t n)
{
    while (n--) {
        *p++ = (unsigned char) tap_rand();
    }
}


static int
is_lower_hex_or_dash(const unsigned char *p)
{
    size_t  i;

    for (i = 0; i < POSTHOG_UUID_LEN; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')
              || p[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
main(void)
{
    int             i, bad;
    char            s[POSTHOG_UUID_LEN + 1];
    uint64_t        ms;
    unsigned char   u[POSTHOG_UUID_LEN], rnd[POSTHOG_UUID_RANDOM];

    /* RFC 9562, appendix A.6 */
    static const unsigned char  rfc_rnd[POSTHOG_UUID_RANDOM] = {
        0xcc, 0xc3, 0x98, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f
    };

    posthog_uuid_v7(u, 0x017f22e279b0ULL, rfc_rnd);
    is_mem(u, sizeof(u), "017f22e2-79b0-7cc3-98c4-dc0c0c07398f", 36,
           "RFC 9562 example vector");
    is_int(posthog_uuid_v7_time(u), 0x017f22e279b0ULL, "its time");

    memset(rnd, 0, sizeof(rnd));
    posthog_uuid_v7(u, 0, rnd);
    is_mem(u, sizeof(u), "00000000-0000-7000-8000-000000000000", 36,
           "all-zero input: version and variant still set");

    memset(rnd, 0xff, sizeof(rnd));
    posthog_uuid_v7(u, 0xffffffffffffULL, rnd);
    is_mem(u, sizeof(u), "ffffffff-ffff-7fff-bfff-ffffffffffff", 36,
           "all-ones input: version and variant forced");

    posthog_uuid_v7(u, 0x1ffffffffffffULL, rnd);
    is_int(posthog_uuid_v7_time(u), 0xffffffffffffULL,
           "time above 48 bits is cut to 48 bits");

    /* each byte value as its two hex digits, in a byte of each group */

    bad = 0;

    for (i = 0; i < 256; i++) {
        char  want[POSTHOG_UUID_LEN + 1];

        memset(rnd, i, sizeof(rnd));
        ms = 0x010101010101ULL * (uint64_t) i;
        posthog_uuid_v7(u, ms, rnd);

        snprintf(want, sizeof(want), "%02x%02x%02x%02x-%02x%02x-7%x%02x-"
                 "%02x%02x-%02x%02x%02x%02x%02x%02x",
                 i, i, i, i, i, i, i & 0x0f, i, 0x80 | (i & 0x3f), i,
                 i, i, i, i, i, i);

        if (memcmp(u, want, POSTHOG_UUID_LEN) != 0 && bad++ == 0) {
            diag("byte %02x: %.36s, want %s", i, (char *) u, want);
        }
    }

    is_int(bad, 0, "each byte value formats as its two hex digits");

    /* validation: each byte value at each place of a valid one */

    bad = 0;

    for (i = 0; i < 36 * 256; i++) {
        int            k, want;
        unsigned char  c, v[POSTHOG_UUID_LEN];

        memcpy(v, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f", sizeof(v));
        k = i / 256;
        c = (unsigned char) (i % 256);
        v[k] = c;

        if (k == 8 || k == 13 || k == 18 || k == 23) {
            want = (c == '-');

        } else if (k == 19) {
            want = (c == '8' || c == '9' || c == 'a' || c == 'b');

        } else {
            want = ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        }

        if (posthog_uuid_valid(v, sizeof(v)) != want && bad++ == 0) {
            diag("byte %02x at %d: %d, want %d", c, k,
                 posthog_uuid_valid(v, sizeof(v)), want);
        }
    }

    is_int(bad, 0, "valid: each byte value at each place");

    /* random round trips */

    bad = 0;

    for (i = 0; i < 10000; i++) {
        ms = tap_rand() & 0xffffffffffffULL;
        rand_bytes(rnd, sizeof(rnd));
        posthog_uuid_v7(u, ms, rnd);

        if (!posthog_uuid_valid(u, sizeof(u))
            || !posthog_uuid_v7_valid(u, sizeof(u))
            || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-'
            || u[14] != '7'
            || strchr("89ab", u[19]) == NULL
            || !is_lower_hex_or_dash(u)
            || posthog_uuid_v7_time(u) != ms)
        {
            if (bad++ == 0) {
                memcpy(s, u, sizeof(u));
                s[POSTHOG_UUID_LEN] = '\0';
                diag("bad uuid %s for ms %llu", s, (unsigned long long) ms);
            }
        }
    }

    is_int(bad, 0, "10000 random UUIDv7: format, version 7, variant 10, "
           "lower case, time round trip");

    /* time order: later milliseconds sort later as text */

    memset(rnd, 0xff, sizeof(rnd));
    posthog_uuid_v7(u, 1700000000000ULL, rnd);
    memcpy(s, u, sizeof(u));
    memset(rnd, 0, sizeof(rnd));
    posthog_uuid_v7(u, 1700000000001ULL, rnd);
    ok(memcmp(s, u, sizeof(u)) < 0, "UUIDv7 text sorts by time");

    /* validation */

#define V(str)  (const unsigned char *) (str), sizeof(str) - 1

    ok(posthog_uuid_valid(V("017f22e2-79b0-7cc3-98c4-dc0c0c07398f")),
       "valid v7");
    ok(!posthog_uuid_valid(V("017F22E2-79B0-7CC3-98C4-DC0C0C07398F")),
       "upper case is not canonical");
    ok(!posthog_uuid_valid(V("017f22e2-79b0-7cc3-98c4-dc0c0c07398F")),
       "one upper-case digit is not canonical");
    ok(posthog_uuid_valid(V("f47ac10b-58cc-4372-a567-0e02b2c3d479")),
       "v4 is a valid uuid");
    ok(!posthog_uuid_v7_valid(V("f47ac10b-58cc-4372-a567-0e02b2c3d479")),
       "v4 is not v7");
    ok(!posthog_uuid_valid(V("")), "empty");
    ok(!posthog_uuid_valid(V("017f22e2-79b0-7cc3-98c4-dc0c0c07398")),
       "35 chars");
    ok(!posthog_uuid_valid(V("017f22e2-79b0-7cc3-98c4-dc0c0c07398f0")),
       "37 chars");
    ok(!posthog_uuid_valid(V("017f22e279b07cc398c4dc0c0c07398f")),
       "no dashes");
    ok(!posthog_uuid_valid(V("017f22e2-79b0-7cc3-98c4+dc0c0c07398f")),
       "wrong separator");
    ok(!posthog_uuid_valid(V("017f22e2-79b0-7cc3-98c4-dc0c0c07398g")),
       "non-hex digit g");
    ok(!posthog_uuid_valid(V("017f22e2-79b0-7cc3-98c4-dc0c0c07398 ")),
       "space");
    ok(!posthog_uuid_valid(V("{17f22e2-79b0-7cc3-98c4-dc0c0c07398}")),
       "braces");
    ok(!posthog_uuid_valid(V("017f22e2-79b0-7cc3-08c4-dc0c0c07398f")),
       "variant 0 (NCS)");
    ok(!posthog_uuid_valid(V("017f22e2-79b0-7cc3-c8c4-dc0c0c07398f")),
       "variant 110 (Microsoft)");
    ok(!posthog_uuid_valid(V("017f22e2-79b0-7cc3-f8c4-dc0c0c07398f")),
       "variant 111");
    ok(!posthog_uuid_v7_valid(V("017f22e2-79b0-8cc3-98c4-dc0c0c07398f")),
       "version 8 is not v7");
    ok(!posthog_uuid_valid(V("00000000-0000-0000-0000-000000000000")),
       "nil uuid (variant 0)");
    ok(!posthog_uuid_valid(V("017f22e2-79b0-7cc3-98c4-dc0c0c0739\xc3\xa9")),
       "non-ASCII");

    return done_testing();
}
