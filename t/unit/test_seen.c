/*
 * The set of verified values: found again only with the same bytes and
 * owner; a collision replaces, never confuses; long values are not kept.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "posthog_seen.h"


static posthog_seen_t  seen;


int
main(void)
{
    int            i, bad, present;
    size_t         len;
    unsigned char  v[POSTHOG_SEEN_VALUE_MAX + 1], w[POSTHOG_SEEN_VALUE_MAX];
    static int     owner_a, owner_b;

    memset(v, 'a', sizeof(v));

    ok(!posthog_seen_has(&seen, &owner_a, v, 10), "empty: not there");

    posthog_seen_add(&seen, &owner_a, v, 10);
    ok(posthog_seen_has(&seen, &owner_a, v, 10), "added: there");
    ok(!posthog_seen_has(&seen, &owner_b, v, 10), "another owner: not there");
    ok(!posthog_seen_has(&seen, &owner_a, v, 9), "a prefix: not there");
    ok(!posthog_seen_has(&seen, &owner_a, v, 11), "longer: not there");

    memcpy(w, v, 10);
    w[9] = 'b';
    ok(!posthog_seen_has(&seen, &owner_a, w, 10), "one byte off: not there");

    posthog_seen_add(&seen, &owner_a, v, POSTHOG_SEEN_VALUE_MAX + 1);
    ok(!posthog_seen_has(&seen, &owner_a, v, POSTHOG_SEEN_VALUE_MAX + 1),
       "over POSTHOG_SEEN_VALUE_MAX: not kept");
    posthog_seen_add(&seen, &owner_a, v, POSTHOG_SEEN_VALUE_MAX);
    ok(posthog_seen_has(&seen, &owner_a, v, POSTHOG_SEEN_VALUE_MAX),
       "POSTHOG_SEEN_VALUE_MAX bytes: kept");
    posthog_seen_add(&seen, &owner_a, v, 0);
    ok(!posthog_seen_has(&seen, &owner_a, v, 0), "empty value: not kept");

    /*
     * Random values against a model: whatever "has" says yes to was
     * added with the same bytes and owner (never a false yes), and the
     * last value added is always there.
     */

    bad = 0;
    present = 0;

    for (i = 0; i < 200000; i++) {
        size_t  k;
        int     o;

        len = 1 + tap_rand() % 40;
        o = tap_rand() % 2;

        for (k = 0; k < len; k++) {
            w[k] = (unsigned char) ('a' + tap_rand() % 3);
        }

        /* an owner that never added anything is never answered yes */

        if (posthog_seen_has(&seen, &seen, w, len)) {
            bad++;
        }

        if (posthog_seen_has(&seen, o ? &owner_b : &owner_a, w, len)) {
            present++;
        }

        posthog_seen_add(&seen, o ? &owner_b : &owner_a, w, len);

        if (!posthog_seen_has(&seen, o ? &owner_b : &owner_a, w, len)) {
            bad++;
        }
    }

    is_int(bad, 0, "random: never found for an owner that did not add it, "
           "the last one added always found");
    ok(present > 0, "random: repeated values are found again (%d)", present);

    /*
     * Every byte reaches the slot: 256 values that differ in one byte
     * only spread over the slots (a byte left out of the hash would put
     * them all in one, keeping the last only).
     */

    bad = 0;

    for (i = 0; i < 200; i++) {
        int  b, kept;

        memset(&seen, 0, sizeof(seen));
        memset(w, 'v', 200);

        for (b = 0; b < 256; b++) {
            w[i] = (unsigned char) b;
            posthog_seen_add(&seen, &owner_a, w, 200);
        }

        kept = 0;

        for (b = 0; b < 256; b++) {
            w[i] = (unsigned char) b;
            kept += posthog_seen_has(&seen, &owner_a, w, 200);
        }

        if (kept < 100) {
            bad++;
            diag("byte %d: %d of 256 kept", i, kept);
        }
    }

    is_int(bad, 0, "every byte of a value spreads it over the slots");

    return done_testing();
}
