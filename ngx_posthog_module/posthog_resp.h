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
 *
 * And the reading of a reply, as hiredis's reader reads it, without an
 * allocation: the writer reads its XADDs' replies itself.
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
 * A reply, as posthog_resp_reply() reads it: a status ("+OK"), an error,
 * an integer (its digits, checked) or a bulk string (NULL: nil).  Its text
 * points into the bytes read.
 */
typedef struct {
    int                        type;     /* '+', '-', ':' or '$' */
    const unsigned char       *str;
    size_t                     len;
} posthog_resp_reply_t;

#define POSTHOG_RESP_REPLY_OK      0
#define POSTHOG_RESP_REPLY_AGAIN   1     /* not complete: read more */
#define POSTHOG_RESP_REPLY_BAD     2     /* not RESP, or an array */

/*
 * Reads the reply at the start of the "n" bytes at "p", as hiredis's
 * reader does (t/fuzz/fuzz_resp.c compares them), and sets "used" to its
 * length.  An array, which no command of the writer gets, is BAD.
 */
int posthog_resp_reply(const unsigned char *p, size_t n,
    posthog_resp_reply_t *reply, size_t *used);

/*
 * Returns 1 if the error reply "err" (without its "-") concerns the
 * connection or the server, not the command: Redis's own codes (the
 * first word) for a replica, a server out of memory, loading, busy ...
 * A command refused for another reason would be refused again.
 */
int posthog_resp_error_transient(const char *err, size_t len);

#endif /* POSTHOG_RESP_H */
