/*
 * ngx_posthog_module: directives, configuration and the filter chain.
 */


#include "ngx_http_posthog.h"


static ngx_int_t ngx_http_posthog_header_filter(ngx_http_request_t *r);

static ngx_int_t ngx_http_posthog_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_posthog_init(ngx_conf_t *cf);
static void *ngx_http_posthog_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_posthog_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_posthog_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_posthog_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);


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
    ngx_http_posthog_loc_conf_t  *plcf;

    /* identity belongs to the main request: subrequests never set it */

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    if (!plcf->enable) {
        return ngx_http_next_header_filter(r);
    }

    if (ngx_http_posthog_identity_header_filter(r) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_posthog_add_variables(ngx_conf_t *cf)
{
    return ngx_http_posthog_identity_add_variables(cf);
}


static ngx_int_t
ngx_http_posthog_init(ngx_conf_t *cf)
{
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
     *     pmcf->redis = NULL;
     *     pmcf->buffer = NULL;
     */

    return pmcf;
}


static char *
ngx_http_posthog_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_posthog_main_conf_t *pmcf = conf;

    if (ngx_http_posthog_status_init_main_conf(cf, pmcf) != NGX_CONF_OK) {
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
     *     conf->cookie = NULL;
     */

    conf->enable = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_posthog_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_posthog_loc_conf_t *prev = parent;
    ngx_http_posthog_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    return ngx_http_posthog_merge_cookie_conf(cf, prev, conf);
}
