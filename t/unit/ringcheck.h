/*
 * A model of posthog_ring for the unit test and the fuzz target: a queue
 * of the records pushed, the first "inflight" of them sent.  After every
 * operation the ring is walked from head to tail and must hold exactly
 * the model's records, byte for byte, with the counters and the layout
 * invariants of posthog_ring.h.  Header only.
 */

#ifndef RINGCHECK_H
#define RINGCHECK_H

#include <stdlib.h>
#include <string.h>

#include "posthog_ring.h"


#define RINGCHECK_MAX  4096          /* records in the model */


typedef struct {
    size_t                     token_len;
    size_t                     event_len;
    unsigned                   seed;
} ringcheck_rec_t;


typedef struct {
    posthog_ring_t             ring;
    unsigned char             *mem;
    size_t                     size;
    ringcheck_rec_t            q[RINGCHECK_MAX];
    size_t                     n;            /* records in the ring */
    size_t                     inflight;     /* the first ones, sent */
    unsigned                   seeds;
} ringcheck_t;


static inline unsigned char
ringcheck_byte(unsigned seed, size_t i)
{
    return (unsigned char) (seed * 31 + i * 7 + (i >> 8));
}


static inline void
ringcheck_fill(unsigned char *p, size_t len, unsigned seed)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        p[i] = ringcheck_byte(seed, i);
    }
}


static inline int
ringcheck_same(const unsigned char *p, size_t len, unsigned seed)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] != ringcheck_byte(seed, i)) {
            return 0;
        }
    }

    return 1;
}


static inline ringcheck_t *
ringcheck_new(size_t size)
{
    ringcheck_t  *rc;

    rc = calloc(1, sizeof(ringcheck_t));
    rc->mem = malloc(size ? size : 1);
    rc->size = size;
    posthog_ring_init(&rc->ring, rc->mem, size);

    return rc;
}


static inline void
ringcheck_free(ringcheck_t *rc)
{
    free(rc->mem);
    free(rc);
}


/* the ring against the model: NULL, or what is wrong */

static inline const char *
ringcheck_verify(ringcheck_t *rc)
{
    size_t                  i, bytes, unsent, size;
    unsigned char          *p;
    posthog_ring_t         *r;
    posthog_ring_header_t   h;

    r = &rc->ring;

    if (r->buffered != rc->n || r->inflight != rc->inflight) {
        return "buffered or inflight differs from the model";
    }

    if (r->start != rc->mem || r->end != rc->mem + rc->size) {
        return "start or end moved";
    }

    if (r->last == NULL) {
        if (!(r->start <= r->head && r->head <= r->tail
              && r->tail <= r->end))
        {
            return "not wrapped: start <= head <= tail <= end broken";
        }

    } else if (!(r->start <= r->tail && r->tail < r->head
                 && r->head < r->last && r->last <= r->end))
    {
        return "wrapped: start <= tail < head < last <= end broken";
    }

    if (rc->n == 0 && (r->head != r->start || r->tail != r->start
                       || r->sent != r->start || r->last != NULL))
    {
        return "an empty ring is not reset to start";
    }

    p = r->head;
    bytes = 0;
    unsent = 0;

    for (i = 0; i < rc->n; i++) {

        if (i == rc->inflight && p != r->sent) {
            return "sent is not after the records in flight";
        }

        if (p == r->tail) {
            return "tail before the last record";
        }

        if ((size_t) (r->end - p) < sizeof(posthog_ring_header_t)) {
            return "a record header past the end";
        }

        memcpy(&h, p, sizeof(posthog_ring_header_t));

        if (h.token_len != rc->q[i].token_len
            || h.event_len != rc->q[i].event_len)
        {
            return "a record's lengths differ";
        }

        size = posthog_ring_record_size(rc->q[i].token_len,
                                        rc->q[i].event_len);

        if ((size_t) (r->end - p) < size) {
            return "a record past the end";
        }

        p += sizeof(posthog_ring_header_t);

        if (!ringcheck_same(p, h.token_len, rc->q[i].seed)
            || !ringcheck_same(p + h.token_len, h.event_len,
                               rc->q[i].seed + 1))
        {
            return "a record's bytes differ";
        }

        p += h.token_len + h.event_len;
        bytes += size;

        if (i >= rc->inflight) {
            unsent += size;
        }

        if (p == r->last) {
            p = r->start;
        }
    }

    if (p != r->tail) {
        return "tail is not after the last record";
    }

    if (rc->inflight == rc->n && r->sent != r->tail) {
        return "everything sent, but sent != tail";
    }

    if (r->bytes != bytes || r->unsent != unsent) {
        return "bytes or unsent differs from the model";
    }

    return NULL;
}


