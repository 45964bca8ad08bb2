/*
 * The set of values already verified; see posthog_seen.h.
 */

#include <string.h>

#include "posthog_seen.h"


/* FNV-1a over the owner's address and the bytes: fast, and the slot is
 * only a hint (every byte is compared) */

static uint32_t
posthog_seen_hash(const void *owner, const unsigned char *p, size_t len)
{
    size_t     i;
    uint32_t   h;
    uintptr_t  o;

    h = 2166136261u;
    o = (uintptr_t) owner;

    for (i = 0; i < sizeof(uintptr_t); i++) {
        h = (h ^ (uint32_t) (o & 0xff)) * 16777619u;
        o >>= 8;
    }

    for (i = 0; i < len; i++) {
        h = (h ^ p[i]) * 16777619u;
    }

    return h;
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
