/*
 * ngx_posthog_module: the worker's queue of events and their XADDs, see
 * ngx_http_posthog_redis_queue.h.
 */


#include "ngx_http_posthog_redis_queue.h"
#include "posthog_resp.h"

#include <hiredis/sds.h>


/* the most room made in hiredis's output buffer at once */
#define NGX_HTTP_POSTHOG_SEND_MAX           (16 * 1024 * 1024)

/*
 * One XADD in this many carries MAXLEN ~ (and one in maxlen / this for a
 * smaller maxlen): Redis checks the trim of a stream on each XADD that
 * asks, and parses its three arguments, about a sixth of what an XADD to
 * a stream at its cap costs it.  The stream passes its cap by at most a
 * 64th of it per worker before the next trim (MAXLEN ~ is about anyway:
 * Redis removes whole nodes of up to 100 entries).
 */
#define NGX_HTTP_POSTHOG_TRIM_EVERY         64

/*
 * The buffer replies are read into: an XADD's reply is ~20 bytes, an
 * error a line.  One that does not fit ends the connection.
 */
#define NGX_HTTP_POSTHOG_REPLY_BUF          16384


/* what the replies of one read took off the ring */

typedef struct {
    ngx_uint_t                 events;
    ngx_uint_t                 written;      /* of them, written */
    size_t                     size;         /* their bytes */
} ngx_http_posthog_acks_t;


static ngx_int_t ngx_http_posthog_queue_recv(ngx_http_posthog_queue_t *q,
    redisContext *c, ngx_http_posthog_acks_t *acks);
static ngx_int_t ngx_http_posthog_queue_reply(ngx_http_posthog_queue_t *q,
    posthog_resp_reply_t *r, ngx_http_posthog_acks_t *acks);
static ngx_int_t ngx_http_posthog_queue_error(redisContext *c, int err,
    const char *text);
static void ngx_http_posthog_queue_unbuffered(ngx_uint_t n, size_t size);


/* q->cmd holds the constant start of every XADD */

ngx_int_t
ngx_http_posthog_queue_init(ngx_http_posthog_queue_t *q,
    ngx_http_posthog_redis_conf_t *rcf, size_t size, ngx_log_t *log)
{
    u_char  *mem, *p;

    q->conf = rcf;
    q->log = log;

    mem = ngx_alloc(size, log);
    if (mem == NULL) {
        return NGX_ERROR;
    }

    posthog_ring_init(&q->ring, mem, size);

    q->cmd = ngx_alloc(posthog_resp_xadd_prefix_max(rcf->stream.len), log);
    if (q->cmd == NULL) {
        return NGX_ERROR;
    }

    q->reply = ngx_alloc(NGX_HTTP_POSTHOG_REPLY_BUF, log);
    if (q->reply == NULL) {
        return NGX_ERROR;
    }

    p = posthog_resp_xadd_prefix(q->cmd, rcf->stream.data, rcf->stream.len,
                                 rcf->maxlen);

    q->cmd_prefix = p - q->cmd;

    /* maxlen=0: every XADD is plain, the one prefix */

    q->cmd_plain = q->cmd;
    q->cmd_plain_len = q->cmd_prefix;
    q->trim_every = 1;
    q->trim_in = 0;

    if (rcf->maxlen) {
        q->cmd_plain = ngx_alloc(posthog_resp_xadd_prefix_max(rcf->stream.len),
                                 log);
        if (q->cmd_plain == NULL) {
            return NGX_ERROR;
        }

        p = posthog_resp_xadd_prefix(q->cmd_plain, rcf->stream.data,
                                     rcf->stream.len, 0);

        q->cmd_plain_len = p - q->cmd_plain;

        q->trim_every = ngx_max(1, ngx_min(NGX_HTTP_POSTHOG_TRIM_EVERY,
                                           rcf->maxlen
                                           / NGX_HTTP_POSTHOG_TRIM_EVERY));
    }

    return NGX_OK;
}


