/*
 * Session rules, as posthog-js keeps them: a session ends after "idle"
 * seconds without a request or "max" seconds after it began, and its id
 * is a UUIDv7 whose time is its first request.  The last-activity time
 * is stored only when the stored one is "refresh" seconds old or more,
 * so that most requests need no Set-Cookie; the cost is precision: the
 * stored time may lag the real one by up to "refresh", so a session can
 * end after between idle - refresh and idle seconds of real inactivity.
 * Plain C, no nginx types.
 */

#ifndef POSTHOG_SESSION_H
#define POSTHOG_SESSION_H

#include <stdint.h>

#include "posthog_uuid.h"

#define POSTHOG_SESSION_IDLE     (30 * 60)        /* posthog-js's defaults */
#define POSTHOG_SESSION_MAX      (24 * 60 * 60)
#define POSTHOG_SESSION_REFRESH  60

enum {
    POSTHOG_SESSION_KEEP = 0,    /* the same session, nothing to store */
    POSTHOG_SESSION_TOUCH,       /* the same session, store "now" as last */
    POSTHOG_SESSION_NEW          /* start a new session at "now" */
};

typedef struct {
    uint64_t  idle;              /* seconds, > 0 */
    uint64_t  max;               /* seconds, > 0 */
    uint64_t  refresh;           /* seconds, 0 = store on every request */
} posthog_session_conf_t;


/*
 * What to do with the stored session ("start", "last": Unix seconds, start
 * 0 = none) at "now".  A session that starts after its last activity, or
 * whose times are in the future by more than "refresh" (a clock step, or
 * a forged cookie), is replaced, as posthog-js replaces one whose
 * activity is more than the idle timeout away either way.
 */
int posthog_session_check(const posthog_session_conf_t *conf, uint64_t start,
    uint64_t last, uint64_t now);

/* A short text for logs: "keep", "touch", "new". */
const char *posthog_session_action(int rc);

#endif /* POSTHOG_SESSION_H */
