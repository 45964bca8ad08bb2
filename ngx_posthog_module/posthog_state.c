/*
 * The identity cookie codec; the grammar is in posthog_state.h.
 */

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "posthog_state.h"
#include "posthog_utf8.h"


#define POSTHOG_STATE_MAC_PREFIX  "posthog-state-2:"
#define POSTHOG_STATE_KEY_PREFIX  "posthog-state-key-2:"
#define POSTHOG_STATE_FIELDS      10
#define POSTHOG_STATE_FIELDS_V1   7

#define posthog_state_uuid(dst, src)  memcpy(dst, src, POSTHOG_UUID_LEN)


/*
 * ENTRY's decoded bytes, kept by the session id: a returning visitor
 * sends the same ENTRY with every request of a session, and it is
 * decoded once, not per request.  A slot answers only for the very same
 * text (compared whole), and holds only what decoded and passed the
 * checks: a hit gives what decoding would.  Per process (each nginx
 * worker its own), not for concurrent use by two threads.
 */

#define POSTHOG_STATE_MEMO_SLOTS  64
#define POSTHOG_STATE_MEMO_TEXT   512     /* a longer ENTRY is not kept */

typedef struct {
    size_t         text_len;              /* 0: an empty slot */
    size_t         ref_len;
    size_t         url_len;
    unsigned char  text[POSTHOG_STATE_MEMO_TEXT];
    unsigned char  data[POSTHOG_STATE_MEMO_TEXT / 4 * 3];  /* REF NUL URL */
} posthog_state_memo_t;

static posthog_state_memo_t  posthog_state_memo[POSTHOG_STATE_MEMO_SLOTS];


struct posthog_state_key_s {
    EVP_MAC_CTX  *ctx;          /* HMAC-SHA256, keyed */
};


static int posthog_state_valid(const posthog_state_t *st, int same_device,
    int same_entry);
static int posthog_state_same_device(const posthog_state_t *st);
static int posthog_state_short(const posthog_state_t *st, int signed_,
    int same_device);
static size_t posthog_state_num_len(uint64_t n);
static unsigned char *posthog_state_num(unsigned char *p, uint64_t n);
static int posthog_state_parse_num(const unsigned char *p, size_t len,
    uint64_t *n);
static int posthog_state_mac(unsigned char *sig, const unsigned char *p,
    size_t len, posthog_state_key_t *key);
static int posthog_state_touch_valid(const posthog_touch_t *t);
static size_t posthog_state_touch_len(const posthog_touch_t *t);
static unsigned char *posthog_state_touch(unsigned char *p,
    const posthog_touch_t *t);
static int posthog_state_parse_touch(const unsigned char *p, size_t len,
    posthog_touch_t *t);
static int posthog_state_parse_entry(const unsigned char *p, size_t len,
    const unsigned char *sid, posthog_touch_t *t);
static int posthog_state_parse(posthog_state_t *st, const unsigned char *p,
    size_t len, posthog_state_key_t *key);
static int posthog_state_parse_usual(posthog_state_t *st,
    const unsigned char *p, size_t len);
static const unsigned char *posthog_state_usual_num(const unsigned char *p,
    const unsigned char *end, uint64_t *n);


posthog_state_key_t *
posthog_state_key_new(const unsigned char *secret, size_t len,
    const unsigned char *context, size_t context_len)
{
    int                   ok;
    size_t                mdlen;
    EVP_MAC              *mac;
    OSSL_PARAM            params[2];
    unsigned char         sub[EVP_MAX_MD_SIZE];
    posthog_state_key_t  *k;

    if (len == 0 || len > INT_MAX) {
        return NULL;
    }

    k = calloc(1, sizeof(posthog_state_key_t));
    if (k == NULL) {
        return NULL;
    }

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        free(k);
        return NULL;
    }

    /* the context holds its own reference to "mac" */

    k->ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    /* the context's own key, then keyed with it for good */

    ok = k->ctx != NULL
         && EVP_MAC_init(k->ctx, secret, len, params) == 1
         && EVP_MAC_update(k->ctx, (const unsigned char *)
                           POSTHOG_STATE_KEY_PREFIX,
                           sizeof(POSTHOG_STATE_KEY_PREFIX) - 1) == 1
         && EVP_MAC_update(k->ctx, context, context_len) == 1
         && EVP_MAC_final(k->ctx, sub, &mdlen, sizeof(sub)) == 1
         && EVP_MAC_init(k->ctx, sub, mdlen, params) == 1;

    OPENSSL_cleanse(sub, sizeof(sub));

    if (!ok) {
        posthog_state_key_free(k);
        return NULL;
    }

    return k;
}


