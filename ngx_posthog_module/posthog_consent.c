/*
 * The value of posthog_consent.  Plain C.
 */

#include <string.h>

#include "posthog_consent.h"


static int
posthog_consent_is(const unsigned char *p, size_t len, const char *word)
{
    size_t  i, n;
    int     c;

    n = strlen(word);

    if (len != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        c = p[i];

        if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }

        if (c != word[i]) {
            return 0;
        }
    }

    return 1;
}


int
posthog_consent_given(const unsigned char *p, size_t len)
{
    static const char  *no[] = { "0", "off", "false", "no", NULL };

    const char  **w;

    if (len == 0) {
        return 0;
    }

    for (w = no; *w; w++) {
        if (posthog_consent_is(p, len, *w)) {
            return 0;
        }
    }

    return 1;
}
