/*
 * posthog-js's persistence cookie: a strict JSON reader that extracts the
 * few members we use, and a writer in JSON.stringify + encodeURIComponent
 * form.
 */

#include <string.h>

#include "posthog_jscookie.h"
#include "posthog_utf8.h"


typedef struct {
    const unsigned char  *p;
    const unsigned char  *start;
    const unsigned char  *end;
} ph_jp_t;


static int ph_hex(int c);
static void ph_ws(ph_jp_t *jp);
static int ph_string(ph_jp_t *jp, unsigned char *out, size_t max,
    size_t *olen, size_t *total);
static int ph_number(ph_jp_t *jp, uint64_t *n, int *integer);
static int ph_value(ph_jp_t *jp, int depth);
static int ph_sesid(ph_jp_t *jp, posthog_jscookie_t *jc);
static int ph_session_props(ph_jp_t *jp, posthog_jscookie_t *jc,
    unsigned char *sid, int *has_sid);


static int
ph_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static void
ph_ws(ph_jp_t *jp)
{
    while (jp->p < jp->end
           && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n'
               || *jp->p == '\r'))
    {
        jp->p++;
    }
}


/*
 * A JSON string at jp->p.  Decoded into "out" (up to "max" bytes, the rest
 * checked and dropped) when "out" is not NULL; "*total" is the length
 * decoded in full.  Raw bytes must be
 * well-formed UTF-8 and not control characters; \u escapes must not leave
 * a surrogate unpaired (JSON.parse would accept it, UTF-8 cannot hold it).
 */

