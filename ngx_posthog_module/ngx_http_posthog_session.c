/*
 * Sessions as posthog-js keeps them ($session_id, the entry page): the
 * session of a request, its events' properties, $posthog_session_id and
 * the posthog_session directive.  The rules themselves are plain C in
 * posthog_session.c; posthog-js's cookie and tracing headers, which may
 * bring the identity and the session, are in ngx_http_posthog_jscookie.c.
 */


#include "ngx_http_posthog.h"
#include "ngx_http_posthog_session.h"
#include "posthog_cookie.h"
#include "posthog_jscookie.h"
#include "posthog_session.h"


static ngx_int_t ngx_http_posthog_session_new(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_uint_t first);
static void ngx_http_posthog_host_of(ngx_str_t *url, ngx_str_t *host,
    ngx_str_t *path);
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


/*
 * The session properties of every event of this request: $session_id,
 * $is_identified and the entry page ($session_entry_*).
 */

ngx_int_t
ngx_http_posthog_session_props(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_array_t *a)
{
    ngx_str_t                        url, ref, host, path, rhost;
    ngx_uint_t                       identified;
    posthog_touch_t                 *t;
    ngx_http_posthog_member_t       *m;
    ngx_http_posthog_session_ctx_t  *sctx;
    u_char                          *sid;

    /* without consent: the sentinel, see ngx_http_posthog_consent_props() */

    if (ctx->cookieless) {
        return NGX_OK;
    }

    sctx = ctx->session;

    if (sctx->event_saved) {
        sid = sctx->event_session;
        t = sctx->event_entry;
        identified = sctx->event_identified;

    } else {
        sid = ctx->st.session;
        t = &ctx->st.entry;
        identified = (ctx->st.user_len != 0);
    }

    /*
     * The session id is a checked UUIDv7 (decoded, made, or posthog-js's
     * checked) or all zero bytes without a session.
     */

    if (sid[0] != '\0') {
        m = ngx_array_push(a);
        if (m == NULL) {
            return NGX_ERROR;
        }

        ngx_http_posthog_session_member(m, "$session_id", sid,
                                        POSTHOG_UUID_LEN, POSTHOG_UUID_LEN,
                                        0);
    }

    m = ngx_array_push(a);
    if (m == NULL) {
        return NGX_ERROR;
    }

    if (identified) {
        ngx_http_posthog_session_member(m, "$is_identified", "true", 4, 0, 0);

    } else {
        ngx_http_posthog_session_member(m, "$is_identified", "false", 5, 0,
                                        0);
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
        ngx_http_posthog_host_of(&ref, &rhost, NULL);
    }

    /* cut with their kind when an event is over posthog_event_max_size */

    m = ngx_array_push_n(a, 5);
    if (m == NULL) {
        return NGX_ERROR;
    }

    ngx_http_posthog_session_member(&m[0], "$session_entry_url", url.data,
                                    url.len, POSTHOG_STATE_URL_MAX,
                                    NGX_HTTP_POSTHOG_CUT_URL);
    ngx_http_posthog_session_member(&m[1], "$session_entry_host", host.data,
                                    host.len, POSTHOG_STATE_URL_MAX,
                                    NGX_HTTP_POSTHOG_CUT_HOST);
    ngx_http_posthog_session_member(&m[2], "$session_entry_pathname",
                                    path.data, path.len,
                                    POSTHOG_STATE_URL_MAX,
                                    NGX_HTTP_POSTHOG_CUT_PATHNAME);
    ngx_http_posthog_session_member(&m[3], "$session_entry_referrer",
                                    ref.data, ref.len, POSTHOG_STATE_REF_MAX,
                                    NGX_HTTP_POSTHOG_CUT_REFERRER);
    ngx_http_posthog_session_member(&m[4], "$session_entry_referring_domain",
                                    rhost.data, rhost.len,
                                    POSTHOG_STATE_REF_MAX,
                                    NGX_HTTP_POSTHOG_CUT_REF_DOMAIN);

    return NGX_OK;
}


/*
 * The bytes that end a URL's host ('/', '?', '#': 1), its path ('?',
 * '#': 2), and the '@' of its user part (4).
 */

static const u_char  ngx_http_posthog_url_class[256] = {
    ['/'] = 1, ['?'] = 3, ['#'] = 3, ['@'] = 4
};


/*
 * "scheme://user@host:port/path?query": host:port, and /path (unless
 * "path" is NULL).
 */

static void
ngx_http_posthog_host_of(ngx_str_t *url, ngx_str_t *host, ngx_str_t *path)
{
    u_char      *p, *q, *end;
    ngx_uint_t   c;

    p = url->data;
    end = url->data + url->len;

    /* after the first "://" */

    for (q = p; end - q >= 3; q++) {
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            p = q + 3;
            break;
        }
    }

    for (q = p; q < end; q++) {
        c = ngx_http_posthog_url_class[*q];

        if (c & 1) {
            break;
        }

        if (c) {
            p = q + 1;  /* '@' */
        }
    }

    host->data = p;
    host->len = q - p;

    if (path == NULL) {
        return;
    }

    for (p = q; q < end && !(ngx_http_posthog_url_class[*q] & 2); q++) {
        /* void */
    }

    path->data = p;
    path->len = q - p;

    if (path->len == 0) {
        ngx_str_set(path, "/");
    }
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
