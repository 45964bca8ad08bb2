/*
 * Sessions as posthog-js keeps them ($session_id, the entry page): the
 * session of a request, its events' properties, $posthog_session_id and
 * the posthog_session directive.  The rules themselves are plain C in
 * posthog_session.c; posthog-js's cookie and tracing headers, which may
 * bring the identity and the session, are in ngx_http_posthog_jscookie.c.
 */


#include "ngx_http_posthog.h"
#include "ngx_http_posthog_session.h"
#include "posthog_campaign.h"
#include "posthog_cookie.h"
#include "posthog_jscookie.h"
#include "posthog_json.h"
#include "posthog_session.h"


/*
 * $device_id and the session's properties ($session_id, $is_identified,
 * $session_entry_*) as one raw piece of JSON, made once per session: a
 * returning visitor's requests carry the same ones all session long.
 * Per worker, a slot by the session id's last (random) digits; a slot
 * answers only for the very same values (ids, flag, the entry's URL and
 * referrer compared whole), and its piece is what the members would
 * have written.  One that does not fit a slot is not kept.  A piece is
 * used before the log handler returns: no other request can take its
 * slot in between.
 */

#define NGX_HTTP_POSTHOG_ENTRY_SLOTS  64
#define NGX_HTTP_POSTHOG_ENTRY_DATA   1920

/* $device_id, $session_id, $is_identified, $session_entry_* (5) */
#define NGX_HTTP_POSTHOG_SESSION_N    8

typedef struct {
    u_char                     device[POSTHOG_UUID_LEN];
    u_char                     session[POSTHOG_UUID_LEN];
    uint16_t                   url_len;
    uint16_t                   ref_len;
    uint16_t                   len;          /* the piece's; 0: empty */
    u_char                     identified;
    u_char                     data[NGX_HTTP_POSTHOG_ENTRY_DATA];
                                             /* URL, referrer, piece */
} ngx_http_posthog_entry_slot_t;


static ngx_http_posthog_entry_slot_t
    ngx_http_posthog_entry_slots[NGX_HTTP_POSTHOG_ENTRY_SLOTS];


static ngx_int_t ngx_http_posthog_session_new(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_uint_t first);
static posthog_touch_t *ngx_http_posthog_event_entry(
    ngx_http_posthog_ctx_t *ctx, u_char **sid, ngx_uint_t *identified);
static ngx_int_t ngx_http_posthog_session_fill(
    ngx_http_posthog_entry_slot_t *slot, u_char *device, u_char *sid,
    ngx_uint_t identified, posthog_touch_t *t);
static void ngx_http_posthog_session_split(posthog_touch_t *t,
    ngx_str_t *host, ngx_str_t *path, ngx_str_t *rhost);
static ngx_uint_t ngx_http_posthog_session_members(
    ngx_http_posthog_member_t *m, ngx_http_posthog_member_t *device,
    u_char *sid, ngx_uint_t identified, posthog_touch_t *t);
static ngx_int_t ngx_http_posthog_session_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/* a member, all of its fields: "k" a literal */

#define ngx_http_posthog_session_member(m, k, v, n, mx, c)                   \
    ngx_http_posthog_session_set(m, (u_char *) k, sizeof(k) - 1,             \
                                (u_char *) (v), n, mx, c)


static ngx_inline void
ngx_http_posthog_session_set(ngx_http_posthog_member_t *m, u_char *key,
    size_t key_len, u_char *value, size_t len, size_t max, ngx_uint_t cut)
{
    /* zeroed first: any field added later starts at 0 (a 64-byte store) */

    ngx_memzero(m, sizeof(ngx_http_posthog_member_t));

    m->key.len = key_len;
    m->key.data = key;
    m->value.len = len;
    m->value.data = value;
    m->max = max;
    m->cut = cut;
}




/*
 * The session of a request, decided once, when its identity is read:
 * posthog-js's cookie and headers first (they may bring the identity and
 * the session), then the rules (keep, touch, or a new session).
 */

