/*
 * posthog-shipper's answer policy: what an HTTP status from /batch/ means
 * for the batch, how long to back off, what to write in a dead letter.
 * Pure: no I/O, no state; table-tested (t/unit/test_policy.c).
 */

#ifndef PH_POLICY_H
#define PH_POLICY_H

#include <stddef.h>
#include <stdint.h>


/* what to do with the range that got the answer */
enum {
    PH_SENT_OK = 0,             /* 2xx: acknowledge */
    PH_SENT_REJECTED,           /* 400, 413: split, or dead-letter one */
    PH_SENT_PARK,               /* 401, 403, other 4xx, 3xx, 1xx: park the
                                   token for --auth-retry-delay */
    PH_SENT_RETRY               /* network error (0), 408, 429, 5xx */
};

/* counter classes of an answer */
enum {
    PH_CLASS_NETWORK = 0,
    PH_CLASS_2XX,
    PH_CLASS_4XX,
    PH_CLASS_5XX,
    PH_CLASS_OTHER
};

int ph_policy_action(long status);
int ph_policy_class(long status);
int ph_policy_auth(long status);            /* 401, 403 */

/*
 * A rejected range of "len" events with "depth" ranges left on the split
 * stack: 1 to split it in halves, 0 to dead-letter its one event (or all
 * it has, when the stack of "max" is full).
 */
int ph_policy_split(size_t len, int depth, int max);

/*
 * The delay before retry number "attempt" (1, 2, ...): "first" doubled
 * per attempt up to "max", with equal jitter from "rnd" (any random
 * value); at least "retry_after" seconds (capped at 600) when it is >= 0.
 */
uint64_t ph_policy_backoff(uint64_t first, uint64_t max, unsigned attempt,
    long retry_after, uint64_t rnd);

/* a Retry-After value (after the colon): delta-seconds, or -1 */
long ph_policy_retry_after(const char *p, size_t len);

/* the dead-letter reason of a rejected event; "body" is an excerpt of the
 * answer ("" for none) */
void ph_policy_dead_reason(long status, const char *body, char *buf,
    size_t size);

#endif /* PH_POLICY_H */
