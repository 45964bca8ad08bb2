/*
 * The ring buffer of pending stream entries, see posthog_ring.h.
 */

#include <string.h>

#include "posthog_ring.h"


/* the record after p, and the size of the one at p */

static unsigned char *
posthog_ring_next(posthog_ring_t *ring, unsigned char *p, size_t *size)
{
    posthog_ring_header_t  h;

    memcpy(&h, p, sizeof(posthog_ring_header_t));

    *size = posthog_ring_record_size((size_t) h.token_len,
                                     (size_t) h.event_len);
    p += *size;

    return (p == ring->last) ? ring->start : p;
}


void
posthog_ring_init(posthog_ring_t *ring, unsigned char *mem, size_t size)
{
    memset(ring, 0, sizeof(posthog_ring_t));

    ring->start = mem;
    ring->end = mem + size;
    ring->head = mem;
    ring->sent = mem;
    ring->tail = mem;
}


int
posthog_ring_push(posthog_ring_t *ring, const unsigned char *token,
    size_t token_len, const unsigned char *event, size_t event_len)
{
    size_t                  size, room;
    unsigned char          *p;
    posthog_ring_header_t   h;

    ring->reserved = NULL;

    room = (size_t) (ring->end - ring->start);

    if ((uint64_t) token_len > UINT32_MAX || (uint64_t) event_len > UINT32_MAX
        || room < sizeof(posthog_ring_header_t)
        || token_len > room - sizeof(posthog_ring_header_t)
        || event_len > room - sizeof(posthog_ring_header_t) - token_len)
    {
        return POSTHOG_RING_TOO_LARGE;
    }

    size = posthog_ring_record_size(token_len, event_len);

    /*
     * The record goes after tail if it fits before the end, else at start
     * if it fits before head.  After a wrap, tail never reaches head: an
     * equal tail and head mean an empty ring.
     */

    if (ring->last == NULL && size <= (size_t) (ring->end - ring->tail)) {
        p = ring->tail;

    } else if (ring->last == NULL
               && size < (size_t) (ring->head - ring->start))
    {
        ring->last = ring->tail;
        p = ring->start;

        if (ring->sent == ring->last) {
            ring->sent = p;
        }

    } else if (ring->last && size < (size_t) (ring->head - ring->tail)) {
        p = ring->tail;

    } else {
        return POSTHOG_RING_FULL;
    }

    h.token_len = (uint32_t) token_len;
    h.event_len = (uint32_t) event_len;

    memcpy(p, &h, sizeof(posthog_ring_header_t));
    p += sizeof(posthog_ring_header_t);
    memcpy(p, token, token_len);
    p += token_len;
    memcpy(p, event, event_len);
    ring->tail = p + event_len;

    ring->buffered++;
    ring->bytes += size;
    ring->unsent += size;

    return POSTHOG_RING_OK;
}


unsigned char *
posthog_ring_reserve(posthog_ring_t *ring, const unsigned char *token,
    size_t token_len, size_t max)
{
    size_t          room, size;
    unsigned char  *p;

    ring->reserved = NULL;

    room = (size_t) (ring->end - ring->start);

    if ((uint64_t) token_len > UINT32_MAX || (uint64_t) max > UINT32_MAX
        || room < sizeof(posthog_ring_header_t)
        || token_len > room - sizeof(posthog_ring_header_t)
        || max > room - sizeof(posthog_ring_header_t) - token_len)
    {
        return NULL;
    }

    size = posthog_ring_record_size(token_len, max);

    /* where push would put every record of this size or less */

    if (ring->last == NULL) {
        if (size > (size_t) (ring->end - ring->tail)) {
            return NULL;
        }

    } else if (size >= (size_t) (ring->head - ring->tail)) {
        return NULL;
    }

    p = ring->tail;

    memcpy(p + sizeof(posthog_ring_header_t), token, token_len);

    ring->reserved = p;
    ring->reserved_token = token_len;
    ring->reserved_max = max;

    return p + sizeof(posthog_ring_header_t) + token_len;
}


int
posthog_ring_commit(posthog_ring_t *ring, size_t event_len)
{
    size_t                  size;
    posthog_ring_header_t   h;

    if (ring->reserved == NULL || ring->reserved != ring->tail
        || event_len > ring->reserved_max)
    {
        ring->reserved = NULL;
        return POSTHOG_RING_FULL;
    }

    h.token_len = (uint32_t) ring->reserved_token;
    h.event_len = (uint32_t) event_len;

    memcpy(ring->tail, &h, sizeof(posthog_ring_header_t));

    size = posthog_ring_record_size(ring->reserved_token, event_len);

    ring->tail += size;
    ring->reserved = NULL;

    ring->buffered++;
    ring->bytes += size;
    ring->unsent += size;

    return POSTHOG_RING_OK;
}


int
posthog_ring_next_unsent(posthog_ring_t *ring, posthog_ring_record_t *rec)
{
    posthog_ring_header_t  h;

    if (ring->sent == ring->tail) {
        return 0;
    }

    memcpy(&h, ring->sent, sizeof(posthog_ring_header_t));

    rec->token = ring->sent + sizeof(posthog_ring_header_t);
    rec->token_len = h.token_len;
    rec->event = rec->token + h.token_len;
    rec->event_len = h.event_len;
    rec->size = posthog_ring_record_size(rec->token_len, rec->event_len);

    return 1;
}


void
posthog_ring_sent(posthog_ring_t *ring)
{
    size_t  size;

    ring->sent = posthog_ring_next(ring, ring->sent, &size);
    ring->unsent -= size;
    ring->inflight++;
}


size_t
posthog_ring_ack(posthog_ring_t *ring)
{
    size_t  size;

    ring->head = posthog_ring_next(ring, ring->head, &size);

    if (ring->head == ring->start) {
        /* past the wrap */
        ring->last = NULL;
    }

    ring->inflight--;
    ring->buffered--;
    ring->bytes -= size;

    if (ring->buffered == 0) {
        posthog_ring_clear(ring);
    }

    return size;
}


void
posthog_ring_rewind(posthog_ring_t *ring)
{
    ring->sent = ring->head;
    ring->unsent = ring->bytes;
    ring->inflight = 0;
}


void
posthog_ring_clear(posthog_ring_t *ring)
{
    ring->head = ring->start;
    ring->sent = ring->start;
    ring->tail = ring->start;
    ring->last = NULL;
    ring->reserved = NULL;
    ring->buffered = 0;
    ring->inflight = 0;
    ring->bytes = 0;
    ring->unsent = 0;
}
