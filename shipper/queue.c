/*
 * What the shipper holds in memory: per project token, a FIFO of entries
 * read from the stream and not yet acknowledged, and a set of the ids held
 * (a PEL rescan or an XAUTOCLAIM can hand us an entry we already hold).
 *
 * Invariant: every held entry is in our consumer's PEL in Redis. Memory is
 * only a cache of it, so dropping an entry without XACK loses nothing: it
 * comes back with the next PEL scan, restart or XAUTOCLAIM.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shipper.h"


/* ---- the held-id set: open addressing, linear probing ---- */

#define PH_TOMB  UINT64_MAX     /* in the seq+1 slot of a deleted pair */

static size_t
ph_idset_hash(uint64_t ms, uint64_t seq, size_t cap)
{
    uint64_t  h;

    h = ms * 0x9E3779B97F4A7C15ULL ^ (seq + 0x632BE59BD9B4E019ULL);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;

    return (size_t) h & (cap - 1);
}


static int
ph_idset_grow(ph_idset_t *s)
{
    size_t      i, j, cap;
    uint64_t   *keys, *old;

    cap = s->cap ? s->cap : 1024;
    while (s->live * 2 >= cap / 2) {
        cap *= 2;
    }

    keys = calloc(cap * 2, sizeof(uint64_t));
    if (keys == NULL) {
        return -1;
    }

    old = s->keys;

    for (i = 0; old && i < s->cap; i++) {
        if (old[2 * i + 1] == 0 || old[2 * i + 1] == PH_TOMB) {
            continue;
        }

        j = ph_idset_hash(old[2 * i], old[2 * i + 1], cap);
        while (keys[2 * j + 1] != 0) {
            j = (j + 1) & (cap - 1);
        }
        keys[2 * j] = old[2 * i];
        keys[2 * j + 1] = old[2 * i + 1];
    }

    free(old);
    s->keys = keys;
    s->cap = cap;
    s->used = s->live;

    return 0;
}


static uint64_t *
ph_idset_find(ph_idset_t *s, uint64_t ms, uint64_t seq)
{
    size_t  j;

    if (s->cap == 0) {
        return NULL;
    }

    j = ph_idset_hash(ms, seq + 1, s->cap);

    while (s->keys[2 * j + 1] != 0) {
        if (s->keys[2 * j] == ms && s->keys[2 * j + 1] == seq + 1) {
            return &s->keys[2 * j];
        }
        j = (j + 1) & (s->cap - 1);
    }

    return NULL;
}


int
ph_idset_has(ph_idset_t *s, uint64_t ms, uint64_t seq)
{
    return ph_idset_find(s, ms, seq) != NULL;
}


int
ph_idset_add(ph_idset_t *s, uint64_t ms, uint64_t seq)
{
    size_t  j;

    if (ph_idset_find(s, ms, seq)) {
        return 0;
    }

    if ((s->used + 1) * 2 > s->cap && ph_idset_grow(s) != 0) {
        return -1;
    }

    j = ph_idset_hash(ms, seq + 1, s->cap);
    while (s->keys[2 * j + 1] != 0 && s->keys[2 * j + 1] != PH_TOMB) {
        j = (j + 1) & (s->cap - 1);
    }

    if (s->keys[2 * j + 1] == 0) {
        s->used++;
    }

    s->keys[2 * j] = ms;
    s->keys[2 * j + 1] = seq + 1;
    s->live++;

    return 0;
}


void
ph_idset_del(ph_idset_t *s, uint64_t ms, uint64_t seq)
{
    uint64_t  *k;

    k = ph_idset_find(s, ms, seq);
    if (k) {
        k[0] = 0;
        k[1] = PH_TOMB;
        s->live--;
    }
}


void
ph_idset_free(ph_idset_t *s)
{
    free(s->keys);
    memset(s, 0, sizeof(ph_idset_t));
}


/* ---- tokens ---- */

