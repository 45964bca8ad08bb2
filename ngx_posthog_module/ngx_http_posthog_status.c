/*
 * ngx_posthog_module: the counters, in shared memory across workers, and
 * the status page that shows them (JSON, or Prometheus text exposition).
 */


#include "ngx_http_posthog.h"


/*
 * More slots than counters: the zone is reused across reloads, also when
 * a newer module with more counters is loaded.
 */
#define NGX_HTTP_POSTHOG_STAT_SLOTS    64

/* seconds between two log lines of one kind, per worker */
#define NGX_HTTP_POSTHOG_LOG_EVERY     10

#define NGX_HTTP_POSTHOG_STATUS_JSON        0
#define NGX_HTTP_POSTHOG_STATUS_PROMETHEUS  1


typedef struct {
    ngx_str_t                  json;         /* JSON key */
    ngx_str_t                  metric;       /* Prometheus family */
    ngx_str_t                  labels;       /* "" or {reason="..."} */
    ngx_uint_t                 gauge;
    const char                *help;
} ngx_http_posthog_stat_def_t;


#define ngx_http_posthog_counter(json, metric, labels, help)                  \
    { ngx_string(json), ngx_string(metric), ngx_string(labels), 0, help }
#define ngx_http_posthog_gauge(json, metric, help)                            \
    { ngx_string(json), ngx_string(metric), ngx_string(""), 1, help }


/* in the order of ngx_http_posthog_stat_e */

static ngx_http_posthog_stat_def_t  ngx_http_posthog_stat_defs[] = {

    ngx_http_posthog_counter("events", "posthog_events_total", "",
        "Events made from requests."),
    ngx_http_posthog_counter("written", "posthog_events_written_total", "",
        "Events written to the Redis stream (XADD answered with an id)."),
    ngx_http_posthog_counter("dropped_full",
        "posthog_events_dropped_total", "{reason=\"buffer_full\"}",
        "Events dropped, by reason."),
    ngx_http_posthog_counter("dropped_too_large",
        "posthog_events_dropped_total", "{reason=\"too_large\"}", NULL),
    ngx_http_posthog_counter("dropped_redis",
        "posthog_events_dropped_total", "{reason=\"redis_error\"}", NULL),
    ngx_http_posthog_counter("dropped_exit",
        "posthog_events_dropped_total", "{reason=\"exit\"}", NULL),
    ngx_http_posthog_counter("no_api_key", "posthog_no_api_key_total", "",
        "Tracked requests without an api key: no event made."),
    ngx_http_posthog_counter("redis_errors", "posthog_redis_errors_total", "",
        "Redis connections failed or lost, and error replies."),
    ngx_http_posthog_counter("redis_reconnects",
        "posthog_redis_reconnects_total", "",
        "Connection attempts after a failure or a loss."),
    ngx_http_posthog_gauge("buffered_events", "posthog_buffered_events",
        "Events in the workers' buffers, not yet acknowledged by Redis."),
    ngx_http_posthog_gauge("buffered_bytes", "posthog_buffered_bytes",
        "Bytes used in the workers' buffers."),
    ngx_http_posthog_counter("bad_cookies", "posthog_bad_cookies_total", "",
        "Identity cookies refused (malformed or not ours)."),
    ngx_http_posthog_counter("identifies", "posthog_identifies_total", "",
        "$identify events."),
    ngx_http_posthog_counter("aliases", "posthog_aliases_total", "",
        "$create_alias events."),
    ngx_http_posthog_counter("resets", "posthog_resets_total", "",
        "Identity resets (logout)."),
    ngx_http_posthog_counter("refused_ids", "posthog_refused_ids_total", "",
        "Distinct ids refused as illegal."),
    ngx_http_posthog_counter("dropped_no_redis",
        "posthog_events_dropped_total", "{reason=\"no_redis\"}", NULL),
    ngx_http_posthog_gauge("redis_connected", "posthog_redis_connected",
        "Workers with a working Redis connection."),
    ngx_http_posthog_counter("dropped_internal",
        "posthog_events_dropped_total", "{reason=\"internal\"}", NULL),
    ngx_http_posthog_counter("duplicate_cookies",
        "posthog_duplicate_cookies_total", "",
        "Requests that sent the identity cookie more than once."),
    ngx_http_posthog_counter("expired_identities",
        "posthog_expired_identities_total", "",
        "Signed identified states past their lifetime: a new anonymous id."),
    ngx_http_posthog_counter("events_cut", "posthog_events_cut_total", "",
        "Events whose properties were cut to fit posthog_event_max_size."),
    ngx_http_posthog_counter("identify_on_error",
        "posthog_identify_on_error_total", "",
        "Identify or alias not applied: the response was an error (>= 400)."),
    ngx_http_posthog_counter("cookieless", "posthog_cookieless_events_total",
        "", "Events made in PostHog's cookieless form (no consent)."),
    ngx_http_posthog_counter("dropped_unconsented",
        "posthog_events_dropped_total", "{reason=\"unconsented\"}", NULL),
    ngx_http_posthog_counter("dropped_unhashable",
        "posthog_events_dropped_total", "{reason=\"unhashable\"}", NULL),
    ngx_http_posthog_counter("bad_js_cookies", "posthog_bad_js_cookies_total",
        "", "posthog-js cookies refused (malformed, refused id, doubled) "
        "or too long to write."),
    ngx_http_posthog_counter("bots", "posthog_bot_requests_total", "",
        "Requests of bots and non-browsers skipped: no event, no cookie."),
};


