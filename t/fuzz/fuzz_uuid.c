/*
 * libFuzzer target for posthog_uuid: validation agrees with a plain
 * reading of the canonical form, and UUIDv7 built from any 16 bytes is
 * valid v7 text carrying its time.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posthog_uuid.h"


static int
ref_valid(const uint8_t *p, size_t len)
{
    size_t  i;

    if (len != 36) {
        return 0;
    }

    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-') {
                return 0;
            }

        } else if (!((p[i] >= '0' && p[i] <= '9')
                     || (p[i] >= 'a' && p[i] <= 'f')))
        {
            return 0;
        }
    }

    return strchr("89ab", p[19]) != NULL;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            i;
    uint64_t       ms;
    unsigned char  u[POSTHOG_UUID_LEN];

    if (posthog_uuid_valid(data, size) != ref_valid(data, size)) {
        abort();
    }

    if (posthog_uuid_v7_valid(data, size)
        != (ref_valid(data, size) && data[14] == '7'))
    {
        abort();
    }

    if (size < 6 + POSTHOG_UUID_RANDOM) {
        return 0;
    }

    ms = 0;

    for (i = 0; i < 6; i++) {
        ms = ms << 8 | data[i];
    }

    posthog_uuid_v7(u, ms, data + 6);

    if (!posthog_uuid_v7_valid(u, sizeof(u))
        || posthog_uuid_v7_time(u) != ms)
    {
        abort();
    }

    return 0;
}
