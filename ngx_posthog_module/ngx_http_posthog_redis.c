/*
 * ngx_posthog_module: the Redis writer's connection state machine.
 *
 * Each worker owns one ring of events (posthog_ring.h) and one hiredis
 * async connection driven by nginx's event loop
 * (ngx_http_posthog_redis_adapter.c).  A request only copies its event
 * into the ring; timers and socket events move the ring into a Redis
 * stream as pipelined XADDs (posthog_resp.h).  An event leaves the ring
 * when Redis has answered its XADD: when the connection is lost first,
 * it is sent again on the next one (at-least-once; the event's uuid lets
 * PostHog collapse duplicates).  Replies arrive in order, so each reply
 * acknowledges the oldest event in flight.
 *
 * Here: connect, handshake, flush, replies, reconnect with backoff,
 * timeouts, and the worker's exit.  The directives are in
 * ngx_http_posthog_conf.c.
 */


#include "ngx_http_posthog.h"
#include "ngx_http_posthog_redis_adapter.h"
#include "posthog_resp.h"
#include "posthog_ring.h"


/*
 * The first size of the buffer an XADD is formatted in, past its constant
 * prefix: an event is ~700 bytes.  It grows for a larger one.
 */
#define NGX_HTTP_POSTHOG_CMD_SIZE           4096

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

    posthog_ring_t             ring;         /* the events, oldest first */

    ngx_msec_t                 backoff;
    ngx_msec_t                 retry_at;
    ngx_msec_t                 exit_deadline;
    time_t                     down_since;

    u_char                     refusal[128]; /* the last XADD refusal */

    u_char                    *cmd;          /* an XADD in RESP, see flush */
    size_t                     cmd_prefix;   /* up to the token, constant */
    size_t                     cmd_size;

    ngx_event_t                flush_ev;     /* cancelable */
    ngx_event_t                io_ev;        /* connect/reply timeout */
    ngx_event_t                retry_ev;     /* reconnect */
    ngx_event_t                exit_ev;      /* not cancelable */

    ngx_http_posthog_limit_t   redis_limit;
    ngx_http_posthog_limit_t   full_limit;
    ngx_http_posthog_limit_t   too_large_limit;
    ngx_http_posthog_limit_t   xadd_limit;       /* an event Redis refused */

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
static void ngx_http_posthog_redis_xadd_cb(redisAsyncContext *ac,
    void *reply, void *privdata);

static void ngx_http_posthog_redis_error(void *data, const char *reason);
static void ngx_http_posthog_redis_closed(void *data);
static void ngx_http_posthog_redis_shutdown(void *data, ngx_uint_t forced);

static void ngx_http_posthog_redis_flush_handler(ngx_event_t *ev);
static void ngx_http_posthog_redis_io_handler(ngx_event_t *ev);
static void ngx_http_posthog_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_posthog_redis_exit_handler(ngx_event_t *ev);

static void ngx_http_posthog_redis_unbuffered(ngx_uint_t n, size_t size);
static ngx_int_t ngx_http_posthog_redis_cmd_init(ngx_http_posthog_redis_t *rd);


static ngx_http_posthog_redis_t  *ngx_http_posthog_redis_worker;


/* the request side */

ngx_int_t
ngx_http_posthog_enqueue(ngx_http_request_t *r, ngx_str_t *token,
    ngx_str_t *event)
{
    ngx_int_t                  rc;
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

    rc = POSTHOG_RING_TOO_LARGE;

    if (event->len <= POSTHOG_STREAM_EVENT_MAX) {
        rc = posthog_ring_push(&rd->ring, token->data, token->len,
                               event->data, event->len);
    }

    if (rc == POSTHOG_RING_TOO_LARGE) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_TOO_LARGE, 1);
        ngx_http_posthog_log_limited(&rd->too_large_limit, NGX_LOG_WARN,
                                   r->connection->log,
                                   "event of %uz bytes dropped: larger than "
                                   "%uz bytes or than \"posthog_buffer\"",
                                   event->len,
                                   (size_t) POSTHOG_STREAM_EVENT_MAX);
        return NGX_DECLINED;
    }

    if (rc == POSTHOG_RING_FULL) {

        /*
         * The newest event is dropped.  The buffered ones are older,
         * some are already in flight, and keeping them keeps the stream in
         * the order the requests happened.
         */

        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_FULL, 1);
        ngx_http_posthog_log_limited(&rd->full_limit, NGX_LOG_WARN,
                                   r->connection->log,
                                   "buffer full (%uz events, %uz bytes, "
                                   "redis %s): event dropped",
                                   rd->ring.buffered, rd->ring.bytes,
                                   rd->state == NGX_HTTP_POSTHOG_REDIS_READY
                                   ? "slow" : "unavailable");
        return NGX_DECLINED;
    }

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_EVENTS, 1);
    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_BYTES,
                              posthog_ring_record_size(token->len,
                                                       event->len));

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

    if (rd->ring.unsent >= rd->bcf->size / 4) {
        ngx_http_posthog_redis_flush(rd);

    } else if (!rd->flush_ev.timer_set) {
        ngx_add_timer(&rd->flush_ev, rd->bcf->flush);
    }

    return NGX_OK;
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
                      rd->ring.buffered);
        rd->down_since = 0;

    } else {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "posthog: connected to redis %V", &rd->conf->addr);
    }

    ngx_http_posthog_redis_flush(rd);
}


