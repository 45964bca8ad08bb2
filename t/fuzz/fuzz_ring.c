/*
 * libFuzzer target for posthog_ring: any sequence of push, send, ack,
 * rewind and clear keeps the ring equal to a simple queue model, byte
 * for byte (see t/unit/ringcheck.h).  The first two bytes choose the
 * ring's size.
 */

#include <stdint.h>
#include <stdlib.h>

#include "ringcheck.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t  ring;

    if (size < 2) {
        return 0;
    }

    ring = (size_t) data[0] << 8 | data[1];

    if (ringcheck_run(ring, data + 2, size - 2) != NULL) {
        abort();
    }

    return 0;
}
