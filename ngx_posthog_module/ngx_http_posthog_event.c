/*
 * Events: which requests are captured, and their JSON, which is exactly
 * one item of a PostHog /batch/ request.  Their properties are
 * ngx_http_posthog_props.c's.
 */


#include "ngx_http_posthog.h"
#include "posthog_json.h"


static ngx_int_t ngx_http_posthog_is_pageview(ngx_http_request_t *r);
static void ngx_http_posthog_members_on(ngx_array_t *a, ngx_pool_t *pool,
    ngx_http_posthog_member_t *m, ngx_uint_t n);
static ngx_int_t ngx_http_posthog_event_send(ngx_http_request_t *r,
    ngx_http_posthog_event_t *ev);
static void ngx_http_posthog_dropped(ngx_http_request_t *r, const char *why);
static ngx_int_t ngx_http_posthog_event_build(ngx_http_request_t *r,
    ngx_http_posthog_event_t *ev, ngx_str_t *out);
static ngx_int_t ngx_http_posthog_identity_event(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_loc_conf_t *plcf,
    ngx_http_posthog_event_t *req, ngx_uint_t alias);
static ngx_int_t ngx_http_posthog_signal_event(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_event_t *req,
    ngx_str_t *name);


/*
 * Members on the stack: the properties' (about 30), and those of every
 * event of a request ($device_id, the session's: 8).
 */
