/*
 * A small strict reader of untrusted JSON: see posthog_json_read.h.
 */

#include <string.h>

#include "posthog_json_read.h"
#include "posthog_utf8.h"


int
posthog_json_hex(int c)
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


void
posthog_json_read_ws(posthog_json_reader_t *r)
{
    while (r->p < r->end
           && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n'
               || *r->p == '\r'))
    {
        r->p++;
    }
}


/*
 * A JSON string at r->p.  Decoded into "out" (up to "max" bytes, the rest
 * checked and dropped) when "out" is not NULL; "*total" is the length
 * decoded in full.  Raw bytes must be
 * well-formed UTF-8 and not control characters; \u escapes must not leave
 * a surrogate unpaired (JSON.parse would accept it, UTF-8 cannot hold it).
 */

int
posthog_json_read_string(posthog_json_reader_t *r, unsigned char *out,
    size_t max, size_t *olen, size_t *total)
{
    int            i, h;
    size_t         n, o, k, t;
    uint32_t       cp, lo;
    unsigned char  u[4];

    if (r->p == r->end || *r->p != '"') {
        return POSTHOG_JSON_BAD;
    }

    r->p++;
    o = 0;
    t = 0;

    for ( ;; ) {
        if (r->p == r->end) {
            return POSTHOG_JSON_BAD;
        }

        if (*r->p == '"') {
            r->p++;
            break;
        }

        if (*r->p < 0x20) {
            return POSTHOG_JSON_BAD;
        }

        if (*r->p != '\\') {
            n = posthog_utf8_next(r->p, (size_t) (r->end - r->p), &cp);
            if (cp == POSTHOG_UTF8_BAD) {
                return POSTHOG_JSON_BAD_UTF8;
            }

            if (out && o + n <= max) {
                memcpy(out + o, r->p, n);
                o += n;

            } else {
                out = NULL;     /* cut here, on a character boundary */
            }

            t += n;

            r->p += n;
            continue;
        }

        r->p++;

        if (r->p == r->end) {
            return POSTHOG_JSON_BAD;
        }

        switch (*r->p++) {
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

            if (r->end - r->p < 4) {
                return POSTHOG_JSON_BAD;
            }

            for (i = 0; i < 4; i++) {
                h = posthog_json_hex(*r->p++);
                if (h < 0) {
                    return POSTHOG_JSON_BAD;
                }

                cp = (cp << 4) | (uint32_t) h;
            }

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                return POSTHOG_JSON_BAD_UTF8;
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (r->end - r->p < 6 || r->p[0] != '\\'
                    || r->p[1] != 'u')
                {
                    return POSTHOG_JSON_BAD_UTF8;
                }

                r->p += 2;
                lo = 0;

                for (i = 0; i < 4; i++) {
                    h = posthog_json_hex(*r->p++);
                    if (h < 0) {
                        return POSTHOG_JSON_BAD;
                    }

                    lo = (lo << 4) | (uint32_t) h;
                }

                if (lo < 0xdc00 || lo > 0xdfff) {
                    return POSTHOG_JSON_BAD_UTF8;
                }

                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }

            break;

        default:
            return POSTHOG_JSON_BAD;
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

    return POSTHOG_JSON_OK;
}


/*
 * A JSON number.  "*integer" tells whether it is a plain non-negative
 * integer of at most 16 digits (a JavaScript ms time), then in "*n".
 */

int
posthog_json_read_number(posthog_json_reader_t *r, uint64_t *n,
    int *integer)
{
    size_t                digits;
    const unsigned char  *s;

    s = r->p;
    *n = 0;
    *integer = 1;
    digits = 0;

    if (r->p < r->end && *r->p == '-') {
        *integer = 0;
        r->p++;
    }

    if (r->p == r->end || *r->p < '0' || *r->p > '9') {
        return POSTHOG_JSON_BAD;
    }

    if (*r->p == '0') {
        r->p++;

    } else {
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
            if (++digits <= 16) {
                *n = *n * 10 + (uint64_t) (*r->p - '0');
            }

            r->p++;
        }
    }

    if (digits > 16 || *n > POSTHOG_JSON_INT_MAX) {
        *integer = 0;
    }

    if (r->p < r->end && *r->p == '.') {
        *integer = 0;
        r->p++;

        if (r->p == r->end || *r->p < '0' || *r->p > '9') {
            return POSTHOG_JSON_BAD;
        }

        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
            r->p++;
        }
    }

    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        *integer = 0;
        r->p++;

        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) {
            r->p++;
        }

        if (r->p == r->end || *r->p < '0' || *r->p > '9') {
            return POSTHOG_JSON_BAD;
        }

        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
            r->p++;
        }
    }

    return r->p > s ? POSTHOG_JSON_OK : POSTHOG_JSON_BAD;
}


/* any JSON value, checked and skipped */

int
posthog_json_read_value(posthog_json_reader_t *r, int depth)
{
    int       rc, integer, first;
    uint64_t  n;
    char      close;

    posthog_json_read_ws(r);

    if (r->p == r->end) {
        return POSTHOG_JSON_BAD;
    }

    switch (*r->p) {

    case '"':
        return posthog_json_read_string(r, NULL, 0, NULL, NULL);

    case 't':
        if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
            r->p += 4;
            return POSTHOG_JSON_OK;
        }

        return POSTHOG_JSON_BAD;

    case 'f':
        if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
            r->p += 5;
            return POSTHOG_JSON_OK;
        }

        return POSTHOG_JSON_BAD;

    case 'n':
        if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
            r->p += 4;
            return POSTHOG_JSON_OK;
        }

        return POSTHOG_JSON_BAD;

    case '[':
    case '{':
        if (depth >= r->depth_max) {
            return POSTHOG_JSON_TOO_DEEP;
        }

        close = (*r->p == '[') ? ']' : '}';
        r->p++;
        first = 1;

        for ( ;; ) {
            posthog_json_read_ws(r);

            if (r->p == r->end) {
                return POSTHOG_JSON_BAD;
            }

            if (*r->p == close && first) {
                r->p++;
                return POSTHOG_JSON_OK;
            }

            if (close == '}') {
                rc = posthog_json_read_string(r, NULL, 0, NULL, NULL);
                if (rc != POSTHOG_JSON_OK) {
                    return rc;
                }

                posthog_json_read_ws(r);

                if (r->p == r->end || *r->p != ':') {
                    return POSTHOG_JSON_BAD;
                }

                r->p++;
            }

            rc = posthog_json_read_value(r, depth + 1);
            if (rc != POSTHOG_JSON_OK) {
                return rc;
            }

            posthog_json_read_ws(r);

            if (r->p == r->end) {
                return POSTHOG_JSON_BAD;
            }

            if (*r->p == close) {
                r->p++;
                return POSTHOG_JSON_OK;
            }

            if (*r->p != ',') {
                return POSTHOG_JSON_BAD;
            }

            r->p++;
            first = 0;
        }

    default:
        return posthog_json_read_number(r, &n, &integer);
    }
}
