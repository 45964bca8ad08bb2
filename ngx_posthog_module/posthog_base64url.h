/*
 * base64url (RFC 4648, section 5) without padding, as used in the
 * identity cookie: its alphabet is cookie-octet safe.  Decoding is
 * strict so that one value has exactly one encoding.  Plain C.
 */

#ifndef POSTHOG_BASE64URL_H
#define POSTHOG_BASE64URL_H

#include <stddef.h>

#define posthog_base64url_encoded_len(n)                                     \
    (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/* for a length "n" that can be valid: n % 4 != 1 */
#define posthog_base64url_decoded_len(n)                                     \
    (((n) / 4) * 3 + ((n) % 4 ? (n) % 4 - 1 : 0))


/* Writes posthog_base64url_encoded_len(n) bytes, returns that length. */
size_t posthog_base64url_encode(unsigned char *dst, const unsigned char *src,
    size_t n);

/*
 * Decodes the "n" bytes at "src" into "dst" (room for
 * posthog_base64url_decoded_len(n) bytes) and sets "*len".  Returns 0,
 * or -1 for a character out of the alphabet, padding, a length with
 * n % 4 == 1, or non-zero unused bits in the last character.
 */
int posthog_base64url_decode(unsigned char *dst, size_t *len,
    const unsigned char *src, size_t n);

#endif /* POSTHOG_BASE64URL_H */
