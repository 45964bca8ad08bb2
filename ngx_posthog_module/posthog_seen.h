/*
 * A small set of values already verified, so that an expensive check (the
 * HMAC of a signed cookie) runs once per visitor and not once per request.
 * Plain C, no nginx types, no allocation: the caller owns the storage
 * (one per worker process: not for concurrent use).
 *
 * Direct-mapped: a value's slot is chosen by a hash of its bytes and of
 * "owner" (e.g. the key it was verified with, so that a value verified
 * for one site is not taken as verified for another), and found again
 * only by comparing every byte and the owner.  A collision replaces the
 * older value: the cost is one more check, never a wrong answer.
 */

#ifndef POSTHOG_SEEN_H
#define POSTHOG_SEEN_H

#include <stddef.h>
#include <stdint.h>

#define POSTHOG_SEEN_SLOTS      256     /* a power of two */
#define POSTHOG_SEEN_VALUE_MAX  480     /* longer values are not kept */

typedef struct {
    const void     *owner;
    uint32_t        hash;
    uint16_t        len;            /* 0: empty */
    unsigned char   value[POSTHOG_SEEN_VALUE_MAX];
} posthog_seen_slot_t;

typedef struct {
    posthog_seen_slot_t  slot[POSTHOG_SEEN_SLOTS];
} posthog_seen_t;

/* 1 if "p" ("len" bytes) was added for "owner" and is still there */
int posthog_seen_has(const posthog_seen_t *s, const void *owner,
    const unsigned char *p, size_t len);

/* Remembers "p" for "owner"; a value over POSTHOG_SEEN_VALUE_MAX is not. */
void posthog_seen_add(posthog_seen_t *s, const void *owner,
    const unsigned char *p, size_t len);

#endif /* POSTHOG_SEEN_H */