/*
 * Hands every unsent event to hiredis, which appends each XADD to its
 * output buffer: they leave in as few write(2)s as the socket allows.
 *
 * The XADD is formatted here, not by hiredis (redisAsyncCommandArgv made
 * and grew an sds with sdscatfmt for each of its 12 arguments): rd->cmd
 * holds, from init_process on, the part that is the same for every event
 * (posthog_resp_xadd_prefix()), and only the entry is written after it.
 * These are the bytes hiredis wrote, byte for byte (t/unit/test_resp.c).
 * redisAsyncFormattedCommand() copies the command into hiredis's output
 * buffer, so rd->cmd is free again when it returns.
 */

static void
ngx_http_posthog_redis_flush(ngx_http_posthog_redis_t *rd)
{
    u_char                         *q, *cmd;
    size_t                          need;
    posthog_ring_record_t           rec;
    ngx_http_posthog_redis_conf_t  *rcf;

    if (rd->flush_ev.timer_set) {
        ngx_del_timer(&rd->flush_ev);
    }

    if (rd->state != NGX_HTTP_POSTHOG_REDIS_READY
        || rd->ring.sent == rd->ring.tail)
    {
        return;
    }

    rcf = rd->conf;

    while (posthog_ring_next_unsent(&rd->ring, &rec)) {

        need = rd->cmd_prefix
               + posthog_resp_xadd_entry_max(rec.token_len, rec.event_len);

        if (need > rd->cmd_size) {
            cmd = ngx_alloc(need, rd->log);

            if (cmd == NULL) {
                /* the events stay, and are tried again by the timer */
                ngx_add_timer(&rd->flush_ev, rd->bcf->flush);
                break;
            }

            ngx_memcpy(cmd, rd->cmd, rd->cmd_prefix);
            ngx_free(rd->cmd);

            rd->cmd = cmd;
            rd->cmd_size = need;
        }

        q = posthog_resp_xadd_entry(rd->cmd + rd->cmd_prefix, rec.token,
                                    rec.token_len, rec.event, rec.event_len);

        if (redisAsyncFormattedCommand(rd->ac, ngx_http_posthog_redis_xadd_cb,
                                       NULL, (char *) rd->cmd, q - rd->cmd)
            != REDIS_OK)
        {
            /* the context is going away: the events stay for the next */
            break;
        }

        posthog_ring_sent(&rd->ring);
    }

    if (rd->ring.inflight == 0) {
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
        ngx_add_timer(&rd->io_ev, rcf->timeout);
    }
}


static void
ngx_http_posthog_redis_xadd_cb(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    size_t                     size;
    redisReply                *r;
    ngx_http_posthog_redis_t  *rd;

    rd = ac->data;
    r = reply;

    if (r == NULL) {
        /* the connection is lost: the cleanup keeps the event for a retry */
        return;
    }

    if (r->type == REDIS_REPLY_ERROR
        && posthog_resp_error_transient(r->str, r->len))
    {

        /*
         * About this connection or this Redis, not about the event (a
         * replica after a failover, out of memory, loading, busy ...):
         * the event stays at head and goes again on a new connection,
         * after the backoff.  The cleanup counts and logs it.
         */

        ngx_snprintf(rd->refusal, sizeof(rd->refusal) - 1,
                     "XADD refused: %*s%Z",
                     (size_t) ngx_min(r->len, 80), r->str);
        rd->refused = 1;

        /* deferred by hiredis until this callback returns */
        ngx_http_posthog_redis_close(rd, (const char *) rd->refusal);
        return;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        /* e.g. WRONGTYPE: sending it again would not help */
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_REDIS, 1);
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REDIS_ERRORS, 1);
        ngx_http_posthog_log_limited(&rd->xadd_limit, NGX_LOG_ERR, rd->log,
                                   "redis %V: XADD to \"%V\" failed, event "
                                   "dropped: %*s", &rd->conf->addr,
                                   &rd->conf->stream, (size_t) r->len,
                                   r->str);

    } else {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_WRITTEN, 1);

        if (rd->refused) {
            rd->refused = 0;
            rd->backoff = 0;
        }
    }

    size = posthog_ring_ack(&rd->ring);
    ngx_http_posthog_redis_unbuffered(1, size);

    /* the reply timeout counts from the last reply */

    if (rd->ring.inflight) {
        ngx_add_timer(&rd->io_ev, rd->conf->timeout);

    } else if (rd->io_ev.timer_set) {
        ngx_del_timer(&rd->io_ev);
    }

    if (rd->exiting) {
        ngx_http_posthog_redis_exit_timer(rd);
    }
}


