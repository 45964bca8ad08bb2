/*
 * JSON string escaping.
 */

#include "posthog_json.h"
#include "posthog_utf8.h"


static const char  posthog_json_hex[] = "0123456789abcdef";


/* the output length of one unit of "n" input bytes */

static size_t
posthog_json_unit_len(uint32_t cp, size_t n)
{
    if (cp == POSTHOG_UTF8_BAD) {
        return 3;
    }

    switch (cp) {
    case '"':
    case '\\':
    case '\b':
    case '\f':
    case '\n':
    case '\r':
    case '\t':
        return 2;
    case 0x7f:
    case 0x2028:
    case 0x2029:
        return 6;
    }

    return cp < 0x20 ? 6 : n;
}


size_t
posthog_json_escape_len(const unsigned char *p, size_t len, size_t max)
{
    size_t    i, n, size;
    uint32_t  cp;

    size = 0;

    /* invariant: i <= max, so "max - i" does not wrap */

    for (i = 0; i < len; i += n) {
        n = posthog_utf8_next(p + i, len - i, &cp);

        if (n > max - i) {
            break;
        }

        size += posthog_json_unit_len(cp, n);
    }

    return size;
}


size_t
posthog_json_escape_cut(const unsigned char *p, size_t len, size_t max)
{
    size_t    i, n;
    uint32_t  cp;

    for (i = 0; i < len; i += n) {
        n = posthog_utf8_next(p + i, len - i, &cp);

        if (n > max - i) {
            break;
        }
    }

    return i;
}


unsigned char *
posthog_json_escape(unsigned char *dst, const unsigned char *p, size_t len,
    size_t max)
{
    size_t    i, k, n;
    uint32_t  cp;

    for (i = 0; i < len; i += n) {
        n = posthog_utf8_next(p + i, len - i, &cp);

        if (n > max - i) {
            break;
        }

        if (cp == POSTHOG_UTF8_BAD) {
            *dst++ = 0xef;
            *dst++ = 0xbf;
            *dst++ = 0xbd;
            continue;
        }

        switch (cp) {
        case '"':
        case '\\':
            *dst++ = '\\';
            *dst++ = (unsigned char) cp;
            continue;
        case '\b':
            *dst++ = '\\';
            *dst++ = 'b';
            continue;
        case '\f':
            *dst++ = '\\';
            *dst++ = 'f';
            continue;
        case '\n':
            *dst++ = '\\';
            *dst++ = 'n';
            continue;
        case '\r':
            *dst++ = '\\';
            *dst++ = 'r';
            continue;
        case '\t':
            *dst++ = '\\';
            *dst++ = 't';
            continue;
        }

        if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029) {
            *dst++ = '\\';
            *dst++ = 'u';
            *dst++ = posthog_json_hex[(cp >> 12) & 0x0f];
            *dst++ = posthog_json_hex[(cp >> 8) & 0x0f];
            *dst++ = posthog_json_hex[(cp >> 4) & 0x0f];
            *dst++ = posthog_json_hex[cp & 0x0f];
            continue;
        }

        for (k = 0; k < n; k++) {
            *dst++ = p[i + k];
        }
    }

    return dst;
}
