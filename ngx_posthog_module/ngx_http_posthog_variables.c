/*
 * The identity as configuration sees it: the $posthog_* identity
 * variables, and the posthog_reset and posthog_logout directives.
 */


#include "ngx_http_posthog.h"


static ngx_int_t ngx_http_posthog_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#define NGX_HTTP_POSTHOG_VAR_DISTINCT_ID  0
#define NGX_HTTP_POSTHOG_VAR_ANON_ID      1
#define NGX_HTTP_POSTHOG_VAR_IDENTIFIED   2
#define NGX_HTTP_POSTHOG_VAR_DEVICE_ID    3
#define NGX_HTTP_POSTHOG_VAR_NONE         4


static ngx_http_variable_t  ngx_http_posthog_vars[] = {

    { ngx_string("posthog_distinct_id"), NULL, ngx_http_posthog_id_variable,
      NGX_HTTP_POSTHOG_VAR_DISTINCT_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("posthog_anon_id"), NULL, ngx_http_posthog_id_variable,
      NGX_HTTP_POSTHOG_VAR_ANON_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("posthog_identified"), NULL, ngx_http_posthog_id_variable,
      NGX_HTTP_POSTHOG_VAR_IDENTIFIED, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("posthog_device_id"), NULL, ngx_http_posthog_id_variable,
      NGX_HTTP_POSTHOG_VAR_DEVICE_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_posthog_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                     id;
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

    /* no consent: no id (the events carry PostHog's cookieless sentinel) */

    if (ctx->cookieless) {
        data = NGX_HTTP_POSTHOG_VAR_NONE;
    }

    switch (data) {

    case NGX_HTTP_POSTHOG_VAR_NONE:
        ngx_str_null(&id);
        break;

    case NGX_HTTP_POSTHOG_VAR_ANON_ID:
        id.data = ctx->st.anon;
        id.len = POSTHOG_UUID_LEN;
        break;

    case NGX_HTTP_POSTHOG_VAR_DEVICE_ID:
        id.data = ctx->st.device;
        id.len = POSTHOG_UUID_LEN;
        break;

    case NGX_HTTP_POSTHOG_VAR_IDENTIFIED:
        if (ctx->st.user_len) {
            ngx_str_set(&id, "1");

        } else {
            ngx_str_null(&id);
        }

        break;

    default: /* NGX_HTTP_POSTHOG_VAR_DISTINCT_ID */
        ngx_http_posthog_distinct_id(ctx, &id);
        break;
    }

    v->data = id.data;
    v->len = id.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_posthog_identity_add_variables(ngx_conf_t *cf)
{
    return ngx_http_posthog_add_variable_table(cf, ngx_http_posthog_vars);
}


/* adds the variables of a table that ends with ngx_http_null_variable */

ngx_int_t
ngx_http_posthog_add_variable_table(ngx_conf_t *cf, ngx_http_variable_t *vars)
{
    ngx_http_variable_t  *var, *v;

    for (v = vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* posthog_reset [device] */

char *
ngx_http_posthog_reset(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_loc_conf_t *plcf = conf;

    ngx_str_t  *value;

    if (plcf->reset != NGX_HTTP_POSTHOG_RESET_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 1) {
        plcf->reset = NGX_HTTP_POSTHOG_RESET_ON;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "device") == 0) {
        plcf->reset = NGX_HTTP_POSTHOG_RESET_DEVICE;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "off") == 0) {
        plcf->reset = NGX_HTTP_POSTHOG_RESET_OFF;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive, "
                       "it must be \"device\" or \"off\"",
                       &value[1], &cmd->name);

    return NGX_CONF_ERROR;
}


/* posthog_logout REGEX ...: "~*" before a regex makes it caseless */

char *
ngx_http_posthog_logout(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_loc_conf_t *plcf = conf;

    u_char                errstr[NGX_MAX_CONF_ERRSTR];
    ngx_str_t            *value;
    ngx_uint_t            i;
    ngx_regex_t         **re;
    ngx_regex_compile_t   rc;

    if (plcf->logout == NULL) {
        plcf->logout = ngx_array_create(cf->pool, 2, sizeof(ngx_regex_t *));
        if (plcf->logout == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

        rc.pattern = value[i];
        rc.pool = cf->pool;
        rc.err.len = NGX_MAX_CONF_ERRSTR;
        rc.err.data = errstr;

        if (value[i].len > 2 && value[i].data[0] == '~'
            && value[i].data[1] == '*')
        {
            rc.pattern.data += 2;
            rc.pattern.len -= 2;
            rc.options = NGX_REGEX_CASELESS;
        }

        if (ngx_regex_compile(&rc) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid regex \"%V\" in \"%V\" directive: %V",
                               &value[i], &cmd->name, &rc.err);
            return NGX_CONF_ERROR;
        }

        re = ngx_array_push(plcf->logout);
        if (re == NULL) {
            return NGX_CONF_ERROR;
        }

        *re = rc.regex;
    }

    return NGX_CONF_OK;
}
