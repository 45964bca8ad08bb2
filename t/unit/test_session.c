/*
 * Session rules: keep within the idle and max limits, touch when the
 * stored activity is a refresh interval old, a new session past either
 * limit or for times that cannot be.
 */

#include <string.h>

#include "tap.h"
#include "posthog_session.h"


int
main(void)
{
    posthog_session_conf_t  c;

    c.idle = POSTHOG_SESSION_IDLE;
    c.max = POSTHOG_SESSION_MAX;
    c.refresh = POSTHOG_SESSION_REFRESH;

#define T0  1795896993ULL

    is_int(posthog_session_check(&c, 0, 0, T0), POSTHOG_SESSION_NEW,
           "no session: new");
    is_int(posthog_session_check(&c, T0, T0, T0), POSTHOG_SESSION_KEEP,
           "same second: keep");
    is_int(posthog_session_check(&c, T0, T0, T0 + 1), POSTHOG_SESSION_KEEP,
           "a second later: keep, no write");
    is_int(posthog_session_check(&c, T0, T0, T0 + 59), POSTHOG_SESSION_KEEP,
           "59 s later: keep");
    is_int(posthog_session_check(&c, T0, T0, T0 + 60), POSTHOG_SESSION_TOUCH,
           "60 s later: touch");
    is_int(posthog_session_check(&c, T0, T0, T0 + 1799),
           POSTHOG_SESSION_TOUCH, "idle just under 30 min: touch");
    is_int(posthog_session_check(&c, T0, T0, T0 + 1800), POSTHOG_SESSION_NEW,
           "idle 30 min: new");
    is_int(posthog_session_check(&c, T0, T0 + 86000, T0 + 86399),
           POSTHOG_SESSION_TOUCH, "active, just under 24 h: touch");
    is_int(posthog_session_check(&c, T0, T0 + 86399, T0 + 86400),
           POSTHOG_SESSION_NEW, "active, 24 h after the start: new");
    is_int(posthog_session_check(&c, T0 + 5, T0, T0 + 6),
           POSTHOG_SESSION_NEW, "start after last: new");
    is_int(posthog_session_check(&c, T0, T0 + 30, T0), POSTHOG_SESSION_KEEP,
           "last a little ahead (another worker's clock): keep");
    is_int(posthog_session_check(&c, T0, T0 + 61, T0), POSTHOG_SESSION_NEW,
           "last far in the future: new");

    c.idle = 2;
    c.refresh = 1;
    is_int(posthog_session_check(&c, T0, T0, T0 + 1), POSTHOG_SESSION_TOUCH,
           "idle=2s refresh=1s: a second later, touch");
    is_int(posthog_session_check(&c, T0, T0 + 1, T0 + 3),
           POSTHOG_SESSION_NEW, "idle=2s: two seconds idle, new");

    c.refresh = 0;
    is_int(posthog_session_check(&c, T0, T0, T0), POSTHOG_SESSION_KEEP,
           "refresh=0: same second, keep");
    is_int(posthog_session_check(&c, T0, T0, T0 + 1), POSTHOG_SESSION_TOUCH,
           "refresh=0: next second, touch");

    is_str(posthog_session_action(POSTHOG_SESSION_TOUCH), "touch", "action");

    return done_testing();
}
