/*
 * libFuzzer target for the reply reader (posthog_resp_reply()): on any
 * bytes it reads what hiredis's reader reads, the same reply, type, text
 * and length, or says "not complete" or "bad" when hiredis does
 * (respcheck.h); an array is bad.
 */

#include <stdint.h>
#include <stdlib.h>

#include "respcheck.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!respcheck_same(data, size)) {
        abort();
    }

    return 0;
}
