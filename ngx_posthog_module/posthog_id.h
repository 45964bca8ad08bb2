/*
 * Distinct-id checks: PostHog's ingestion refuses to merge "illegal"
 * ids (posthog-contract.md, section 1) and capture limits an id to 200
 * characters, so the module never uses an id that fails these checks.
 * Plain C, no nginx types.
 */

#ifndef POSTHOG_ID_H
#define POSTHOG_ID_H

#include <stddef.h>

/*
 * PostHog's limit is 200 characters; we count Unicode code points (what
 * a Rust/Python "char" is), so an id may take up to 4 * 200 bytes.
 */
#define POSTHOG_ID_MAX_CHARS  200
#define POSTHOG_ID_MAX        (4 * POSTHOG_ID_MAX_CHARS)    /* bytes */

enum {
    POSTHOG_ID_OK = 0,
    POSTHOG_ID_EMPTY,        /* empty or whitespace only */
    POSTHOG_ID_CONTROL,      /* a byte < 0x20 or 0x7F inside */
    POSTHOG_ID_BAD_UTF8,     /* not well-formed UTF-8 */
    POSTHOG_ID_TOO_LONG,     /* more than 200 characters */
    POSTHOG_ID_ILLEGAL       /* on PostHog's list, maybe quoted */
};


/*
 * Checks the "len" bytes at "p" as a distinct id.  Leading and trailing
 * whitespace is trimmed first: ASCII whitespace (HT LF VT FF CR SP) and
 * the Unicode spaces that JavaScript's trim() or Rust's str::trim() drop
 * (U+0085 U+00A0 U+1680 U+2000..U+200A U+2028 U+2029 U+202F U+205F
 * U+3000 U+FEFF), so that PostHog can never see an id that trims to
 * something else.  The trimmed span is reported in "*start" and "*n"
 * whatever the result; the checks apply to it, in the order of the enum
 * above, and the first failing one is returned.
 *
 * Illegal ids: in any ASCII letter case "anonymous", "guest",
 * "distinctid", "distinct_id", "id", "not_authenticated", "email",
 * "undefined", "true", "false"; exactly "[object Object]", "NaN",
 * "None", "none", "null", "0"; each of these, and the empty string,
 * wrapped in '...' or "...".
 */
int posthog_id_check(const unsigned char *p, size_t len, size_t *start,
    size_t *n);

/* A short text for logs, e.g. "illegal id". */
const char *posthog_id_reason(int rc);

#endif /* POSTHOG_ID_H */
