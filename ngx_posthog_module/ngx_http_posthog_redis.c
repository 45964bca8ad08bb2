/*
 * ngx_posthog_module: the Redis writer.
 *
 * Each worker owns one buffer of events and one hiredis async connection
 * driven by nginx's event loop.  A request only copies its event into the
 * buffer; timers and socket events move the buffer into a Redis stream as
 * pipelined XADDs.  An event leaves the buffer when Redis has answered its
 * XADD: when the connection is lost first, it is sent again on the next
 * one (at-least-once; the event's uuid lets PostHog collapse duplicates).
 *
 * The buffer is one block of memory used as a ring of records, each
 * record in one piece:
 *
 *     start ... head ......... sent ......... tail ....... end
 *               |  in flight   |   unsent     |   free
 *
 * and, once a record did not fit between tail and end and went to start:
 *
 *     start ..... tail ...... head ...... sent ...... last ... end
 *     | unsent    |   free    | in flight |  unsent   |  unused
 *
 * "head" is the oldest event Redis has not acknowledged, "sent" the first
 * one not yet handed to hiredis (either may be before or after the wrap),
 * "last" where the records before the wrap end (NULL: not wrapped).
 * Replies arrive in order, so each reply acknowledges the record at
 * "head".  Records are never moved: a request copies its own event and
 * nothing else, however full the buffer and however slow Redis.
 */


#include "ngx_http_posthog.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


#define NGX_HTTP_POSTHOG_REDIS_PORT         6379
#define NGX_HTTP_POSTHOG_REDIS_STREAM       "posthog:events"
#define NGX_HTTP_POSTHOG_REDIS_MAXLEN       "1000000"

#define NGX_HTTP_POSTHOG_BUFFER_SIZE        (4 * 1024 * 1024)
#define NGX_HTTP_POSTHOG_BUFFER_MIN         1024
#define NGX_HTTP_POSTHOG_FLUSH              100
#define NGX_HTTP_POSTHOG_EXIT_TIMEOUT       5000

/*
 * PostHog refuses events of about 1 MB; its SDKs drop events over 900 KiB
 * so that the rest of a batch still fits.  We do the same.
 */
#define NGX_HTTP_POSTHOG_EVENT_MAX          (900 * 1024)

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


/* posthog_redis */

typedef struct {
    ngx_str_t                  addr;         /* as configured, for logs */
    ngx_str_t                  host;         /* IP text or socket path, NUL */
    in_port_t                  port;
    ngx_flag_t                 unix_socket;

    ngx_str_t                  stream;
    ngx_str_t                  maxlen;       /* text, empty: no trimming */
    ngx_str_t                  password;
    ngx_str_t                  db;           /* text, empty: not selected */
    ngx_msec_t                 connect_timeout;
    ngx_msec_t                 timeout;
} ngx_http_posthog_redis_conf_t;


/* posthog_buffer */

typedef struct {
    size_t                     size;
    ngx_msec_t                 flush;
    ngx_msec_t                 exit_timeout;
} ngx_http_posthog_buffer_conf_t;


/* what precedes the token and the event in the buffer */

typedef struct {
    uint32_t                   token_len;
    uint32_t                   event_len;
} ngx_http_posthog_record_t;


/* the worker's writer */

