/*
 * libFuzzer target for the shipper's intake (shipper/intake.c). The input
 * is an entry: its first byte picks the shape, the rest is split at 0x1e
 * into fields (one starting with 0x1f stands for a non-string element).
 * A held entry is one the module could have written: version 1, a token
 * by the token rule, one JSON object within the size limit, both spans
 * inside the input; a dead-lettered one fails exactly the check its
 * reason names, and all the checks before it pass.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"


#define PH_FUZZ_FIELDS  16


static int
inside(const ph_str_t *s, const uint8_t *data, size_t size)
{
    return s->p == NULL
           || ((const uint8_t *) s->p >= data
               && s->len <= size - (size_t) ((const uint8_t *) s->p - data));
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           rc, good_v, good_t, good_e;
    size_t        i, start, n;
    ph_str_t      kv[PH_FUZZ_FIELDS];
    ph_intake_t   in;
    ph_rentry_t   e;

    if (size == 0) {
        return 0;
    }

    e.id.p = "1-1";
    e.id.len = 3;
    e.shape = data[0] & 3;
    e.kv = kv;

    n = 0;
    start = 1;

    for (i = 1; i <= size && n < PH_FUZZ_FIELDS; i++) {
        if (i < size && data[i] != 0x1e) {
            continue;
        }

        if (i > start && data[start] == 0x1f) {
            kv[n].p = NULL;
            kv[n].len = 0;
        } else {
            kv[n].p = (const char *) data + start;
            kv[n].len = i - start;
        }

        n++;
        start = i + 1;
    }

    e.n = n;

    rc = ph_intake_check(&e, &in);

    if (e.shape == PH_FIELDS_NIL) {
        if (rc != PH_INTAKE_TRIMMED) {
            abort();
        }
        return 0;
    }

    if (e.shape != PH_FIELDS_ARRAY) {
        if (rc != PH_INTAKE_LEAVE || in.reason == NULL) {
            abort();
        }
        return 0;
    }

    if (!inside(&in.v, data, size) || !inside(&in.t, data, size)
        || !inside(&in.e, data, size))
    {
        abort();
    }

    good_v = in.v.p
             && posthog_stream_version_ok((const unsigned char *) in.v.p,
                                          in.v.len);
    good_t = in.t.p
             && posthog_stream_token_ok((const unsigned char *) in.t.p,
                                        in.t.len);
    good_e = in.e.p && in.e.len <= POSTHOG_STREAM_EVENT_MAX
             && posthog_stream_is_object((const unsigned char *) in.e.p,
                                         in.e.len);

    if (rc == PH_INTAKE_HOLD) {
        if (in.reason || !good_v || !good_t || !good_e
            || in.v.len != 1 || in.v.p[0] != '1')
        {
            abort();
        }
        return 0;
    }

    if (rc != PH_INTAKE_DEAD || in.reason == NULL) {
        abort();
    }

    if (strcmp(in.reason, "unknown_version") == 0) {
        rc = !good_v;

    } else if (strcmp(in.reason, "missing_token") == 0) {
        rc = good_v && (in.t.p == NULL || in.t.len == 0);

    } else if (strcmp(in.reason, "bad_token") == 0) {
        rc = good_v && in.t.len > 0 && !good_t;

    } else if (strcmp(in.reason, "missing_event") == 0) {
        rc = good_v && good_t && (in.e.p == NULL || in.e.len == 0);

    } else if (strcmp(in.reason, "too_large") == 0) {
        rc = good_v && good_t && in.e.len > POSTHOG_STREAM_EVENT_MAX;

    } else if (strcmp(in.reason, "not_a_json_object") == 0) {
        rc = good_v && good_t && in.e.len > 0 && !good_e;

    } else {
        rc = 0;
    }

    if (!rc) {
        abort();
    }

    return 0;
}
