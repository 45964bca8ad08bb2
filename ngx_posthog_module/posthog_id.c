/*
 * Distinct-id checks.
 */

#include <string.h>

#include "posthog_id.h"
#include "posthog_utf8.h"


typedef struct {
    size_t       len;
    const char  *data;
} posthog_id_str_t;

#define posthog_id_string(s)  { sizeof(s) - 1, s }


/*
 * Matched after folding ASCII letters only: JavaScript's toLowerCase()
 * turns no other character into one of these letters (U+212A KELVIN
 * SIGN folds to "k", which none contains).
 */

static const posthog_id_str_t  posthog_id_illegal_ci[] = {
    posthog_id_string("anonymous"),
    posthog_id_string("guest"),
    posthog_id_string("distinctid"),
    posthog_id_string("distinct_id"),
    posthog_id_string("id"),
    posthog_id_string("not_authenticated"),
    posthog_id_string("email"),
    posthog_id_string("undefined"),
    posthog_id_string("true"),
    posthog_id_string("false"),
    { 0, NULL }
};

static const posthog_id_str_t  posthog_id_illegal_cs[] = {
    posthog_id_string("[object Object]"),
    posthog_id_string("NaN"),
    posthog_id_string("None"),
    posthog_id_string("none"),
    posthog_id_string("null"),
    posthog_id_string("0"),
    posthog_id_string("undefined"),
    { 0, NULL }
};


static int posthog_id_legal(const unsigned char *p, size_t len);


static int
posthog_id_space(uint32_t cp)
{
    if ((cp >= 0x09 && cp <= 0x0d) || cp == 0x20) {
        return 1;
    }

    if (cp < 0x85) {
        return 0;
    }

    return cp == 0x85 || cp == 0xa0 || cp == 0x1680
           || (cp >= 0x2000 && cp <= 0x200a)
           || cp == 0x2028 || cp == 0x2029 || cp == 0x202f
           || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}


static int
posthog_id_listed(const unsigned char *p, size_t n)
{
    size_t                   i;
    unsigned char            c;
    const posthog_id_str_t  *s;

    for (s = posthog_id_illegal_cs; s->data; s++) {
        if (s->len == n && memcmp(s->data, p, n) == 0) {
            return 1;
        }
    }

    for (s = posthog_id_illegal_ci; s->data; s++) {
        if (s->len != n) {
            continue;
        }

        for (i = 0; i < n; i++) {
            c = p[i];

            if (c >= 'A' && c <= 'Z') {
                c |= 0x20;
            }

            if (c != (unsigned char) s->data[i]) {
                break;
            }
        }

        if (i == n) {
            return 1;
        }
    }

    return 0;
}


int
posthog_id_check(const unsigned char *p, size_t len, size_t *start,
    size_t *n)
{
    size_t    i, k, first, end, chars;
    uint32_t  cp;

    /* the common case, printable ASCII: only ' ' is a space, all is legal */

    if (posthog_utf8_printable(p, len) == len) {
        for (first = 0; first < len && p[first] == ' '; first++) {
            /* void */
        }

        for (end = len; end > first && p[end - 1] == ' '; end--) {
            /* void */
        }

        if (first == end) {
            *start = len;
            *n = 0;
            return POSTHOG_ID_EMPTY;
        }

        *start = first;
        *n = end - first;

        if (end - first > POSTHOG_ID_MAX_CHARS) {
            return POSTHOG_ID_TOO_LONG;
        }

        return posthog_id_legal(p + first, end - first);
    }

    /* trim: the span from the first to the end of the last non-space */

    first = len;
    end = 0;

    for (i = 0; i < len; i += k) {
        k = posthog_utf8_next(p + i, len - i, &cp);

        if (posthog_id_space(cp)) {
            continue;
        }

        if (first == len) {
            first = i;
        }

        end = i + k;
    }

    if (first == len) {
        *start = len;
        *n = 0;
        return POSTHOG_ID_EMPTY;
    }

    *start = first;
    *n = end - first;

    p += first;
    len = end - first;

    /* these would be header-injection hazards wherever the id goes */

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            return POSTHOG_ID_CONTROL;
        }
    }

    chars = 0;

    for (i = 0; i < len; i += k) {
        k = posthog_utf8_next(p + i, len - i, &cp);

        if (cp == POSTHOG_UTF8_BAD) {
            return POSTHOG_ID_BAD_UTF8;
        }

        chars++;
    }

    if (chars > POSTHOG_ID_MAX_CHARS) {
        return POSTHOG_ID_TOO_LONG;
    }

    return posthog_id_legal(p, len);
}


/* not on PostHog's list, quoted or not */

static int
posthog_id_legal(const unsigned char *p, size_t len)
{
    if (posthog_id_listed(p, len)) {
        return POSTHOG_ID_ILLEGAL;
    }

    if (len >= 2 && (p[0] == '"' || p[0] == '\'') && p[len - 1] == p[0]
        && (len == 2 || posthog_id_listed(p + 1, len - 2)))
    {
        return POSTHOG_ID_ILLEGAL;
    }

    return POSTHOG_ID_OK;
}


const char *
posthog_id_reason(int rc)
{
    switch (rc) {
    case POSTHOG_ID_OK:
        return "ok";
    case POSTHOG_ID_EMPTY:
        return "empty id";
    case POSTHOG_ID_CONTROL:
        return "control character in id";
    case POSTHOG_ID_BAD_UTF8:
        return "id is not valid UTF-8";
    case POSTHOG_ID_TOO_LONG:
        return "id longer than 200 characters";
    case POSTHOG_ID_ILLEGAL:
        return "illegal id";
    }

    return "unknown id check result";
}
