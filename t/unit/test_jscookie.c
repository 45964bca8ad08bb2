/*
 * posthog-js's cookie: the values posthog-js wrote (t/vectors/
 * posthog-js-cookies.json, copied here) parsed field by field; a battery
 * of hostile values refused with their reason; the writer's output byte
 * for byte in posthog-js's encoding, and read back.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "posthog_jscookie.h"

/* the "raw" values of three steps of the vectors, unchanged */

#define RAW_HOME \
    "%7B%22%24initialization_time%22%3A%222026-11-28T20%3A16%3A33.290" \
    "Z%22%2C%22%24configured_session_timeout_ms%22%3A1800000%2C%22dis" \
    "tinct_id%22%3A%2201a223cd-6619-7435-92fa-8223dd7d142d%22%2C%22%2" \
    "4device_id%22%3A%2201a223cd-6619-7435-92fa-8223dd7d142d%22%2C%22" \
    "%24user_state%22%3A%22anonymous%22%2C%22%24capture_rate_limit%22" \
    "%3A%7B%22tokens%22%3A99%2C%22last%22%3A1795896993321%7D%2C%22%24" \
    "initial_person_info%22%3A%7B%22r%22%3A%22%24direct%22%2C%22u%22%" \
    "3A%22http%3A%2F%2F127.0.0.1%3A38159%2Fp%2Fhome%22%7D%2C%22%24ses" \
    "id%22%3A%5B1795896993327%2C%2201a223cd-6651-7801-9831-549595e209" \
    "d0%22%2C1795896993327%5D%2C%22%24client_session_props%22%3A%7B%2" \
    "2sessionId%22%3A%2201a223cd-6651-7801-9831-549595e209d0%22%2C%22" \
    "props%22%3A%7B%22r%22%3A%22%24direct%22%2C%22u%22%3A%22http%3A%2" \
    "F%2F127.0.0.1%3A38159%2Fp%2Fhome%22%7D%7D%7D"

#define RAW_LOGIN \
    "%7B%22%24initialization_time%22%3A%222026-11-28T20%3A16%3A37.037" \
    "Z%22%2C%22%24configured_session_timeout_ms%22%3A1800000%2C%22dis" \
    "tinct_id%22%3A%22user-42%22%2C%22%24device_id%22%3A%2201a223cd-6" \
    "619-7435-92fa-8223dd7d142d%22%2C%22%24user_state%22%3A%22identif" \
    "ied%22%2C%22%24capture_rate_limit%22%3A%7B%22tokens%22%3A98.32%2" \
    "C%22last%22%3A1795896997089%7D%2C%22%24initial_person_info%22%3A" \
    "%7B%22r%22%3A%22%24direct%22%2C%22u%22%3A%22http%3A%2F%2F127.0.0" \
    ".1%3A38159%2Fp%2Fhome%22%7D%2C%22%24sesid%22%3A%5B1795896997058%" \
    "2C%2201a223cd-6651-7801-9831-549595e209d0%22%2C1795896993327%5D%" \
    "2C%22%24client_session_props%22%3A%7B%22sessionId%22%3A%2201a223" \
    "cd-6651-7801-9831-549595e209d0%22%2C%22props%22%3A%7B%22r%22%3A%" \
    "22%24direct%22%2C%22u%22%3A%22http%3A%2F%2F127.0.0.1%3A38159%2Fp" \
    "%2Fhome%22%7D%7D%2C%22%24epp%22%3Atrue%2C%22%24user_id%22%3A%22u" \
    "ser-42%22%2C%22%24stored_person_properties%22%3A%7B%22email%22%3" \
    "A%22x%40example.com%22%7D%7D"

