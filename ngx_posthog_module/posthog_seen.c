/*
 * The set of values already verified; see posthog_seen.h.
 */

#include <string.h>

#include "posthog_seen.h"


/*
 * A multiply-xorshift over the owner's address, then the bytes 8 at a
 * time, and their length: fast, and the slot is only a hint (every byte
 * is compared).  The shift brings the high bits of each product down, so
 * every byte of the value reaches the slot's bits.
 */

#define POSTHOG_SEEN_K  0x9e3779b97f4a7c15ULL

static uint32_t
posthog_seen_hash(const void *owner, const unsigned char *p, size_t len)
{
    size_t    i;
    uint64_t  h, w;

    h = (uint64_t) (uintptr_t) owner * POSTHOG_SEEN_K;
    h ^= h >> 32;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&w, p + i, sizeof(uint64_t));
        h = (h ^ w) * POSTHOG_SEEN_K;
        h ^= h >> 32;
    }

    for (w = len; i < len; i++) {
        w = w << 8 | p[i];
    }

    h = (h ^ w) * POSTHOG_SEEN_K;

    return (uint32_t) (h ^ h >> 32);
}


int
posthog_seen_has(const posthog_seen_t *s, const void *owner,
    const unsigned char *p, size_t len)
{
    uint32_t                    h;
    const posthog_seen_slot_t  *sl;

    if (len == 0 || len > POSTHOG_SEEN_VALUE_MAX) {
        return 0;
    }

    h = posthog_seen_hash(owner, p, len);
    sl = &s->slot[h & (POSTHOG_SEEN_SLOTS - 1)];

    return sl->len == len && sl->hash == h && sl->owner == owner
           && memcmp(sl->value, p, len) == 0;
}


void
posthog_seen_add(posthog_seen_t *s, const void *owner,
    const unsigned char *p, size_t len)
{
    uint32_t              h;
    posthog_seen_slot_t  *sl;

    if (len == 0 || len > POSTHOG_SEEN_VALUE_MAX) {
        return;
    }

    h = posthog_seen_hash(owner, p, len);
    sl = &s->slot[h & (POSTHOG_SEEN_SLOTS - 1)];

    sl->owner = owner;
    sl->hash = h;
    sl->len = (uint16_t) len;
    memcpy(sl->value, p, len);
}
