/*
 * ngx_posthog_module: directives, configuration and the filter chain.
 */


#include "ngx_http_posthog.h"


static ngx_int_t ngx_http_posthog_header_filter(ngx_http_request_t *r);

static ngx_int_t ngx_http_posthog_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_posthog_init(ngx_conf_t *cf);
static void *ngx_http_posthog_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_posthog_set_enum(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_posthog_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_posthog_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_posthog_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);


static ngx_conf_enum_t  ngx_http_posthog_capture[] = {
    { ngx_string("off"), NGX_HTTP_POSTHOG_CAPTURE_OFF },
    { ngx_string("pageview"), NGX_HTTP_POSTHOG_CAPTURE_PAGEVIEW },
    { ngx_string("all"), NGX_HTTP_POSTHOG_CAPTURE_ALL },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_posthog_person_profiles[] = {
    { ngx_string("identified_only"), 1 },
    { ngx_string("always"), 0 },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_posthog_consent_missing[] = {
    { ngx_string("cookieless"), NGX_HTTP_POSTHOG_CONSENT_COOKIELESS },
    { ngx_string("drop"), NGX_HTTP_POSTHOG_CONSENT_DROP },
    { ngx_null_string, 0 }
};


static char *ngx_http_posthog_event_max_check(ngx_conf_t *cf, void *post,
    void *data);

static ngx_conf_post_t  ngx_http_posthog_event_max_post = {
    ngx_http_posthog_event_max_check
};


static ngx_conf_enum_t  ngx_http_posthog_bots[] = {
    { ngx_string("ignore"), NGX_HTTP_POSTHOG_BOTS_IGNORE },
    { ngx_string("capture"), NGX_HTTP_POSTHOG_BOTS_CAPTURE },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_posthog_commands[] = {

    { ngx_string("posthog"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, enable),
      NULL },

    { ngx_string("posthog_cookie"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_posthog_cookie,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("posthog_api_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_posthog_api_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("posthog_capture"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_posthog_set_enum,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, capture),
      &ngx_http_posthog_capture },

    { ngx_string("posthog_event"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, event),
      NULL },

    { ngx_string("posthog_property"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23,
      ngx_http_posthog_property,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, props),
      NULL },

    { ngx_string("posthog_identify"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, identify),
      NULL },

    { ngx_string("posthog_person_property"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23,
      ngx_http_posthog_property,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, person_props),
      NULL },

    { ngx_string("posthog_person_property_once"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23,
      ngx_http_posthog_property,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, person_props_once),
      NULL },

    { ngx_string("posthog_reset"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_posthog_reset,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("posthog_logout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_posthog_logout,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("posthog_signals"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, signals),
      NULL },

    { ngx_string("posthog_alias"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, alias),
      NULL },

    { ngx_string("posthog_cookie_secret"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_posthog_cookie_secret,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("posthog_person_profiles"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_posthog_set_enum,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, personless),
      &ngx_http_posthog_person_profiles },

    { ngx_string("posthog_event_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, event_max),
      &ngx_http_posthog_event_max_post },

    { ngx_string("posthog_consent"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, consent),
      NULL },

    { ngx_string("posthog_consent_missing"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_posthog_set_enum,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, consent_missing),
      &ngx_http_posthog_consent_missing },

    { ngx_string("posthog_honor_gpc"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, honor_gpc),
      NULL },

    { ngx_string("posthog_session"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_ANY,
      ngx_http_posthog_session,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("posthog_js_cookie"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, js_cookie),
      NULL },

    { ngx_string("posthog_js_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, js_headers),
      NULL },

    { ngx_string("posthog_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_posthog_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("posthog_buffer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_posthog_buffer,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("posthog_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_posthog_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("posthog_user_agent_parse"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, ua.parse),
      NULL },

    { ngx_string("posthog_user_agent_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_posthog_user_agent_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("posthog_bots"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_posthog_set_enum,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_posthog_loc_conf_t, ua.bots),
      &ngx_http_posthog_bots },

    { ngx_string("posthog_bot_user_agent"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_posthog_bot_user_agent,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_posthog_module_ctx = {
    ngx_http_posthog_add_variables,        /* preconfiguration */
    ngx_http_posthog_init,                 /* postconfiguration */

    ngx_http_posthog_create_main_conf,     /* create main configuration */
    ngx_http_posthog_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_posthog_create_loc_conf,      /* create location configuration */
    ngx_http_posthog_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_posthog_module = {
    NGX_MODULE_V1,
    &ngx_http_posthog_module_ctx,          /* module context */
    ngx_http_posthog_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_posthog_redis_init_process,   /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_posthog_redis_exit_process,   /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static ngx_int_t
ngx_http_posthog_header_filter(ngx_http_request_t *r)
{
    ngx_http_posthog_loc_conf_t   *plcf;
    ngx_http_posthog_main_conf_t  *pmcf;

    /* identity belongs to the main request: subrequests never set it */

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    if (!plcf->enable) {
        pmcf = ngx_http_get_module_main_conf(r, ngx_http_posthog_module);

        /* signals meant for a tracked location never reach a client */

        if (pmcf->signals) {
            ngx_http_posthog_strip_signals(r);
        }

        return ngx_http_next_header_filter(r);
    }

    /* a bot gets no cookie; the upstream's signals are not for it either */

    if (ngx_http_posthog_ua_skip(r, 0)) {
        ngx_http_posthog_strip_signals(r);
        return ngx_http_next_header_filter(r);
    }

    /* analytics never fails a response: it goes without the cookie */

    if (ngx_http_posthog_identity_header_filter(r) != NGX_OK) {
        static ngx_http_posthog_limit_t  limit;

        ngx_http_posthog_strip_signals(r);
        ngx_http_posthog_log_limited(&limit, NGX_LOG_ERR, r->connection->log,
                                     "identity not updated for this "
                                     "response");
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_posthog_add_variables(ngx_conf_t *cf)
{
    if (ngx_http_posthog_consent_add_variables(cf) != NGX_OK
        || ngx_http_posthog_session_add_variables(cf) != NGX_OK
        || ngx_http_posthog_ua_add_variables(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_posthog_identity_add_variables(cf);
}


static ngx_int_t
ngx_http_posthog_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt           *h;
    ngx_http_core_main_conf_t     *cmcf;
    ngx_http_posthog_loc_conf_t   *plcf;
    ngx_http_posthog_main_conf_t  *pmcf;

    /* the merge warns for servers and locations; this is the http level */

    plcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_posthog_module);
    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_posthog_module);

    if (plcf->enable == 1 && plcf->api_key.len == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"posthog\" is on at the http level but no "
                           "\"posthog_api_key\" is set there: requests are "
                           "not captured unless a server or location sets "
                           "one");
    }

    if (plcf->api_key.len && pmcf->redis == NULL) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"posthog_api_key\" is set but \"posthog_redis\" "
                           "is not: events have nowhere to go");
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_posthog_identity_access;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_posthog_log_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_posthog_header_filter;

    return NGX_OK;
}


static void *
ngx_http_posthog_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_posthog_main_conf_t  *pmcf;

    pmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_posthog_main_conf_t));
    if (pmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     pmcf->shm_zone = NULL;
     *     pmcf->signals = 0;
     */

    pmcf->redis = NGX_CONF_UNSET_PTR;
    pmcf->buffer.size = NGX_CONF_UNSET_SIZE;
    pmcf->buffer.flush = NGX_CONF_UNSET_MSEC;
    pmcf->buffer.exit_timeout = NGX_CONF_UNSET_MSEC;

    return pmcf;
}


static char *
ngx_http_posthog_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_posthog_main_conf_t *pmcf = conf;

    if (ngx_http_posthog_status_init_main_conf(cf, pmcf) != NGX_CONF_OK
        || ngx_http_posthog_ua_init_main_conf(cf, pmcf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_posthog_redis_init_main_conf(cf, pmcf);
}


static void *
ngx_http_posthog_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_posthog_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_posthog_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->api_key = { 0, NULL };
     *     conf->event = NULL;
     *     conf->props = NULL;
     *     conf->cookie = NULL;
     *     conf->identify = NULL;
     *     conf->alias = NULL;
     *     conf->person_props = NULL;
     *     conf->person_props_once = NULL;
     *     conf->logout = NULL;
     *     conf->cookie_secret = { 0, NULL };
     *     conf->secret = NULL;
     *     conf->consent = NULL;
     *     conf->js_cookie_name = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->capture = NGX_CONF_UNSET_UINT;
    conf->personless = NGX_CONF_UNSET_UINT;
    conf->event_max = NGX_CONF_UNSET_SIZE;
    conf->reset = NGX_HTTP_POSTHOG_RESET_UNSET;
    conf->signals = NGX_CONF_UNSET;
    conf->consent_missing = NGX_CONF_UNSET_UINT;
    conf->honor_gpc = NGX_CONF_UNSET;
    conf->session_idle = NGX_CONF_UNSET;
    conf->js_cookie = NGX_CONF_UNSET;
    conf->js_headers = NGX_CONF_UNSET;
    ngx_http_posthog_ua_create_conf(&conf->ua);

    return conf;
}


static char *
ngx_http_posthog_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_posthog_loc_conf_t *prev = parent;
    ngx_http_posthog_loc_conf_t *conf = child;

    ngx_http_posthog_main_conf_t  *pmcf;

    if (conf->enable == 1 && prev->api_key.len == 0 && conf->api_key.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"posthog\" is on but no \"posthog_api_key\" is "
                           "set here or above: requests are not captured "
                           "unless a location sets one");
    }

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->api_key, prev->api_key, "");
    ngx_conf_merge_uint_value(conf->capture, prev->capture,
                              NGX_HTTP_POSTHOG_CAPTURE_PAGEVIEW);
    ngx_conf_merge_uint_value(conf->personless, prev->personless, 1);
    ngx_conf_merge_size_value(conf->event_max, prev->event_max,
                              NGX_HTTP_POSTHOG_EVENT_SIZE);

    if (conf->event == NULL) {
        conf->event = prev->event;
    }

    /* as add_header: properties of an outer level apply if none are here */

    if (conf->props == NULL) {
        conf->props = prev->props;
    }

    if (conf->identify == NULL) {
        conf->identify = prev->identify;
    }

    if (conf->alias == NULL) {
        conf->alias = prev->alias;
    }

    if (conf->person_props == NULL) {
        conf->person_props = prev->person_props;
    }

    if (conf->person_props_once == NULL) {
        conf->person_props_once = prev->person_props_once;
    }

    if (conf->logout == NULL) {
        conf->logout = prev->logout;
    }

    /* no posthog_consent: consent assumed, as before it existed */

    if (conf->consent == NULL) {
        conf->consent = prev->consent;
    }

    ngx_conf_merge_uint_value(conf->consent_missing, prev->consent_missing,
                              NGX_HTTP_POSTHOG_CONSENT_COOKIELESS);
    ngx_conf_merge_value(conf->honor_gpc, prev->honor_gpc, 0);

    /*
     * posthog_reset marks one location: it is not inherited, and "unset"
     * stays so (posthog_logout applies there, not with "off").
     */

    ngx_conf_merge_value(conf->signals, prev->signals, 0);
    ngx_http_posthog_ua_merge_conf(&prev->ua, &conf->ua);

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_posthog_module);

    if (conf->signals) {
        pmcf->signals = 1;
    }

    if (conf->enable && conf->api_key.len && pmcf->redis == NULL
        && prev->api_key.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"posthog_api_key\" is set but \"posthog_redis\" "
                           "is not: events have nowhere to go");
    }

    if (ngx_http_posthog_session_merge_conf(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_posthog_merge_cookie_conf(cf, prev, conf);
}


/* ngx_conf_set_enum_slot(), with a message naming the directive and the
 * values it takes */

static char *
ngx_http_posthog_set_enum(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    u_char           *last, buf[256];
    ngx_str_t        *value;
    ngx_uint_t       *np, i;
    ngx_conf_enum_t  *e;

    np = (ngx_uint_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    e = cmd->post;

    for (i = 0; e[i].name.len != 0; i++) {
        if (e[i].name.len == value[1].len
            && ngx_strcasecmp(e[i].name.data, value[1].data) == 0)
        {
            *np = e[i].value;
            return NGX_CONF_OK;
        }
    }

    last = buf;

    for (i = 0; e[i].name.len != 0; i++) {
        last = ngx_slprintf(last, buf + sizeof(buf), "%s\"%V\"",
                            i == 0 ? "" : (e[i + 1].name.len ? ", " : " or "),
                            &e[i].name);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\" directive, "
                       "it must be %*s", &value[1], &cmd->name,
                       last - buf, buf);

    return NGX_CONF_ERROR;
}


/* the ids, names and times of an event must fit; the stream takes at most
 * POSTHOG_STREAM_EVENT_MAX */

static char *
ngx_http_posthog_event_max_check(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *sp = data;

    if (*sp < NGX_HTTP_POSTHOG_EVENT_SIZE_MIN
        || *sp > NGX_HTTP_POSTHOG_EVENT_SIZE_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"posthog_event_max_size\" must be from %uz "
                           "to %uz bytes, not %uz",
                           (size_t) NGX_HTTP_POSTHOG_EVENT_SIZE_MIN,
                           (size_t) NGX_HTTP_POSTHOG_EVENT_SIZE_MAX, *sp);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