ph_token_t *
ph_token_get(ph_queue_t *qu, const char *tok, size_t len)
{
    ph_token_t  *t;

    for (t = qu->tokens; t; t = t->next) {
        if (t->len == len && memcmp(t->token, tok, len) == 0) {
            return t;
        }
    }

    t = calloc(1, sizeof(ph_token_t));
    if (t == NULL) {
        return NULL;
    }

    t->token = malloc(len + 1);
    if (t->token == NULL) {
        free(t);
        return NULL;
    }

    memcpy(t->token, tok, len);
    t->token[len] = '\0';
    t->len = len;

    t->next = qu->tokens;
    qu->tokens = t;

    return t;
}


int
ph_token_push(ph_queue_t *qu, ph_token_t *t, uint64_t ms, uint64_t seq,
    const char *ev, size_t len)
{
    size_t       cap;
    ph_entry_t  *e, *q;

    if (t->head > 0 && t->head == t->n) {
        t->head = 0;
        t->n = 0;
    }

    if (t->n == t->cap) {
        if (t->head > t->cap / 2) {
            /* compact: the front half was delivered */
            memmove(t->q, t->q + t->head, (t->n - t->head) * sizeof(*t->q));
            t->n -= t->head;
            t->head = 0;

        } else {
            cap = t->cap ? t->cap * 2 : 64;
            q = realloc(t->q, cap * sizeof(ph_entry_t));
            if (q == NULL) {
                return -1;
            }
            t->q = q;
            t->cap = cap;
        }
    }

    e = &t->q[t->n];
    e->event = malloc(len);
    if (e->event == NULL || ph_idset_add(&qu->ids, ms, seq) != 0) {
        free(e->event);
        return -1;
    }

    memcpy(e->event, ev, len);
    e->len = len;
    e->ms = ms;
    e->seq = seq;
    e->read_at = ph_now_ms();

    t->n++;
    t->bytes += len;
    qu->held++;
    qu->held_bytes += len;

    return 0;
}


/* Forget the first count entries (delivered, dead-lettered or released). */

void
ph_token_drop(ph_queue_t *qu, ph_token_t *t, size_t count)
{
    size_t       i;
    ph_entry_t  *e;

    for (i = 0; i < count && t->head < t->n; i++) {
        e = &t->q[t->head++];
        ph_idset_del(&qu->ids, e->ms, e->seq);
        t->bytes -= e->len;
        qu->held--;
        qu->held_bytes -= e->len;
        free(e->event);
        e->event = NULL;
    }

    if (t->head == t->n) {
        t->head = 0;
        t->n = 0;
    }
}


/* Forget everything of a token without XACK: the entries stay in our PEL. */

void
ph_token_release(ph_queue_t *qu, ph_token_t *t)
{
    ph_token_drop(qu, t, t->n - t->head);
    t->batch_n = 0;
    t->nstack = 0;
    t->attempt = 0;
}


/* Free tokens that hold nothing and wait for nothing: the token strings come
 * from the stream, and a stream with many projects must not grow memory. */

void
ph_tokens_gc(ph_queue_t *qu, const ph_token_t *busy)
{
    ph_token_t  **pt, *t;

    pt = &qu->tokens;

    while (*pt) {
        t = *pt;

        if (t->n == t->head && t->blocked_until == 0 && t->batch_n == 0
            && t != busy)
        {
            *pt = t->next;
            free(t->q);
            free(t->token);
            free(t);
            continue;
        }

        pt = &t->next;
    }
}


void
ph_tokens_free(ph_queue_t *qu)
{
    ph_token_t  *t, *next;

    for (t = qu->tokens; t; t = next) {
        next = t->next;
        ph_token_drop(qu, t, t->n - t->head);
        free(t->q);
        free(t->token);
        free(t);
    }

    qu->tokens = NULL;
    ph_idset_free(&qu->ids);
}
