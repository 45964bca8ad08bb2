/*
 * Sessions as posthog-js keeps them ($session_id, the entry page), and one
 * identity with posthog-js: its ph_<token>_posthog cookie read, adopted
 * and written, and its tracing headers.  The rules themselves are plain C
 * in posthog_session.c and posthog_jscookie.c.
 */


#include "ngx_http_posthog.h"
#include "posthog_cookie.h"
#include "posthog_jscookie.h"
#include "posthog_session.h"
#include "posthog_utf8.h"


/* posthog-js's cookie lives a year, as posthog-js sets it */
#define NGX_HTTP_POSTHOG_JS_MAX_AGE     (365 * 24 * 60 * 60)
/* what a browser keeps of one Set-Cookie: name, value and attributes */
#define NGX_HTTP_POSTHOG_JS_COOKIE_MAX  4096


typedef struct {
    /* the session of this request's events: kept across a reset */
    u_char                     event_session[POSTHOG_UUID_LEN];
    posthog_touch_t            event_entry;

    posthog_jscookie_t        *js;           /* posthog-js's, as read */
    uint64_t                   reset_ms;     /* $last_posthog_reset */

    unsigned                   event_saved:1;
    unsigned                   event_identified:1;
    unsigned                   js_write:1;   /* write posthog-js's cookie */
} ngx_http_posthog_session_ctx_t;


static ngx_int_t ngx_http_posthog_session_new(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx);
static void ngx_http_posthog_touch_set(u_char *dst, size_t *dlen, size_t max,
    u_char *src, size_t len);
static ngx_int_t ngx_http_posthog_js_read(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx,
    ngx_http_posthog_session_ctx_t *sctx);
static void ngx_http_posthog_js_adopt(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx,
    ngx_http_posthog_session_ctx_t *sctx, posthog_jscookie_t *jc);
static ngx_uint_t ngx_http_posthog_js_headers(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx);
static ngx_table_elt_t *ngx_http_posthog_header_in(ngx_http_request_t *r,
    const char *name, size_t len);
static void ngx_http_posthog_host_of(ngx_str_t *url, ngx_str_t *host,
    ngx_str_t *path);
static ngx_int_t ngx_http_posthog_session_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_str_t  ngx_http_posthog_session_var =
    ngx_string("posthog_session_id");

static ngx_http_posthog_limit_t  ngx_http_posthog_js_limit;


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
        if (ngx_http_posthog_session_new(r, ctx) != NGX_OK) {
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
    ngx_http_posthog_ctx_t *ctx)
{
    u_char                     url[POSTHOG_STATE_URL_MAX];
    size_t                     len;
    ngx_str_t                  host, scheme, path, *ref;
    posthog_touch_t           *t;
    ngx_http_core_srv_conf_t  *cscf;

    if (ngx_http_posthog_new_uuid(r, ctx->st.session) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->st.session_start = (uint64_t) r->start_sec;
    ctx->st.session_last = (uint64_t) r->start_sec;

    /* the entry: the URL as $current_url has it, and the referrer */

    r = r->main;

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https://");
    } else
#endif
    {
        ngx_str_set(&scheme, "http://");
    }

    path = r->unparsed_uri;

    len = ngx_min(scheme.len + host.len + path.len, sizeof(url));
    ngx_memcpy(url, scheme.data, scheme.len);
    ngx_memcpy(url + scheme.len, host.data,
               ngx_min(host.len, sizeof(url) - scheme.len));

    if (scheme.len + host.len < sizeof(url)) {
        ngx_memcpy(url + scheme.len + host.len, path.data,
                   len - scheme.len - host.len);
    }

    t = &ctx->st.entry;

    ngx_http_posthog_touch_set(t->url, &t->url_len, POSTHOG_STATE_URL_MAX,
                               url, len);

    ref = r->headers_in.referer ? &r->headers_in.referer->value : NULL;

    if (ref && ref->len) {
        ngx_http_posthog_touch_set(t->ref, &t->ref_len,
                                   POSTHOG_STATE_REF_MAX, ref->data,
                                   ref->len);

    } else {
        t->ref_len = 7;
        ngx_memcpy(t->ref, "$direct", 7);
    }

    if (t->url_len == 0 || t->ref_len == 0) {
        t->url_len = 0;
        t->ref_len = 0;
    }

    ctx->dirty = 1;

    return NGX_OK;
}


