/*
 * Events: which requests are captured, and their JSON, which is exactly
 * one item of a PostHog /batch/ request.
 */


#include "ngx_http_posthog.h"
#include "posthog_json.h"
#include "posthog_stream.h"

#include <math.h>


/* a longer number is not one a double holds exactly anyway */
#define NGX_HTTP_POSTHOG_NUMBER_MAX  64


static ngx_int_t ngx_http_posthog_is_pageview(ngx_http_request_t *r);
static ngx_int_t ngx_http_posthog_event_send(ngx_http_request_t *r,
    ngx_http_posthog_event_t *ev);
static void ngx_http_posthog_dropped(ngx_http_request_t *r, const char *why);
static ngx_int_t ngx_http_posthog_props_object(ngx_http_request_t *r,
    ngx_array_t *conf_props, ngx_str_t *out);
static ngx_int_t ngx_http_posthog_event_build(ngx_http_request_t *r,
    ngx_http_posthog_event_t *ev, ngx_str_t *out);
static ngx_int_t ngx_http_posthog_identity_event(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_loc_conf_t *plcf,
    ngx_http_posthog_event_t *req, ngx_uint_t alias);
static ngx_int_t ngx_http_posthog_signal_event(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_event_t *req,
    ngx_str_t *name);
static ngx_int_t ngx_http_posthog_standard_props(ngx_http_request_t *r,
    ngx_array_t *a);
static ngx_int_t ngx_http_posthog_custom_props(ngx_http_request_t *r,
    ngx_array_t *conf_props, ngx_array_t *a);
static ngx_http_posthog_member_t *ngx_http_posthog_member(ngx_array_t *a,
    char *key, u_char *value, size_t len);
static ngx_int_t ngx_http_posthog_member_cut(ngx_array_t *a, char *key,
    u_char *value, size_t len, ngx_uint_t cut);
static ngx_int_t ngx_http_posthog_members_fit(ngx_array_t *a, size_t excess);
static size_t ngx_http_posthog_members_len(ngx_array_t *a);
static u_char *ngx_http_posthog_members_write(u_char *p, ngx_array_t *a);
static ngx_int_t ngx_http_posthog_json_number(u_char *p, size_t len);


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


static ngx_http_posthog_limit_t  ngx_http_posthog_cut_limit;

static ngx_str_t  ngx_http_posthog_pageview = ngx_string("$pageview");
static ngx_str_t  ngx_http_posthog_request = ngx_string("request");


