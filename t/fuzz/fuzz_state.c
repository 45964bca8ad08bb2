/*
 * libFuzzer target for the cookie codec.  Arbitrary bytes are decoded
 * with and without a key; whatever decodes must re-encode (signed and
 * unsigned) to a value that decodes to the same state.  Since random
 * bytes never carry a valid MAC, the input is also read as the fields
 * of a state that is encoded signed and must decode back, or be
 * refused by the encoder only if the state is invalid.  A refused value
 * leaves the empty state.  FIRST is checked after the decode, as the
 * module does before using it: a malformed one is dropped, and the rest
 * must still round-trip.  The decoder's shortcut for the usual form
 * must answer as the generic parser does: the same code, the same state.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posthog_state.h"

#define KEY     posthog_state_fuzz_key(0)
#define KEY2    posthog_state_fuzz_key(1)


/* made once, as the module makes its key at configuration time */

static posthog_state_key_t *
posthog_state_fuzz_key(int other)
{
    static posthog_state_key_t  *key[2];

    if (key[other] == NULL) {
        key[other] = posthog_state_key_new((const unsigned char *)
                                           (other ? "fuzz-kez" : "fuzz-key"),
                                           8, (const unsigned char *)
                                           "phc_fuzz", 8);
        if (key[other] == NULL) {
            abort();
        }
    }

    return key[other];
}


/* decoded, FIRST checked as the module does; "st" is left as decoded */

static int
decode(posthog_state_t *st, const unsigned char *p, size_t len,
    posthog_state_key_t *key)
{
    int  rc;

    rc = posthog_state_decode(st, p, len, key);

    if (rc == POSTHOG_STATE_OK) {
        if (st->first_text != NULL
            && (st->first_text < p
                || st->first_text + st->first_text_len > p + len))
        {
            abort();
        }

        /* dropped or decoded, never left half */

        if (posthog_state_first(st) != POSTHOG_STATE_OK
            && (st->first.ref_len != 0 || st->first.url_len != 0))
        {
            abort();
        }

        if (st->first_text != NULL) {
            abort();
        }
    }

    return rc;
}


static void
roundtrip(const posthog_state_t *st)
{
    size_t           n;
    unsigned char    out[POSTHOG_STATE_MAX_LEN];
    posthog_state_t  st2;

    n = posthog_state_encode(out, st, NULL);

    if (n == 0 || n != posthog_state_encoded_len(st, 0)
        || decode(&st2, out, n, NULL) != POSTHOG_STATE_OK
        || !posthog_state_equal(st, &st2))
    {
        abort();
    }

    n = posthog_state_encode(out, st, KEY);

    if (n == 0 || n != posthog_state_encoded_len(st, 1)
        || decode(&st2, out, n, KEY) != POSTHOG_STATE_OK
        || !posthog_state_equal(st, &st2))
    {
        abort();
    }

    /* a signed value never passes under another key */

    if (posthog_state_decode(&st2, out, n, KEY2) == POSTHOG_STATE_OK) {
        abort();
    }
}


static uint64_t
ms48(const uint8_t *p)
{
    int       i;
    uint64_t  ms;

    ms = 0;

    for (i = 0; i < 6; i++) {
        ms = ms << 8 | p[i];
    }

    return ms;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              rc;
    size_t           n, start, k;
    unsigned char    out[POSTHOG_STATE_MAX_LEN];
    unsigned char    known[POSTHOG_STATE_MAX_LEN];
    posthog_state_t  st, st2, orig;

    /* garbage past the lengths, as in a state never zeroed */

    memset(&st, 0x5a, sizeof(st));
    memset(&orig, 0xa5, sizeof(orig));
    posthog_state_reset(&orig);

    memset(&st2, 0x3c, sizeof(st2));

    if (posthog_state_decode(&st, data, size, NULL)
        != posthog_state_decode_generic(&st2, data, size, NULL)
        || !posthog_state_equal(&st, &st2))
    {
        abort();
    }

    memset(&st, 0x5a, sizeof(st));

    rc = decode(&st, data, size, NULL);

    if (rc == POSTHOG_STATE_OK) {
        roundtrip(&st);

    } else if (!posthog_state_equal(&st, &orig)
               || posthog_state_reason(rc) == NULL)
    {
        abort();
    }

    rc = decode(&st, data, size, KEY);

    if (rc == POSTHOG_STATE_OK) {
        roundtrip(&st);
    }

    /* structured: 3 UUIDv7 of 16 bytes each, 2 times, the user id */

    if (size < 3 * 16 + 2) {
        return 0;
    }

    memset(&st, 0, sizeof(st));
    posthog_uuid_v7(st.anon, ms48(data), data + 6);
    posthog_uuid_v7(st.device, ms48(data + 16), data + 22);

    if (data[0] & 1) {
        memcpy(st.device, st.anon, POSTHOG_UUID_LEN);
    }

    /* decoded states carry zeroes when there is no session */

    if (data[48] & 1) {
        posthog_uuid_v7(st.session, ms48(data + 32), data + 38);
        st.session_start = 1700000000 + data[48];
        st.session_last = st.session_start + data[49];
    }

    data += 3 * 16 + 2;
    size -= 3 * 16 + 2;
    n = size < POSTHOG_ID_MAX ? size : POSTHOG_ID_MAX;
    memcpy(st.user, data, n);
    st.user_len = n;

    /* the encoder refuses exactly the states the id check refuses */

    if ((posthog_state_encode(out, &st, KEY) != 0)
        != (n == 0 || (posthog_id_check(st.user, n, &start, &k)
                       == POSTHOG_ID_OK && start == 0 && k == n)))
    {
        abort();
    }

    /* the ids made by posthog_uuid_v7() vouched for: the same answer */

    n = posthog_state_encode(out, &st, NULL);
    st.known = POSTHOG_STATE_KNOWN_IDS | POSTHOG_STATE_KNOWN_SESSION;

    if (posthog_state_encode(known, &st, NULL) != n
        || memcmp(out, known, n) != 0)
    {
        abort();
    }

    st.known = 0;

    if (posthog_state_encode(out, &st, KEY) != 0) {
        roundtrip(&st);
    }

    return 0;
}