/*
 * A touch string as the state codec takes it: well-formed UTF-8 without
 * control bytes, at most "max" bytes.  A byte that is neither is written
 * %XX, as a browser sends it; the string is cut on a character boundary.
 */

static void
ngx_http_posthog_touch_set(u_char *dst, size_t *dlen, size_t max, u_char *src,
    size_t len)
{
    size_t    i, k, n, o;
    uint32_t  cp;

    o = 0;

    for (i = 0; i < len; i += n) {
        n = posthog_utf8_next(src + i, len - i, &cp);

        if (cp != POSTHOG_UTF8_BAD && cp >= 0x20 && cp != 0x7f
            && cp != 0x2028 && cp != 0x2029)
        {
            if (o + n > max) {
                break;
            }

            ngx_memcpy(dst + o, src + i, n);
            o += n;
            continue;
        }

        if (o + 3 * n > max) {
            break;
        }

        for (k = 0; k < n; k++) {
            dst[o++] = '%';
            dst[o++] = "0123456789ABCDEF"[src[i + k] >> 4];
            dst[o++] = "0123456789ABCDEF"[src[i + k] & 0xf];
        }
    }

    *dlen = o;
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
        ngx_memcpy(sctx->event_session, ctx->st.session, POSTHOG_UUID_LEN);
        sctx->event_entry = ctx->st.entry;
        /* the reset has cleared the user: do_reset noted who it was */
        sctx->event_identified = !ctx->event_personless;
        sctx->event_saved = 1;
    }

    sctx->reset_ms = (uint64_t) r->start_sec * 1000 + r->start_msec;
    sctx->js_write = 1;

    return ngx_http_posthog_session_new(r, ctx);
}


/*
 * The session properties of every event of this request: $session_id,
 * $is_identified and the entry page ($session_entry_*).
 */

