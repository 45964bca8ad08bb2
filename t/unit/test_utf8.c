/*
 * posthog_utf8_valid(), posthog_utf8_text_valid() and
 * posthog_utf8_printable() agree with a byte-at-a-time reference, wherever
 * in the 8-byte words the byte that decides lies.
 */

#include <string.h>

#include "tap.h"
#include "posthog_utf8.h"


static int
ref_valid(const unsigned char *p, size_t len, int text)
{
    size_t    i;
    uint32_t  cp;

    for (i = 0; i < len; /* void */) {
        if (text && (p[i] < 0x20 || p[i] == 0x7f)) {
            return 0;
        }

        i += posthog_utf8_next(p + i, len - i, &cp);

        if (cp == POSTHOG_UTF8_BAD) {
            return 0;
        }
    }

    return 1;
}


static size_t
ref_printable(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len && p[i] >= 0x20 && p[i] <= 0x7e; i++) {
        /* void */
    }

    return i;
}


#define T(s)  (const unsigned char *) (s), sizeof(s) - 1


int
main(void)
{
    int            bad;
    size_t         i, len, k, pos;
    unsigned char  buf[64];

    static const unsigned char  odd[] = {
        0x00, 0x01, 0x09, 0x0a, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xbf, 0xc0,
        0xc2, 0xc3, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa9
    };

    ok(posthog_utf8_text_valid(T("https://example.com/caf\xc3\xa9?q=1")),
       "text: URL with UTF-8");
    ok(posthog_utf8_text_valid(T("")), "text: empty");
    ok(!posthog_utf8_text_valid(T("https://example.com/\x01long-enough")),
       "text: a control byte in the first word");
    ok(!posthog_utf8_text_valid(T("https://example.com/long-enough\x7f")),
       "text: DEL at the end");
    ok(!posthog_utf8_text_valid(T("https://example.com/\0abc")),
       "text: NUL");
    ok(!posthog_utf8_text_valid(T("https://example.com/\xc3")),
       "text: truncated sequence");
    ok(posthog_utf8_valid(T("https://example.com/\x01\x7f")),
       "valid: control bytes are UTF-8");
    ok(!posthog_utf8_valid(T("https://example.com/long\xed\xa0\x80")),
       "valid: a surrogate after ASCII words");
    is_int(posthog_utf8_printable(T("abcdefghijk\tl")), 11,
           "printable: up to the tab");

    /* one or two odd bytes at every position of printable ASCII */

    bad = 0;

    for (len = 0; len <= 40; len++) {
        for (pos = 0; pos < len; pos++) {
            for (k = 0; k < sizeof(odd) * sizeof(odd); k++) {
                memset(buf, 'a' + (int) (len % 26), len);
                buf[pos] = odd[k % sizeof(odd)];

                if (pos + 1 < len) {
                    buf[pos + 1] = odd[k / sizeof(odd)];
                }

                if (posthog_utf8_text_valid(buf, len) != ref_valid(buf, len, 1)
                    || posthog_utf8_valid(buf, len) != ref_valid(buf, len, 0)
                    || posthog_utf8_printable(buf, len)
                       != ref_printable(buf, len))
                {
                    bad++;
                }
            }
        }
    }

    is_int(bad, 0, "odd bytes anywhere: as the reference");

    /* random bytes, mostly printable */

    bad = 0;

    for (i = 0; i < 200000; i++) {
        len = tap_rand() % sizeof(buf);

        for (k = 0; k < len; k++) {
            buf[k] = (unsigned char) (tap_rand() % 16 == 0 ? tap_rand() % 256
                                      : 0x20 + tap_rand() % 0x5f);
        }

        if (posthog_utf8_text_valid(buf, len) != ref_valid(buf, len, 1)
            || posthog_utf8_valid(buf, len) != ref_valid(buf, len, 0)
            || posthog_utf8_printable(buf, len) != ref_printable(buf, len))
        {
            bad++;
        }
    }

    is_int(bad, 0, "random: as the reference");

    return done_testing();
}
