/*
 * ngx_posthog_module: the Redis writer's connection state machine.
 *
 * Each worker owns one queue of events (ngx_http_posthog_redis_queue.c)
 * and one hiredis async connection driven by nginx's event loop
 * (ngx_http_posthog_redis_adapter.c).  A request only copies its event
 * into the queue; timers and socket events move the queue into a Redis
 * stream as pipelined XADDs.  An event leaves the queue when Redis has
 * answered its XADD: when the connection is lost first, it is sent again
 * on the next one (at-least-once; the event's uuid lets PostHog collapse
 * duplicates).
 *
 * Here: the request side (enqueue), connect, handshake, flush, reconnect
 * with backoff, timeouts, and the worker's exit.  The directives are in
 * ngx_http_posthog_conf.c; see docs/architecture.md for the layers.
 */


#include "ngx_http_posthog.h"
#include "ngx_http_posthog_redis_adapter.h"
#include "ngx_http_posthog_redis_queue.h"


#define NGX_HTTP_POSTHOG_BACKOFF_MIN        100
#define NGX_HTTP_POSTHOG_BACKOFF_MAX        5000
#define NGX_HTTP_POSTHOG_BACKOFF_EXITING    100

/*
 * While Redis is down and events wait, the reconnect timer wakes the
 * worker at least this often (ms): it is how a worker without a
 * connection learns of a graceful shutdown.
 */
#define NGX_HTTP_POSTHOG_EXIT_CHECK         250

#define NGX_HTTP_POSTHOG_REDIS_DOWN         0
#define NGX_HTTP_POSTHOG_REDIS_CONNECTING   1
#define NGX_HTTP_POSTHOG_REDIS_HANDSHAKE    2   /* AUTH, SELECT, PING */
#define NGX_HTTP_POSTHOG_REDIS_READY        3


/* the worker's writer */

typedef struct {
    ngx_http_posthog_redis_conf_t   *conf;
    ngx_http_posthog_buffer_conf_t  *bcf;
    ngx_log_t                 *log;

    redisAsyncContext         *ac;
    ngx_http_posthog_redis_adapter_t  ad;
    ngx_uint_t                 state;
    ngx_uint_t                 handshake;    /* replies still awaited */
    const char                *close_reason;

    ngx_http_posthog_queue_t   queue;        /* the events, oldest first */

    ngx_msec_t                 backoff;
    ngx_msec_t                 retry_at;
    ngx_msec_t                 exit_deadline;
    time_t                     down_since;

    ngx_event_t                flush_ev;     /* cancelable */
    ngx_event_t                io_ev;        /* connect/reply timeout */
    ngx_event_t                retry_ev;     /* reconnect */
    ngx_event_t                exit_ev;      /* not cancelable */

    ngx_http_posthog_limit_t   redis_limit;

    unsigned                   exiting:1;
    unsigned                   exit_expired:1;
    unsigned                   gave_up:1;
    unsigned                   refused:1;
} ngx_http_posthog_redis_t;


static void ngx_http_posthog_redis_connect(ngx_http_posthog_redis_t *rd);
static void ngx_http_posthog_redis_retry(ngx_http_posthog_redis_t *rd);
static void ngx_http_posthog_redis_ready(ngx_http_posthog_redis_t *rd);
static void ngx_http_posthog_redis_flush(ngx_http_posthog_redis_t *rd);
static void ngx_http_posthog_redis_close(ngx_http_posthog_redis_t *rd,
    const char *reason);
static void ngx_http_posthog_redis_retry_timer(ngx_http_posthog_redis_t *rd);
static void ngx_http_posthog_redis_exiting(ngx_http_posthog_redis_t *rd);
static void ngx_http_posthog_redis_exit_timer(ngx_http_posthog_redis_t *rd);
static void ngx_http_posthog_redis_exit_expired(ngx_http_posthog_redis_t *rd);
static void ngx_http_posthog_redis_give_up(ngx_http_posthog_redis_t *rd);

