/*
 * Consent.  A visitor who did not agree (posthog_consent, or Sec-GPC: 1
 * with posthog_honor_gpc on) gets no cookie, none of ours is read, nobody
 * is identified or aliased, and the events are PostHog's cookieless ones,
 * as posthog-js's cookieless_mode makes them: distinct_id, $device_id
 * and $session_id are the sentinel "$posthog_cookieless", and
 * "$cookieless_mode": true.  PostHog's ingestion, with "cookieless server
 * hash mode" on in the project, replaces the sentinel with a hash of a
 * daily salt, the project, $ip, the root domain of $host, $raw_user_agent
 * and $cookieless_extra (the day is taken in $timezone, else the
 * project's), drops $ip and $raw_user_agent from the stored event, and
 * drops an event without $raw_user_agent, $ip or $host.
 */


#include "ngx_http_posthog.h"
#include "posthog_consent.h"
#include "posthog_cookie.h"


/* a deleted cookie's value and lifetime, for browsers old and new */
#define NGX_HTTP_POSTHOG_GONE                                                 \
    "=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"

#define ngx_http_posthog_key_is(m, k)                                        \
    ((m)->key.len == sizeof(k) - 1                                            \
     && ngx_strncmp((m)->key.data, k, sizeof(k) - 1) == 0)


static ngx_uint_t ngx_http_posthog_gpc(ngx_http_request_t *r);
static ngx_uint_t ngx_http_posthog_has_cookie(ngx_http_request_t *r,
    ngx_str_t *name);
static ngx_int_t ngx_http_posthog_consent_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);



static ngx_http_posthog_limit_t  ngx_http_posthog_loop_limit;
static ngx_http_posthog_limit_t  ngx_http_posthog_unhashable_limit;


/*
 * Decided once per request, when the identity is first needed (see
 * ngx_http_posthog_get_ctx()), from the request's own values: a consent
 * cookie, a header.  Anything that fails means no consent.
 */

void
ngx_http_posthog_consent_check(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_str_t   value;

    static ngx_uint_t  busy;

    if (plcf->honor_gpc && ngx_http_posthog_gpc(r)) {
        goto none;
    }

    if (plcf->consent == NULL) {
        return;
    }

    /* posthog_consent that reads $posthog_* would come back here */

    if (busy) {
        ngx_http_posthog_log_limited(&ngx_http_posthog_loop_limit,
                                     NGX_LOG_ERR, r->connection->log,
                                     "\"posthog_consent\" depends on the "
                                     "module's own variables: no consent");
        goto none;
    }

    busy = 1;
    rc = ngx_http_complex_value(r, plcf->consent, &value);
    busy = 0;

    if (rc == NGX_OK && posthog_consent_given(value.data, value.len)) {
        return;
    }

none:

    ctx->cookieless = 1;
    ctx->withdraw = ngx_http_posthog_has_cookie(r, &plcf->cookie->name);

    if (plcf->js_cookie && plcf->js_cookie_name.len) {
        ctx->withdraw_js = ngx_http_posthog_has_cookie(r,
                                                      &plcf->js_cookie_name);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "posthog: no consent, cookieless%s",
                   ctx->withdraw ? ", the cookie is deleted" : "");
}


/* Global Privacy Control: "Sec-GPC: 1", the only value the spec has */

static ngx_uint_t
ngx_http_posthog_gpc(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_http_posthog_header_in(r, "sec-gpc", sizeof("sec-gpc") - 1);

    return h != NULL && h->value.len == 1 && h->value.data[0] == '1';
}


/* whether the request carries a cookie of that name, whatever its value */

