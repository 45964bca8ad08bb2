/*
 * JSON string escaping: every class of invalid UTF-8, controls, quotes,
 * the input cut, and random inputs checked against jsoncheck.h.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "jsoncheck.h"
#include "posthog_json.h"
#include "posthog_utf8.h"

#define NOMAX  ((size_t) -1)
#define FFFD   "\xef\xbf\xbd"


/* escapes, checks the length against escape_len(), compares */

static void
esc(const char *in, size_t len, size_t max, const char *exp, size_t elen,
    const char *name)
{
    size_t          n, out;
    unsigned char  *buf, *end;

    n = posthog_json_escape_len((const unsigned char *) in, len, max);

    buf = malloc(POSTHOG_JSON_ESCAPE_MAX(len) + 1);
    end = posthog_json_escape(buf, (const unsigned char *) in, len, max);
    out = (size_t) (end - buf);

    if (n != out) {
        diag("escape_len %zu, escape wrote %zu", n, out);
    }

    is_mem(n == out ? buf : NULL, out, exp, elen, "%s", name);

    free(buf);
}

#define E(in, exp, name)                                                     \
    esc(in, sizeof(in) - 1, NOMAX, exp, sizeof(exp) - 1, name)

#define EM(in, max, exp, name)                                               \
    esc(in, sizeof(in) - 1, max, exp, sizeof(exp) - 1, name)


static void
random_input(unsigned char *p, size_t n)
{
    size_t  i;

    /* biased to the bytes that matter: ASCII specials, lead bytes,
     * continuation bytes, the E2 80 A8 line separator */

    static const unsigned char  pick[] = {
        'a', '"', '\\', '\n', 0x00, 0x1f, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
        0xa0, 0xa8, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef,
        0xf0, 0xf4, 0xf5, 0xff
    };

    for (i = 0; i < n; i++) {
        if (tap_rand() % 2) {
            p[i] = pick[tap_rand() % sizeof(pick)];

        } else {
            p[i] = (unsigned char) tap_rand();
        }
    }
}


/*
 * Like a header or a URL: runs of printable ASCII (the fast path) broken
 * by the bytes it must stop at: quotes, controls, DEL, well-formed
 * 2..4-byte characters, U+2028, and invalid or truncated sequences.
 */

static void
mixed_input(unsigned char *p, size_t n)
{
    size_t  i, k, run;

    static const char  *other[] = {
        "\"", "\\", "\n", "\t", "\x01", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xef\xbf\xbd",
        "\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80",
        "\xc0\xaf", "\xf4\x90\x80\x80", "\xff", " ", "~"
    };

    for (i = 0; i < n; /* void */) {
        run = tap_rand() % 24;

        for (k = 0; k < run && i < n; k++) {
            p[i++] = (unsigned char) (0x20 + tap_rand() % 0x5f);
        }

        if (i == n) {
            break;
        }

        if (tap_rand() % 4 == 0) {
            p[i++] = (unsigned char) (0x80 + tap_rand() % 0x80);
            continue;
        }

        run = tap_rand() % (sizeof(other) / sizeof(other[0]));

        for (k = 0; other[run][k] && i < n; k++) {
            p[i++] = (unsigned char) other[run][k];
        }
    }
}


/*
 * Escapes in[0..len) at every alignment of the input (the scans read 8 or
 * 16 bytes at a time wherever the input starts) and for every cut, into
 * a buffer of the output's exact size, and counts the differences from
 * the reference, escape_len included.
 */

static size_t
word_check(const unsigned char *in, size_t len, size_t maxes)
{
    size_t          off, max, m, n, un, bad;
    unsigned char   buf[8 + 64], ref[6 * 64];
    unsigned char  *p, *out;

    bad = 0;

    for (off = 0; off < 8; off++) {
        p = buf + off;
        memcpy(p, in, len);

        for (max = 0; max <= maxes; max++) {
            m = (max == maxes) ? NOMAX : max;

            un = ref_json_escape(ref, in, len, m);

            /* exactly the output's size: ASan sees a write past it */
            out = malloc(un ? un : 1);
            if (out == NULL) {
                return bad + 1;
            }

            n = (size_t) (posthog_json_escape(out, p, len, m) - out);

            if (n != un || memcmp(out, ref, n) != 0
                || posthog_json_escape_len(p, len, m) != un)
            {
                if (bad++ == 0) {
                    diag("differs from the reference, offset %zu, max %zu",
                         off, m);
                    tap_diag_mem("input", in, len);
                    tap_diag_mem("output", out, n);
                    tap_diag_mem("expected", ref, un);
                }
            }

            free(out);
        }
    }

    return bad;
}


