/*
 * The checks an entry passes before its event is held for a batch. An
 * entry that fails them goes to the dead-letter stream with a reason
 * (docs/shipper.md lists them); one whose shape is not a stream entry's is
 * no proof that the entry is gone, and is left pending.
 */

#include <string.h>

#include "intake.h"


int
ph_intake_check(const ph_rentry_t *e, ph_intake_t *in)
{
    size_t           i;
    const ph_str_t  *k, *v;

    memset(in, 0, sizeof(ph_intake_t));

    switch (e->shape) {

    case PH_FIELDS_ARRAY:
        break;

    case PH_FIELDS_NIL:
        /* pending, but trimmed by MAXLEN ~ before anyone delivered it:
         * nothing left to send, and it would come back from every PEL
         * read until acknowledged */
        return PH_INTAKE_TRIMMED;

    case PH_FIELDS_NONE:
        in->reason = "no fields";
        return PH_INTAKE_LEAVE;

    default:
        in->reason = "not an array";
        return PH_INTAKE_LEAVE;
    }

    for (i = 0; i + 1 < e->n; i += 2) {
        k = &e->kv[i];
        v = &e->kv[i + 1];

        if (k->p == NULL || v->p == NULL || k->len != 1) {
            continue;
        }

        if (k->p[0] == POSTHOG_STREAM_FIELD_VERSION[0]) {
            in->v = *v;

        } else if (k->p[0] == POSTHOG_STREAM_FIELD_TOKEN[0]) {
            in->t = *v;

        } else if (k->p[0] == POSTHOG_STREAM_FIELD_EVENT[0]) {
            in->e = *v;
        }
    }

    if (in->v.p == NULL
        || !posthog_stream_version_ok((const unsigned char *) in->v.p,
                                      in->v.len))
    {
        in->reason = "unknown_version";

    } else if (in->t.p == NULL || in->t.len == 0) {
        in->reason = "missing_token";

    } else if (!posthog_stream_token_ok((const unsigned char *) in->t.p,
                                        in->t.len))
    {
        in->reason = "bad_token";

    } else if (in->e.p == NULL || in->e.len == 0) {
        in->reason = "missing_event";

    } else if (in->e.len > POSTHOG_STREAM_EVENT_MAX) {
        in->reason = "too_large";

    } else if (!posthog_stream_is_object((const unsigned char *) in->e.p,
                                         in->e.len))
    {
        in->reason = "not_a_json_object";
    }

    return in->reason ? PH_INTAKE_DEAD : PH_INTAKE_HOLD;
}
