/*
 * One identity with posthog-js: its ph_<token>_posthog cookie read,
 * adopted and written (Set-Cookie), and its tracing headers.  Called by
 * ngx_http_posthog_session.c, when a request's session is decided, and by
 * the identity's header filter; the cookie's format is plain C in
 * posthog_jscookie.c.
 */


#include "ngx_http_posthog.h"
#include "ngx_http_posthog_session.h"
#include "posthog_cookie.h"
#include "posthog_jscookie.h"
#include "posthog_utf8.h"


static ngx_http_posthog_limit_t  ngx_http_posthog_js_fit_limit;


/* posthog-js's cookie lives a year, as posthog-js sets it */
#define NGX_HTTP_POSTHOG_JS_MAX_AGE     (365 * 24 * 60 * 60)
/* what a browser keeps of one Set-Cookie: name, value and attributes */
#define NGX_HTTP_POSTHOG_JS_COOKIE_MAX  4096


static void ngx_http_posthog_js_adopt(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx,
    ngx_http_posthog_session_ctx_t *sctx, posthog_jscookie_t *jc);


static ngx_http_posthog_limit_t  ngx_http_posthog_js_limit;


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

ngx_int_t
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
        st->known &= ~POSTHOG_STATE_KNOWN_IDS;

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
            st->known &= ~(POSTHOG_STATE_KNOWN_SESSION
                           | POSTHOG_STATE_KNOWN_ENTRY);

            if (jc->has_entry) {
                st->entry.url_len = posthog_touch_copy(st->entry.url,
                                                       POSTHOG_STATE_URL_MAX,
                                                       jc->url, jc->url_len);
                st->entry.ref_len = posthog_touch_copy(st->entry.ref,
                                                       POSTHOG_STATE_REF_MAX,
                                                       jc->ref, jc->ref_len);

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

ngx_uint_t
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
        st->known &= ~POSTHOG_STATE_KNOWN_IDS;

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
        st->known &= ~POSTHOG_STATE_KNOWN_SESSION;
    }

    return 1;
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
    posthog_state_t                 *st;
    posthog_jscookie_out_t           o;
    ngx_http_posthog_cookie_conf_t   js;
    ngx_http_posthog_session_ctx_t  *sctx;

    sctx = ctx->session;

    if (!plcf->js_cookie || plcf->js_cookie_name.len == 0 || sctx == NULL
        || !(ctx->dirty || sctx->js_write))
    {
        return NGX_OK;
    }

    st = &ctx->st;

    ngx_http_posthog_state_first(r, st);

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

    ngx_http_posthog_js_cookie_conf(plcf, &js);

    attrs = sizeof("; Max-Age=") - 1 + NGX_TIME_T_LEN
            + sizeof("; Expires=Thu, 01-Jan-1970 00:00:00 GMT") - 1
            + ngx_http_posthog_cookie_attrs_len(&js);

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

    /* URLs of quotes grow 6 times when encoded: the first touch goes
     * first (read at identify only), then the session's entry */

    if (n == 0 && o.initial_url) {
        o.initial_url = NULL;
        n = posthog_jscookie_encode(p, max, &o);
    }

    if (n == 0) {
        o.entry_url = NULL;
        n = posthog_jscookie_encode(p, max, &o);
    }

    /*
     * A 200-character user id of 4-byte characters is there twice, and
     * percent-encoded: it may not fit at all.  posthog-js's cookie is
     * then not written; ours is, and the request goes on.
     */

    if (n == 0) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BAD_JS_COOKIES, 1);
        ngx_http_posthog_log_limited(&ngx_http_posthog_js_fit_limit,
                                     NGX_LOG_WARN, r->connection->log,
                                     "posthog-js's cookie would be over "
                                     "%uz bytes, not written", max);
        return NGX_DECLINED;
    }

    p += n;

    /* posthog-js's attributes: a year, path=/, Lax, not HttpOnly */

    p = ngx_sprintf(p, "; Max-Age=%T; Expires=",
                    (time_t) NGX_HTTP_POSTHOG_JS_MAX_AGE);
    p = ngx_http_cookie_time(p, ngx_time() + NGX_HTTP_POSTHOG_JS_MAX_AGE);

    p = ngx_http_posthog_cookie_attrs(r, p, &js);

    return ngx_http_posthog_cookie_push(r, cookie, p);
}


/*
 * posthog-js's cookie as the module writes it (and so deletes it): its
 * name, Path=/, SameSite=Lax, not HttpOnly; posthog_cookie's domain and
 * Secure.
 */

void
ngx_http_posthog_js_cookie_conf(ngx_http_posthog_loc_conf_t *plcf,
    ngx_http_posthog_cookie_conf_t *js)
{
    *js = *plcf->cookie;
    js->name = plcf->js_cookie_name;
    ngx_str_set(&js->path, "/");
    js->httponly = 0;
    js->samesite = NGX_HTTP_POSTHOG_SAMESITE_LAX;
}


