/*
 * ngx_posthog_module: PostHog product analytics from nginx.
 * Declarations shared by the module's files.
 */

#ifndef _NGX_HTTP_POSTHOG_H_INCLUDED_
#define _NGX_HTTP_POSTHOG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "posthog_uuid.h"


#define NGX_HTTP_POSTHOG_VERSION        "0.1.0"

#define NGX_HTTP_POSTHOG_SAMESITE_LAX     0
#define NGX_HTTP_POSTHOG_SAMESITE_STRICT  1
#define NGX_HTTP_POSTHOG_SAMESITE_NONE    2

#define NGX_HTTP_POSTHOG_SECURE_AUTO      0
#define NGX_HTTP_POSTHOG_SECURE_ON        1
#define NGX_HTTP_POSTHOG_SECURE_OFF       2

/* longer cookies are not ours: refuse before looking inside */
#define NGX_HTTP_POSTHOG_COOKIE_MAX       1024


typedef struct {
    ngx_str_t                  name;
    ngx_str_t                  domain;
    ngx_str_t                  path;
    time_t                     max_age;
    ngx_uint_t                 secure;
    ngx_uint_t                 samesite;
    ngx_flag_t                 httponly;
} ngx_http_posthog_cookie_conf_t;


typedef struct {
    ngx_flag_t                 enable;
    ngx_http_posthog_cookie_conf_t  *cookie;
} ngx_http_posthog_loc_conf_t;


typedef struct {
    u_char                     anon[POSTHOG_UUID_LEN];

    unsigned                   new_anon:1;      /* made by this request */
    unsigned                   cookie_sent:1;
} ngx_http_posthog_ctx_t;


extern ngx_module_t  ngx_http_posthog_module;


/* ngx_http_posthog_identity.c */

ngx_http_posthog_ctx_t *ngx_http_posthog_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_posthog_identity_header_filter(ngx_http_request_t *r);
ngx_int_t ngx_http_posthog_identity_add_variables(ngx_conf_t *cf);
char *ngx_http_posthog_cookie(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_posthog_merge_cookie_conf(ngx_conf_t *cf,
    ngx_http_posthog_loc_conf_t *prev, ngx_http_posthog_loc_conf_t *conf);


#endif /* _NGX_HTTP_POSTHOG_H_INCLUDED_ */