void
posthog_state_key_free(posthog_state_key_t *key)
{
    if (key == NULL) {
        return;
    }

    EVP_MAC_CTX_free(key->ctx);
    free(key);
}


size_t
posthog_state_encoded_len(const posthog_state_t *st, int signed_)
{
    int     same_device;
    size_t  len;

    same_device = posthog_state_same_device(st);

    if (posthog_state_short(st, signed_, same_device)) {
        return POSTHOG_UUID_LEN;
    }

    len = POSTHOG_UUID_LEN + POSTHOG_STATE_FIELDS - 1;

    if (!same_device) {
        len += POSTHOG_UUID_LEN;
    }

    len += posthog_base64url_encoded_len(st->user_len);

    if (st->session_start) {
        len += POSTHOG_UUID_LEN + posthog_state_num_len(st->session_start)
               + posthog_state_num_len(st->session_last)
               + posthog_state_touch_len(&st->entry);
    }

    if (st->issued) {
        len += posthog_state_num_len(st->issued);
    }

    len += posthog_state_touch_len(&st->first) + st->first_text_len;

    if (signed_) {
        len += POSTHOG_STATE_SIG_LEN;
    }

    return len;
}


size_t
posthog_state_encode(unsigned char *out, const posthog_state_t *st,
    posthog_state_key_t *key)
{
    int             signed_, same_device, same_entry;
    size_t          n;
    unsigned char  *p, *mark;

    signed_ = (key != NULL);

    /* compared once: a new visitor's entry is its first touch */

    same_device = posthog_state_same_device(st);
    same_entry = st->session_start != 0
                 && posthog_state_touch_equal(&st->entry, &st->first);

    /* never write what posthog_state_decode() would refuse */

    if (!posthog_state_valid(st, same_device, same_entry)) {
        return 0;
    }

    posthog_state_uuid(out, st->anon);
    p = out + POSTHOG_UUID_LEN;

    if (posthog_state_short(st, signed_, same_device)) {
        return POSTHOG_UUID_LEN;
    }

    *p++ = '.';

    if (!same_device) {
        posthog_state_uuid(p, st->device);
        p += POSTHOG_UUID_LEN;
    }

    *p++ = '.';
    p += posthog_base64url_encode(p, st->user, st->user_len);
    *p++ = '.';

    if (st->session_start) {
        posthog_state_uuid(p, st->session);
        p += POSTHOG_UUID_LEN;
        *p++ = '.';
        mark = p;
        p = posthog_state_num(p, st->session_start);
        *p++ = '.';

        /* a new session's last activity is its start */

        if (st->session_last == st->session_start) {
            n = (size_t) (p - 1 - mark);
            memcpy(p, mark, n);
            p += n;

        } else {
            p = posthog_state_num(p, st->session_last);
        }

    } else {
        *p++ = '.';
        *p++ = '.';
    }

    *p++ = '.';

    if (st->issued) {
        p = posthog_state_num(p, st->issued);
    }

    *p++ = '.';
    mark = p;
    p = posthog_state_touch(p, &st->first);
    n = (size_t) (p - mark);
    *p++ = '.';

    if (st->session_start) {
        if (n && same_entry) {
            memcpy(p, mark, n);
            p += n;

        } else {
            p = posthog_state_touch(p, &st->entry);
        }
    }

    *p++ = '.';

    if (signed_) {
        if (posthog_state_mac(p, out, (size_t) (p - out) - 1, key) != 0) {
            return 0;
        }

        p += POSTHOG_STATE_SIG_LEN;
    }

    return (size_t) (p - out);
}


void
posthog_state_reset(posthog_state_t *st)
{
    /* the ids, times and lengths; the bytes past a length are never read */

    memset(st, 0, offsetof(posthog_state_t, user));

    st->first.ref_len = 0;
    st->first.url_len = 0;
    st->entry.ref_len = 0;
    st->entry.url_len = 0;
}


void
posthog_state_copy(posthog_state_t *dst, const posthog_state_t *src)
{
    memcpy(dst, src, offsetof(posthog_state_t, user));
    memcpy(dst->user, src->user, src->user_len);

    posthog_state_touch_copy(&dst->first, &src->first);
    posthog_state_touch_copy(&dst->entry, &src->entry);
}