ngx_int_t
ngx_http_posthog_session_props(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_array_t *a)
{
    ngx_str_t                        url, ref, host, path, rhost, rpath;
    ngx_uint_t                       i, identified;
    posthog_touch_t                 *t;
    ngx_http_posthog_member_t       *m;
    ngx_http_posthog_session_ctx_t  *sctx;
    u_char                          *sid;

    /* cut with their kind when an event is over posthog_event_max_size */

    struct {
        char        *key;
        ngx_str_t   *value;
        size_t       max;
        ngx_uint_t   cut;
    } props[] = {
        { "$session_entry_url", &url, POSTHOG_STATE_URL_MAX,
          NGX_HTTP_POSTHOG_CUT_URL },
        { "$session_entry_host", &host, POSTHOG_STATE_URL_MAX,
          NGX_HTTP_POSTHOG_CUT_HOST },
        { "$session_entry_pathname", &path, POSTHOG_STATE_URL_MAX,
          NGX_HTTP_POSTHOG_CUT_PATHNAME },
        { "$session_entry_referrer", &ref, POSTHOG_STATE_REF_MAX,
          NGX_HTTP_POSTHOG_CUT_REFERRER },
        { "$session_entry_referring_domain", &rhost, POSTHOG_STATE_REF_MAX,
          NGX_HTTP_POSTHOG_CUT_REF_DOMAIN },
    };

    /* without consent: the sentinel, see ngx_http_posthog_consent_props() */

    if (ctx->cookieless) {
        return NGX_OK;
    }

    sctx = ctx->session;

    if (sctx->event_saved) {
        sid = sctx->event_session;
        t = &sctx->event_entry;
        identified = sctx->event_identified;

    } else {
        sid = ctx->st.session;
        t = &ctx->st.entry;
        identified = (ctx->st.user_len != 0);
    }

    if (posthog_uuid_valid(sid, POSTHOG_UUID_LEN)) {
        m = ngx_array_push(a);
        if (m == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(m, sizeof(ngx_http_posthog_member_t));
        ngx_str_set(&m->key, "$session_id");
        m->value.data = sid;
        m->value.len = POSTHOG_UUID_LEN;
        m->max = POSTHOG_UUID_LEN;
    }

    m = ngx_array_push(a);
    if (m == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(m, sizeof(ngx_http_posthog_member_t));
    ngx_str_set(&m->key, "$is_identified");

    if (identified) {
        ngx_str_set(&m->value, "true");

    } else {
        ngx_str_set(&m->value, "false");
    }

    m->raw = 1;

    if (t->url_len == 0) {
        return NGX_OK;
    }

    url.data = t->url;
    url.len = t->url_len;
    ref.data = t->ref;
    ref.len = t->ref_len;

    ngx_http_posthog_host_of(&url, &host, &path);

    if (ref.len == 7 && ngx_strncmp(ref.data, "$direct", 7) == 0) {
        rhost = ref;

    } else {
        ngx_http_posthog_host_of(&ref, &rhost, &rpath);
    }

    for (i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
        m = ngx_array_push(a);
        if (m == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(m, sizeof(ngx_http_posthog_member_t));
        m->key.data = (u_char *) props[i].key;
        m->key.len = ngx_strlen(props[i].key);
        m->value = *props[i].value;
        m->max = props[i].max;
        m->cut = props[i].cut;
    }

    return NGX_OK;
}


/* "scheme://user@host:port/path?query": host:port, and /path */

static void
ngx_http_posthog_host_of(ngx_str_t *url, ngx_str_t *host, ngx_str_t *path)
{
    u_char  *p, *q, *end;

    p = url->data;
    end = url->data + url->len;

    q = ngx_strlcasestrn(p, end, (u_char *) "://", 3 - 1);
    if (q) {
        p = q + 3;
    }

    for (q = p; q < end && *q != '/' && *q != '?' && *q != '#'; q++) {
        if (*q == '@') {
            p = q + 1;
        }
    }

    host->data = p;
    host->len = q - p;

    for (p = q; q < end && *q != '?' && *q != '#'; q++) {
        /* void */
    }

    path->data = p;
    path->len = q - p;

    if (path->len == 0) {
        ngx_str_set(path, "/");
    }
}


/*
 * posthog-js's cookie.  Whose identity wins when both cookies exist and
 * disagree:
 *
 *   - With posthog_cookie_secret, ours: a signed identity is one a client
 *     cannot choose, and a script or the client can write posthog-js's
 *     cookie at will.  posthog-js's is then only written, never adopted.
 *   - Without, posthog-js's: neither cookie is authenticated, and the two
 *     can only part when posthog-js changed the identity in the browser
 *     (identify() or reset() in JavaScript), since the module writes both
 *     whenever it changes it; following posthog-js keeps one person.
 */

static ngx_int_t
ngx_http_posthog_js_read(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx,
    ngx_http_posthog_session_ctx_t *sctx)
{
    int                  rc;
    size_t               vlen, len;
    ngx_int_t            n;
    ngx_str_t           *name;
    const u_char        *v, *value;
    ngx_table_elt_t     *h;
    posthog_jscookie_t  *jc;
#if (nginx_version < 1023000)
    ngx_uint_t           i;
    ngx_table_elt_t    **hh;
#endif

    name = &plcf->js_cookie_name;
    n = 0;
    len = 0;
    value = NULL;

#if (nginx_version >= 1023000)

    for (h = r->headers_in.cookie; h; h = h->next) {

#else

    hh = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = hh[i];

#endif
        v = NULL;
        vlen = 0;

        n += posthog_cookie_find(h->value.data, h->value.len, name->data,
                                 name->len, &v, &vlen);

        if (value == NULL && v != NULL) {
            value = v;
            len = vlen;
        }
    }

    if (n == 0) {
        sctx->js_write = 1;
        ctx->dirty = 1;
        return NGX_OK;
    }

    if (n > 1) {
        /* one for the host, one for the domain: which is current is moot */
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BAD_JS_COOKIES, 1);
        ngx_http_posthog_log_limited(&ngx_http_posthog_js_limit,
                                     NGX_LOG_INFO, r->connection->log,
                                     "posthog-js's cookie \"%V\" sent %i "
                                     "times, ignored", name, n);
        return NGX_OK;
    }

    jc = ngx_palloc(r->pool, sizeof(posthog_jscookie_t));
    if (jc == NULL) {
        return NGX_ERROR;
    }

    rc = posthog_jscookie_parse(jc, value, len);

    if (rc != POSTHOG_JSCOOKIE_OK) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BAD_JS_COOKIES, 1);
        ngx_http_posthog_log_limited(&ngx_http_posthog_js_limit,
                                     NGX_LOG_INFO, r->connection->log,
                                     "posthog-js's cookie \"%V\" refused "
                                     "(%uz bytes, %s)", name, len,
                                     posthog_jscookie_reason(rc));

        /* posthog-js reads it the same way: replace it with a good one */
        sctx->js_write = 1;
        ctx->dirty = 1;
        return NGX_OK;
    }

    sctx->js = jc;

    ngx_http_posthog_js_adopt(r, plcf, ctx, sctx, jc);

    return NGX_OK;
}


