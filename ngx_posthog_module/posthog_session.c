/*
 * Session rules: keep, touch or rotate.
 */

#include "posthog_session.h"


int
posthog_session_check(const posthog_session_conf_t *conf, uint64_t start,
    uint64_t last, uint64_t now)
{
    if (start == 0 || last < start) {
        return POSTHOG_SESSION_NEW;
    }

    if (last > now) {
        if (last - now > conf->refresh) {
            return POSTHOG_SESSION_NEW;
        }

        /* a worker's clock a little behind another's: same session */
        return POSTHOG_SESSION_KEEP;
    }

    if (now - last >= conf->idle || now - start >= conf->max) {
        return POSTHOG_SESSION_NEW;
    }

    if (now - last >= conf->refresh && now != last) {
        return POSTHOG_SESSION_TOUCH;
    }

    return POSTHOG_SESSION_KEEP;
}


const char *
posthog_session_action(int rc)
{
    switch (rc) {
    case POSTHOG_SESSION_KEEP:  return "keep";
    case POSTHOG_SESSION_TOUCH: return "touch";
    default:                    return "new";
    }
}
