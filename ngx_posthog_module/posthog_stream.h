/*
 * The contract between the module, which writes the Redis stream, and
 * posthog-shipper, which reads it (docs/stream-format.md): entry fields,
 * format version, limits, default names, the token rule and the check that
 * an event is exactly one JSON object.  Both programs link this file, so
 * that the two sides cannot drift apart.  Plain C, no nginx types.
 */

#ifndef POSTHOG_STREAM_H
#define POSTHOG_STREAM_H

#include <stddef.h>
#include <stdint.h>


/* XADD <stream> [MAXLEN ~ n] * v 1 t <token> e <event> */
#define POSTHOG_STREAM_VERSION        "1"
#define POSTHOG_STREAM_FIELD_VERSION  "v"
#define POSTHOG_STREAM_FIELD_TOKEN    "t"
#define POSTHOG_STREAM_FIELD_EVENT    "e"

#define POSTHOG_STREAM_KEY            "posthog:events"
#define POSTHOG_STREAM_GROUP          "posthog-shipper"
#define POSTHOG_STREAM_DEAD_SUFFIX    ":dead"   /* <stream>:dead */

/*
 * PostHog refuses events of about 1 MB; its SDKs drop events over 900 KiB
 * before sending.  The module does not write larger ones, the shipper
 * dead-letters any it finds.
 */
#define POSTHOG_STREAM_EVENT_MAX      (900 * 1024)

/* project tokens are ~50 bytes; the rest is room, not a promise */
#define POSTHOG_STREAM_TOKEN_MAX      200

/* nesting the object check follows; deeper events are refused */
#define POSTHOG_STREAM_DEPTH_MAX      64

/* "<ms>-<seq>": two 20-digit numbers and the dash */
#define POSTHOG_STREAM_ID_MAX         41


/* Returns 1 if "v" is the version this code writes and reads. */
int posthog_stream_version_ok(const unsigned char *p, size_t len);

/*
 * Returns 1 if the "len" bytes at "p" are a token fit for the JSON body
 * ("api_key") and for log lines: 1 to POSTHOG_STREAM_TOKEN_MAX bytes of
 * printable ASCII, no space, no quote, no backslash.
 */
int posthog_stream_token_ok(const unsigned char *p, size_t len);

/*
 * Returns 1 if the "len" bytes at "p" are exactly one JSON object (white
 * space around it allowed) that can be pasted as it is into a /batch/
 * body's "batch":[...] without changing anything outside it: strings end
 * where JSON says, brackets match (at most POSTHOG_STREAM_DEPTH_MAX deep),
 * no control bytes outside white space, valid UTF-8, valid escapes.
 * Numbers and literals are not checked: PostHog answers 400 for those.
 */
int posthog_stream_is_object(const unsigned char *p, size_t len);

/*
 * Stream entry ids: parses "<ms>-<seq>" (decimal, no sign, each at most
 * UINT64_MAX); returns 0 or -1.  The formatter writes at most
 * POSTHOG_STREAM_ID_MAX bytes and a NUL, and returns the length.
 */
int posthog_stream_id_parse(const char *s, size_t len, uint64_t *ms,
    uint64_t *seq);
int posthog_stream_id_format(char *buf, uint64_t ms, uint64_t seq);

#endif /* POSTHOG_STREAM_H */