static void ngx_http_posthog_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_posthog_redis_handshake_cb(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_posthog_redis_replied(void *data, ngx_uint_t written);

static ngx_int_t ngx_http_posthog_redis_read(void *data);
static void ngx_http_posthog_redis_error(void *data, const char *reason);
static void ngx_http_posthog_redis_closed(void *data);
static void ngx_http_posthog_redis_shutdown(void *data, ngx_uint_t forced);

static void ngx_http_posthog_redis_flush_handler(ngx_event_t *ev);
static void ngx_http_posthog_redis_io_handler(ngx_event_t *ev);
static void ngx_http_posthog_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_posthog_redis_exit_handler(ngx_event_t *ev);


static ngx_http_posthog_redis_t  *ngx_http_posthog_redis_worker;


/* the request side */

ngx_int_t
ngx_http_posthog_enqueue(ngx_http_request_t *r, ngx_str_t *token,
    ngx_str_t *event)
{
    ngx_http_posthog_redis_t  *rd;

    rd = ngx_http_posthog_redis_worker;

    if (rd == NULL) {
        /*
         * Not expected: events are only made with posthog_redis, and then
         * every process that serves requests has its writer from
         * init_process until exit_process.  Counted all the same.
         */
        static ngx_http_posthog_limit_t  limit;

        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_NO_REDIS, 1);
        ngx_http_posthog_log_limited(&limit, NGX_LOG_ERR, r->connection->log,
                                     "event dropped: this process has no "
                                     "redis writer");
        return NGX_DECLINED;
    }

    if (ngx_exiting && !rd->exiting) {
        ngx_http_posthog_redis_exiting(rd);
    }

    if (ngx_http_posthog_queue_push(&rd->queue, r->connection->log, token,
                                    event,
                                    rd->state == NGX_HTTP_POSTHOG_REDIS_READY)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (rd->retry_ev.timer_set && rd->retry_ev.cancelable
        && !rd->exit_expired)
    {
        /* events wait for Redis now: the reconnect must not be skipped */
        ngx_http_posthog_redis_retry_timer(rd);
    }

    if (rd->exiting) {
        /* first: past exit_timeout, the flush waits for the replies */
        ngx_http_posthog_redis_exit_timer(rd);
        ngx_http_posthog_redis_flush(rd);
        return NGX_OK;
    }

    if (rd->queue.ring.unsent >= rd->bcf->size / 4) {
        ngx_http_posthog_redis_flush(rd);

    } else if (!rd->flush_ev.timer_set) {
        ngx_add_timer(&rd->flush_ev, rd->bcf->flush);
    }

    return NGX_OK;
}


/*
 * Room for an event of at most "max" bytes in the queue, written there in
 * place and then enqueued; NULL: no such room now (the event is made
 * elsewhere and enqueued as a copy, which counts a drop if it must), or
 * no writer, or exiting (as the copy's path has it).
 */

u_char *
ngx_http_posthog_reserve(ngx_str_t *token, size_t max)
{
    ngx_http_posthog_redis_t  *rd;

    rd = ngx_http_posthog_redis_worker;

    if (rd == NULL || ngx_exiting || rd->exiting) {
        return NULL;
    }

    return ngx_http_posthog_queue_reserve(&rd->queue, token, max);
}


/* the connection */

static void
ngx_http_posthog_redis_connect(ngx_http_posthog_redis_t *rd)
{
    redisAsyncContext              *ac;
    ngx_http_posthog_redis_conf_t  *rcf;

    rcf = rd->conf;

    /* an address, never a name: no blocking lookup in a worker */

    if (rcf->unix_socket) {
        ac = redisAsyncConnectUnix((char *) rcf->host.data);

    } else {
        ac = redisAsyncConnect((char *) rcf->host.data, rcf->port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "posthog: cannot allocate a redis context");
        ngx_http_posthog_redis_retry(rd);
        return;
    }

    if (ac->err) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REDIS_ERRORS, 1);
        ngx_http_posthog_log_limited(&rd->redis_limit, NGX_LOG_ERR, rd->log,
                                   "redis %V unavailable: %s",
                                   &rcf->addr, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_posthog_redis_retry(rd);
        return;
    }

    if (ngx_http_posthog_redis_attach(&rd->ad, ac, rd->log) != NGX_OK) {
        /* hiredis closes the socket */
        redisAsyncFree(ac);
        ngx_http_posthog_redis_retry(rd);
        return;
    }

    rd->ac = ac;
    rd->state = NGX_HTTP_POSTHOG_REDIS_CONNECTING;
    rd->close_reason = NULL;

    ac->data = rd;

    /* waits for the first write event: connect(2) is done then */
    redisAsyncSetConnectCallback(ac, ngx_http_posthog_redis_connected);

    ngx_add_timer(&rd->io_ev, rcf->connect_timeout);
}


