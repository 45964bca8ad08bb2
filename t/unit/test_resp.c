/*
 * The module's XADD in RESP is byte for byte what hiredis's own
 * redisFormatCommandArgv() makes of the same arguments: binary, empty
 * and long fields, any stream name, with and without MAXLEN; a reply is
 * read as hiredis's reader reads it (respcheck.h), whole, cut short at any
 * byte or damaged; and the error codes that keep an event for a retry are
 * exactly Redis's transient ones.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "tap.h"
#include "respcheck.h"
#include "posthog_resp.h"


static void
rand_bytes(unsigned char *p, size_t n)
{
    while (n--) {
        *p++ = (unsigned char) tap_rand();
    }
}


/* what hiredis writes for the module's XADD */

static int
hiredis_xadd(char **out, const unsigned char *stream, size_t stream_len,
    size_t maxlen, const unsigned char *token, size_t token_len,
    const unsigned char *event, size_t event_len)
{
    int          argc;
    char         num[32];
    size_t       lens[12];
    const char  *argv[12];

    argc = 0;

#define arg(s, n)  argv[argc] = (const char *) (s); lens[argc++] = (n)

    arg("XADD", 4);
    arg(stream, stream_len);

    if (maxlen) {
        snprintf(num, sizeof(num), "%zu", maxlen);
        arg("MAXLEN", 6);
        arg("~", 1);
        arg(num, strlen(num));
    }

    arg("*", 1);
    arg("v", 1);
    arg("1", 1);
    arg("t", 1);
    arg(token, token_len);
    arg("e", 1);
    arg(event, event_len);

#undef arg

    return redisFormatCommandArgv(out, argc, argv, lens);
}


static int
same_as_hiredis(const unsigned char *stream, size_t stream_len,
    size_t maxlen, const unsigned char *token, size_t token_len,
    const unsigned char *event, size_t event_len)
{
    int             len, same;
    char           *ref;
    size_t          max;
    unsigned char  *buf, *p, *q;

    max = posthog_resp_xadd_prefix_max(stream_len)
          + posthog_resp_xadd_entry_max(token_len, event_len);

    buf = malloc(max);
    p = posthog_resp_xadd_prefix(buf, stream, stream_len, maxlen);

    if ((size_t) (p - buf) > posthog_resp_xadd_prefix_max(stream_len)) {
        diag("prefix of %zu bytes over its bound", (size_t) (p - buf));
        free(buf);
        return 0;
    }

    q = posthog_resp_xadd_entry(p, token, token_len, event, event_len);

    if ((size_t) (q - p) > posthog_resp_xadd_entry_max(token_len, event_len))
    {
        diag("entry of %zu bytes over its bound", (size_t) (q - p));
        free(buf);
        return 0;
    }

    len = hiredis_xadd(&ref, stream, stream_len, maxlen, token, token_len,
                       event, event_len);

    same = (len >= 0 && (size_t) len == (size_t) (q - buf)
            && memcmp(ref, buf, (size_t) len) == 0);

    if (!same) {
        diag("hiredis: %d bytes, ours: %zu", len, (size_t) (q - buf));
    }

    redisFreeCommand(ref);
    free(buf);

    return same;
}


/* a random reply of each kind posthog_resp_reply() reads, or an array */

static size_t
rand_reply(unsigned char *buf)
{
    size_t          len, i;
    const char     *s;
    unsigned char  *p;

    static const char  *lines[] = { "0", "-1", "-0", "01", "12", "",
                                    "9223372036854775807",
                                    "9223372036854775808",
                                    "-9223372036854775808",
                                    "-9223372036854775809",
                                    "99999999999999999999", "1a", "+1" };

    p = buf;
    *p++ = "+-:$*x"[tap_rand() % 6];

    switch (tap_rand() % 3) {

    case 0:
        /* a line of any bytes, \r and \n alone among them */
        len = tap_rand() % 40;
        for (i = 0; i < len; i++) {
            *p++ = "a\r\n-0123 "[tap_rand() % 9];
        }
        break;

    case 1:
        /* numbers, good and bad */
        s = lines[tap_rand() % (sizeof(lines) / sizeof(lines[0]))];
        len = strlen(s);
        memcpy(p, s, len);
        p += len;
        break;

    default:
        /* a bulk string, its length right or not */
        len = tap_rand() % 30;
        p += sprintf((char *) p, "%zu", len + (tap_rand() % 8 == 0));
        memcpy(p, "\r\n", 2);
        p += 2;
        rand_bytes(p, len);
        p += len;
    }

    memcpy(p, "\r\n", 2);
    p += 2;

    return (size_t) (p - buf);
}


