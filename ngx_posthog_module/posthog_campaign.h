/*
 * What a request's URL and headers tell about the visit, as posthog-js
 * reads it in the browser: campaign parameters (CAMPAIGN_PARAMS of its
 * event-utils, read with its getQueryParam) and navigator.language from
 * Accept-Language.  Plain C, no nginx types.
 */

#ifndef POSTHOG_CAMPAIGN_H
#define POSTHOG_CAMPAIGN_H

#include <stddef.h>


/* utm_* and the click ids, in posthog-js's order */
#define POSTHOG_CAMPAIGN_NPARAMS  24
extern const char  *posthog_campaign_params[];
extern const size_t posthog_campaign_nparams;

/* input bytes of one value that are kept (cut on a UTF-8 boundary later) */
#define POSTHOG_CAMPAIGN_VALUE_MAX  1000


/*
 * getQueryParam(url, name): the raw value of the first "name=" of the
 * query (after the first '?', before any '#'; leading '?'s skipped), up to
 * the next '=' or '&'.  Returns NULL when there is no such parameter or
 * it has no '='; "*vlen" is the value's length (may be 0).
 */
const unsigned char *posthog_query_param(const unsigned char *url,
    size_t len, const char *name, size_t *vlen);

/*
 * All of posthog_campaign_params[] in one pass over the query, each as
 * posthog_query_param() finds it: v[i] and vlen[i] for the i-th (v[i]
 * NULL when absent).  Returns how many are there (0 for most URLs).
 */
size_t posthog_campaign_find(const unsigned char *url, size_t len,
    const unsigned char *v[POSTHOG_CAMPAIGN_NPARAMS],
    size_t vlen[POSTHOG_CAMPAIGN_NPARAMS]);

/*
 * decodeURIComponent() then '+' -> ' ': writes at most "len" bytes to
 * "out" and returns their number.  A value that does not decode (a bad
 * %-escape, or bytes that are not UTF-8) is kept as it is, as posthog-js
 * keeps it when decodeURIComponent throws; the JSON escaper makes such
 * bytes safe.
 */
size_t posthog_campaign_decode(unsigned char *out, const unsigned char *v,
    size_t len);

/*
 * navigator.language from an Accept-Language value: its first tag,
 * without its ";q=" and spaces, if it is a language tag (ASCII letters,
 * digits, '-', '_', at most 35 bytes; not "*": nothing JSON escapes).
 * Returns its length, 0 if none;
 * "*tag" points into "h".  "*prefix" gets the length before the first '-'
 * ($browser_language_prefix).
 */
size_t posthog_language(const unsigned char *h, size_t len,
    const unsigned char **tag, size_t *prefix);


/*
 * A URL's host from "p" (past its "://"): the first '/', '?' or '#' of
 * p[0..end), or end, is returned; "*host" gets the byte after the last
 * '@' before it (a user's name and password are not the host), or "p".
 */
const unsigned char *posthog_url_host_end(const unsigned char *p,
    const unsigned char *end, const unsigned char **host);

/* Its path from "p": the first '?' or '#' of p[0..end), or end. */
const unsigned char *posthog_url_path_end(const unsigned char *p,
    const unsigned char *end);

/*
 * The one URL splitter of the event's properties: a URL's host[:port]
 * ("scheme://[userinfo@]host/..."), after its first "://", and its path
 * up to '?' or '#' (may be empty).  Without a "://" the host is taken
 * from the start of "url" and 0 is returned (1 with one): each caller
 * decides what such a URL means.  "path" NULL: not wanted.
 */

typedef struct {
    const unsigned char  *host;
    size_t                host_len;
    const unsigned char  *path;
    size_t                path_len;
} posthog_url_t;

int posthog_url_split(const unsigned char *url, size_t len, posthog_url_t *u,
    int path);

/*
 * The host[:port] of an absolute URL, as $initial_referring_domain is
 * made: posthog_url_split(), NULL when "url" has no "://".  "*path" and
 * "*plen" get its path.
 */
const unsigned char *posthog_url_host(const unsigned char *url, size_t len,
    size_t *hlen, const unsigned char **path, size_t *plen);

/*
 * posthog-js's _getSearchEngine(referrer): "google", "bing", "yahoo",
 * "duckduckgo" or NULL; "*param" gets the name of the query parameter
 * holding the search words ("q", or "p" for yahoo).
 */
const char *posthog_search_engine(const unsigned char *ref, size_t len,
    const char **param);

#endif /* POSTHOG_CAMPAIGN_H */