#define RAW_LOGOUT \
    "%7B%22%24user_state%22%3A%22anonymous%22%2C%22%24sesid%22%3A%5B1" \
    "795897000774%2C%2201a223cd-8349-7740-b795-66a9f81a4274%22%2C1795" \
    "897000774%5D%2C%22distinct_id%22%3A%2201a223cd-833d-72d8-9f12-63" \
    "52aaf62bd9%22%2C%22%24device_id%22%3A%2201a223cd-6619-7435-92fa-" \
    "8223dd7d142d%22%2C%22%24last_posthog_reset%22%3A%222026-11-28T20" \
    "%3A16%3A40.767Z%22%2C%22%24capture_rate_limit%22%3A%7B%22tokens%" \
    "22%3A99%2C%22last%22%3A1795897000770%7D%2C%22%24initial_person_i" \
    "nfo%22%3A%7B%22r%22%3A%22%24direct%22%2C%22u%22%3A%22http%3A%2F%" \
    "2F127.0.0.1%3A38159%2Fp%2Flogout%3Fact%3Dlogout%22%7D%2C%22%24cl" \
    "ient_session_props%22%3A%7B%22sessionId%22%3A%2201a223cd-8349-77" \
    "40-b795-66a9f81a4274%22%2C%22props%22%3A%7B%22r%22%3A%22%24direc" \
    "t%22%2C%22u%22%3A%22http%3A%2F%2F127.0.0.1%3A38159%2Fp%2Flogout%" \
    "3Fact%3Dlogout%22%7D%7D%7D"

#define DEV   "01a223cd-6619-7435-92fa-8223dd7d142d"
#define SID1  "01a223cd-6651-7801-9831-549595e209d0"
#define SID2  "01a223cd-8349-7740-b795-66a9f81a4274"
#define ANON2 "01a223cd-833d-72d8-9f12-6352aaf62bd9"


static posthog_jscookie_t  jc;


