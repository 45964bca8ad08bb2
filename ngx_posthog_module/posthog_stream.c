/*
 * The stream contract's checks (see posthog_stream.h).
 */

#include <stdio.h>

#include "posthog_stream.h"
#include "posthog_utf8.h"


#define posthog_stream_ws(c)                                                 \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

/* locale-free: isxdigit() is not */
#define posthog_stream_hex(c)                                                \
    (((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'f')               \
     || ((c) >= 'A' && (c) <= 'F'))


int
posthog_stream_version_ok(const unsigned char *p, size_t len)
{
    return len == sizeof(POSTHOG_STREAM_VERSION) - 1
           && p[0] == POSTHOG_STREAM_VERSION[0];
}


int
posthog_stream_token_ok(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > POSTHOG_STREAM_TOKEN_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (p[i] <= ' ' || p[i] >= 0x7f || p[i] == '"' || p[i] == '\\') {
            return 0;
        }
    }

    return 1;
}


/*
 * The shipper pastes the event as it is into "batch":[...]: a string or a
 * bracket that closed early would rewrite the request (another api_key,
 * more events), and one bad event makes PostHog refuse the whole batch.
 */

int
posthog_stream_is_object(const unsigned char *p, size_t len)
{
    char                  stack[POSTHOG_STREAM_DEPTH_MAX];
    size_t                depth;
    const unsigned char  *last;

    last = p + len;

    while (p < last && posthog_stream_ws(*p)) {
        p++;
    }

    if (p == last || *p != '{'
        || !posthog_utf8_valid(p, (size_t) (last - p)))
    {
        return 0;
    }

    depth = 0;

    for ( /* void */ ; p < last; p++) {

        if (*p == '"') {
            for (p++; p < last && *p != '"'; p++) {
                if (*p < 0x20) {
                    return 0;
                }

                if (*p != '\\') {
                    continue;
                }

                p++;

                if (p == last) {
                    return 0;
                }

                switch (*p) {
                case '"': case '\\': case '/': case 'b': case 'f': case 'n':
                case 'r': case 't':
                    break;

                case 'u':
                    if (last - p < 5 || !posthog_stream_hex(p[1])
                        || !posthog_stream_hex(p[2])
                        || !posthog_stream_hex(p[3])
                        || !posthog_stream_hex(p[4]))
                    {
                        return 0;
                    }
                    p += 4;
                    break;

                default:
                    return 0;
                }
            }

            if (p == last) {
                return 0;
            }

            continue;
        }

        switch (*p) {
        case '{':
        case '[':
            if (depth == POSTHOG_STREAM_DEPTH_MAX) {
                return 0;
            }
            stack[depth++] = (char) *p;
            break;

        case '}':
        case ']':
            if (depth == 0 || stack[--depth] != (*p == '}' ? '{' : '[')) {
                return 0;
            }

            if (depth == 0) {
                /* the object ends here: white space after it, nothing else */
                for (p++; p < last; p++) {
                    if (!posthog_stream_ws(*p)) {
                        return 0;
                    }
                }
                return 1;
            }
            break;

        default:
            if (*p < 0x20 && !posthog_stream_ws(*p)) {
                return 0;
            }
        }
    }

    return 0;    /* not closed */
}


int
posthog_stream_id_parse(const char *s, size_t len, uint64_t *ms,
    uint64_t *seq)
{
    size_t     i;
    uint64_t  *v, a, b, d;

    a = 0;
    b = 0;
    v = &a;

    if (len == 0 || len > POSTHOG_STREAM_ID_MAX) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (s[i] == '-' && v == &a && i > 0) {
            v = &b;
            continue;
        }

        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        d = (uint64_t) (s[i] - '0');

        if (*v > (UINT64_MAX - d) / 10) {
            return -1;
        }

        *v = *v * 10 + d;
    }

    if (v != &b || s[len - 1] == '-') {
        return -1;
    }

    *ms = a;
    *seq = b;

    return 0;
}


int
posthog_stream_id_format(char *buf, uint64_t ms, uint64_t seq)
{
    return snprintf(buf, POSTHOG_STREAM_ID_MAX + 1, "%llu-%llu",
                    (unsigned long long) ms, (unsigned long long) seq);
}
