/*
 * ngx_posthog_module: PostHog product analytics from nginx.
 * Declarations shared by the module's files.
 */

#ifndef _NGX_HTTP_POSTHOG_H_INCLUDED_
#define _NGX_HTTP_POSTHOG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "posthog_uuid.h"
#include "posthog_state.h"
#include "posthog_stream.h"
#include "posthog_ua.h"


#define NGX_HTTP_POSTHOG_VERSION        "0.1.0"

#define NGX_HTTP_POSTHOG_SAMESITE_LAX     0
#define NGX_HTTP_POSTHOG_SAMESITE_STRICT  1
#define NGX_HTTP_POSTHOG_SAMESITE_NONE    2

#define NGX_HTTP_POSTHOG_SECURE_AUTO      0
#define NGX_HTTP_POSTHOG_SECURE_ON        1
#define NGX_HTTP_POSTHOG_SECURE_OFF       2

#define NGX_HTTP_POSTHOG_CAPTURE_OFF      0
#define NGX_HTTP_POSTHOG_CAPTURE_PAGEVIEW 1
#define NGX_HTTP_POSTHOG_CAPTURE_ALL      2

/* posthog-js's COOKIELESS_SENTINEL_VALUE: the ids of a cookieless event */
#define NGX_HTTP_POSTHOG_SENTINEL  "$posthog_cookieless"

/* posthog_consent_missing */
#define NGX_HTTP_POSTHOG_CONSENT_COOKIELESS  0
#define NGX_HTTP_POSTHOG_CONSENT_DROP        1

/* where string property values are cut (input bytes, on a UTF-8 boundary) */
#define NGX_HTTP_POSTHOG_VALUE_MAX        4096
/* posthog-js cuts the user agent at 1000 characters */
#define NGX_HTTP_POSTHOG_UA_MAX           1000

/* posthog_event_max_size: the default, and the bounds it may take */
#define NGX_HTTP_POSTHOG_EVENT_SIZE       8192
#define NGX_HTTP_POSTHOG_EVENT_SIZE_MIN    2048
#define NGX_HTTP_POSTHOG_EVENT_SIZE_MAX    POSTHOG_STREAM_EVENT_MAX

/*
 * The order in which properties are cut when an event is over
 * posthog_event_max_size: the least useful first.  0: never cut (ids,
 * names, times, raw JSON).
 */
#define NGX_HTTP_POSTHOG_CUT_NEVER        0
#define NGX_HTTP_POSTHOG_CUT_USER_AGENT   1
#define NGX_HTTP_POSTHOG_CUT_REFERRER     2
#define NGX_HTTP_POSTHOG_CUT_REF_DOMAIN   3
#define NGX_HTTP_POSTHOG_CUT_CUSTOM       4   /* posthog_property, signals */
#define NGX_HTTP_POSTHOG_CUT_URL          5
#define NGX_HTTP_POSTHOG_CUT_PATHNAME     6
#define NGX_HTTP_POSTHOG_CUT_HOST         7
#define NGX_HTTP_POSTHOG_CUT_LAST         7
/* raw pieces standing for members that are: made again before a cut */
#define NGX_HTTP_POSTHOG_CUT_SESSION_PIECE  8
#define NGX_HTTP_POSTHOG_CUT_UA_PIECE       9



/*
 * Counters kept in shared memory across workers (ngx_http_posthog_status.c).
 * Every place an event can be lost or refused has one.
 */