static void
ngx_http_posthog_redis_connected(const redisAsyncContext *cac, int status)
{
    redisAsyncContext              *ac;
    ngx_http_posthog_redis_t       *rd;
    ngx_http_posthog_redis_conf_t  *rcf;

    ac = (redisAsyncContext *) cac;
    rd = ac->data;
    rcf = rd->conf;

    if (status != REDIS_OK) {
        /* the context is freed next: the cleanup logs and retries */
        return;
    }

    rd->handshake = 0;

    if (rcf->password.len) {
        if (redisAsyncCommand(ac, ngx_http_posthog_redis_handshake_cb,
                              (void *) "AUTH", "AUTH %b", rcf->password.data,
                              rcf->password.len)
            == REDIS_OK)
        {
            rd->handshake++;
        }
    }

    if (rcf->db.len) {
        if (redisAsyncCommand(ac, ngx_http_posthog_redis_handshake_cb,
                              (void *) "SELECT", "SELECT %b", rcf->db.data,
                              rcf->db.len)
            == REDIS_OK)
        {
            rd->handshake++;
        }
    }

    /*
     * No XADD before Redis has answered once: a Redis that is stopped
     * (SIGSTOP) still completes TCP handshakes in the kernel, and events
     * written to such a connection would reach the stream twice when it
     * resumes, after the connect timeout made us send them again.  The
     * PING also waits out a Redis that is loading its data (-LOADING).
     */

    if (redisAsyncCommand(ac, ngx_http_posthog_redis_handshake_cb,
                          (void *) "PING", "PING")
        == REDIS_OK)
    {
        rd->handshake++;
    }

    if (rd->handshake) {
        rd->state = NGX_HTTP_POSTHOG_REDIS_HANDSHAKE;
        return;
    }

    ngx_http_posthog_redis_ready(rd);
}


static void
ngx_http_posthog_redis_handshake_cb(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                *r;
    ngx_http_posthog_redis_t  *rd;

    rd = ac->data;
    r = reply;

    if (r == NULL) {
        return;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        ngx_http_posthog_log_limited(&rd->redis_limit, NGX_LOG_ERR, rd->log,
                                   "redis %V: %s failed: %*s",
                                   &rd->conf->addr, (char *) privdata,
                                   (size_t) r->len, r->str);

        /* deferred by hiredis until this callback returns */
        ngx_http_posthog_redis_close(rd, NULL);
        return;
    }

    if (--rd->handshake == 0) {
        ngx_http_posthog_redis_ready(rd);
    }
}


static void
ngx_http_posthog_redis_ready(ngx_http_posthog_redis_t *rd)
{
    rd->state = NGX_HTTP_POSTHOG_REDIS_READY;

    if (!rd->refused) {
        /* after a refused XADD the backoff goes on until one succeeds */
        rd->backoff = 0;
    }

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REDIS_CONNECTED, 1);

    if (rd->io_ev.timer_set) {
        ngx_del_timer(&rd->io_ev);
    }

    if (rd->down_since) {
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "posthog: redis %V available again after %T s, "
                      "%uz events buffered",
                      &rd->conf->addr, ngx_time() - rd->down_since,
                      rd->queue.ring.buffered);
        rd->down_since = 0;

    } else {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "posthog: connected to redis %V", &rd->conf->addr);
    }

    ngx_http_posthog_redis_flush(rd);
}


