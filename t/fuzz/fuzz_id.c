/*
 * libFuzzer target for posthog_id_check(): the reported span lies inside
 * the input, an accepted id is what the module may safely emit (no
 * controls, UTF-8, at most 200 characters, no surrounding whitespace),
 * and checking the trimmed span again gives the same answer.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsoncheck.h"
#include "posthog_id.h"
#include "posthog_json.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             rc, rc2;
    size_t          i, start, n, start2, n2, chars;
    unsigned char  *out;

    rc = posthog_id_check(data, size, &start, &n);

    if (rc < POSTHOG_ID_OK || rc > POSTHOG_ID_ILLEGAL
        || posthog_id_reason(rc) == NULL)
    {
        abort();
    }

    if (start > size || n > size - start) {
        abort();
    }

    if (rc == POSTHOG_ID_EMPTY) {
        if (n != 0) {
            abort();
        }

        return 0;
    }

    if (n == 0) {
        abort();
    }

    /* idempotent: the trimmed span is its own trimmed span */

    rc2 = posthog_id_check(data + start, n, &start2, &n2);

    if (rc2 != rc || start2 != 0 || n2 != n) {
        abort();
    }

    if (rc != POSTHOG_ID_OK) {
        return 0;
    }

    data += start;

    if (!ref_utf8_valid(data, n) || n > POSTHOG_ID_MAX
        || data[0] == ' ' || data[n - 1] == ' ')
    {
        abort();
    }

    chars = 0;

    for (i = 0; i < n; i++) {
        if (data[i] < 0x20 || data[i] == 0x7f) {
            abort();
        }

        chars += (data[i] & 0xc0) != 0x80;
    }

    if (chars > POSTHOG_ID_MAX_CHARS) {
        abort();
    }

    if ((n == 4 && memcmp(data, "null", 4) == 0)
        || (n == 2 && (data[0] | 0x20) == 'i' && (data[1] | 0x20) == 'd'))
    {
        abort();
    }

    /* an accepted id escapes to JSON unchanged */

    out = malloc(POSTHOG_JSON_ESCAPE_MAX(n) + 1);

    if (posthog_json_escape_len(data, n, (size_t) -1) < n
        || ref_json_body_check(out, (size_t) (posthog_json_escape(out, data,
                                              n, (size_t) -1) - out)) != -1)
    {
        abort();
    }

    free(out);

    return 0;
}