static void
ngx_http_posthog_js_adopt(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx,
    ngx_http_posthog_session_ctx_t *sctx, posthog_jscookie_t *jc)
{
    ngx_uint_t        identified, same;
    posthog_state_t  *st;

    st = &ctx->st;

    identified = (jc->user_state == POSTHOG_JSCOOKIE_IDENTIFIED);

    /* an old posthog-js without $user_state: a UUID is an anonymous id */

    if (jc->user_state == POSTHOG_JSCOOKIE_UNKNOWN) {
        identified = !posthog_uuid_valid(jc->id, jc->id_len);
    }

    if (!identified && !posthog_uuid_valid(jc->id, jc->id_len)) {
        /* an anonymous id we cannot hold (a bootstrapped one): ours */
        sctx->js_write = 1;
        ctx->dirty = 1;
        return;
    }

    if (identified) {
        same = (st->user_len == jc->id_len
                && ngx_memcmp(st->user, jc->id, jc->id_len) == 0);

    } else {
        same = (st->user_len == 0
                && ngx_memcmp(st->anon, jc->id, POSTHOG_UUID_LEN) == 0);
    }

    if (!same) {

        if (plcf->secret && !ctx->fresh) {
            /* ours is signed: posthog-js's is rewritten to match */
            sctx->js_write = 1;
            ctx->dirty = 1;
            return;
        }

        if (plcf->secret) {
            /* no cookie of ours: a signed id is never one a client chose */
            sctx->js_write = 1;
            return;
        }

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "posthog: posthog-js's identity adopted");

        if (identified) {
            ngx_memcpy(st->user, jc->id, jc->id_len);
            st->user_len = jc->id_len;

        } else {
            ngx_memcpy(st->anon, jc->id, POSTHOG_UUID_LEN);
            st->user_len = 0;
        }

        if (jc->has_device) {
            ngx_memcpy(st->device, jc->device, POSTHOG_UUID_LEN);
        }

        st->issued = (uint64_t) r->start_sec;

        /* a returning visitor: posthog-js has seen them before */
        ctx->fresh = 0;
        ctx->dirty = 1;
    }

    /* the session: posthog-js's when it is the more recent one */

    if (jc->has_session
        && (st->session_start == 0
            || jc->session_last / 1000 > st->session_last
            || (jc->session_last / 1000 == st->session_last
                && ngx_memcmp(jc->session, st->session, POSTHOG_UUID_LEN)
                   == 0))
        && jc->session_start / 1000 <= POSTHOG_STATE_NUM_MAX
        && jc->session_last / 1000 <= POSTHOG_STATE_NUM_MAX
        && jc->session_start >= 1000)
    {
        if (ngx_memcmp(jc->session, st->session, POSTHOG_UUID_LEN) != 0) {
            ngx_memcpy(st->session, jc->session, POSTHOG_UUID_LEN);
            st->session_start = jc->session_start / 1000;
            ngx_memzero(&st->entry, sizeof(posthog_touch_t));

            if (jc->has_entry) {
                ngx_http_posthog_touch_set(st->entry.url, &st->entry.url_len,
                                           POSTHOG_STATE_URL_MAX, jc->url,
                                           jc->url_len);
                ngx_http_posthog_touch_set(st->entry.ref, &st->entry.ref_len,
                                           POSTHOG_STATE_REF_MAX, jc->ref,
                                           jc->ref_len);

                if (st->entry.url_len == 0 || st->entry.ref_len == 0) {
                    ngx_memzero(&st->entry, sizeof(posthog_touch_t));
                }
            }

            ctx->dirty = 1;
        }

        st->session_last = jc->session_last / 1000;
    }
}