static ngx_int_t ngx_http_posthog_status_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_posthog_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_posthog_status_prometheus_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_posthog_status_send(ngx_http_request_t *r,
    ngx_uint_t format);


static ngx_atomic_t  *ngx_http_posthog_stats;


void
ngx_http_posthog_stat_add(ngx_uint_t stat, ngx_atomic_int_t n)
{
    if (ngx_http_posthog_stats == NULL || stat >= NGX_HTTP_POSTHOG_STAT_N) {
        return;
    }

    (void) ngx_atomic_fetch_add(&ngx_http_posthog_stats[stat], n);
}


/*
 * An outage makes the same trouble on every request: one line per kind
 * every NGX_HTTP_POSTHOG_LOG_EVERY seconds, with the number left out.
 */

void
ngx_http_posthog_log_limited(ngx_http_posthog_limit_t *limit,
    ngx_uint_t level, ngx_log_t *log, const char *fmt, ...)
{
    u_char   *p;
    time_t    now;
    va_list   args;
    u_char    msg[NGX_MAX_ERROR_STR];

    if (log->log_level < level) {
        return;
    }

    now = ngx_time();

    if (limit->last && now - limit->last < NGX_HTTP_POSTHOG_LOG_EVERY) {
        limit->suppressed++;
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
    va_end(args);

    if (limit->suppressed) {
        p = ngx_slprintf(p, msg + sizeof(msg),
                         " (%ui similar messages suppressed)",
                         limit->suppressed);
    }

    ngx_log_error(level, log, 0, "posthog: %*s", p - msg, msg);

    limit->last = now;
    limit->suppressed = 0;
}


/* the zone exists whenever the module is loaded, named "posthog_status" */

char *
ngx_http_posthog_status_init_main_conf(ngx_conf_t *cf,
    ngx_http_posthog_main_conf_t *pmcf)
{
    ngx_str_t  name = ngx_string("posthog_status");

    if (sizeof(ngx_http_posthog_stat_defs)
        / sizeof(ngx_http_posthog_stat_def_t) != NGX_HTTP_POSTHOG_STAT_N
        || NGX_HTTP_POSTHOG_STAT_N > NGX_HTTP_POSTHOG_STAT_SLOTS)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "posthog: counters and their names disagree");
        return NGX_CONF_ERROR;
    }

    pmcf->shm_zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                           &ngx_http_posthog_module);
    if (pmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    pmcf->shm_zone->init = ngx_http_posthog_status_init_zone;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_posthog_status_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        /* a reload: the counters go on */
        shm_zone->data = data;
        ngx_http_posthog_stats = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        ngx_http_posthog_stats = shpool->data;
        return NGX_OK;
    }

    ngx_http_posthog_stats = ngx_slab_calloc(shpool,
                                 sizeof(ngx_atomic_t)
                                 * NGX_HTTP_POSTHOG_STAT_SLOTS);
    if (ngx_http_posthog_stats == NULL) {
        return NGX_ERROR;
    }

    shpool->data = (void *) ngx_http_posthog_stats;
    shm_zone->data = (void *) ngx_http_posthog_stats;

    return NGX_OK;
}


/* posthog_status [json|prometheus] */