typedef struct {
    ngx_http_posthog_redis_conf_t   *conf;
    ngx_http_posthog_buffer_conf_t  *bcf;
    ngx_log_t                 *log;

    redisAsyncContext         *ac;
    ngx_connection_t          *conn;
    ngx_uint_t                 state;
    ngx_uint_t                 handshake;    /* replies still awaited */
    const char                *close_reason;

    u_char                    *start;
    u_char                    *end;
    u_char                    *head;
    u_char                    *sent;
    u_char                    *tail;
    u_char                    *last;         /* the wrap, NULL: none */
    ngx_uint_t                 buffered;     /* events between head, tail */
    ngx_uint_t                 inflight;     /* events between head, sent */
    size_t                     bytes;        /* their records, head..tail */
    size_t                     unsent;       /* bytes between sent, tail */

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

    unsigned                   reading:1;
    unsigned                   writing:1;
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

static void ngx_http_posthog_redis_add_read(void *privdata);
static void ngx_http_posthog_redis_del_read(void *privdata);
static void ngx_http_posthog_redis_add_write(void *privdata);
static void ngx_http_posthog_redis_del_write(void *privdata);
static void ngx_http_posthog_redis_cleanup(void *privdata);
static void ngx_http_posthog_redis_add_event(ngx_http_posthog_redis_t *rd,
    ngx_event_t *ev, ngx_int_t event);
static void ngx_http_posthog_redis_del_event(ngx_event_t *ev,
    ngx_int_t event);
static void ngx_http_posthog_redis_read_handler(ngx_event_t *rev);
static void ngx_http_posthog_redis_write_handler(ngx_event_t *wev);

static void ngx_http_posthog_redis_flush_handler(ngx_event_t *ev);
static void ngx_http_posthog_redis_io_handler(ngx_event_t *ev);
static void ngx_http_posthog_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_posthog_redis_exit_handler(ngx_event_t *ev);

static ngx_uint_t ngx_http_posthog_redis_transient(redisReply *r);
static u_char *ngx_http_posthog_redis_next(ngx_http_posthog_redis_t *rd,
    u_char *p, size_t *size);
static void ngx_http_posthog_redis_unbuffer(ngx_http_posthog_redis_t *rd,
    ngx_uint_t n, size_t size);
static ngx_int_t ngx_http_posthog_redis_cmd_init(ngx_http_posthog_redis_t *rd);
static u_char *ngx_http_posthog_redis_bulk(u_char *p, u_char *data,
    size_t len);


static ngx_http_posthog_redis_t  *ngx_http_posthog_redis_worker;


/* the request side */

ngx_int_t
ngx_http_posthog_enqueue(ngx_http_request_t *r, ngx_str_t *token,
    ngx_str_t *event)
{
    u_char                     *p;
    size_t                      size;
    ngx_http_posthog_record_t   rec;
    ngx_http_posthog_redis_t   *rd;

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

    size = sizeof(ngx_http_posthog_record_t) + token->len + event->len;

    if (event->len > NGX_HTTP_POSTHOG_EVENT_MAX
        || size > (size_t) (rd->end - rd->start))
    {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_TOO_LARGE, 1);
        ngx_http_posthog_log_limited(&rd->too_large_limit, NGX_LOG_WARN,
                                   r->connection->log,
                                   "event of %uz bytes dropped: larger than "
                                   "%uz bytes or than \"posthog_buffer\"",
                                   event->len,
                                   (size_t) NGX_HTTP_POSTHOG_EVENT_MAX);
        return NGX_DECLINED;
    }

    /*
     * The record goes after tail if it fits before the end, else at start
     * if it fits before head.  After a wrap, tail never reaches head: an
     * equal tail and head mean an empty buffer.
     */

    if (rd->last == NULL && size <= (size_t) (rd->end - rd->tail)) {
        p = rd->tail;

    } else if (rd->last == NULL && size < (size_t) (rd->head - rd->start)) {
        rd->last = rd->tail;
        p = rd->start;

        if (rd->sent == rd->last) {
            rd->sent = p;
        }

    } else if (rd->last && size < (size_t) (rd->head - rd->tail)) {
        p = rd->tail;

    } else {

        /*
         * Full: the newest event is dropped.  The buffered ones are older,
         * some are already in flight, and keeping them keeps the stream in
         * the order the requests happened.
         */

        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_FULL, 1);
        ngx_http_posthog_log_limited(&rd->full_limit, NGX_LOG_WARN,
                                   r->connection->log,
                                   "buffer full (%ui events, %uz bytes, "
                                   "redis %s): event dropped",
                                   rd->buffered, rd->bytes,
                                   rd->state == NGX_HTTP_POSTHOG_REDIS_READY
                                   ? "slow" : "unavailable");
        return NGX_DECLINED;
    }

    rec.token_len = (uint32_t) token->len;
    rec.event_len = (uint32_t) event->len;

    p = ngx_cpymem(p, &rec, sizeof(ngx_http_posthog_record_t));
    p = ngx_cpymem(p, token->data, token->len);
    rd->tail = ngx_cpymem(p, event->data, event->len);

    rd->buffered++;
    rd->bytes += size;
    rd->unsent += size;

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_EVENTS, 1);
    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_BYTES, size);

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

    if (rd->unsent >= rd->bcf->size / 4) {
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
    ngx_connection_t               *c;
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

    c = ngx_get_connection(ac->c.fd, rd->log);

    if (c == NULL) {
        /* hiredis closes the socket */
        redisAsyncFree(ac);
        ngx_http_posthog_redis_retry(rd);
        return;
    }

    c->data = rd;
    c->read->handler = ngx_http_posthog_redis_read_handler;
    c->write->handler = ngx_http_posthog_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

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
            redisAsyncFree(ac);
            ngx_http_posthog_redis_retry(rd);
            return;
        }
    }

    rd->ac = ac;
    rd->conn = c;
    rd->state = NGX_HTTP_POSTHOG_REDIS_CONNECTING;
    rd->close_reason = NULL;
    rd->reading = 0;
    rd->writing = 0;

    ac->data = rd;
    ac->ev.data = rd;
    ac->ev.addRead = ngx_http_posthog_redis_add_read;
    ac->ev.delRead = ngx_http_posthog_redis_del_read;
    ac->ev.addWrite = ngx_http_posthog_redis_add_write;
    ac->ev.delWrite = ngx_http_posthog_redis_del_write;
    ac->ev.cleanup = ngx_http_posthog_redis_cleanup;

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
                      "%ui events buffered",
                      &rd->conf->addr, ngx_time() - rd->down_since,
                      rd->buffered);
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
 * holds, from init_process on, the part that is the same for every event,
 *
 *     *12\r\n$4\r\nXADD\r\n$<n>\r\n<stream>\r\n
 *     [$6\r\nMAXLEN\r\n$1\r\n~\r\n$<n>\r\n<maxlen>\r\n]
 *     $1\r\n*\r\n$1\r\nv\r\n$1\r\n1\r\n$1\r\nt\r\n
 *
 * (*9 without MAXLEN), and only the token, "e" and the event are written
 * after it.  These are the bytes hiredis wrote, byte for byte: see
 * docs/stream-format.md.  redisAsyncFormattedCommand() copies the command
 * into hiredis's output buffer, so rd->cmd is free again when it returns.
 */

