/*
 * The shipper's answer policy: every HTTP status maps to one action and
 * one counter class (2xx acknowledged, 400/413 split then dead-lettered,
 * 408/429/5xx and network errors retried, the rest parked); the split
 * stops at one event or a full stack; the backoff doubles up to its cap
 * with equal jitter and honours Retry-After up to 600 s; Retry-After is
 * delta-seconds only; the dead-letter reason says what PostHog said.
 */

#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "policy.h"


static const char  *actions[] = { "ok", "rejected", "park", "retry" };
static const char  *classes[] = { "network", "2xx", "4xx", "5xx", "other" };


static const struct {
    long  status;
    int   action;
    int   class;
    int   auth;
} statuses[] = {
    {   0, PH_SENT_RETRY,    PH_CLASS_NETWORK, 0 },
    { 100, PH_SENT_PARK,     PH_CLASS_OTHER,   0 },
    { 200, PH_SENT_OK,       PH_CLASS_2XX,     0 },
    { 202, PH_SENT_OK,       PH_CLASS_2XX,     0 },
    { 299, PH_SENT_OK,       PH_CLASS_2XX,     0 },
    { 301, PH_SENT_PARK,     PH_CLASS_OTHER,   0 },
    { 304, PH_SENT_PARK,     PH_CLASS_OTHER,   0 },
    { 399, PH_SENT_PARK,     PH_CLASS_OTHER,   0 },
    { 400, PH_SENT_REJECTED, PH_CLASS_4XX,     0 },
    { 401, PH_SENT_PARK,     PH_CLASS_4XX,     1 },
    { 403, PH_SENT_PARK,     PH_CLASS_4XX,     1 },
    { 404, PH_SENT_PARK,     PH_CLASS_4XX,     0 },
    { 405, PH_SENT_PARK,     PH_CLASS_4XX,     0 },
    { 408, PH_SENT_RETRY,    PH_CLASS_4XX,     0 },
    { 409, PH_SENT_PARK,     PH_CLASS_4XX,     0 },
    { 413, PH_SENT_REJECTED, PH_CLASS_4XX,     0 },
    { 415, PH_SENT_PARK,     PH_CLASS_4XX,     0 },
    { 429, PH_SENT_RETRY,    PH_CLASS_4XX,     0 },
    { 499, PH_SENT_PARK,     PH_CLASS_4XX,     0 },
    { 500, PH_SENT_RETRY,    PH_CLASS_5XX,     0 },
    { 502, PH_SENT_RETRY,    PH_CLASS_5XX,     0 },
    { 503, PH_SENT_RETRY,    PH_CLASS_5XX,     0 },
    { 504, PH_SENT_RETRY,    PH_CLASS_5XX,     0 },
    { 599, PH_SENT_RETRY,    PH_CLASS_5XX,     0 },
    { 600, PH_SENT_PARK,     PH_CLASS_OTHER,   0 },
    { 999, PH_SENT_PARK,     PH_CLASS_OTHER,   0 },
};


static const struct {
    size_t  len;
    int     depth;
    int     split;
} splits[] = {
    { 100,  0, 1 },         /* a whole batch refused: halves */
    {   2,  5, 1 },
    {   1,  0, 0 },         /* one event: dead-lettered */
    {   1, 30, 0 },
    {   0,  0, 0 },
    {  50, 62, 1 },         /* the two halves fit */
    {  50, 63, 0 },         /* they do not: dead-lettered as a range */
    {  50, 64, 0 },
};


/* first, max, attempt, retry_after, rnd: the delay */

