/*
 * The state of a request's session and of posthog-js's cookie, shared by
 * ngx_http_posthog_session.c and ngx_http_posthog_jscookie.c.  The session
 * calls posthog-js's cookie (it may bring the identity and the session),
 * never the reverse.
 */

#ifndef NGX_HTTP_POSTHOG_SESSION_H
#define NGX_HTTP_POSTHOG_SESSION_H


#include "ngx_http_posthog.h"
#include "posthog_jscookie.h"


typedef struct {
    /* the session of this request's events: kept across a reset */
    u_char                     event_session[POSTHOG_UUID_LEN];
    posthog_touch_t           *event_entry;  /* a copy, made at the reset */

    posthog_jscookie_t        *js;           /* posthog-js's, as read */
    uint64_t                   reset_ms;     /* $last_posthog_reset */

    unsigned                   event_saved:1;
    unsigned                   event_identified:1;
    unsigned                   js_write:1;   /* write posthog-js's cookie */
} ngx_http_posthog_session_ctx_t;


/* ngx_http_posthog_jscookie.c */

ngx_int_t ngx_http_posthog_js_read(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx,
    ngx_http_posthog_session_ctx_t *sctx);
ngx_uint_t ngx_http_posthog_js_headers(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx);


#endif /* NGX_HTTP_POSTHOG_SESSION_H */
