/*
 * The stream contract: version, the token rule, the "exactly one JSON
 * object" check an event passes before it is pasted into a /batch/ body,
 * and entry ids.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "posthog_stream.h"


#define S(s)  (const unsigned char *) (s), sizeof(s) - 1


static const struct {
    const char  *json;
    int          ok;
    const char  *what;
} objects[] = {
    { "{}", 1, "the empty object" },
    { " \t\r\n{\"a\":1}\n ", 1, "white space around it" },
    { "{\"a\":\"}\"}", 1, "a brace inside a string" },
    { "{\"a\":\"\\\"}\"}", 1, "an escaped quote, then a brace" },
    { "{\"a\":\"\\\\\"}", 1, "an escaped backslash ends the string" },
    { "{\"a\":\"\\u00e9\\uD83D\\ude00\"}", 1, "\\u escapes" },
    { "{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\"}", 1, "UTF-8 in a string" },
    { "{\"a\":[1,{\"b\":[]}],\"c\":null}", 1, "nesting" },
    { "{\"a\":tru}", 1, "literals are not checked (PostHog: 400)" },
    { "", 0, "empty" },
    { "   ", 0, "white space only" },
    { "[]", 0, "an array" },
    { "\"x\"", 0, "a string" },
    { "{", 0, "not closed" },
    { "{\"a\":\"}", 0, "a string not closed" },
    { "{\"a\":\"\\\"}", 0, "an escaped quote does not close it" },
    { "{}}", 0, "a brace too many" },
    { "{} {}", 0, "two objects" },
    { "{}x", 0, "something after it" },
    { "{\"a\":1}],\"api_key\":\"phc_other\",\"batch\":[{", 0,
      "a batch rewrite" },
    { "{\"a\":[}", 0, "brackets that do not match" },
    { "{\"a\":]}", 0, "a closing bracket without an opening one" },
    { "{\"a\":\"x\ty\"}", 0, "a tab inside a string" },
    { "{\"a\":\"x\ny\"}", 0, "a newline inside a string" },
    { "{\"a\":\x01}", 0, "a control byte outside a string" },
    { "{\"a\":\"\\x\"}", 0, "an unknown escape" },
    { "{\"a\":\"\\u00g0\"}", 0, "\\u with a non-hex digit" },
    { "{\"a\":\"\\u00\"}", 0, "\\u cut short" },
    { "{\"a\":\"\\", 0, "a backslash at the end" },
    { "{\"a\":\"\xc3\"}", 0, "a truncated UTF-8 sequence" },
    { "{\"a\":\"\xed\xa0\x80\"}", 0, "an encoded surrogate" },
    { "{\"a\":\"\xc0\xaf\"}", 0, "an overlong" },
    { "{\"a\":\xff}", 0, "a byte that is never UTF-8" },
};


static void
test_objects(void)
{
    int     i;
    char    deep[2 * POSTHOG_STREAM_DEPTH_MAX + 8];
    size_t  n;

    for (i = 0; i < (int) (sizeof(objects) / sizeof(objects[0])); i++) {
        is_int(posthog_stream_is_object(
                   (const unsigned char *) objects[i].json,
                   strlen(objects[i].json)),
               objects[i].ok, "object: %s", objects[i].what);
    }

    ok(!posthog_stream_is_object(S("{\"a\":\"x\0y\"}")),
       "object: a NUL byte inside a string");

    /* depth: the object itself is level 1 */
    for (n = 0; n < POSTHOG_STREAM_DEPTH_MAX; n++) {
        deep[n] = '[';
        deep[2 * POSTHOG_STREAM_DEPTH_MAX - 1 - n] = ']';
    }
    deep[0] = '{';
    deep[2 * POSTHOG_STREAM_DEPTH_MAX - 1] = '}';

    ok(posthog_stream_is_object((const unsigned char *) deep,
                                2 * POSTHOG_STREAM_DEPTH_MAX),
       "object: %d levels deep", POSTHOG_STREAM_DEPTH_MAX);

    memmove(deep + 1, deep, 2 * POSTHOG_STREAM_DEPTH_MAX);
    deep[1] = '[';
    deep[2 * POSTHOG_STREAM_DEPTH_MAX] = ']';
    deep[2 * POSTHOG_STREAM_DEPTH_MAX + 1] = '}';

    ok(!posthog_stream_is_object((const unsigned char *) deep,
                                 2 * POSTHOG_STREAM_DEPTH_MAX + 2),
       "object: %d levels deep is refused", POSTHOG_STREAM_DEPTH_MAX + 1);
}


