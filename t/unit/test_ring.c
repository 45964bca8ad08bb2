/*
 * The ring buffer of pending events: records come out in the order they
 * went in, byte for byte, through wrap-around, a full ring, partial
 * sends and acknowledgements, and a rewind after a lost connection; a
 * full ring refuses without changing.
 */

#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "ringcheck.h"


#define HDR  sizeof(posthog_ring_header_t)


static int
push(posthog_ring_t *r, const char *token, const char *event)
{
    return posthog_ring_push(r, (const unsigned char *) token, strlen(token),
                             (const unsigned char *) event, strlen(event));
}


static int
next_is(posthog_ring_t *r, const char *token, const char *event)
{
    posthog_ring_record_t  rec;

    if (!posthog_ring_next_unsent(r, &rec)) {
        return 0;
    }

    return rec.token_len == strlen(token)
           && memcmp(rec.token, token, rec.token_len) == 0
           && rec.event_len == strlen(event)
           && memcmp(rec.event, event, rec.event_len) == 0
           && rec.size == HDR + rec.token_len + rec.event_len;
}


int
main(void)
{
    int              i, j;
    size_t           size;
    unsigned char    mem[3 * (HDR + 12)], src[sizeof(mem)], ops[3000];
    posthog_ring_t   r, before;
    const char      *err;

    memset(src, 'x', sizeof(src));

    /* records of HDR + 12 bytes: three fill the ring exactly */

    posthog_ring_init(&r, mem, sizeof(mem));

    is_int(posthog_ring_next_unsent(&r, NULL), 0, "empty: nothing to send");

    is_int(push(&r, "tok1", "event-A1"), POSTHOG_RING_OK, "push A");
    is_int(push(&r, "tok1", "event-B1"), POSTHOG_RING_OK, "push B");
    is_int(push(&r, "tok2", "event-C2"), POSTHOG_RING_OK, "push C");
    ok(r.tail == r.end, "three records fill the ring to the end");
    is_int(r.buffered, 3, "3 buffered");
    is_int(r.bytes, sizeof(mem), "bytes: the whole ring");
    is_int(r.unsent, sizeof(mem), "unsent: the whole ring");

    before = r;
    is_int(push(&r, "tok1", "event-D1"), POSTHOG_RING_FULL, "full");
    ok(memcmp(&before, &r, sizeof(r)) == 0, "a refused push changes nothing");
    is_int(push(&r, "", ""), POSTHOG_RING_FULL, "full for an empty record");

    /* partial send and ack */

    ok(next_is(&r, "tok1", "event-A1"), "A is sent first");
    posthog_ring_sent(&r);
    ok(next_is(&r, "tok1", "event-B1"), "then B");
    posthog_ring_sent(&r);
    is_int(r.inflight, 2, "2 in flight");
    is_int(r.unsent, HDR + 12, "one record unsent");

    is_int(posthog_ring_ack(&r), HDR + 12, "ack A: its size");
    is_int(r.buffered, 2, "2 buffered");
    is_int(r.inflight, 1, "B in flight");
    ok(r.head == r.start + HDR + 12, "head after A");

    /* A's room at start is exactly one record: a wrap needs more (tail
     * never reaches head), so the ring is still full */

    is_int(push(&r, "tok1", "event-D1"), POSTHOG_RING_FULL,
           "no wrap into a room of exactly one record");
    is_int(push(&r, "tok1", "event-D"), POSTHOG_RING_OK,
           "a smaller record wraps to start");
    ok(r.last == r.end, "last: where the records before the wrap end");
    ok(r.tail == r.start + HDR + 11, "tail after the wrapped record");

    /* lost connection: B goes again, before C and D */

    posthog_ring_rewind(&r);
    is_int(r.inflight, 0, "rewind: nothing in flight");
    is_int(r.unsent, r.bytes, "rewind: everything unsent");
    ok(next_is(&r, "tok1", "event-B1"), "after a rewind B goes again");
    posthog_ring_sent(&r);
    ok(next_is(&r, "tok2", "event-C2"), "then C");
    posthog_ring_sent(&r);
    ok(next_is(&r, "tok1", "event-D"), "then D, across the wrap");
    posthog_ring_sent(&r);
    is_int(posthog_ring_next_unsent(&r, NULL), 0, "all sent");
    ok(r.sent == r.tail, "sent == tail");

    is_int(posthog_ring_ack(&r), HDR + 12, "ack B");
    is_int(posthog_ring_ack(&r), HDR + 12, "ack C");
    ok(r.last == NULL && r.head == r.start, "head past the wrap: unwrapped");
    is_int(posthog_ring_ack(&r), HDR + 11, "ack D");
    ok(r.buffered == 0 && r.bytes == 0 && r.unsent == 0 && r.head == r.start
       && r.sent == r.start && r.tail == r.start, "empty: back at start");

    /* a wrap while everything is sent: sent follows to start */

    push(&r, "t", "0123456789a");
    push(&r, "t", "0123456789a");
    push(&r, "t", "0123456789a");
    posthog_ring_sent(&r);
    posthog_ring_sent(&r);
    posthog_ring_sent(&r);
    posthog_ring_ack(&r);
    posthog_ring_ack(&r);
    is_int(push(&r, "t", "x"), POSTHOG_RING_OK, "wrap with all sent");
    ok(r.sent == r.start, "sent moved to the wrapped record");
    ok(next_is(&r, "t", "x"), "and it is the next to send");

    /* too large and clear */

    is_int(posthog_ring_push(&r, src, 0, src, sizeof(mem) - HDR + 1),
           POSTHOG_RING_TOO_LARGE, "one byte more than the ring");
    is_int(posthog_ring_push(&r, src, 1, src, (size_t) -1),
           POSTHOG_RING_TOO_LARGE, "a length that would overflow");
    posthog_ring_clear(&r);
    ok(r.buffered == 0 && r.bytes == 0 && r.tail == r.start, "cleared");
    is_int(posthog_ring_push(&r, src, 0, src, sizeof(mem) - HDR),
           POSTHOG_RING_OK, "a record of exactly the ring's size");
    ok(r.tail == r.end, "fills it");

    posthog_ring_init(&r, mem, HDR - 1);
    is_int(push(&r, "", ""), POSTHOG_RING_TOO_LARGE,
           "a ring smaller than a header takes nothing");

    /* a record built in place: reserve, write, commit */

    {
        unsigned char  *p;

        posthog_ring_init(&r, mem, sizeof(mem));

        p = posthog_ring_reserve(&r, (const unsigned char *) "tok1", 4, 12);
        ok(p == r.start + HDR + 4, "reserve: the event goes after the token");
        memcpy(p, "event-A1", 8);
        ok(r.buffered == 0 && r.tail == r.start,
           "a reservation is not a record yet");
        is_int(posthog_ring_commit(&r, 8), POSTHOG_RING_OK, "commit");
        ok(r.buffered == 1 && r.tail == r.start + HDR + 12
           && r.bytes == HDR + 12 && r.unsent == HDR + 12,
           "commit: a record of the real length");
        ok(next_is(&r, "tok1", "event-A1"), "and it is the one written");
        is_int(posthog_ring_commit(&r, 8), POSTHOG_RING_FULL,
               "no second commit");

        before = r;
        p = posthog_ring_reserve(&r, (const unsigned char *) "tok1", 4, 100);
        ok(p == NULL, "no room for the most the event may take: NULL");
        r.reserved = NULL;
        ok(memcmp(&before, &r, sizeof(r)) == 0,
           "a refused reservation changes nothing");

        p = posthog_ring_reserve(&r, (const unsigned char *) "tok1", 4, 20);
        ok(p != NULL, "room for two records' worth at the tail");
        memcpy(p, "event-B1", 8);
        is_int(push(&r, "tok2", "event-C2"), POSTHOG_RING_OK,
               "a push in between");
        is_int(posthog_ring_commit(&r, 8), POSTHOG_RING_FULL,
               "ends the reservation");
        ok(r.buffered == 2, "which makes no record");

        p = posthog_ring_reserve(&r, (const unsigned char *) "tok1", 4, 8);
        ok(p != NULL, "reserve the last record's room");
        before = r;
        is_int(posthog_ring_commit(&r, 9), POSTHOG_RING_FULL,
               "commit longer than reserved: refused");
        r.reserved = before.reserved;
        ok(memcmp(&before, &r, sizeof(r)) == 0, "and changes nothing");

        p = posthog_ring_reserve(&r, (const unsigned char *) "tok1", 4, 8);
        posthog_ring_clear(&r);
        is_int(posthog_ring_commit(&r, 8), POSTHOG_RING_FULL,
               "a clear ends the reservation");
    }

    /* random operations against the model, rings of many sizes */

    for (i = 0; i < 400; i++) {
        size = (i % 4 == 0) ? tap_rand() % 64 : 64 + tap_rand() % 8192;

        for (j = 0; j < (int) sizeof(ops); j++) {
            ops[j] = (unsigned char) tap_rand();
        }

        err = ringcheck_run(size, ops, sizeof(ops));

        if (!ok(err == NULL, "random run %d, ring of %zu bytes", i, size)) {
            diag("%s", err);
        }
    }

    return done_testing();
}