/*
 * posthog-js's tracing headers, for a client that sent no cookie of ours:
 * X-POSTHOG-DISTINCT-ID (a UUID is an anonymous id, anything else a user)
 * and X-POSTHOG-SESSION-ID (a UUIDv7).  Checked like any id; nothing is
 * written back: such a client sends them again with every request.
 */

static ngx_uint_t
ngx_http_posthog_js_headers(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx)
{
    size_t            start, n;
    ngx_int_t         rc;
    ngx_table_elt_t  *h;
    posthog_state_t  *st;

    st = &ctx->st;

    h = ngx_http_posthog_header_in(r, "x-posthog-distinct-id",
                                   sizeof("x-posthog-distinct-id") - 1);

    if (h == NULL) {
        return 0;
    }

    rc = posthog_id_check(h->value.data, h->value.len, &start, &n);

    if (rc != POSTHOG_ID_OK) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REFUSED_IDS, 1);
        ngx_http_posthog_log_limited(&ngx_http_posthog_js_limit,
                                     NGX_LOG_INFO, r->connection->log,
                                     "X-POSTHOG-DISTINCT-ID refused (%s)",
                                     posthog_id_reason(rc));
        return 0;
    }

    if (posthog_uuid_valid(h->value.data + start, n)) {
        ngx_memcpy(st->anon, h->value.data + start, POSTHOG_UUID_LEN);
        ngx_memcpy(st->device, st->anon, POSTHOG_UUID_LEN);
        st->user_len = 0;

    } else {
        ngx_memcpy(st->user, h->value.data + start, n);
        st->user_len = n;
    }

    h = ngx_http_posthog_header_in(r, "x-posthog-session-id",
                                   sizeof("x-posthog-session-id") - 1);

    if (h && posthog_uuid_v7_valid(h->value.data, h->value.len)
        && posthog_uuid_v7_time(h->value.data) / 1000
           <= (uint64_t) r->start_sec)
    {
        ngx_memcpy(st->session, h->value.data, POSTHOG_UUID_LEN);
        st->session_start = posthog_uuid_v7_time(h->value.data) / 1000;
        st->session_last = (uint64_t) r->start_sec;
    }

    return 1;
}


static ngx_table_elt_t *
ngx_http_posthog_header_in(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * Writes posthog-js's cookie when the state changed (first visit, identify,
 * reset, a new or touched session), or when it was absent or refused.
 * posthog-js's other members are kept, except at a reset, which clears
 * them as posthog-js's reset() does.
 */