typedef enum {
    NGX_HTTP_POSTHOG_STAT_EVENTS = 0,        /* events made */
    NGX_HTTP_POSTHOG_STAT_WRITTEN,           /* XADD replied with an id */
    NGX_HTTP_POSTHOG_STAT_DROPPED_FULL,      /* buffer full */
    NGX_HTTP_POSTHOG_STAT_DROPPED_TOO_LARGE, /* one event over the limit */
    NGX_HTTP_POSTHOG_STAT_DROPPED_REDIS,     /* XADD answered with an error */
    NGX_HTTP_POSTHOG_STAT_DROPPED_EXIT,      /* still buffered at worker exit */
    NGX_HTTP_POSTHOG_STAT_NO_API_KEY,        /* tracked, but no api key */
    NGX_HTTP_POSTHOG_STAT_REDIS_ERRORS,
    NGX_HTTP_POSTHOG_STAT_RECONNECTS,
    NGX_HTTP_POSTHOG_STAT_BUFFERED_EVENTS,   /* gauge */
    NGX_HTTP_POSTHOG_STAT_BUFFERED_BYTES,    /* gauge */
    NGX_HTTP_POSTHOG_STAT_BAD_COOKIES,
    NGX_HTTP_POSTHOG_STAT_IDENTIFIES,
    NGX_HTTP_POSTHOG_STAT_ALIASES,
    NGX_HTTP_POSTHOG_STAT_RESETS,
    NGX_HTTP_POSTHOG_STAT_REFUSED_IDS,       /* illegal distinct ids */
    NGX_HTTP_POSTHOG_STAT_DROPPED_NO_REDIS,  /* no posthog_redis */
    NGX_HTTP_POSTHOG_STAT_REDIS_CONNECTED,   /* gauge: workers connected */
    NGX_HTTP_POSTHOG_STAT_DROPPED_INTERNAL,  /* could not be made */
    NGX_HTTP_POSTHOG_STAT_DUPLICATE_COOKIES, /* our cookie sent twice */
    NGX_HTTP_POSTHOG_STAT_EXPIRED,           /* signed identity too old */
    NGX_HTTP_POSTHOG_STAT_EVENTS_CUT,        /* cut to posthog_event_max */
    NGX_HTTP_POSTHOG_STAT_IDENTIFY_ON_ERROR, /* not applied: status >= 400 */
    NGX_HTTP_POSTHOG_STAT_COOKIELESS,        /* made without consent */
    NGX_HTTP_POSTHOG_STAT_DROPPED_UNCONSENTED, /* consent_missing drop */
    NGX_HTTP_POSTHOG_STAT_DROPPED_UNHASHABLE,  /* cookieless, no UA/host */
    NGX_HTTP_POSTHOG_STAT_BAD_JS_COOKIES,    /* posthog-js's, refused */
    NGX_HTTP_POSTHOG_STAT_BOTS,              /* requests skipped as bots */
    NGX_HTTP_POSTHOG_STAT_N
} ngx_http_posthog_stat_e;


typedef struct {
    ngx_str_t                  name;
    ngx_str_t                  domain;
    ngx_str_t                  path;
    time_t                     max_age;
    ngx_uint_t                 secure;
    ngx_uint_t                 samesite;
    ngx_flag_t                 httponly;
} ngx_http_posthog_cookie_conf_t;


/* posthog_redis */

typedef struct {
    ngx_str_t                  addr;         /* as configured, for logs */
    ngx_str_t                  host;         /* IP text or socket path, NUL */
    in_port_t                  port;
    ngx_flag_t                 unix_socket;

    ngx_str_t                  stream;
    ngx_uint_t                 maxlen;       /* 0: no trimming */
    ngx_str_t                  password;
    ngx_str_t                  db;           /* text, empty: not selected */
    ngx_msec_t                 connect_timeout;
    ngx_msec_t                 timeout;
} ngx_http_posthog_redis_conf_t;


/* posthog_buffer */

typedef struct {
    size_t                     size;
    ngx_msec_t                 flush;
    ngx_msec_t                 exit_timeout;
} ngx_http_posthog_buffer_conf_t;


typedef struct {
    ngx_shm_zone_t            *shm_zone;     /* the counters */
    ngx_http_posthog_redis_conf_t   *redis;  /* NULL: no posthog_redis */
    ngx_http_posthog_buffer_conf_t   buffer;
    ngx_flag_t                 signals;      /* posthog_signals on anywhere */
    void                      *ua;           /* ngx_http_posthog_ua_main_t */
} ngx_http_posthog_main_conf_t;


/* posthog_user_agent_parse, posthog_bots, posthog_bot_user_agent */

typedef struct {
    ngx_flag_t                 parse;
    ngx_uint_t                 bots;         /* NGX_HTTP_POSTHOG_BOTS_* */
    ngx_array_t               *bot_ua;       /* ngx_regex_t * */
} ngx_http_posthog_ua_conf_t;


#define NGX_HTTP_POSTHOG_BOTS_IGNORE      0
#define NGX_HTTP_POSTHOG_BOTS_CAPTURE     1


#define NGX_HTTP_POSTHOG_PROP_STRING      0
#define NGX_HTTP_POSTHOG_PROP_NUMBER      1
#define NGX_HTTP_POSTHOG_PROP_BOOLEAN     2


/* posthog_property NAME VALUE [type] */