u_char *
ngx_http_posthog_queue_reserve(ngx_http_posthog_queue_t *q, ngx_str_t *token,
    size_t max)
{
    if (max > POSTHOG_STREAM_EVENT_MAX) {
        return NULL;
    }

    return posthog_ring_reserve(&q->ring, token->data, token->len, max);
}


ngx_int_t
ngx_http_posthog_queue_push(ngx_http_posthog_queue_t *q, ngx_log_t *log,
    ngx_str_t *token, ngx_str_t *event, ngx_uint_t ready)
{
    ngx_int_t  rc;

    rc = POSTHOG_RING_TOO_LARGE;

    if (q->ring.reserved
        && event->data == q->ring.reserved + sizeof(posthog_ring_header_t)
                          + token->len)
    {
        /* made in place: at most the "max" reserved, nothing to copy */
        rc = posthog_ring_commit(&q->ring, event->len);

    } else if (event->len <= POSTHOG_STREAM_EVENT_MAX) {
        rc = posthog_ring_push(&q->ring, token->data, token->len,
                               event->data, event->len);
    }

    if (rc == POSTHOG_RING_TOO_LARGE) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_TOO_LARGE, 1);
        ngx_http_posthog_log_limited(&q->too_large_limit, NGX_LOG_WARN, log,
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
        ngx_http_posthog_log_limited(&q->full_limit, NGX_LOG_WARN, log,
                                   "buffer full (%uz events, %uz bytes, "
                                   "redis %s): event dropped",
                                   q->ring.buffered, q->ring.bytes,
                                   ready ? "slow" : "unavailable");
        return NGX_DECLINED;
    }

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_EVENTS, 1);
    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_BYTES,
                              posthog_ring_record_size(token->len,
                                                       event->len));

    return NGX_OK;
}


/*
 * The XADDs are written straight into hiredis's output buffer (c->obuf),
 * room made once for all of them: they leave in as few write(2)s as the
 * socket allows, when the write event comes (redisAsyncHandleWrite()).
 * No command goes through redisAsyncFormattedCommand(), which copied each
 * one, grew the buffer by reallocs and queued a callback on the heap: the
 * connection's replies, once it is ready, are the XADDs' only, and the
 * queue reads them itself (ngx_http_posthog_queue_read()).
 *
 * q->cmd holds, from init on, the part of an XADD that is the same for
 * every event (posthog_resp_xadd_prefix()); only the entry is formatted
 * after it.  These are the bytes hiredis wrote, byte for byte
 * (t/unit/test_resp.c).  With a maxlen, q->cmd has MAXLEN and q->cmd_plain
 * not: one XADD in q->trim_every, the first on each connection, trims.
 * The room made counts the longer prefix for each.
 */

ngx_int_t
ngx_http_posthog_queue_send(ngx_http_posthog_queue_t *q,
    redisAsyncContext *ac)
{
    u_char                 *p, *start, *end;
    size_t                  need, size;
    redisContext           *c;
    posthog_ring_record_t   rec;

    c = &ac->c;

    if (c->flags & (REDIS_DISCONNECTING | REDIS_FREEING)) {
        /* the context is going away: the events stay for the next */
        return NGX_OK;
    }

    while (posthog_ring_next_unsent(&q->ring, &rec)) {

        /*
         * Room for every unsent record: at most this for each past its
         * token and event.  No more than NGX_HTTP_POSTHOG_SEND_MAX at once
         * (sdsIncrLen() takes an int), and no less than one record.
         */

        need = q->ring.unsent + (q->ring.buffered - q->ring.inflight)
                                * (q->cmd_prefix
                                   + posthog_resp_xadd_entry_max(0, 0));

        size = q->cmd_prefix
               + posthog_resp_xadd_entry_max(rec.token_len, rec.event_len);

        need = ngx_max(ngx_min(need, NGX_HTTP_POSTHOG_SEND_MAX), size);

        p = (u_char *) sdsMakeRoomFor(c->obuf, need);
        if (p == NULL) {
            break;
        }

        c->obuf = (sds) p;

        start = p + sdslen(c->obuf);
        end = start + need;
        p = start;

        do {
            if (q->trim_in == 0) {
                p = ngx_cpymem(p, q->cmd, q->cmd_prefix);
                q->trim_in = q->trim_every - 1;

            } else {
                p = ngx_cpymem(p, q->cmd_plain, q->cmd_plain_len);
                q->trim_in--;
            }

            p = posthog_resp_xadd_entry(p, rec.token, rec.token_len,
                                        rec.event, rec.event_len);

            posthog_ring_sent(&q->ring);

            if (!posthog_ring_next_unsent(&q->ring, &rec)) {
                break;
            }

            size = q->cmd_prefix
                   + posthog_resp_xadd_entry_max(rec.token_len,
                                                 rec.event_len);

        } while ((size_t) (end - p) >= size);

        sdsIncrLen(c->obuf, (int) (p - start));
    }

    if (sdslen(c->obuf) && ac->ev.addWrite) {
        ac->ev.addWrite(ac->ev.data);
    }

    return (q->ring.sent == q->ring.tail) ? NGX_OK : NGX_ERROR;
}