/* hands every unsent event to hiredis, see ngx_http_posthog_queue_send() */

static void
ngx_http_posthog_redis_flush(ngx_http_posthog_redis_t *rd)
{
    if (rd->flush_ev.timer_set) {
        ngx_del_timer(&rd->flush_ev);
    }

    if (rd->state != NGX_HTTP_POSTHOG_REDIS_READY
        || rd->queue.ring.sent == rd->queue.ring.tail)
    {
        return;
    }

    if (ngx_http_posthog_queue_send(&rd->queue, rd->ac) != NGX_OK) {
        /* the events stay, and are tried again by the timer */
        ngx_add_timer(&rd->flush_ev, rd->bcf->flush);
    }

    if (rd->queue.ring.inflight == 0) {
        return;
    }

    if (rd->exit_expired) {
        /*
         * Events of requests that ended after exit_timeout: the worker
         * waits for their replies (at most "timeout") before it exits.
         * A timer already running keeps its deadline: nginx reads the
         * flag when it looks for timers left, and later events must not
         * push back the detection of a hung Redis.
         */
        rd->io_ev.cancelable = 0;
    }

    if (!rd->io_ev.timer_set) {
        ngx_add_timer(&rd->io_ev, rd->conf->timeout);
    }
}


/* what the queue tells */

static void
ngx_http_posthog_redis_replied(void *data, ngx_uint_t written)
{
    ngx_http_posthog_redis_t *rd = data;

    if (written && rd->refused) {
        /* after a refused XADD the backoff went on until one succeeded */
        rd->refused = 0;
        rd->backoff = 0;
    }

    /* the reply timeout counts from the last reply */

    if (rd->queue.ring.inflight) {
        ngx_add_timer(&rd->io_ev, rd->conf->timeout);

    } else if (rd->io_ev.timer_set) {
        ngx_del_timer(&rd->io_ev);
    }

    if (rd->exiting) {
        ngx_http_posthog_redis_exit_timer(rd);
    }
}


/*
 * Ends the connection; the cleanup callback does the rest.  Inside a
 * hiredis callback the free is deferred until the callback returns.
 */

static void
ngx_http_posthog_redis_close(ngx_http_posthog_redis_t *rd,
    const char *reason)
{
    if (rd->ac == NULL) {
        return;
    }

    if (reason) {
        rd->close_reason = reason;
    }

    redisAsyncFree(rd->ac);
}


static void
ngx_http_posthog_redis_retry(ngx_http_posthog_redis_t *rd)
{
    if (rd->gave_up) {
        return;
    }

    if (rd->down_since == 0) {
        rd->down_since = ngx_time();
    }

    rd->backoff = rd->backoff ? ngx_min(rd->backoff * 2,
                                        NGX_HTTP_POSTHOG_BACKOFF_MAX)
                              : NGX_HTTP_POSTHOG_BACKOFF_MIN;

    rd->retry_at = ngx_current_msec
                   + (rd->exiting ? NGX_HTTP_POSTHOG_BACKOFF_EXITING
                                  : rd->backoff);

    ngx_http_posthog_redis_retry_timer(rd);
}


/*
 * The reconnect timer.  With events waiting it is not cancelable: it
 * keeps an exiting worker alive until the shutdown is noticed and the
 * events are tried for exit_timeout; and it fires at least every
 * NGX_HTTP_POSTHOG_EXIT_CHECK ms, because a worker without a connection
 * has no other way to notice the shutdown (nginx tells idle connections
 * only).  Without events, or past exit_timeout, it must not delay the exit.
 */

