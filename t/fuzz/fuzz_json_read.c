/*
 * libFuzzer target for the strict JSON reader: it never reads out of
 * bounds and stops inside the input; a string it decodes is valid UTF-8,
 * its cut a prefix of the whole on a character boundary; an "integer" is
 * at most POSTHOG_JSON_INT_MAX; and what it accepts as one object, the
 * stream's looser posthog_stream_is_object() accepts too (at the stream's
 * depth), so the two checks never disagree that way.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posthog_json_read.h"
#include "posthog_stream.h"
#include "posthog_utf8.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    rc, integer;
    size_t                 olen, total, flen, ftotal;
    uint64_t               n;
    unsigned char          cut[16], *full;
    posthog_json_reader_t  r;

    r.start = data;
    r.end = data + size;
    r.depth_max = POSTHOG_STREAM_DEPTH_MAX;

    /* any value */

    r.p = data;
    rc = posthog_json_read_value(&r, 0);

    if (r.p < r.start || r.p > r.end
        || (rc != POSTHOG_JSON_OK && rc != POSTHOG_JSON_BAD
            && rc != POSTHOG_JSON_TOO_DEEP && rc != POSTHOG_JSON_BAD_UTF8))
    {
        abort();
    }

    if (rc == POSTHOG_JSON_OK) {
        posthog_json_read_ws(&r);

        if (r.p == r.end) {
            r.p = data;
            posthog_json_read_ws(&r);

            if (*r.p == '{' && !posthog_stream_is_object(data, size)) {
                abort();
            }
        }
    }

    /* a string, cut and whole */

    r.p = data;
    posthog_json_read_ws(&r);

    if (r.p < r.end && *r.p == '"') {
        full = malloc(size + 1);
        if (full == NULL) {
            return 0;
        }

        rc = posthog_json_read_string(&r, cut, sizeof(cut), &olen, &total);

        r.p = data;
        posthog_json_read_ws(&r);

        if (posthog_json_read_string(&r, full, size, &flen, &ftotal) != rc) {
            abort();
        }

        if (rc == POSTHOG_JSON_OK
            && (olen > sizeof(cut) || olen > total || total != ftotal
                || flen != ftotal || flen > size
                || memcmp(cut, full, olen) != 0
                || !posthog_utf8_valid(cut, olen)
                || !posthog_utf8_valid(full, flen)))
        {
            abort();
        }

        free(full);
    }

    /* a number */

    r.p = data;

    if (posthog_json_read_number(&r, &n, &integer) == POSTHOG_JSON_OK
        && (r.p == data || (integer && n > POSTHOG_JSON_INT_MAX)))
    {
        abort();
    }

    return 0;
}