static void
ngx_http_posthog_redis_flush(ngx_http_posthog_redis_t *rd)
{
    u_char                         *p, *next, *q, *cmd;
    size_t                          size, need;
    ngx_http_posthog_record_t       rec;
    ngx_http_posthog_redis_conf_t  *rcf;

    if (rd->flush_ev.timer_set) {
        ngx_del_timer(&rd->flush_ev);
    }

    if (rd->state != NGX_HTTP_POSTHOG_REDIS_READY || rd->sent == rd->tail) {
        return;
    }

    rcf = rd->conf;

    while (rd->sent != rd->tail) {
        p = rd->sent;
        next = ngx_http_posthog_redis_next(rd, p, &size);
        ngx_memcpy(&rec, p, sizeof(ngx_http_posthog_record_t));
        p += sizeof(ngx_http_posthog_record_t);

        /* "$<len>\r\n" and "\r\n" around the token, "e" and the event */

        need = rd->cmd_prefix + rec.token_len + rec.event_len + 1
               + 3 * (NGX_SIZE_T_LEN + 5);

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

        q = rd->cmd + rd->cmd_prefix;
        q = ngx_http_posthog_redis_bulk(q, p, rec.token_len);
        q = ngx_cpymem(q, "$1\r\ne\r\n", sizeof("$1\r\ne\r\n") - 1);
        q = ngx_http_posthog_redis_bulk(q, p + rec.token_len, rec.event_len);

        if (redisAsyncFormattedCommand(rd->ac, ngx_http_posthog_redis_xadd_cb,
                                       NULL, (char *) rd->cmd, q - rd->cmd)
            != REDIS_OK)
        {
            /* the context is going away: the events stay for the next */
            break;
        }

        rd->sent = next;
        rd->unsent -= size;
        rd->inflight++;
    }

    if (rd->inflight == 0) {
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
    size_t                      size;
    redisReply                 *r;
    ngx_http_posthog_redis_t   *rd;

    rd = ac->data;
    r = reply;

    if (r == NULL) {
        /* the connection is lost: the cleanup keeps the event for a retry */
        return;
    }

    if (r->type == REDIS_REPLY_ERROR && ngx_http_posthog_redis_transient(r)) {

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

    rd->head = ngx_http_posthog_redis_next(rd, rd->head, &size);

    if (rd->head == rd->start) {
        /* past the wrap */
        rd->last = NULL;
    }

    rd->inflight--;
    ngx_http_posthog_redis_unbuffer(rd, 1, size);

    /* the reply timeout counts from the last reply */

    if (rd->inflight) {
        ngx_add_timer(&rd->io_ev, rd->conf->timeout);

    } else if (rd->io_ev.timer_set) {
        ngx_del_timer(&rd->io_ev);
    }

    if (rd->exiting) {
        ngx_http_posthog_redis_exit_timer(rd);
    }
}


/*
 * Error replies that concern the connection or the server, not the event:
 * Redis's own error codes (the first word of the reply).  Anything else
 * (WRONGTYPE, ERR ...) would be refused again: the event is dropped.
 */

static ngx_uint_t
ngx_http_posthog_redis_transient(redisReply *r)
{
    size_t      len;
    ngx_uint_t  i;

    static ngx_str_t  codes[] = {
        ngx_string("READONLY"),       /* a replica, e.g. after a failover */
        ngx_string("MASTERDOWN"),
        ngx_string("NOREPLICAS"),     /* min-replicas-to-write */
        ngx_string("LOADING"),
        ngx_string("BUSY"),           /* a script runs too long */
        ngx_string("OOM"),            /* maxmemory, noeviction */
        ngx_string("MISCONF"),        /* cannot save, refuses writes */
        ngx_string("NOAUTH"),
        ngx_string("NOPERM"),
        ngx_string("TRYAGAIN"),
        ngx_string("CLUSTERDOWN"),
        ngx_null_string
    };

    for (len = 0; len < r->len; len++) {
        if (r->str[len] == ' ') {
            break;
        }
    }

    for (i = 0; codes[i].len; i++) {
        if (len == codes[i].len
            && ngx_strncmp(r->str, codes[i].data, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* the record after p, and the size of the one at p */

static u_char *
ngx_http_posthog_redis_next(ngx_http_posthog_redis_t *rd, u_char *p,
    size_t *size)
{
    ngx_http_posthog_record_t  rec;

    ngx_memcpy(&rec, p, sizeof(ngx_http_posthog_record_t));

    *size = sizeof(ngx_http_posthog_record_t) + rec.token_len + rec.event_len;
    p += *size;

    return (p == rd->last) ? rd->start : p;
}


static void
ngx_http_posthog_redis_unbuffer(ngx_http_posthog_redis_t *rd, ngx_uint_t n,
    size_t size)
{
    rd->buffered -= n;
    rd->bytes -= size;

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_EVENTS,
                              - (ngx_atomic_int_t) n);
    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_BYTES,
                              - (ngx_atomic_int_t) size);

    if (rd->buffered == 0) {
        rd->head = rd->start;
        rd->sent = rd->start;
        rd->tail = rd->start;
        rd->last = NULL;
        rd->unsent = 0;
    }
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

    static u_char  fields[] = "$1\r\n*\r\n$1\r\nv\r\n$1\r\n1\r\n$1\r\nt\r\n";

    rcf = rd->conf;

    rd->cmd_size = sizeof("*12\r\n$4\r\nXADD\r\n$6\r\nMAXLEN\r\n$1\r\n~\r\n")
                   + 2 * (NGX_SIZE_T_LEN + 5) + rcf->stream.len
                   + rcf->maxlen.len + sizeof(fields)
                   + NGX_HTTP_POSTHOG_CMD_SIZE;

    rd->cmd = ngx_alloc(rd->cmd_size, rd->log);
    if (rd->cmd == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(rd->cmd, rcf->maxlen.len ? "*12\r\n" : "*9\r\n",
                   rcf->maxlen.len ? 5 : 4);
    p = ngx_http_posthog_redis_bulk(p, (u_char *) "XADD", 4);
    p = ngx_http_posthog_redis_bulk(p, rcf->stream.data, rcf->stream.len);

    if (rcf->maxlen.len) {
        p = ngx_http_posthog_redis_bulk(p, (u_char *) "MAXLEN", 6);
        p = ngx_http_posthog_redis_bulk(p, (u_char *) "~", 1);
        p = ngx_http_posthog_redis_bulk(p, rcf->maxlen.data, rcf->maxlen.len);
    }

    p = ngx_cpymem(p, fields, sizeof(fields) - 1);

    rd->cmd_prefix = p - rd->cmd;

    return NGX_OK;
}


/* a RESP bulk string, "$<len>\r\n<data>\r\n": at most len + 25 bytes */

static u_char *
ngx_http_posthog_redis_bulk(u_char *p, u_char *data, size_t len)
{
    u_char  *d, digits[NGX_SIZE_T_LEN];
    size_t   n;

    d = digits + NGX_SIZE_T_LEN;
    n = len;

    do {
        *--d = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    *p++ = '$';
    p = ngx_cpymem(p, d, digits + NGX_SIZE_T_LEN - d);
    *p++ = CR; *p++ = LF;
    p = ngx_cpymem(p, data, len);
    *p++ = CR; *p++ = LF;

    return p;
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

    if (rd->buffered && !rd->exit_expired) {
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


/* hiredis's event callbacks: ngx_connection_t read and write events */

static void
ngx_http_posthog_redis_add_read(void *privdata)
{
    ngx_http_posthog_redis_t *rd = privdata;

    rd->reading = 1;
    ngx_http_posthog_redis_add_event(rd, rd->conn->read, NGX_READ_EVENT);
}


static void
ngx_http_posthog_redis_del_read(void *privdata)
{
    ngx_http_posthog_redis_t *rd = privdata;

    rd->reading = 0;
    ngx_http_posthog_redis_del_event(rd->conn->read, NGX_READ_EVENT);
}


static void
ngx_http_posthog_redis_add_write(void *privdata)
{
    ngx_http_posthog_redis_t *rd = privdata;

    rd->writing = 1;
    ngx_http_posthog_redis_add_event(rd, rd->conn->write, NGX_WRITE_EVENT);
}


static void
ngx_http_posthog_redis_del_write(void *privdata)
{
    ngx_http_posthog_redis_t *rd = privdata;

    rd->writing = 0;
    ngx_http_posthog_redis_del_event(rd->conn->write, NGX_WRITE_EVENT);
}


static void
ngx_http_posthog_redis_add_event(ngx_http_posthog_redis_t *rd,
    ngx_event_t *ev, ngx_int_t event)
{
    if (!ngx_add_conn && !ev->active) {
        if (ngx_add_event(ev, event,
                          (ngx_event_flags & NGX_USE_CLEAR_EVENT)
                          ? NGX_CLEAR_EVENT : NGX_LEVEL_EVENT)
            == NGX_ERROR)
        {
            ngx_http_posthog_redis_close(rd, "cannot add an event");
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
    ngx_http_posthog_redis_t *rd = privdata;

    ngx_connection_t  *c;

    c = rd->conn;

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

    if (!rd->gave_up) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REDIS_ERRORS, 1);

        if (rd->ac->err) {
            ngx_http_posthog_log_limited(&rd->redis_limit, NGX_LOG_ERR, rd->log,
                                       "redis %V unavailable: %s, %ui events "
                                       "buffered", &rd->conf->addr,
                                       rd->ac->errstr, rd->buffered);

        } else {
            ngx_http_posthog_log_limited(&rd->redis_limit, NGX_LOG_ERR, rd->log,
                                       "redis %V unavailable: %s, %ui events "
                                       "buffered", &rd->conf->addr,
                                       rd->close_reason ? rd->close_reason
                                                        : "closed",
                                       rd->buffered);
        }
    }

    if (rd->state == NGX_HTTP_POSTHOG_REDIS_READY) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REDIS_CONNECTED, -1);
    }

    rd->conn = NULL;
    rd->ac = NULL;
    rd->reading = 0;
    rd->writing = 0;
    rd->state = NGX_HTTP_POSTHOG_REDIS_DOWN;

    /* what was in flight has no answer: it goes again on the next one */
    rd->sent = rd->head;
    rd->unsent = rd->bytes;
    rd->inflight = 0;

    if (rd->io_ev.timer_set) {
        ngx_del_timer(&rd->io_ev);
    }

    rd->io_ev.cancelable = 1;

    ngx_http_posthog_redis_retry(rd);
}


static void
ngx_http_posthog_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                    n;
    u_char                     byte;
    ngx_err_t                  err;
    ngx_connection_t          *c;
    ngx_http_posthog_redis_t  *rd;

    c = rev->data;
    rd = c->data;

    if (c->close) {
        c->close = 0;

        if (c->error) {
            /* worker_shutdown_timeout: no more waiting */
            ngx_http_posthog_redis_give_up(rd);
            return;
        }

        /* graceful shutdown, see ngx_close_idle_connections() */
        ngx_http_posthog_redis_exiting(rd);

        if (rd->conn != c) {
            return;
        }

        /*
         * Called from the worker's loop, not from an event handler: an
         * event posted now would wait for the next I/O or timer.  Write
         * what the flush queued right away.
         */

        if (rd->writing && c->write->ready) {
            ngx_http_posthog_redis_write_handler(c->write);

            if (rd->conn != c) {
                return;
            }
        }
    }

    if (!rd->reading || !rev->ready) {
        return;
    }

    /*
     * hiredis reads at most 16 KB per call, and an edge-triggered event
     * does not come again for what is left: read until the socket is
     * empty.  A peek tells whether there is more (or an EOF or an error,
     * which the next call reads and turns into a disconnect).
     */

    for ( ;; ) {
        redisAsyncHandleRead(rd->ac);

        if (rd->conn != c) {
            return;                 /* the context is gone, and so is c */
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
    ngx_connection_t          *c;
    ngx_http_posthog_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    if (!rd->writing || !wev->ready) {
        return;
    }

    redisAsyncHandleWrite(rd->ac);

    if (rd->conn != c) {
        return;
    }

    if (rd->writing) {
        /* a short write: the socket buffer is full, wait for the edge */
        wev->ready = 0;
    }
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

    if (rd->exiting && rd->buffered == 0) {
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

    if (rd->buffered) {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "posthog: exiting, delivering %ui buffered events",
                      rd->buffered);
    }

    if (rd->gave_up) {
        return;
    }

    if (rd->state == NGX_HTTP_POSTHOG_REDIS_READY) {
        ngx_http_posthog_redis_flush(rd);

    } else if (rd->ac == NULL && rd->buffered) {
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

    if (rd->buffered == 0) {
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
                  "posthog: exit_timeout passed with %ui events not "
                  "acknowledged, redis %s", rd->buffered,
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

    bcf = pmcf->buffer;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_posthog_redis_t));
    if (rd == NULL) {
        return NGX_ERROR;
    }

    rd->start = ngx_alloc(bcf->size, cycle->log);
    if (rd->start == NULL) {
        return NGX_ERROR;
    }

    rd->conf = pmcf->redis;
    rd->bcf = bcf;
    rd->log = cycle->log;
    rd->end = rd->start + bcf->size;
    rd->head = rd->start;
    rd->sent = rd->start;
    rd->tail = rd->start;

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
    size_t                     size;
    ngx_http_posthog_redis_t  *rd;

    rd = ngx_http_posthog_redis_worker;

    if (rd == NULL) {
        return;
    }

    ngx_http_posthog_redis_give_up(rd);

    if (rd->io_ev.timer_set) {
        ngx_del_timer(&rd->io_ev);
    }

    if (rd->buffered) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "posthog: %ui events not acknowledged by redis %V "
                      "at worker exit are lost (some may have reached it)",
                      rd->buffered, &rd->conf->addr);

        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_EXIT,
                                  rd->buffered);

        size = rd->bytes;
        ngx_http_posthog_redis_unbuffer(rd, rd->buffered, size);
    }

    ngx_free(rd->start);
    ngx_free(rd->cmd);
    ngx_http_posthog_redis_worker = NULL;
}


/* configuration */

char *
ngx_http_posthog_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_main_conf_t *pmcf = conf;

    ngx_int_t                       n;
    ngx_str_t                      *value, s;
    ngx_url_t                       u;
    ngx_uint_t                      i;
    ngx_http_posthog_redis_conf_t  *rcf;

    if (pmcf->redis) {
        return "is duplicate";
    }

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_posthog_redis_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    rcf->addr = value[1];

    if (value[1].len > 5 && ngx_strncasecmp(value[1].data,
                                            (u_char *) "unix:", 5) == 0)
    {
        s.data = value[1].data + 5;
        s.len = value[1].len - 5;

        if (s.len >= sizeof(((struct sockaddr_un *) 0)->sun_path)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "socket path in \"%V\" of \"%V\" is too long",
                               &value[1], &cmd->name);
            return NGX_CONF_ERROR;
        }

        rcf->unix_socket = 1;
        rcf->host.data = ngx_pnalloc(cf->pool, s.len + 1);
        if (rcf->host.data == NULL) {
            return NGX_CONF_ERROR;
        }

        rcf->host.len = s.len;
        ngx_cpystrn(rcf->host.data, s.data, s.len + 1);

    } else {
        ngx_memzero(&u, sizeof(ngx_url_t));

        u.url = value[1];
        u.default_port = NGX_HTTP_POSTHOG_REDIS_PORT;

        /* a name is resolved here, once: never in a worker */

        if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\" of \"%V\"",
                               u.err ? u.err : "invalid address", &value[1],
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (u.uri.len || u.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid address \"%V\" in \"%V\", expected "
                               "host:port or unix:/path", &value[1],
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (u.naddrs > 1) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"%V\" has %ui addresses, using %V",
                               &value[1], u.naddrs, &u.addrs[0].name);
        }

        rcf->host.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
        if (rcf->host.data == NULL) {
            return NGX_CONF_ERROR;
        }

        rcf->host.len = ngx_sock_ntop(u.addrs[0].sockaddr,
                                      u.addrs[0].socklen, rcf->host.data,
                                      NGX_SOCKADDR_STRLEN, 0);
        rcf->host.data[rcf->host.len] = '\0';
        rcf->port = ngx_inet_get_port(u.addrs[0].sockaddr);
    }

    ngx_str_set(&rcf->stream, NGX_HTTP_POSTHOG_REDIS_STREAM);
    ngx_str_set(&rcf->maxlen, NGX_HTTP_POSTHOG_REDIS_MAXLEN);
    rcf->connect_timeout = 1000;
    rcf->timeout = 5000;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "stream=", 7) == 0) {
            rcf->stream.data = value[i].data + 7;
            rcf->stream.len = value[i].len - 7;

            if (rcf->stream.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "maxlen=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            n = ngx_atoi(s.data, s.len);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            /* maxlen=0: no trimming */
            rcf->maxlen = n ? s : (ngx_str_t) ngx_null_string;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rcf->password.data = value[i].data + 9;
            rcf->password.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            s.data = value[i].data + 3;
            s.len = value[i].len - 3;

            n = ngx_atoi(s.data, s.len);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            /* db=0 is what a new connection has */
            rcf->db = n ? s : (ngx_str_t) ngx_null_string;
            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0) {
            s.data = value[i].data + 16;
            s.len = value[i].len - 16;

            n = ngx_parse_time(&s, 0);
            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            rcf->connect_timeout = (ngx_msec_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            n = ngx_parse_time(&s, 0);
            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            rcf->timeout = (ngx_msec_t) n;
            continue;
        }

        goto invalid;
    }

    pmcf->redis = rcf;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\"", &value[i],
                       &cmd->name);

    return NGX_CONF_ERROR;
}


