/*
 * JSON string body escaping that always yields valid UTF-8 JSON, whatever
 * the input: request headers and URIs are arbitrary bytes, and one event
 * with invalid UTF-8 makes PostHog reject its whole batch (HTTP 400).
 * Plain C, no nginx types.
 *
 * Output, per input unit (see posthog_utf8_next()):
 *   - a maximal invalid UTF-8 subpart     -> U+FFFD (EF BF BD)
 *   - '"' and '\'                         -> \" and \\
 *   - \b \f \n \r \t                      -> the two-character escapes
 *   - other bytes < 0x20, and 0x7F        -> \u00XX (lower-case hex)
 *   - U+2028, U+2029                      -> \u2028, \u2029 (they end a
 *                                            line in pre-ES2019 JS)
 *   - anything else                       -> copied
 * The surrounding quotes are not written.
 *
 * "max" bounds the input consumed, not the output: the input is cut at
 * the last unit boundary at or before min(len, max) bytes, so a
 * character is never split.  Use (size_t) -1 for no limit.
 */

#ifndef POSTHOG_JSON_H
#define POSTHOG_JSON_H

#include <stddef.h>

/* the worst growth of one input byte: a control byte as \u00XX */
#define POSTHOG_JSON_ESCAPE_MAX(n)  ((n) * 6)


/* The exact output length of posthog_json_escape() with the same args. */
size_t posthog_json_escape_len(const unsigned char *p, size_t len,
    size_t max);

/* Writes the escaped body to "dst", returns the end of what it wrote. */
unsigned char *posthog_json_escape(unsigned char *dst, const unsigned char *p,
    size_t len, size_t max);

/*
 * The most input bytes, at most min(len, max) and on a unit boundary,
 * whose escaped body takes at most "budget" bytes: passed as "max" to the
 * functions above, it cuts a value to fit a budget without splitting a
 * character or an escape.
 */
size_t posthog_json_escape_fit(const unsigned char *p, size_t len,
    size_t max, size_t budget);

/* The number of input bytes posthog_json_escape_len() and
 * posthog_json_escape() consume with the same args. */
size_t posthog_json_escape_cut(const unsigned char *p, size_t len,
    size_t max);

/* a longer number is not one a double holds exactly anyway */
#define POSTHOG_JSON_NUMBER_MAX  64

/*
 * 1 if p[0..len) is an RFC 8259 number,
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, of at most
 * POSTHOG_JSON_NUMBER_MAX bytes and one a double holds: PostHog's JSON
 * parser refuses 1e999, and with it the whole batch.  0 otherwise.
 */
int posthog_json_number_valid(const unsigned char *p, size_t len);

#endif /* POSTHOG_JSON_H */
