/*
 * posthog-js's persistence cookie, ph_<token>_posthog: read as hostile
 * input, and written in posthog-js's own format.  Plain C, no nginx types.
 *
 * The value is encodeURIComponent(JSON.stringify(props)).  Of its members
 * we read:
 *
 *   distinct_id              string, must pass posthog_id_check() as is
 *   $device_id               string; kept only if it is a UUID
 *   $user_state              "anonymous" | "identified"
 *   $sesid                   [last activity ms, session UUIDv7, start ms]
 *   $client_session_props    {"sessionId": UUID, "props": {"r": referrer,
 *                             "u": URL}}: the session's entry
 *
 * Everything else is checked as JSON and may be kept verbatim, so that
 * rewriting the cookie does not lose what posthog-js stored there (super
 * properties, flags).  A value is refused whole, with a reason, when it is
 * over POSTHOG_JSCOOKIE_MAX bytes, not percent-decodable, not one JSON
 * object (RFC 8259, strings well-formed UTF-8, lone surrogates refused),
 * nested deeper than POSTHOG_JSCOOKIE_DEPTH, has a member we read twice
 * or of the wrong type, or a distinct id PostHog refuses.
 */

#ifndef POSTHOG_JSCOOKIE_H
#define POSTHOG_JSCOOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "posthog_id.h"
#include "posthog_json_read.h"
#include "posthog_uuid.h"

#define POSTHOG_JSCOOKIE_MAX        4096    /* encoded value, bytes */
#define POSTHOG_JSCOOKIE_DEPTH      16      /* nesting of arrays/objects */
#define POSTHOG_JSCOOKIE_KEEP       32      /* other members kept */
#define POSTHOG_JSCOOKIE_REF_MAX    256     /* entry referrer, bytes */
#define POSTHOG_JSCOOKIE_URL_MAX    512     /* entry URL, bytes */

/* $sesid times are JavaScript ms: at most 2^53 - 1 */
#define POSTHOG_JSCOOKIE_MS_MAX     POSTHOG_JSON_INT_MAX

enum {
    POSTHOG_JSCOOKIE_UNKNOWN = 0,           /* $user_state absent */
    POSTHOG_JSCOOKIE_ANONYMOUS,
    POSTHOG_JSCOOKIE_IDENTIFIED
};

enum {
    /* the JSON reader's codes pass through as they are */
    POSTHOG_JSCOOKIE_OK = POSTHOG_JSON_OK,
    POSTHOG_JSCOOKIE_TOO_LONG = -1,
    POSTHOG_JSCOOKIE_BAD_ENCODING = -2,      /* a bad %XX */
    POSTHOG_JSCOOKIE_BAD_JSON = POSTHOG_JSON_BAD,
    POSTHOG_JSCOOKIE_TOO_DEEP = POSTHOG_JSON_TOO_DEEP,
    POSTHOG_JSCOOKIE_BAD_UTF8 = POSTHOG_JSON_BAD_UTF8,
    POSTHOG_JSCOOKIE_NOT_OBJECT = -6,
    POSTHOG_JSCOOKIE_DUPLICATE = -7,         /* a member we read, twice */
    POSTHOG_JSCOOKIE_NO_ID = -8,             /* distinct_id absent */
    POSTHOG_JSCOOKIE_BAD_ID = -9,            /* PostHog would refuse it */
    POSTHOG_JSCOOKIE_BAD_TYPE = -10,         /* a member we read */
    POSTHOG_JSCOOKIE_BAD_SESSION = -11       /* $sesid malformed */
};

/* kept members the writer may replace */
enum {
    POSTHOG_JSCOOKIE_OTHER = 0,
    POSTHOG_JSCOOKIE_USER_ID,               /* $user_id */
    POSTHOG_JSCOOKIE_EPP,                   /* $epp */
    POSTHOG_JSCOOKIE_INITIAL,               /* $initial_person_info */
    POSTHOG_JSCOOKIE_RESET                  /* $last_posthog_reset */
};