static const struct {
    uint64_t    first;
    uint64_t    max;
    unsigned    attempt;
    long        retry_after;
    uint64_t    rnd;
    uint64_t    delay;
    const char *what;
} backoffs[] = {
    { 1000, 60000, 1, -1, 0, 500, "attempt 1, least jitter: half" },
    { 1000, 60000, 1, -1, 500, 1000, "attempt 1, most jitter: all" },
    { 1000, 60000, 1, -1, 501, 500, "jitter wraps (rnd modulo)" },
    { 1000, 60000, 2, -1, 0, 1000, "attempt 2 doubles" },
    { 1000, 60000, 3, -1, 0, 2000, "attempt 3 doubles again" },
    { 1000, 60000, 7, -1, 0, 30000, "attempt 7 reaches the cap" },
    { 1000, 60000, 30, -1, 30000, 60000, "attempt 30 stays at the cap" },
    { 1000, 60000, 4000000000u, -1, 0, 30000, "a huge attempt count" },
    { 1000, 1500, 5, -1, 0, 750, "a cap that is no power of two" },
    { 1000, 60000, 1, 0, 0, 500, "Retry-After: 0 adds nothing" },
    { 1000, 60000, 1, 30, 0, 30000, "Retry-After: 30 is longer" },
    { 1000, 60000, 7, 1, 0, 30000, "Retry-After shorter: the backoff" },
    { 1000, 60000, 1, 3600, 0, 600000, "Retry-After capped at 600 s" },
    { 0, 0, 1, -1, 12345, 0, "zero delay (tests' --retry-delay 0)" },
};


static const struct {
    const char  *value;
    long         seconds;
} retry_afters[] = {
    { " 120\r\n", 120 },
    { "5", 5 },
    { "  7  \r\n", 7 },
    { " 0\r\n", 0 },
    { " -1\r\n", -1 },
    { " Wed, 21 Oct 2026 07:28:00 GMT\r\n", -1 },
    { " 5x\r\n", -1 },
    { " 5 6\r\n", -1 },
    { "", -1 },
    { " \r\n", -1 },
};


static const struct {
    long         status;
    const char  *body;
    const char  *reason;
} reasons[] = {
    { 400, "{\"type\":\"invalid\"}", "{\"type\":\"invalid\"}" },
    { 400, "", "rejected" },
    { 413, "payload too large", "too_large: payload too large" },
    { 413, "", "too_large" },
};


int
main(void)
{
    int   i;
    char  buf[64];

    for (i = 0; i < (int) (sizeof(statuses) / sizeof(statuses[0])); i++) {
        ok(ph_policy_action(statuses[i].status) == statuses[i].action
           && ph_policy_class(statuses[i].status) == statuses[i].class
           && ph_policy_auth(statuses[i].status) == statuses[i].auth,
           "%ld: %s, counted as %s%s", statuses[i].status,
           actions[statuses[i].action], classes[statuses[i].class],
           statuses[i].auth ? ", an auth failure" : "");
    }

    for (i = 0; i < (int) (sizeof(splits) / sizeof(splits[0])); i++) {
        is_int(ph_policy_split(splits[i].len, splits[i].depth, 64),
               splits[i].split, "a rejected range of %zu at depth %d: %s",
               splits[i].len, splits[i].depth,
               splits[i].split ? "split" : "dead-lettered");
    }

    for (i = 0; i < (int) (sizeof(backoffs) / sizeof(backoffs[0])); i++) {
        is_int((long long) ph_policy_backoff(backoffs[i].first,
                   backoffs[i].max, backoffs[i].attempt,
                   backoffs[i].retry_after, backoffs[i].rnd),
               (long long) backoffs[i].delay, "backoff: %s",
               backoffs[i].what);
    }

    for (i = 0; i < (int) (sizeof(retry_afters) / sizeof(retry_afters[0]));
         i++)
    {
        is_int(ph_policy_retry_after(retry_afters[i].value,
                                     strlen(retry_afters[i].value)),
               retry_afters[i].seconds, "Retry-After:%s",
               retry_afters[i].value[0] ? "(a value)" : " (empty)");
    }

    for (i = 0; i < (int) (sizeof(reasons) / sizeof(reasons[0])); i++) {
        ph_policy_dead_reason(reasons[i].status, reasons[i].body, buf,
                              sizeof(buf));
        is_mem(buf, strlen(buf), reasons[i].reason,
               strlen(reasons[i].reason), "dead-letter reason of a %ld%s",
               reasons[i].status, reasons[i].body[0] ? "" : " without body");
    }

    /* a reason longer than the buffer is cut, not overrun */
    memset(buf, 'x', sizeof(buf));
    ph_policy_dead_reason(413, "0123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789", buf,
                          16);
    is_mem(buf, strlen(buf), "too_large: 0123", 15,
           "a long reason is cut to the buffer");

    return done_testing();
}