char *
ngx_http_posthog_buffer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_main_conf_t *pmcf = conf;

    ssize_t                          size;
    ngx_int_t                        n;
    ngx_str_t                       *value, s;
    ngx_uint_t                       i;
    ngx_http_posthog_buffer_conf_t  *bcf;

    if (pmcf->buffer) {
        return "is duplicate";
    }

    bcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_posthog_buffer_conf_t));
    if (bcf == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < NGX_HTTP_POSTHOG_BUFFER_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid size \"%V\" in \"%V\", at least %d "
                           "bytes", &value[1], &cmd->name,
                           NGX_HTTP_POSTHOG_BUFFER_MIN);
        return NGX_CONF_ERROR;
    }

    bcf->size = size;
    bcf->flush = NGX_HTTP_POSTHOG_FLUSH;
    bcf->exit_timeout = NGX_HTTP_POSTHOG_EXIT_TIMEOUT;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "flush=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            n = ngx_parse_time(&s, 0);
            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            bcf->flush = (ngx_msec_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "exit_timeout=", 13) == 0) {
            s.data = value[i].data + 13;
            s.len = value[i].len - 13;

            n = ngx_parse_time(&s, 0);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            bcf->exit_timeout = (ngx_msec_t) n;
            continue;
        }

        goto invalid;
    }

    pmcf->buffer = bcf;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\"", &value[i],
                       &cmd->name);

    return NGX_CONF_ERROR;
}


/* defaults for what posthog_buffer did not say */

char *
ngx_http_posthog_redis_init_main_conf(ngx_conf_t *cf,
    ngx_http_posthog_main_conf_t *pmcf)
{
    ngx_http_posthog_buffer_conf_t  *bcf;

    if (pmcf->buffer) {
        return NGX_CONF_OK;
    }

    bcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_posthog_buffer_conf_t));
    if (bcf == NULL) {
        return NGX_CONF_ERROR;
    }

    bcf->size = NGX_HTTP_POSTHOG_BUFFER_SIZE;
    bcf->flush = NGX_HTTP_POSTHOG_FLUSH;
    bcf->exit_timeout = NGX_HTTP_POSTHOG_EXIT_TIMEOUT;

    pmcf->buffer = bcf;

    return NGX_CONF_OK;
}
