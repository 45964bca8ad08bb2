/*
 * The identity cookie codec, and base64url under it: round trips,
 * golden signed values, tampering, truncation, every refusal.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "posthog_state.h"
#include "posthog_utf8.h"

#define KEY      key
#define NOKEY    NULL
#define ANON     "018f3e1c-7a2b-7c3d-8e4f-5a6b7c8d9e0f"
#define DEV      "018f3e1c-0000-7000-8000-000000000001"
#define SID      "018f3e1c-7a2b-7c3d-9e4f-5a6b7c8d9e10"
#define SIG43    "UqVhfeHkOxv1toRFT__rN08HErfj49dvgT0ZW92tUrc"

/* computed with Python's hmac module (key: "secret-key", context
 * "phc_test\0ph_anon"): the cookie format is an interface, a change here
 * must be deliberate */
#define FIRST_REF  "$direct"
#define FIRST_URL  "https://example.com/?utm_source=x"
#define ENTRY_REF  "https://ref.example/"
#define ENTRY_URL  "https://example.com/p"
#define FIRST_B64  "JGRpcmVjdABodHRwczovL2V4YW1wbGUuY29tLz91dG1fc291cmNlPXg"
#define ENTRY_B64  "aHR0cHM6Ly9yZWYuZXhhbXBsZS8AaHR0cHM6Ly9leGFtcGxlLmNvbS9w"
#define GOLDEN_FULL                                                          \
    ANON "." DEV ".YWxpY2VAZXhhbXBsZS5jb20." SID ".1717000000.1717000123."  \
    "1717000000." FIRST_B64 "." ENTRY_B64                                   \
    ".nRrC7OR8BVEItvPz7ayx--rMdRp_UWxJKT7EefN4F-M"
#define GOLDEN_ANON                                                          \
    ANON ".........z9KWWRVXAFOZu86GGSC9Mk3ht3zX0bzdYFYBBNaKaCA"
#define CTX        "phc_test\0ph_anon"


/* "secret-key" and keys one byte off it */
static posthog_state_key_t  *key, *key_z, *key_long, *key_short;
/* "secret-key" for another project, and for another cookie name */
static posthog_state_key_t  *key_project, *key_name;


static posthog_state_key_t *
key_ctx(const char *k, const char *ctx, size_t ctx_len)
{
    posthog_state_key_t  *sk;

    sk = posthog_state_key_new((const unsigned char *) k, strlen(k),
                               (const unsigned char *) ctx, ctx_len);

    if (sk == NULL) {
        diag("posthog_state_key_new(\"%s\") failed", k);
        exit(1);
    }

    return sk;
}

#define key_new(k)  key_ctx(k, CTX, sizeof(CTX) - 1)


/* decoded, and FIRST checked as the module does before using it */

static int
decf(posthog_state_t *st, const unsigned char *p, size_t len,
    posthog_state_key_t *k)
{
    int  rc;

    rc = posthog_state_decode(st, p, len, k);

    return rc == POSTHOG_STATE_OK ? posthog_state_first(st) : rc;
}


static int
dec(posthog_state_t *st, const char *s, size_t len, posthog_state_key_t *k)
{
    return decf(st, (const unsigned char *) s, len, k);
}

#define D(st, s, k)  dec(st, s, sizeof(s) - 1, k)


static void
touch_set(posthog_touch_t *t, const char *ref, const char *url)
{
    t->ref_len = strlen(ref);
    memcpy(t->ref, ref, t->ref_len);
    t->url_len = strlen(url);
    memcpy(t->url, url, t->url_len);
}


static void
state_init(posthog_state_t *st, int device, int user, int session)
{
    memset(st, 0, sizeof(posthog_state_t));
    memcpy(st->anon, ANON, 36);
    memcpy(st->device, device ? DEV : ANON, 36);

    if (user) {
        st->user_len = 17;
        memcpy(st->user, "alice@example.com", 17);
    }

    if (session) {
        memcpy(st->session, SID, 36);
        st->session_start = 1717000000;
        st->session_last = 1717000123;
    }
}


/* the v2 fields: issue time, first touch, entry page (with a session) */

static void
state_v2(posthog_state_t *st)
{
    st->issued = 1717000000;
    touch_set(&st->first, FIRST_REF, FIRST_URL);

    if (st->session_start) {
        touch_set(&st->entry, ENTRY_REF, ENTRY_URL);
    }
}


static void
touch_copy(const char *src, size_t max, const char *exp)
{
    size_t         n;
    unsigned char  out[256];

    n = posthog_touch_copy(out, max, (const unsigned char *) src,
                           strlen(src));

    tap_is_mem(out, n, exp, strlen(exp), __FILE__, __LINE__,
               "touch copy of '%s' in %zu", src, max);
}


static int
state_eq(const posthog_state_t *a, const posthog_state_t *b)
{
    posthog_state_t  ca, cb;

    /* as used: FIRST checked (a malformed one is dropped) */

    posthog_state_copy(&ca, a);
    posthog_state_copy(&cb, b);
    posthog_state_first(&ca);
    posthog_state_first(&cb);

    return posthog_state_equal(&ca, &cb);
}