int
posthog_state_equal(const posthog_state_t *a, const posthog_state_t *b)
{
    return memcmp(a->anon, b->anon, POSTHOG_UUID_LEN) == 0
           && memcmp(a->device, b->device, POSTHOG_UUID_LEN) == 0
           && memcmp(a->session, b->session, POSTHOG_UUID_LEN) == 0
           && a->session_start == b->session_start
           && a->session_last == b->session_last
           && a->issued == b->issued
           && a->user_len == b->user_len
           && memcmp(a->user, b->user, a->user_len) == 0
           && a->first_text_len == b->first_text_len
           && (a->first_text_len == 0
               || memcmp(a->first_text, b->first_text, a->first_text_len)
                  == 0)
           && posthog_state_touch_equal(&a->first, &b->first)
           && posthog_state_touch_equal(&a->entry, &b->entry);
}


void
posthog_state_touch_copy(posthog_touch_t *dst, const posthog_touch_t *src)
{
    dst->ref_len = src->ref_len;
    dst->url_len = src->url_len;
    memcpy(dst->ref, src->ref, src->ref_len);
    memcpy(dst->url, src->url, src->url_len);
}


int
posthog_state_touch_equal(const posthog_touch_t *a, const posthog_touch_t *b)
{
    return a->ref_len == b->ref_len && a->url_len == b->url_len
           && memcmp(a->ref, b->ref, a->ref_len) == 0
           && memcmp(a->url, b->url, a->url_len) == 0;
}


int
posthog_state_decode(posthog_state_t *st, const unsigned char *p,
    size_t len, posthog_state_key_t *key)
{
    /* in place: the state is ~2.6 KB, most of it unused */

    posthog_state_reset(st);

    /* unsigned (or verified before), the usual form: found field by field */

    if (key == NULL && posthog_state_parse_usual(st, p, len) == 0) {
        return POSTHOG_STATE_OK;
    }

    return posthog_state_decode_generic(st, p, len, key);
}