static ngx_uint_t
ngx_http_posthog_has_cookie(ngx_http_request_t *r, ngx_str_t *name)
{
    size_t            vlen;
    const u_char     *v;
    ngx_table_elt_t  *h;
#if (nginx_version < 1023000)
    ngx_uint_t        i;
    ngx_table_elt_t **hh;
#endif

#if (nginx_version >= 1023000)

    for (h = r->headers_in.cookie; h; h = h->next) {

#else

    hh = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = hh[i];

#endif
        if (posthog_cookie_find(h->value.data, h->value.len, name->data,
                                name->len, &v, &vlen))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * The response of a request without consent: no cookie, and the one the
 * visitor has from before (consent withdrawn) deleted in this response,
 * whatever its status.
 */

ngx_int_t
ngx_http_posthog_consent_header_filter(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx)
{
    ngx_http_posthog_cookie_conf_t  js;

    if ((!ctx->withdraw && !ctx->withdraw_js) || ctx->cookie_sent) {
        return NGX_OK;
    }

    ctx->cookie_sent = 1;

    if (ctx->withdraw
        && ngx_http_posthog_delete_cookie(r, plcf->cookie) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!ctx->withdraw_js) {
        return NGX_OK;
    }

    /* posthog-js's cookie (posthog_js_cookie on) goes too */

    ngx_http_posthog_js_cookie_conf(plcf, &js);

    return ngx_http_posthog_delete_cookie(r, &js);
}


/*
 * Deletes a cookie: the same name, Domain and Path as it was set with
 * (the browser's key for it), Secure and SameSite too (a __Secure- or
 * __Host- cookie, or SameSite=None, is refused without Secure), an
 * empty value, Max-Age=0 and an Expires in the past.
 */

ngx_int_t
ngx_http_posthog_delete_cookie(ngx_http_request_t *r,
    ngx_http_posthog_cookie_conf_t *cc)
{
    u_char  *cookie, *p;
    size_t   len;

    len = cc->name.len + sizeof(NGX_HTTP_POSTHOG_GONE) - 1
          + ngx_http_posthog_cookie_attrs_len(cc);

    cookie = ngx_pnalloc(r->pool, len);
    if (cookie == NULL) {
        return NGX_ERROR;
    }

    p = ngx_copy(cookie, cc->name.data, cc->name.len);
    p = ngx_cpymem(p, NGX_HTTP_POSTHOG_GONE, sizeof(NGX_HTTP_POSTHOG_GONE) - 1);
    p = ngx_http_posthog_cookie_attrs(r, p, cc);

    return ngx_http_posthog_cookie_push(r, cookie, p);
}


/*
 * An event of a request without consent, before it is made: none at all
 * with "posthog_consent_missing drop"; else the sentinel as its distinct
 * id, person-less.  NGX_DECLINED: not to be made (counted here).
 */

ngx_int_t
ngx_http_posthog_consent_event(ngx_http_request_t *r,
    ngx_http_posthog_event_t *ev)
{
    ngx_http_request_t           *mr;
    ngx_http_core_srv_conf_t     *cscf;
    ngx_http_posthog_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    if (plcf->consent_missing == NGX_HTTP_POSTHOG_CONSENT_DROP) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_UNCONSENTED,
                                  1);
        return NGX_DECLINED;
    }

    /*
     * PostHog drops a cookieless event without a user agent or a host
     * ($ip is always there): it would be shipped for nothing.  $host is
     * the Host header, else server_name (see the event's standard props).
     */

    mr = r->main;
    cscf = ngx_http_get_module_srv_conf(mr, ngx_http_core_module);

    if (mr->headers_in.user_agent == NULL
        || mr->headers_in.user_agent->value.len == 0
        || (mr->headers_in.host == NULL && cscf->server_name.len == 0))
    {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_UNHASHABLE,
                                  1);
        ngx_http_posthog_log_limited(&ngx_http_posthog_unhashable_limit,
                                     NGX_LOG_INFO, r->connection->log,
                                     "cookieless event dropped: no user "
                                     "agent or no host to hash");
        return NGX_DECLINED;
    }

    ngx_str_set(&ev->distinct_id, NGX_HTTP_POSTHOG_SENTINEL);
    ev->personless = 1;
    ngx_str_null(&ev->set);
    ngx_str_null(&ev->set_once);

    return NGX_OK;
}


/*
 * The properties of a cookieless event, once the standard ones and the
 * event's own are in: the sentinel for $device_id and $session_id, the
 * flag, and a user agent that is never cut, since it is hashed (a cut
 * one would make the visitor someone else for that event).
 */

ngx_int_t
ngx_http_posthog_consent_props(ngx_array_t *props)
{
    ngx_uint_t                  i, session;
    ngx_http_posthog_member_t  *m;

    session = 0;
    m = props->elts;

    for (i = 0; i < props->nelts; i++) {

        if (ngx_http_posthog_key_is(&m[i], "$session_id")) {
            session = 1;

        } else if (!ngx_http_posthog_key_is(&m[i], "$device_id")) {

            if (ngx_http_posthog_key_is(&m[i], "$raw_user_agent")) {
                m[i].cut = NGX_HTTP_POSTHOG_CUT_NEVER;
            }

            continue;
        }

        ngx_str_set(&m[i].value, NGX_HTTP_POSTHOG_SENTINEL);
        m[i].max = m[i].value.len;
        m[i].raw = 0;
    }

    m = ngx_array_push_n(props, session ? 1 : 2);
    if (m == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(m, (session ? 1 : 2) * sizeof(ngx_http_posthog_member_t));

    ngx_str_set(&m[0].key, "$cookieless_mode");
    ngx_str_set(&m[0].value, "true");
    m[0].raw = 1;

    if (!session) {
        ngx_str_set(&m[1].key, "$session_id");
        ngx_str_set(&m[1].value, NGX_HTTP_POSTHOG_SENTINEL);
        m[1].max = m[1].value.len;
    }

    return NGX_OK;
}


/* $posthog_consent: "1" with consent, empty without */

static ngx_int_t
ngx_http_posthog_consent_variable(ngx_http_request_t *r,
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

    v->data = (u_char *) (ctx->cookieless ? "" : "1");
    v->len = ctx->cookieless ? 0 : 1;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_http_variable_t  ngx_http_posthog_consent_var[] = {

    { ngx_string("posthog_consent"), NULL,
      ngx_http_posthog_consent_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_posthog_consent_add_variables(ngx_conf_t *cf)
{
    return ngx_http_posthog_add_variable_table(cf,
                                               ngx_http_posthog_consent_var);
}