#define R(s)  respcheck_same((const unsigned char *) (s), sizeof(s) - 1)


static void
test_reply(void)
{
    int                    i, all;
    size_t                 n, k, used;
    unsigned char          buf[256];
    posthog_resp_reply_t   reply;

    ok(posthog_resp_reply((const unsigned char *) "$15\r\n1733123456789-0"
                          "\r\n+OK", 26, &reply, &used)
       == POSTHOG_RESP_REPLY_OK
       && reply.type == '$' && used == 22 && reply.len == 15
       && memcmp(reply.str, "1733123456789-0", 15) == 0,
       "an XADD's id, and what follows it left");
    ok(posthog_resp_reply((const unsigned char *) "-OOM command not "
                          "allowed\r\n", 26, &reply, &used)
       == POSTHOG_RESP_REPLY_OK
       && reply.type == '-' && used == 26 && reply.len == 23
       && memcmp(reply.str, "OOM command not allowed", 23) == 0,
       "an error and its text");
    ok(posthog_resp_reply((const unsigned char *) "$-1\r\n", 5, &reply,
                          &used)
       == POSTHOG_RESP_REPLY_OK
       && reply.type == '$' && reply.str == NULL && used == 5, "nil");
    ok(posthog_resp_reply((const unsigned char *) "*1\r\n$1\r\na\r\n", 11,
                          &reply, &used)
       == POSTHOG_RESP_REPLY_BAD, "an array is refused");

    ok(R("$15\r\n1733123456789-0\r\n"), "a bulk string");
    ok(R("$0\r\n\r\n"), "an empty one");
    ok(R("$2\r\na\r\r\n"), "one holding CR");
    ok(R("$1\r\nab\r\n"), "one longer than said");
    ok(R("$3\r\nab"), "one cut short");
    ok(R("$-1\r\n"), "nil");
    ok(R("$-2\r\n"), "a negative length");
    ok(R("$x\r\n"), "a length not a number");
    ok(R("$\r\n"), "no length");
    ok(R("$9223372036854775807\r\n"), "the largest length, not there");
    ok(R("$99999999999999999999\r\n"), "a length past a long long");
    ok(R("+OK\r\n"), "a status");
    ok(R("+\r\n"), "an empty status");
    ok(R("+O\rK\nX\r\n"), "a status holding CR and LF alone");
    ok(R("-ERR x\r\n"), "an error");
    ok(R(":-42\r\n"), "an integer");
    ok(R(":042\r\n"), "an integer with a leading zero");
    ok(R(":-0\r\n"), "minus zero");
    ok(R(":0\r\n"), "zero");
    ok(R(":-9223372036854775808\r\n"), "the smallest integer");
    ok(R(":9223372036854775808\r\n"), "one past the largest");
    ok(R(""), "nothing");
    ok(R("+OK\r"), "a line without its LF");
    ok(R("?\r\n"), "an unknown type");

    /* random replies, whole, cut short and damaged */

    all = 1;

    for (i = 0; i < 20000 && all; i++) {
        n = rand_reply(buf);

        if (tap_rand() % 4 == 0) {
            buf[tap_rand() % n] = (unsigned char) tap_rand();
        }

        for (k = 0; k <= n && all; k++) {
            if (!respcheck_same(buf, k)) {
                tap_diag_mem("differs from hiredis on", buf, k);
                all = 0;
            }
        }
    }

    ok(all, "20000 random replies read as hiredis reads them, at every "
       "length");
}