typedef struct {
    ngx_str_t                  name;         /* as configured */
    ngx_str_t                  key;          /* JSON-escaped, no quotes */
    ngx_http_complex_value_t   value;
    ngx_uint_t                 type;
} ngx_http_posthog_prop_conf_t;


typedef struct {
    ngx_flag_t                 enable;
    ngx_str_t                  api_key;
    ngx_uint_t                 capture;
    ngx_http_complex_value_t  *event;
    ngx_array_t               *props;        /* ngx_http_posthog_prop_conf_t */
    ngx_uint_t                 personless;   /* "identified_only" */
    size_t                     event_max;    /* posthog_event_max_size */
    ngx_http_posthog_cookie_conf_t  *cookie;

    ngx_http_complex_value_t  *identify;
    ngx_http_complex_value_t  *alias;
    ngx_array_t               *person_props; /* ngx_http_posthog_prop_conf_t */
    ngx_array_t               *person_props_once;
    ngx_uint_t                 reset;        /* NGX_HTTP_POSTHOG_RESET_* */
    ngx_array_t               *logout;       /* ngx_regex_t * */
    ngx_flag_t                 signals;
    ngx_str_t                  cookie_secret;  /* posthog_cookie_secret */
    posthog_state_key_t       *secret;       /* derived from it, see merge */

    ngx_http_complex_value_t  *consent;      /* posthog_consent */
    ngx_uint_t                 consent_missing;
    ngx_flag_t                 honor_gpc;
    /* ngx_http_posthog_session.c */
    time_t                     session_idle;     /* posthog_session */
    time_t                     session_max;
    time_t                     session_refresh;
    ngx_flag_t                 js_cookie;        /* posthog_js_cookie */
    ngx_flag_t                 js_headers;       /* posthog_js_headers */
    ngx_str_t                  js_cookie_name;   /* ph_<token>_posthog */
    ngx_http_posthog_ua_conf_t  ua;
} ngx_http_posthog_loc_conf_t;


#define NGX_HTTP_POSTHOG_RESET_UNSET     NGX_CONF_UNSET_UINT
#define NGX_HTTP_POSTHOG_RESET_OFF       0
#define NGX_HTTP_POSTHOG_RESET_ON        1
#define NGX_HTTP_POSTHOG_RESET_DEVICE    2


/* the identity of one main request; see ngx_http_posthog_identity.c */

typedef struct {
    /* first: made with posthog_state_reset(), the rest zeroed (get_ctx) */
    posthog_state_t            st;

    /* $identify to send: the user, and the anonymous id it links */
    ngx_str_t                  identify_user;
    u_char                     identify_anon[POSTHOG_UUID_LEN];

    /* $create_alias to send: distinct_id, and the id it links */
    ngx_str_t                  alias_to;
    u_char                     alias_from[POSTHOG_UUID_LEN];

    /* the last refused id: counted and logged once per request */
    ngx_str_t                  refused;

    /* the ids of this request's own events, kept across a reset */
    ngx_str_t                  event_id;
    u_char                     event_device[POSTHOG_UUID_LEN];

    /* the state before this request's identify or alias, to undo them */
    posthog_state_t           *saved;
    /* the session and posthog-js's cookie: ngx_http_posthog_session.h */
    void                      *session;

    /* signals from the upstream response (posthog_signals on) */
    ngx_array_t               *signal_events;  /* ngx_str_t */
    ngx_array_t               *signal_props;   /* ngx_http_posthog_member_t */

    /* the next of the worker's spare contexts (see get_ctx) */
    void                      *next_spare;

    unsigned                   fresh:1;      /* a new visitor */
    unsigned                   dirty:1;      /* the cookie must be written */
    unsigned                   cookie_sent:1;
    unsigned                   identified:1; /* send $identify */
    unsigned                   aliased:1;    /* send $create_alias */
    unsigned                   alias_done:1;
    unsigned                   reset:1;      /* reset at this response */
    unsigned                   event_personless:1;
    unsigned                   final:1;      /* header filter done */
    unsigned                   logged:1;     /* log phase done */
    unsigned                   access:1;     /* past the access phase */
    unsigned                   settled:1;    /* identity kept or undone */
    unsigned                   saved_dirty:1;
    unsigned                   cookieless:1; /* no consent: see _consent.c */
    unsigned                   withdraw:1;   /* ... and our cookie was sent */
    unsigned                   withdraw_js:1; /* ... and posthog-js's */
} ngx_http_posthog_ctx_t;