static void
test_tokens(void)
{
    int            c, bad;
    unsigned char  tok[POSTHOG_STREAM_TOKEN_MAX + 1];

    ok(posthog_stream_token_ok(S("phc_4fAbcDEF0123456789xyz")), "token: phc_");
    ok(posthog_stream_token_ok(S("x")), "token: one byte");
    ok(!posthog_stream_token_ok(S("")), "token: empty");
    ok(!posthog_stream_token_ok(S("phc_a b")), "token: a space");
    ok(!posthog_stream_token_ok(S("phc_a\"b")), "token: a quote");
    ok(!posthog_stream_token_ok(S("phc_a\\b")), "token: a backslash");
    ok(!posthog_stream_token_ok(S("phc_a\x7f")), "token: DEL");
    ok(!posthog_stream_token_ok(S("phc_\xc3\xa9")), "token: non-ASCII");
    ok(!posthog_stream_token_ok(S("phc_\r\nX: y")), "token: CR LF");

    memset(tok, 'a', sizeof(tok));
    ok(posthog_stream_token_ok(tok, POSTHOG_STREAM_TOKEN_MAX),
       "token: %d bytes", POSTHOG_STREAM_TOKEN_MAX);
    ok(!posthog_stream_token_ok(tok, POSTHOG_STREAM_TOKEN_MAX + 1),
       "token: %d bytes is too long", POSTHOG_STREAM_TOKEN_MAX + 1);

    /* every byte value alone: printable ASCII but space, " and \ */
    bad = 0;
    for (c = 0; c < 256; c++) {
        tok[0] = (unsigned char) c;
        if (posthog_stream_token_ok(tok, 1)
            != (c > ' ' && c < 0x7f && c != '"' && c != '\\'))
        {
            diag("byte 0x%02x", c);
            bad++;
        }
    }
    is_int(bad, 0, "token: every byte value");
}


static void
test_ids(void)
{
    int       i, bad, n;
    char      buf[POSTHOG_STREAM_ID_MAX + 1];
    uint64_t  ms, seq, ms2, seq2;

    ok(posthog_stream_id_parse("0-0", 3, &ms, &seq) == 0 && ms == 0
       && seq == 0, "id: 0-0");
    ok(posthog_stream_id_parse("1700000000000-12", 16, &ms, &seq) == 0
       && ms == 1700000000000ULL && seq == 12, "id: ms-seq");
    ok(posthog_stream_id_parse("18446744073709551615-18446744073709551615",
                               41, &ms, &seq) == 0
       && ms == UINT64_MAX && seq == UINT64_MAX, "id: the largest");

    ok(posthog_stream_id_parse("18446744073709551616-0", 22, &ms, &seq) != 0,
       "id: ms overflows");
    ok(posthog_stream_id_parse("1-18446744073709551616", 22, &ms, &seq) != 0,
       "id: seq overflows");
    ok(posthog_stream_id_parse("", 0, &ms, &seq) != 0, "id: empty");
    ok(posthog_stream_id_parse("12", 2, &ms, &seq) != 0, "id: no seq");
    ok(posthog_stream_id_parse("-1", 2, &ms, &seq) != 0, "id: no ms");
    ok(posthog_stream_id_parse("1-", 2, &ms, &seq) != 0, "id: seq empty");
    ok(posthog_stream_id_parse("1-2-3", 5, &ms, &seq) != 0, "id: two dashes");
    ok(posthog_stream_id_parse("1-+2", 4, &ms, &seq) != 0, "id: a sign");
    ok(posthog_stream_id_parse("a-1", 3, &ms, &seq) != 0, "id: a letter");
    ok(posthog_stream_id_parse("1-2 ", 4, &ms, &seq) != 0, "id: a space");
    ok(posthog_stream_id_parse("1-2", 2, &ms, &seq) != 0,
       "id: the length is honoured");

    bad = 0;
    for (i = 0; i < 10000; i++) {
        ms = tap_rand() >> (tap_rand() % 64);
        seq = tap_rand() >> (tap_rand() % 64);
        n = posthog_stream_id_format(buf, ms, seq);
        if (n <= 0 || n > POSTHOG_STREAM_ID_MAX || (size_t) n != strlen(buf)
            || posthog_stream_id_parse(buf, n, &ms2, &seq2) != 0
            || ms2 != ms || seq2 != seq)
        {
            diag("%s", buf);
            bad++;
        }
    }
    is_int(bad, 0, "id: format and parse round trip");
}


int
main(void)
{
    ok(posthog_stream_version_ok(S("1")), "version 1");
    ok(!posthog_stream_version_ok(S("2")), "version 2: unknown");
    ok(!posthog_stream_version_ok(S("10")), "version 10: unknown");
    ok(!posthog_stream_version_ok(S("")), "version empty");

    test_tokens();
    test_objects();
    test_ids();

    return done_testing();
}
