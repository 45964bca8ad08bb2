/*
 * ngx_posthog_module: the worker's queue of events and their XADDs, see
 * ngx_http_posthog_redis_queue.h.
 */


#include "ngx_http_posthog_redis_queue.h"
#include "posthog_resp.h"

#include <hiredis/sds.h>


/* the most room made in hiredis's output buffer at once */
#define NGX_HTTP_POSTHOG_SEND_MAX           (16 * 1024 * 1024)


static ngx_int_t ngx_http_posthog_queue_reply(ngx_http_posthog_queue_t *q,
    redisReply *r);
static void ngx_http_posthog_queue_unbuffered(ngx_uint_t n, size_t size);

static void *ngx_http_posthog_reply_string(const redisReadTask *task,
    char *str, size_t len);
static void *ngx_http_posthog_reply_array(const redisReadTask *task,
    int elements);
static void *ngx_http_posthog_reply_integer(const redisReadTask *task,
    long long value);
static void *ngx_http_posthog_reply_nil(const redisReadTask *task);
static void ngx_http_posthog_reply_free(void *obj);


/*
 * Replies without an allocation.  hiredis's reader makes a heap object
 * for every reply (and one more for its text) with the functions of its
 * reader: these make a reply at the top (an XADD's id, "+OK", "+PONG", an
 * integer, nil) in one object, reused, since one reply is freed before
 * the next one is read (by redisProcessCallbacks() in the handshake, by
 * ngx_http_posthog_queue_read() after it).  Errors, long strings,
 * arrays and what is in them are still hiredis's own objects: an error
 * reads exactly as before (the refusal logic and the log).
 */

#define NGX_HTTP_POSTHOG_REPLY_STR          64

static redisReply                  ngx_http_posthog_reply;
static char                        ngx_http_posthog_reply_str[
                                       NGX_HTTP_POSTHOG_REPLY_STR];
static redisReplyObjectFunctions  *ngx_http_posthog_reply_hiredis;

static redisReplyObjectFunctions   ngx_http_posthog_reply_fn = {
    ngx_http_posthog_reply_string,
    ngx_http_posthog_reply_array,
    ngx_http_posthog_reply_integer,
    ngx_http_posthog_reply_nil,
    ngx_http_posthog_reply_free
};


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

    p = posthog_resp_xadd_prefix(q->cmd, rcf->stream.data, rcf->stream.len,
                                 rcf->maxlen);

    q->cmd_prefix = p - q->cmd;

    return NGX_OK;
}


ngx_int_t
ngx_http_posthog_queue_push(ngx_http_posthog_queue_t *q, ngx_log_t *log,
    ngx_str_t *token, ngx_str_t *event, ngx_uint_t ready)
{
    ngx_int_t  rc;

    rc = POSTHOG_RING_TOO_LARGE;

    if (event->len <= POSTHOG_STREAM_EVENT_MAX) {
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
 * (t/unit/test_resp.c).
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
            p = ngx_cpymem(p, q->cmd, q->cmd_prefix);
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
 * with hiredis (redisBufferRead(), its reader), without its callbacks.
 */

ngx_int_t
ngx_http_posthog_queue_read(ngx_http_posthog_queue_t *q,
    redisAsyncContext *ac)
{
    void          *reply;
    ngx_int_t      rc;
    redisContext  *c;

    c = &ac->c;

    if (redisBufferRead(c) != REDIS_OK) {
        /* c->errstr tells */
        return NGX_ERROR;
    }

    for ( ;; ) {

        if (redisGetReplyFromReader(c, &reply) != REDIS_OK) {
            return NGX_ERROR;
        }

        if (reply == NULL) {
            return NGX_OK;
        }

        if (q->ring.inflight == 0) {

            /*
             * A reply to no command (e.g. an error before the server
             * closes): hiredis ends the connection then, and so do we.
             */

            c->err = REDIS_ERR_OTHER;

            if (((redisReply *) reply)->type == REDIS_REPLY_ERROR) {
                ngx_cpystrn((u_char *) c->errstr,
                            (u_char *) ((redisReply *) reply)->str,
                            sizeof(c->errstr));

            } else {
                ngx_cpystrn((u_char *) c->errstr,
                            (u_char *) "a reply to no command",
                            sizeof(c->errstr));
            }

            ngx_http_posthog_reply_free(reply);
            return NGX_ERROR;
        }

        rc = ngx_http_posthog_queue_reply(q, reply);

        ngx_http_posthog_reply_free(reply);

        if (rc != NGX_OK) {
            return rc;
        }
    }
}


/* NGX_DECLINED: a refusal about the server, q->refusal tells */

static ngx_int_t
ngx_http_posthog_queue_reply(ngx_http_posthog_queue_t *q, redisReply *r)
{
    size_t      size;
    ngx_uint_t  written;

    if (r->type == REDIS_REPLY_ERROR
        && posthog_resp_error_transient(r->str, r->len))
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

    written = 0;

    if (r->type == REDIS_REPLY_ERROR) {
        /* e.g. WRONGTYPE: sending it again would not help */
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DROPPED_REDIS, 1);
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REDIS_ERRORS, 1);
        ngx_http_posthog_log_limited(&q->xadd_limit, NGX_LOG_ERR, q->log,
                                   "redis %V: XADD to \"%V\" failed, event "
                                   "dropped: %*s", &q->conf->addr,
                                   &q->conf->stream, (size_t) r->len,
                                   r->str);

    } else {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_WRITTEN, 1);
        written = 1;
    }

    size = posthog_ring_ack(&q->ring);
    ngx_http_posthog_queue_unbuffered(1, size);

    q->replied(q->data, written);

    return NGX_OK;
}