extern ngx_module_t  ngx_http_posthog_module;


/* ngx_http_posthog_redis.c */

/*
 * Room in the worker's buffer for an event of at most "max" bytes, to be
 * written there in place and then enqueued at once (nothing else may run
 * in between); NULL: none now, the event is made elsewhere.
 */
u_char *ngx_http_posthog_reserve(ngx_str_t *token, size_t max);

/*
 * Appends one stream entry (token, event JSON) to the worker's buffer; it
 * is copied, the caller's memory may go (an event written in place at
 * the address ngx_http_posthog_reserve() gave is committed instead).
 * Never blocks.  Returns NGX_OK, or NGX_DECLINED when the event was
 * dropped (counted and logged there).
 */
ngx_int_t ngx_http_posthog_enqueue(ngx_http_request_t *r, ngx_str_t *token,
    ngx_str_t *event);
ngx_int_t ngx_http_posthog_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_posthog_redis_exit_process(ngx_cycle_t *cycle);


/* ngx_http_posthog_conf.c */

char *ngx_http_posthog_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_posthog_buffer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_posthog_redis_init_main_conf(ngx_conf_t *cf,
    ngx_http_posthog_main_conf_t *pmcf);


/* ngx_http_posthog_status.c */

/* a log line of one kind at most every few seconds per worker */

typedef struct {
    time_t                     last;
    ngx_uint_t                 suppressed;
} ngx_http_posthog_limit_t;


void ngx_http_posthog_stat_add(ngx_uint_t stat, ngx_atomic_int_t n);
void ngx_http_posthog_log_limited(ngx_http_posthog_limit_t *limit,
    ngx_uint_t level, ngx_log_t *log, const char *fmt, ...);
char *ngx_http_posthog_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_posthog_status_init_main_conf(ngx_conf_t *cf,
    ngx_http_posthog_main_conf_t *pmcf);


/* ngx_http_posthog_props.c */

/*
 * One JSON member inside an event or its properties.  Raw with an empty
 * key: "value" is whole members already ("k":v,"k2":v2), constant ones.
 */

typedef struct {
    ngx_str_t                  key;          /* JSON-escaped, no quotes */
    ngx_str_t                  value;
    size_t                     max;          /* input cut, see posthog_json.h */
    ngx_uint_t                 raw;          /* value is JSON already, or
                                                NGX_HTTP_POSTHOG_PLAIN */
    ngx_uint_t                 cut;          /* NGX_HTTP_POSTHOG_CUT_* */
    size_t                     len;          /* escaped, by members_len() */
} ngx_http_posthog_member_t;

/*
 * "raw": a string that needs no escaping (a checked UUID, a language
 * tag): quoted, copied as it is, never cut.
 */
#define NGX_HTTP_POSTHOG_PLAIN  2

ngx_int_t ngx_http_posthog_request_url(ngx_http_request_t *r, ngx_str_t *url,
    ngx_str_t *host);
void ngx_http_posthog_request_touch(ngx_http_request_t *r,
    posthog_touch_t *t);
ngx_table_elt_t *ngx_http_posthog_header_in(ngx_http_request_t *r,
    const char *name, size_t len);

/* "pieces": the user agent's may be one (not without consent) */
ngx_int_t ngx_http_posthog_standard_props(ngx_http_request_t *r,
    ngx_array_t *a, ngx_uint_t pieces);

/* $lib and $lib_version, one constant piece of JSON */
#define NGX_HTTP_POSTHOG_LIB_MEMBERS                                          \
    "\"$lib\":\"ngx_posthog_module\","                                      \
    "\"$lib_version\":\"" NGX_HTTP_POSTHOG_VERSION "\""
ngx_int_t ngx_http_posthog_custom_props(ngx_http_request_t *r,
    ngx_array_t *conf_props, ngx_array_t *a);
ngx_int_t ngx_http_posthog_props_object(ngx_http_request_t *r,
    ngx_array_t *conf_props, ngx_str_t *out);
/* "key" is a literal that needs no escaping */
ngx_http_posthog_member_t *ngx_http_posthog_member(ngx_array_t *a,
    char *key, u_char *value, size_t len);

/* the same with the key's length: inline, no call for a member on hand */