/* a span of the decoded JSON: one kept member, "key":value */

typedef struct {
    size_t         off;
    size_t         len;
    int            kind;                    /* POSTHOG_JSCOOKIE_OTHER... */
} posthog_jscookie_span_t;

typedef struct {
    size_t         id_len;
    unsigned char  id[POSTHOG_ID_MAX];          /* distinct_id */

    int            has_device;
    unsigned char  device[POSTHOG_UUID_LEN];

    int            user_state;                  /* POSTHOG_JSCOOKIE_* */

    int            has_session;
    uint64_t       session_last;                /* ms */
    uint64_t       session_start;               /* ms */
    unsigned char  session[POSTHOG_UUID_LEN];   /* a UUIDv7 */

    /* the entry of $sesid's session (another session's is ignored) */
    int            has_entry;
    size_t         ref_len;
    unsigned char  ref[POSTHOG_JSCOOKIE_REF_MAX];   /* cut, UTF-8 */
    size_t         url_len;
    unsigned char  url[POSTHOG_JSCOOKIE_URL_MAX];   /* cut, UTF-8 */

    /* the members not read above, in "json" */
    size_t                    nkeep;
    posthog_jscookie_span_t   keep[POSTHOG_JSCOOKIE_KEEP];
    size_t                    json_len;
    unsigned char             json[POSTHOG_JSCOOKIE_MAX];
} posthog_jscookie_t;


/*
 * Parses the cookie value "p", "len" bytes (as sent: percent-encoded).
 * Returns POSTHOG_JSCOOKIE_OK and fills "jc", or a negative code; "jc" is
 * then unusable.  Members beyond POSTHOG_JSCOOKIE_KEEP are checked and
 * dropped.
 */
int posthog_jscookie_parse(posthog_jscookie_t *jc, const unsigned char *p,
    size_t len);

const char *posthog_jscookie_reason(int rc);


/* what the module writes; strings must be valid UTF-8 */

typedef struct {
    const unsigned char  *id;              /* distinct_id, checked id */
    size_t                id_len;
    const unsigned char  *device;          /* a UUID */
    int                   identified;      /* $user_state, $user_id, $epp */

    const unsigned char  *session;         /* UUIDv7, NULL: no $sesid */
    uint64_t              session_last;    /* ms */
    uint64_t              session_start;   /* ms */

    /* $client_session_props of that session, if entry_url */
    const unsigned char  *entry_ref;       /* "$direct" or the referrer */
    size_t                entry_ref_len;
    const unsigned char  *entry_url;
    size_t                entry_url_len;

    /* $initial_person_info, if initial_url */
    const unsigned char  *initial_ref;
    size_t                initial_ref_len;
    const unsigned char  *initial_url;
    size_t                initial_url_len;

    uint64_t              reset;           /* ms: $last_posthog_reset */

    const posthog_jscookie_t  *keep;       /* members to copy, or NULL */
} posthog_jscookie_out_t;


/*
 * Writes encodeURIComponent(JSON.stringify(...)) of "o" to "out", at most
 * "max" bytes.  Returns the length, or 0 when it does not fit or "o" is
 * invalid (an id that fails posthog_id_check(), a bad UUID, a string that
 * is not UTF-8).  The output is made of RFC 6265 cookie-octets only.
 */
size_t posthog_jscookie_encode(unsigned char *out, size_t max,
    const posthog_jscookie_out_t *o);

/*
 * The cookie name for a project token: "ph_" token "_posthog", with
 * posthog-js's replacements in the token ("+" -> "PL", "/" -> "SL",
 * "=" -> "EQ").  "out" holds 2 * len + 11 bytes.  Returns the length.
 */
size_t posthog_jscookie_name(unsigned char *out, const unsigned char *token,
    size_t len);

#endif /* POSTHOG_JSCOOKIE_H */