int
main(void)
{
    long            off;
    size_t          i, k, len, max, m, n, cut, un, bad_len, bad_json, bad_rt;
    size_t          bad_cut, bad_unit, bad_ref;
    uint32_t        cp, rcp;
    unsigned char   in[96], out[6 * 96], back[6 * 96], ref[6 * 96];

    /* plain, quotes, controls */

    E("", "", "empty");
    E("hello, world /path?q=1", "hello, world /path?q=1", "ASCII unchanged");
    E("say \"hi\"", "say \\\"hi\\\"", "double quote");
    E("a\\b", "a\\\\b", "backslash");
    E("'", "'", "single quote unchanged");
    E("</script>", "</script>", "slash unchanged");
    E("\n\r\t\b\f", "\\n\\r\\t\\b\\f", "short control escapes");
    E("a\0b", "a\\u0000b", "NUL");
    E("\x01\x0b\x0e\x1b\x1f", "\\u0001\\u000b\\u000e\\u001b\\u001f",
      "other controls as \\u00XX, lower case hex");
    E("\x7f", "\\u007f", "DEL");
    E(" ~", " ~", "0x20 and 0x7e unchanged");

    /* valid multi-byte */

    E("caf\xc3\xa9", "caf\xc3\xa9", "2-byte character");
    E("\xc2\x80\xdf\xbf", "\xc2\x80\xdf\xbf", "U+0080 and U+07FF");
    E("\xe2\x82\xac", "\xe2\x82\xac", "3-byte euro sign");
    E("\xe0\xa0\x80\xef\xbf\xbf", "\xe0\xa0\x80\xef\xbf\xbf",
      "U+0800 and U+FFFF");
    E("\xed\x9f\xbf\xee\x80\x80", "\xed\x9f\xbf\xee\x80\x80",
      "U+D7FF and U+E000 around the surrogates");
    E("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "4-byte emoji");
    E("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
      "U+10000 and U+10FFFF");
    E(FFFD, FFFD, "U+FFFD itself unchanged");
    E("\xc2\x85\xc2\xa0", "\xc2\x85\xc2\xa0", "C1 NEL and NBSP unchanged");
    E("\xe2\x80\xa8", "\\u2028", "U+2028 line separator escaped");
    E("\xe2\x80\xa9", "\\u2029", "U+2029 paragraph separator escaped");
    E("\xe2\x80\xa7\xe2\x80\xaa", "\xe2\x80\xa7\xe2\x80\xaa",
      "U+2027 and U+202A unchanged");

    /* invalid: one U+FFFD per maximal subpart */

    E("\x80", FFFD, "stray continuation byte");
    E("\xbf\x80", FFFD FFFD, "two stray continuation bytes");
    E("\xc0\x80", FFFD FFFD, "C0 overlong NUL: lead never valid");
    E("\xc1\xbf", FFFD FFFD, "C1 overlong");
    E("\xe0\x80\x80", FFFD FFFD FFFD, "3-byte overlong (E0 80)");
    E("\xe0\x9f\xbf", FFFD FFFD FFFD, "3-byte overlong (E0 9F)");
    E("\xf0\x80\x80\x80", FFFD FFFD FFFD FFFD, "4-byte overlong (F0 80)");
    E("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD, "4-byte overlong (F0 8F)");
    E("\xed\xa0\x80", FFFD FFFD FFFD, "high surrogate D800");
    E("\xed\xbf\xbf", FFFD FFFD FFFD, "low surrogate DFFF");
    E("\xed\xa0\xbd\xed\xb8\x80", FFFD FFFD FFFD FFFD FFFD FFFD,
      "CESU-8 surrogate pair");
    E("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD, "U+110000");
    E("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD, "F5 lead");
    E("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD, "5-byte form");
    E("\xfe\xff", FFFD FFFD, "FE FF");
    E("\xc3", FFFD, "truncated 2-byte at end");
    E("\xe2\x82", FFFD, "truncated 3-byte at end: one U+FFFD");
    E("\xf0\x9f\x98", FFFD, "truncated 4-byte at end: one U+FFFD");
    E("\xe2\x82" "A", FFFD "A", "truncated 3-byte before ASCII");
    E("\xf0\x9f\x98" "\"", FFFD "\\\"",
      "truncated 4-byte before a quote: the quote is still escaped");
    E("\xc3" "\n", FFFD "\\n", "truncated before a control");
    E("\xe2\x82\xe2\x82\xac", FFFD "\xe2\x82\xac",
      "truncated sequence then a valid one");
    E("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
      "\x61" FFFD FFFD FFFD "\x62" FFFD "\x63" FFFD FFFD "\x64",
      "Unicode 15 table 3-8 example");

    /* the input cut at "max", on a unit boundary */

    EM("abc", 0, "", "max 0");
    EM("abc", 2, "ab", "ASCII cut");
    EM("abc", 3, "abc", "max == len");
    EM("abc", 100, "abc", "max > len");
    EM("a\xe2\x82\xac", 1, "a", "euro not split (max 1)");
    EM("a\xe2\x82\xac", 2, "a", "euro not split (max 2)");
    EM("a\xe2\x82\xac", 3, "a", "euro not split (max 3)");
    EM("a\xe2\x82\xac", 4, "a\xe2\x82\xac", "euro fits (max 4)");
    EM("\xf0\x9f\x98\x80", 3, "", "emoji not split");
    EM("\"\"", 1, "\\\"", "max counts input bytes, not output");
    EM("\x01\x02", 1, "\\u0001", "control cut");
    EM("\xe2\x82" "A", 1, "", "invalid subpart not split either");
    EM("\xe2\x82" "A", 2, FFFD, "invalid subpart whole");
    EM("\xe2\x80\xa8" "x", 3, "\\u2028", "U+2028 whole");

    ok(posthog_json_escape_cut((const unsigned char *) "a\xe2\x82\xac", 4, 3)
       == 1, "escape_cut reports the cut");
    ok(posthog_json_escape_cut((const unsigned char *) "abc", 3, NOMAX)
       == 3, "escape_cut without limit");

    /* posthog_utf8_valid */

    ok(posthog_utf8_valid((const unsigned char *) "", 0), "utf8: empty");
    ok(posthog_utf8_valid((const unsigned char *) "a\xc3\xa9\xf0\x9f\x98\x80",
                          7), "utf8: valid mix");
    ok(!posthog_utf8_valid((const unsigned char *) "a\xed\xa0\x80", 4),
       "utf8: surrogate");
    ok(!posthog_utf8_valid((const unsigned char *) "\xc3\xa9", 1),
       "utf8: cut by len");

    /* posthog_utf8_next against the reference decoder, all 1..3-byte
     * sequences plus every 4-byte one with a first continuation byte
     * sweep: well-formed exactly when the reference says so */

    bad_len = 0;
    bad_unit = 0;

    for (i = 0; i < 0x1000000; i++) {
        in[0] = (unsigned char) (i >> 16);
        in[1] = (unsigned char) (i >> 8);
        in[2] = (unsigned char) i;
        in[3] = 0x80;

        n = posthog_utf8_next(in, 4, &cp);
        un = ref_utf8_char(in, 4, &cp);

        if (un == 0 ? cp != POSTHOG_UTF8_BAD : n != un) {
            if (bad_len++ == 0) {
                diag("disagree on %02x %02x %02x 80", in[0], in[1], in[2]);
            }
        }

        /* the unit's length, also invalid and cut short by "len" */

        for (k = 3; k <= 4; k++) {
            n = posthog_utf8_next(in, k, &cp);
            un = ref_utf8_unit(in, k, &rcp);

            if (n != un || cp != rcp) {
                if (bad_unit++ == 0) {
                    diag("unit disagrees on %02x %02x %02x 80, len %zu",
                         in[0], in[1], in[2], k);
                }
            }
        }
    }

    is_int(bad_len, 0, "posthog_utf8_next agrees with the reference on "
           "all 3-byte prefixes");
    is_int(bad_unit, 0, "posthog_utf8_next: the maximal invalid subparts "
           "of the reference");

    /*
     * The escaper's fast path (runs of plain ASCII, a table per byte)
     * against the unit-by-unit reference: byte for byte, for every cut
     * "max" of mixed inputs and of the biased random ones.
     */

    bad_ref = 0;

    for (i = 0; i < 40000; i++) {
        len = tap_rand() % (sizeof(in) + 1);

        if (i % 2) {
            mixed_input(in, len);

        } else {
            random_input(in, len);
        }

        for (max = 0; max <= len + 2; max++) {
            m = (max == len + 2) ? NOMAX : max;

            un = ref_json_escape(ref, in, len, m);
            n = (size_t) (posthog_json_escape(out, in, len, m) - out);

            if (n != un || memcmp(out, ref, n) != 0
                || posthog_json_escape_len(in, len, m) != un)
            {
                if (bad_ref++ == 0) {
                    diag("differs from the reference, max %zu", m);
                    tap_diag_mem("input", in, len);
                    tap_diag_mem("output", out, n);
                    tap_diag_mem("expected", ref, un);
                }
            }
        }
    }

    is_int(bad_ref, 0, "random: escape and escape_len equal the reference "
           "for every cut");

    /*
     * The word-at-a-time scan: every byte value at every position of
     * three words of plain ASCII, at every alignment, for every cut; two
     * bytes that need escaping in one word; every multi-byte and invalid
     * sequence straddling each word boundary; long runs of plain ASCII.
     */

    {
        size_t        v, pos, pos2, bad;
        unsigned char w[64];

        static const char  *seqs[] = {
            "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
            "\xe2\x80\xa8", "\xe2\x80\xa9", "\xef\xbf\xbd", "\x80",
            "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80",
            "\xc0\xaf", "\xf4\x90\x80\x80", "\xff", "\xc3\xc3",
            "\"\\", "\x7f\x7f", "\x1f\x20", "\xff\x00"
        };

        static const unsigned char  vals[] = {
            0x00, 0x08, 0x1f, 0x20, '"', '\\', 0x7e, 0x7f, 0x80, 0xbf, 0xc3,
            0xe2, 0xed, 0xf0, 0xf4, 0xff
        };

        bad = 0;

        for (v = 0; v < 256; v++) {
            for (pos = 0; pos < 24; pos++) {
                memset(w, 'a' + pos % 26, 24);
                w[pos] = (unsigned char) v;
                bad += word_check(w, 24, (v >= 0x80 || pos % 7 == 0) ? 25 : 0);
            }
        }

        is_int(bad, 0, "words: each byte value at each position, "
               "alignment and cut");

        /* 16-byte blocks: of 1 to 47 bytes, each position of each */

        bad = 0;

        for (k = 0; k < sizeof(vals); k++) {
            v = vals[k];

            for (n = 1; n < 48; n++) {
                for (pos = 0; pos < n; pos++) {
                    memset(w, 'A' + n % 26, n);
                    w[pos] = (unsigned char) v;
                    bad += word_check(w, n, (v >= 0x80 && pos + 4 > n)
                                            ? n + 1 : 0);
                }
            }
        }

        is_int(bad, 0, "blocks: a byte of each kind at each position of "
               "each length below 48, and cuts of the tail");

        bad = 0;

        for (v = 0; v < 256; v++) {
            for (pos = 0; pos < 8; pos++) {
                for (pos2 = pos + 1; pos2 < 8; pos2++) {
                    memset(w, '~', 8);
                    w[pos] = (unsigned char) v;
                    w[pos2] = (unsigned char) (255 - v);
                    bad += word_check(w, 8, 0);
                }
            }
        }

        is_int(bad, 0, "words: two bytes that are not plain in one word");

        bad = 0;

        for (k = 0; k < sizeof(seqs) / sizeof(seqs[0]); k++) {
            for (pos = 0; pos < 40; pos++) {
                memset(w, ' ', 48);
                n = strlen(seqs[k]);
                memcpy(w + pos, seqs[k], n);
                bad += word_check(w, 40 + n, 40 + n + 1);
            }
        }

        is_int(bad, 0, "words: sequences across each word boundary");

        bad = 0;

        for (i = 0; i < 20000; i++) {
            len = tap_rand() % 65;

            for (k = 0; k < len; k++) {
                w[k] = (unsigned char) (0x20 + tap_rand() % 0x5f);
            }

            if (len && tap_rand() % 2) {
                w[tap_rand() % len] = (unsigned char) tap_rand();
            }

            bad += word_check(w, len, i % 16 ? 0 : len + 1);
        }

        is_int(bad, 0, "words: random runs of plain ASCII, "
               "with a random byte");
    }

    /* random inputs: valid JSON, exact length, cut rules, round trip */

    bad_len = 0;
    bad_json = 0;
    bad_rt = 0;
    bad_cut = 0;

    for (i = 0; i < 200000; i++) {
        len = tap_rand() % (sizeof(in) + 1);
        random_input(in, len);
        max = tap_rand() % 4 ? NOMAX : tap_rand() % (len + 2);

        n = (size_t) (posthog_json_escape(out, in, len, max) - out);
        cut = posthog_json_escape_cut(in, len, max);

        if (n != posthog_json_escape_len(in, len, max)
            || n != posthog_json_escape_len(in, cut, NOMAX))
        {
            bad_len++;
        }

        /* the cut: within max, and the next unit would not fit */

        if (cut > len || (max != NOMAX && cut > max)
            || (cut < len && cut + posthog_utf8_next(in + cut, len - cut, &cp)
                             <= max))
        {
            bad_cut++;
        }

        off = ref_json_body_check(out, n);

        if (off >= 0) {
            if (bad_json++ == 0) {
                diag("invalid JSON body at offset %ld", off);
                tap_diag_mem("input", in, len);
                tap_diag_mem("output", out, n);
            }

            continue;
        }

        /* a valid UTF-8 input comes back unchanged after unescaping */

        if (ref_utf8_valid(in, cut)) {
            un = ref_json_unescape(back, out, n);

            if (un != cut || memcmp(back, in, cut) != 0) {
                bad_rt++;
            }
        }
    }

    is_int(bad_len, 0, "random: escape_len exact, and equal to escaping "
           "the cut input");
    is_int(bad_cut, 0, "random: cut within max, on a unit boundary, "
           "maximal");
    is_int(bad_json, 0, "random: output is always valid UTF-8 JSON");
    is_int(bad_rt, 0, "random: valid UTF-8 round-trips through unescape");

    /*
     * escape_fit: the output fits the budget, the cut is one escape_cut
     * would make (a unit boundary within max), and one more unit would
     * not fit or is not there
     */

    bad_cut = 0;

    for (i = 0; i < 200000; i++) {
        size_t  fit, budget, next, lim;

        len = tap_rand() % (sizeof(in) + 1);
        random_input(in, len);
        max = tap_rand() % 4 ? NOMAX : tap_rand() % (len + 2);
        budget = tap_rand() % (6 * len + 2);

        fit = posthog_json_escape_fit(in, len, max, budget);
        lim = posthog_json_escape_cut(in, len, max);
        n = posthog_json_escape_len(in, len, fit);

        if (fit > lim || n > budget
            || posthog_json_escape_cut(in, len, fit) != fit)
        {
            bad_cut++;
            continue;
        }

        if (fit < lim) {
            next = fit + posthog_utf8_next(in + fit, len - fit, &cp);

            if (posthog_json_escape_len(in, len, next) <= budget) {
                bad_cut++;
            }
        }
    }

    is_int(bad_cut, 0, "random: escape_fit fits the budget, on a unit "
           "boundary, maximal");
    is_int(posthog_json_escape_fit((const unsigned char *) "a\"b", 3, NOMAX,
                                   2), 1, "escape_fit: an escape is not split");
    is_int(posthog_json_escape_fit((const unsigned char *) "ab\xe2\x82\xac",
                                   5, NOMAX, 4), 2,
           "escape_fit: a character is not split");
    is_int(posthog_json_escape_fit((const unsigned char *) "abc", 3, 2, 99),
           2, "escape_fit: within max");

    /* numbers: RFC 8259's grammar, and only what a double holds */

    {
        static const char  *good[] = {
            "0", "-0", "7", "-7", "42", "1234567890", "0.5", "-0.25",
            "3.14159", "1e3", "1E3", "1e+3", "1e-3", "-1.5e-10", "0e0",
            "1.7976931348623157e308", "1e-999"
        };
        static const char  *bad[] = {
            "", "-", "+1", "01", "-01", "00", ".5", "5.", "1.e3", "1e",
            "1e+", "1e-", "e3", "--1", "1-", "0x10", "1,5", " 1", "1 ",
            "1e999", "-1e999", "1e309", "inf", "-inf", "Infinity", "nan",
            "NaN", "1.5.5", "1ee3", "true", "\"1\""
        };

        unsigned char  num[POSTHOG_JSON_NUMBER_MAX + 2];

        for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
            ok(posthog_json_number_valid((const unsigned char *) good[i],
                                         strlen(good[i])),
               "number \"%s\" valid", good[i]);
        }

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            ok(!posthog_json_number_valid((const unsigned char *) bad[i],
                                          strlen(bad[i])),
               "number \"%s\" refused", bad[i]);
        }

        /* the length is checked, not a NUL: "12" of "123" */
        ok(posthog_json_number_valid((const unsigned char *) "1x", 1),
           "number: only len bytes are read");
        ok(!posthog_json_number_valid((const unsigned char *) "1.", 2),
           "number: \"1.\" of \"1.5\" refused");

        memset(num, '1', sizeof(num));
        ok(posthog_json_number_valid(num, POSTHOG_JSON_NUMBER_MAX),
           "number of POSTHOG_JSON_NUMBER_MAX digits valid");
        ok(!posthog_json_number_valid(num, POSTHOG_JSON_NUMBER_MAX + 1),
           "number one digit longer refused");
    }

    return done_testing();
}