static ngx_inline ngx_http_posthog_member_t *
ngx_http_posthog_member_n(ngx_array_t *a, u_char *key, size_t key_len,
    u_char *value, size_t len)
{
    ngx_http_posthog_member_t  *m;

    if (a->nelts < a->nalloc) {
        m = (ngx_http_posthog_member_t *) a->elts + a->nelts++;

    } else {
        m = ngx_array_push(a);
        if (m == NULL) {
            return NULL;
        }
    }

    m->key.data = key;
    m->key.len = key_len;
    m->value.data = value;
    m->value.len = len;
    m->max = NGX_HTTP_POSTHOG_VALUE_MAX;
    m->raw = 0;
    m->cut = NGX_HTTP_POSTHOG_CUT_NEVER;

    return m;
}

/* "key" a string literal (it does not compile otherwise): its length known */
#define ngx_http_posthog_member_lit(a, key, value, len)                      \
    ngx_http_posthog_member_n(a, (u_char *) "" key, sizeof("" key) - 1,      \
                              value, len)
ngx_int_t ngx_http_posthog_members_fit(ngx_array_t *a, size_t excess);
ngx_int_t ngx_http_posthog_members_unpiece(ngx_http_request_t *r,
    ngx_array_t *a);
size_t ngx_http_posthog_members_len(ngx_array_t *a);
size_t ngx_http_posthog_members_bound(ngx_array_t *a);
u_char *ngx_http_posthog_members_write(u_char *p, ngx_array_t *a);
char *ngx_http_posthog_api_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_posthog_property(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/* ngx_http_posthog_event.c */

/* what an event is made of, beside the request's standard properties */

typedef struct {
    ngx_str_t                  name;
    ngx_str_t                  distinct_id;
    ngx_array_t               *props;        /* ngx_http_posthog_member_t */
    ngx_http_posthog_member_t *device;       /* $device_id, of every event */
    ngx_str_t                  set;          /* JSON object or empty */
    ngx_str_t                  set_once;     /* JSON object or empty */
    unsigned                   personless:1;
    unsigned                   custom:1;     /* add posthog_property values */
    unsigned                   cookieless:1; /* without consent */
} ngx_http_posthog_event_t;


ngx_int_t ngx_http_posthog_log_handler(ngx_http_request_t *r);


/* ngx_http_posthog_identity.c */

ngx_http_posthog_ctx_t *ngx_http_posthog_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_posthog_new_uuid(ngx_http_request_t *r, u_char *out);
void ngx_http_posthog_distinct_id(ngx_http_posthog_ctx_t *ctx,
    ngx_str_t *id);

ngx_int_t ngx_http_posthog_identity_access(ngx_http_request_t *r);
void ngx_http_posthog_identity_settle(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_uint_t ok);
ngx_int_t ngx_http_posthog_identity_header_filter(ngx_http_request_t *r);


/* ngx_http_posthog_signals.c */

ngx_int_t ngx_http_posthog_signals(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_loc_conf_t *plcf,
    ngx_str_t *identify, ngx_uint_t *reset);
void ngx_http_posthog_strip_signals(ngx_http_request_t *r);


/* ngx_http_posthog_variables.c */

ngx_int_t ngx_http_posthog_identity_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_posthog_add_variable_table(ngx_conf_t *cf,
    ngx_http_variable_t *vars);
char *ngx_http_posthog_reset(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_posthog_logout(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


/* ngx_http_posthog_session.c */

ngx_int_t ngx_http_posthog_session_begin(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx);
ngx_int_t ngx_http_posthog_session_reset(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx);
ngx_int_t ngx_http_posthog_session_props(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_member_t *device,
    ngx_array_t *a);
ngx_int_t ngx_http_posthog_session_unpiece(ngx_http_request_t *r,
    ngx_array_t *a, ngx_uint_t i);

/* the device of this request's events: kept across a reset */

static ngx_inline u_char *
ngx_http_posthog_event_device(ngx_http_posthog_ctx_t *ctx)
{
    return ctx->reset ? ctx->event_device : ctx->st.device;
}

ngx_int_t ngx_http_posthog_session_add_variables(ngx_conf_t *cf);
char *ngx_http_posthog_session(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_posthog_session_merge_conf(ngx_conf_t *cf,
    ngx_http_posthog_loc_conf_t *prev, ngx_http_posthog_loc_conf_t *conf);


/* ngx_http_posthog_jscookie.c */

ngx_int_t ngx_http_posthog_js_set_cookie(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx);
void ngx_http_posthog_js_cookie_conf(ngx_http_posthog_loc_conf_t *plcf,
    ngx_http_posthog_cookie_conf_t *js);


/* ngx_http_posthog_cookie.c */

ngx_int_t ngx_http_posthog_read_cookie(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx);
ngx_int_t ngx_http_posthog_set_cookie(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx);
void ngx_http_posthog_state_first(ngx_http_request_t *r,
    posthog_state_t *st);
size_t ngx_http_posthog_cookie_attrs_len(ngx_http_posthog_cookie_conf_t *cc);
u_char *ngx_http_posthog_cookie_attrs(ngx_http_request_t *r, u_char *p,
    ngx_http_posthog_cookie_conf_t *cc);
ngx_int_t ngx_http_posthog_cookie_push(ngx_http_request_t *r,
    u_char *cookie, u_char *last);
char *ngx_http_posthog_cookie(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_posthog_merge_cookie_conf(ngx_conf_t *cf,
    ngx_http_posthog_loc_conf_t *prev, ngx_http_posthog_loc_conf_t *conf);
char *ngx_http_posthog_cookie_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/* ngx_http_posthog_consent.c */

void ngx_http_posthog_consent_check(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx);
ngx_int_t ngx_http_posthog_consent_header_filter(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx);
ngx_int_t ngx_http_posthog_delete_cookie(ngx_http_request_t *r,
    ngx_http_posthog_cookie_conf_t *cc);
ngx_int_t ngx_http_posthog_consent_event(ngx_http_request_t *r,
    ngx_http_posthog_event_t *ev);
ngx_int_t ngx_http_posthog_consent_props(ngx_array_t *props);
ngx_int_t ngx_http_posthog_consent_add_variables(ngx_conf_t *cf);
/* ngx_http_posthog_ua.c */

/*
 * 1 when this request is a bot's or a non-browser's and "posthog_bots
 * ignore" applies: no event, no cookie.  "count" adds it to the counter
 * (once per request: the log phase).
 */
ngx_uint_t ngx_http_posthog_ua_skip(ngx_http_request_t *r, ngx_uint_t count);
/* the User-Agent's properties of the request ($browser, $os ...): one raw
 * member, pointing into the worker's cache: write it before returning */
ngx_int_t ngx_http_posthog_ua_props(ngx_http_request_t *r, ngx_array_t *a);
/* $raw_user_agent, $lib and the UA's properties as one piece:
 * NGX_DECLINED when they cannot be */
ngx_int_t ngx_http_posthog_ua_piece(ngx_http_request_t *r, ngx_array_t *a);
ngx_int_t ngx_http_posthog_ua_unpiece(ngx_http_request_t *r, ngx_array_t *a,
    ngx_uint_t i);
/* $pageview of a captured bot becomes $bot_pageview */
void ngx_http_posthog_ua_event_name(ngx_http_request_t *r, ngx_str_t *name);
void ngx_http_posthog_ua_create_conf(ngx_http_posthog_ua_conf_t *conf);
void ngx_http_posthog_ua_merge_conf(ngx_http_posthog_ua_conf_t *prev,
    ngx_http_posthog_ua_conf_t *conf);
char *ngx_http_posthog_ua_init_main_conf(ngx_conf_t *cf,
    ngx_http_posthog_main_conf_t *pmcf);
char *ngx_http_posthog_bot_user_agent(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_posthog_user_agent_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_posthog_ua_add_variables(ngx_conf_t *cf);
/* what posthog-js's rules say of the request's User-Agent: copy the
 * versions at once, the result is valid until the next call; NULL on an
 * allocation failure */
const posthog_ua_t *ngx_http_posthog_ua_get(ngx_http_request_t *r);


/* ngx_http_posthog_campaign.c */

/* $browser_language... and the campaign parameters of the request */
ngx_int_t ngx_http_posthog_campaign_props(ngx_http_request_t *r,
    ngx_array_t *a);
/* the first tag of Accept-Language, and the length of its prefix */
ngx_int_t ngx_http_posthog_language(ngx_http_request_t *r, ngx_str_t *tag,
    size_t *prefix);
/* the first touch of a new visitor: this request's referrer and URL */
/* $initial_* of the first touch and the browser, added to $set_once */
ngx_int_t ngx_http_posthog_set_once_initial(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_str_t *set_once);


#endif /* _NGX_HTTP_POSTHOG_H_INCLUDED_ */
