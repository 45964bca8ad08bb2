/*
 * The strict JSON reader: a value is taken whole or refused with its
 * reason (not JSON, invalid UTF-8 or a lone surrogate, nested too deep);
 * strings decode their escapes to UTF-8 and are cut on a character
 * boundary; a number is an "integer" only when a JavaScript ms time can
 * be it.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "posthog_json_read.h"


static const struct {
    const char  *json;
    int          rc;
    const char  *what;
} values[] = {
    { "true", POSTHOG_JSON_OK, "true" },
    { "false", POSTHOG_JSON_OK, "false" },
    { " \t\r\nnull", POSTHOG_JSON_OK, "white space before a value" },
    { "\"x\"", POSTHOG_JSON_OK, "a string" },
    { "-0.5e+10", POSTHOG_JSON_OK, "a number with all its parts" },
    { "{}", POSTHOG_JSON_OK, "the empty object" },
    { "[]", POSTHOG_JSON_OK, "the empty array" },
    { "{\"a\":[1,{\"b\":[]}],\"c\":null}", POSTHOG_JSON_OK, "nesting" },
    { "{ \"a\" : 1 , \"b\" : [ 2 , 3 ] }", POSTHOG_JSON_OK,
      "white space between tokens" },
    { "", POSTHOG_JSON_BAD, "nothing" },
    { "tru", POSTHOG_JSON_BAD, "a literal cut" },
    { "nul", POSTHOG_JSON_BAD, "null cut" },
    { "-", POSTHOG_JSON_BAD, "a sign alone" },
    { "1.", POSTHOG_JSON_BAD, "a point without digits" },
    { "1e", POSTHOG_JSON_BAD, "an exponent without digits" },
    { "+1", POSTHOG_JSON_BAD, "a plus sign" },
    { "[1,]", POSTHOG_JSON_BAD, "a trailing comma" },
    { "[,1]", POSTHOG_JSON_BAD, "a leading comma" },
    { "{\"a\"}", POSTHOG_JSON_BAD, "a key without a value" },
    { "{\"a\" 1}", POSTHOG_JSON_BAD, "no colon" },
    { "{1:1}", POSTHOG_JSON_BAD, "a key that is not a string" },
    { "[1}", POSTHOG_JSON_BAD, "brackets that do not match" },
    { "[1", POSTHOG_JSON_BAD, "not closed" },
    { "\"a\nb\"", POSTHOG_JSON_BAD, "a control byte in a string" },
    { "\"\\x\"", POSTHOG_JSON_BAD, "an unknown escape" },
    { "\"\\u12\"", POSTHOG_JSON_BAD, "a \\u escape cut" },
    { "\"\\u12g4\"", POSTHOG_JSON_BAD, "a \\u escape not hex" },
    { "\"\xff\"", POSTHOG_JSON_BAD_UTF8, "a byte that is never UTF-8" },
    { "\"\xc0\xaf\"", POSTHOG_JSON_BAD_UTF8, "an overlong" },
    { "\"\\udc00\"", POSTHOG_JSON_BAD_UTF8, "a lone low surrogate" },
    { "\"\\ud800\"", POSTHOG_JSON_BAD_UTF8, "a lone high surrogate" },
    { "\"\\ud800\\u0041\"", POSTHOG_JSON_BAD_UTF8,
      "a high surrogate, then no low one" },
};


static void
test_values(void)
{
    int                    rc;
    size_t                 i;
    posthog_json_reader_t  r;

    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        r.start = (const unsigned char *) values[i].json;
        r.p = r.start;
        r.end = r.start + strlen(values[i].json);
        r.depth_max = 16;

        rc = posthog_json_read_value(&r, 0);

        is_int(rc, values[i].rc, "value: %s", values[i].what);

        if (rc == POSTHOG_JSON_OK) {
            ok(r.p == r.end, "value: %s, read to its end", values[i].what);
        }
    }
}


static void
test_depth(void)
{
    char                   deep[64];
    size_t                 n;
    posthog_json_reader_t  r;

    /* depth_max arrays: the last one is at depth depth_max - 1 */

    for (n = 0; n < 4; n++) {
        deep[n] = '[';
        deep[7 - n] = ']';
    }

    r.start = (const unsigned char *) deep;
    r.p = r.start;
    r.end = r.start + 8;
    r.depth_max = 4;

    is_int(posthog_json_read_value(&r, 0), POSTHOG_JSON_OK,
           "depth: depth_max levels");

    r.p = r.start;
    r.depth_max = 3;

    is_int(posthog_json_read_value(&r, 0), POSTHOG_JSON_TOO_DEEP,
           "depth: one more is refused");

    r.p = r.start;
    r.depth_max = 4;

    is_int(posthog_json_read_value(&r, 1), POSTHOG_JSON_TOO_DEEP,
           "depth: counted from the depth given");
}