ngx_int_t
ngx_http_posthog_log_handler(ngx_http_request_t *r)
{
    ngx_str_t                      name, *sig;
    ngx_uint_t                     i, status;
    ngx_array_t                    props;
    ngx_http_posthog_ctx_t        *ctx;
    ngx_http_posthog_event_t       ev;
    ngx_http_posthog_member_t     *m;
    ngx_http_posthog_loc_conf_t   *plcf;
    ngx_http_posthog_main_conf_t  *pmcf;

    /* subrequests are logged too with "log_subrequest on": not ours */

    if (r != r->main) {
        return NGX_OK;
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    if (!plcf->enable || ngx_http_posthog_ua_skip(r, 1)) {
        return NGX_OK;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_posthog_module);

    if (pmcf->redis == NULL) {
        /* no posthog_redis: the cookie only, by choice; nginx -t said so */
        return NGX_OK;
    }

    ctx = ngx_http_posthog_get_ctx(r);
    if (ctx == NULL) {
        ngx_http_posthog_dropped(r, "no identity");
        return NGX_OK;
    }

    if (ctx->logged) {
        return NGX_OK;
    }

    ctx->logged = 1;

    /* no response header went out (the client left): no identify */

    ngx_http_posthog_identity_settle(r, ctx, 0);

    if (plcf->api_key.len == 0) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_NO_API_KEY, 1);
        return NGX_OK;
    }

    /* the distinct id of this request's events: the user's at a logout */

    ngx_memzero(&ev, sizeof(ngx_http_posthog_event_t));

    ev.cookieless = ctx->cookieless;

    if (ctx->reset) {
        ev.distinct_id = ctx->event_id;
        ev.personless = ctx->event_personless;

    } else {
        ngx_http_posthog_distinct_id(ctx, &ev.distinct_id);
        ev.personless = (ctx->st.user_len == 0);
    }

    ev.personless = ev.personless && plcf->personless;

    if (ngx_array_init(&props, r->pool, 2, sizeof(ngx_http_posthog_member_t))
        != NGX_OK)
    {
        ngx_http_posthog_dropped(r, "no memory");
        return NGX_OK;
    }

    ev.props = &props;

    m = ngx_array_push(&props);
    if (m == NULL) {
        ngx_http_posthog_dropped(r, "no memory");
        return NGX_OK;
    }

    ngx_memzero(m, sizeof(ngx_http_posthog_member_t));
    ngx_str_set(&m->key, "$device_id");
    m->value.data = ctx->reset ? ctx->event_device : ctx->st.device;
    m->value.len = POSTHOG_UUID_LEN;
    m->max = POSTHOG_UUID_LEN;

    if (ngx_http_posthog_session_props(r, ctx, &props) != NGX_OK) {
        ngx_http_posthog_dropped(r, "no memory");
        return NGX_OK;
    }

    /*
     * Identity events go first, as posthog-js sends them: whatever the
     * request itself is (a login is often a POST answered with a 302),
     * and never person-less.
     */

    /* each event stands alone: one that fails does not take the others */

    if (ctx->identified) {
        (void) ngx_http_posthog_identity_event(r, ctx, plcf, &ev, 0);
    }

    if (ctx->aliased) {
        (void) ngx_http_posthog_identity_event(r, ctx, plcf, &ev, 1);
    }

    if (ctx->signal_events) {
        sig = ctx->signal_events->elts;

        for (i = 0; i < ctx->signal_events->nelts; i++) {
            (void) ngx_http_posthog_signal_event(r, ctx, &ev, &sig[i]);
        }
    }

    /* the request's own event */

    if (plcf->capture == NGX_HTTP_POSTHOG_CAPTURE_OFF) {
        return NGX_OK;
    }

    status = r->headers_out.status;

    if (plcf->capture == NGX_HTTP_POSTHOG_CAPTURE_ALL) {
        if (plcf->event) {
            name.len = 0;

        } else if (ngx_http_posthog_is_pageview(r) == NGX_OK) {
            name = ngx_http_posthog_pageview;

        } else {
            name = ngx_http_posthog_request;
        }

    } else if (plcf->event) {
        /* a named event: a successful request to its location */

        if (status == 0 || status >= NGX_HTTP_BAD_REQUEST) {
            return NGX_OK;
        }

        name.len = 0;

    } else if (ngx_http_posthog_is_pageview(r) == NGX_OK) {
        name = ngx_http_posthog_pageview;

    } else {
        return NGX_OK;
    }

    if (name.len == 0) {
        if (ngx_http_complex_value(r, plcf->event, &name) != NGX_OK) {
            ngx_http_posthog_dropped(r, "\"posthog_event\" failed");
            return NGX_OK;
        }

        if (name.len == 0) {
            return NGX_OK;
        }
    }

    ngx_http_posthog_ua_event_name(r, &name);

    ev.name = name;
    ev.custom = 1;

    (void) ngx_http_posthog_event_send(r, &ev);

    return NGX_OK;
}


/*
 * $identify: distinct_id = the user, $anon_distinct_id = the anonymous id
 * it links, with $set / $set_once from posthog_person_property[_once].
 * $create_alias: distinct_id = ctx->alias_to, alias = the other id.
 */

