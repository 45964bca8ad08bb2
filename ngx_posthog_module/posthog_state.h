/*
 * The identity cookie: anonymous id, device id, identified user id and
 * session, optionally signed with HMAC-SHA256.  Plain C, no nginx types.
 *
 * Cookie value grammar (every byte is an RFC 6265 cookie-octet):
 *
 *   value  = short / long / v1
 *   short  = UUID                        ; ANON alone
 *   long   = ANON "." DEV "." UID "." SID "." START "." LAST "." ISSUED
 *            "." FIRST "." ENTRY "." SIG
 *   v1     = ANON "." DEV "." UID "." SID "." START "." LAST "." SIG
 *                                        ; 0.1.0's form, still read
 *   ANON   = UUID                        ; anonymous distinct id
 *   DEV    = "" / UUID                   ; device id, "" means = ANON
 *   UID    = "" / B64                    ; identified id, "" = anonymous
 *   SID    = "" / UUIDv7                 ; session id
 *   START  = "" / NUM                    ; session start, Unix seconds
 *   LAST   = "" / NUM                    ; last activity, Unix seconds
 *   ISSUED = "" / NUM                    ; when this identity was set
 *   FIRST  = "" / TOUCH                  ; the browser's first touch
 *   ENTRY  = "" / TOUCH                  ; the session's entry page
 *   TOUCH  = B64 of REF %x00 URL         ; REF <= 256, URL <= 512 bytes of
 *                                        ; UTF-8 without control bytes
 *   SIG    = "" / 43B64                  ; "" when unsigned
 *   UUID   = 8HEX "-" 4HEX "-" 4HEX "-" 4HEX "-" 12HEX  (lower case,
 *            RFC 9562 variant, any version: posthog_uuid_valid())
 *   B64    = base64url without padding, canonical (zero unused bits)
 *   NUM    = %x31-39 0*11DIGIT           ; 1 .. 999999999999
 *
 * - SID, START and LAST are all empty (no session) or all set.
 * - FIRST is checked when it is used, not when the value is decoded (it
 *   is needed only at identify and for posthog-js's cookie, ENTRY on
 *   every request): see posthog_state_first().  A malformed FIRST is
 *   dropped then, as if absent; it never reaches an event or a cookie.
 * - UID decodes to at most POSTHOG_ID_MAX bytes that pass
 *   posthog_id_check() as they are: already trimmed, legal, UTF-8.
 * - SIG = base64url(HMAC-SHA256(K, "posthog-state-2:" || V)), where V
 *   is the value before its last "." (that dot excluded) and K =
 *   HMAC-SHA256(secret, "posthog-state-key-2:" || context): the context
 *   (the project's api key and the cookie name) binds a signed value to
 *   the site that issued it, so one secret shared by two projects does
 *   not let a cookie of one pass on the other.  The constant prefixes
 *   keep these MACs apart from anything else the same secret may sign.
 * - The short form is written only without a key, for a state with
 *   device == anon, no user and no session: the first-visit cookie.
 *
 * With a key, decoding requires a valid SIG: the short form and an empty
 * SIG are refused, so a client cannot pick its own anonymous id and get
 * someone else's history merged into a person.  Without a key, SIG must
 * be empty or look like a signature (43 canonical base64url characters)
 * and is then ignored: signed cookies keep working when an operator
 * removes the secret, and are written back unsigned.
 *
 * The decoder checks only the syntax above and the MAC: whether a
 * session or the issued identity has expired is the caller's business.
 */

#ifndef POSTHOG_STATE_H
#define POSTHOG_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "posthog_uuid.h"
#include "posthog_id.h"
#include "posthog_base64url.h"

#define POSTHOG_STATE_SIG_LEN   43      /* base64url of 32 bytes */
#define POSTHOG_STATE_NUM_LEN   12      /* digits of a time */
#define POSTHOG_STATE_NUM_MAX   999999999999ULL

#define POSTHOG_STATE_REF_MAX   256     /* bytes of a stored referrer */
#define POSTHOG_STATE_URL_MAX   512     /* bytes of a stored URL */
#define POSTHOG_STATE_TOUCH_LEN                                              \
    posthog_base64url_encoded_len(POSTHOG_STATE_REF_MAX + 1                  \
                                  + POSTHOG_STATE_URL_MAX)