/*
 * The socket is readable and the connection is ready: what arrives are
 * the replies to the XADDs, in the order they were sent.  They are read
 * here, not by hiredis, whose reader makes a heap object of each (and its
 * callbacks want a heap entry per command): recv(2) into q->reply until
 * the socket is empty, and posthog_resp_reply(), which reads them as
 * hiredis's reader does.  What ends the connection is told in the
 * context, with hiredis's codes and texts (the state machine logs it).
 */

ngx_int_t
ngx_http_posthog_queue_read(ngx_http_posthog_queue_t *q,
    redisAsyncContext *ac)
{
    ngx_int_t                rc;
    ngx_http_posthog_acks_t  acks;

    acks.events = 0;
    acks.written = 0;
    acks.size = 0;

    rc = ngx_http_posthog_queue_recv(q, &ac->c, &acks);

    /* counted once for all the replies read: the gauges, the timeout */

    if (acks.events) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_WRITTEN,
                                  acks.written);
        ngx_http_posthog_queue_unbuffered(acks.events, acks.size);

        q->replied(q->data, acks.written);
    }

    return rc;
}


static ngx_int_t
ngx_http_posthog_queue_recv(ngx_http_posthog_queue_t *q, redisContext *c,
    ngx_http_posthog_acks_t *acks)
{
    int                    rc;
    size_t                 used, size;
    ssize_t                n;
    ngx_err_t              err;
    ngx_int_t              rv;
    posthog_resp_reply_t   reply;

    for ( ;; ) {

        n = recv(c->fd, q->reply + q->reply_len,
                 NGX_HTTP_POSTHOG_REPLY_BUF - q->reply_len, 0);

        if (n == -1) {
            err = ngx_socket_errno;

            if (err == NGX_EAGAIN) {
                return NGX_AGAIN;
            }

            if (err == NGX_EINTR) {
                continue;
            }

            c->err = REDIS_ERR_IO;
            *ngx_strerror(err, (u_char *) c->errstr, sizeof(c->errstr) - 1)
                = '\0';
            return NGX_ERROR;
        }

        if (n == 0) {
            return ngx_http_posthog_queue_error(c, REDIS_ERR_EOF,
                                           "Server closed the connection");
        }

        q->reply_len += n;
        used = 0;

        for ( ;; ) {
            rc = posthog_resp_reply(q->reply + used, q->reply_len - used,
                                    &reply, &size);

            if (rc == POSTHOG_RESP_REPLY_AGAIN) {
                break;
            }

            if (rc == POSTHOG_RESP_REPLY_BAD) {
                return ngx_http_posthog_queue_error(c, REDIS_ERR_PROTOCOL,
                                  "Protocol error: not a reply to an XADD");
            }

            if (q->ring.inflight == 0) {

                /*
                 * A reply to no command (e.g. an error before the server
                 * closes): hiredis ends the connection then, and so do we.
                 */

                if (reply.type != '-') {
                    return ngx_http_posthog_queue_error(c, REDIS_ERR_OTHER,
                                                   "a reply to no command");
                }

                c->err = REDIS_ERR_OTHER;
                *ngx_snprintf((u_char *) c->errstr, sizeof(c->errstr) - 1,
                              "%*s", reply.len, reply.str) = '\0';
                return NGX_ERROR;
            }

            used += size;

            rv = ngx_http_posthog_queue_reply(q, &reply, acks);

            if (rv != NGX_OK) {
                return rv;
            }
        }

        /* a reply not complete yet waits at the start */

        if (used) {
            q->reply_len -= used;
            ngx_memmove(q->reply, q->reply + used, q->reply_len);

        } else if (q->reply_len == NGX_HTTP_POSTHOG_REPLY_BUF) {
            return ngx_http_posthog_queue_error(c, REDIS_ERR_PROTOCOL,
                                        "Protocol error: a reply too long");
        }
    }
}


