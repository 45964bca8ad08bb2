/*
 * The ring buffer of pending stream entries: one block of memory used as
 * a ring of records, each record (token, event) in one piece, in the
 * order they were pushed.  Plain C, no nginx types, no allocation: the
 * caller owns the memory.
 *
 *     start ... head ......... sent ......... tail ....... end
 *               |  in flight   |   unsent     |   free
 *
 * and, once a record did not fit between tail and end and went to start:
 *
 *     start ..... tail ...... head ...... sent ...... last ... end
 *     | unsent    |   free    | in flight |  unsent   |  unused
 *
 * "head" is the oldest record not yet acknowledged, "sent" the first one
 * not yet handed on (either may be before or after the wrap), "last"
 * where the records before the wrap end (NULL: not wrapped).  Records are
 * acknowledged in the order they were sent.  They are never moved: a push
 * copies its own record and nothing else, however full the ring.
 */

#ifndef POSTHOG_RING_H
#define POSTHOG_RING_H

#include <stddef.h>
#include <stdint.h>


#define POSTHOG_RING_OK          0
#define POSTHOG_RING_FULL        1   /* no room now; may fit after acks */
#define POSTHOG_RING_TOO_LARGE   2   /* would not fit in an empty ring */


/* what precedes the token and the event in the ring */

typedef struct {
    uint32_t                   token_len;
    uint32_t                   event_len;
} posthog_ring_header_t;

/* the bytes one record takes */
#define posthog_ring_record_size(token_len, event_len)                       \
    (sizeof(posthog_ring_header_t) + (token_len) + (event_len))


/* the fields are read by the caller, written by these functions only */

typedef struct {
    unsigned char             *start;
    unsigned char             *end;
    unsigned char             *head;
    unsigned char             *sent;
    unsigned char             *tail;
    unsigned char             *last;         /* the wrap, NULL: none */

    size_t                     buffered;     /* records head..tail */
    size_t                     inflight;     /* records head..sent */
    size_t                     bytes;        /* their size, head..tail */
    size_t                     unsent;       /* bytes sent..tail */

    unsigned char             *reserved;     /* see reserve, NULL: none */
    size_t                     reserved_token;
    size_t                     reserved_max;
} posthog_ring_t;


/* one record, pointing into the ring */

typedef struct {
    const unsigned char       *token;
    size_t                     token_len;
    const unsigned char       *event;
    size_t                     event_len;
    size_t                     size;         /* the whole record */
} posthog_ring_record_t;


/* An empty ring on the "size" bytes at "mem". */
void posthog_ring_init(posthog_ring_t *ring, unsigned char *mem, size_t size);

/*
 * Copies a record at the tail.  Returns POSTHOG_RING_OK, or
 * POSTHOG_RING_FULL / POSTHOG_RING_TOO_LARGE and the ring is unchanged.
 */
int posthog_ring_push(posthog_ring_t *ring, const unsigned char *token,
    size_t token_len, const unsigned char *event, size_t event_len);

/*
 * A record built in place: room at the tail for the token, copied now,
 * and an event of at most "max" bytes, whose start is returned; the
 * caller writes the event there and posthog_ring_commit() makes the
 * record of its real length.  NULL when the ring has no such room where
 * posthog_ring_push() would put a record of any size up to that one
 * (before the end of a ring not wrapped, or before head after the wrap):
 * the caller then pushes a copy, and push tells whether the ring is full.
 * Nothing else may change the ring in between (a push, an ack, a clear
 * end the reservation); without a commit the ring is unchanged.
 */
unsigned char *posthog_ring_reserve(posthog_ring_t *ring,
    const unsigned char *token, size_t token_len, size_t max);

/*
 * The reserved record takes its "event_len" (at most its "max") bytes.
 * POSTHOG_RING_OK, or POSTHOG_RING_FULL and the ring is unchanged when
 * there is no reservation (any more).
 */
int posthog_ring_commit(posthog_ring_t *ring, size_t event_len);

/*
 * The first record not yet sent: returns 1 and fills "rec", or 0 when
 * every record was sent.  posthog_ring_sent() then marks it sent.
 */
int posthog_ring_next_unsent(posthog_ring_t *ring,
    posthog_ring_record_t *rec);
void posthog_ring_sent(posthog_ring_t *ring);

/*
 * The oldest record in flight was acknowledged: it leaves the ring.
 * Returns its size.  Only with ring->inflight > 0.
 */
size_t posthog_ring_ack(posthog_ring_t *ring);

/* what was in flight has no answer: every record is unsent again */
void posthog_ring_rewind(posthog_ring_t *ring);

/* every record leaves the ring */
void posthog_ring_clear(posthog_ring_t *ring);

#endif /* POSTHOG_RING_H */
