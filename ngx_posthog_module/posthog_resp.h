/*
 * RESP (the Redis protocol) encoding of the module's XADD, the same bytes
 * as hiredis's redisFormatCommandArgv() writes.  Plain C, no nginx types,
 * no allocation.
 *
 * Every XADD starts with the same bytes,
 *
 *     *12\r\n$4\r\nXADD\r\n$<n>\r\n<stream>\r\n
 *     [$6\r\nMAXLEN\r\n$1\r\n~\r\n$<n>\r\n<maxlen>\r\n]
 *     $1\r\n*\r\n$1\r\nv\r\n$1\r\n1\r\n$1\r\nt\r\n
 *
 * (*9 without MAXLEN), written once; only the entry, that is the token,
 * "e" and the event, is written after it for each event.
 */

#ifndef POSTHOG_RESP_H
#define POSTHOG_RESP_H

#include <stddef.h>

#include "posthog_stream.h"   /* the fields of an entry */


/* the most bytes of "$<len>\r\n" and "\r\n" around a bulk string */
#define POSTHOG_RESP_BULK_EXTRA       25

/* the most bytes posthog_resp_xadd_prefix() writes */
#define posthog_resp_xadd_prefix_max(stream_len)                             \
    (sizeof("*12\r\n") + 9 * POSTHOG_RESP_BULK_EXTRA + (stream_len) + 20     \
     + sizeof("XADDMAXLEN~*" POSTHOG_STREAM_FIELD_VERSION                    \
              POSTHOG_STREAM_VERSION POSTHOG_STREAM_FIELD_TOKEN))

/* the most bytes posthog_resp_xadd_entry() writes */
#define posthog_resp_xadd_entry_max(token_len, event_len)                    \
    ((token_len) + (event_len) + sizeof(POSTHOG_STREAM_FIELD_EVENT)          \
     + 3 * POSTHOG_RESP_BULK_EXTRA)


/* "$<len>\r\n<data>\r\n"; returns the end */
unsigned char *posthog_resp_bulk(unsigned char *p, const void *data,
    size_t len);

/*
 * The constant start of every XADD to "stream", "maxlen" 0: no MAXLEN.
 * Returns the end.
 */
unsigned char *posthog_resp_xadd_prefix(unsigned char *p,
    const unsigned char *stream, size_t stream_len, size_t maxlen);

/* the rest of one XADD, after the prefix; returns the end */
unsigned char *posthog_resp_xadd_entry(unsigned char *p,
    const unsigned char *token, size_t token_len, const unsigned char *event,
    size_t event_len);

/*
 * Returns 1 if the error reply "err" (without its "-") concerns the
 * connection or the server, not the command: Redis's own codes (the
 * first word) for a replica, a server out of memory, loading, busy ...
 * A command refused for another reason would be refused again.
 */
int posthog_resp_error_transient(const char *err, size_t len);

#endif /* POSTHOG_RESP_H */