static int
posthog_state_parse(posthog_state_t *st, const unsigned char *p,
    size_t len, posthog_state_key_t *key)
{
    int                   signed_, session;
    size_t                nf, n, k, sf;
    size_t                fl[POSTHOG_STATE_FIELDS];
    const unsigned char  *f[POSTHOG_STATE_FIELDS], *q, *dot, *end;
    unsigned char         sig[POSTHOG_STATE_SIG_LEN];
    unsigned char         mac[32];

    signed_ = (key != NULL);

    if (len > POSTHOG_STATE_MAX_LEN) {
        return POSTHOG_STATE_TOO_LONG;
    }

    nf = 0;
    q = p;
    end = p + len;

    for ( ;; ) {
        if (nf == POSTHOG_STATE_FIELDS) {
            return POSTHOG_STATE_BAD_FORMAT;
        }

        f[nf] = q;

        /* an empty field, common (DEV, UID, ISSUED, SIG): no memchr() */

        if (q < end && *q == '.') {
            fl[nf++] = 0;
            q++;
            continue;
        }

        dot = memchr(q, '.', (size_t) (end - q));

        if (dot == NULL) {
            fl[nf++] = (size_t) (end - q);
            break;
        }

        fl[nf++] = (size_t) (dot - q);
        q = dot + 1;
    }

    if (nf == 1) {
        if (!posthog_uuid_valid(p, len)) {
            return len == POSTHOG_UUID_LEN ? POSTHOG_STATE_BAD_UUID
                                           : POSTHOG_STATE_BAD_FORMAT;
        }

        if (signed_) {
            return POSTHOG_STATE_NO_SIG;
        }

        posthog_state_uuid(st->anon, p);
        posthog_state_uuid(st->device, p);

        return POSTHOG_STATE_OK;
    }

    if (nf != POSTHOG_STATE_FIELDS && nf != POSTHOG_STATE_FIELDS_V1) {
        return POSTHOG_STATE_BAD_FORMAT;
    }

    sf = nf - 1;

    /* verify before parsing: with a key, only our own bytes get parsed */

    if (signed_) {
        if (fl[sf] == 0) {
            return POSTHOG_STATE_NO_SIG;
        }

        if (fl[sf] != POSTHOG_STATE_SIG_LEN) {
            return POSTHOG_STATE_BAD_SIG;
        }

        if (posthog_state_mac(sig, p, len - POSTHOG_STATE_SIG_LEN - 1, key)
            != 0)
        {
            return POSTHOG_STATE_ERROR;
        }

        if (CRYPTO_memcmp(sig, f[sf], POSTHOG_STATE_SIG_LEN) != 0) {
            return POSTHOG_STATE_BAD_SIG;
        }

    } else if (fl[sf] != 0) {
        if (fl[sf] != POSTHOG_STATE_SIG_LEN
            || posthog_base64url_decode(mac, &n, f[sf], fl[sf]) != 0)
        {
            return POSTHOG_STATE_BAD_SIG;
        }
    }

    if (!posthog_uuid_valid(f[0], fl[0])) {
        return POSTHOG_STATE_BAD_UUID;
    }

    posthog_state_uuid(st->anon, f[0]);

    if (fl[1] == 0) {
        posthog_state_uuid(st->device, f[0]);

    } else if (posthog_uuid_valid(f[1], fl[1])) {
        posthog_state_uuid(st->device, f[1]);

    } else {
        return POSTHOG_STATE_BAD_UUID;
    }

    /* a longer UID could not decode into st->user */

    if (fl[2] > posthog_base64url_encoded_len(POSTHOG_ID_MAX)) {
        return POSTHOG_STATE_BAD_USER;
    }

    if (posthog_base64url_decode(st->user, &st->user_len, f[2], fl[2]) != 0) {
        return POSTHOG_STATE_BAD_BASE64;
    }

    if (st->user_len
        && (posthog_id_check(st->user, st->user_len, &k, &n) != POSTHOG_ID_OK
            || k != 0 || n != st->user_len))
    {
        return POSTHOG_STATE_BAD_USER;
    }

    session = (fl[3] != 0) + (fl[4] != 0) + (fl[5] != 0);

    if (session == 3) {
        if (!posthog_uuid_v7_valid(f[3], fl[3])) {
            return POSTHOG_STATE_BAD_UUID;
        }

        if (posthog_state_parse_num(f[4], fl[4], &st->session_start) != 0
            || posthog_state_parse_num(f[5], fl[5], &st->session_last) != 0)
        {
            return POSTHOG_STATE_BAD_NUMBER;
        }

        posthog_state_uuid(st->session, f[3]);

    } else if (session != 0) {
        return POSTHOG_STATE_BAD_SESSION;
    }

    if (nf == POSTHOG_STATE_FIELDS) {
        if (fl[6] != 0
            && posthog_state_parse_num(f[6], fl[6], &st->issued) != 0)
        {
            return POSTHOG_STATE_BAD_NUMBER;
        }

        /* FIRST: checked when used, see posthog_state_first() */

        if (fl[7] > POSTHOG_STATE_TOUCH_LEN) {
            return POSTHOG_STATE_BAD_TOUCH;
        }

        if ((session ? posthog_state_parse_entry(f[8], fl[8], f[3],
                                                 &st->entry)
                     : posthog_state_parse_touch(f[8], fl[8], &st->entry))
            != 0)
        {
            return POSTHOG_STATE_BAD_TOUCH;
        }

        if (fl[7] != 0) {
            st->first_text = f[7];
            st->first_text_len = fl[7];
        }

        /* an entry page belongs to a session */

        if (fl[8] != 0 && session == 0) {
            return POSTHOG_STATE_BAD_SESSION;
        }
    }

    return POSTHOG_STATE_OK;
}


/*
 * The general parser: posthog_state_decode() without its shortcut for the
 * usual form, which it falls back to; the tests' reference.
 */

int
posthog_state_decode_generic(posthog_state_t *st, const unsigned char *p,
    size_t len, posthog_state_key_t *key)
{
    int  rc;

    posthog_state_reset(st);

    rc = posthog_state_parse(st, p, len, key);

    if (rc != POSTHOG_STATE_OK) {
        posthog_state_reset(st);
    }

    return rc;
}


/*
 * The form every cookie written since 0.2.0 has (ten fields), parsed in
 * the grammar's order, so that a field of known length (a UUID, an empty
 * field) is found by its length and a time by its digits: one memchr()
 * (FIRST's end) where splitting at every dot costs one per field.  ENTRY
 * and SIG are found from the value's end (SIG is "" or 43 characters).
 *
 * 0 with "st" filled exactly as posthog_state_parse() fills it, or -1
 * for anything else (another form, any doubt, any error): the caller
 * then parses the value again with posthog_state_parse(), which gives the
 * error's code.  So this accepts a subset of what posthog_state_parse()
 * accepts, never more (t/fuzz/fuzz_state.c compares the two).  Unsigned
 * only: with a key the MAC is checked before any field is parsed.
 */