static ngx_int_t
ngx_http_posthog_identity_event(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_loc_conf_t *plcf,
    ngx_http_posthog_event_t *req, ngx_uint_t alias)
{
    ngx_array_t                 props;
    ngx_http_posthog_event_t    ev;
    ngx_http_posthog_member_t  *m;

    ev = *req;
    ev.personless = 0;
    ev.custom = 0;

    if (ngx_array_init(&props, r->pool, 2, sizeof(ngx_http_posthog_member_t))
        != NGX_OK)
    {
        ngx_http_posthog_dropped(r, "no memory");
        return NGX_ERROR;
    }

    m = ngx_array_push_n(&props, 2);
    if (m == NULL) {
        ngx_http_posthog_dropped(r, "no memory");
        return NGX_ERROR;
    }

    m[0] = ((ngx_http_posthog_member_t *) req->props->elts)[0];

    ngx_memzero(&m[1], sizeof(ngx_http_posthog_member_t));
    m[1].value.len = POSTHOG_UUID_LEN;
    m[1].max = POSTHOG_UUID_LEN;

    ev.props = &props;

    if (alias) {
        ngx_str_set(&ev.name, "$create_alias");
        ngx_str_set(&m[1].key, "alias");
        m[1].value.data = ctx->alias_from;
        ev.distinct_id = ctx->alias_to;

    } else {
        ngx_str_set(&ev.name, "$identify");
        ngx_str_set(&m[1].key, "$anon_distinct_id");
        m[1].value.data = ctx->identify_anon;
        ev.distinct_id = ctx->identify_user;

        if (ngx_http_posthog_props_object(r, plcf->person_props, &ev.set)
            != NGX_OK
            || ngx_http_posthog_props_object(r, plcf->person_props_once,
                                             &ev.set_once)
               != NGX_OK
            || ngx_http_posthog_set_once_initial(r, ctx, &ev.set_once)
               != NGX_OK)
        {
            ngx_http_posthog_dropped(r, "no memory");
            return NGX_ERROR;
        }
    }

    return ngx_http_posthog_event_send(r, &ev);
}


/* X-PostHog-Event from the upstream, with its X-PostHog-Property-* */

static ngx_int_t
ngx_http_posthog_signal_event(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_event_t *req,
    ngx_str_t *name)
{
    ngx_uint_t                  i;
    ngx_array_t                 props;
    ngx_http_posthog_event_t    ev;
    ngx_http_posthog_member_t  *m, *sp;

    ev = *req;
    ev.name = *name;
    ev.custom = 0;

    if (ngx_array_init(&props, r->pool, 4, sizeof(ngx_http_posthog_member_t))
        != NGX_OK)
    {
        ngx_http_posthog_dropped(r, "no memory");
        return NGX_ERROR;
    }

    m = ngx_array_push(&props);
    if (m == NULL) {
        ngx_http_posthog_dropped(r, "no memory");
        return NGX_ERROR;
    }

    *m = ((ngx_http_posthog_member_t *) req->props->elts)[0];

    if (ctx->signal_props) {
        sp = ctx->signal_props->elts;

        for (i = 0; i < ctx->signal_props->nelts; i++) {
            m = ngx_array_push(&props);
            if (m == NULL) {
                ngx_http_posthog_dropped(r, "no memory");
                return NGX_ERROR;
            }

            *m = sp[i];
        }
    }

    ev.props = &props;

    return ngx_http_posthog_event_send(r, &ev);
}


/* a page view: a GET that got a page, as a browser's navigation does */

static ngx_int_t
ngx_http_posthog_is_pageview(ngx_http_request_t *r)
{
    ngx_uint_t  status;
    ngx_str_t  *type;

    if (r->method != NGX_HTTP_GET) {
        return NGX_DECLINED;
    }

    status = r->headers_out.status;

    if ((status < NGX_HTTP_OK || status >= NGX_HTTP_SPECIAL_RESPONSE)
        && status != NGX_HTTP_NOT_MODIFIED)
    {
        return NGX_DECLINED;
    }

    type = &r->headers_out.content_type;

    if ((type->len >= sizeof("text/html") - 1
         && ngx_strncasecmp(type->data, (u_char *) "text/html",
                            sizeof("text/html") - 1) == 0)
        || (type->len >= sizeof("application/xhtml+xml") - 1
            && ngx_strncasecmp(type->data, (u_char *) "application/xhtml+xml",
                               sizeof("application/xhtml+xml") - 1) == 0))
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * Every event that cannot be made is counted and logged here: the
 * builder below fails only on memory or a failed variable.
 */

static ngx_int_t
ngx_http_posthog_event_send(ngx_http_request_t *r,
    ngx_http_posthog_event_t *ev)
{
    ngx_int_t                     rc;
    ngx_str_t                     json;
    ngx_http_posthog_loc_conf_t  *plcf;

    static ngx_http_posthog_limit_t  limit;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    /* without consent: cookieless, or none (counted there) */

    if (ev->cookieless && ngx_http_posthog_consent_event(r, ev) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_posthog_event_build(r, ev, &json);

    if (rc == NGX_DECLINED) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_TOO_LARGE, 1);
        ngx_http_posthog_log_limited(&limit, NGX_LOG_WARN, r->connection->log,
                                     "event dropped: over "
                                     "posthog_event_max_size %uz even with "
                                     "its properties cut", plcf->event_max);
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_http_posthog_dropped(r, "cannot be made");
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "posthog event: %V \"%V\"", &ev->name, &json);

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_EVENTS, 1);

    if (ev->cookieless) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_COOKIELESS, 1);
    }

    return ngx_http_posthog_enqueue(r, &plcf->api_key, &json);
}