/* a new context reads its replies with ngx_http_posthog_reply_fn */

void
ngx_http_posthog_queue_reader(redisAsyncContext *ac)
{
    redisReader  *reader;

    reader = ac->c.reader;

    if (reader->fn != &ngx_http_posthog_reply_fn) {
        /* hiredis's own functions: the same table for every context */
        ngx_http_posthog_reply_hiredis = reader->fn;
        reader->fn = &ngx_http_posthog_reply_fn;
    }
}


static void *
ngx_http_posthog_reply_string(const redisReadTask *task, char *str,
    size_t len)
{
    redisReply  *r;

    if (task->parent || task->type == REDIS_REPLY_ERROR
        || len >= NGX_HTTP_POSTHOG_REPLY_STR)
    {
        return ngx_http_posthog_reply_hiredis->createString(task, str, len);
    }

    r = &ngx_http_posthog_reply;

    r->type = task->type;
    r->integer = 0;
    r->len = len;
    r->str = ngx_http_posthog_reply_str;
    r->elements = 0;
    r->element = NULL;

    ngx_memcpy(r->str, str, len);
    r->str[len] = '\0';

    return r;
}


static void *
ngx_http_posthog_reply_array(const redisReadTask *task, int elements)
{
    return ngx_http_posthog_reply_hiredis->createArray(task, elements);
}


static void *
ngx_http_posthog_reply_integer(const redisReadTask *task, long long value)
{
    redisReply  *r;

    if (task->parent) {
        return ngx_http_posthog_reply_hiredis->createInteger(task, value);
    }

    r = &ngx_http_posthog_reply;

    ngx_memzero(r, sizeof(redisReply));
    r->type = REDIS_REPLY_INTEGER;
    r->integer = value;

    return r;
}


static void *
ngx_http_posthog_reply_nil(const redisReadTask *task)
{
    redisReply  *r;

    if (task->parent) {
        return ngx_http_posthog_reply_hiredis->createNil(task);
    }

    r = &ngx_http_posthog_reply;

    ngx_memzero(r, sizeof(redisReply));
    r->type = REDIS_REPLY_NIL;

    return r;
}


static void
ngx_http_posthog_reply_free(void *obj)
{
    if (obj != &ngx_http_posthog_reply) {
        ngx_http_posthog_reply_hiredis->freeObject(obj);
    }
}


void
ngx_http_posthog_queue_free(ngx_http_posthog_queue_t *q)
{
    if (q->ring.buffered) {
        ngx_http_posthog_queue_unbuffered(q->ring.buffered, q->ring.bytes);
        posthog_ring_clear(&q->ring);
    }

    ngx_free(q->ring.start);
    ngx_free(q->cmd);
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
