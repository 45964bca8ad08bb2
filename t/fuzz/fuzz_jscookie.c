/*
 * libFuzzer target for posthog_jscookie_parse(): never reads out of
 * bounds, and what it accepts holds a checked id, UUIDs, UTF-8 entries
 * within their maxima, kept spans inside the JSON; the writer's output
 * for it parses back to the same fields and holds cookie-octets only.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posthog_jscookie.h"
#include "posthog_utf8.h"
#include "posthog_cookie.h"


static posthog_jscookie_t  jc, back;
static unsigned char       out[POSTHOG_JSCOOKIE_MAX];


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     rc;
    size_t                  i, n, start, len;
    posthog_jscookie_out_t  o;

    rc = posthog_jscookie_parse(&jc, data, size);

    if (rc != POSTHOG_JSCOOKIE_OK) {
        if (rc >= 0 || posthog_jscookie_reason(rc) == NULL) {
            abort();
        }

        return 0;
    }

    if (posthog_id_check(jc.id, jc.id_len, &start, &len) != POSTHOG_ID_OK
        || start != 0 || len != jc.id_len
        || (jc.has_device && !posthog_uuid_valid(jc.device, 36))
        || (jc.has_session && (!posthog_uuid_v7_valid(jc.session, 36)
                               || jc.session_start > jc.session_last))
        || (jc.has_entry && !jc.has_session)
        || jc.ref_len > POSTHOG_JSCOOKIE_REF_MAX
        || jc.url_len > POSTHOG_JSCOOKIE_URL_MAX
        || !posthog_utf8_valid(jc.ref, jc.ref_len)
        || !posthog_utf8_valid(jc.url, jc.url_len)
        || jc.nkeep > POSTHOG_JSCOOKIE_KEEP
        || jc.json_len > size)
    {
        abort();
    }

    for (i = 0; i < jc.nkeep; i++) {
        if (jc.keep[i].off + jc.keep[i].len > jc.json_len) {
            abort();
        }
    }

    memset(&o, 0, sizeof(o));
    o.id = jc.id;
    o.id_len = jc.id_len;
    o.device = jc.has_device ? jc.device
                             : (const unsigned char *)
                               "01a223cd-6619-7435-92fa-8223dd7d142d";
    o.identified = (jc.user_state == POSTHOG_JSCOOKIE_IDENTIFIED);
    o.keep = &jc;

    if (jc.has_session) {
        o.session = jc.session;
        o.session_last = jc.session_last;
        o.session_start = jc.session_start;

        if (jc.has_entry) {
            o.entry_ref = jc.ref;
            o.entry_ref_len = jc.ref_len;
            o.entry_url = jc.url;
            o.entry_url_len = jc.url_len;
        }
    }

    n = posthog_jscookie_encode(out, sizeof(out), &o);
    if (n == 0) {
        return 0;       /* kept members may not fit */
    }

    if (!posthog_cookie_value_valid(out, n)) {
        abort();
    }

    if (posthog_jscookie_parse(&back, out, n) != POSTHOG_JSCOOKIE_OK
        || back.id_len != jc.id_len
        || memcmp(back.id, jc.id, jc.id_len) != 0
        || back.has_session != jc.has_session
        || (jc.has_session && (back.session_last != jc.session_last
                               || back.session_start != jc.session_start))
        || back.has_entry != jc.has_entry
        || back.url_len != jc.url_len
        || memcmp(back.url, jc.url, jc.url_len) != 0)
    {
        abort();
    }

    return 0;
}
