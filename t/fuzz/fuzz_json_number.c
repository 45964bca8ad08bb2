/*
 * libFuzzer target for posthog_json_number_valid(): it says yes exactly
 * when the strict reader of posthog_json_read.c takes the whole input as
 * one number, the input is at most POSTHOG_JSON_NUMBER_MAX bytes, and
 * strtod() gives a finite value; two independent readings of RFC 8259.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posthog_json.h"
#include "posthog_json_read.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    integer, grammar, finite;
    char                   buf[POSTHOG_JSON_NUMBER_MAX + 1];
    uint64_t               n;
    posthog_json_reader_t  r;

    r.p = data;
    r.start = data;
    r.end = data + size;
    r.depth_max = 1;

    grammar = size > 0
              && posthog_json_read_number(&r, &n, &integer) == POSTHOG_JSON_OK
              && r.p == r.end;

    finite = 0;

    if (size <= POSTHOG_JSON_NUMBER_MAX) {
        if (size) {
            memcpy(buf, data, size);
        }

        buf[size] = '\0';
        finite = isfinite(strtod(buf, NULL));
    }

    if (posthog_json_number_valid(data, size) != (grammar && finite)) {
        abort();
    }

    return 0;
}