static void
test_strings(void)
{
    size_t                 olen, total;
    unsigned char          out[8];
    posthog_json_reader_t  r;

#define READ(s)                                                              \
    r.start = (const unsigned char *) (s);                                   \
    r.p = r.start;                                                           \
    r.end = r.start + sizeof(s) - 1;                                         \
    r.depth_max = 16;                                                        \
    olen = 99;                                                               \
    total = 99

    READ("\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
    is_int(posthog_json_read_string(&r, out, sizeof(out), &olen, &total),
           POSTHOG_JSON_OK, "string: the short escapes");
    /* 9 bytes decoded, 8 kept */
    is_mem(out, olen, "a\"\\/\b\f\n\r\t", 8, "string: decoded, cut at max");
    is_int(total, 9, "string: the length in full");

    READ("\"\\u00e9\\ud83d\\ude00\"");
    is_int(posthog_json_read_string(&r, out, sizeof(out), &olen, &total),
           POSTHOG_JSON_OK, "string: \\u escapes");
    is_mem(out, olen, "\xc3\xa9\xf0\x9f\x98\x80", 6,
           "string: \\u escapes and a pair as UTF-8");

    READ("\"abcdef\xf0\x9f\x98\x80\"");
    is_int(posthog_json_read_string(&r, out, sizeof(out), &olen, &total),
           POSTHOG_JSON_OK, "string: raw UTF-8");
    is_mem(out, olen, "abcdef", 6,
           "string: cut before a character that does not fit");
    is_int(total, 10, "string: the length in full, cut or not");
    ok(r.p == r.end, "string: read to its closing quote");

    READ("\"abc\" ");
    is_int(posthog_json_read_string(&r, NULL, 0, NULL, NULL),
           POSTHOG_JSON_OK, "string: checked only");
    is_int(r.end - r.p, 1, "string: stops after the quote");

    READ("x");
    is_int(posthog_json_read_string(&r, NULL, 0, NULL, NULL),
           POSTHOG_JSON_BAD, "string: not a string");

    /* a leading zero is the whole number: the value ends after it */

    READ("01");
    is_int(posthog_json_read_value(&r, 0), POSTHOG_JSON_OK,
           "number: a leading zero");
    is_int(r.end - r.p, 1, "number: a leading zero ends it");

#undef READ
}


static void
test_numbers(void)
{
    int                    integer;
    size_t                 i;
    uint64_t               n;
    posthog_json_reader_t  r;

    static const struct {
        const char  *json;
        int          integer;
        uint64_t     n;
        const char  *what;
    } nums[] = {
        { "0", 1, 0, "zero" },
        { "1795896993327", 1, 1795896993327ULL, "a ms time" },
        { "9007199254740991", 1, 9007199254740991ULL,
          "Number.MAX_SAFE_INTEGER" },
        { "9007199254740992", 0, 0, "one more" },
        { "12345678901234567", 0, 0, "17 digits" },
        { "-1", 0, 0, "negative" },
        { "1.0", 0, 0, "a fraction" },
        { "1e3", 0, 0, "an exponent" },
    };

    for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        r.start = (const unsigned char *) nums[i].json;
        r.p = r.start;
        r.end = r.start + strlen(nums[i].json);
        r.depth_max = 16;

        is_int(posthog_json_read_number(&r, &n, &integer), POSTHOG_JSON_OK,
               "number: %s", nums[i].what);
        is_int(integer, nums[i].integer, "number: %s, integer or not",
               nums[i].what);

        if (nums[i].integer) {
            ok(n == nums[i].n, "number: %s, its value", nums[i].what);
        }
    }
}


int
main(void)
{
    test_values();
    test_depth();
    test_strings();
    test_numbers();

    return done_testing();
}
