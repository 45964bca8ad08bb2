/*
 * A small strict reader of untrusted JSON (RFC 8259), a token at a time:
 * the caller walks the structure it expects and skips the rest with
 * posthog_json_read_value(), which checks what it skips.  Strings must be
 * well-formed UTF-8, \u escapes must not leave a surrogate unpaired (JSON
 * .parse would accept it, UTF-8 cannot hold it), nesting is bounded.
 * Plain C, no nginx types; nothing is allocated.
 *
 * Each function reads at r->p, advances it past what it read and returns
 * POSTHOG_JSON_OK or a negative POSTHOG_JSON_* code; on error r->p is
 * somewhere inside the bad token.
 */

#ifndef POSTHOG_JSON_READ_H
#define POSTHOG_JSON_READ_H

#include <stddef.h>
#include <stdint.h>

/* the codes keep the values posthog_jscookie.h gives them */
enum {
    POSTHOG_JSON_OK = 0,
    POSTHOG_JSON_BAD = -3,              /* not JSON */
    POSTHOG_JSON_TOO_DEEP = -4,
    POSTHOG_JSON_BAD_UTF8 = -5
};

/* Number.MAX_SAFE_INTEGER, 2^53 - 1: the largest "integer" read */
#define POSTHOG_JSON_INT_MAX  9007199254740991ULL

typedef struct {
    const unsigned char  *p;
    const unsigned char  *start;
    const unsigned char  *end;
    int                   depth_max;    /* nesting of arrays/objects */
} posthog_json_reader_t;


/* The value of a hex digit, or -1. */
int posthog_json_hex(int c);

/* Skips JSON white space. */
void posthog_json_read_ws(posthog_json_reader_t *r);

/*
 * A JSON string at r->p.  Decoded into "out" (up to "max" bytes, the rest
 * checked and dropped, cut on a character boundary) when "out" is not
 * NULL; "*olen" is the length decoded into "out", "*total" the length
 * decoded in full (either may be NULL).
 */
int posthog_json_read_string(posthog_json_reader_t *r, unsigned char *out,
    size_t max, size_t *olen, size_t *total);

/*
 * A JSON number.  "*integer" tells whether it is a plain non-negative
 * integer of at most 16 digits and at most POSTHOG_JSON_INT_MAX (a
 * JavaScript ms time), then in "*n".
 */
int posthog_json_read_number(posthog_json_reader_t *r, uint64_t *n,
    int *integer);

/*
 * Any JSON value (white space before it skipped), checked and skipped;
 * "depth" is the nesting it is at: an array or object at r->depth_max is
 * POSTHOG_JSON_TOO_DEEP.
 */
int posthog_json_read_value(posthog_json_reader_t *r, int depth);

#endif /* POSTHOG_JSON_READ_H */
