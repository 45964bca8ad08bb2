/*
 * ngx_posthog_module: where a visit comes from, as posthog-js reads it
 * (posthog_campaign.c): the campaign parameters and the language of each
 * event, the first touch kept in the signed state, and the $initial_*
 * person properties $identify sends in $set_once.
 */

#include "ngx_http_posthog.h"
#include "posthog_ua.h"
#include "posthog_campaign.h"
#include "posthog_json.h"


static ngx_int_t ngx_http_posthog_campaign_params(ngx_http_request_t *r,
    ngx_array_t *a);
static ngx_int_t ngx_http_posthog_initial(ngx_http_request_t *r,
    ngx_array_t *a, const char *name, u_char *value, size_t len,
    ngx_uint_t raw);
static ngx_int_t ngx_http_posthog_touch_props(ngx_http_request_t *r,
    ngx_array_t *a, posthog_touch_t *t);


/* the properties of every event: the language, the campaign parameters */

ngx_int_t
ngx_http_posthog_campaign_props(ngx_http_request_t *r, ngx_array_t *a)
{
    size_t                      prefix;
    ngx_str_t                   lang;
    ngx_http_posthog_member_t  *m;

    /* a language tag: [A-Za-z0-9_-], quoted as it is, short */

    if (ngx_http_posthog_language(r, &lang, &prefix) == NGX_OK) {
        m = ngx_http_posthog_member_lit(a, "$browser_language", lang.data,
                                        lang.len);
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->raw = NGX_HTTP_POSTHOG_PLAIN;

        if (prefix) {
            m = ngx_http_posthog_member_lit(a, "$browser_language_prefix",
                                            lang.data, prefix);
            if (m == NULL) {
                return NGX_ERROR;
            }

            m->raw = NGX_HTTP_POSTHOG_PLAIN;
        }
    }

    return ngx_http_posthog_campaign_params(r, a);
}


/*
 * posthog-js registers all campaign parameters once one of them is in the
 * URL, the absent ones as null: a new campaign's visit then clears what an
 * older one left in the person's properties.
 */