static int
ph_string(ph_jp_t *jp, unsigned char *out, size_t max, size_t *olen,
    size_t *total)
{
    int            i, h;
    size_t         n, o, k, t;
    uint32_t       cp, lo;
    unsigned char  u[4];

    if (jp->p == jp->end || *jp->p != '"') {
        return POSTHOG_JSCOOKIE_BAD_JSON;
    }

    jp->p++;
    o = 0;
    t = 0;

    for ( ;; ) {
        if (jp->p == jp->end) {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        if (*jp->p == '"') {
            jp->p++;
            break;
        }

        if (*jp->p < 0x20) {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        if (*jp->p != '\\') {
            n = posthog_utf8_next(jp->p, (size_t) (jp->end - jp->p), &cp);
            if (cp == POSTHOG_UTF8_BAD) {
                return POSTHOG_JSCOOKIE_BAD_UTF8;
            }

            if (out && o + n <= max) {
                memcpy(out + o, jp->p, n);
                o += n;

            } else {
                out = NULL;     /* cut here, on a character boundary */
            }

            t += n;

            jp->p += n;
            continue;
        }

        jp->p++;

        if (jp->p == jp->end) {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        switch (*jp->p++) {
        case '"':  cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/':  cp = '/'; break;
        case 'b':  cp = '\b'; break;
        case 'f':  cp = '\f'; break;
        case 'n':  cp = '\n'; break;
        case 'r':  cp = '\r'; break;
        case 't':  cp = '\t'; break;

        case 'u':
            cp = 0;

            if (jp->end - jp->p < 4) {
                return POSTHOG_JSCOOKIE_BAD_JSON;
            }

            for (i = 0; i < 4; i++) {
                h = ph_hex(*jp->p++);
                if (h < 0) {
                    return POSTHOG_JSCOOKIE_BAD_JSON;
                }

                cp = (cp << 4) | (uint32_t) h;
            }

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                return POSTHOG_JSCOOKIE_BAD_UTF8;
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (jp->end - jp->p < 6 || jp->p[0] != '\\'
                    || jp->p[1] != 'u')
                {
                    return POSTHOG_JSCOOKIE_BAD_UTF8;
                }

                jp->p += 2;
                lo = 0;

                for (i = 0; i < 4; i++) {
                    h = ph_hex(*jp->p++);
                    if (h < 0) {
                        return POSTHOG_JSCOOKIE_BAD_JSON;
                    }

                    lo = (lo << 4) | (uint32_t) h;
                }

                if (lo < 0xdc00 || lo > 0xdfff) {
                    return POSTHOG_JSCOOKIE_BAD_UTF8;
                }

                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }

            break;

        default:
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        if (cp < 0x80) {
            u[0] = (unsigned char) cp;
            k = 1;

        } else if (cp < 0x800) {
            u[0] = (unsigned char) (0xc0 | (cp >> 6));
            u[1] = (unsigned char) (0x80 | (cp & 0x3f));
            k = 2;

        } else if (cp < 0x10000) {
            u[0] = (unsigned char) (0xe0 | (cp >> 12));
            u[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
            u[2] = (unsigned char) (0x80 | (cp & 0x3f));
            k = 3;

        } else {
            u[0] = (unsigned char) (0xf0 | (cp >> 18));
            u[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
            u[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
            u[3] = (unsigned char) (0x80 | (cp & 0x3f));
            k = 4;
        }

        if (out && o + k <= max) {
            memcpy(out + o, u, k);
            o += k;

        } else {
            out = NULL;
        }

        t += k;
    }

    if (olen) {
        *olen = o;
    }

    if (total) {
        *total = t;
    }

    return POSTHOG_JSCOOKIE_OK;
}


/*
 * A JSON number.  "*integer" tells whether it is a plain non-negative
 * integer of at most 16 digits (a JavaScript ms time), then in "*n".
 */

static int
ph_number(ph_jp_t *jp, uint64_t *n, int *integer)
{
    size_t                digits;
    const unsigned char  *s;

    s = jp->p;
    *n = 0;
    *integer = 1;
    digits = 0;

    if (jp->p < jp->end && *jp->p == '-') {
        *integer = 0;
        jp->p++;
    }

    if (jp->p == jp->end || *jp->p < '0' || *jp->p > '9') {
        return POSTHOG_JSCOOKIE_BAD_JSON;
    }

    if (*jp->p == '0') {
        jp->p++;

    } else {
        while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9') {
            if (++digits <= 16) {
                *n = *n * 10 + (uint64_t) (*jp->p - '0');
            }

            jp->p++;
        }
    }

    if (digits > 16 || *n > POSTHOG_JSCOOKIE_MS_MAX) {
        *integer = 0;
    }

    if (jp->p < jp->end && *jp->p == '.') {
        *integer = 0;
        jp->p++;

        if (jp->p == jp->end || *jp->p < '0' || *jp->p > '9') {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9') {
            jp->p++;
        }
    }

    if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
        *integer = 0;
        jp->p++;

        if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-')) {
            jp->p++;
        }

        if (jp->p == jp->end || *jp->p < '0' || *jp->p > '9') {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9') {
            jp->p++;
        }
    }

    return jp->p > s ? POSTHOG_JSCOOKIE_OK : POSTHOG_JSCOOKIE_BAD_JSON;
}


/* any JSON value, checked and skipped */

static int
ph_value(ph_jp_t *jp, int depth)
{
    int       rc, integer, first;
    uint64_t  n;
    char      close;

    ph_ws(jp);

    if (jp->p == jp->end) {
        return POSTHOG_JSCOOKIE_BAD_JSON;
    }

    switch (*jp->p) {

    case '"':
        return ph_string(jp, NULL, 0, NULL, NULL);

    case 't':
        if (jp->end - jp->p >= 4 && memcmp(jp->p, "true", 4) == 0) {
            jp->p += 4;
            return POSTHOG_JSCOOKIE_OK;
        }

        return POSTHOG_JSCOOKIE_BAD_JSON;

    case 'f':
        if (jp->end - jp->p >= 5 && memcmp(jp->p, "false", 5) == 0) {
            jp->p += 5;
            return POSTHOG_JSCOOKIE_OK;
        }

        return POSTHOG_JSCOOKIE_BAD_JSON;

    case 'n':
        if (jp->end - jp->p >= 4 && memcmp(jp->p, "null", 4) == 0) {
            jp->p += 4;
            return POSTHOG_JSCOOKIE_OK;
        }

        return POSTHOG_JSCOOKIE_BAD_JSON;

    case '[':
    case '{':
        if (depth >= POSTHOG_JSCOOKIE_DEPTH) {
            return POSTHOG_JSCOOKIE_TOO_DEEP;
        }

        close = (*jp->p == '[') ? ']' : '}';
        jp->p++;
        first = 1;

        for ( ;; ) {
            ph_ws(jp);

            if (jp->p == jp->end) {
                return POSTHOG_JSCOOKIE_BAD_JSON;
            }

            if (*jp->p == close && first) {
                jp->p++;
                return POSTHOG_JSCOOKIE_OK;
            }

            if (close == '}') {
                rc = ph_string(jp, NULL, 0, NULL, NULL);
                if (rc != POSTHOG_JSCOOKIE_OK) {
                    return rc;
                }

                ph_ws(jp);

                if (jp->p == jp->end || *jp->p != ':') {
                    return POSTHOG_JSCOOKIE_BAD_JSON;
                }

                jp->p++;
            }

            rc = ph_value(jp, depth + 1);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }

            ph_ws(jp);

            if (jp->p == jp->end) {
                return POSTHOG_JSCOOKIE_BAD_JSON;
            }

            if (*jp->p == close) {
                jp->p++;
                return POSTHOG_JSCOOKIE_OK;
            }

            if (*jp->p != ',') {
                return POSTHOG_JSCOOKIE_BAD_JSON;
            }

            jp->p++;
            first = 0;
        }

    default:
        return ph_number(jp, &n, &integer);
    }
}


/* $sesid: [last ms, "UUIDv7", start ms]; [] and null mean none */

static int
ph_sesid(ph_jp_t *jp, posthog_jscookie_t *jc)
{
    int       rc, integer;
    size_t    len, total;
    uint64_t  last, start;

    ph_ws(jp);

    if (jp->end - jp->p >= 4 && memcmp(jp->p, "null", 4) == 0) {
        jp->p += 4;
        return POSTHOG_JSCOOKIE_OK;
    }

    if (jp->p == jp->end || *jp->p != '[') {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    jp->p++;
    ph_ws(jp);

    if (jp->p < jp->end && *jp->p == ']') {
        jp->p++;
        return POSTHOG_JSCOOKIE_OK;
    }

    rc = ph_number(jp, &last, &integer);
    if (rc != POSTHOG_JSCOOKIE_OK) {
        return rc;
    }

    if (!integer || last == 0) {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    ph_ws(jp);

    if (jp->p == jp->end || *jp->p != ',') {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    jp->p++;
    ph_ws(jp);

    if (jp->p == jp->end || *jp->p != '"') {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    rc = ph_string(jp, jc->session, POSTHOG_UUID_LEN, &len, &total);
    if (rc != POSTHOG_JSCOOKIE_OK) {
        return rc;
    }

    if (total != len || !posthog_uuid_v7_valid(jc->session, len)) {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    ph_ws(jp);

    if (jp->p == jp->end || *jp->p != ',') {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    jp->p++;
    ph_ws(jp);

    rc = ph_number(jp, &start, &integer);
    if (rc != POSTHOG_JSCOOKIE_OK) {
        return rc;
    }

    if (!integer || start == 0 || start > last) {
        return POSTHOG_JSCOOKIE_BAD_SESSION;
    }

    ph_ws(jp);

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
ph_session_props(ph_jp_t *jp, posthog_jscookie_t *jc, unsigned char *sid,
    int *has_sid)
{
    int            rc, got_r, got_u;
    size_t         klen, len, total;
    unsigned char  key[16];

    ph_ws(jp);

    if (jp->p == jp->end || *jp->p != '{') {
        return ph_value(jp, 1);
    }

    jp->p++;
    ph_ws(jp);

    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
        return POSTHOG_JSCOOKIE_OK;
    }

    got_r = 0;
    got_u = 0;

    for ( ;; ) {
        ph_ws(jp);

        rc = ph_string(jp, key, sizeof(key), &klen, NULL);
        if (rc != POSTHOG_JSCOOKIE_OK) {
            return rc;
        }

        ph_ws(jp);

        if (jp->p == jp->end || *jp->p != ':') {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        jp->p++;
        ph_ws(jp);

        if (klen == 9 && memcmp(key, "sessionId", 9) == 0
            && jp->p < jp->end && *jp->p == '"')
        {
            rc = ph_string(jp, sid, POSTHOG_UUID_LEN, &len, &total);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }

            *has_sid = (total == len && posthog_uuid_valid(sid, len));

        } else if (klen == 5 && memcmp(key, "props", 5) == 0
                   && jp->p < jp->end && *jp->p == '{')
        {
            jp->p++;
            ph_ws(jp);

            if (jp->p < jp->end && *jp->p == '}') {
                jp->p++;
                goto next;
            }

            for ( ;; ) {
                ph_ws(jp);

                rc = ph_string(jp, key, sizeof(key), &klen, NULL);
                if (rc != POSTHOG_JSCOOKIE_OK) {
                    return rc;
                }

                ph_ws(jp);

                if (jp->p == jp->end || *jp->p != ':') {
                    return POSTHOG_JSCOOKIE_BAD_JSON;
                }

                jp->p++;
                ph_ws(jp);

                if (klen == 1 && key[0] == 'r'
                    && jp->p < jp->end && *jp->p == '"')
                {
                    rc = ph_string(jp, jc->ref, POSTHOG_JSCOOKIE_REF_MAX,
                                   &jc->ref_len, NULL);
                    got_r = 1;

                } else if (klen == 1 && key[0] == 'u'
                           && jp->p < jp->end && *jp->p == '"')
                {
                    rc = ph_string(jp, jc->url, POSTHOG_JSCOOKIE_URL_MAX,
                                   &jc->url_len, NULL);
                    got_u = 1;

                } else {
                    rc = ph_value(jp, 3);
                }

                if (rc != POSTHOG_JSCOOKIE_OK) {
                    return rc;
                }

                ph_ws(jp);

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
            rc = ph_value(jp, 2);
            if (rc != POSTHOG_JSCOOKIE_OK) {
                return rc;
            }
        }

    next:

        ph_ws(jp);

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
    ph_jp_t                   jp;
    posthog_jscookie_span_t  *k;
    unsigned char         key[32], sid[POSTHOG_UUID_LEN], dev[64];
    const unsigned char  *member;

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

        hi = ph_hex(p[i + 1]);
        lo = ph_hex(p[i + 2]);

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

    ph_ws(&jp);

    if (jp.p == jp.end || *jp.p != '{') {
        /* a valid JSON that is not an object, or no JSON at all */
        rc = ph_value(&jp, 0);
        if (rc != POSTHOG_JSCOOKIE_OK) {
            return rc;
        }

        ph_ws(&jp);

        return jp.p == jp.end ? POSTHOG_JSCOOKIE_NOT_OBJECT
                              : POSTHOG_JSCOOKIE_BAD_JSON;
    }

    jp.p++;
    seen = 0;
    has_sid = 0;
    idn = 0;

    ph_ws(&jp);

    if (jp.p < jp.end && *jp.p == '}') {
        jp.p++;
        goto done;
    }

    for ( ;; ) {
        ph_ws(&jp);

        member = jp.p;

        rc = ph_string(&jp, key, sizeof(key), &klen, NULL);
        if (rc != POSTHOG_JSCOOKIE_OK) {
            return rc;
        }

        ph_ws(&jp);

        if (jp.p == jp.end || *jp.p != ':') {
            return POSTHOG_JSCOOKIE_BAD_JSON;
        }

        jp.p++;
        ph_ws(&jp);

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
                rc = ph_value(&jp, 1);
                return rc == POSTHOG_JSCOOKIE_OK ? POSTHOG_JSCOOKIE_BAD_TYPE
                                                 : rc;
            }

            rc = ph_string(&jp, jc->id, sizeof(jc->id), &idn, &n);
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
                rc = ph_value(&jp, 1);
                return rc == POSTHOG_JSCOOKIE_OK ? POSTHOG_JSCOOKIE_BAD_TYPE
                                                 : rc;
            }

            rc = ph_string(&jp, dev, sizeof(dev), &n, NULL);
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
                rc = ph_value(&jp, 1);
                return rc == POSTHOG_JSCOOKIE_OK ? POSTHOG_JSCOOKIE_BAD_TYPE
                                                 : rc;
            }

            rc = ph_string(&jp, dev, sizeof(dev), &n, NULL);
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
            rc = ph_value(&jp, 1);
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

        ph_ws(&jp);

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

    ph_ws(&jp);

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


/* the writer: JSON text, percent-encoded as it is written */

typedef struct {
    unsigned char  *p;
    unsigned char  *end;
    int             full;
} ph_out_t;


static void
ph_put(ph_out_t *w, const unsigned char *s, size_t len)
{
    size_t  i;
    int     c;

    static const char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < len; i++) {
        c = s[i];

        /* encodeURIComponent's unreserved set */

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '!' || c == '~' || c == '*' || c == '\'' || c == '('
            || c == ')')
        {
            if (w->end - w->p < 1) {
                w->full = 1;
                return;
            }

            *w->p++ = (unsigned char) c;
            continue;
        }

        if (w->end - w->p < 3) {
            w->full = 1;
            return;
        }

        *w->p++ = '%';
        *w->p++ = (unsigned char) hex[c >> 4];
        *w->p++ = (unsigned char) hex[c & 0xf];
    }
}


static void
ph_puts(ph_out_t *w, const char *s)
{
    ph_put(w, (const unsigned char *) s, strlen(s));
}


/* a JSON string as JSON.stringify writes it; "s" is valid UTF-8 */

static void
ph_put_string(ph_out_t *w, const unsigned char *s, size_t len)
{
    size_t         i;
    unsigned char  e[6];

    static const char  hex[] = "0123456789abcdef";

    ph_puts(w, "\"");

    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '"':  ph_puts(w, "\\\""); continue;
        case '\\': ph_puts(w, "\\\\"); continue;
        case '\b': ph_puts(w, "\\b"); continue;
        case '\f': ph_puts(w, "\\f"); continue;
        case '\n': ph_puts(w, "\\n"); continue;
        case '\r': ph_puts(w, "\\r"); continue;
        case '\t': ph_puts(w, "\\t"); continue;
        }

        if (s[i] < 0x20) {
            e[0] = '\\';
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = (unsigned char) hex[s[i] >> 4];
            e[5] = (unsigned char) hex[s[i] & 0xf];
            ph_put(w, e, 6);
            continue;
        }

        ph_put(w, s + i, 1);
    }

    ph_puts(w, "\"");
}


static void
ph_put_uint(ph_out_t *w, uint64_t n)
{
    unsigned char  buf[24], *p;

    p = buf + sizeof(buf);

    do {
        *--p = (unsigned char) ('0' + n % 10);
        n /= 10;
    } while (n);

    ph_put(w, p, (size_t) (buf + sizeof(buf) - p));
}


/* new Date(ms).toISOString(): "2026-11-28T20:16:40.767Z" */

static void
ph_put_iso(ph_out_t *w, uint64_t ms)
{
    int            i;
    char           buf[32];
    uint64_t       days, secs, y, m, d, doe, yoe, doy, mp, era;
    unsigned int   v[7];

    days = ms / 86400000;
    secs = (ms / 1000) % 86400;

    /* H. Hinnant's civil_from_days, for days since 1970-01-01 >= 0 */

    days += 719468;
    era = days / 146097;
    doe = days - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += (m <= 2);

    v[0] = (unsigned int) (y % 10000);
    v[1] = (unsigned int) m;
    v[2] = (unsigned int) d;
    v[3] = (unsigned int) (secs / 3600);
    v[4] = (unsigned int) (secs / 60 % 60);
    v[5] = (unsigned int) (secs % 60);
    v[6] = (unsigned int) (ms % 1000);

    i = 0;
    buf[i++] = '"';
    buf[i++] = (char) ('0' + v[0] / 1000);
    buf[i++] = (char) ('0' + v[0] / 100 % 10);
    buf[i++] = (char) ('0' + v[0] / 10 % 10);
    buf[i++] = (char) ('0' + v[0] % 10);
    buf[i++] = '-';
    buf[i++] = (char) ('0' + v[1] / 10);
    buf[i++] = (char) ('0' + v[1] % 10);
    buf[i++] = '-';
    buf[i++] = (char) ('0' + v[2] / 10);
    buf[i++] = (char) ('0' + v[2] % 10);
    buf[i++] = 'T';
    buf[i++] = (char) ('0' + v[3] / 10);
    buf[i++] = (char) ('0' + v[3] % 10);
    buf[i++] = ':';
    buf[i++] = (char) ('0' + v[4] / 10);
    buf[i++] = (char) ('0' + v[4] % 10);
    buf[i++] = ':';
    buf[i++] = (char) ('0' + v[5] / 10);
    buf[i++] = (char) ('0' + v[5] % 10);
    buf[i++] = '.';
    buf[i++] = (char) ('0' + v[6] / 100);
    buf[i++] = (char) ('0' + v[6] / 10 % 10);
    buf[i++] = (char) ('0' + v[6] % 10);
    buf[i++] = 'Z';
    buf[i++] = '"';

    ph_put(w, (unsigned char *) buf, (size_t) i);
}


/* {"r":ref,"u":url} */

static void
ph_put_touch(ph_out_t *w, const unsigned char *ref, size_t ref_len,
    const unsigned char *url, size_t url_len)
{
    ph_puts(w, "{\"r\":");
    ph_put_string(w, ref, ref_len);
    ph_puts(w, ",\"u\":");
    ph_put_string(w, url, url_len);
    ph_puts(w, "}");
}


size_t
posthog_jscookie_encode(unsigned char *out, size_t max,
    const posthog_jscookie_out_t *o)
{
    size_t     i, start, n;
    ph_out_t   w;
    const posthog_jscookie_span_t  *k;

    if (posthog_id_check(o->id, o->id_len, &start, &n) != POSTHOG_ID_OK
        || start != 0 || n != o->id_len
        || !posthog_uuid_valid(o->device, POSTHOG_UUID_LEN)
        || (o->session
            && (!posthog_uuid_v7_valid(o->session, POSTHOG_UUID_LEN)
                || o->session_start == 0
                || o->session_start > o->session_last
                || o->session_last > POSTHOG_JSCOOKIE_MS_MAX))
        || (o->entry_url
            && (!posthog_utf8_valid(o->entry_url, o->entry_url_len)
                || !posthog_utf8_valid(o->entry_ref, o->entry_ref_len)))
        || (o->initial_url
            && (!posthog_utf8_valid(o->initial_url, o->initial_url_len)
                || !posthog_utf8_valid(o->initial_ref, o->initial_ref_len)))
        || o->reset > POSTHOG_JSCOOKIE_MS_MAX)
    {
        return 0;
    }

    w.p = out;
    w.end = out + max;
    w.full = 0;

    /* in the order posthog-js writes a first visit's cookie */

    ph_puts(&w, "{\"distinct_id\":");
    ph_put_string(&w, o->id, o->id_len);
    ph_puts(&w, ",\"$device_id\":");
    ph_put_string(&w, o->device, POSTHOG_UUID_LEN);
    ph_puts(&w, ",\"$user_state\":");
    ph_puts(&w, o->identified ? "\"identified\"" : "\"anonymous\"");

    if (o->initial_url) {
        ph_puts(&w, ",\"$initial_person_info\":");
        ph_put_touch(&w, o->initial_ref, o->initial_ref_len,
                     o->initial_url, o->initial_url_len);
    }

    if (o->session) {
        ph_puts(&w, ",\"$sesid\":[");
        ph_put_uint(&w, o->session_last);
        ph_puts(&w, ",");
        ph_put_string(&w, o->session, POSTHOG_UUID_LEN);
        ph_puts(&w, ",");
        ph_put_uint(&w, o->session_start);
        ph_puts(&w, "]");

        if (o->entry_url) {
            ph_puts(&w, ",\"$client_session_props\":{\"sessionId\":");
            ph_put_string(&w, o->session, POSTHOG_UUID_LEN);
            ph_puts(&w, ",\"props\":");
            ph_put_touch(&w, o->entry_ref, o->entry_ref_len,
                         o->entry_url, o->entry_url_len);
            ph_puts(&w, "}");
        }
    }

    if (o->reset) {
        ph_puts(&w, ",\"$last_posthog_reset\":");
        ph_put_iso(&w, o->reset);
    }

    if (o->identified) {
        ph_puts(&w, ",\"$epp\":true,\"$user_id\":");
        ph_put_string(&w, o->id, o->id_len);
    }

    /* posthog-js's other members, as it wrote them (checked JSON) */

    if (o->keep) {
        for (i = 0; i < o->keep->nkeep; i++) {
            k = &o->keep->keep[i];

            if (k->len > o->keep->json_len
                || k->off > o->keep->json_len - k->len)
            {
                return 0;
            }

            /* ours, written above (or stale if anonymous now) */

            if (k->kind == POSTHOG_JSCOOKIE_USER_ID
                || k->kind == POSTHOG_JSCOOKIE_EPP
                || (k->kind == POSTHOG_JSCOOKIE_INITIAL && o->initial_url)
                || (k->kind == POSTHOG_JSCOOKIE_RESET && o->reset))
            {
                continue;
            }

            ph_puts(&w, ",");
            ph_put(&w, o->keep->json + k->off, k->len);
        }
    }

    ph_puts(&w, "}");

    if (w.full) {
        return 0;
    }

    return (size_t) (w.p - out);
}


size_t
posthog_jscookie_name(unsigned char *out, const unsigned char *token,
    size_t len)
{
    size_t          i;
    unsigned char  *p;

    p = out;
    memcpy(p, "ph_", 3);
    p += 3;

    for (i = 0; i < len; i++) {
        switch (token[i]) {
        case '+':
            *p++ = 'P';
            *p++ = 'L';
            break;
        case '/':
            *p++ = 'S';
            *p++ = 'L';
            break;
        case '=':
            *p++ = 'E';
            *p++ = 'Q';
            break;
        default:
            *p++ = token[i];
        }
    }

    memcpy(p, "_posthog", 8);
    p += 8;

    return (size_t) (p - out);
}
