/*
 * libFuzzer target for posthog_json_escape(): the output is always a
 * valid UTF-8 JSON string body, exactly escape_len() long, made from
 * exactly escape_cut() input bytes cut on a unit boundary, and the same
 * bytes as the unit-by-unit reference writes.  The first two bytes
 * choose "max" (0xffff: no limit).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsoncheck.h"
#include "posthog_json.h"
#include "posthog_utf8.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          max, len, n, cut, un;
    uint32_t        cp;
    unsigned char  *out, *back, *ref;

    if (size < 2) {
        return 0;
    }

    max = (size_t) data[0] << 8 | data[1];
    max = (max == 0xffff) ? (size_t) -1 : max;
    data += 2;
    len = size - 2;

    /* exactly the output's size: a write past it is ASan's to see */
    un = posthog_json_escape_len(data, len, max);
    out = malloc(un ? un : 1);
    back = malloc(POSTHOG_JSON_ESCAPE_MAX(len) + 1);
    ref = malloc(POSTHOG_JSON_ESCAPE_MAX(len) + 1);

    n = (size_t) (posthog_json_escape(out, data, len, max) - out);
    cut = posthog_json_escape_cut(data, len, max);

    if (n != posthog_json_escape_len(data, len, max)
        || n != posthog_json_escape_len(data, cut, (size_t) -1)
        || n > POSTHOG_JSON_ESCAPE_MAX(cut))
    {
        abort();
    }

    if (cut > len || cut > max
        || (cut < len
            && cut + posthog_utf8_next(data + cut, len - cut, &cp) <= max))
    {
        abort();
    }

    if (ref_json_escape(ref, data, len, max) != n
        || memcmp(out, ref, n) != 0)
    {
        abort();
    }

    if (ref_json_body_check(out, n) != -1) {
        abort();
    }

    /* valid UTF-8 comes back unchanged; the library agrees it is valid */

    if (ref_utf8_valid(data, cut) != posthog_utf8_valid(data, cut)) {
        abort();
    }

    if (ref_utf8_valid(data, cut)) {
        un = ref_json_unescape(back, out, n);

        if (un != cut || memcmp(back, data, cut) != 0) {
            abort();
        }
    }

    free(out);
    free(back);
    free(ref);

    return 0;
}
