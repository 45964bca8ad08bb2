/*
 * Reference checks for the JSON escaper, written independently of
 * posthog_utf8.c (code point arithmetic instead of byte-range tables) so
 * that a bug there is not repeated here.  Shared by test_json.c and
 * t/fuzz/fuzz_json.c.
 */

#ifndef JSONCHECK_H
#define JSONCHECK_H

#include <stddef.h>
#include <stdint.h>


/*
 * Decodes one well-formed character at "p"; returns its length, or 0 if
 * the bytes there do not start a well-formed character.
 */
static inline size_t
ref_utf8_char(const unsigned char *p, size_t len, uint32_t *cp)
{
    size_t    i, n;
    uint32_t  c, min;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }

    if ((p[0] & 0xe0) == 0xc0) {
        n = 2;
        c = p[0] & 0x1f;
        min = 0x80;

    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3;
        c = p[0] & 0x0f;
        min = 0x800;

    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4;
        c = p[0] & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (len < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    *cp = c;
    return n;
}


static inline int
ref_utf8_valid(const unsigned char *p, size_t len)
{
    size_t    i, n;
    uint32_t  cp;

    for (i = 0; i < len; i += n) {
        n = ref_utf8_char(p + i, len - i, &cp);

        if (n == 0) {
            return 0;
        }
    }

    return 1;
}


/*
 * One unit at "p" as the escaper sees it: a well-formed character (its
 * length, "*cp" set), or else the maximal invalid subpart (at least one
 * byte; "*cp" = 0xffffffff): the longest prefix that some well-formed
 * sequence starts with.  A prefix is viable when the code points its
 * completions span meet the range of its length, minus the surrogates.
 */
static inline size_t
ref_utf8_unit(const unsigned char *p, size_t len, uint32_t *cp)
{
    size_t    k, n;
    uint32_t  c, lo, hi, min;

    n = ref_utf8_char(p, len, cp);

    if (n) {
        return n;
    }

    *cp = 0xffffffff;

    if ((p[0] & 0xe0) == 0xc0) {
        n = 2; c = p[0] & 0x1f; min = 0x80;

    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3; c = p[0] & 0x0f; min = 0x800;

    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4; c = p[0] & 0x07; min = 0x10000;

    } else {
        return 1;
    }

    for (k = 1; k < n && k < len; k++) {
        if ((p[k] & 0xc0) != 0x80) {
            break;
        }

        c = (c << 6) | (p[k] & 0x3f);

        lo = c << (6 * (n - k - 1));
        hi = lo | ((1u << (6 * (n - k - 1))) - 1);

        if (hi < min || lo > 0x10ffff || (lo >= 0xd800 && hi <= 0xdfff)) {
            break;
        }
    }

    /* the lead alone is the subpart also when no completion is valid */

    return k;
}


/*
 * The escaper's specification, one unit at a time and nothing else:
 * writes the body for "p" cut at "max" to "dst", returns the length.
 */
static inline size_t
ref_json_escape(unsigned char *dst, const unsigned char *p, size_t len,
    size_t max)
{
    size_t          i, k, n;
    uint32_t        cp;
    unsigned char  *d;

    static const char  hex[] = "0123456789abcdef";

    d = dst;

    for (i = 0; i < len; i += n) {
        n = ref_utf8_unit(p + i, len - i, &cp);

        if (i + n > max) {
            break;
        }

        if (cp == 0xffffffff) {
            *d++ = 0xef; *d++ = 0xbf; *d++ = 0xbd;

        } else if (cp == '"' || cp == '\\') {
            *d++ = '\\'; *d++ = (unsigned char) cp;

        } else if (cp == '\b') {
            *d++ = '\\'; *d++ = 'b';

        } else if (cp == '\f') {
            *d++ = '\\'; *d++ = 'f';

        } else if (cp == '\n') {
            *d++ = '\\'; *d++ = 'n';

        } else if (cp == '\r') {
            *d++ = '\\'; *d++ = 'r';

        } else if (cp == '\t') {
            *d++ = '\\'; *d++ = 't';

        } else if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029) {
            *d++ = '\\'; *d++ = 'u';

            for (k = 4; k > 0; k--) {
                *d++ = (unsigned char) hex[(cp >> (4 * (k - 1))) & 0x0f];
            }

        } else {
            for (k = 0; k < n; k++) {
                *d++ = p[i + k];
            }
        }
    }

    return (size_t) (d - dst);
}


static inline int
ref_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F');
}


/*
 * Returns -1 if "p" is a valid JSON string body (RFC 8259, between the
 * quotes) that is valid UTF-8 and carries no raw DEL, U+2028 or U+2029,
 * else the offset of the first offending byte.
 */
static inline long
ref_json_body_check(const unsigned char *p, size_t len)
{
    size_t    i, n;
    uint32_t  cp;

    for (i = 0; i < len; i += n) {
        n = ref_utf8_char(p + i, len - i, &cp);

        if (n == 0 || cp < 0x20 || cp == '"' || cp == 0x7f
            || cp == 0x2028 || cp == 0x2029)
        {
            return (long) i;
        }

        if (cp != '\\') {
            continue;
        }

        if (i + 1 == len) {
            return (long) i;
        }

        switch (p[i + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            n = 2;
            break;

        case 'u':
            if (len - i < 6 || !ref_hex(p[i + 2]) || !ref_hex(p[i + 3])
                || !ref_hex(p[i + 4]) || !ref_hex(p[i + 5]))
            {
                return (long) i;
            }

            n = 6;
            break;

        default:
            return (long) i;
        }
    }

    return -1;
}


/*
 * Unescapes a body that ref_json_body_check() accepted, for \uXXXX
 * below U+10000 only (all the escaper writes); returns the length.
 */
static inline size_t
ref_json_unescape(unsigned char *dst, const unsigned char *p, size_t len)
{
    size_t          i;
    uint32_t        c;
    unsigned char  *d;
    unsigned int    k;

    d = dst;

    for (i = 0; i < len; /* void */) {
        if (p[i] != '\\') {
            *d++ = p[i++];
            continue;
        }

        switch (p[i + 1]) {
        case 'b': *d++ = '\b'; i += 2; continue;
        case 'f': *d++ = '\f'; i += 2; continue;
        case 'n': *d++ = '\n'; i += 2; continue;
        case 'r': *d++ = '\r'; i += 2; continue;
        case 't': *d++ = '\t'; i += 2; continue;
        case 'u': break;
        default: *d++ = p[i + 1]; i += 2; continue;
        }

        c = 0;

        for (k = 2; k < 6; k++) {
            c = c * 16 + (uint32_t) (p[i + k] <= '9' ? p[i + k] - '0'
                                     : (p[i + k] | 0x20) - 'a' + 10);
        }

        if (c < 0x80) {
            *d++ = (unsigned char) c;

        } else if (c < 0x800) {
            *d++ = (unsigned char) (0xc0 | (c >> 6));
            *d++ = (unsigned char) (0x80 | (c & 0x3f));

        } else {
            *d++ = (unsigned char) (0xe0 | (c >> 12));
            *d++ = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
            *d++ = (unsigned char) (0x80 | (c & 0x3f));
        }

        i += 6;
    }

    return (size_t) (d - dst);
}

#endif /* JSONCHECK_H */