/* the same ring, the fields of a reservation aside */

static inline int
ringcheck_unchanged(const posthog_ring_t *a, const posthog_ring_t *b)
{
    posthog_ring_t  x, y;

    x = *a;
    y = *b;
    x.reserved = NULL;
    x.reserved_token = 0;
    x.reserved_max = 0;
    y.reserved = NULL;
    y.reserved_token = 0;
    y.reserved_max = 0;

    return memcmp(&x, &y, sizeof(posthog_ring_t)) == 0;
}


static inline const char *
ringcheck_push(ringcheck_t *rc, size_t token_len, size_t event_len)
{
    int             rv;
    size_t          size;
    unsigned        seed;
    unsigned char  *token, *event;
    posthog_ring_t  before;

    if (rc->n == RINGCHECK_MAX) {
        return NULL;
    }

    seed = rc->seeds++;
    token = malloc(token_len + 1);
    event = malloc(event_len + 1);
    ringcheck_fill(token, token_len, seed);
    ringcheck_fill(event, event_len, seed + 1);

    before = rc->ring;
    rv = posthog_ring_push(&rc->ring, token, token_len, event, event_len);

    free(token);
    free(event);

    size = posthog_ring_record_size(token_len, event_len);

    if (rv == POSTHOG_RING_OK) {
        if (size > rc->size) {
            return "a record larger than the ring was taken";
        }

        rc->q[rc->n].token_len = token_len;
        rc->q[rc->n].event_len = event_len;
        rc->q[rc->n].seed = seed;
        rc->n++;
        return NULL;
    }

    if (!ringcheck_unchanged(&before, &rc->ring)) {
        return "a refused push changed the ring";
    }

    if (rv == POSTHOG_RING_TOO_LARGE) {
        return (size > rc->size) ? NULL : "a record that fits is too large";
    }

    if (rv != POSTHOG_RING_FULL) {
        return "push returned an unknown value";
    }

    if (size > rc->size) {
        return "a record larger than the ring is full, not too large";
    }

    if (rc->n == 0) {
        return "an empty ring is full";
    }

    return NULL;
}


/*
 * The same record built in place: reserved for an event of "max" bytes,
 * written, committed with its real length (or not: "abort").  A record
 * reserved goes where push would have put it, with the same result;
 * without room in place the caller's fallback, a push, decides.
 */

static inline const char *
ringcheck_put(ringcheck_t *rc, size_t token_len, size_t event_len,
    size_t max, int abort)
{
    size_t          room, size;
    unsigned        seed;
    unsigned char  *token, *p;
    posthog_ring_t  before, pushed;

    if (rc->n == RINGCHECK_MAX) {
        return NULL;
    }

    seed = rc->seeds;
    token = malloc(token_len + 1);
    ringcheck_fill(token, token_len, seed);

    before = rc->ring;
    p = posthog_ring_reserve(&rc->ring, token, token_len, max);
    free(token);

    size = posthog_ring_record_size(token_len, max);

    if (p == NULL) {
        if (rc->ring.reserved != NULL) {
            return "a refused reservation is kept";
        }

        if (!ringcheck_unchanged(&before, &rc->ring)) {
            return "a refused reservation changed the ring";
        }

        /* refused where a record of that size fits in place */

        room = (rc->ring.last == NULL)
               ? (size_t) (rc->ring.end - rc->ring.tail)
               : (size_t) (rc->ring.head - rc->ring.tail) - 1;

        if (size <= room) {
            return "a reservation refused where the record fits";
        }

        return ringcheck_push(rc, token_len, event_len);
    }

    if (size > rc->size || p != before.tail + sizeof(posthog_ring_header_t)
                                           + token_len)
    {
        return "a reservation not at the tail";
    }

    ringcheck_fill(p, event_len, seed + 1);

    if (abort) {
        if (!ringcheck_unchanged(&before, &rc->ring)) {
            return "an aborted reservation changed the ring";
        }

        return NULL;
    }

    if (posthog_ring_commit(&rc->ring, event_len) != POSTHOG_RING_OK) {
        return "a commit of a reservation failed";
    }

    if (posthog_ring_commit(&rc->ring, 0) != POSTHOG_RING_FULL) {
        return "a second commit of one reservation";
    }

    /* push, from the ring as it was, puts the same bytes at the same place */

    pushed = before;

    if (posthog_ring_push(&pushed, before.tail + sizeof(posthog_ring_header_t),
                          token_len, p, event_len)
        != POSTHOG_RING_OK)
    {
        return "push refuses a record committed in place";
    }

    if (!ringcheck_unchanged(&pushed, &rc->ring))
    {
        return "a committed record is not where push puts it";
    }

    rc->seeds++;
    rc->q[rc->n].token_len = token_len;
    rc->q[rc->n].event_len = event_len;
    rc->q[rc->n].seed = seed;
    rc->n++;

    return NULL;
}


