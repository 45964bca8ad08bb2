/*
 * posthog_consent_given(): empty, 0, off, false, no (any case) are no
 * consent; anything else is consent, also near misses.
 */

#include <string.h>

#include "tap.h"
#include "posthog_consent.h"


static int
given(const char *s)
{
    return posthog_consent_given((const unsigned char *) s, strlen(s));
}


int
main(void)
{
    size_t       i;
    const char  *no[] = { "", "0", "off", "OFF", "Off", "false", "FALSE",
                          "fAlSe", "no", "NO", "No" };
    const char  *yes[] = { "1", "yes", "on", "true", "granted", "all",
                           "00", "no ", " no", "non", "n", "of", "offf",
                           "falsey", "2" };

    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        is_int(given(no[i]), 0, "\"%s\": no consent", no[i]);
    }

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        is_int(given(yes[i]), 1, "\"%s\": consent", yes[i]);
    }

    /* bytes, not a C string: a NUL inside is just a byte */
    is_int(posthog_consent_given((const unsigned char *) "no\0x", 4), 1,
           "\"no\\0x\": consent (the whole value is compared)");
    is_int(posthog_consent_given((const unsigned char *) "no", 0), 0,
           "length 0: no consent");
    is_int(posthog_consent_given((const unsigned char *) "\xc3\x96" "ff", 4), 1,
           "non-ASCII: consent (no locale folding)");

    return done_testing();
}