static void
test_base64url(void)
{
    int             bad;
    size_t          i, n, len, dlen;
    unsigned char   src[64], enc[128], enc2[128], dst[64];

    static const char  *vec[][2] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
        { "foobar", "Zm9vYmFy" }, { "\xfb\xff", "-_8" },
        { "\xff\xff\xff", "____" }, { "\0", "AA" }
    };

    static const char  *bad_in[] = {
        "Zg=", "Zg==", "Z", "Zm9vY", "Zh", "Zm9", "Zm+v", "Zm/v",
        "Zm9v\n", " Zm9", "Zm 9", "Zm.9", "Zm9v\xc3\xa9"
    };

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        len = strlen(vec[i][0]) + (i == 9);
        n = posthog_base64url_encode(enc, (const unsigned char *) vec[i][0],
                                     len);
        is_mem(enc, n, vec[i][1], strlen(vec[i][1]), "base64url encode %s",
               vec[i][1]);
        ok(n == posthog_base64url_encoded_len(len), "encoded_len %s",
           vec[i][1]);

        ok(posthog_base64url_decode(dst, &dlen,
                                    (const unsigned char *) vec[i][1],
                                    strlen(vec[i][1])) == 0
           && dlen == len && memcmp(dst, vec[i][0], len) == 0
           && dlen == posthog_base64url_decoded_len(strlen(vec[i][1])),
           "base64url decode %s", vec[i][1]);
    }

    for (i = 0; i < sizeof(bad_in) / sizeof(bad_in[0]); i++) {
        ok(posthog_base64url_decode(dst, &dlen,
                                    (const unsigned char *) bad_in[i],
                                    strlen(bad_in[i])) == -1,
           "base64url refuses bad input %zu", i);
    }

    bad = 0;

    for (i = 0; i < 20000; i++) {
        len = tap_rand() % sizeof(src);

        for (n = 0; n < len; n++) {
            src[n] = (unsigned char) tap_rand();
        }

        n = posthog_base64url_encode(enc, src, len);

        if (posthog_base64url_decode(dst, &dlen, enc, n) != 0
            || dlen != len || memcmp(dst, src, len) != 0)
        {
            bad++;
        }

        /* any other last character is refused: one encoding per value */

        if (n) {
            enc[n - 1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789-_"[tap_rand() % 64];

            if (posthog_base64url_decode(dst, &dlen, enc, n) == 0
                && dlen == len && memcmp(dst, src, len) == 0
                && posthog_base64url_encode(enc2, dst, dlen) == n
                && memcmp(enc2, enc, n) != 0)
            {
                bad++;
            }
        }
    }

    is_int(bad, 0, "base64url: 20000 random round trips, canonical only");

    /* every byte value at every place of a group: the alphabet only */

    bad = 0;

    for (i = 0; i < 256 * 4; i++) {
        unsigned char  in[4];
        const char    *alpha, *c;

        alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789-_";
        memcpy(in, "AAAA", 4);
        in[i % 4] = (unsigned char) (i / 4);
        c = (i / 4 != 0) ? strchr(alpha, (int) (i / 4)) : NULL;

        if ((posthog_base64url_decode(dst, &dlen, in, 4) == 0) != (c != NULL)
            || (c != NULL
                && (dlen != 3
                    || (((uint32_t) dst[0] << 16 | dst[1] << 8 | dst[2])
                        != (uint32_t) (c - alpha) << (18 - 6 * (i % 4))))))
        {
            bad++;
        }
    }

    is_int(bad, 0, "base64url: each byte value at each place of a group");
}


/* every single-byte change and every cut of a signed value is refused */

static void
tamper(const unsigned char *v, size_t len, const char *name)
{
    int              bad, rc;
    size_t           i, k;
    unsigned char    buf[POSTHOG_STATE_MAX_LEN + 2];
    posthog_state_t  st;

    static const unsigned char  subst[] = {
        '0', '1', '7', '8', 'a', 'f', 'A', '-', '_', '.', 'z', 0x00, 0x80
    };

    bad = 0;

    for (i = 0; i < len; i++) {
        for (k = 0; k < sizeof(subst) + 1; k++) {
            memcpy(buf, v, len);
            buf[i] = k < sizeof(subst) ? subst[k] : (unsigned char) (v[i] ^ 1);

            if (buf[i] == v[i]) {
                continue;
            }

            rc = posthog_state_decode(&st, buf, len, KEY);

            if (rc == POSTHOG_STATE_OK) {
                if (bad++ == 0) {
                    diag("byte %zu -> 0x%02x accepted", i, buf[i]);
                }
            }
        }
    }

    is_int(bad, 0, "%s: every changed byte refused", name);

    bad = 0;

    for (i = 0; i < len; i++) {
        if (posthog_state_decode(&st, v, i, KEY) == POSTHOG_STATE_OK) {
            bad++;
        }
    }

    is_int(bad, 0, "%s: every truncation refused", name);

    memcpy(buf, v, len);
    memcpy(buf + len, ".x", 2);
    is_int(posthog_state_decode(&st, buf, len + 2, KEY),
           POSTHOG_STATE_BAD_FORMAT, "%s: extra field refused", name);

    is_int(posthog_state_decode(&st, v, len, key_z),
           POSTHOG_STATE_BAD_SIG, "%s: wrong key refused", name);
    is_int(posthog_state_decode(&st, v, len, key_long),
           POSTHOG_STATE_BAD_SIG, "%s: longer key refused", name);
    is_int(posthog_state_decode(&st, v, len, key_short),
           POSTHOG_STATE_BAD_SIG, "%s: shorter key refused", name);

    /* the failed verifications left nothing behind in the key */

    is_int(posthog_state_decode(&st, v, len, KEY), POSTHOG_STATE_OK,
           "%s: still verifies after the refusals", name);
}


/* 1 if every byte is an RFC 6265 cookie-octet */

static int
cookie_ok(const unsigned char *p, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (p[i] < 0x21 || p[i] > 0x7e || p[i] == '"' || p[i] == ','
            || p[i] == ';' || p[i] == '\\')
        {
            return 0;
        }
    }

    return 1;
}


/*
 * posthog_state_decode()'s shortcut for the usual form answers exactly as
 * the generic parser: for valid values of every shape, and for each of
 * them with any one byte changed to a byte that matters to the grammar,
 * removed, doubled, or the value cut short.
 */

/* 1 if posthog_state_decode() answers as the generic parser for p */