static int
posthog_state_parse_usual(posthog_state_t *st, const unsigned char *p,
    size_t len)
{
    size_t                n, k, fl;
    const unsigned char  *q, *end, *dot, *sid, *ent;
    unsigned char         mac[32];

    /* ANON "." and 8 more dots at least: the short form goes the long way */

    if (len < POSTHOG_UUID_LEN + 9 || len > POSTHOG_STATE_MAX_LEN) {
        return -1;
    }

    end = p + len;

    /* SIG: "" or 43 characters after the last dot; ENTRY ends there */

    if (end[-1] == '.') {
        ent = end - 1;

    } else if (len > POSTHOG_STATE_SIG_LEN
               && end[-POSTHOG_STATE_SIG_LEN - 1] == '.'
               && posthog_base64url_decode(mac, &n, end - POSTHOG_STATE_SIG_LEN,
                                           POSTHOG_STATE_SIG_LEN) == 0)
    {
        ent = end - POSTHOG_STATE_SIG_LEN - 1;

    } else {
        return -1;
    }

    /* ANON "." */

    if (p[POSTHOG_UUID_LEN] != '.' || !posthog_uuid_valid(p, POSTHOG_UUID_LEN))
    {
        return -1;
    }

    posthog_state_uuid(st->anon, p);
    q = p + POSTHOG_UUID_LEN + 1;

    /* DEV "." */

    if (*q == '.') {
        posthog_state_uuid(st->device, p);
        q++;

    } else if (ent - q > POSTHOG_UUID_LEN && q[POSTHOG_UUID_LEN] == '.'
               && posthog_uuid_valid(q, POSTHOG_UUID_LEN))
    {
        posthog_state_uuid(st->device, q);
        q += POSTHOG_UUID_LEN + 1;

    } else {
        return -1;
    }

    /* UID "." (past ENTRY's end: not this form) */

    if (q >= ent) {
        return -1;
    }

    if (*q == '.') {
        q++;

    } else {
        dot = memchr(q, '.', (size_t) (ent - q));

        if (dot == NULL) {
            return -1;
        }

        fl = (size_t) (dot - q);

        if (fl > posthog_base64url_encoded_len(POSTHOG_ID_MAX)
            || posthog_base64url_decode(st->user, &st->user_len, q, fl) != 0
            || posthog_id_check(st->user, st->user_len, &k, &n)
               != POSTHOG_ID_OK
            || k != 0 || n != st->user_len)
        {
            return -1;
        }

        q = dot + 1;
    }

    /* SID "." START "." LAST ".", all three or none */

    sid = NULL;

    if (ent - q >= 3 && q[0] == '.' && q[1] == '.' && q[2] == '.') {
        q += 3;

    } else if (ent - q > POSTHOG_UUID_LEN && q[POSTHOG_UUID_LEN] == '.'
               && posthog_uuid_v7_valid(q, POSTHOG_UUID_LEN))
    {
        sid = q;
        q = posthog_state_usual_num(q + POSTHOG_UUID_LEN + 1, ent,
                                    &st->session_start);
        if (q == NULL) {
            return -1;
        }

        q = posthog_state_usual_num(q, ent, &st->session_last);
        if (q == NULL) {
            return -1;
        }

        posthog_state_uuid(st->session, sid);

    } else {
        return -1;
    }

    /* ISSUED "." */

    if (q < ent && *q == '.') {
        q++;

    } else {
        q = posthog_state_usual_num(q, ent, &st->issued);
        if (q == NULL) {
            return -1;
        }
    }

    /* FIRST ".", checked when used (see posthog_state_first()) */

    if (q < ent && *q == '.') {
        q++;

    } else {
        dot = memchr(q, '.', (size_t) (ent - q));

        if (dot == NULL || dot - q > POSTHOG_STATE_TOUCH_LEN) {
            return -1;
        }

        st->first_text = q;
        st->first_text_len = (size_t) (dot - q);
        q = dot + 1;
    }

    /*
     * ENTRY: up to the dot before SIG.  A dot in it (more fields than
     * ten) fails its base64url, and the memo holds decoded texts only.
     */

    if (q > ent) {
        return -1;
    }

    if (q == ent) {
        return 0;
    }

    if (sid == NULL) {
        return -1;      /* an entry page belongs to a session */
    }

    return posthog_state_parse_entry(q, (size_t) (ent - q), sid, &st->entry);
}