char *
ngx_http_posthog_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_posthog_status_handler
        || clcf->handler == ngx_http_posthog_status_prometheus_handler)
    {
        return "is duplicate";
    }

    if (clcf->handler) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot be used in a location that "
                           "already has a content handler (\"proxy_pass\", "
                           "\"fastcgi_pass\", \"stub_status\" ...): give "
                           "it a location of its own", &cmd->name);
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (cf->args->nelts == 1 || ngx_strcmp(value[1].data, "json") == 0) {
        clcf->handler = ngx_http_posthog_status_handler;

    } else if (ngx_strcmp(value[1].data, "prometheus") == 0) {
        clcf->handler = ngx_http_posthog_status_prometheus_handler;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid format \"%V\" in \"%V\", "
                           "use \"json\" or \"prometheus\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_posthog_status_handler(ngx_http_request_t *r)
{
    return ngx_http_posthog_status_send(r, NGX_HTTP_POSTHOG_STATUS_JSON);
}


static ngx_int_t
ngx_http_posthog_status_prometheus_handler(ngx_http_request_t *r)
{
    return ngx_http_posthog_status_send(r, NGX_HTTP_POSTHOG_STATUS_PROMETHEUS);
}


static ngx_int_t
ngx_http_posthog_status_send(ngx_http_request_t *r, ngx_uint_t format)
{
    size_t                        size;
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_str_t                     arg;
    ngx_uint_t                    i, j;
    ngx_chain_t                   out;
    ngx_atomic_uint_t             v[NGX_HTTP_POSTHOG_STAT_N];
    ngx_http_posthog_stat_def_t  *d;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_arg(r, (u_char *) "format", 6, &arg) == NGX_OK) {
        if (arg.len == 10
            && ngx_strncmp(arg.data, "prometheus", 10) == 0)
        {
            format = NGX_HTTP_POSTHOG_STATUS_PROMETHEUS;

        } else if (arg.len == 4 && ngx_strncmp(arg.data, "json", 4) == 0) {
            format = NGX_HTTP_POSTHOG_STATUS_JSON;
        }
    }

    d = ngx_http_posthog_stat_defs;

    for (i = 0; i < NGX_HTTP_POSTHOG_STAT_N; i++) {
        v[i] = ngx_http_posthog_stats ? ngx_http_posthog_stats[i] : 0;
    }

    size = sizeof("{\"version\":\"\",\n}\n") + sizeof(NGX_HTTP_POSTHOG_VERSION);

    for (i = 0; i < NGX_HTTP_POSTHOG_STAT_N; i++) {
        size += sizeof("# HELP  \n# TYPE  counter\n  \n\"\":,\n")
                + 2 * d[i].metric.len + d[i].labels.len + d[i].json.len
                + (d[i].help ? ngx_strlen(d[i].help) : 0) + NGX_ATOMIC_T_LEN;
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (format == NGX_HTTP_POSTHOG_STATUS_JSON) {
        ngx_str_set(&r->headers_out.content_type, "application/json");

        b->last = ngx_sprintf(b->last, "{\"version\":\"%s\"",
                              NGX_HTTP_POSTHOG_VERSION);

        for (i = 0; i < NGX_HTTP_POSTHOG_STAT_N; i++) {
            b->last = ngx_sprintf(b->last, ",\n\"%V\":%uA", &d[i].json, v[i]);
        }

        *b->last++ = '}';
        *b->last++ = LF;

    } else {
        ngx_str_set(&r->headers_out.content_type,
                    "text/plain; version=0.0.4");

        /*
         * One HELP and TYPE per family, then all its samples: the
         * samples of a family need not be adjacent in the enum.
         */

        for (i = 0; i < NGX_HTTP_POSTHOG_STAT_N; i++) {

            for (j = 0; j < i; j++) {
                if (d[j].metric.len == d[i].metric.len
                    && ngx_strncmp(d[j].metric.data, d[i].metric.data,
                                   d[i].metric.len) == 0)
                {
                    break;
                }
            }

            if (j < i) {
                continue;           /* printed with its family */
            }

            if (d[i].help) {
                b->last = ngx_sprintf(b->last, "# HELP %V %s\n",
                                      &d[i].metric, d[i].help);
            }

            b->last = ngx_sprintf(b->last, "# TYPE %V %s\n", &d[i].metric,
                                  d[i].gauge ? "gauge" : "counter");

            for (j = i; j < NGX_HTTP_POSTHOG_STAT_N; j++) {
                if (d[j].metric.len == d[i].metric.len
                    && ngx_strncmp(d[j].metric.data, d[i].metric.data,
                                   d[i].metric.len) == 0)
                {
                    b->last = ngx_sprintf(b->last, "%V%V %uA\n",
                                          &d[j].metric, &d[j].labels, v[j]);
                }
            }
        }
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