static int
same_as_generic(const unsigned char *p, size_t len)
{
    int              a, b;
    posthog_state_t  st, st2;

    memset(&st, 0x5a, sizeof(st));
    memset(&st2, 0xa5, sizeof(st2));

    a = posthog_state_decode(&st, p, len, NOKEY);
    b = posthog_state_decode_generic(&st2, p, len, NOKEY);

    if (a != b || !posthog_state_equal(&st, &st2)) {
        diag("decode %d, generic %d: \"%.*s\"", a, b, (int) len, p);
        return 0;
    }

    return 1;
}


static void
test_usual_form(void)
{
    int              shape, bad, good;
    size_t           n, i, c;
    unsigned char    v[POSTHOG_STATE_MAX_LEN], w[POSTHOG_STATE_MAX_LEN + 1];
    posthog_state_t  st, st2;

    static const unsigned char  bytes[] = ".0179a-_Z=+ \x80";

    bad = 0;
    good = 0;

    for (shape = 0; shape < 16; shape++) {
        state_init(&st, shape & 1, shape & 2, shape & 4);
        state_v2(&st);

        if (!(shape & 4)) {
            st.entry.ref_len = 0;
            st.entry.url_len = 0;
        }

        if (shape & 8) {
            st.first.ref_len = 0;
            st.first.url_len = 0;
            st.issued = 0;
        }

        /* signed values too: read without a key, SIG is only checked */

        n = posthog_state_encode(v, &st, (shape & 2) ? KEY : NOKEY);

        good += (n != 0 && posthog_state_decode(&st2, v, n, NOKEY)
                           == POSTHOG_STATE_OK
                 && posthog_state_first(&st2) == POSTHOG_STATE_OK
                 && posthog_state_equal(&st, &st2));

        bad += !same_as_generic(v, n);

        for (i = 0; i < n; i++) {

            /* one byte changed */

            memcpy(w, v, n);

            for (c = 0; c < sizeof(bytes) - 1; c++) {
                w[i] = bytes[c];
                bad += !same_as_generic(w, n);
            }

            /* removed, doubled, cut */

            memcpy(w, v, i);
            memcpy(w + i, v + i + 1, n - i - 1);
            bad += !same_as_generic(w, n - 1);

            memcpy(w, v, i + 1);
            memcpy(w + i + 1, v + i, n - i);
            bad += !same_as_generic(w, n + 1);

            bad += !same_as_generic(v, i);
        }
    }

    is_int(good, 16, "the usual form, 16 shapes: decoded as encoded");
    is_int(bad, 0, "the usual form, and each off by a byte: decode answers "
           "as the generic parser");
}


/* a touch is base64url of REF NUL URL, whatever their lengths mod 3 */

static void
test_touch_lengths(void)
{
    int              bad;
    size_t           r, u, n, k, len;
    const char      *f;
    unsigned char    out[POSTHOG_STATE_MAX_LEN], cat[64], b64[128];
    posthog_state_t  st;

    bad = 0;

    for (r = 1; r <= 7; r++) {
        for (u = 0; u <= 7; u++) {
            state_init(&st, 0, 0, 0);
            memcpy(st.first.ref, "abcdefg", r);
            memcpy(st.first.url, "/pqrstu", u);
            st.first.ref_len = r;
            st.first.url_len = u;

            memcpy(cat, "abcdefg", r);
            cat[r] = '\0';
            memcpy(cat + r + 1, "/pqrstu", u);
            len = posthog_base64url_encode(b64, cat, r + 1 + u);

            /* ANON ... ISSUED "." FIRST "." */

            n = posthog_state_encode(out, &st, NOKEY);
            f = memchr(out + n - len - 3, '.', 3);

            if (n == 0 || f == NULL) {
                bad++;
                continue;
            }

            k = (size_t) ((const unsigned char *) f + 1 - out);

            if (n - k < len + 2 || memcmp(out + k, b64, len) != 0
                || out[k + len] != '.')
            {
                diag("ref %zu, url %zu: %.*s", r, u, (int) n, out);
                bad++;
            }
        }
    }

    is_int(bad, 0, "touches of every length mod 3 encode as REF NUL URL");
}


static void
test_roundtrips(void)
{
    int              d, u, s, v, sig, rc;
    size_t           n, len;
    unsigned char    out[POSTHOG_STATE_MAX_LEN];
    posthog_state_t  st, st2;
    char             name[64];

    for (sig = 0; sig < 2; sig++)
    for (d = 0; d < 2; d++)
    for (u = 0; u < 2; u++)
    for (s = 0; s < 2; s++)
    for (v = 0; v < 2; v++) {
        sprintf(name, "%s device=%d user=%d session=%d v2=%d",
                sig ? "signed" : "unsigned", d, u, s, v);

        state_init(&st, d, u, s);

        if (v) {
            state_v2(&st);
        }

        len = posthog_state_encoded_len(&st, sig);
        n = posthog_state_encode(out, &st, sig ? KEY : NOKEY);

        is_int(n, len, "%s: encoded_len exact", name);

        if (!sig && !d && !u && !s && !v) {
            is_mem(out, n, ANON, 36, "%s: short form", name);

        } else {
            ok(n > 36 && out[36] == '.', "%s: long form", name);
        }

        ok(cookie_ok(out, n), "%s: cookie-octets only", name);

        memset(&st2, 0xaa, sizeof(st2));
        rc = posthog_state_decode(&st2, out, n, sig ? KEY : NOKEY);
        ok(rc == POSTHOG_STATE_OK && state_eq(&st, &st2),
           "%s: decodes to the same state", name);

        memset(&st2, 0xaa, sizeof(st2));
        rc = posthog_state_decode(&st2, out, n, NOKEY);
        ok(rc == POSTHOG_STATE_OK && state_eq(&st, &st2),
           "%s: decodes without a key too", name);

        if (sig) {
            tamper(out, n, name);

        } else {
            is_int(posthog_state_decode(&st2, out, n, KEY),
                   POSTHOG_STATE_NO_SIG, "%s: refused with a key", name);
        }
    }
}