static ngx_int_t
ngx_http_posthog_queue_error(redisContext *c, int err, const char *text)
{
    c->err = err;
    ngx_cpystrn((u_char *) c->errstr, (u_char *) text, sizeof(c->errstr));

    return NGX_ERROR;
}


/*
 * The reply to the oldest XADD in flight.  NGX_DECLINED: a refusal about
 * the server, q->refusal tells.
 */

static ngx_int_t
ngx_http_posthog_queue_reply(ngx_http_posthog_queue_t *q,
    posthog_resp_reply_t *r, ngx_http_posthog_acks_t *acks)
{
    if (r->type == '-'
        && posthog_resp_error_transient((const char *) r->str, r->len))
    {

        /*
         * About this connection or this Redis, not about the event (a
         * replica after a failover, out of memory, loading, busy ...):
         * the event stays at head and goes again on a new connection,
         * after the backoff.  The state machine counts and logs it.
         */

        ngx_snprintf(q->refusal, sizeof(q->refusal) - 1,
                     "XADD refused: %*s%Z",
                     (size_t) ngx_min(r->len, 80), r->str);

        return NGX_DECLINED;
    }

    if (r->type == '-') {
        /* e.g. WRONGTYPE: sending it again would not help */
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_REDIS, 1);
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REDIS_ERRORS, 1);
        ngx_http_posthog_log_limited(&q->xadd_limit, NGX_LOG_ERR, q->log,
                                   "redis %V: XADD to \"%V\" failed, event "
                                   "dropped: %*s", &q->conf->addr,
                                   &q->conf->stream, (size_t) r->len,
                                   r->str);

    } else {
        acks->written++;
    }

    acks->events++;
    acks->size += posthog_ring_ack(&q->ring);

    return NGX_OK;
}


void
ngx_http_posthog_queue_rewind(ngx_http_posthog_queue_t *q)
{
    posthog_ring_rewind(&q->ring);

    /* a part of a reply on the connection lost */
    q->reply_len = 0;

    /* the first XADD on the next connection trims */
    q->trim_in = 0;
}


void
ngx_http_posthog_queue_free(ngx_http_posthog_queue_t *q)
{
    if (q->ring.buffered) {
        ngx_http_posthog_queue_unbuffered(q->ring.buffered, q->ring.bytes);
        posthog_ring_clear(&q->ring);
    }

    ngx_free(q->ring.start);

    if (q->cmd_plain != q->cmd) {
        ngx_free(q->cmd_plain);
    }

    ngx_free(q->cmd);
    ngx_free(q->reply);
}


/* the gauges, for events that left the ring */

static void
ngx_http_posthog_queue_unbuffered(ngx_uint_t n, size_t size)
{
    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_EVENTS,
                              - (ngx_atomic_int_t) n);
    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BUFFERED_BYTES,
                              - (ngx_atomic_int_t) size);
}
