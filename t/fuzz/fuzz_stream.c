/*
 * libFuzzer target for the stream contract (posthog_stream.c).  An event
 * the object check accepts can be pasted into "batch":[...] safely: valid
 * UTF-8, one {...} whose brackets, counted here apart from strings, close
 * exactly at its end and never early; cut short or followed by anything
 * it is refused.  The token rule matches its definition byte by byte, and
 * an id that parses formats back to the same numbers.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsoncheck.h"
#include "posthog_stream.h"


/* the reference: depth of {[ outside strings; 1 if it returns to 0 exactly
 * at the last non-white-space byte and the string is closed */

static int
ref_one_object(const unsigned char *p, size_t len)
{
    int     in_str;
    size_t  i, end, depth;

    end = len;
    while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'
                       || p[end - 1] == '\n' || p[end - 1] == '\r'))
    {
        end--;
    }

    in_str = 0;
    depth = 0;

    for (i = 0; i < end; i++) {
        if (in_str) {
            if (p[i] == '\\') {
                i++;
            } else if (p[i] == '"') {
                in_str = 0;
            }
            continue;
        }

        if (p[i] == '"') {
            in_str = 1;
        } else if (p[i] == '{' || p[i] == '[') {
            depth++;
        } else if (p[i] == '}' || p[i] == ']') {
            if (depth == 0) {
                return 0;
            }
            if (--depth == 0 && i != end - 1) {
                return 0;
            }
        } else if (p[i] < 0x20 && p[i] != ' ' && p[i] != '\t'
                   && p[i] != '\n' && p[i] != '\r')
        {
            return 0;
        }
    }

    return !in_str && depth == 0 && end > 0 && p[end - 1] == '}';
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             ok, tok;
    char            buf[POSTHOG_STREAM_ID_MAX + 1];
    size_t          i;
    uint64_t        ms, seq, ms2, seq2;
    unsigned char  *more;

    ok = posthog_stream_is_object(data, size);

    if (ok) {
        if (!ref_utf8_valid(data, size) || !ref_one_object(data, size)) {
            abort();
        }

        /* anything after it, or the last byte missing: refused */
        more = malloc(size + 1);
        memcpy(more, data, size);
        more[size] = 'x';
        if (posthog_stream_is_object(more, size + 1)) {
            abort();
        }
        free(more);

        for (i = size; i > 0 && data[i - 1] != '}'; i--) { /* void */ }
        if (i == 0 || posthog_stream_is_object(data, i - 1)) {
            abort();
        }
    }

    tok = 1;
    for (i = 0; i < size; i++) {
        if (data[i] < 0x21 || data[i] > 0x7e || data[i] == '"'
            || data[i] == '\\')
        {
            tok = 0;
        }
    }
    tok = tok && size > 0 && size <= POSTHOG_STREAM_TOKEN_MAX;

    if (posthog_stream_token_ok(data, size) != tok) {
        abort();
    }

    if (posthog_stream_id_parse((const char *) data, size, &ms, &seq) == 0) {
        if (posthog_stream_id_format(buf, ms, seq) > (int) size
            || posthog_stream_id_parse(buf, strlen(buf), &ms2, &seq2) != 0
            || ms2 != ms || seq2 != seq)
        {
            abort();
        }
    }

    return 0;
}