#define S(s)  (const unsigned char *) (s), sizeof(s) - 1
#define E(s)  (s), sizeof(s) - 1


int
main(void)
{
    int             i;
    size_t          sl, tl, el, maxlen, lens[] = { 0, 1, 9, 10, 99, 100,
                                                   65535, 65536, 1000000 };
    unsigned char  *stream, *token, *event;
    unsigned char   buf[64], *p;

    static const size_t  maxlens[] = { 0, 1, 9, 10, 1000000, 4294967296ULL,
                                       SIZE_MAX };

    p = posthog_resp_bulk(buf, "", 0);
    is_mem(buf, (size_t) (p - buf), "$0\r\n\r\n", 6, "an empty bulk");
    p = posthog_resp_bulk(buf, "a\r\nb", 4);
    is_mem(buf, (size_t) (p - buf), "$4\r\na\r\nb\r\n", 10,
           "a bulk holding CR LF");

    ok(same_as_hiredis(S("posthog:events"), 1000000, S("phc_abc"),
                       S("{\"event\":\"$pageview\"}")),
       "the usual XADD");
    ok(same_as_hiredis(S("posthog:events"), 0, S("phc_abc"),
                       S("{\"event\":\"$pageview\"}")),
       "without MAXLEN (maxlen=0)");
    ok(same_as_hiredis(S(""), 5, S(""), S("")), "empty stream, token, event");

    for (i = 0; i < (int) (sizeof(maxlens) / sizeof(maxlens[0])); i++) {
        ok(same_as_hiredis(S("s"), maxlens[i], S("t"), S("e")),
           "maxlen %zu", maxlens[i]);
    }

    /* every length around a change in the number of digits */

    event = malloc(1000000 + 16);
    rand_bytes(event, 1000000 + 16);

    for (i = 0; i < (int) (sizeof(lens) / sizeof(lens[0])); i++) {
        ok(same_as_hiredis(event, lens[i] % 300, 1000, event + 7, lens[i]
                           % 1000, event + 11, lens[i]),
           "event of %zu random bytes", lens[i]);
    }

    /* random binary fields */

    stream = malloc(300);
    token = malloc(300);

    for (i = 0; i < 2000; i++) {
        sl = tap_rand() % 300;
        tl = (i % 10 == 0) ? 0 : tap_rand() % 300;
        el = (i % 50 == 0) ? tap_rand() % 1000000 : tap_rand() % 5000;
        maxlen = (i % 3 == 0) ? 0 : (size_t) tap_rand();

        rand_bytes(stream, sl);
        rand_bytes(token, tl);
        rand_bytes(event, el);

        if (!ok(same_as_hiredis(stream, sl, maxlen, token, tl, event, el),
                "random XADD %d (%zu, %zu, %zu bytes)", i, sl, tl, el))
        {
            break;
        }
    }

    free(stream);
    free(token);
    free(event);

    test_reply();

    /* the error replies that keep the event for a retry */

    ok(posthog_resp_error_transient(E("READONLY You can't write against a "
                                      "read only replica.")),
       "READONLY is transient");
    ok(posthog_resp_error_transient(E("OOM command not allowed")),
       "OOM is transient");
    ok(posthog_resp_error_transient(E("LOADING Redis is loading")),
       "LOADING is transient");
    ok(posthog_resp_error_transient(E("NOAUTH Authentication required.")),
       "NOAUTH is transient");
    ok(posthog_resp_error_transient(E("BUSY")), "a code alone");
    ok(!posthog_resp_error_transient(E("WRONGTYPE Operation against a key "
                                       "holding the wrong kind of value")),
       "WRONGTYPE is not");
    ok(!posthog_resp_error_transient(E("ERR syntax error")), "ERR is not");
    ok(!posthog_resp_error_transient(E("READONLYX no")),
       "a longer word is not");
    ok(!posthog_resp_error_transient(E("OO")), "a prefix of a code is not");
    ok(!posthog_resp_error_transient(E("")), "empty is not");
    ok(!posthog_resp_error_transient(E(" OOM")), "a leading space is not");

    return done_testing();
}