/* a dropped event that never got made: counted, logged now and then */

static void
ngx_http_posthog_dropped(ngx_http_request_t *r, const char *why)
{
    static ngx_http_posthog_limit_t  limit;

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_INTERNAL, 1);
    ngx_http_posthog_log_limited(&limit, NGX_LOG_ERR, r->connection->log,
                                 "event dropped: %s", why);
}


static ngx_int_t
ngx_http_posthog_event_build(ngx_http_request_t *r,
    ngx_http_posthog_event_t *ev, ngx_str_t *out)
{
    u_char                       *p, uuid[POSTHOG_UUID_LEN];
    size_t                        len;
    ngx_tm_t                      tm;
    ngx_str_t                     json;
    ngx_uint_t                    i;
    ngx_array_t                   top, props;
    ngx_http_posthog_member_t    *m;
    ngx_http_posthog_loc_conf_t  *plcf;
    u_char                        ts[sizeof("1970-01-01T00:00:00.000Z")];

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    if (ngx_array_init(&props, r->pool, 16, sizeof(ngx_http_posthog_member_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_posthog_standard_props(r, &props) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ev->personless) {
        m = ngx_http_posthog_member(&props, "$process_person_profile",
                                    (u_char *) "false", 5);
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->raw = 1;
    }

    if (ev->props) {
        m = ev->props->elts;

        for (i = 0; i < ev->props->nelts; i++) {
            if (ngx_array_push(&props) == NULL) {
                return NGX_ERROR;
            }

            ((ngx_http_posthog_member_t *) props.elts)[props.nelts - 1] = m[i];
        }
    }

    if (ev->cookieless && ngx_http_posthog_consent_props(&props) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ev->custom
        && ngx_http_posthog_custom_props(r, plcf->props, &props) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the event's time is the request's, and its uuid is made once, here */

    ngx_gmtime(r->start_sec, &tm);

    p = ngx_sprintf(ts, "%4d-%02d-%02dT%02d:%02d:%02d.%03MZ",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                    tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                    r->start_msec);

    if (ngx_http_posthog_new_uuid(r, uuid) != NGX_OK) {
        return NGX_ERROR;
    }

    /* posthog-js's $pageview_id is the $pageview's own uuid */

    if (ev->name.len == ngx_http_posthog_pageview.len
        && ngx_strncmp(ev->name.data, ngx_http_posthog_pageview.data,
                       ev->name.len) == 0
        && ngx_http_posthog_member(&props, "$pageview_id", uuid,
                                   POSTHOG_UUID_LEN)
           == NULL)
    {
        return NGX_ERROR;
    }

    if (ngx_array_init(&top, r->pool, 8, sizeof(ngx_http_posthog_member_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_posthog_member(&top, "event", ev->name.data, ev->name.len)
        == NULL
        || ngx_http_posthog_member(&top, "distinct_id", ev->distinct_id.data,
                                   ev->distinct_id.len)
           == NULL
        || ngx_http_posthog_member(&top, "timestamp", ts, p - ts) == NULL
        || ngx_http_posthog_member(&top, "uuid", uuid, POSTHOG_UUID_LEN)
           == NULL)
    {
        return NGX_ERROR;
    }

    if (ev->set.len) {
        m = ngx_http_posthog_member(&top, "$set", ev->set.data, ev->set.len);
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->raw = 1;
    }

    if (ev->set_once.len) {
        m = ngx_http_posthog_member(&top, "$set_once", ev->set_once.data,
                                    ev->set_once.len);
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->raw = 1;
    }

    /* {top,"properties":{props}}, cut to posthog_event_max_size */

    len = sizeof("{,\"properties\":{}}") - 1
          + ngx_http_posthog_members_len(&top)
          + ngx_http_posthog_members_len(&props);

    if (len > plcf->event_max) {
        if (ngx_http_posthog_members_fit(&props, len - plcf->event_max)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_EVENTS_CUT, 1);
        ngx_http_posthog_log_limited(&ngx_http_posthog_cut_limit,
                                     NGX_LOG_INFO, r->connection->log,
                                     "an event of %uz bytes was cut to "
                                     "posthog_event_max_size %uz",
                                     len, plcf->event_max);

        len = sizeof("{,\"properties\":{}}") - 1
              + ngx_http_posthog_members_len(&top)
              + ngx_http_posthog_members_len(&props);
    }

    json.data = ngx_pnalloc(r->pool, len);
    if (json.data == NULL) {
        return NGX_ERROR;
    }

    p = json.data;
    *p++ = '{';
    p = ngx_http_posthog_members_write(p, &top);
    p = ngx_cpymem(p, ",\"properties\":{", sizeof(",\"properties\":{") - 1);
    p = ngx_http_posthog_members_write(p, &props);
    *p++ = '}';
    *p++ = '}';

    json.len = p - json.data;

    *out = json;

    return NGX_OK;
}


static ngx_int_t
ngx_http_posthog_standard_props(ngx_http_request_t *r, ngx_array_t *a)
{
    u_char                     *p, *q, *end, *url;
    size_t                      len;
    ngx_str_t                   host, path, scheme, *ref;
    ngx_http_posthog_member_t  *m;
    ngx_http_core_srv_conf_t   *cscf;

    r = r->main;

    /* posthog-js's $host is location.host: the Host header, with port */

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

    /* the URL as the client asked for it, before any rewrite */

    path = r->unparsed_uri;

    len = scheme.len + host.len + path.len;

    url = ngx_pnalloc(r->pool, len);
    if (url == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url, scheme.data, scheme.len);
    p = ngx_cpymem(p, host.data, host.len);
    ngx_memcpy(p, path.data, path.len);

    q = ngx_strlchr(path.data, path.data + path.len, '?');

    if (ngx_http_posthog_member_cut(a, "$current_url", url, len,
                                    NGX_HTTP_POSTHOG_CUT_URL)
        != NGX_OK
        || ngx_http_posthog_member_cut(a, "$host", host.data, host.len,
                                       NGX_HTTP_POSTHOG_CUT_HOST)
           != NGX_OK
        || ngx_http_posthog_member_cut(a, "$pathname", path.data,
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
        if (ngx_http_posthog_member_cut(a, "$referrer", ref->data, ref->len,
                                        NGX_HTTP_POSTHOG_CUT_REFERRER)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        p = ref->data;
        end = ref->data + ref->len;

        q = ngx_strlcasestrn(p, end, (u_char *) "://", 3 - 1);
        if (q) {
            p = q + 3;
        }

        for (q = p; q < end && *q != '/' && *q != '?' && *q != '#'; q++) {
            if (*q == '@') {
                p = q + 1;
            }
        }

        if (ngx_http_posthog_member_cut(a, "$referring_domain", p, q - p,
                                        NGX_HTTP_POSTHOG_CUT_REF_DOMAIN)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        if (ngx_http_posthog_member(a, "$referrer", (u_char *) "$direct", 7)
            == NULL
            || ngx_http_posthog_member(a, "$referring_domain",
                                       (u_char *) "$direct", 7)
               == NULL)
        {
            return NGX_ERROR;
        }
    }

    /* the client's address, after realip: else GeoIP finds the server */

    if (ngx_http_posthog_member(a, "$ip", r->connection->addr_text.data,
                                r->connection->addr_text.len)
        == NULL)
    {
        return NGX_ERROR;
    }

    if (r->headers_in.user_agent) {
        m = ngx_http_posthog_member(a, "$raw_user_agent",
                                    r->headers_in.user_agent->value.data,
                                    r->headers_in.user_agent->value.len);
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->max = NGX_HTTP_POSTHOG_UA_MAX;
        m->cut = NGX_HTTP_POSTHOG_CUT_USER_AGENT;
    }

    if (ngx_http_posthog_member(a, "$lib", (u_char *) "ngx_posthog_module",
                                sizeof("ngx_posthog_module") - 1)
        == NULL
        || ngx_http_posthog_member(a, "$lib_version",
                                   (u_char *) NGX_HTTP_POSTHOG_VERSION,
                                   sizeof(NGX_HTTP_POSTHOG_VERSION) - 1)
           == NULL)
    {
        return NGX_ERROR;
    }

    if (ngx_http_posthog_ua_props(r, a) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_posthog_campaign_props(r, a);
}


static ngx_int_t
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
            if (ngx_http_posthog_json_number(value.data, value.len) != NGX_OK)
            {
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

static ngx_int_t
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

static ngx_http_posthog_member_t *
ngx_http_posthog_member(ngx_array_t *a, char *key, u_char *value, size_t len)
{
    ngx_http_posthog_member_t  *m;

    m = ngx_array_push(a);
    if (m == NULL) {
        return NULL;
    }

    m->key.data = (u_char *) key;
    m->key.len = ngx_strlen(key);
    m->value.data = value;
    m->value.len = len;
    m->max = NGX_HTTP_POSTHOG_VALUE_MAX;
    m->raw = 0;
    m->cut = NGX_HTTP_POSTHOG_CUT_NEVER;

    return m;
}


static ngx_int_t
ngx_http_posthog_member_cut(ngx_array_t *a, char *key, u_char *value,
    size_t len, ngx_uint_t cut)
{
    ngx_http_posthog_member_t  *m;

    m = ngx_http_posthog_member(a, key, value, len);
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->cut = cut;

    return NGX_OK;
}


/*
 * Cuts string properties, in NGX_HTTP_POSTHOG_CUT_* order and the last
 * of a kind first, until the escaped event is "excess" bytes shorter.
 * Each keeps what fits: a character or an escape is never split, and the
 * JSON stays valid.  NGX_DECLINED if cutting all of them is not enough.
 * Called after ngx_http_posthog_members_len() set m[i].len.
 */

static ngx_int_t
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


static size_t
ngx_http_posthog_members_len(ngx_array_t *a)
{
    size_t                      len;
    ngx_uint_t                  i;
    ngx_http_posthog_member_t  *m;

    len = 0;
    m = a->elts;

    for (i = 0; i < a->nelts; i++) {

        if (m[i].raw) {
            m[i].len = m[i].value.len;

        } else {
            m[i].len = posthog_json_escape_len(m[i].value.data,
                                               m[i].value.len, m[i].max)
                       + 2;
        }

        /* ,"key":value */
        len += 1 + 1 + m[i].key.len + 2 + m[i].len;
    }

    return len;
}


static u_char *
ngx_http_posthog_members_write(u_char *p, ngx_array_t *a)
{
    ngx_uint_t                  i;
    ngx_http_posthog_member_t  *m;

    m = a->elts;

    for (i = 0; i < a->nelts; i++) {

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
        p = posthog_json_escape(p, m[i].value.data, m[i].value.len, m[i].max);
        *p++ = '"';
    }

    return p;
}


/*
 * RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and
 * one a double holds: PostHog's JSON parser refuses 1e999, and with it
 * the whole batch.
 */

static ngx_int_t
ngx_http_posthog_json_number(u_char *p, size_t len)
{
    u_char  *end, *d, buf[NGX_HTTP_POSTHOG_NUMBER_MAX + 1];

    if (len > NGX_HTTP_POSTHOG_NUMBER_MAX) {
        return NGX_DECLINED;
    }

    ngx_memcpy(buf, p, len);
    buf[len] = '\0';

    if (!isfinite(strtod((char *) buf, NULL))) {
        return NGX_DECLINED;
    }

    end = p + len;

    if (p < end && *p == '-') {
        p++;
    }

    if (p == end) {
        return NGX_DECLINED;
    }

    if (*p == '0') {
        p++;

    } else {
        for (d = p; p < end && *p >= '0' && *p <= '9'; p++) { /* void */ }

        if (p == d) {
            return NGX_DECLINED;
        }
    }

    if (p < end && *p == '.') {
        for (d = ++p; p < end && *p >= '0' && *p <= '9'; p++) { /* void */ }

        if (p == d) {
            return NGX_DECLINED;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }

        for (d = p; p < end && *p >= '0' && *p <= '9'; p++) { /* void */ }

        if (p == d) {
            return NGX_DECLINED;
        }
    }

    return (p == end) ? NGX_OK : NGX_DECLINED;
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
