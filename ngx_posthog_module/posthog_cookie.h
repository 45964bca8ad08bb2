/*
 * Scanning a Cookie request header for one cookie.  Plain C.
 */

#ifndef POSTHOG_COOKIE_H
#define POSTHOG_COOKIE_H

#include <stddef.h>


/*
 * Looks for the cookie "name" in one Cookie header value ("a=1; b=2").
 * Returns how many times it occurs; "value"/"vlen" are set to the first
 * occurrence.  Pairs are separated by ';' (',' too, as old clients did)
 * and optional whitespace; a value may be double-quoted (RFC 6265), the
 * quotes are not part of the returned value.
 */
int posthog_cookie_find(const unsigned char *hdr, size_t len,
    const unsigned char *name, size_t nlen, const unsigned char **value,
    size_t *vlen);

/* 1 if the bytes are a valid RFC 6265 cookie-octet string, else 0 */
int posthog_cookie_value_valid(const unsigned char *p, size_t len);

/* 1 if the bytes are a valid RFC 6265 cookie name (an RFC 7230 token) */
int posthog_cookie_name_valid(const unsigned char *p, size_t len);

#endif /* POSTHOG_COOKIE_H */
