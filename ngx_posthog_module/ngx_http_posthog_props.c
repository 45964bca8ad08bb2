/*
 * The properties of an event: the request's standard ones, the configured
 * ones (posthog_property), and the JSON members they are written as.
 */


#include "ngx_http_posthog.h"
#include "posthog_campaign.h"
#include "posthog_json.h"
#include "posthog_stream.h"


/* a member cut with those of kind "c" (NGX_HTTP_POSTHOG_CUT_*) */
#define ngx_http_posthog_member_cut_lit(a, key, value, len, c)               \
    ngx_http_posthog_cut_as(ngx_http_posthog_member_lit(a, key, value, len), \
                            c)


static ngx_inline ngx_int_t
ngx_http_posthog_cut_as(ngx_http_posthog_member_t *m, ngx_uint_t cut)
{
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->cut = cut;

    return NGX_OK;
}



static ngx_str_t  ngx_http_posthog_reserved[] = {
    ngx_string("$current_url"),
    ngx_string("$host"),
    ngx_string("$pathname"),
    ngx_string("$referrer"),
    ngx_string("$referring_domain"),
    ngx_string("$ip"),
    ngx_string("$raw_user_agent"),
    ngx_string("$lib"),
    ngx_string("$lib_version"),
    ngx_string("$device_id"),
    ngx_string("$process_person_profile"),
    ngx_string("$anon_distinct_id"),
    ngx_string("$cookieless_mode"),
    /* ngx_http_posthog_session.c */
    ngx_string("$session_id"),
    ngx_string("$is_identified"),
    ngx_string("$pageview_id"),
    ngx_string("$session_entry_url"),
    ngx_string("$session_entry_host"),
    ngx_string("$session_entry_pathname"),
    ngx_string("$session_entry_referrer"),
    ngx_string("$session_entry_referring_domain"),
    ngx_string("$browser"),
    ngx_string("$browser_version"),
    ngx_string("$os"),
    ngx_string("$os_version"),
    ngx_string("$device"),
    ngx_string("$device_type"),
    ngx_string("$browser_language"),
    ngx_string("$browser_language_prefix"),
    ngx_string("$browser_type"),
    ngx_null_string
};


/*
 * A copy of a key or a short value without a call: two overlapping moves
 * of a fixed size, read inside src[0..n) only.
 */

static ngx_inline u_char *
ngx_http_posthog_cpy_short(u_char *dst, u_char *src, size_t n)
{
    if (n >= 16) {
        if (n > 32) {
            return ngx_cpymem(dst, src, n);
        }

        ngx_memcpy(dst, src, 16);
        ngx_memcpy(dst + n - 16, src + n - 16, 16);

    } else if (n >= 8) {
        ngx_memcpy(dst, src, 8);
        ngx_memcpy(dst + n - 8, src + n - 8, 8);

    } else if (n >= 4) {
        ngx_memcpy(dst, src, 4);
        ngx_memcpy(dst + n - 4, src + n - 4, 4);

    } else {
        while (n--) {
            *dst++ = *src++;
        }

        return dst;
    }

    return dst + n;
}


/*
 * The URL as the client asked for it, before any rewrite (posthog-js's
 * location.href): the scheme, the Host header with its port (posthog-js's
 * location.host; server_name without one) and the unparsed URI, in the
 * request's pool.  "host" is set to the host part.
 */

ngx_int_t
ngx_http_posthog_request_url(ngx_http_request_t *r, ngx_str_t *url,
    ngx_str_t *host)
{
    u_char                    *p;
    ngx_str_t                  scheme;
    ngx_http_core_srv_conf_t  *cscf;

    r = r->main;

    if (r->headers_in.host) {
        *host = r->headers_in.host->value;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        *host = cscf->server_name;
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https://");
    } else
#endif
    {
        ngx_str_set(&scheme, "http://");
    }

    url->len = scheme.len + host->len + r->unparsed_uri.len;

    url->data = ngx_pnalloc(r->pool, url->len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_posthog_cpy_short(url->data, scheme.data, scheme.len);
    p = ngx_http_posthog_cpy_short(p, host->data, host->len);
    (void) ngx_http_posthog_cpy_short(p, r->unparsed_uri.data,
                                      r->unparsed_uri.len);

    return NGX_OK;
}


/* the first request header "name" (lower case, "len" bytes), or NULL */

ngx_table_elt_t *
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
 * The request's page and where it came from, as posthog-js's {r, u}: the
 * referrer ("$direct" without one) and the URL, copied as the state's
 * touches take them (posthog_touch_copy).  Both empty if the URL cannot
 * be had.  The browser's first touch ($initial_person_info, from which
 * the $initial_* person properties are derived at identify) and a
 * session's entry page are both this.
 */