static void
ngx_http_posthog_redis_retry_timer(ngx_http_posthog_redis_t *rd)
{
    ngx_msec_int_t  left;

    left = (ngx_msec_int_t) (rd->retry_at - ngx_current_msec);

    if (left <= 0) {
        left = 1;
    }

    if (rd->queue.ring.buffered && !rd->exit_expired) {
        rd->retry_ev.cancelable = 0;

        if (!rd->exiting && left > NGX_HTTP_POSTHOG_EXIT_CHECK) {
            left = NGX_HTTP_POSTHOG_EXIT_CHECK;
        }

    } else {
        rd->retry_ev.cancelable = 1;
    }

    if (rd->retry_ev.timer_set) {
        ngx_del_timer(&rd->retry_ev);
    }

    ngx_add_timer(&rd->retry_ev, (ngx_msec_t) left);
}


/* what the adapter tells */

/*
 * The socket is readable.  Until the connection is ready the replies are
 * the handshake's, for hiredis's callbacks; from then on they are the
 * XADDs', for the queue.
 */

static ngx_int_t
ngx_http_posthog_redis_read(void *data)
{
    ngx_http_posthog_redis_t *rd = data;

    ngx_int_t  rc;

    if (rd->state != NGX_HTTP_POSTHOG_REDIS_READY) {
        redisAsyncHandleRead(rd->ac);
        return NGX_OK;
    }

    rc = ngx_http_posthog_queue_read(&rd->queue, rd->ac);

    if (rc == NGX_DECLINED) {
        /* a refused XADD: the backoff goes on until one succeeds */
        rd->refused = 1;
        ngx_http_posthog_redis_close(rd, (const char *) rd->queue.refusal);

    } else if (rc == NGX_ERROR) {
        /* the cleanup logs ac->c.errstr */
        ngx_http_posthog_redis_close(rd, NULL);
    }

    return rc;
}


static void
ngx_http_posthog_redis_error(void *data, const char *reason)
{
    ngx_http_posthog_redis_close(data, reason);
}


/*
 * The context is being freed (after every pending callback got its NULL
 * reply), its connection is released: log, count, and reconnect later.
 */

static void
ngx_http_posthog_redis_closed(void *data)
{
    ngx_http_posthog_redis_t *rd = data;

    if (!rd->gave_up) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REDIS_ERRORS, 1);

        if (rd->ac->c.err) {
            ngx_http_posthog_log_limited(&rd->redis_limit, NGX_LOG_ERR, rd->log,
                                       "redis %V unavailable: %s, %uz events "
                                       "buffered", &rd->conf->addr,
                                       rd->ac->c.errstr,
                                       rd->queue.ring.buffered);

        } else {
            ngx_http_posthog_log_limited(&rd->redis_limit, NGX_LOG_ERR, rd->log,
                                       "redis %V unavailable: %s, %uz events "
                                       "buffered", &rd->conf->addr,
                                       rd->close_reason ? rd->close_reason
                                                        : "closed",
                                       rd->queue.ring.buffered);
        }
    }

    if (rd->state == NGX_HTTP_POSTHOG_REDIS_READY) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REDIS_CONNECTED, -1);
    }

    rd->ac = NULL;
    rd->state = NGX_HTTP_POSTHOG_REDIS_DOWN;

    /* what was in flight has no answer: it goes again on the next one */
    ngx_http_posthog_queue_rewind(&rd->queue);

    if (rd->io_ev.timer_set) {
        ngx_del_timer(&rd->io_ev);
    }

    rd->io_ev.cancelable = 1;

    ngx_http_posthog_redis_retry(rd);
}


/* ngx_close_idle_connections(): a graceful shutdown, or a forced one */

static void
ngx_http_posthog_redis_shutdown(void *data, ngx_uint_t forced)
{
    ngx_http_posthog_redis_t *rd = data;

    if (forced) {
        /* worker_shutdown_timeout: no more waiting */
        ngx_http_posthog_redis_give_up(rd);
        return;
    }

    ngx_http_posthog_redis_exiting(rd);
}


/* timers */

static void
ngx_http_posthog_redis_flush_handler(ngx_event_t *ev)
{
    ngx_http_posthog_redis_t *rd = ev->data;

    if (ngx_exiting && !rd->exiting) {
        ngx_http_posthog_redis_exiting(rd);
    }

    ngx_http_posthog_redis_flush(rd);
}