/* NUM ".": after the dot, or NULL */

static const unsigned char *
posthog_state_usual_num(const unsigned char *p, const unsigned char *end,
    uint64_t *n)
{
    unsigned              d;
    uint64_t              v;
    const unsigned char  *q, *last;

    if (p >= end || *p == '0') {
        return NULL;
    }

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

    /*
     * A time of these years: 10 digits, the first 8 checked and summed
     * as one word (the digits' low nibbles paired, then the pairs, then
     * the quads, by multiplications; a non-digit byte has a high nibble
     * other than 3 before or after adding 6).  Anything else, digit by
     * digit below.
     */

    if (end - p > 10 && p[10] == '.') {
        uint64_t  w;

        memcpy(&w, p, sizeof(uint64_t));

        if (((w & 0xf0f0f0f0f0f0f0f0ULL)
             | (((w + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) >> 4))
            == 0x3333333333333333ULL
            && (unsigned) p[8] - '0' <= 9 && (unsigned) p[9] - '0' <= 9)
        {
            w = ((w & 0x0f0f0f0f0f0f0f0fULL) * 2561) >> 8;
            w = ((w & 0x00ff00ff00ff00ffULL) * 6553601) >> 16;
            w = ((w & 0x0000ffff0000ffffULL) * 42949672960001ULL) >> 32;

            *n = w * 100 + (p[8] - '0') * 10 + (p[9] - '0');

            return p + 11;
        }
    }

#endif

    last = end - p > POSTHOG_STATE_NUM_LEN ? p + POSTHOG_STATE_NUM_LEN : end;
    v = 0;

    for (q = p; q < last; q++) {
        d = (unsigned) *q - '0';     /* a byte below '0' wraps over 9 */

        if (d > 9) {
            break;
        }

        v = v * 10 + d;
    }

    if (q == p || q == end || *q != '.') {
        return NULL;
    }

    *n = v;

    return q + 1;
}


int
posthog_state_first(posthog_state_t *st)
{
    size_t                len;
    const unsigned char  *p;

    if (st->first_text == NULL) {
        return POSTHOG_STATE_OK;
    }

    p = st->first_text;
    len = st->first_text_len;

    st->first_text = NULL;
    st->first_text_len = 0;

    /* left empty on failure */

    if (posthog_state_parse_touch(p, len, &st->first) != 0) {
        return POSTHOG_STATE_BAD_TOUCH;
    }

    return POSTHOG_STATE_OK;
}


const char *
posthog_state_reason(int rc)
{
    switch (rc) {
    case POSTHOG_STATE_OK:
        return "ok";
    case POSTHOG_STATE_TOO_LONG:
        return "state cookie too long";
    case POSTHOG_STATE_BAD_FORMAT:
        return "bad state cookie format";
    case POSTHOG_STATE_BAD_UUID:
        return "bad uuid in state cookie";
    case POSTHOG_STATE_BAD_BASE64:
        return "bad base64url in state cookie";
    case POSTHOG_STATE_BAD_USER:
        return "bad user id in state cookie";
    case POSTHOG_STATE_BAD_NUMBER:
        return "bad time in state cookie";
    case POSTHOG_STATE_BAD_SESSION:
        return "incomplete session in state cookie";
    case POSTHOG_STATE_NO_SIG:
        return "unsigned state cookie";
    case POSTHOG_STATE_BAD_SIG:
        return "bad state cookie signature";
    case POSTHOG_STATE_ERROR:
        return "state cookie signature failed";
    case POSTHOG_STATE_BAD_TOUCH:
        return "bad page in state cookie";
    }

    return "unknown state cookie error";
}


static int
posthog_state_valid(const posthog_state_t *st, int same_device,
    int same_entry)
{
    size_t  start, n;

    /* what the module made itself is not checked again (st->known) */

    if (!(st->known & POSTHOG_STATE_KNOWN_IDS)
        && (!posthog_uuid_valid(st->anon, POSTHOG_UUID_LEN)
            || (!same_device
                && !posthog_uuid_valid(st->device, POSTHOG_UUID_LEN))))
    {
        return 0;
    }

    if (st->user_len > POSTHOG_ID_MAX) {
        return 0;
    }

    if (st->user_len
        && (posthog_id_check(st->user, st->user_len, &start, &n)
            != POSTHOG_ID_OK
            || start != 0 || n != st->user_len))
    {
        return 0;
    }

    if (st->issued > POSTHOG_STATE_NUM_MAX || st->first_text != NULL
        || (!(st->known & POSTHOG_STATE_KNOWN_FIRST)
            && !posthog_state_touch_valid(&st->first)))
    {
        return 0;
    }

    if (st->session_start == 0) {
        return 1;
    }

    /* a new visitor's entry is its first touch: checked once */

    return (same_entry || (st->known & POSTHOG_STATE_KNOWN_ENTRY)
            || posthog_state_touch_valid(&st->entry))
           && st->session_start <= POSTHOG_STATE_NUM_MAX
           && st->session_last >= 1
           && st->session_last <= POSTHOG_STATE_NUM_MAX
           && ((st->known & POSTHOG_STATE_KNOWN_SESSION)
               || posthog_uuid_v7_valid(st->session, POSTHOG_UUID_LEN));
}


/* UTF-8 without control bytes (so no NUL, the separator), within bounds */

static int
posthog_state_touch_valid(const posthog_touch_t *t)
{
    return t->ref_len <= POSTHOG_STATE_REF_MAX
           && t->url_len <= POSTHOG_STATE_URL_MAX
           && posthog_utf8_text_valid(t->ref, t->ref_len)
           && posthog_utf8_text_valid(t->url, t->url_len);
}


static size_t
posthog_state_touch_len(const posthog_touch_t *t)
{
    if (t->ref_len == 0 && t->url_len == 0) {
        return 0;
    }

    return posthog_base64url_encoded_len(t->ref_len + 1 + t->url_len);
}


static unsigned char *
posthog_state_touch(unsigned char *p, const posthog_touch_t *t)
{
    unsigned char  buf[POSTHOG_STATE_REF_MAX + 1 + POSTHOG_STATE_URL_MAX];

    if (t->ref_len == 0 && t->url_len == 0) {
        return p;
    }

    memcpy(buf, t->ref, t->ref_len);
    buf[t->ref_len] = '\0';
    memcpy(buf + t->ref_len + 1, t->url, t->url_len);

    return p + posthog_base64url_encode(p, buf, t->ref_len + 1 + t->url_len);
}


static int
posthog_state_parse_touch(const unsigned char *p, size_t len,
    posthog_touch_t *t)
{
    size_t          n, ref_len, url_len;
    unsigned char  *nul;
    unsigned char   buf[POSTHOG_STATE_REF_MAX + 1 + POSTHOG_STATE_URL_MAX];

    if (len == 0) {
        return 0;
    }

    if (len > POSTHOG_STATE_TOUCH_LEN
        || posthog_base64url_decode(buf, &n, p, len) != 0)
    {
        return -1;
    }

    nul = memchr(buf, '\0', n);
    if (nul == NULL) {
        return -1;
    }

    ref_len = (size_t) (nul - buf);
    url_len = n - ref_len - 1;

    /* "\0" alone would encode as "AA", never written: one text per value */

    if (ref_len > POSTHOG_STATE_REF_MAX || url_len > POSTHOG_STATE_URL_MAX
        || (ref_len == 0 && url_len == 0)
        || !posthog_utf8_text_valid(buf, ref_len)
        || !posthog_utf8_text_valid(nul + 1, url_len))
    {
        return -1;
    }

    memcpy(t->ref, buf, ref_len);
    memcpy(t->url, nul + 1, url_len);
    t->ref_len = ref_len;
    t->url_len = url_len;

    return 0;
}


/* ENTRY of the session "sid" (a checked UUID), through the memo */

static int
posthog_state_parse_entry(const unsigned char *p, size_t len,
    const unsigned char *sid, posthog_touch_t *t)
{
    posthog_state_memo_t  *m;

    if (len == 0 || len > POSTHOG_STATE_MEMO_TEXT) {
        return posthog_state_parse_touch(p, len, t);
    }

    /* the last hex digits of the id are random */

    m = &posthog_state_memo[(sid[35] + 16u * sid[34] + 7u * sid[33])
                            % POSTHOG_STATE_MEMO_SLOTS];

    if (m->text_len == len && memcmp(m->text, p, len) == 0) {
        memcpy(t->ref, m->data, m->ref_len);
        memcpy(t->url, m->data + m->ref_len + 1, m->url_len);
        t->ref_len = m->ref_len;
        t->url_len = m->url_len;
        return 0;
    }

    if (posthog_state_parse_touch(p, len, t) != 0) {
        return -1;
    }

    /* fits: 512 characters decode to 384 bytes at most */

    m->text_len = len;
    m->ref_len = t->ref_len;
    m->url_len = t->url_len;
    memcpy(m->text, p, len);
    memcpy(m->data, t->ref, t->ref_len);
    m->data[t->ref_len] = '\0';
    memcpy(m->data + t->ref_len + 1, t->url, t->url_len);

    return 0;
}


static int
posthog_state_same_device(const posthog_state_t *st)
{
    return memcmp(st->anon, st->device, POSTHOG_UUID_LEN) == 0;
}


static int
posthog_state_short(const posthog_state_t *st, int signed_, int same_device)
{
    return !signed_ && st->user_len == 0 && st->session_start == 0
           && st->issued == 0 && st->first_text == NULL
           && st->first.ref_len == 0
           && st->first.url_len == 0 && same_device;
}


/* times are 10 digits until 2286: counted from there, not divided */

static size_t
posthog_state_num_len(uint64_t n)
{
    size_t  len;

    if (n >= 1000000000 && n < 10000000000ULL) {
        return 10;
    }

    len = 1;

    while (n >= 10) {
        n /= 10;
        len++;
    }

    return len;
}


/* the digits from the last, in one pass */

static unsigned char *
posthog_state_num(unsigned char *p, uint64_t n)
{
    size_t          len;
    unsigned char  *q, buf[24];

    q = buf + sizeof(buf);

    do {
        *--q = (unsigned char) ('0' + n % 10);
        n /= 10;
    } while (n);

    len = (size_t) (buf + sizeof(buf) - q);
    memcpy(p, q, len);

    return p + len;
}


/* 1 .. 999999999999, no leading zeros: one text per value */

static int
posthog_state_parse_num(const unsigned char *p, size_t len, uint64_t *n)
{
    size_t    i;
    unsigned  d;
    uint64_t  v;

    if (len == 0 || len > POSTHOG_STATE_NUM_LEN || p[0] == '0') {
        return -1;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        d = (unsigned) p[i] - '0';     /* a byte below '0' wraps over 9 */

        if (d > 9) {
            return -1;
        }

        v = v * 10 + d;
    }

    *n = v;

    return 0;
}


/*
 * Writes the POSTHOG_STATE_SIG_LEN characters of SIG for "p".
 * EVP_MAC_init() without a key starts over from the keyed state (OpenSSL
 * keeps the digest states of the inner and outer pads and copies them):
 * the key is never touched, and nothing of one MAC is left in the next,
 * also after a failure halfway.
 */

static int
posthog_state_mac(unsigned char *sig, const unsigned char *p, size_t len,
    posthog_state_key_t *key)
{
    size_t         mdlen;
    unsigned char  md[EVP_MAX_MD_SIZE];

    if (EVP_MAC_init(key->ctx, NULL, 0, NULL) != 1
        || EVP_MAC_update(key->ctx, (const unsigned char *)
                          POSTHOG_STATE_MAC_PREFIX,
                          sizeof(POSTHOG_STATE_MAC_PREFIX) - 1) != 1
        || EVP_MAC_update(key->ctx, p, len) != 1
        || EVP_MAC_final(key->ctx, md, &mdlen, sizeof(md)) != 1
        || mdlen != 32)
    {
        return -1;
    }

    posthog_base64url_encode(sig, md, 32);

    return 0;
}


size_t
posthog_touch_copy(unsigned char *dst, size_t max, const unsigned char *src,
    size_t len)
{
    size_t          n, u, i;
    uint32_t        cp;
    unsigned char  *p;

    static const char  hex[] = "0123456789ABCDEF";

    p = dst;
    n = 0;

    while (len) {

        /* a run of printable ASCII, found 8 bytes at a time */

        u = posthog_utf8_printable(src, len);

        if (u) {
            if (u > max - n) {
                u = max - n;
            }

            memcpy(p + n, src, u);
            n += u;
            src += u;
            len -= u;

            if (n == max || len == 0) {
                break;
            }
        }

        u = posthog_utf8_next(src, len, &cp);

        if (cp != POSTHOG_UTF8_BAD && cp >= 0x20 && cp != 0x7f) {
            if (n + u > max) {
                break;
            }

            memcpy(p + n, src, u);
            n += u;

        } else {
            if (n + 3 * u > max) {
                break;
            }

            for (i = 0; i < u; i++) {
                p[n++] = '%';
                p[n++] = hex[src[i] >> 4];
                p[n++] = hex[src[i] & 0xf];
            }
        }

        src += u;
        len -= u;
    }

    return n;
}