/*
 * The longest value: 3 UUIDs, an 800-byte user id (1067 chars), 3 times,
 * 2 touches (1024 chars each) -> 3322.  Real ones are far shorter: the
 * first touch is dropped at identify, so a user id and a first touch
 * are not stored together (see docs/security.md for measured sizes).
 */
#define POSTHOG_STATE_MAX_LEN                                                \
    (3 * POSTHOG_UUID_LEN                                                    \
     + posthog_base64url_encoded_len(POSTHOG_ID_MAX)                         \
     + 3 * POSTHOG_STATE_NUM_LEN + 2 * POSTHOG_STATE_TOUCH_LEN               \
     + POSTHOG_STATE_SIG_LEN + 9)

/* one visit's page and where it came from, as posthog-js's {r, u} */

typedef struct {
    size_t         ref_len;         /* "$direct" or the referrer URL */
    unsigned char  ref[POSTHOG_STATE_REF_MAX];
    size_t         url_len;
    unsigned char  url[POSTHOG_STATE_URL_MAX];
} posthog_touch_t;                  /* both lengths 0: none stored */

typedef struct {
    unsigned char  anon[POSTHOG_UUID_LEN];     /* anonymous distinct id */
    unsigned char  device[POSTHOG_UUID_LEN];   /* $device_id */
    unsigned char  session[POSTHOG_UUID_LEN];  /* UUIDv7 if session_start */
    uint64_t       session_start;   /* Unix seconds, 0 = no session */
    uint64_t       session_last;    /* Unix seconds of last activity */
    uint64_t       issued;          /* Unix seconds this identity (anon
                                       id, or user) was set; 0 unknown */
    const unsigned char  *first_text;  /* FIRST as decoded, not yet
                                          checked: NULL if none, see
                                          posthog_state_first() */
    size_t         first_text_len;
    unsigned       known;           /* POSTHOG_STATE_KNOWN_*: fields made
                                       valid by their writer, not checked
                                       again by posthog_state_encode() */
    size_t         user_len;        /* 0 = anonymous */
    unsigned char  user[POSTHOG_ID_MAX];       /* identified-as id */
    posthog_touch_t  first;         /* first touch, kept until identify */
    posthog_touch_t  entry;         /* the session's entry page */
} posthog_state_t;

/*
 * Bits of st->known.  A writer that makes a field from something it
 * checked or generated itself (posthog_uuid_v7(), posthog_touch_copy())
 * may set its bit; every other writer of that field must clear it.  Reset
 * and decode leave none set: a state from outside is always checked.
 */
#define POSTHOG_STATE_KNOWN_IDS      0x01   /* anon and device */
#define POSTHOG_STATE_KNOWN_SESSION  0x02   /* the session id, a UUIDv7 */
#define POSTHOG_STATE_KNOWN_FIRST    0x04   /* the first touch */
#define POSTHOG_STATE_KNOWN_ENTRY    0x08   /* the entry touch */

enum {
    POSTHOG_STATE_OK = 0,
    POSTHOG_STATE_TOO_LONG = -1,     /* over POSTHOG_STATE_MAX_LEN */
    POSTHOG_STATE_BAD_FORMAT = -2,   /* not 1 or 7 fields */
    POSTHOG_STATE_BAD_UUID = -3,
    POSTHOG_STATE_BAD_BASE64 = -4,
    POSTHOG_STATE_BAD_USER = -5,     /* fails posthog_id_check() */
    POSTHOG_STATE_BAD_NUMBER = -6,
    POSTHOG_STATE_BAD_SESSION = -7,  /* SID, START, LAST not all or none */
    POSTHOG_STATE_NO_SIG = -8,       /* unsigned, but a key is set */
    POSTHOG_STATE_BAD_SIG = -9,
    POSTHOG_STATE_ERROR = -10,       /* HMAC failed */
    POSTHOG_STATE_BAD_TOUCH = -11    /* ENTRY (or FIRST, when it is
                                        checked) malformed */
};


/*
 * The signing key: an HMAC-SHA256 context keyed once, so that a MAC
 * costs the hashing of the value only (OpenSSL's one-shot HMAC() looks
 * up SHA-256 and sets up a context on every call).  Made at
 * configuration time; a process may inherit it across fork(), there is
 * nothing random in it.  Not for concurrent use by two threads.
 */