static void
ngx_http_posthog_redis_io_handler(ngx_event_t *ev)
{
    ngx_http_posthog_redis_t *rd = ev->data;

    if (rd->state == NGX_HTTP_POSTHOG_REDIS_READY) {
        ngx_http_posthog_redis_close(rd, "no reply in time (\"timeout\")");

    } else {
        ngx_http_posthog_redis_close(rd,
                                "connection timed out (\"connect_timeout\")");
    }
}


static void
ngx_http_posthog_redis_retry_handler(ngx_event_t *ev)
{
    ngx_http_posthog_redis_t *rd = ev->data;

    if (ngx_exiting && !rd->exiting) {
        ngx_http_posthog_redis_exiting(rd);
    }

    if (rd->gave_up || rd->ac || rd->retry_ev.timer_set) {
        return;
    }

    if (rd->exiting && rd->queue.ring.buffered == 0) {
        /* nothing to deliver: no new connection for an exiting worker */
        return;
    }

    if ((ngx_msec_int_t) (rd->retry_at - ngx_current_msec) > 0) {
        /* a check for the shutdown, see retry_timer() */
        ngx_http_posthog_redis_retry_timer(rd);
        return;
    }

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_RECONNECTS, 1);

    ngx_http_posthog_redis_connect(rd);
}


/*
 * Graceful shutdown (nginx -s quit, and the old workers of a reload):
 * what is buffered is sent now, and the worker stays at most exit_timeout
 * for the replies.  After that the writer no longer keeps the worker
 * alive, but it goes on writing while the worker still serves requests
 * (a long download, a slow upstream): their events are written at once.
 * What is left when the worker exits is counted in exit_process.
 */

static void
ngx_http_posthog_redis_exiting(ngx_http_posthog_redis_t *rd)
{
    if (rd->exiting) {
        return;
    }

    rd->exiting = 1;
    rd->exit_deadline = ngx_current_msec + rd->bcf->exit_timeout;

    if (rd->queue.ring.buffered) {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "posthog: exiting, delivering %uz buffered events",
                      rd->queue.ring.buffered);
    }

    if (rd->gave_up) {
        return;
    }

    if (rd->state == NGX_HTTP_POSTHOG_REDIS_READY) {
        ngx_http_posthog_redis_flush(rd);

    } else if (rd->ac == NULL && rd->queue.ring.buffered) {
        /* down: try now, then every NGX_HTTP_POSTHOG_BACKOFF_EXITING ms */
        rd->retry_at = ngx_current_msec;
        ngx_http_posthog_redis_retry_timer(rd);
    }

    ngx_http_posthog_redis_exit_timer(rd);
}


/* the exit timer is armed while an exiting worker has events to deliver */

static void
ngx_http_posthog_redis_exit_timer(ngx_http_posthog_redis_t *rd)
{
    ngx_msec_int_t  left;

    if (rd->gave_up || rd->exit_expired) {
        return;
    }

    if (rd->queue.ring.buffered == 0) {
        if (rd->exit_ev.timer_set) {
            ngx_del_timer(&rd->exit_ev);
        }

        rd->retry_ev.cancelable = 1;
        return;
    }

    if (rd->exit_ev.timer_set) {
        return;
    }

    left = (ngx_msec_int_t) (rd->exit_deadline - ngx_current_msec);

    if (left <= 0) {
        ngx_http_posthog_redis_exit_expired(rd);
        return;
    }

    ngx_add_timer(&rd->exit_ev, (ngx_msec_t) left);
}


static void
ngx_http_posthog_redis_exit_handler(ngx_event_t *ev)
{
    ngx_http_posthog_redis_t *rd = ev->data;

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "posthog: exit_timeout passed with %uz events not "
                  "acknowledged, redis %s", rd->queue.ring.buffered,
                  rd->state == NGX_HTTP_POSTHOG_REDIS_READY
                  ? "slow" : "unavailable");

    ngx_http_posthog_redis_exit_expired(rd);
}


