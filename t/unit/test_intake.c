/*
 * The shipper's intake: a stream entry's fields give one verdict. A good
 * entry (v 1, a token, one JSON object up to 900 KiB) is held with its
 * token and event; a bad one is dead-lettered with the reason the docs
 * list; a trimmed one is acknowledged; one of another shape is left
 * pending. The last of a repeated field counts, other fields are ignored.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "intake.h"


#define EV  "{\"event\":\"$pageview\",\"distinct_id\":\"a\"}"


/* fields as C strings; NULL: a non-string element (an integer, nil) */

static int
check(int shape, const char *const *f, size_t n, ph_intake_t *in)
{
    size_t       i;
    ph_str_t     kv[16];
    ph_rentry_t  e;

    for (i = 0; i < n; i++) {
        kv[i].p = f[i];
        kv[i].len = f[i] ? strlen(f[i]) : 0;
    }

    e.id.p = "1-1";
    e.id.len = 3;
    e.shape = shape;
    e.kv = kv;
    e.n = n;

    return ph_intake_check(&e, in);
}


static const struct {
    const char  *f[8];
    size_t       n;
    const char  *reason;        /* NULL: held */
    const char  *what;
} entries[] = {
    { { "v", "1", "t", "phc_a", "e", EV }, 6, NULL, "the module's entry" },
    { { "e", EV, "t", "phc_a", "v", "1" }, 6, NULL, "any order" },
    { { "v", "1", "t", "phc_a", "e", EV, "x", "y" }, 8, NULL,
      "another field is ignored" },
    { { "v", "1", "t", "phc_b", "t", "phc_a", "e", EV }, 8, NULL,
      "the last of a repeated field counts" },
    { { "v", "1", "t", "phc_a", "e", EV, "zz" }, 7, NULL,
      "a key without a value is ignored" },
    { { "t", "phc_a", "e", EV }, 4, "unknown_version", "no version" },
    { { "v", "2", "t", "phc_a", "e", EV }, 6, "unknown_version",
      "version 2" },
    { { "v", "", "t", "phc_a", "e", EV }, 6, "unknown_version",
      "an empty version" },
    { { "v", NULL, "t", "phc_a", "e", EV }, 6, "unknown_version",
      "a version that is no string" },
    { { "vv", "1", "t", "phc_a", "e", EV }, 6, "unknown_version",
      "a longer key is another field" },
    { { "v", "1", "e", EV }, 4, "missing_token", "no token" },
    { { "v", "1", "t", "", "e", EV }, 6, "missing_token", "an empty token" },
    { { "v", "1", "t", "phc a", "e", EV }, 6, "bad_token",
      "a token with a space" },
    { { "v", "1", "t", "phc_\"a", "e", EV }, 6, "bad_token",
      "a token with a quote" },
    { { "v", "1", "t", "phc_a" }, 4, "missing_event", "no event" },
    { { "v", "1", "t", "phc_a", "e", "" }, 6, "missing_event",
      "an empty event" },
    { { "v", "1", "t", "phc_a", "e", "[1]" }, 6, "not_a_json_object",
      "an array" },
    { { "v", "1", "t", "phc_a", "e", "{\"a\":1}],\"api_key\":\"x\"" }, 6,
      "not_a_json_object", "a batch rewrite" },
    { { "v", "1", "t", "phc_a", "e", "{\"a\":\"\xff\"}" }, 6,
      "not_a_json_object", "invalid UTF-8" },
};


int
main(void)
{
    int           i, rc;
    char         *big, tok[POSTHOG_STREAM_TOKEN_MAX + 2];
    const char   *f[6];
    ph_intake_t   in;

    for (i = 0; i < (int) (sizeof(entries) / sizeof(entries[0])); i++) {
        rc = check(PH_FIELDS_ARRAY, entries[i].f, entries[i].n, &in);

        if (entries[i].reason == NULL) {
            ok(rc == PH_INTAKE_HOLD && in.reason == NULL
               && in.t.len == 5 && memcmp(in.t.p, "phc_a", 5) == 0
               && in.e.len == strlen(EV) && memcmp(in.e.p, EV, in.e.len) == 0,
               "held: %s", entries[i].what);

        } else {
            ok(rc == PH_INTAKE_DEAD && in.reason
               && strcmp(in.reason, entries[i].reason) == 0,
               "dead-lettered as %s: %s", entries[i].reason,
               entries[i].what);
            if (in.reason && strcmp(in.reason, entries[i].reason) != 0) {
                diag("reason: %s", in.reason);
            }
        }
    }

    /* the limits of the contract */

    memset(tok, 'a', sizeof(tok));
    tok[POSTHOG_STREAM_TOKEN_MAX + 1] = '\0';
    f[0] = "v"; f[1] = "1"; f[2] = "t"; f[3] = tok; f[4] = "e"; f[5] = EV;
    rc = check(PH_FIELDS_ARRAY, f, 6, &in);
    ok(rc == PH_INTAKE_DEAD && strcmp(in.reason, "bad_token") == 0,
       "a token of %d bytes: bad_token", POSTHOG_STREAM_TOKEN_MAX + 1);

    tok[POSTHOG_STREAM_TOKEN_MAX] = '\0';
    ok(check(PH_FIELDS_ARRAY, f, 6, &in) == PH_INTAKE_HOLD,
       "a token of %d bytes: held", POSTHOG_STREAM_TOKEN_MAX);

    big = malloc(POSTHOG_STREAM_EVENT_MAX + 2);
    memset(big, ' ', POSTHOG_STREAM_EVENT_MAX + 1);
    big[0] = '{';
    big[POSTHOG_STREAM_EVENT_MAX - 1] = '}';
    big[POSTHOG_STREAM_EVENT_MAX] = '\0';
    f[3] = "phc_a";
    f[5] = big;
    ok(check(PH_FIELDS_ARRAY, f, 6, &in) == PH_INTAKE_HOLD,
       "an event of 900 KiB: held");

    big[POSTHOG_STREAM_EVENT_MAX] = ' ';
    big[POSTHOG_STREAM_EVENT_MAX + 1] = '\0';
    rc = check(PH_FIELDS_ARRAY, f, 6, &in);
    ok(rc == PH_INTAKE_DEAD && strcmp(in.reason, "too_large") == 0,
       "an event of 900 KiB and a byte: too_large");
    free(big);

    /* shapes */

    ok(check(PH_FIELDS_NIL, NULL, 0, &in) == PH_INTAKE_TRIMMED,
       "fields nil (trimmed): acknowledged");
    ok(check(PH_FIELDS_NONE, NULL, 0, &in) == PH_INTAKE_LEAVE
       && strcmp(in.reason, "no fields") == 0, "no fields: left pending");
    ok(check(PH_FIELDS_OTHER, NULL, 0, &in) == PH_INTAKE_LEAVE
       && strcmp(in.reason, "not an array") == 0,
       "fields not an array: left pending");
    ok(check(PH_FIELDS_ARRAY, NULL, 0, &in) == PH_INTAKE_DEAD
       && strcmp(in.reason, "unknown_version") == 0,
       "an empty array: unknown_version");

    return done_testing();
}