typedef struct posthog_state_key_s  posthog_state_key_t;

/*
 * The key for one context (see SIG above): e.g. the api key and the
 * cookie name, the caller's choice as long as it is unambiguous.  NULL if
 * "len" is 0 or over INT_MAX, or OpenSSL fails.
 */
posthog_state_key_t *posthog_state_key_new(const unsigned char *secret,
    size_t len, const unsigned char *context, size_t context_len);

void posthog_state_key_free(posthog_state_key_t *key);

/*
 * The exact length posthog_state_encode() writes for a valid "st",
 * signed if "signed_" (a key is given).  Never over
 * POSTHOG_STATE_MAX_LEN for a valid state.
 */
size_t posthog_state_encoded_len(const posthog_state_t *st, int signed_);

/*
 * Writes the cookie value for "st" to "out", signed when "key" is not
 * NULL.  Returns the length written, or 0 if "st" would not decode (an
 * invalid UUID, user id, time or touch: the state is checked as strictly
 * as a decoded one, except the fields st->known vouches for; a FIRST not
 * yet checked by posthog_state_first() counts as invalid) or the HMAC
 * failed.  Session fields and the entry
 * touch are ignored when session_start is 0.
 */
size_t posthog_state_encode(unsigned char *out, const posthog_state_t *st,
    posthog_state_key_t *key);

/*
 * The empty state: no ids (all zero bytes), no times, no user, no
 * touches.  Only the lengths of the byte arrays are set: their bytes past
 * a length are never read (nor copied, nor compared), so that a state is
 * made, decoded and kept without writing its ~2.6 KB.
 */
void posthog_state_reset(posthog_state_t *st);

/* Copies "src" to "dst": the used bytes only. */
void posthog_state_copy(posthog_state_t *dst, const posthog_state_t *src);

/* 1 if both hold the same state (the used bytes), else 0. */
int posthog_state_equal(const posthog_state_t *a, const posthog_state_t *b);

/* The same for one touch. */
void posthog_state_touch_copy(posthog_touch_t *dst,
    const posthog_touch_t *src);
int posthog_state_touch_equal(const posthog_touch_t *a,
    const posthog_touch_t *b);

/*
 * Parses and checks the cookie value "p", "len" bytes, verifying its
 * signature when "key" is not NULL, straight into "st".  Returns
 * POSTHOG_STATE_OK with "st" filled (the device id filled in when the
 * cookie leaves it empty; the session id all zero bytes without a
 * session), or a negative POSTHOG_STATE_* code with "st" reset to the
 * empty state (posthog_state_reset()).
 *
 * FIRST is only kept (st->first_text points into "p", which must outlive
 * it) and st->first left empty until posthog_state_first() is called.
 */
int posthog_state_decode(posthog_state_t *st, const unsigned char *p,
    size_t len, posthog_state_key_t *key);

/*
 * The same, without the shortcut for the usual form: the reference that
 * tests compare posthog_state_decode() with.
 */
int posthog_state_decode_generic(posthog_state_t *st,
    const unsigned char *p, size_t len, posthog_state_key_t *key);

/*
 * Checks and decodes the FIRST kept by posthog_state_decode() into
 * st->first, once: POSTHOG_STATE_OK, or POSTHOG_STATE_BAD_TOUCH with
 * st->first left empty (a malformed FIRST is dropped).  Either way
 * st->first_text is NULL after.  Call it before st->first is read or the
 * state encoded; a no-op when nothing is kept.
 */
int posthog_state_first(posthog_state_t *st);

/* A short text for logs, e.g. "bad signature". */
const char *posthog_state_reason(int rc);

/*
 * Copies at most "max" bytes of "src" for the signed state's touch, which
 * takes UTF-8 without control bytes only: a control byte, or a byte of an
 * invalid UTF-8 sequence, is written %XX (as a browser sends it); a
 * character or escape that would pass "max" ends the copy.  Returns the
 * bytes written.
 */
size_t posthog_touch_copy(unsigned char *dst, size_t max,
    const unsigned char *src, size_t len);

#endif /* POSTHOG_STATE_H */