/*
 * exit_timeout has passed: from now on only the worker's requests keep it
 * alive, not the writer.  The connection stays, and so does writing.
 */

static void
ngx_http_posthog_redis_exit_expired(ngx_http_posthog_redis_t *rd)
{
    rd->exit_expired = 1;

    if (rd->exit_ev.timer_set) {
        ngx_del_timer(&rd->exit_ev);
    }

    rd->retry_ev.cancelable = 1;
    rd->io_ev.cancelable = 1;
}


static void
ngx_http_posthog_redis_give_up(ngx_http_posthog_redis_t *rd)
{
    rd->gave_up = 1;

    if (rd->flush_ev.timer_set) {
        ngx_del_timer(&rd->flush_ev);
    }

    if (rd->retry_ev.timer_set) {
        ngx_del_timer(&rd->retry_ev);
    }

    if (rd->exit_ev.timer_set) {
        ngx_del_timer(&rd->exit_ev);
    }

    ngx_http_posthog_redis_close(rd, "worker exits");
}


/* the worker's life */

ngx_int_t
ngx_http_posthog_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_http_posthog_redis_t        *rd;
    ngx_http_posthog_main_conf_t    *pmcf;
    ngx_http_posthog_buffer_conf_t  *bcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (ngx_get_conf(cycle->conf_ctx, ngx_http_module) == NULL) {
        return NGX_OK;
    }

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_posthog_module);

    if (pmcf == NULL || pmcf->redis == NULL) {
        return NGX_OK;
    }

    bcf = &pmcf->buffer;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_posthog_redis_t));
    if (rd == NULL) {
        return NGX_ERROR;
    }

    rd->conf = pmcf->redis;
    rd->bcf = bcf;
    rd->log = cycle->log;

    rd->ad.read = ngx_http_posthog_redis_read;
    rd->ad.error = ngx_http_posthog_redis_error;
    rd->ad.closed = ngx_http_posthog_redis_closed;
    rd->ad.shutdown = ngx_http_posthog_redis_shutdown;
    rd->ad.data = rd;

    rd->queue.replied = ngx_http_posthog_redis_replied;
    rd->queue.data = rd;

    if (ngx_http_posthog_queue_init(&rd->queue, rd->conf, bcf->size,
                                    cycle->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rd->flush_ev.handler = ngx_http_posthog_redis_flush_handler;
    rd->flush_ev.data = rd;
    rd->flush_ev.log = cycle->log;
    rd->flush_ev.cancelable = 1;

    rd->io_ev.handler = ngx_http_posthog_redis_io_handler;
    rd->io_ev.data = rd;
    rd->io_ev.log = cycle->log;
    rd->io_ev.cancelable = 1;

    rd->retry_ev.handler = ngx_http_posthog_redis_retry_handler;
    rd->retry_ev.data = rd;
    rd->retry_ev.log = cycle->log;
    rd->retry_ev.cancelable = 1;

    rd->exit_ev.handler = ngx_http_posthog_redis_exit_handler;
    rd->exit_ev.data = rd;
    rd->exit_ev.log = cycle->log;

    ngx_http_posthog_redis_worker = rd;

    ngx_http_posthog_redis_connect(rd);

    return NGX_OK;
}


void
ngx_http_posthog_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_posthog_redis_t  *rd;

    rd = ngx_http_posthog_redis_worker;

    if (rd == NULL) {
        return;
    }

    ngx_http_posthog_redis_give_up(rd);

    if (rd->io_ev.timer_set) {
        ngx_del_timer(&rd->io_ev);
    }

    if (rd->queue.ring.buffered) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "posthog: %uz events not acknowledged by redis %V "
                      "at worker exit are lost (some may have reached it)",
                      rd->queue.ring.buffered, &rd->conf->addr);

        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_EXIT,
                                  rd->queue.ring.buffered);
    }

    ngx_http_posthog_queue_free(&rd->queue);
    ngx_http_posthog_redis_worker = NULL;
}
