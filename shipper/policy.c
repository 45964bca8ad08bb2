/*
 * What PostHog's answer to a /batch/ request means.
 *
 *   2xx        delivered: acknowledge.
 *   400, 413   the batch (or one event in it) is refused: split in halves
 *              until the single bad event is found; that one goes to the
 *              dead-letter stream.
 *   408, 429,  transient, and a network error too: back off and retry,
 *   5xx        forever (the events are safe in Redis meanwhile), honouring
 *              Retry-After.
 *   the rest   401/403 (an unknown or revoked project token), any other
 *              4xx, 3xx (libcurl does not follow them): PostHog's SDKs do
 *              not retry those and the same request would get the same
 *              answer (a wrong --host answering 404, a proxy in the way).
 *              Dropping or dead-lettering would lose a whole stream to a
 *              misconfiguration, retrying at once would hammer: the token
 *              is parked, its events stay pending, and it is tried again
 *              after --auth-retry-delay.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"


int
ph_policy_action(long status)
{
    if (status >= 200 && status < 300) {
        return PH_SENT_OK;
    }

    if (status == 400 || status == 413) {
        return PH_SENT_REJECTED;
    }

    if (status == 0 || status == 408 || status == 429
        || (status >= 500 && status < 600))
    {
        return PH_SENT_RETRY;
    }

    return PH_SENT_PARK;
}


int
ph_policy_class(long status)
{
    if (status == 0) {
        return PH_CLASS_NETWORK;
    }

    if (status >= 200 && status < 300) {
        return PH_CLASS_2XX;
    }

    if (status >= 400 && status < 500) {
        return PH_CLASS_4XX;
    }

    if (status >= 500 && status < 600) {
        return PH_CLASS_5XX;
    }

    return PH_CLASS_OTHER;
}


int
ph_policy_auth(long status)
{
    return status == 401 || status == 403;
}


int
ph_policy_split(size_t len, int depth, int max)
{
    /* the two halves take two slots */
    return len > 1 && depth + 2 <= max;
}


uint64_t
ph_policy_backoff(uint64_t first, uint64_t max, unsigned attempt,
    long retry_after, uint64_t rnd)
{
    unsigned  i;
    uint64_t  d, ra;

    d = first;

    for (i = 1; i < attempt && d < max; i++) {
        d *= 2;
    }

    if (d > max) {
        d = max;
    }

    /* "equal jitter": shippers that failed together do not retry together */
    d = d / 2 + rnd % (d / 2 + 1);

    if (retry_after >= 0) {
        ra = (uint64_t) (retry_after < 600 ? retry_after : 600) * 1000;
        if (d < ra) {
            d = ra;
        }
    }

    return d;
}


long
ph_policy_retry_after(const char *p, size_t len)
{
    long    v;
    char   *end, tmp[32];

    len = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;
    memcpy(tmp, p, len);
    tmp[len] = '\0';

    /* delta-seconds only; an HTTP date counts as no hint */
    v = strtol(tmp, &end, 10);

    if (end == tmp || v < 0) {
        return -1;
    }

    while (*end == ' ' || *end == '\r' || *end == '\n') {
        end++;
    }

    return *end == '\0' ? v : -1;
}


void
ph_policy_dead_reason(long status, const char *body, char *buf, size_t size)
{
    if (status == 413) {
        snprintf(buf, size, "too_large%s%s", body[0] ? ": " : "", body);

    } else {
        snprintf(buf, size, "%s", body[0] ? body : "rejected");
    }
}