ngx_int_t
ngx_http_posthog_session_begin(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx)
{
    int                              rc;
    uint64_t                         now;
    ngx_uint_t                       headers;
    posthog_session_conf_t           conf;
    ngx_http_posthog_session_ctx_t  *sctx;

    sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_posthog_session_ctx_t));
    if (sctx == NULL) {
        return NGX_ERROR;
    }

    ctx->session = sctx;

    if (plcf->js_cookie && plcf->js_cookie_name.len) {
        if (ngx_http_posthog_js_read(r, plcf, ctx, sctx) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    headers = 0;

    /* as posthog-js's cookie: never what a signed identity replaces */

    if (plcf->js_headers && plcf->secret == NULL && ctx->fresh
        && sctx->js == NULL)
    {
        headers = ngx_http_posthog_js_headers(r, ctx);
    }

    conf.idle = plcf->session_idle;
    conf.max = plcf->session_max;
    conf.refresh = plcf->session_refresh;

    now = (uint64_t) r->start_sec;

    rc = posthog_session_check(&conf, ctx->st.session_start,
                               ctx->st.session_last, now);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "posthog session: %s", posthog_session_action(rc));

    switch (rc) {

    case POSTHOG_SESSION_NEW:
        if (ngx_http_posthog_session_new(r, ctx,
                                         ctx->fresh
                                         && ctx->st.first.url_len != 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        break;

    case POSTHOG_SESSION_TOUCH:
        ctx->st.session_last = now;
        ctx->dirty = 1;
        break;

    default: /* POSTHOG_SESSION_KEEP */
        break;
    }

    /* a client of the headers sends them again: nothing to store */

    if (headers) {
        ctx->dirty = 0;
        sctx->js_write = 0;
    }

    return NGX_OK;
}


/* a session starting with this request: its id's time is the request's */

static ngx_int_t
ngx_http_posthog_session_new(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_uint_t first)
{
    if (ngx_http_posthog_new_uuid(r, ctx->st.session) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->st.session_start = (uint64_t) r->start_sec;
    ctx->st.session_last = (uint64_t) r->start_sec;

    /*
     * The entry: the URL as $current_url has it, and the referrer.  A new
     * visitor's first touch was made from this request just before (see
     * ngx_http_posthog_new_anon()): copied.
     */

    if (first) {
        posthog_state_touch_copy(&ctx->st.entry, &ctx->st.first);

    } else {
        ngx_http_posthog_request_touch(r, &ctx->st.entry);
    }

    /* made here, valid (st.known); the entry's bit only if the first's */

    ctx->st.known |= POSTHOG_STATE_KNOWN_SESSION;

    if (!first || (ctx->st.known & POSTHOG_STATE_KNOWN_FIRST)) {
        ctx->st.known |= POSTHOG_STATE_KNOWN_ENTRY;

    } else {
        ctx->st.known &= ~POSTHOG_STATE_KNOWN_ENTRY;
    }

    ctx->dirty = 1;

    return NGX_OK;
}


/*
 * Logout: the request's events keep the session they belong to, and the
 * new anonymous id starts a new session with this request as its entry,
 * as posthog-js's reset() does.
 */

ngx_int_t
ngx_http_posthog_session_reset(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx)
{
    ngx_http_posthog_session_ctx_t  *sctx;

    sctx = ctx->session;

    if (!sctx->event_saved) {
        sctx->event_entry = ngx_palloc(r->pool, sizeof(posthog_touch_t));
        if (sctx->event_entry == NULL) {
            return NGX_ERROR;
        }

        posthog_state_touch_copy(sctx->event_entry, &ctx->st.entry);
        ngx_memcpy(sctx->event_session, ctx->st.session, POSTHOG_UUID_LEN);
        /* the reset has cleared the user: do_reset noted who it was */
        sctx->event_identified = !ctx->event_personless;
        sctx->event_saved = 1;
    }

    sctx->reset_ms = (uint64_t) r->start_sec * 1000 + r->start_msec;
    sctx->js_write = 1;

    return ngx_http_posthog_session_new(r, ctx, 0);
}


/* the session id and entry of this request's events: kept across a reset */

static posthog_touch_t *
ngx_http_posthog_event_entry(ngx_http_posthog_ctx_t *ctx, u_char **sid,
    ngx_uint_t *identified)
{
    ngx_http_posthog_session_ctx_t  *sctx;

    sctx = ctx->session;

    if (sctx->event_saved) {
        *sid = sctx->event_session;
        *identified = sctx->event_identified;
        return sctx->event_entry;
    }

    *sid = ctx->st.session;
    *identified = (ctx->st.user_len != 0);

    return &ctx->st.entry;
}


/*
 * $device_id ("device") and the session properties of every event of
 * this request: $session_id, $is_identified and the entry page
 * ($session_entry_*); one piece when it can be (see above).
 */

ngx_int_t
ngx_http_posthog_session_props(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_member_t *device,
    ngx_array_t *a)
{
    u_char                         *sid;
    ngx_uint_t                      n, identified;
    posthog_touch_t                *t;
    ngx_http_posthog_member_t      *m, mm[NGX_HTTP_POSTHOG_SESSION_N];
    ngx_http_posthog_entry_slot_t  *slot;

    /* without consent: the sentinel, see ngx_http_posthog_consent_props() */

    if (ctx->cookieless) {
        m = ngx_array_push(a);
        if (m == NULL) {
            return NGX_ERROR;
        }

        *m = *device;

        return NGX_OK;
    }

    t = ngx_http_posthog_event_entry(ctx, &sid, &identified);

    if (t->url_len == 0) {
        n = ngx_http_posthog_session_members(mm, device, sid, identified, t);
        goto members;
    }

    /* the last hex digits of the id are random (zero without a session) */

    slot = &ngx_http_posthog_entry_slots[(sid[35] + 16u * sid[34]
                                          + 7u * sid[33])
                                         % NGX_HTTP_POSTHOG_ENTRY_SLOTS];

    if (slot->len == 0 || slot->url_len != t->url_len
        || slot->ref_len != t->ref_len || slot->identified != identified
        || ngx_memcmp(slot->session, sid, POSTHOG_UUID_LEN) != 0
        || ngx_memcmp(slot->device, device->value.data, POSTHOG_UUID_LEN)
           != 0
        || ngx_memcmp(slot->data, t->url, t->url_len) != 0
        || ngx_memcmp(slot->data + t->url_len, t->ref, t->ref_len) != 0)
    {
        if (ngx_http_posthog_session_fill(slot, device->value.data, sid,
                                          identified, t)
            != NGX_OK)
        {
            /* too long for a slot */
            n = ngx_http_posthog_session_members(mm, device, sid, identified,
                                                 t);
            goto members;
        }
    }

    m = ngx_array_push(a);
    if (m == NULL) {
        return NGX_ERROR;
    }

    ngx_http_posthog_session_member(m, "", slot->data + t->url_len
                                           + t->ref_len,
                                    slot->len, 0,
                                    NGX_HTTP_POSTHOG_CUT_SESSION_PIECE);
    m->raw = 1;

    return NGX_OK;

members:

    m = ngx_array_push_n(a, n);
    if (m == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(m, mm, n * sizeof(ngx_http_posthog_member_t));

    return NGX_OK;
}


/*
 * The members of the piece at a[i], in its place, where an event over
 * posthog_event_max_size is cut (a piece is never cut, its members are).
 */

ngx_int_t
ngx_http_posthog_session_unpiece(ngx_http_request_t *r, ngx_array_t *a,
    ngx_uint_t i)
{
    u_char                     *sid;
    ngx_uint_t                  n, identified;
    posthog_touch_t            *t;
    ngx_http_posthog_ctx_t     *ctx;
    ngx_http_posthog_member_t  *m, device, mm[NGX_HTTP_POSTHOG_SESSION_N];

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_posthog_module);

    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_http_posthog_session_member(&device, "$device_id",
                                    ngx_http_posthog_event_device(ctx),
                                    POSTHOG_UUID_LEN, POSTHOG_UUID_LEN, 0);
    device.raw = NGX_HTTP_POSTHOG_PLAIN;

    t = ngx_http_posthog_event_entry(ctx, &sid, &identified);

    n = ngx_http_posthog_session_members(mm, &device, sid, identified, t);

    if (ngx_array_push_n(a, n - 1) == NULL) {
        return NGX_ERROR;
    }

    m = a->elts;

    ngx_memmove(&m[i + n], &m[i + 1],
                (a->nelts - n - i) * sizeof(ngx_http_posthog_member_t));
    ngx_memcpy(&m[i], mm, n * sizeof(ngx_http_posthog_member_t));

    return NGX_OK;
}


#define ngx_http_posthog_session_lit(p, s)                                   \
    ngx_cpymem(p, s, sizeof(s) - 1)

static ngx_inline u_char *
ngx_http_posthog_session_str(u_char *p, ngx_str_t *s, size_t max)
{
    *p++ = '"';
    p = posthog_json_escape(p, s->data, s->len, max);
    *p++ = '"';

    return p;
}

/* the piece's bytes but its strings: a few over is no matter */
#define NGX_HTTP_POSTHOG_SESSION_KEYS                                        \
    (sizeof("\"$device_id\":\"\",\"$session_id\":\"\","                     \
            "\"$is_identified\":false,\"$session_entry_url\":\"\","          \
            "\"$session_entry_host\":\"\","                                  \
            "\"$session_entry_pathname\":\"\","                              \
            "\"$session_entry_referrer\":\"\","                              \
            "\"$session_entry_referring_domain\":\"\"")                      \
     + 2 * POSTHOG_UUID_LEN)

/*
 * The piece in "slot", with what it is for: NGX_DECLINED if too long.
 * Written straight, not through members: the very bytes that
 * ngx_http_posthog_session_members() and members_write() give (the
 * unpiece path; t/capture/19-event-size.t compares them), without
 * making, measuring and walking eight members once per session.
 */

static ngx_int_t
ngx_http_posthog_session_fill(ngx_http_posthog_entry_slot_t *slot,
    u_char *device, u_char *sid, ngx_uint_t identified, posthog_touch_t *t)
{
    u_char     *p, *piece;
    size_t      len;
    ngx_str_t   url, ref, host, path, rhost;

    slot->len = 0;

    url.data = t->url;
    url.len = t->url_len;
    ref.data = t->ref;
    ref.len = t->ref_len;

    ngx_http_posthog_session_split(t, &host, &path, &rhost);

    len = t->url_len + t->ref_len + NGX_HTTP_POSTHOG_SESSION_KEYS
          + POSTHOG_JSON_ESCAPE_MAX(url.len + host.len + path.len + ref.len
                                    + rhost.len);

    if (len > NGX_HTTP_POSTHOG_ENTRY_DATA) {
        len = t->url_len + t->ref_len + NGX_HTTP_POSTHOG_SESSION_KEYS
              + posthog_json_escape_len(url.data, url.len,
                                        POSTHOG_STATE_URL_MAX)
              + posthog_json_escape_len(host.data, host.len,
                                        POSTHOG_STATE_URL_MAX)
              + posthog_json_escape_len(path.data, path.len,
                                        POSTHOG_STATE_URL_MAX)
              + posthog_json_escape_len(ref.data, ref.len,
                                        POSTHOG_STATE_REF_MAX)
              + posthog_json_escape_len(rhost.data, rhost.len,
                                        POSTHOG_STATE_REF_MAX);

        if (len > NGX_HTTP_POSTHOG_ENTRY_DATA) {
            return NGX_DECLINED;
        }
    }

    ngx_memcpy(slot->device, device, POSTHOG_UUID_LEN);
    ngx_memcpy(slot->session, sid, POSTHOG_UUID_LEN);
    slot->identified = (u_char) identified;

    p = ngx_cpymem(slot->data, t->url, t->url_len);
    p = ngx_cpymem(p, t->ref, t->ref_len);

    slot->url_len = (uint16_t) t->url_len;
    slot->ref_len = (uint16_t) t->ref_len;

    piece = p;

    p = ngx_http_posthog_session_lit(p, "\"$device_id\":\"");
    p = ngx_cpymem(p, device, POSTHOG_UUID_LEN);

    if (sid[0] != '\0') {
        p = ngx_http_posthog_session_lit(p, "\",\"$session_id\":\"");
        p = ngx_cpymem(p, sid, POSTHOG_UUID_LEN);
    }

    if (identified) {
        p = ngx_http_posthog_session_lit(p, "\",\"$is_identified\":true,");

    } else {
        p = ngx_http_posthog_session_lit(p, "\",\"$is_identified\":false,");
    }

    p = ngx_http_posthog_session_lit(p, "\"$session_entry_url\":");
    p = ngx_http_posthog_session_str(p, &url, POSTHOG_STATE_URL_MAX);
    p = ngx_http_posthog_session_lit(p, ",\"$session_entry_host\":");
    p = ngx_http_posthog_session_str(p, &host, POSTHOG_STATE_URL_MAX);
    p = ngx_http_posthog_session_lit(p, ",\"$session_entry_pathname\":");
    p = ngx_http_posthog_session_str(p, &path, POSTHOG_STATE_URL_MAX);
    p = ngx_http_posthog_session_lit(p, ",\"$session_entry_referrer\":");
    p = ngx_http_posthog_session_str(p, &ref, POSTHOG_STATE_REF_MAX);
    p = ngx_http_posthog_session_lit(p,
                                     ",\"$session_entry_referring_domain\":");
    p = ngx_http_posthog_session_str(p, &rhost, POSTHOG_STATE_REF_MAX);

    slot->len = (uint16_t) (p - piece);

    return NGX_OK;
}


/*
 * The entry's host, path and referring domain, as $host, $pathname and
 * $referring_domain are the request's: see those.
 */

static void
ngx_http_posthog_session_split(posthog_touch_t *t, ngx_str_t *host,
    ngx_str_t *path, ngx_str_t *rhost)
{
    posthog_url_t  u;

    (void) posthog_url_split(t->url, t->url_len, &u, 1);

    host->data = (u_char *) u.host;
    host->len = u.host_len;

    if (u.path_len) {
        path->data = (u_char *) u.path;
        path->len = u.path_len;

    } else {
        ngx_str_set(path, "/");
    }

    if (t->ref_len == 7 && ngx_strncmp(t->ref, "$direct", 7) == 0) {
        rhost->data = t->ref;
        rhost->len = t->ref_len;

    } else {
        (void) posthog_url_split(t->ref, t->ref_len, &u, 0);

        rhost->data = (u_char *) u.host;
        rhost->len = u.host_len;
    }
}


/*
 * $device_id, then the session's members in "m", cut with their kinds
 * when an event is over posthog_event_max_size; their number.
 */

static ngx_uint_t
ngx_http_posthog_session_members(ngx_http_posthog_member_t *m,
    ngx_http_posthog_member_t *device, u_char *sid, ngx_uint_t identified,
    posthog_touch_t *t)
{
    ngx_str_t   url, ref, host, path, rhost;
    ngx_uint_t  n;

    m[0] = *device;
    n = 1;

    /*
     * The session id is a checked UUIDv7 (decoded, made, or posthog-js's
     * checked) or all zero bytes without a session.
     */

    if (sid[0] != '\0') {
        ngx_http_posthog_session_member(&m[n], "$session_id", sid,
                                        POSTHOG_UUID_LEN, POSTHOG_UUID_LEN,
                                        0);
        m[n++].raw = NGX_HTTP_POSTHOG_PLAIN;
    }

    if (identified) {
        ngx_http_posthog_session_member(&m[n], "$is_identified", "true", 4,
                                        0, 0);

    } else {
        ngx_http_posthog_session_member(&m[n], "$is_identified", "false", 5,
                                        0, 0);
    }

    m[n++].raw = 1;

    if (t->url_len == 0) {
        return n;
    }

    url.data = t->url;
    url.len = t->url_len;
    ref.data = t->ref;
    ref.len = t->ref_len;

    ngx_http_posthog_session_split(t, &host, &path, &rhost);

    ngx_http_posthog_session_member(&m[n], "$session_entry_url", url.data,
                                    url.len, POSTHOG_STATE_URL_MAX,
                                    NGX_HTTP_POSTHOG_CUT_URL);
    ngx_http_posthog_session_member(&m[n + 1], "$session_entry_host",
                                    host.data, host.len,
                                    POSTHOG_STATE_URL_MAX,
                                    NGX_HTTP_POSTHOG_CUT_HOST);
    ngx_http_posthog_session_member(&m[n + 2], "$session_entry_pathname",
                                    path.data, path.len,
                                    POSTHOG_STATE_URL_MAX,
                                    NGX_HTTP_POSTHOG_CUT_PATHNAME);
    ngx_http_posthog_session_member(&m[n + 3], "$session_entry_referrer",
                                    ref.data, ref.len, POSTHOG_STATE_REF_MAX,
                                    NGX_HTTP_POSTHOG_CUT_REFERRER);
    ngx_http_posthog_session_member(&m[n + 4],
                                    "$session_entry_referring_domain",
                                    rhost.data, rhost.len,
                                    POSTHOG_STATE_REF_MAX,
                                    NGX_HTTP_POSTHOG_CUT_REF_DOMAIN);

    return n + 5;
}


static ngx_int_t
ngx_http_posthog_session_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_posthog_ctx_t       *ctx;
    ngx_http_posthog_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r->main, ngx_http_posthog_module);

    if (!plcf->enable) {
        v->not_found = 1;
        return NGX_OK;
    }

    ctx = ngx_http_posthog_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->st.session_start == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ctx->st.session;
    v->len = POSTHOG_UUID_LEN;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_http_variable_t  ngx_http_posthog_session_var[] = {

    { ngx_string("posthog_session_id"), NULL,
      ngx_http_posthog_session_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_posthog_session_add_variables(ngx_conf_t *cf)
{
    return ngx_http_posthog_add_variable_table(cf,
                                               ngx_http_posthog_session_var);
}


/* posthog_session [idle=TIME] [max=TIME] [refresh=TIME] */

char *
ngx_http_posthog_session(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_loc_conf_t *plcf = conf;

    time_t      *tp, t;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (plcf->session_idle != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    plcf->session_idle = POSTHOG_SESSION_IDLE;
    plcf->session_max = POSTHOG_SESSION_MAX;
    plcf->session_refresh = POSTHOG_SESSION_REFRESH;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "idle=", 5) == 0) {
            tp = &plcf->session_idle;
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

        } else if (ngx_strncmp(value[i].data, "max=", 4) == 0) {
            tp = &plcf->session_max;
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

        } else if (ngx_strncmp(value[i].data, "refresh=", 8) == 0) {
            tp = &plcf->session_refresh;
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

        } else {
            goto invalid;
        }

        t = ngx_parse_time(&s, 1);

        if (t == (time_t) NGX_ERROR || (t == 0 && tp != &plcf->session_refresh)
            || t > 366 * 24 * 60 * 60)
        {
            goto invalid;
        }

        *tp = t;
    }

    if (plcf->session_idle > plcf->session_max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": idle=%T is longer than max=%T",
                           &cmd->name, plcf->session_idle,
                           plcf->session_max);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive, "
                       "expected idle=TIME, max=TIME or refresh=TIME",
                       &value[i], &cmd->name);

    return NGX_CONF_ERROR;
}


char *
ngx_http_posthog_session_merge_conf(ngx_conf_t *cf,
    ngx_http_posthog_loc_conf_t *prev, ngx_http_posthog_loc_conf_t *conf)
{
    size_t  len;

    if (conf->session_idle == NGX_CONF_UNSET) {
        if (prev->session_idle == NGX_CONF_UNSET) {
            conf->session_idle = POSTHOG_SESSION_IDLE;
            conf->session_max = POSTHOG_SESSION_MAX;
            conf->session_refresh = POSTHOG_SESSION_REFRESH;

        } else {
            conf->session_idle = prev->session_idle;
            conf->session_max = prev->session_max;
            conf->session_refresh = prev->session_refresh;
        }
    }

    /* a refresh of half the idle limit keeps a session alive between two
     * requests a little less than idle apart */

    if (conf->session_refresh > conf->session_idle / 2) {
        conf->session_refresh = conf->session_idle / 2;
    }

    ngx_conf_merge_value(conf->js_cookie, prev->js_cookie, 0);
    ngx_conf_merge_value(conf->js_headers, prev->js_headers, 0);

    if (!conf->js_cookie || conf->api_key.len == 0) {
        return NGX_CONF_OK;
    }

    if (prev->js_cookie_name.data && prev->api_key.data == conf->api_key.data)
    {
        conf->js_cookie_name = prev->js_cookie_name;
        return NGX_CONF_OK;
    }

    len = 2 * conf->api_key.len + sizeof("ph__posthog") - 1;

    conf->js_cookie_name.data = ngx_pnalloc(cf->pool, len);
    if (conf->js_cookie_name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->js_cookie_name.len = posthog_jscookie_name(
                                        conf->js_cookie_name.data,
                                        conf->api_key.data,
                                        conf->api_key.len);

    if (!posthog_cookie_name_valid(conf->js_cookie_name.data,
                                   conf->js_cookie_name.len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"posthog_js_cookie\": the api key \"%V\" "
                           "does not make a valid cookie name",
                           &conf->api_key);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