int
main(void)
{
    int              rc, i;
    size_t           n;
    unsigned char    out[POSTHOG_STATE_MAX_LEN + 16];
    unsigned char    big[POSTHOG_STATE_MAX_LEN + 16];
    posthog_state_t  st, st2, orig;

    key = key_new("secret-key");
    key_z = key_new("secret-kez");
    key_long = key_new("secret-key ");
    key_short = key_new("secret-ke");
    key_project = key_ctx("secret-key", "phc_other\0ph_anon", 18);
    key_name = key_ctx("secret-key", "phc_test\0ph_anon2", 18);

    test_base64url();
    test_roundtrips();
    test_usual_form();
    test_touch_lengths();

    /* golden values */

    state_init(&st, 1, 1, 1);
    state_v2(&st);
    n = posthog_state_encode(out, &st, KEY);
    is_mem(out, n, GOLDEN_FULL, sizeof(GOLDEN_FULL) - 1,
           "golden signed value, all fields");

    state_init(&st, 0, 0, 0);
    n = posthog_state_encode(out, &st, KEY);
    is_mem(out, n, GOLDEN_ANON, sizeof(GOLDEN_ANON) - 1,
           "golden signed value, anonymous only");

    state_init(&st, 1, 1, 1);
    state_v2(&st);
    ok(D(&st2, GOLDEN_FULL, KEY) == POSTHOG_STATE_OK && state_eq(&st, &st2),
       "golden value decodes");

    /* bound to the project and the cookie name */

    is_int(D(&st2, GOLDEN_FULL, key_project), POSTHOG_STATE_BAD_SIG,
           "signed for another api key: refused");
    is_int(D(&st2, GOLDEN_FULL, key_name), POSTHOG_STATE_BAD_SIG,
           "signed for another cookie name: refused");
    is_int(D(&st2, GOLDEN_ANON, key_project), POSTHOG_STATE_BAD_SIG,
           "anonymous, signed for another api key: refused");

    /* the longest state is POSTHOG_STATE_MAX_LEN */

    state_init(&st, 1, 0, 1);

    for (i = 0; i < POSTHOG_ID_MAX_CHARS; i++) {
        memcpy(st.user + 4 * i, "\xf0\x9f\x98\x80", 4);
    }

    st.user_len = POSTHOG_ID_MAX;
    st.session_start = POSTHOG_STATE_NUM_MAX;
    st.session_last = POSTHOG_STATE_NUM_MAX;
    st.issued = POSTHOG_STATE_NUM_MAX;
    memset(st.first.ref, 'r', POSTHOG_STATE_REF_MAX);
    st.first.ref_len = POSTHOG_STATE_REF_MAX;
    memset(st.first.url, 'u', POSTHOG_STATE_URL_MAX);
    st.first.url_len = POSTHOG_STATE_URL_MAX;
    st.entry = st.first;
    n = posthog_state_encode(out, &st, KEY);
    is_int(n, POSTHOG_STATE_MAX_LEN, "the longest state takes "
           "POSTHOG_STATE_MAX_LEN bytes");
    ok(D(&st2, "", KEY) != POSTHOG_STATE_OK, "empty value refused");
    rc = posthog_state_decode(&st2, out, n, KEY);
    ok(rc == POSTHOG_STATE_OK && state_eq(&st, &st2),
       "the longest state decodes");

    memset(big, 'a', sizeof(big));
    is_int(posthog_state_decode(&st2, big, POSTHOG_STATE_MAX_LEN + 1, NOKEY),
           POSTHOG_STATE_TOO_LONG, "one byte over the limit: too long");
    is_int(posthog_state_decode(&st2, big, POSTHOG_STATE_MAX_LEN + 1, KEY),
           POSTHOG_STATE_TOO_LONG, "too long, with a key");

    /* the length of a time, around the 10 digits of today's */

    {
        static const uint64_t  times[] = {
            1, 9, 10, 999999999, 1000000000, 1717000000, 9999999999ULL,
            10000000000ULL, POSTHOG_STATE_NUM_MAX
        };

        for (i = 0; i < (int) (sizeof(times) / sizeof(times[0])); i++) {
            state_init(&st, 1, 1, 1);
            st.issued = times[i];
            st.session_start = times[i];
            st.session_last = times[i];
            n = posthog_state_encode(out, &st, KEY);
            ok(n != 0 && n == posthog_state_encoded_len(&st, 1)
               && posthog_state_decode(&st2, out, n, KEY) == POSTHOG_STATE_OK
               && state_eq(&st, &st2),
               "time %llu: encoded_len exact, decodes back",
               (unsigned long long) times[i]);
        }
    }

    /* short form */

    state_init(&st, 0, 0, 0);
    ok(D(&st2, ANON, NOKEY) == POSTHOG_STATE_OK && state_eq(&st, &st2),
       "short form decodes, device = anon");
    is_int(D(&st2, ANON, KEY), POSTHOG_STATE_NO_SIG,
           "short form refused with a key");
    is_int(D(&st2, "018F3E1C-7A2B-7C3D-8E4F-5A6B7C8D9E0F", NOKEY),
           POSTHOG_STATE_BAD_UUID, "short form: upper case refused");
    is_int(D(&st2, "018f3e1c-7a2b-7c3d-8e4f-5a6b7c8d9e0g", NOKEY),
           POSTHOG_STATE_BAD_UUID, "short form: bad uuid");
    is_int(D(&st2, "018f3e1c-7a2b-7c3d-8e4f-5a6b7c8d9e0", NOKEY),
           POSTHOG_STATE_BAD_FORMAT, "short form: 35 bytes");
    is_int(D(&st2, "hello", NOKEY), POSTHOG_STATE_BAD_FORMAT, "garbage");
    is_int(D(&st2, "", NOKEY), POSTHOG_STATE_BAD_FORMAT, "empty");

    /* field counts */

    is_int(D(&st2, ANON ".", NOKEY), POSTHOG_STATE_BAD_FORMAT, "2 fields");
    is_int(D(&st2, ANON ".....", NOKEY), POSTHOG_STATE_BAD_FORMAT,
           "6 fields");
    is_int(D(&st2, ANON ".......", NOKEY), POSTHOG_STATE_BAD_FORMAT,
           "8 fields");
    is_int(D(&st2, ANON "........", NOKEY), POSTHOG_STATE_BAD_FORMAT,
           "9 fields");
    is_int(D(&st2, ANON ".........", NOKEY), POSTHOG_STATE_OK,
           "10 fields, all optional ones empty");
    is_int(D(&st2, ANON "..........", NOKEY), POSTHOG_STATE_BAD_FORMAT,
           "11 fields");
    is_int(D(&st2, ANON "......", NOKEY), POSTHOG_STATE_OK,
           "7 fields, all optional ones empty");
    is_int(D(&st2, "......", NOKEY), POSTHOG_STATE_BAD_UUID,
           "7 empty fields");

    /* uuids */

    is_int(D(&st2, ANON "." ANON ".....", NOKEY), POSTHOG_STATE_OK,
           "explicit DEV equal to ANON accepted");
    is_int(D(&st2, ANON ".x.....", NOKEY), POSTHOG_STATE_BAD_UUID,
           "bad DEV");
    is_int(D(&st2, "x." DEV ".....", NOKEY), POSTHOG_STATE_BAD_UUID,
           "bad ANON");
    is_int(D(&st2, ANON "...f47ac10b-58cc-4372-a567-0e02b2c3d479.1.2.",
             NOKEY), POSTHOG_STATE_BAD_UUID, "v4 session id refused");
    is_int(D(&st2, ANON "..." DEV ".1.2.", NOKEY), POSTHOG_STATE_OK,
           "v7 session id accepted");

    /* numbers and sessions */

    is_int(D(&st2, ANON "..." SID ".0.2.", NOKEY), POSTHOG_STATE_BAD_NUMBER,
           "START 0");
    is_int(D(&st2, ANON "..." SID ".01.2.", NOKEY), POSTHOG_STATE_BAD_NUMBER,
           "leading zero");
    is_int(D(&st2, ANON "..." SID ".1.1234567890123.", NOKEY),
           POSTHOG_STATE_BAD_NUMBER, "13 digits");
    is_int(D(&st2, ANON "..." SID ".1.999999999999.", NOKEY),
           POSTHOG_STATE_OK, "12 digits");
    is_int(D(&st2, ANON "..." SID ".1a.2.", NOKEY), POSTHOG_STATE_BAD_NUMBER,
           "non-digit");
    is_int(D(&st2, ANON "..." SID ".-1.2.", NOKEY), POSTHOG_STATE_BAD_NUMBER,
           "negative");
    is_int(D(&st2, ANON "..." SID ".+1.2.", NOKEY), POSTHOG_STATE_BAD_NUMBER,
           "plus sign");
    is_int(D(&st2, ANON "..." SID "...", NOKEY), POSTHOG_STATE_BAD_SESSION,
           "session id without times");
    is_int(D(&st2, ANON "....1.2.", NOKEY), POSTHOG_STATE_BAD_SESSION,
           "times without session id");
    is_int(D(&st2, ANON "..." SID ".1..", NOKEY), POSTHOG_STATE_BAD_SESSION,
           "LAST missing");

    ok(D(&st2, ANON "..." SID ".5.3.", NOKEY) == POSTHOG_STATE_OK
       && st2.session_start == 5 && st2.session_last == 3,
       "LAST before START is the caller's business");

    /* v2: issue time and touches */

    ok(D(&st2, ANON "......1717000000...", NOKEY) == POSTHOG_STATE_OK
       && st2.issued == 1717000000, "ISSUED decoded");
    is_int(D(&st2, ANON "......0...", NOKEY), POSTHOG_STATE_BAD_NUMBER,
           "ISSUED 0");
    is_int(D(&st2, ANON "......x...", NOKEY), POSTHOG_STATE_BAD_NUMBER,
           "ISSUED not a number");
    ok(D(&st2, ANON "......." FIRST_B64 "..", NOKEY) == POSTHOG_STATE_OK
       && st2.first.ref_len == sizeof(FIRST_REF) - 1
       && memcmp(st2.first.ref, FIRST_REF, st2.first.ref_len) == 0
       && st2.first.url_len == sizeof(FIRST_URL) - 1
       && memcmp(st2.first.url, FIRST_URL, st2.first.url_len) == 0,
       "FIRST decoded");
    is_int(D(&st2, ANON ".......AA..", NOKEY), POSTHOG_STATE_BAD_TOUCH,
           "FIRST of two empty strings refused (written as empty)");
    is_int(D(&st2, ANON ".......YWJj..", NOKEY), POSTHOG_STATE_BAD_TOUCH,
           "FIRST without the NUL refused");
    is_int(D(&st2, ANON ".......YQBiAGM..", NOKEY), POSTHOG_STATE_BAD_TOUCH,
           "FIRST with two NULs refused");
    is_int(D(&st2, ANON ".......YQBiCmM..", NOKEY), POSTHOG_STATE_BAD_TOUCH,
           "FIRST with a LF refused");
    is_int(D(&st2, ANON ".......YQBi_2M..", NOKEY), POSTHOG_STATE_BAD_TOUCH,
           "FIRST with invalid UTF-8 refused");
    is_int(D(&st2, ANON ".......YQBi=..", NOKEY), POSTHOG_STATE_BAD_TOUCH,
           "FIRST with bad base64url refused");
    is_int(D(&st2, ANON "........" ENTRY_B64 ".", NOKEY),
           POSTHOG_STATE_BAD_SESSION, "ENTRY without a session refused");
    ok(D(&st2, ANON "..." SID ".1.2..." ENTRY_B64 ".", NOKEY)
       == POSTHOG_STATE_OK && st2.entry.url_len == sizeof(ENTRY_URL) - 1,
       "ENTRY with a session decoded");

    /* ENTRY's memo (by session id) answers only for the very same text */

    ok(D(&st2, ANON "..." SID ".1.2..." ENTRY_B64 ".", NOKEY)
       == POSTHOG_STATE_OK && st2.entry.url_len == sizeof(ENTRY_URL) - 1
       && memcmp(st2.entry.url, ENTRY_URL, st2.entry.url_len) == 0
       && st2.entry.ref_len == sizeof(ENTRY_REF) - 1
       && memcmp(st2.entry.ref, ENTRY_REF, st2.entry.ref_len) == 0,
       "the same ENTRY again: the same touch");
    ok(D(&st2, ANON "..." SID ".1.2..." FIRST_B64 ".", NOKEY)
       == POSTHOG_STATE_OK && st2.entry.url_len == sizeof(FIRST_URL) - 1
       && memcmp(st2.entry.url, FIRST_URL, st2.entry.url_len) == 0
       && st2.entry.ref_len == sizeof(FIRST_REF) - 1
       && memcmp(st2.entry.ref, FIRST_REF, st2.entry.ref_len) == 0,
       "another ENTRY of the same session: its own touch");
    is_int(D(&st2, ANON "..." SID ".1.2..." "YQBiCmM" ".", NOKEY),
           POSTHOG_STATE_BAD_TOUCH,
           "a malformed ENTRY of a known session: refused");
    is_int(D(&st2, ANON "..." SID ".1.2..." "YQBiCmM" ".", NOKEY),
           POSTHOG_STATE_BAD_TOUCH, "and again (never kept)");
    ok(D(&st2, ANON "..." SID ".1.2..." FIRST_B64 ".", NOKEY)
       == POSTHOG_STATE_OK && st2.entry.url_len == sizeof(FIRST_URL) - 1
       && memcmp(st2.entry.url, FIRST_URL, st2.entry.url_len) == 0,
       "the good one still decodes");
    ok(D(&st2, ANON "..." SID ".1.2..." "JGRpcmVjdABodHRw" ".", NOKEY)
       == POSTHOG_STATE_OK && st2.entry.url_len == 4
       && memcmp(st2.entry.url, "http", 4) == 0,
       "a prefix of the kept text: its own touch");

    memset(out, 'a', POSTHOG_STATE_URL_MAX + 1);
    out[0] = '\0';
    memcpy(big, ANON ".......", 43);
    n = 43 + posthog_base64url_encode(big + 43, out,
                                      POSTHOG_STATE_URL_MAX + 1);
    memcpy(big + n, "..", 2);
    is_int(decf(&st2, big, n + 2, NOKEY), POSTHOG_STATE_OK,
           "FIRST with an empty referrer and a URL of the maximum length");
    n = 43 + posthog_base64url_encode(big + 43, out,
                                      POSTHOG_STATE_URL_MAX + 2);
    memcpy(big + n, "..", 2);
    is_int(decf(&st2, big, n + 2, NOKEY),
           POSTHOG_STATE_BAD_TOUCH, "FIRST with a URL one byte too long");

    /* FIRST is checked when used: a malformed one is dropped, not more */

    is_int(posthog_state_decode(&st2, big, n + 2, NOKEY), POSTHOG_STATE_OK,
           "a malformed FIRST is only kept by the decoder");
    ok(st2.first_text == big + 43 && st2.first_text_len == n - 43
       && st2.first.ref_len == 0 && st2.first.url_len == 0
       && memcmp(st2.anon, ANON, 36) == 0,
       "kept: its text, the touch empty, the rest decoded");
    is_int(posthog_state_encode(out, &st2, NOKEY), 0,
           "encode refuses a FIRST not yet checked");
    is_int(posthog_state_first(&st2), POSTHOG_STATE_BAD_TOUCH,
           "the check refuses it");
    ok(st2.first_text == NULL && st2.first_text_len == 0
       && st2.first.ref_len == 0 && st2.first.url_len == 0,
       "and drops it");
    is_int(posthog_state_first(&st2), POSTHOG_STATE_OK,
           "checked once: then a no-op");
    n = posthog_state_encode(out, &st2, NOKEY);
    is_mem(out, n, ANON, 36, "encoded without it");

    ok(D(&st2, ANON ".......YQBiCmM.." SIG43, NOKEY)
       == POSTHOG_STATE_BAD_TOUCH, "FIRST checked under a SIG too");

    memset(big, 'A', sizeof(big));
    memcpy(big, ANON ".......", 43);
    memcpy(big + 43 + POSTHOG_STATE_TOUCH_LEN + 1, "..", 2);
    is_int(posthog_state_decode(&st2, big, 43 + POSTHOG_STATE_TOUCH_LEN + 3,
                                NOKEY),
           POSTHOG_STATE_BAD_TOUCH, "FIRST over its longest text refused "
           "by the decoder");

    /* user ids */

    ok(D(&st2, ANON "..YWxpY2U....", NOKEY) == POSTHOG_STATE_OK
       && st2.user_len == 5 && memcmp(st2.user, "alice", 5) == 0,
       "user id decoded");
    is_int(D(&st2, ANON "..YWxpY2U=....", NOKEY), POSTHOG_STATE_BAD_BASE64,
           "padding refused");
    is_int(D(&st2, ANON "..YWxpY2V....", NOKEY), POSTHOG_STATE_BAD_BASE64,
           "non-canonical trailing bits refused");
    is_int(D(&st2, ANON "..YWx+Y2U....", NOKEY), POSTHOG_STATE_BAD_BASE64,
           "'+' refused");
    is_int(D(&st2, ANON "..bnVsbA....", NOKEY), POSTHOG_STATE_BAD_USER,
           "user id null refused");
    is_int(D(&st2, ANON "..YW5vbnltb3Vz....", NOKEY),
           POSTHOG_STATE_BAD_USER, "user id anonymous refused");
    is_int(D(&st2, ANON "..J2d1ZXN0Jw....", NOKEY), POSTHOG_STATE_BAD_USER,
           "user id 'guest' refused");
    is_int(D(&st2, ANON "..IGFsaWNl....", NOKEY), POSTHOG_STATE_BAD_USER,
           "untrimmed user id refused");
    is_int(D(&st2, ANON "..YQpi....", NOKEY), POSTHOG_STATE_BAD_USER,
           "user id with LF refused");
    is_int(D(&st2, ANON "..Yf9i....", NOKEY), POSTHOG_STATE_BAD_USER,
           "user id with invalid UTF-8 refused");

    memset(out, 'a', 201);
    memcpy(big, ANON "..", 38);
    n = 38 + posthog_base64url_encode(big + 38, out, 201);
    memcpy(big + n, "....", 4);
    is_int(posthog_state_decode(&st2, big, n + 4, NOKEY),
           POSTHOG_STATE_BAD_USER, "201-character user id refused");

    n = 38 + posthog_base64url_encode(big + 38, out, 200);
    memcpy(big + n, "....", 4);
    is_int(posthog_state_decode(&st2, big, n + 4, NOKEY), POSTHOG_STATE_OK,
           "200-character user id accepted");

    memcpy(big, ANON "..", 38);
    memset(big + 38, 'A', 1068);
    memcpy(big + 38 + 1068, "....", 4);
    is_int(posthog_state_decode(&st2, big, 38 + 1068 + 4, NOKEY),
           POSTHOG_STATE_BAD_USER, "user id over POSTHOG_ID_MAX bytes");

    /* signatures */

    is_int(D(&st2, ANON "......", KEY), POSTHOG_STATE_NO_SIG,
           "empty SIG refused with a key");
    is_int(D(&st2, ANON "......abc", KEY), POSTHOG_STATE_BAD_SIG,
           "short SIG refused");
    is_int(D(&st2, ANON "......" SIG43, KEY), POSTHOG_STATE_BAD_SIG,
           "SIG of another value refused");
    is_int(D(&st2, ANON "......" SIG43, NOKEY), POSTHOG_STATE_OK,
           "without a key a well-formed SIG is ignored");
    is_int(D(&st2, ANON "......abc", NOKEY), POSTHOG_STATE_BAD_SIG,
           "without a key a malformed SIG is refused");
    is_int(D(&st2, ANON "......UqVhfeHkOxv1toRFT__rN08HErfj49dvgT0ZW92tUr+",
             NOKEY), POSTHOG_STATE_BAD_SIG, "SIG with '+' refused");
    is_int(D(&st2, ANON "......UqVhfeHkOxv1toRFT__rN08HErfj49dvgT0ZW92tUrd",
             NOKEY), POSTHOG_STATE_BAD_SIG,
           "SIG with non-canonical bits refused");
    ok(posthog_state_key_new((const unsigned char *) "secret-key", 0,
                             (const unsigned char *) CTX, sizeof(CTX) - 1)
       == NULL, "no key of length 0");
    posthog_state_key_free(NULL);

    /* a failed decode leaves the empty state, not half of one */

    memset(&orig, 0x5a, sizeof(orig));
    posthog_state_reset(&orig);
    ok(orig.user_len == 0 && orig.session_start == 0 && orig.issued == 0
       && orig.first.ref_len == 0 && orig.first.url_len == 0
       && orig.entry.ref_len == 0 && orig.entry.url_len == 0
       && orig.anon[0] == 0 && orig.session[35] == 0,
       "reset: no ids, times, user or touches");
    state_init(&st2, 1, 1, 1);
    state_v2(&st2);
    rc = D(&st2, ANON "..bnVsbA....", NOKEY);
    ok(rc != POSTHOG_STATE_OK && state_eq(&st2, &orig),
       "state emptied on failure");
    state_init(&st2, 1, 1, 1);
    state_v2(&st2);
    rc = D(&st2, ANON "..." SID ".1.2..." "JGRpcmVjdABodHRwOi8vYS8K" ".",
           NOKEY);
    ok(rc == POSTHOG_STATE_BAD_TOUCH && state_eq(&st2, &orig),
       "state emptied on a bad touch, after the fields before it");

    /* copy and compare: the used bytes only */

    state_init(&st, 1, 1, 1);
    state_v2(&st);
    memset(&st2, 0xaa, sizeof(st2));
    posthog_state_copy(&st2, &st);
    ok(state_eq(&st, &st2), "copy: the same state");
    st2.entry.url[st2.entry.url_len - 1] ^= 1;
    ok(!state_eq(&st, &st2), "a byte of the entry differs: not equal");
    posthog_state_copy(&st2, &st);
    st2.user[16] ^= 1;
    ok(!state_eq(&st, &st2), "a byte of the user differs: not equal");
    posthog_state_copy(&st2, &st);
    st2.first.url[sizeof(FIRST_URL) - 1] = 'x';
    ok(state_eq(&st, &st2), "a byte past a length: still equal");

    /* the encoder refuses what the decoder would */

    state_init(&st, 1, 1, 1);
    st.anon[0] = 'X';
    is_int(posthog_state_encode(out, &st, NOKEY), 0, "encode: bad anon");

    state_init(&st, 1, 1, 1);
    st.device[14] = '4';
    st.device[19] = 'c';
    is_int(posthog_state_encode(out, &st, NOKEY), 0, "encode: bad device");

    state_init(&st, 0, 0, 1);
    st.session[14] = '4';
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: non-v7 session");

    state_init(&st, 0, 0, 1);
    st.session_start = POSTHOG_STATE_NUM_MAX + 1;
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: start too large");

    state_init(&st, 0, 0, 1);
    st.session_last = 0;
    is_int(posthog_state_encode(out, &st, NOKEY), 0, "encode: last 0");

    state_init(&st, 0, 0, 0);
    memcpy(st.user, "null", 4);
    st.user_len = 4;
    is_int(posthog_state_encode(out, &st, NOKEY), 0, "encode: illegal user");

    memcpy(st.user, " bob", 4);
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: untrimmed user");

    st.user_len = POSTHOG_ID_MAX + 1;
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: user_len over POSTHOG_ID_MAX");

    state_init(&st, 0, 0, 0);
    memcpy(st.session, "garbage", 7);
    st.session_last = 77;
    n = posthog_state_encode(out, &st, NOKEY);
    is_mem(out, n, ANON, 36, "encode: session fields ignored without start");

    state_init(&st, 0, 0, 0);
    touch_set(&st.first, "$direct", "https://x/\x01");
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: control byte in a touch");
    touch_set(&st.first, "$direct", "https://x/\xff");
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: invalid UTF-8 in a touch");
    st.first.url_len = POSTHOG_STATE_URL_MAX + 1;
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: touch over its maximum");

    state_init(&st, 0, 0, 0);
    touch_set(&st.entry, "$direct", "https://x/");
    n = posthog_state_encode(out, &st, NOKEY);
    is_mem(out, n, ANON, 36, "encode: entry ignored without a session");

    /*
     * st.known: a bit spares the check of its own field only; decode and
     * reset set none, so a state from outside is checked whole.
     */

    state_init(&st, 0, 0, 1);
    st.known = POSTHOG_STATE_KNOWN_IDS | POSTHOG_STATE_KNOWN_FIRST
               | POSTHOG_STATE_KNOWN_ENTRY;
    st.session[14] = '4';
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: known ids and touches, non-v7 session still refused");

    state_init(&st, 1, 1, 1);
    st.known = POSTHOG_STATE_KNOWN_FIRST | POSTHOG_STATE_KNOWN_SESSION
               | POSTHOG_STATE_KNOWN_ENTRY;
    st.anon[0] = 'X';
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: known touches and session, bad anon still refused");

    state_init(&st, 0, 0, 1);
    st.known = POSTHOG_STATE_KNOWN_IDS | POSTHOG_STATE_KNOWN_SESSION
               | POSTHOG_STATE_KNOWN_ENTRY;
    touch_set(&st.first, "$direct", "https://x/\x01");
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: known entry, bad first touch still refused");

    state_init(&st, 0, 0, 1);
    st.known = POSTHOG_STATE_KNOWN_IDS | POSTHOG_STATE_KNOWN_FIRST;
    memcpy(st.user, "null", 4);
    st.user_len = 4;
    is_int(posthog_state_encode(out, &st, NOKEY), 0,
           "encode: every bit set, an illegal user still refused");

    state_init(&st, 1, 1, 1);
    n = posthog_state_encode(out, &st, NOKEY);
    ok(n != 0, "encode: a valid state");
    st.known = ~0u;
    is_int(posthog_state_decode(&st, out, n, NOKEY), POSTHOG_STATE_OK,
           "decode: the valid state");
    is_int(st.known, 0, "decode: no field known, all checked at encode");
    st.known = ~0u;
    posthog_state_reset(&st);
    is_int(st.known, 0, "reset: no field known");

    /* posthog_utf8_cut: never inside a character */

    is_int(posthog_utf8_cut((const unsigned char *) "abc", 3, 5), 3,
           "cut: shorter than max");
    is_int(posthog_utf8_cut((const unsigned char *) "abc", 3, 2), 2,
           "cut: ASCII");
    is_int(posthog_utf8_cut((const unsigned char *) "a\xc3" "\xa9", 3, 2), 1,
           "cut: not inside a 2-byte character");
    is_int(posthog_utf8_cut((const unsigned char *) "\xf0\x9f\x98\x80" "b",
                            5, 4), 4, "cut: after a 4-byte character");
    is_int(posthog_utf8_cut((const unsigned char *) "\xf0\x9f\x98\x80" "b",
                            5, 3), 0, "cut: not inside a 4-byte character");

    /* posthog_touch_copy: what the state's touches take */

    touch_copy("https://a.com/caf\xc3\xa9", 100, "https://a.com/caf\xc3\xa9");
    touch_copy("a\xff\x01" "b\x7f", 100, "a%FF%01b%7F");
    touch_copy("ab\xc3\xa9", 3, "ab");
    touch_copy("ab\xff", 4, "ab");
    touch_copy("\xed\xa0\x80", 100, "%ED%A0%80");
    /* runs of printable ASCII are copied 8 bytes at a time: cuts in them */
    touch_copy("abcdefghijklmnopqrstuvwxyz", 10, "abcdefghij");
    touch_copy("abcdefghijklmnop\x01xyz", 100, "abcdefghijklmnop%01xyz");
    touch_copy("abcdefghijklmnop\x01xyz", 17, "abcdefghijklmnop");
    touch_copy("abcdefghijklmnop\x01xyz", 19, "abcdefghijklmnop%01");
    touch_copy("abcdefgh\xc3\xa9ijklmnopq", 11, "abcdefgh\xc3\xa9i");
    touch_copy("abcdefgh\xc3\xa9ijklmnopq", 9, "abcdefgh");
    touch_copy("abcdefgh", 8, "abcdefgh");

    /* reasons */

    for (rc = POSTHOG_STATE_OK; rc >= POSTHOG_STATE_BAD_TOUCH; rc--) {
        ok(posthog_state_reason(rc)[0] != '\0'
           && strstr(posthog_state_reason(rc), "unknown") == NULL,
           "reason %d: %s", rc, posthog_state_reason(rc));
    }

    posthog_state_key_free(key);
    posthog_state_key_free(key_z);
    posthog_state_key_free(key_long);
    posthog_state_key_free(key_short);
    posthog_state_key_free(key_project);
    posthog_state_key_free(key_name);

    return done_testing();
}
