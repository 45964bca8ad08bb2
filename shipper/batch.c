/*
 * Which token's batch goes next, what is in it, and when the next one is
 * due. A token's queue becomes a batch when it holds --batch-size events
 * or --batch-bytes, when its oldest event waited --flush-interval, or when
 * memory is full; the oldest entry goes first, across tokens. One batch is
 * sent at a time; its ranges (split by 400/413) are settled by main.c.
 */

#include "shipper.h"


static int
ph_batch_full(ph_queue_t *qu, const ph_conf_t *cf)
{
    return (long) qu->held >= cf->max_buffered
           || qu->held_bytes >= PH_MAX_HELD_BYTES;
}


static int
ph_batch_due(ph_queue_t *qu, const ph_conf_t *cf, ph_token_t *t,
    uint64_t now)
{
    size_t  count;

    if (t->blocked_until) {
        return 0;
    }

    if (t->nstack) {
        return t->next_try <= now;
    }

    count = t->n - t->head;

    if (count == 0 || t->next_try > now) {
        return 0;
    }

    return (long) count >= cf->batch_size
           || (long) (ph_body_overhead(t) + t->bytes + count)
              >= cf->batch_bytes
           || now - t->q[t->head].read_at >= (uint64_t) cf->flush_interval
           || ph_batch_full(qu, cf);
}


ph_token_t *
ph_batch_pick(ph_queue_t *qu, const ph_conf_t *cf, uint64_t now)
{
    ph_token_t  *t, *best;

    best = NULL;

    for (t = qu->tokens; t; t = t->next) {
        /* the oldest entry first, across tokens */
        if (ph_batch_due(qu, cf, t, now)
            && (best == NULL
                || t->q[t->head].ms < best->q[best->head].ms
                || (t->q[t->head].ms == best->q[best->head].ms
                    && t->q[t->head].seq < best->q[best->head].seq)))
        {
            best = t;
        }
    }

    return best;
}


void
ph_batch_form(ph_token_t *t, const ph_conf_t *cf)
{
    size_t  count, bytes, len;

    count = 0;
    bytes = ph_body_overhead(t);

    while (t->head + count < t->n && (long) count < cf->batch_size) {
        len = t->q[t->head + count].len + 1;
        if (count > 0 && (long) (bytes + len) > cf->batch_bytes) {
            break;
        }
        bytes += len;
        count++;
    }

    t->batch_n = count;
    t->stack[0].off = 0;
    t->stack[0].len = count;
    t->nstack = 1;
    t->attempt = 0;
}


/* a rejected range, in halves; the first half on top, so order is kept */

void
ph_batch_split(ph_token_t *t, const ph_range_t *r)
{
    t->stack[t->nstack].off = r->off + r->len / 2;
    t->stack[t->nstack].len = r->len - r->len / 2;
    t->nstack++;
    t->stack[t->nstack].off = r->off;
    t->stack[t->nstack].len = r->len / 2;
    t->nstack++;
}


/* the batch's ranges are all settled: forget its entries */

void
ph_batch_done(ph_queue_t *qu, ph_token_t *t)
{
    ph_token_drop(qu, t, t->batch_n);
    t->batch_n = 0;
    t->nstack = 0;
    t->attempt = 0;
}


/* the earliest time a token's batch may be due, if before "due" */

uint64_t
ph_batch_next(ph_queue_t *qu, const ph_conf_t *cf, uint64_t due)
{
    uint64_t     d;
    ph_token_t  *t;

    for (t = qu->tokens; t; t = t->next) {
        if (t->blocked_until) {
            d = t->blocked_until;

        } else if (t->nstack) {
            /* a batch under delivery (maybe backing off): its entries are
             * old, only the retry time counts, else the loop would spin
             * through the whole backoff */
            d = t->next_try;

        } else if (t->n > t->head) {
            d = t->q[t->head].read_at + cf->flush_interval;
            d = d > t->next_try ? d : t->next_try;

        } else {
            continue;
        }

        if (d < due) {
            due = d;
        }
    }

    return due;
}
