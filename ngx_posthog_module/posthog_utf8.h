/*
 * Strict UTF-8 decoding (Unicode 15, table 3-7 "well-formed byte
 * sequences"), shared by the JSON escaper and the distinct-id checks.
 * Plain C, no nginx types.
 */

#ifndef POSTHOG_UTF8_H
#define POSTHOG_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define POSTHOG_UTF8_BAD  0xffffffff    /* code point of an invalid part */


/*
 * Decodes one unit at "p" ("len" > 0 bytes available): either a
 * well-formed character, or a maximal invalid subpart (the longest
 * prefix of a well-formed sequence, at least one byte) as in Unicode's
 * "substitution of maximal subparts" practice: overlongs, surrogates,
 * code points above U+10FFFF, truncated sequences and stray continuation
 * bytes.  Returns the unit's length (1..4, at most "len") and sets "*cp"
 * to the code point, or to POSTHOG_UTF8_BAD for an invalid subpart.
 */
size_t posthog_utf8_next(const unsigned char *p, size_t len, uint32_t *cp);

/* Returns 1 if the "len" bytes at "p" are well-formed UTF-8, else 0. */
int posthog_utf8_valid(const unsigned char *p, size_t len);

/* The length of the longest prefix of printable ASCII (%x20-7E). */
size_t posthog_utf8_printable(const unsigned char *p, size_t len);

/*
 * Returns 1 if the "len" bytes at "p" are well-formed UTF-8 without
 * control bytes (%x00-1F, %x7F), else 0.
 */
int posthog_utf8_text_valid(const unsigned char *p, size_t len);

/*
 * The length of the longest prefix of "p" ("len" bytes) that is at most
 * "max" bytes and does not end inside a character: the cut never splits
 * a sequence (what came before it is kept as it was, valid or not).
 */
size_t posthog_utf8_cut(const unsigned char *p, size_t len, size_t max);

#endif /* POSTHOG_UTF8_H */
