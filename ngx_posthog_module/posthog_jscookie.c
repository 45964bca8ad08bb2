/*
 * posthog-js's persistence cookie: read as hostile input, with the strict
 * JSON reader of posthog_json_read.c, extracting the few members we use.
 * The writer is in posthog_jscookie_write.c.
 */

#include <string.h>

#include "posthog_jscookie.h"


static int ph_sesid(posthog_json_reader_t *jp, posthog_jscookie_t *jc);
static int ph_session_props(posthog_json_reader_t *jp,
    posthog_jscookie_t *jc, unsigned char *sid, int *has_sid);


/* $sesid: [last ms, "UUIDv7", start ms]; [] and null mean none */

static int
ph_sesid(posthog_json_reader_t *jp, posthog_jscookie_t *jc)
{
    int       rc, integer;
    size_t    len, total;
    uint64_t  last, start;

    posthog_json_read_ws(jp);

    if (jp->end - jp->p >= 4 && memcmp(jp->p, "null", 4) == 0) {
        jp->p += 4;
        return POSTHOG_JSCOOKIE_OK;
    }

    if (jp->p == jp->end || *jp->p != '[') {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    jp->p++;
    posthog_json_read_ws(jp);

    if (jp->p < jp->end && *jp->p == ']') {
        jp->p++;
        return POSTHOG_JSCOOKIE_OK;
    }

    rc = posthog_json_read_number(jp, &last, &integer);
    if (rc != POSTHOG_JSCOOKIE_OK) {
        return rc;
    }

    if (!integer || last == 0) {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    posthog_json_read_ws(jp);

    if (jp->p == jp->end || *jp->p != ',') {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    jp->p++;
    posthog_json_read_ws(jp);

    if (jp->p == jp->end || *jp->p != '"') {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    rc = posthog_json_read_string(jp, jc->session, POSTHOG_UUID_LEN, &len,
                                  &total);
    if (rc != POSTHOG_JSCOOKIE_OK) {
        return rc;
    }

    if (total != len || !posthog_uuid_v7_valid(jc->session, len)) {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    posthog_json_read_ws(jp);

    if (jp->p == jp->end || *jp->p != ',') {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    jp->p++;
    posthog_json_read_ws(jp);

    rc = posthog_json_read_number(jp, &start, &integer);
    if (rc != POSTHOG_JSCOOKIE_OK) {
        return rc;
    }

    if (!integer || start == 0 || start > last) {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    posthog_json_read_ws(jp);

    if (jp->p == jp->end || *jp->p != ']') {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    jp->p++;

    jc->has_session = 1;
    jc->session_last = last;
    jc->session_start = start;

    return POSTHOG_JSCOOKIE_OK;
}


/*
 * $client_session_props: {"sessionId": S, "props": {"r": R, "u": U}};
 * other members are checked and ignored.  Anything else: no entry (it is
 * posthog-js's cache, not worth refusing the identity for).
 */

static int
ph_session_props(posthog_json_reader_t *jp, posthog_jscookie_t *jc,
    unsigned char *sid, int *has_sid)
{
    int            rc, got_r, got_u;
    size_t         klen, len, total;
    unsigned char  key[16];

    posthog_json_read_ws(jp);

    if (jp->p == jp->end || *jp->p != '{') {
        return posthog_json_read_value(jp, 1);
    }

    jp->p++;
    posthog_json_read_ws(jp);

    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
        return POSTHOG_JSCOOKIE_OK;
    }

    got_r = 0;
    got_u = 0;

    for ( ;; ) {
        posthog_json_read_ws(jp);

        rc = posthog_json_read_string(jp, key, sizeof(key), &klen, NULL);
        if (rc != POSTHOG_JSCOOKIE_OK) {
            return rc;
        }

        posthog_json_read_ws(jp);

        if (jp->p == jp->end || *jp->p != ':') {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        jp->p++;
        posthog_json_read_ws(jp);

        if (klen == 9 && memcmp(key, "sessionId", 9) == 0
            && jp->p < jp->end && *jp->p == '"')
        {
            rc = posthog_json_read_string(jp, sid, POSTHOG_UUID_LEN, &len,
                                          &total);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }

            *has_sid = (total == len && posthog_uuid_valid(sid, len));

        } else if (klen == 5 && memcmp(key, "props", 5) == 0
                   && jp->p < jp->end && *jp->p == '{')
        {
            jp->p++;
            posthog_json_read_ws(jp);

            if (jp->p < jp->end && *jp->p == '}') {
                jp->p++;
                goto next;
            }

            for ( ;; ) {
                posthog_json_read_ws(jp);

                rc = posthog_json_read_string(jp, key, sizeof(key), &klen,
                                              NULL);
                if (rc != POSTHOG_JSCOOKIE_OK) {
                    return rc;
                }

                posthog_json_read_ws(jp);

                if (jp->p == jp->end || *jp->p != ':') {
                    return POSTHOG_JSCOOKIE_BAD_JSON;
                }

                jp->p++;
                posthog_json_read_ws(jp);

                if (klen == 1 && key[0] == 'r'
                    && jp->p < jp->end && *jp->p == '"')
                {
                    rc = posthog_json_read_string(jp, jc->ref,
                                                  POSTHOG_JSCOOKIE_REF_MAX,
                                                  &jc->ref_len, NULL);
                    got_r = 1;

                } else if (klen == 1 && key[0] == 'u'
                           && jp->p < jp->end && *jp->p == '"')
                {
                    rc = posthog_json_read_string(jp, jc->url,
                                                  POSTHOG_JSCOOKIE_URL_MAX,
                                                  &jc->url_len, NULL);
                    got_u = 1;

                } else {
                    rc = posthog_json_read_value(jp, 3);
                }

                if (rc != POSTHOG_JSCOOKIE_OK) {
                    return rc;
                }

                posthog_json_read_ws(jp);

                if (jp->p < jp->end && *jp->p == '}') {
                    jp->p++;
                    break;
                }

                if (jp->p == jp->end || *jp->p != ',') {
                    return POSTHOG_JSCOOKIE_BAD_JSON;
                }

                jp->p++;
            }

        } else {
            rc = posthog_json_read_value(jp, 2);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }
        }

    next:

        posthog_json_read_ws(jp);

        if (jp->p < jp->end && *jp->p == '}') {
            jp->p++;
            break;
        }

        if (jp->p == jp->end || *jp->p != ',') {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        jp->p++;
    }

    jc->has_entry = got_r && got_u && jc->url_len > 0;

    return POSTHOG_JSCOOKIE_OK;
}


#define PH_SEEN_ID      0x01
#define PH_SEEN_DEVICE  0x02
#define PH_SEEN_STATE   0x04
#define PH_SEEN_SESID   0x08
#define PH_SEEN_PROPS   0x10

int
posthog_jscookie_parse(posthog_jscookie_t *jc, const unsigned char *p,
    size_t len)
{
    int                       rc, hi, lo, seen, bit, has_sid;
    size_t                    i, n, klen, start, idn;
    unsigned char             key[32], sid[POSTHOG_UUID_LEN], dev[64];
    const unsigned char      *member;
    posthog_json_reader_t     jp;
    posthog_jscookie_span_t  *k;

    if (len > POSTHOG_JSCOOKIE_MAX) {
        return POSTHOG_JSCOOKIE_TOO_LONG;
    }

    memset(jc, 0, sizeof(posthog_jscookie_t) - sizeof(jc->json));

    /* decodeURIComponent(); the UTF-8 is checked with the JSON strings */

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] != '%') {
            jc->json[n++] = p[i];
            continue;
        }

        if (len - i < 3) {
            return POSTHOG_JSCOOKIE_BAD_ENCODING;
        }

        hi = posthog_json_hex(p[i + 1]);
        lo = posthog_json_hex(p[i + 2]);

        if (hi < 0 || lo < 0) {
            return POSTHOG_JSCOOKIE_BAD_ENCODING;
        }

        jc->json[n++] = (unsigned char) (hi << 4 | lo);
        i += 2;
    }

    jc->json_len = n;

    jp.start = jc->json;
    jp.p = jc->json;
    jp.end = jc->json + n;
    jp.depth_max = POSTHOG_JSCOOKIE_DEPTH;

    posthog_json_read_ws(&jp);

    if (jp.p == jp.end || *jp.p != '{') {
        /* a valid JSON that is not an object, or no JSON at all */
        rc = posthog_json_read_value(&jp, 0);
        if (rc != POSTHOG_JSCOOKIE_OK) {
            return rc;
        }

        posthog_json_read_ws(&jp);

        return jp.p == jp.end ? POSTHOG_JSCOOKIE_NOT_OBJECT
                              : POSTHOG_JSCOOKIE_BAD_JSON;
    }

    jp.p++;
    seen = 0;
    has_sid = 0;
    idn = 0;

    posthog_json_read_ws(&jp);

    if (jp.p < jp.end && *jp.p == '}') {
        jp.p++;
        goto done;
    }

    for ( ;; ) {
        posthog_json_read_ws(&jp);

        member = jp.p;

        rc = posthog_json_read_string(&jp, key, sizeof(key), &klen, NULL);
        if (rc != POSTHOG_JSCOOKIE_OK) {
            return rc;
        }

        posthog_json_read_ws(&jp);

        if (jp.p == jp.end || *jp.p != ':') {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        jp.p++;
        posthog_json_read_ws(&jp);

        bit = 0;

        if (klen == 11 && memcmp(key, "distinct_id", 11) == 0) {
            bit = PH_SEEN_ID;

        } else if (klen == 10 && memcmp(key, "$device_id", 10) == 0) {
            bit = PH_SEEN_DEVICE;

        } else if (klen == 11 && memcmp(key, "$user_state", 11) == 0) {
            bit = PH_SEEN_STATE;

        } else if (klen == 6 && memcmp(key, "$sesid", 6) == 0) {
            bit = PH_SEEN_SESID;

        } else if (klen == 21
                   && memcmp(key, "$client_session_props", 21) == 0)
        {
            bit = PH_SEEN_PROPS;
        }

        if (bit & seen) {
            return POSTHOG_JSCOOKIE_DUPLICATE;
        }

        seen |= bit;

        switch (bit) {

        case PH_SEEN_ID:
            if (jp.p == jp.end || *jp.p != '"') {
                rc = posthog_json_read_value(&jp, 1);
                return rc == POSTHOG_JSCOOKIE_OK ? POSTHOG_JSCOOKIE_BAD_TYPE
                                                 : rc;
            }

            rc = posthog_json_read_string(&jp, jc->id, sizeof(jc->id), &idn,
                                          &n);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }

            /* the whole id must fit: a cut one would be another person */
            if (n != idn) {
                return POSTHOG_JSCOOKIE_BAD_ID;
            }

            break;

        case PH_SEEN_DEVICE:
            if (jp.p == jp.end || *jp.p != '"') {
                rc = posthog_json_read_value(&jp, 1);
                return rc == POSTHOG_JSCOOKIE_OK ? POSTHOG_JSCOOKIE_BAD_TYPE
                                                 : rc;
            }

            rc = posthog_json_read_string(&jp, dev, sizeof(dev), &n, NULL);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }

            /* posthog-js makes UUIDs; a bootstrapped one may be anything */
            /* (64 bytes hold a UUID: a longer string is cut, not one) */
            if (posthog_uuid_valid(dev, n)) {
                memcpy(jc->device, dev, POSTHOG_UUID_LEN);
                jc->has_device = 1;
            }

            break;

        case PH_SEEN_STATE:
            if (jp.p == jp.end || *jp.p != '"') {
                rc = posthog_json_read_value(&jp, 1);
                return rc == POSTHOG_JSCOOKIE_OK ? POSTHOG_JSCOOKIE_BAD_TYPE
                                                 : rc;
            }

            rc = posthog_json_read_string(&jp, dev, sizeof(dev), &n, NULL);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }

            if (n == 9 && memcmp(dev, "anonymous", 9) == 0) {
                jc->user_state = POSTHOG_JSCOOKIE_ANONYMOUS;

            } else if (n == 10 && memcmp(dev, "identified", 10) == 0) {
                jc->user_state = POSTHOG_JSCOOKIE_IDENTIFIED;

            } else {
                return POSTHOG_JSCOOKIE_BAD_TYPE;
            }

            break;

        case PH_SEEN_SESID:
            rc = ph_sesid(&jp, jc);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }

            break;

        case PH_SEEN_PROPS:
            rc = ph_session_props(&jp, jc, sid, &has_sid);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }

            break;

        default:
            rc = posthog_json_read_value(&jp, 1);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }

            /* kept verbatim, without the whitespace around it */

            if (jc->nkeep < POSTHOG_JSCOOKIE_KEEP) {
                k = &jc->keep[jc->nkeep++];
                k->off = (size_t) (member - jp.start);
                k->len = (size_t) (jp.p - member);
                k->kind = POSTHOG_JSCOOKIE_OTHER;

                if (klen == 8 && memcmp(key, "$user_id", 8) == 0) {
                    k->kind = POSTHOG_JSCOOKIE_USER_ID;

                } else if (klen == 4 && memcmp(key, "$epp", 4) == 0) {
                    k->kind = POSTHOG_JSCOOKIE_EPP;

                } else if (klen == 20
                           && memcmp(key, "$initial_person_info", 20) == 0)
                {
                    k->kind = POSTHOG_JSCOOKIE_INITIAL;

                } else if (klen == 19
                           && memcmp(key, "$last_posthog_reset", 19) == 0)
                {
                    k->kind = POSTHOG_JSCOOKIE_RESET;
                }
            }

            break;
        }

        posthog_json_read_ws(&jp);

        if (jp.p < jp.end && *jp.p == '}') {
            jp.p++;
            break;
        }

        if (jp.p == jp.end || *jp.p != ',') {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        jp.p++;
    }

done:

    posthog_json_read_ws(&jp);

    if (jp.p != jp.end) {
        return POSTHOG_JSCOOKIE_BAD_JSON;
    }

    if (!(seen & PH_SEEN_ID)) {
        return POSTHOG_JSCOOKIE_NO_ID;
    }

    if (posthog_id_check(jc->id, idn, &start, &n) != POSTHOG_ID_OK
        || start != 0 || n != idn)
    {
        return POSTHOG_JSCOOKIE_BAD_ID;
    }

    jc->id_len = idn;

    /* the entry is that of the current session only */

    if (jc->has_entry
        && !(has_sid && jc->has_session
             && memcmp(sid, jc->session, POSTHOG_UUID_LEN) == 0))
    {
        jc->has_entry = 0;
    }

    if (!jc->has_entry) {
        jc->ref_len = 0;
        jc->url_len = 0;

    } else if (jc->ref_len == 0) {
        jc->has_entry = 0;
        jc->url_len = 0;
    }

    return POSTHOG_JSCOOKIE_OK;
}


const char *
posthog_jscookie_reason(int rc)
{
    switch (rc) {
    case POSTHOG_JSCOOKIE_OK:           return "ok";
    case POSTHOG_JSCOOKIE_TOO_LONG:     return "too long";
    case POSTHOG_JSCOOKIE_BAD_ENCODING: return "bad percent-encoding";
    case POSTHOG_JSCOOKIE_BAD_JSON:     return "not JSON";
    case POSTHOG_JSCOOKIE_TOO_DEEP:     return "nested too deep";
    case POSTHOG_JSCOOKIE_BAD_UTF8:     return "invalid UTF-8";
    case POSTHOG_JSCOOKIE_NOT_OBJECT:   return "not a JSON object";
    case POSTHOG_JSCOOKIE_DUPLICATE:    return "duplicate member";
    case POSTHOG_JSCOOKIE_NO_ID:        return "no distinct_id";
    case POSTHOG_JSCOOKIE_BAD_ID:       return "refused distinct_id";
    case POSTHOG_JSCOOKIE_BAD_TYPE:     return "member of a wrong type";
    case POSTHOG_JSCOOKIE_BAD_SESSION:  return "bad $sesid";
    default:                            return "unknown error";
    }
}