/* sends at most "max" records */

static inline const char *
ringcheck_send(ringcheck_t *rc, size_t max)
{
    posthog_ring_record_t  rec;

    while (max--) {
        if (!posthog_ring_next_unsent(&rc->ring, &rec)) {
            return (rc->inflight == rc->n) ? NULL
                                           : "no unsent record, model has";
        }

        if (rc->inflight == rc->n) {
            return "an unsent record the model does not have";
        }

        if (rec.token_len != rc->q[rc->inflight].token_len
            || rec.event_len != rc->q[rc->inflight].event_len
            || rec.size != posthog_ring_record_size(rec.token_len,
                                                    rec.event_len)
            || !ringcheck_same(rec.token, rec.token_len,
                               rc->q[rc->inflight].seed)
            || !ringcheck_same(rec.event, rec.event_len,
                               rc->q[rc->inflight].seed + 1))
        {
            return "the next unsent record is not the model's";
        }

        posthog_ring_sent(&rc->ring);
        rc->inflight++;
    }

    return NULL;
}


static inline const char *
ringcheck_ack(ringcheck_t *rc)
{
    size_t  size;

    if (rc->inflight == 0) {
        return NULL;
    }

    size = posthog_ring_ack(&rc->ring);

    if (size != posthog_ring_record_size(rc->q[0].token_len,
                                         rc->q[0].event_len))
    {
        return "ack returned another size";
    }

    memmove(&rc->q[0], &rc->q[1], (rc->n - 1) * sizeof(ringcheck_rec_t));
    rc->n--;
    rc->inflight--;

    return NULL;
}


static inline void
ringcheck_rewind(ringcheck_t *rc)
{
    posthog_ring_rewind(&rc->ring);
    rc->inflight = 0;
}


static inline void
ringcheck_clear(ringcheck_t *rc)
{
    posthog_ring_clear(&rc->ring);
    rc->n = 0;
    rc->inflight = 0;
}


/*
 * Runs the operations that "ops" encodes on a ring of "size" bytes; NULL,
 * or what went wrong.  Each operation is one byte, pushes two more (the
 * lengths, scaled to the ring).
 */

static inline const char *
ringcheck_run(size_t size, const unsigned char *ops, size_t n)
{
    size_t        i, tl, el;
    unsigned      op;
    ringcheck_t  *rc;
    const char   *err;

    rc = ringcheck_new(size);
    err = ringcheck_verify(rc);

    for (i = 0; i < n && err == NULL; i++) {

        switch (ops[i] % 8) {

        case 0:
        case 1:
        case 2:
            op = ops[i];
            tl = (i + 1 < n) ? ops[++i] : 0;
            el = (i + 1 < n) ? ops[++i] : 0;

            /* mostly small records, some up to a third of the ring */
            el = (ops[i] & 0x80) ? el * (size / 3 + 1) / 256 : el % 64;
            tl %= 48;

            if (op % 8 != 2) {
                err = ringcheck_push(rc, tl, el);
                break;
            }

            /* in place: room for up to twice the event, some aborted */
            err = ringcheck_put(rc, tl, el, el + (op >> 3) * el / 16,
                                (op & 0xc0) == 0xc0);
            break;

        case 3:
            err = ringcheck_send(rc, 1);
            break;

        case 4:
            err = ringcheck_send(rc, (size_t) -1);
            break;

        case 5:
        case 6:
            err = ringcheck_ack(rc);
            break;

        default:
            if (ops[i] & 0x40) {
                ringcheck_clear(rc);

            } else {
                ringcheck_rewind(rc);
            }
        }

        if (err == NULL) {
            err = ringcheck_verify(rc);
        }
    }

    ringcheck_free(rc);

    return err;
}

#endif /* RINGCHECK_H */
