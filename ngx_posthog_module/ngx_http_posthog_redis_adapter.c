/*
 * ngx_posthog_module: hiredis's async context on nginx's event loop.
 *
 * The socket is hiredis's: an ngx_connection_t wraps it for nginx's
 * events and is released without closing it (hiredis closes it, and the
 * number may already belong to another connection by then).
 */


#include "ngx_http_posthog_redis_adapter.h"


static void ngx_http_posthog_redis_add_read(void *privdata);
static void ngx_http_posthog_redis_del_read(void *privdata);
static void ngx_http_posthog_redis_add_write(void *privdata);
static void ngx_http_posthog_redis_del_write(void *privdata);
static void ngx_http_posthog_redis_cleanup(void *privdata);
static void ngx_http_posthog_redis_add_event(
    ngx_http_posthog_redis_adapter_t *ad, ngx_event_t *ev, ngx_int_t event);
static void ngx_http_posthog_redis_del_event(ngx_event_t *ev,
    ngx_int_t event);
static void ngx_http_posthog_redis_read_handler(ngx_event_t *rev);
static void ngx_http_posthog_redis_write_handler(ngx_event_t *wev);


ngx_int_t
ngx_http_posthog_redis_attach(ngx_http_posthog_redis_adapter_t *ad,
    redisAsyncContext *ac, ngx_log_t *log)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(ac->c.fd, log);

    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = ad;
    c->read->handler = ngx_http_posthog_redis_read_handler;
    c->write->handler = ngx_http_posthog_redis_write_handler;
    c->read->log = log;
    c->write->log = log;

    /*
     * "idle": on a graceful shutdown ngx_close_idle_connections() calls
     * the read handler with c->close set, which is how the writer learns
     * that it has to flush and wait
     */
    c->idle = 1;

    if (ngx_add_conn) {
        /* epoll: both directions, edge-triggered, for the whole life */
        if (ngx_add_conn(c) == NGX_ERROR) {
            ngx_free_connection(c);
            c->fd = (ngx_socket_t) -1;
            return NGX_ERROR;
        }
    }

    ad->ac = ac;
    ad->conn = c;
    ad->reading = 0;
    ad->writing = 0;

    ac->ev.data = ad;
    ac->ev.addRead = ngx_http_posthog_redis_add_read;
    ac->ev.delRead = ngx_http_posthog_redis_del_read;
    ac->ev.addWrite = ngx_http_posthog_redis_add_write;
    ac->ev.delWrite = ngx_http_posthog_redis_del_write;
    ac->ev.cleanup = ngx_http_posthog_redis_cleanup;

    return NGX_OK;
}


static void
ngx_http_posthog_redis_add_read(void *privdata)
{
    ngx_http_posthog_redis_adapter_t *ad = privdata;

    ad->reading = 1;
    ngx_http_posthog_redis_add_event(ad, ad->conn->read, NGX_READ_EVENT);
}


static void
ngx_http_posthog_redis_del_read(void *privdata)
{
    ngx_http_posthog_redis_adapter_t *ad = privdata;

    ad->reading = 0;
    ngx_http_posthog_redis_del_event(ad->conn->read, NGX_READ_EVENT);
}


static void
ngx_http_posthog_redis_add_write(void *privdata)
{
    ngx_http_posthog_redis_adapter_t *ad = privdata;

    ad->writing = 1;
    ngx_http_posthog_redis_add_event(ad, ad->conn->write, NGX_WRITE_EVENT);
}


static void
ngx_http_posthog_redis_del_write(void *privdata)
{
    ngx_http_posthog_redis_adapter_t *ad = privdata;

    ad->writing = 0;
    ngx_http_posthog_redis_del_event(ad->conn->write, NGX_WRITE_EVENT);
}


static void
ngx_http_posthog_redis_add_event(ngx_http_posthog_redis_adapter_t *ad,
    ngx_event_t *ev, ngx_int_t event)
{
    if (!ngx_add_conn && !ev->active) {
        if (ngx_add_event(ev, event,
                          (ngx_event_flags & NGX_USE_CLEAR_EVENT)
                          ? NGX_CLEAR_EVENT : NGX_LEVEL_EVENT)
            == NGX_ERROR)
        {
            ad->error(ad->data, "cannot add an event");
            return;
        }
    }

    /*
     * Edge-triggered: what is already readable or writable will not be
     * signalled again.  Posted, the handler runs once the current events
     * are handled, which also gathers all the commands they added.
     */

    if (ev->ready) {
        ngx_post_event(ev, &ngx_posted_events);
    }
}