static ngx_int_t
ngx_http_posthog_campaign_params(ngx_http_request_t *r, ngx_array_t *a)
{
    u_char                     *out;
    size_t                      i, found, vlen[POSTHOG_CAMPAIGN_NPARAMS];
    ngx_str_t                  *uri;
    const u_char               *v[POSTHOG_CAMPAIGN_NPARAMS];
    ngx_http_posthog_member_t  *m;

    uri = &r->main->unparsed_uri;

    /* most URLs: no query, or no campaign in it */

    if (uri->len == 0 || memchr(uri->data, '?', uri->len) == NULL
        || posthog_campaign_find(uri->data, uri->len, v, vlen) == 0)
    {
        return NGX_OK;
    }

    m = ngx_array_push_n(a, POSTHOG_CAMPAIGN_NPARAMS);
    if (m == NULL) {
        return NGX_ERROR;
    }

    found = 0;

    for (i = 0; i < POSTHOG_CAMPAIGN_NPARAMS; i++) {
        m[i].key.data = (u_char *) posthog_campaign_params[i];
        m[i].key.len = ngx_strlen(posthog_campaign_params[i]);
        m[i].max = POSTHOG_CAMPAIGN_VALUE_MAX;
        m[i].raw = 1;
        m[i].cut = NGX_HTTP_POSTHOG_CUT_CUSTOM;
        ngx_str_set(&m[i].value, "null");

        if (v[i] == NULL || vlen[i] == 0) {
            continue;
        }

        out = ngx_pnalloc(r->pool, vlen[i]);
        if (out == NULL) {
            return NGX_ERROR;
        }

        m[i].value.len = posthog_campaign_decode(out, v[i], vlen[i]);
        m[i].value.data = out;

        if (m[i].value.len) {
            m[i].raw = 0;
            found++;
        }
    }

    if (found == 0) {
        a->nelts -= POSTHOG_CAMPAIGN_NPARAMS;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_posthog_language(ngx_http_request_t *r, ngx_str_t *tag,
    size_t *prefix)
{
    ngx_table_elt_t  *h;
    const u_char     *t;

    /* the first Accept-Language: nginx keeps it when built with gzip */

#if (NGX_HTTP_HEADERS)
    h = r->main->headers_in.accept_language;
#else
    r = r->main;
    h = ngx_http_posthog_header_in(r, "accept-language",
                                   sizeof("accept-language") - 1);
#endif

    if (h == NULL) {
        return NGX_DECLINED;
    }

    tag->len = posthog_language(h->value.data, h->value.len, &t, prefix);

    if (tag->len == 0) {
        return NGX_DECLINED;
    }

    tag->data = (u_char *) t;

    return NGX_OK;
}


static ngx_int_t
ngx_http_posthog_initial(ngx_http_request_t *r, ngx_array_t *a,
    const char *name, u_char *value, size_t len, ngx_uint_t raw)
{
    u_char                     *key;
    size_t                      n;
    ngx_http_posthog_member_t  *m;

    /* "$initial_" + the name without its '$' (stripLeadingDollar) */

    if (name[0] == '$') {
        name++;
    }

    n = ngx_strlen(name);

    key = ngx_pnalloc(r->pool, sizeof("$initial_") - 1 + n);
    if (key == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(key, "$initial_", sizeof("$initial_") - 1), name,
               n);

    m = ngx_array_push(a);
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->key.data = key;
    m->key.len = sizeof("$initial_") - 1 + n;
    m->value.data = value;
    m->value.len = len;
    m->max = NGX_HTTP_POSTHOG_VALUE_MAX;
    m->raw = raw;
    m->cut = NGX_HTTP_POSTHOG_CUT_NEVER;

    return NGX_OK;
}


static ngx_int_t
ngx_http_posthog_touch_props(ngx_http_request_t *r, ngx_array_t *a,
    posthog_touch_t *t)
{
    u_char               *out;
    size_t                hl, pl, vlen, i;
    const u_char         *h, *path, *v;
    const char           *engine, *param;
    static u_char         slash[] = "/";

    if (t->ref_len == 0 && t->url_len == 0) {
        return NGX_OK;
    }

    if (ngx_http_posthog_initial(r, a, "$referrer", t->ref, t->ref_len, 0)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (t->ref_len == sizeof("$direct") - 1
        && ngx_strncmp(t->ref, "$direct", t->ref_len) == 0)
    {
        if (ngx_http_posthog_initial(r, a, "$referring_domain", t->ref,
                                        t->ref_len, 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        h = posthog_url_host(t->ref, t->ref_len, &hl, &path, &pl);

        if (h && hl
            && ngx_http_posthog_initial(r, a, "$referring_domain",
                                           (u_char *) h, hl, 0)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (t->url_len) {
        if (ngx_http_posthog_initial(r, a, "$current_url", t->url,
                                        t->url_len, 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        h = posthog_url_host(t->url, t->url_len, &hl, &path, &pl);

        if (h) {
            if (pl == 0) {
                path = slash;
                pl = 1;
            }

            if (ngx_http_posthog_initial(r, a, "$host", (u_char *) h, hl,
                                            0)
                != NGX_OK
                || ngx_http_posthog_initial(r, a, "$pathname",
                                               (u_char *) path, pl, 0)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        /* every campaign parameter, null when absent, as posthog-js */

        for (i = 0; i < posthog_campaign_nparams; i++) {
            v = posthog_query_param(t->url, t->url_len,
                                    posthog_campaign_params[i], &vlen);

            if (v && vlen) {
                out = ngx_pnalloc(r->pool, vlen);
                if (out == NULL) {
                    return NGX_ERROR;
                }

                vlen = posthog_campaign_decode(out, v, vlen);

            } else {
                vlen = 0;
            }

            if ((vlen
                 && ngx_http_posthog_initial(r, a,
                                                posthog_campaign_params[i],
                                                out, vlen, 0)
                    != NGX_OK)
                || (vlen == 0
                    && ngx_http_posthog_initial(r, a,
                                                   posthog_campaign_params[i],
                                                   (u_char *) "null", 4, 1)
                       != NGX_OK))
            {
                return NGX_ERROR;
            }
        }
    }

    engine = posthog_search_engine(t->ref, t->ref_len, &param);

    if (engine == NULL) {
        return NGX_OK;
    }

    if (ngx_http_posthog_initial(r, a, "$search_engine", (u_char *) engine,
                                    ngx_strlen(engine), 0)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = posthog_query_param(t->ref, t->ref_len, param, &vlen);

    if (v == NULL || vlen == 0) {
        return NGX_OK;
    }

    out = ngx_pnalloc(r->pool, vlen);
    if (out == NULL) {
        return NGX_ERROR;
    }

    vlen = posthog_campaign_decode(out, v, vlen);

    return ngx_http_posthog_initial(r, a, "ph_keyword", out, vlen, 0);
}


ngx_int_t
ngx_http_posthog_set_once_initial(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_str_t *set_once)
{
    u_char                       *p, *buf, *bv, *ov;
    size_t                        len;
    ngx_uint_t                    i;
    ngx_array_t                   a;
    posthog_touch_t              *t;
    const posthog_ua_t           *ua;
    ngx_http_posthog_member_t    *m;
    ngx_http_posthog_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    if (ngx_array_init(&a, r->pool, 48, sizeof(ngx_http_posthog_member_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the state before this request's identify still has the first touch */

    t = ctx->saved ? &ctx->saved->first : &ctx->st.first;

    if (ngx_http_posthog_touch_props(r, &a, t) != NGX_OK) {
        return NGX_ERROR;
    }

    if (plcf->ua.parse) {
        ua = ngx_http_posthog_ua_get(r);
        if (ua == NULL) {
            return NGX_ERROR;
        }

        /* copied: the cache slot may go before the event is written */

        bv = ngx_pnalloc(r->pool, ua->browser_version_len
                                  + ua->os_version_len + 4);
        if (bv == NULL) {
            return NGX_ERROR;
        }

        if (ua->browser_version_len) {
            ngx_memcpy(bv, ua->browser_version, ua->browser_version_len);
            ov = bv + ua->browser_version_len;

        } else {
            ngx_memcpy(bv, "null", 4);
            ov = bv + 4;
        }

        ngx_memcpy(ov, ua->os_version, ua->os_version_len);

        if ((ua->browser[0]
             && ngx_http_posthog_initial(r, &a, "$browser",
                                            (u_char *) ua->browser,
                                            ngx_strlen(ua->browser), 0)
                != NGX_OK)
            || ngx_http_posthog_initial(r, &a, "$browser_version", bv,
                                           ov - bv, 1)
               != NGX_OK
            || (ua->os[0]
                && ngx_http_posthog_initial(r, &a, "$os",
                                               (u_char *) ua->os,
                                               ngx_strlen(ua->os), 0)
                   != NGX_OK)
            || (ua->os_version_len
                && ngx_http_posthog_initial(r, &a, "$os_version", ov,
                                               ua->os_version_len, 0)
                   != NGX_OK)
            || ngx_http_posthog_initial(r, &a, "$device_type",
                                           (u_char *) ua->device_type,
                                           ngx_strlen(ua->device_type), 0)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (a.nelts == 0) {
        return NGX_OK;
    }

    /* {ours,configured}: posthog_person_property_once comes last and wins */

    m = a.elts;
    len = set_once->len + 2;

    for (i = 0; i < a.nelts; i++) {
        len += sizeof(",\"\":\"\"") - 1 + m[i].key.len
               + (m[i].raw ? m[i].value.len
                           : posthog_json_escape_len(m[i].value.data,
                                                     m[i].value.len,
                                                     m[i].max));
    }

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    p = buf;
    *p++ = '{';

    for (i = 0; i < a.nelts; i++) {
        if (i) {
            *p++ = ',';
        }

        *p++ = '"';
        p = ngx_cpymem(p, m[i].key.data, m[i].key.len);
        *p++ = '"';
        *p++ = ':';

        if (m[i].raw) {
            p = ngx_cpymem(p, m[i].value.data, m[i].value.len);
            continue;
        }

        *p++ = '"';
        p = posthog_json_escape(p, m[i].value.data, m[i].value.len,
                                m[i].max);
        *p++ = '"';
    }

    if (set_once->len > 2) {
        *p++ = ',';
        p = ngx_cpymem(p, set_once->data + 1, set_once->len - 1);

    } else {
        *p++ = '}';
    }

    set_once->data = buf;
    set_once->len = p - buf;

    return NGX_OK;
}