ngx_int_t
ngx_http_posthog_js_set_cookie(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx)
{
    u_char                          *cookie, *p;
    size_t                           len, n, max, attrs;
    ngx_uint_t                       secure;
    posthog_state_t                 *st;
    ngx_table_elt_t                 *set_cookie;
    posthog_jscookie_out_t           o;
    ngx_http_posthog_cookie_conf_t  *cc;
    ngx_http_posthog_session_ctx_t  *sctx;

    sctx = ctx->session;

    if (!plcf->js_cookie || plcf->js_cookie_name.len == 0 || sctx == NULL
        || !(ctx->dirty || sctx->js_write))
    {
        return NGX_OK;
    }

    st = &ctx->st;
    cc = plcf->cookie;

    ngx_memzero(&o, sizeof(posthog_jscookie_out_t));

    if (st->user_len) {
        o.id = st->user;
        o.id_len = st->user_len;
        o.identified = 1;

    } else {
        o.id = st->anon;
        o.id_len = POSTHOG_UUID_LEN;
    }

    o.device = st->device;

    if (st->session_start) {
        o.session = st->session;
        o.session_start = st->session_start * 1000;
        o.session_last = st->session_last * 1000;

        if (st->entry.url_len) {
            o.entry_url = st->entry.url;
            o.entry_url_len = st->entry.url_len;
            o.entry_ref = st->entry.ref;
            o.entry_ref_len = st->entry.ref_len;
        }
    }

    if (st->first.url_len) {
        o.initial_url = st->first.url;
        o.initial_url_len = st->first.url_len;
        o.initial_ref = st->first.ref;
        o.initial_ref_len = st->first.ref_len;
    }

    o.reset = sctx->reset_ms;
    o.keep = sctx->reset_ms ? NULL : sctx->js;

    /* a browser keeps 4096 bytes of name, value and attributes */

    attrs = sizeof("; Max-Age=") - 1 + NGX_TIME_T_LEN
            + sizeof("; Expires=Thu, 01-Jan-1970 00:00:00 GMT") - 1
            + sizeof("; Domain=") - 1 + cc->domain.len
            + sizeof("; Path=/; Secure; SameSite=Lax") - 1;

    len = plcf->js_cookie_name.len + 1 + attrs;
    max = (len < NGX_HTTP_POSTHOG_JS_COOKIE_MAX)
          ? NGX_HTTP_POSTHOG_JS_COOKIE_MAX - len : 0;

    cookie = ngx_pnalloc(r->pool, len + max);
    if (cookie == NULL) {
        return NGX_ERROR;
    }

    p = ngx_copy(cookie, plcf->js_cookie_name.data,
                 plcf->js_cookie_name.len);
    *p++ = '=';

    n = posthog_jscookie_encode(p, max, &o);

    if (n == 0 && o.keep) {
        /* posthog-js's members do not fit with ours: ours only */
        o.keep = NULL;
        n = posthog_jscookie_encode(p, max, &o);
    }

    if (n == 0) {
        /* URLs of quotes grow 6 times when encoded: the ids only */
        o.entry_url = NULL;
        o.initial_url = NULL;
        n = posthog_jscookie_encode(p, max, &o);
    }

    if (n == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "posthog: cannot encode posthog-js's cookie");
        return NGX_ERROR;
    }

    p += n;

    secure = (cc->secure == NGX_HTTP_POSTHOG_SECURE_ON);

#if (NGX_HTTP_SSL)
    if (cc->secure == NGX_HTTP_POSTHOG_SECURE_AUTO && r->connection->ssl) {
        secure = 1;
    }
#endif

    /* posthog-js's attributes: a year, path=/, Lax, not HttpOnly */

    p = ngx_sprintf(p, "; Max-Age=%T; Expires=",
                    (time_t) NGX_HTTP_POSTHOG_JS_MAX_AGE);
    p = ngx_http_cookie_time(p, ngx_time() + NGX_HTTP_POSTHOG_JS_MAX_AGE);

    if (cc->domain.len) {
        p = ngx_cpymem(p, "; Domain=", sizeof("; Domain=") - 1);
        p = ngx_copy(p, cc->domain.data, cc->domain.len);
    }

    p = ngx_cpymem(p, "; Path=/", sizeof("; Path=/") - 1);

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    p = ngx_cpymem(p, "; SameSite=Lax", sizeof("; SameSite=Lax") - 1);

    len = p - cookie;

    set_cookie = ngx_list_push(&r->headers_out.headers);
    if (set_cookie == NULL) {
        return NGX_ERROR;
    }

    set_cookie->hash = 1;
    ngx_str_set(&set_cookie->key, "Set-Cookie");
    set_cookie->value.len = len;
    set_cookie->value.data = cookie;
#if (nginx_version >= 1023000)
    set_cookie->next = NULL;
#endif

    return NGX_OK;
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


ngx_int_t
ngx_http_posthog_session_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_posthog_session_var,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_posthog_session_variable;

    return NGX_OK;
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