void
ngx_http_posthog_request_touch(ngx_http_request_t *r, posthog_touch_t *t)
{
    ngx_str_t   url, host, *ref;

    r = r->main;

    if (ngx_http_posthog_request_url(r, &url, &host) != NGX_OK) {
        t->url_len = 0;
        t->ref_len = 0;
        return;
    }

    t->url_len = posthog_touch_copy(t->url, POSTHOG_STATE_URL_MAX, url.data,
                                    url.len);

    ref = r->headers_in.referer ? &r->headers_in.referer->value : NULL;

    t->ref_len = 0;

    if (ref && ref->len) {
        t->ref_len = posthog_touch_copy(t->ref, POSTHOG_STATE_REF_MAX,
                                        ref->data, ref->len);
    }

    if (t->ref_len == 0) {
        t->ref_len = sizeof("$direct") - 1;
        ngx_memcpy(t->ref, "$direct", t->ref_len);
    }

    if (t->url_len == 0) {
        t->ref_len = 0;
    }
}


ngx_int_t
ngx_http_posthog_standard_props(ngx_http_request_t *r, ngx_array_t *a,
    ngx_uint_t pieces)
{
    u_char                     *q;
    ngx_int_t                   rc;
    ngx_str_t                   url, host, path, *ref;
    posthog_url_t               u;
    ngx_http_posthog_member_t  *m;

    r = r->main;

    if (ngx_http_posthog_request_url(r, &url, &host) != NGX_OK) {
        return NGX_ERROR;
    }

    path = r->unparsed_uri;

    q = ngx_strlchr(path.data, path.data + path.len, '?');

    if (ngx_http_posthog_member_cut_lit(a, "$current_url", url.data,
                                        url.len, NGX_HTTP_POSTHOG_CUT_URL)
        != NGX_OK
        || ngx_http_posthog_member_cut_lit(a, "$host", host.data, host.len,
                                           NGX_HTTP_POSTHOG_CUT_HOST)
           != NGX_OK
        || ngx_http_posthog_member_cut_lit(a, "$pathname", path.data,
                                           q ? (size_t) (q - path.data)
                                             : path.len,
                                           NGX_HTTP_POSTHOG_CUT_PATHNAME)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* $referring_domain is the referrer's host, as posthog-js has it */

    ref = r->headers_in.referer ? &r->headers_in.referer->value : NULL;

    if (ref && ref->len) {
        if (ngx_http_posthog_member_cut_lit(a, "$referrer", ref->data,
                                            ref->len,
                                            NGX_HTTP_POSTHOG_CUT_REFERRER)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        (void) posthog_url_split(ref->data, ref->len, &u, 0);

        if (ngx_http_posthog_member_cut_lit(a, "$referring_domain",
                                            (u_char *) u.host, u.host_len,
                                            NGX_HTTP_POSTHOG_CUT_REF_DOMAIN)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        if (ngx_http_posthog_member_lit(a, "$referrer",
                                        (u_char *) "$direct", 7)
            == NULL
            || ngx_http_posthog_member_lit(a, "$referring_domain",
                                           (u_char *) "$direct", 7)
               == NULL)
        {
            return NGX_ERROR;
        }
    }

    /* the client's address, after realip: else GeoIP finds the server */

    if (ngx_http_posthog_member_lit(a, "$ip", r->connection->addr_text.data,
                                    r->connection->addr_text.len)
        == NULL)
    {
        return NGX_ERROR;
    }

    /* the user agent's: one piece made once per UA, or the members */

    rc = pieces ? ngx_http_posthog_ua_piece(r, a) : NGX_DECLINED;

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        return ngx_http_posthog_campaign_props(r, a);
    }

    if (r->headers_in.user_agent) {
        m = ngx_http_posthog_member_lit(a, "$raw_user_agent",
                                        r->headers_in.user_agent->value.data,
                                        r->headers_in.user_agent->value.len);
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->max = NGX_HTTP_POSTHOG_UA_MAX;
        m->cut = NGX_HTTP_POSTHOG_CUT_USER_AGENT;
    }

    /* constant: written as it is, keys and all */

    m = ngx_http_posthog_member_n(a, NULL, 0,
                                  (u_char *) NGX_HTTP_POSTHOG_LIB_MEMBERS,
                                  sizeof(NGX_HTTP_POSTHOG_LIB_MEMBERS) - 1);
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->raw = 1;

    if (ngx_http_posthog_ua_props(r, a) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_posthog_campaign_props(r, a);
}


ngx_int_t
ngx_http_posthog_custom_props(ngx_http_request_t *r, ngx_array_t *conf_props,
    ngx_array_t *a)
{
    ngx_str_t                      value;
    ngx_uint_t                     i;
    ngx_http_posthog_member_t     *m;
    ngx_http_posthog_prop_conf_t  *pc;

    if (conf_props == NULL) {
        return NGX_OK;
    }

    pc = conf_props->elts;

    for (i = 0; i < conf_props->nelts; i++) {

        if (ngx_http_complex_value(r, &pc[i].value, &value) != NGX_OK) {
            continue;
        }

        /* an empty value adds nothing: "$upstream_http_x_plan" may be unset */

        if (value.len == 0) {
            continue;
        }

        switch (pc[i].type) {

        case NGX_HTTP_POSTHOG_PROP_NUMBER:
            if (!posthog_json_number_valid(value.data, value.len)) {
                ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "posthog property \"%V\": not a number, "
                               "\"%V\"", &pc[i].key, &value);
                continue;
            }

            break;

        case NGX_HTTP_POSTHOG_PROP_BOOLEAN:
            if ((value.len == 1 && value.data[0] == '1')
                || (value.len == 2 && ngx_strncasecmp(value.data,
                                                      (u_char *) "on", 2) == 0)
                || (value.len == 4 && ngx_strncasecmp(value.data,
                                                   (u_char *) "true", 4) == 0))
            {
                ngx_str_set(&value, "true");

            } else {
                ngx_str_set(&value, "false");
            }

            break;

        default: /* NGX_HTTP_POSTHOG_PROP_STRING */
            break;
        }

        m = ngx_array_push(a);
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->key = pc[i].key;
        m->value = value;
        m->max = NGX_HTTP_POSTHOG_VALUE_MAX;
        m->raw = (pc[i].type != NGX_HTTP_POSTHOG_PROP_STRING);
        m->cut = m->raw ? NGX_HTTP_POSTHOG_CUT_NEVER
                        : NGX_HTTP_POSTHOG_CUT_CUSTOM;
    }

    return NGX_OK;
}


/* {"name":value,...} of configured properties, or empty if none is set */

ngx_int_t
ngx_http_posthog_props_object(ngx_http_request_t *r, ngx_array_t *conf_props,
    ngx_str_t *out)
{
    u_char       *p;
    ngx_array_t   a;

    ngx_str_null(out);

    if (conf_props == NULL) {
        return NGX_OK;
    }

    if (ngx_array_init(&a, r->pool, conf_props->nelts,
                       sizeof(ngx_http_posthog_member_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_posthog_custom_props(r, conf_props, &a) != NGX_OK) {
        return NGX_ERROR;
    }

    if (a.nelts == 0) {
        return NGX_OK;
    }

    out->data = ngx_pnalloc(r->pool, ngx_http_posthog_members_len(&a) + 2);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;
    *p++ = '{';
    p = ngx_http_posthog_members_write(p, &a);
    *p++ = '}';

    out->len = p - out->data;

    return NGX_OK;
}


/* "key" is a literal that needs no escaping */

ngx_http_posthog_member_t *
ngx_http_posthog_member(ngx_array_t *a, char *key, u_char *value, size_t len)
{
    return ngx_http_posthog_member_n(a, (u_char *) key, ngx_strlen(key),
                                     value, len);
}


/*
 * Cuts string properties, in NGX_HTTP_POSTHOG_CUT_* order and the last
 * of a kind first, until the escaped event is "excess" bytes shorter.
 * Each keeps what fits: a character or an escape is never split, and the
 * JSON stays valid.  NGX_DECLINED if cutting all of them is not enough.
 * Called after ngx_http_posthog_members_len() set m[i].len.
 */

ngx_int_t
ngx_http_posthog_members_fit(ngx_array_t *a, size_t excess)
{
    size_t                      body, want, in, esc;
    ngx_uint_t                  i, order;
    ngx_http_posthog_member_t  *m;

    m = a->elts;

    for (order = 1; order <= NGX_HTTP_POSTHOG_CUT_LAST; order++) {

        for (i = a->nelts; i-- > 0; /* void */) {

            if (m[i].cut != order || m[i].raw) {
                continue;
            }

            body = m[i].len - 2;
            want = body > excess ? body - excess : 0;

            in = posthog_json_escape_fit(m[i].value.data, m[i].value.len,
                                         m[i].max, want);
            esc = posthog_json_escape_len(m[i].value.data, m[i].value.len,
                                          in);

            m[i].max = in;
            m[i].len = esc + 2;

            if (body - esc >= excess) {
                return NGX_OK;
            }

            excess -= body - esc;
        }
    }

    return NGX_DECLINED;
}


/*
 * The pieces of "a" (the session's and the user agent's) replaced by the
 * members they stand for, which ngx_http_posthog_members_fit() may cut:
 * an event is cut as if it had never had a piece.  NGX_DECLINED: none.
 */

ngx_int_t
ngx_http_posthog_members_unpiece(ngx_http_request_t *r, ngx_array_t *a)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_http_posthog_member_t  *m;

    rc = NGX_DECLINED;

    for (i = 0; i < a->nelts; i++) {
        m = a->elts;

        if (m[i].cut == NGX_HTTP_POSTHOG_CUT_SESSION_PIECE) {
            rc = ngx_http_posthog_session_unpiece(r, a, i);

        } else if (m[i].cut == NGX_HTTP_POSTHOG_CUT_UA_PIECE) {
            rc = ngx_http_posthog_ua_unpiece(r, a, i);

        } else {
            continue;
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return rc;
}


size_t
ngx_http_posthog_members_len(ngx_array_t *a)
{
    size_t                      len;
    ngx_uint_t                  i;
    ngx_http_posthog_member_t  *m;

    len = 0;
    m = a->elts;

    for (i = 0; i < a->nelts; i++) {

        if (m[i].raw) {
            m[i].len = m[i].value.len
                       + (m[i].raw == NGX_HTTP_POSTHOG_PLAIN ? 2 : 0);

        } else {
            m[i].len = posthog_json_escape_len(m[i].value.data,
                                               m[i].value.len, m[i].max)
                       + 2;
        }

        /* ,"key":value, or a whole piece of JSON without a key */
        len += 1 + (m[i].key.len ? 1 + m[i].key.len + 2 : 0) + m[i].len;
    }

    return len;
}


/*
 * At least members_len(): every byte of a string escaped its worst way.
 * Cheap, and enough to know an event fits posthog_event_max_size without
 * escaping its strings twice.
 */

size_t
ngx_http_posthog_members_bound(ngx_array_t *a)
{
    size_t                      len, n;
    ngx_uint_t                  i;
    ngx_http_posthog_member_t  *m;

    m = a->elts;

    /* ,"": per member, with a key or not: a few bytes over is no matter */

    len = 4 * a->nelts;

    for (i = 0; i < a->nelts; i++) {
        n = m[i].value.len;

        if (!m[i].raw) {
            n = n < m[i].max ? n : m[i].max;
            n = POSTHOG_JSON_ESCAPE_MAX(n) + 2;

        } else if (m[i].raw == NGX_HTTP_POSTHOG_PLAIN) {
            n += 2;
        }

        len += m[i].key.len + n;
    }

    return len;
}


u_char *
ngx_http_posthog_members_write(u_char *p, ngx_array_t *a)
{
    ngx_uint_t                  i;
    ngx_http_posthog_member_t  *m;

    m = a->elts;

    for (i = 0; i < a->nelts; i++) {

        if (i) {
            *p++ = ',';
        }

        if (m[i].key.len) {
            *p++ = '"';
            p = ngx_http_posthog_cpy_short(p, m[i].key.data, m[i].key.len);
            *p++ = '"';
            *p++ = ':';
        }

        if (m[i].raw) {
            if (m[i].raw == NGX_HTTP_POSTHOG_PLAIN) {
                *p++ = '"';
                p = ngx_http_posthog_cpy_short(p, m[i].value.data,
                                               m[i].value.len);
                *p++ = '"';
                continue;
            }

            p = ngx_http_posthog_cpy_short(p, m[i].value.data,
                                           m[i].value.len);
            continue;
        }

        *p++ = '"';
        p = posthog_json_escape(p, m[i].value.data, m[i].value.len, m[i].max);
        *p++ = '"';
    }

    return p;
}


/* posthog_api_key phc_...: a project token, never a personal key */

char *
ngx_http_posthog_api_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_loc_conf_t *plcf = conf;

    ngx_str_t  *value;

    if (plcf->api_key.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty value in \"%V\" directive", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (ngx_strncmp(value[1].data, "phx_", 4) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is a personal API key in \"%V\" directive: "
                           "capture takes the project token (phc_...)",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* the shipper's rule too: a token it would dead-letter fails here */
    if (!posthog_stream_token_ok(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    plcf->api_key = value[1];

    return NGX_CONF_OK;
}


/* posthog_property NAME VALUE [string|number|boolean] */

char *
ngx_http_posthog_property(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                            *p;
    size_t                             len;
    ngx_str_t                         *value, *r;
    ngx_uint_t                         i;
    ngx_array_t                      **props;
    ngx_http_posthog_prop_conf_t      *pc;
    ngx_http_compile_complex_value_t   ccv;

    /* posthog_property, posthog_person_property[_once]: by cmd->offset */

    props = (ngx_array_t **) ((char *) conf + cmd->offset);

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty property name in \"%V\" directive",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* the module's own properties: a second copy would make the JSON
     * ambiguous (use the realip module for $ip) */

    if (cmd->offset == offsetof(ngx_http_posthog_loc_conf_t, props)) {
        for (r = ngx_http_posthog_reserved; r->len; r++) {
            if (r->len == value[1].len
                && ngx_strncmp(r->data, value[1].data, r->len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "property \"%V\" in \"%V\" directive is "
                                   "set by the module", &value[1],
                                   &cmd->name);
                return NGX_CONF_ERROR;
            }
        }
    }

    if (*props) {
        pc = (*props)->elts;

        for (i = 0; i < (*props)->nelts; i++) {
            if (pc[i].name.len == value[1].len
                && ngx_strncmp(pc[i].name.data, value[1].data,
                               value[1].len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate property \"%V\" in \"%V\" "
                                   "directive", &value[1], &cmd->name);
                return NGX_CONF_ERROR;
            }
        }
    }

    if (*props == NULL) {
        *props = ngx_array_create(cf->pool, 4,
                                  sizeof(ngx_http_posthog_prop_conf_t));
        if (*props == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    pc = ngx_array_push(*props);
    if (pc == NULL) {
        return NGX_CONF_ERROR;
    }

    pc->name = value[1];

    /* the name is escaped once, here */

    len = posthog_json_escape_len(value[1].data, value[1].len, (size_t) -1);

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    pc->key.data = p;
    pc->key.len = posthog_json_escape(p, value[1].data, value[1].len,
                                      (size_t) -1)
                  - p;

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &pc->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    pc->type = NGX_HTTP_POSTHOG_PROP_STRING;

    if (cf->args->nelts == 4) {
        if (ngx_strcmp(value[3].data, "number") == 0) {
            pc->type = NGX_HTTP_POSTHOG_PROP_NUMBER;

        } else if (ngx_strcmp(value[3].data, "boolean") == 0) {
            pc->type = NGX_HTTP_POSTHOG_PROP_BOOLEAN;

        } else if (ngx_strcmp(value[3].data, "string") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid type \"%V\" in \"%V\" directive, "
                               "it must be \"string\", \"number\" or "
                               "\"boolean\"", &value[3], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}