/* a level-triggered event that stays would fire again and again */

static void
ngx_http_posthog_redis_del_event(ngx_event_t *ev, ngx_int_t event)
{
    if (!ngx_add_conn && !(ngx_event_flags & NGX_USE_CLEAR_EVENT)
        && ev->active)
    {
        (void) ngx_del_event(ev, event, 0);
    }
}


/*
 * Called by hiredis when the context is freed, after every pending
 * callback got its NULL reply and before hiredis closes the socket: the
 * ngx_connection_t is released without closing the fd (not ours).
 */

static void
ngx_http_posthog_redis_cleanup(void *privdata)
{
    ngx_http_posthog_redis_adapter_t *ad = privdata;

    ngx_connection_t  *c;

    c = ad->conn;

    if (c) {
        if (ngx_del_conn) {
            ngx_del_conn(c, NGX_CLOSE_EVENT);

        } else {
            if (c->read->active || c->read->disabled) {
                ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
            }

            if (c->write->active || c->write->disabled) {
                ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
            }
        }

        if (c->read->posted) {
            ngx_delete_posted_event(c->read);
        }

        if (c->write->posted) {
            ngx_delete_posted_event(c->write);
        }

        c->read->closed = 1;
        c->write->closed = 1;

        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
    }

    ad->ac = NULL;
    ad->conn = NULL;
    ad->reading = 0;
    ad->writing = 0;

    /* the context is freed when this returns: ac->err is still there */
    ad->closed(ad->data);
}


static void
ngx_http_posthog_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                            n;
    u_char                             byte;
    ngx_err_t                          err;
    ngx_int_t                          rc;
    ngx_connection_t                  *c;
    ngx_http_posthog_redis_adapter_t  *ad;

    c = rev->data;
    ad = c->data;

    if (c->close) {
        c->close = 0;

        if (c->error) {
            /* worker_shutdown_timeout: no more waiting */
            ad->shutdown(ad->data, 1);
            return;
        }

        /* graceful shutdown, see ngx_close_idle_connections() */
        ad->shutdown(ad->data, 0);

        if (ad->conn != c) {
            return;
        }

        /*
         * Called from the worker's loop, not from an event handler: an
         * event posted now would wait for the next I/O or timer.  Write
         * what the writer queued right away.
         */

        if (ad->writing && c->write->ready) {
            ngx_http_posthog_redis_write_handler(c->write);

            if (ad->conn != c) {
                return;
            }
        }
    }

    if (!ad->reading || !rev->ready) {
        return;
    }

    /*
     * hiredis reads at most 16 KB per call, and an edge-triggered event
     * does not come again for what is left: read until the socket is
     * empty.  Unless the reader saw it empty (NGX_AGAIN), a peek tells
     * whether there is more (or an EOF or an error, which the next call
     * reads and turns into a disconnect).
     */

    for ( ;; ) {
        rc = ad->read(ad->data);

        if (ad->conn != c) {
            return;                 /* the context is gone, and so is c */
        }

        if (rc == NGX_AGAIN) {
            rev->ready = 0;
            return;
        }

        n = recv(c->fd, &byte, 1, MSG_PEEK);

        if (n == -1) {
            err = ngx_socket_errno;

            if (err == NGX_EAGAIN) {
                rev->ready = 0;
                return;
            }

            if (err == NGX_EINTR) {
                continue;
            }
        }
    }
}


static void
ngx_http_posthog_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t                  *c;
    ngx_http_posthog_redis_adapter_t  *ad;

    c = wev->data;
    ad = c->data;

    if (!ad->writing || !wev->ready) {
        return;
    }

    redisAsyncHandleWrite(ad->ac);

    if (ad->conn != c) {
        return;
    }

    if (ad->writing) {
        /* a short write: the socket buffer is full, wait for the edge */
        wev->ready = 0;
    }
}
