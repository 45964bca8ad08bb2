/*
 * ngx_posthog_module: hiredis's async context on nginx's event loop, in
 * the shape of hiredis's own adapters (adapters/ae.h): attach, and the
 * five hooks hiredis calls (add/del read/write, cleanup).  It knows
 * nothing of the writer above it: what it must tell, it tells through
 * the callbacks it is given.
 */

#ifndef _NGX_HTTP_POSTHOG_REDIS_ADAPTER_H_INCLUDED_
#define _NGX_HTTP_POSTHOG_REDIS_ADAPTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


typedef struct {
    redisAsyncContext         *ac;
    ngx_connection_t          *conn;         /* NULL: not attached */

    /* set once by the caller, for every connection */

    /*
     * the socket is readable: redisAsyncHandleRead(), or the caller's own
     * reading; NGX_AGAIN: it read the socket empty
     */
    ngx_int_t                (*read)(void *data);
    /* an event could not be added: end the connection, for "reason" */
    void                     (*error)(void *data, const char *reason);
    /* the context is being freed, "conn" was released (fd not closed) */
    void                     (*closed)(void *data);
    /* nginx closes idle connections: a graceful shutdown, or "forced" */
    void                     (*shutdown)(void *data, ngx_uint_t forced);
    void                      *data;

    unsigned                   reading:1;
    unsigned                   writing:1;
} ngx_http_posthog_redis_adapter_t;


/*
 * Wraps the context's socket in an ngx_connection_t and installs the
 * hooks.  On NGX_ERROR nothing is attached and the caller frees "ac".
 */
ngx_int_t ngx_http_posthog_redis_attach(ngx_http_posthog_redis_adapter_t *ad,
    redisAsyncContext *ac, ngx_log_t *log);


#endif /* _NGX_HTTP_POSTHOG_REDIS_ADAPTER_H_INCLUDED_ */