/* the gauges, for events that left the ring */

static void
ngx_http_posthog_redis_unbuffered(ngx_uint_t n, size_t size)
{
    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_EVENTS,
                              - (ngx_atomic_int_t) n);
    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_BYTES,
                              - (ngx_atomic_int_t) size);
}


/*
 * rd->cmd with the constant start of every XADD (see flush), and room for
 * a usual event after it
 */

static ngx_int_t
ngx_http_posthog_redis_cmd_init(ngx_http_posthog_redis_t *rd)
{
    u_char                         *p;
    ngx_http_posthog_redis_conf_t  *rcf;

    rcf = rd->conf;

    rd->cmd_size = posthog_resp_xadd_prefix_max(rcf->stream.len)
                   + NGX_HTTP_POSTHOG_CMD_SIZE;

    rd->cmd = ngx_alloc(rd->cmd_size, rd->log);
    if (rd->cmd == NULL) {
        return NGX_ERROR;
    }

    p = posthog_resp_xadd_prefix(rd->cmd, rcf->stream.data, rcf->stream.len,
                                 rcf->maxlen);

    rd->cmd_prefix = p - rd->cmd;

    return NGX_OK;
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

    if (rd->ring.buffered && !rd->exit_expired) {
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

        if (rd->ac->err) {
            ngx_http_posthog_log_limited(&rd->redis_limit, NGX_LOG_ERR, rd->log,
                                       "redis %V unavailable: %s, %uz events "
                                       "buffered", &rd->conf->addr,
                                       rd->ac->errstr, rd->ring.buffered);

        } else {
            ngx_http_posthog_log_limited(&rd->redis_limit, NGX_LOG_ERR, rd->log,
                                       "redis %V unavailable: %s, %uz events "
                                       "buffered", &rd->conf->addr,
                                       rd->close_reason ? rd->close_reason
                                                        : "closed",
                                       rd->ring.buffered);
        }
    }

    if (rd->state == NGX_HTTP_POSTHOG_REDIS_READY) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REDIS_CONNECTED, -1);
    }

    rd->ac = NULL;
    rd->state = NGX_HTTP_POSTHOG_REDIS_DOWN;

    /* what was in flight has no answer: it goes again on the next one */
    posthog_ring_rewind(&rd->ring);

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

    if (rd->exiting && rd->ring.buffered == 0) {
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

    if (rd->ring.buffered) {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "posthog: exiting, delivering %uz buffered events",
                      rd->ring.buffered);
    }

    if (rd->gave_up) {
        return;
    }

    if (rd->state == NGX_HTTP_POSTHOG_REDIS_READY) {
        ngx_http_posthog_redis_flush(rd);

    } else if (rd->ac == NULL && rd->ring.buffered) {
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

    if (rd->ring.buffered == 0) {
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
                  "acknowledged, redis %s", rd->ring.buffered,
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
    u_char                          *mem;
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

    mem = ngx_alloc(bcf->size, cycle->log);
    if (mem == NULL) {
        return NGX_ERROR;
    }

    posthog_ring_init(&rd->ring, mem, bcf->size);

    rd->conf = pmcf->redis;
    rd->bcf = bcf;
    rd->log = cycle->log;

    rd->ad.error = ngx_http_posthog_redis_error;
    rd->ad.closed = ngx_http_posthog_redis_closed;
    rd->ad.shutdown = ngx_http_posthog_redis_shutdown;
    rd->ad.data = rd;

    if (ngx_http_posthog_redis_cmd_init(rd) != NGX_OK) {
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

    if (rd->ring.buffered) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "posthog: %uz events not acknowledged by redis %V "
                      "at worker exit are lost (some may have reached it)",
                      rd->ring.buffered, &rd->conf->addr);

        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_EXIT,
                                  rd->ring.buffered);

        ngx_http_posthog_redis_unbuffered(rd->ring.buffered, rd->ring.bytes);
        posthog_ring_clear(&rd->ring);
    }

    ngx_free(rd->ring.start);
    ngx_free(rd->cmd);
    ngx_http_posthog_redis_worker = NULL;
}