#define NGX_HTTP_POSTHOG_PROPS_N  48
#define NGX_HTTP_POSTHOG_EVENT_N  12


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
    ngx_http_posthog_member_t      device;
    ngx_http_posthog_loc_conf_t   *plcf;
    ngx_http_posthog_main_conf_t  *pmcf;
    ngx_http_posthog_member_t      propm[NGX_HTTP_POSTHOG_EVENT_N];

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

    ngx_http_posthog_members_on(&props, r->pool, propm,
                                NGX_HTTP_POSTHOG_EVENT_N);

    ev.props = &props;
    ev.device = &device;

    ngx_memzero(&device, sizeof(ngx_http_posthog_member_t));
    ngx_str_set(&device.key, "$device_id");
    device.value.data = ngx_http_posthog_event_device(ctx);
    device.value.len = POSTHOG_UUID_LEN;
    device.max = POSTHOG_UUID_LEN;
    device.raw = NGX_HTTP_POSTHOG_PLAIN;    /* a checked UUID */

    /* $device_id and the session's */

    if (ngx_http_posthog_session_props(r, ctx, &device, &props) != NGX_OK) {
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

    m[0] = *req->device;

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

    *m = *req->device;

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

    /* as nginx's types have it first: a compare without a call */

    if (type->len >= sizeof("text/html") - 1
        && ngx_memcmp(type->data, "text/html", sizeof("text/html") - 1) == 0)
    {
        return NGX_OK;
    }

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


/*
 * The event's JSON is written into one buffer per process, grown to the
 * largest posthog_event_max_size met: the writer copies it at once, and
 * an event of a few KB from the request's pool would be a malloc of its
 * own (a pool page is 4 KB).
 */

static u_char *
ngx_http_posthog_json_buffer(ngx_log_t *log, size_t size, size_t max)
{
    u_char  *p;

    static u_char  *buf;
    static size_t   buf_size;

    if (size > buf_size) {
        size = ngx_max(size, max);

        p = ngx_alloc(size, log);
        if (p == NULL) {
            return NULL;
        }

        if (buf) {
            ngx_free(buf);
        }

        buf = p;
        buf_size = size;
    }

    return buf;
}


/*
 * The request's time as the event's "timestamp", quoted: formatted once a
 * second, its milliseconds once per request.  Per process; a request's
 * start time never changes, and one event's text is copied before the
 * next is made.
 */

static u_char *
ngx_http_posthog_timestamp(ngx_http_request_t *r)
{
    ngx_tm_t     tm;
    ngx_uint_t   ms;

    static time_t  sec = -1;
    static u_char  ts[] = "\"1970-01-01T00:00:00.000Z\"";

    if (r->start_sec != sec) {
        ngx_gmtime(r->start_sec, &tm);

        (void) ngx_sprintf(ts + 1, "%4d-%02d-%02dT%02d:%02d:%02d",
                           tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                           tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);

        sec = r->start_sec;
    }

    ms = r->start_msec % 1000;

    ts[sizeof("\"1970-01-01T00:00:00.") - 1] = (u_char) ('0' + ms / 100);
    ts[sizeof("\"1970-01-01T00:00:00.0") - 1] = (u_char) ('0' + ms / 10 % 10);
    ts[sizeof("\"1970-01-01T00:00:00.00") - 1] = (u_char) ('0' + ms % 10);

    return ts;
}


/*
 * The length of the top level's members, "esc" that of the event's name
 * and distinct id escaped (or their bound):
 * "event":"NAME","distinct_id":"ID","timestamp":TS,"uuid":"UUID"
 * [,"$set":{...}][,"$set_once":{...}]
 */

#define NGX_HTTP_POSTHOG_TS_LEN  (sizeof("\"1970-01-01T00:00:00.000Z\"") - 1)

static size_t
ngx_http_posthog_top_len(ngx_http_posthog_event_t *ev, size_t esc)
{
    size_t  len;

    len = sizeof("\"event\":\"\",\"distinct_id\":\"\",\"timestamp\":,"
                 "\"uuid\":\"\"") - 1
          + esc + NGX_HTTP_POSTHOG_TS_LEN + POSTHOG_UUID_LEN;

    if (ev->set.len) {
        len += sizeof(",\"$set\":") - 1 + ev->set.len;
    }

    if (ev->set_once.len) {
        len += sizeof(",\"$set_once\":") - 1 + ev->set_once.len;
    }

    return len;
}


/* an array whose first "n" elements are the caller's, on its stack */

static void
ngx_http_posthog_members_on(ngx_array_t *a, ngx_pool_t *pool,
    ngx_http_posthog_member_t *m, ngx_uint_t n)
{
    a->elts = m;
    a->nelts = 0;
    a->size = sizeof(ngx_http_posthog_member_t);
    a->nalloc = n;
    a->pool = pool;
}


/*
 * {top,"properties":{props}}.  When the worst case of every string
 * escaped at 6 bytes a byte fits posthog_event_max_size, the event is
 * written in one pass; otherwise it is measured exactly first, and cut
 * if it must be.
 */

static ngx_int_t
ngx_http_posthog_event_build(ngx_http_request_t *r,
    ngx_http_posthog_event_t *ev, ngx_str_t *out)
{
    u_char                       *p, *ts;
    size_t                        len, top;
    ngx_int_t                     rc;
    ngx_array_t                   props;
    ngx_http_posthog_member_t    *m;
    ngx_http_posthog_loc_conf_t  *plcf;
    u_char                        uuid[1 + POSTHOG_UUID_LEN + 1];
    ngx_http_posthog_member_t     propm[NGX_HTTP_POSTHOG_PROPS_N];

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    /* on the stack: a longer list goes on in the pool (ngx_array_push) */

    ngx_http_posthog_members_on(&props, r->pool, propm,
                                NGX_HTTP_POSTHOG_PROPS_N);

    if (ngx_http_posthog_standard_props(r, &props, !ev->cookieless)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ev->personless) {
        m = ngx_http_posthog_member_lit(&props, "$process_person_profile",
                                        (u_char *) "false", 5);
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->raw = 1;
    }

    if (ev->props) {
        m = ngx_array_push_n(&props, ev->props->nelts);
        if (m == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(m, ev->props->elts,
                   ev->props->nelts * sizeof(ngx_http_posthog_member_t));
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

    ts = ngx_http_posthog_timestamp(r);

    uuid[0] = '"';
    uuid[1 + POSTHOG_UUID_LEN] = '"';

    if (ngx_http_posthog_new_uuid(r, uuid + 1) != NGX_OK) {
        return NGX_ERROR;
    }

    /* posthog-js's $pageview_id is the $pageview's own uuid */

    if (ev->name.len == ngx_http_posthog_pageview.len
        && ngx_strncmp(ev->name.data, ngx_http_posthog_pageview.data,
                       ev->name.len) == 0)
    {
        m = ngx_http_posthog_member_lit(&props, "$pageview_id", uuid,
                                        sizeof(uuid));
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->raw = 1;
    }

    /*
     * The top level is never cut: written here without members, the
     * bytes members would write ("event" and "distinct_id" escaped with
     * the members' limit).
     */

    top = ngx_http_posthog_top_len(ev, POSTHOG_JSON_ESCAPE_MAX(ev->name.len)
                                       + POSTHOG_JSON_ESCAPE_MAX(
                                             ev->distinct_id.len));

    len = sizeof("{,\"properties\":{}}") - 1 + top
          + ngx_http_posthog_members_bound(&props);

    if (len > plcf->event_max) {

        /* measured, and cut to posthog_event_max_size */

        top = ngx_http_posthog_top_len(ev,
                  posthog_json_escape_len(ev->name.data, ev->name.len,
                                          NGX_HTTP_POSTHOG_VALUE_MAX)
                  + posthog_json_escape_len(ev->distinct_id.data,
                                            ev->distinct_id.len,
                                            NGX_HTTP_POSTHOG_VALUE_MAX));

        len = sizeof("{,\"properties\":{}}") - 1 + top
              + ngx_http_posthog_members_len(&props);

        if (len > plcf->event_max) {

            /* a piece is never cut: the members it stands for may be */

            rc = ngx_http_posthog_members_unpiece(r, &props);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_OK) {
                len = sizeof("{,\"properties\":{}}") - 1 + top
                      + ngx_http_posthog_members_len(&props);
            }

            /* the same bytes either way: never shorter, but not assumed */

            if (len > plcf->event_max) {
                if (ngx_http_posthog_members_fit(&props,
                                                 len - plcf->event_max)
                    != NGX_OK)
                {
                    return NGX_DECLINED;
                }

                ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_EVENTS_CUT,
                                          1);
                ngx_http_posthog_log_limited(&ngx_http_posthog_cut_limit,
                                             NGX_LOG_INFO,
                                             r->connection->log,
                                             "an event of %uz bytes was cut "
                                             "to posthog_event_max_size %uz",
                                             len, plcf->event_max);

                len = sizeof("{,\"properties\":{}}") - 1 + top
                      + ngx_http_posthog_members_len(&props);
            }
        }
    }

    /* in the queue's ring in place if it has room, else copied there */

    out->data = ngx_http_posthog_reserve(&plcf->api_key, len);

    if (out->data == NULL) {
        out->data = ngx_http_posthog_json_buffer(r->connection->log, len,
                                                 plcf->event_max);
        if (out->data == NULL) {
            return NGX_ERROR;
        }
    }

    p = ngx_cpymem(out->data, "{\"event\":\"", sizeof("{\"event\":\"") - 1);
    p = posthog_json_escape(p, ev->name.data, ev->name.len,
                            NGX_HTTP_POSTHOG_VALUE_MAX);
    p = ngx_cpymem(p, "\",\"distinct_id\":\"",
                   sizeof("\",\"distinct_id\":\"") - 1);
    p = posthog_json_escape(p, ev->distinct_id.data, ev->distinct_id.len,
                            NGX_HTTP_POSTHOG_VALUE_MAX);
    p = ngx_cpymem(p, "\",\"timestamp\":", sizeof("\",\"timestamp\":") - 1);
    p = ngx_cpymem(p, ts, NGX_HTTP_POSTHOG_TS_LEN);
    p = ngx_cpymem(p, ",\"uuid\":", sizeof(",\"uuid\":") - 1);
    p = ngx_cpymem(p, uuid, sizeof(uuid));

    if (ev->set.len) {
        p = ngx_cpymem(p, ",\"$set\":", sizeof(",\"$set\":") - 1);
        p = ngx_cpymem(p, ev->set.data, ev->set.len);
    }

    if (ev->set_once.len) {
        p = ngx_cpymem(p, ",\"$set_once\":", sizeof(",\"$set_once\":") - 1);
        p = ngx_cpymem(p, ev->set_once.data, ev->set_once.len);
    }

    p = ngx_cpymem(p, ",\"properties\":{", sizeof(",\"properties\":{") - 1);
    p = ngx_http_posthog_members_write(p, &props);
    *p++ = '}';
    *p++ = '}';

    out->len = p - out->data;

    return NGX_OK;
}