static int
contains(const unsigned char *p, size_t len, const char *s)
{
    size_t  i, n;

    n = strlen(s);

    for (i = 0; i + n <= len; i++) {
        if (memcmp(p + i, s, n) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
parse(const char *s)
{
    return posthog_jscookie_parse(&jc, (const unsigned char *) s, strlen(s));
}


/* the value as encodeURIComponent() would give it, for readable tests */

static const char *
enc(const char *json)
{
    static char  buf[POSTHOG_JSCOOKIE_MAX * 2];
    size_t       i, n;
    int          c;

    n = 0;

    for (i = 0; json[i] && n < sizeof(buf) - 4; i++) {
        c = (unsigned char) json[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || strchr("-_.!~*'()", c))
        {
            buf[n++] = (char) c;

        } else {
            n += (size_t) sprintf(buf + n, "%%%02X", c);
        }
    }

    buf[n] = '\0';

    return buf;
}


static int
penc(const char *json)
{
    return parse(enc(json));
}


static void
vectors(void)
{
    is_int(parse(RAW_HOME), POSTHOG_JSCOOKIE_OK, "home: parsed");
    is_mem(jc.id, jc.id_len, DEV, 36, "home: distinct_id");
    ok(jc.has_device, "home: $device_id");
    is_mem(jc.device, 36, DEV, 36, "home: $device_id value");
    is_int(jc.user_state, POSTHOG_JSCOOKIE_ANONYMOUS, "home: anonymous");
    ok(jc.has_session, "home: $sesid");
    is_int(jc.session_last, 1795896993327ULL, "home: $sesid[0]");
    is_mem(jc.session, 36, SID1, 36, "home: $sesid[1]");
    is_int(jc.session_start, 1795896993327ULL, "home: $sesid[2]");
    ok(jc.has_entry, "home: entry of this session");
    is_mem(jc.ref, jc.ref_len, "$direct", 7, "home: entry r");
    is_mem(jc.url, jc.url_len, "http://127.0.0.1:38159/p/home", 29,
           "home: entry u");
    is_int(jc.nkeep, 4, "home: 4 other members kept");

    is_int(parse(RAW_LOGIN), POSTHOG_JSCOOKIE_OK, "login: parsed");
    is_mem(jc.id, jc.id_len, "user-42", 7, "login: distinct_id");
    is_mem(jc.device, 36, DEV, 36, "login: $device_id kept");
    is_int(jc.user_state, POSTHOG_JSCOOKIE_IDENTIFIED, "login: identified");
    is_int(jc.session_last, 1795896997058ULL, "login: $sesid[0]");
    is_mem(jc.session, 36, SID1, 36, "login: same session");
    is_int(jc.nkeep, 7, "login: 7 other members kept");
    ok(jc.keep[4].kind == POSTHOG_JSCOOKIE_EPP
       && jc.keep[5].kind == POSTHOG_JSCOOKIE_USER_ID
       && jc.keep[3].kind == POSTHOG_JSCOOKIE_INITIAL,
       "login: $epp, $user_id, $initial_person_info recognised");

    is_int(parse(RAW_LOGOUT), POSTHOG_JSCOOKIE_OK, "logout: parsed");
    is_mem(jc.id, jc.id_len, ANON2, 36, "logout: a new anonymous id");
    is_mem(jc.device, 36, DEV, 36, "logout: $device_id kept");
    is_int(jc.user_state, POSTHOG_JSCOOKIE_ANONYMOUS, "logout: anonymous");
    is_mem(jc.session, 36, SID2, 36, "logout: a new session");
    is_int(jc.session_start, 1795897000774ULL, "logout: its start");
    is_mem(jc.url, jc.url_len, "http://127.0.0.1:38159/p/logout?act=logout",
           42, "logout: its entry");
}


static void
hostile(void)
{
    char  buf[POSTHOG_JSCOOKIE_MAX + 64];
    int   i;

    static const struct {
        const char  *json;
        int          rc;
        const char  *what;
    } t[] = {
        { "", POSTHOG_JSCOOKIE_BAD_JSON, "empty" },
        { "{", POSTHOG_JSCOOKIE_BAD_JSON, "truncated" },
        { "{\"distinct_id\":\"abc", POSTHOG_JSCOOKIE_BAD_JSON,
          "truncated string" },
        { "{\"distinct_id\":\"abc\"", POSTHOG_JSCOOKIE_BAD_JSON,
          "no closing brace" },
        { "{\"distinct_id\":\"abc\"}x", POSTHOG_JSCOOKIE_BAD_JSON,
          "trailing bytes" },
        { "{\"distinct_id\":\"abc\",}", POSTHOG_JSCOOKIE_BAD_JSON,
          "trailing comma" },
        { "{'distinct_id':'abc'}", POSTHOG_JSCOOKIE_BAD_JSON,
          "single quotes" },
        { "[\"distinct_id\"]", POSTHOG_JSCOOKIE_NOT_OBJECT, "an array" },
        { "\"abc\"", POSTHOG_JSCOOKIE_NOT_OBJECT, "a string" },
        { "null", POSTHOG_JSCOOKIE_NOT_OBJECT, "null" },
        { "{}", POSTHOG_JSCOOKIE_NO_ID, "no distinct_id" },
        { "{\"distinct_id\":42}", POSTHOG_JSCOOKIE_BAD_TYPE, "numeric id" },
        { "{\"distinct_id\":null}", POSTHOG_JSCOOKIE_BAD_TYPE, "null id" },
        { "{\"distinct_id\":[\"a\"]}", POSTHOG_JSCOOKIE_BAD_TYPE,
          "array id" },
        { "{\"distinct_id\":\"null\"}", POSTHOG_JSCOOKIE_BAD_ID,
          "id \"null\"" },
        { "{\"distinct_id\":\"undefined\"}", POSTHOG_JSCOOKIE_BAD_ID,
          "id \"undefined\"" },
        { "{\"distinct_id\":\"\"}", POSTHOG_JSCOOKIE_BAD_ID, "empty id" },
        { "{\"distinct_id\":\" abc\"}", POSTHOG_JSCOOKIE_BAD_ID,
          "untrimmed id" },
        { "{\"distinct_id\":\"a\\nb\"}", POSTHOG_JSCOOKIE_BAD_ID,
          "LF in the id" },
        { "{\"distinct_id\":\"a\\u0000b\"}", POSTHOG_JSCOOKIE_BAD_ID,
          "NUL in the id" },
        { "{\"distinct_id\":\"a\nb\"}", POSTHOG_JSCOOKIE_BAD_JSON,
          "raw LF in a string" },
        { "{\"distinct_id\":\"\xff\"}", POSTHOG_JSCOOKIE_BAD_UTF8,
          "invalid UTF-8" },
        { "{\"distinct_id\":\"\xc0\xaf\"}", POSTHOG_JSCOOKIE_BAD_UTF8,
          "overlong UTF-8" },
        { "{\"distinct_id\":\"\xed\xa0\x80\"}", POSTHOG_JSCOOKIE_BAD_UTF8,
          "surrogate in UTF-8" },
        { "{\"distinct_id\":\"a\\ud800\"}", POSTHOG_JSCOOKIE_BAD_UTF8,
          "lone high surrogate escape" },
        { "{\"distinct_id\":\"a\\udc00b\"}", POSTHOG_JSCOOKIE_BAD_UTF8,
          "lone low surrogate escape" },
        { "{\"distinct_id\":\"a\\x41\"}", POSTHOG_JSCOOKIE_BAD_JSON,
          "bad escape" },
        { "{\"distinct_id\":\"a\\u12\"}", POSTHOG_JSCOOKIE_BAD_JSON,
          "short \\u escape" },
        { "{\"distinct_id\":\"a\",\"distinct_id\":\"b\"}",
          POSTHOG_JSCOOKIE_DUPLICATE, "distinct_id twice" },
        { "{\"distinct_id\":\"a\",\"$device_id\":7}",
          POSTHOG_JSCOOKIE_BAD_TYPE, "numeric $device_id" },
        { "{\"distinct_id\":\"a\",\"$user_state\":\"admin\"}",
          POSTHOG_JSCOOKIE_BAD_TYPE, "unknown $user_state" },
        { "{\"distinct_id\":\"a\",\"$sesid\":\"x\"}",
          POSTHOG_JSCOOKIE_BAD_SESSION, "$sesid a string" },
        { "{\"distinct_id\":\"a\",\"$sesid\":[1,\"" SID1 "\"]}",
          POSTHOG_JSCOOKIE_BAD_SESSION, "$sesid of two" },
        { "{\"distinct_id\":\"a\",\"$sesid\":[2,\"" SID1 "\",1,4]}",
          POSTHOG_JSCOOKIE_BAD_SESSION, "$sesid of four" },
        { "{\"distinct_id\":\"a\",\"$sesid\":[2,\"" DEV "x\",1]}",
          POSTHOG_JSCOOKIE_BAD_SESSION, "$sesid id too long" },
        { "{\"distinct_id\":\"a\",\"$sesid\":[2,\"not-a-uuid\",1]}",
          POSTHOG_JSCOOKIE_BAD_SESSION, "$sesid id not a UUID" },
        { "{\"distinct_id\":\"a\",\"$sesid\":[1,\"" SID1 "\",2]}",
          POSTHOG_JSCOOKIE_BAD_SESSION, "$sesid start after last" },
        { "{\"distinct_id\":\"a\",\"$sesid\":[-2,\"" SID1 "\",1]}",
          POSTHOG_JSCOOKIE_BAD_SESSION, "$sesid negative" },
        { "{\"distinct_id\":\"a\",\"$sesid\":[2.5,\"" SID1 "\",1]}",
          POSTHOG_JSCOOKIE_BAD_SESSION, "$sesid fraction" },
        { "{\"distinct_id\":\"a\",\"$sesid\":[1e300,\"" SID1 "\",1]}",
          POSTHOG_JSCOOKIE_BAD_SESSION, "$sesid exponent" },
        { "{\"distinct_id\":\"a\",\"$sesid\":[99999999999999999,\"" SID1
          "\",1]}", POSTHOG_JSCOOKIE_BAD_SESSION, "$sesid over 2^53" },
        { "{\"distinct_id\":\"a\",\"x\":01}", POSTHOG_JSCOOKIE_BAD_JSON,
          "leading zero" },
        { "{\"distinct_id\":\"a\",\"x\":-}", POSTHOG_JSCOOKIE_BAD_JSON,
          "lone minus" },
        { "{\"distinct_id\":\"a\",\"x\":tru}", POSTHOG_JSCOOKIE_BAD_JSON,
          "truncated literal" },
        { "{\"distinct_id\":\"a\",\"x\":[1 2]}", POSTHOG_JSCOOKIE_BAD_JSON,
          "no comma" },
        { "{\"distinct_id\":\"a\",\"x\":{\"k\"}}", POSTHOG_JSCOOKIE_BAD_JSON,
          "member without value" },
        { "{\"distinct_id\":\"a\",\"x\":{1:2}}", POSTHOG_JSCOOKIE_BAD_JSON,
          "numeric key" },
    };

    for (i = 0; i < (int) (sizeof(t) / sizeof(t[0])); i++) {
        is_int(penc(t[i].json), t[i].rc, "refused: %s (%s)", t[i].what,
               posthog_jscookie_reason(t[i].rc));
    }

    /* percent-encoding */

    is_int(parse("%7B%22distinct_id%22%3A%22a%22%7"),
           POSTHOG_JSCOOKIE_BAD_ENCODING, "truncated %XX");
    is_int(parse("%7B%22distinct_id%22%3A%22a%22%7G"),
           POSTHOG_JSCOOKIE_BAD_ENCODING, "bad hex digit");
    is_int(parse("%7b%22distinct_id%22%3a%22a%22%7d"), POSTHOG_JSCOOKIE_OK,
           "lower-case hex is fine");
    is_int(parse("{\"distinct_id\":\"a\"}"), POSTHOG_JSCOOKIE_OK,
           "unencoded JSON is fine (decodeURIComponent leaves it)");
    is_int(parse(enc("{\"distinct_id\":\"a\\u00e9\\ud83d\\ude00\"}")),
           POSTHOG_JSCOOKIE_OK, "escaped BMP and astral characters");
    is_mem(jc.id, jc.id_len, "a\xc3\xa9\xf0\x9f\x98\x80", 7,
           "decoded to UTF-8");

    /* size and depth */

    memset(buf, 'a', sizeof(buf));
    is_int(posthog_jscookie_parse(&jc, (unsigned char *) buf,
                                  POSTHOG_JSCOOKIE_MAX + 1),
           POSTHOG_JSCOOKIE_TOO_LONG, "over the maximum length");

    strcpy(buf, "{\"distinct_id\":\"a\",\"x\":");
    for (i = 0; i < POSTHOG_JSCOOKIE_DEPTH; i++) {
        strcat(buf, "[");
    }
    for (i = 0; i < POSTHOG_JSCOOKIE_DEPTH; i++) {
        strcat(buf, "]");
    }
    strcat(buf, "}");
    is_int(penc(buf), POSTHOG_JSCOOKIE_TOO_DEEP, "nested too deep");

    strcpy(buf, "{\"distinct_id\":\"a\",\"x\":");
    for (i = 0; i < POSTHOG_JSCOOKIE_DEPTH - 1; i++) {
        strcat(buf, "[");
    }
    for (i = 0; i < POSTHOG_JSCOOKIE_DEPTH - 1; i++) {
        strcat(buf, "]");
    }
    strcat(buf, "}");
    is_int(penc(buf), POSTHOG_JSCOOKIE_OK, "nested just deep enough");

    /* an id of 201 characters: refused, never cut to 200 */

    strcpy(buf, "{\"distinct_id\":\"");
    memset(buf + strlen(buf), 'x', 201);
    strcpy(buf + 16 + 201, "\"}");
    is_int(penc(buf), POSTHOG_JSCOOKIE_BAD_ID, "an id of 201 characters");

    /* one of 800 bytes of escapes decoding past POSTHOG_ID_MAX */

    strcpy(buf, "{\"distinct_id\":\"");
    for (i = 0; i < 300; i++) {
        strcat(buf, "\\u00e9");
    }
    strcat(buf, "\"}");
    is_int(penc(buf), POSTHOG_JSCOOKIE_BAD_ID, "an id of 300 characters");

    /* fields we can do without */

    is_int(penc("{\"distinct_id\":\"a\",\"$device_id\":\"dev-1\"}"),
           POSTHOG_JSCOOKIE_OK, "a device id not a UUID: cookie kept");
    ok(!jc.has_device, "... without the device id");

    is_int(penc("{\"distinct_id\":\"a\",\"$sesid\":[]}"),
           POSTHOG_JSCOOKIE_OK, "an empty $sesid");
    ok(!jc.has_session, "... no session");

    is_int(penc("{\"distinct_id\":\"a\",\"$sesid\":[3,\"" SID1 "\",1],"
                "\"$client_session_props\":{\"sessionId\":\"" SID2 "\","
                "\"props\":{\"r\":\"$direct\",\"u\":\"http://x/\"}}}"),
           POSTHOG_JSCOOKIE_OK, "entry of another session");
    ok(jc.has_session && !jc.has_entry, "... is not this one's");

    is_int(penc("{\"distinct_id\":\"a\",\"$client_session_props\":7}"),
           POSTHOG_JSCOOKIE_OK, "$client_session_props of a wrong type");
    ok(!jc.has_entry, "... no entry");
}


/* "got" must contain the encoding of "json" as found in posthog-js's */

static void
has(const unsigned char *got, size_t len, const char *raw_part,
    const char *what)
{
    ok(contains(got, len, raw_part), "written: %s", what);
}


static void
writer(void)
{
    size_t                  n;
    unsigned char           out[POSTHOG_JSCOOKIE_MAX];
    posthog_jscookie_t      keep;
    posthog_jscookie_out_t  o;

    static const char  first[] =
        "{\"distinct_id\":\"" DEV "\",\"$device_id\":\"" DEV "\","
        "\"$user_state\":\"anonymous\"}";

    memset(&o, 0, sizeof(o));
    o.id = (const unsigned char *) DEV;
    o.id_len = 36;
    o.device = (const unsigned char *) DEV;

    n = posthog_jscookie_encode(out, sizeof(out), &o);
    is_mem(out, n, enc(first), strlen(enc(first)),
           "first visit, no session: byte for byte");

    /* the home step's members as posthog-js encoded them */

    o.session = (const unsigned char *) SID1;
    o.session_last = 1795896993327ULL;
    o.session_start = 1795896993327ULL;
    o.entry_ref = (const unsigned char *) "$direct";
    o.entry_ref_len = 7;
    o.entry_url = (const unsigned char *) "http://127.0.0.1:38159/p/home";
    o.entry_url_len = 29;
    o.initial_ref = o.entry_ref;
    o.initial_ref_len = 7;
    o.initial_url = o.entry_url;
    o.initial_url_len = 29;

    n = posthog_jscookie_encode(out, sizeof(out), &o);
    ok(n > 0, "home: written");
    has(out, n, "%22distinct_id%22%3A%2201a223cd-6619-7435-92fa-8223dd7d142d"
        "%22%2C%22%24device_id%22%3A%2201a223cd-6619-7435-92fa-8223dd7d142d"
        "%22%2C%22%24user_state%22%3A%22anonymous%22%2C", "home: ids");
    has(out, n, "%22%24initial_person_info%22%3A%7B%22r%22%3A%22%24direct"
        "%22%2C%22u%22%3A%22http%3A%2F%2F127.0.0.1%3A38159%2Fp%2Fhome%22%7D",
        "home: $initial_person_info");
    has(out, n, "%22%24sesid%22%3A%5B1795896993327%2C%2201a223cd-6651-7801-"
        "9831-549595e209d0%22%2C1795896993327%5D%2C%22%24client_session_"
        "props%22%3A%7B%22sessionId%22%3A%2201a223cd-6651-7801-9831-549595"
        "e209d0%22%2C%22props%22%3A%7B%22r%22%3A%22%24direct%22%2C%22u%22"
        "%3A%22http%3A%2F%2F127.0.0.1%3A38159%2Fp%2Fhome%22%7D%7D",
        "home: $sesid and $client_session_props");

    is_int(posthog_jscookie_parse(&jc, out, n), POSTHOG_JSCOOKIE_OK,
           "home: read back");
    ok(jc.has_session && jc.session_last == 1795896993327ULL
       && jc.has_entry && jc.user_state == POSTHOG_JSCOOKIE_ANONYMOUS,
       "home: read back field by field");

    /* identify, keeping posthog-js's other members */

    is_int(posthog_jscookie_parse(&keep, (const unsigned char *) RAW_HOME,
                                  strlen(RAW_HOME)),
           POSTHOG_JSCOOKIE_OK, "the home cookie to update");

    o.id = (const unsigned char *) "user-42";
    o.id_len = 7;
    o.identified = 1;
    o.initial_url = NULL;
    o.session_last = 1795896997058ULL;
    o.keep = &keep;

    n = posthog_jscookie_encode(out, sizeof(out), &o);
    ok(n > 0, "identify: written");
    has(out, n, "%22distinct_id%22%3A%22user-42%22", "identify: distinct_id");
    has(out, n, "%22%24user_state%22%3A%22identified%22",
        "identify: $user_state");
    has(out, n, "%22%24epp%22%3Atrue%2C%22%24user_id%22%3A%22user-42%22",
        "identify: $epp and $user_id");
    has(out, n, "%22%24capture_rate_limit%22%3A%7B%22tokens%22%3A99%2C%22"
        "last%22%3A1795896993321%7D", "identify: posthog-js's member kept");
    has(out, n, "%22%24initial_person_info%22%3A%7B%22r%22%3A%22%24direct",
        "identify: posthog-js's first touch kept");

    is_int(posthog_jscookie_parse(&jc, out, n), POSTHOG_JSCOOKIE_OK,
           "identify: read back");
    is_mem(jc.id, jc.id_len, "user-42", 7, "identify: read back id");
    is_int(jc.user_state, POSTHOG_JSCOOKIE_IDENTIFIED,
           "identify: read back state");

    /* reset: a new anonymous id and session, posthog-js's members gone */

    o.id = (const unsigned char *) ANON2;
    o.id_len = 36;
    o.identified = 0;
    o.session = (const unsigned char *) SID2;
    o.session_last = 1795897000774ULL;
    o.session_start = 1795897000774ULL;
    o.entry_url = (const unsigned char *)
                  "http://127.0.0.1:38159/p/logout?act=logout";
    o.entry_url_len = 42;
    o.reset = 1795897000767ULL;
    o.keep = NULL;

    n = posthog_jscookie_encode(out, sizeof(out), &o);
    ok(n > 0, "reset: written");
    has(out, n, "%22%24last_posthog_reset%22%3A%222026-11-28T20%3A16%3A"
        "40.767Z%22", "reset: $last_posthog_reset as posthog-js's");
    ok(!contains(out, n, "user_id") && !contains(out, n, "epp"),
       "reset: no $user_id, $epp");
    has(out, n, "%22%24sesid%22%3A%5B1795897000774%2C%2201a223cd-8349-7740-"
        "b795-66a9f81a4274%22%2C1795897000774%5D", "reset: $sesid");

    /* encodeURIComponent's exact set, and JSON.stringify's escapes */

    memset(&o, 0, sizeof(o));
    o.id = (const unsigned char *) "a b/\xc3\xa9!~*'()-_.\"\\;,+=%";
    o.id_len = strlen((const char *) o.id);
    o.device = (const unsigned char *) DEV;

    n = posthog_jscookie_encode(out, sizeof(out), &o);
    has(out, n, "%22distinct_id%22%3A%22a%20b%2F%C3%A9!~*'()-_.%5C%22%5C%5C"
        "%3B%2C%2B%3D%25%22", "special characters as posthog-js would");

    is_int(posthog_jscookie_parse(&jc, out, n), POSTHOG_JSCOOKIE_OK,
           "special characters: read back");
    is_mem(jc.id, jc.id_len, o.id, o.id_len, "special characters: same id");

    /* refusals */

    o.id = (const unsigned char *) "null";
    o.id_len = 4;
    is_int(posthog_jscookie_encode(out, sizeof(out), &o), 0,
           "a refused id is not written");

    o.id = (const unsigned char *) DEV;
    o.id_len = 36;
    is_int(posthog_jscookie_encode(out, 40, &o), 0, "too small a buffer");

    o.device = (const unsigned char *) "not-a-uuid-not-a-uuid-not-a-uuid-xxx";
    is_int(posthog_jscookie_encode(out, sizeof(out), &o), 0,
           "a bad device id is not written");
}


static void
names(void)
{
    size_t         n;
    unsigned char  out[64];

    n = posthog_jscookie_name(out, (const unsigned char *) "phc_reference",
                              13);
    is_mem(out, n, "ph_phc_reference_posthog", 24, "name of a plain token");

    n = posthog_jscookie_name(out, (const unsigned char *) "a+b/c=", 6);
    is_mem(out, n, "ph_aPLbSLcEQ_posthog", 20, "name with + / =");
}


int
main(void)
{
    vectors();
    hostile();
    writer();
    names();

    return done_testing();
}
