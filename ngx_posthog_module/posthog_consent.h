/*
 * The value of posthog_consent.  Plain C.
 */

#ifndef POSTHOG_CONSENT_H
#define POSTHOG_CONSENT_H

#include <stddef.h>


/*
 * 1 if the value means consent: anything but empty, "0", "off", "false"
 * or "no" (ASCII case-insensitive, the whole value); else 0.
 */
int posthog_consent_given(const unsigned char *p, size_t len);

#endif /* POSTHOG_CONSENT_H */
