/*
 * ngx_posthog_module: the worker's queue of events and their XADDs.
 *
 * An event waits in a ring (posthog_ring.h) until Redis has answered its
 * XADD (posthog_resp.h); when the connection is lost first, it is sent
 * again on the next one.  Replies arrive in order, so each reply
 * acknowledges the oldest event in flight.  The queue counts and logs
 * what it drops.  The connection state machine above it
 * (ngx_http_posthog_redis.c) does the handshake through hiredis; from
 * then on the connection carries the XADDs only: it hands the queue the
 * hiredis context to write them into (its output buffer) and to read
 * their replies from (its socket), and hears of each reply through the
 * callback.
 */

#ifndef _NGX_HTTP_POSTHOG_REDIS_QUEUE_H_INCLUDED_
#define _NGX_HTTP_POSTHOG_REDIS_QUEUE_H_INCLUDED_


#include "ngx_http_posthog.h"
#include "posthog_ring.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


typedef struct {
    posthog_ring_t             ring;         /* the events, oldest first */

    ngx_http_posthog_redis_conf_t  *conf;
    ngx_log_t                 *log;

    /* set once by the caller */

    /*
     * replies took the oldest events off, once per read; "written": how
     * many of them Redis has
     */
    void                     (*replied)(void *data, ngx_uint_t written);
    void                      *data;

    u_char                    *cmd;          /* an XADD's start, see send */
    size_t                     cmd_prefix;   /* its length */
    u_char                    *cmd_plain;    /* the same without MAXLEN */
    size_t                     cmd_plain_len;
    ngx_uint_t                 trim_every;   /* 1 XADD in this has MAXLEN */
    ngx_uint_t                 trim_in;      /* XADDs before the next one */

    u_char                    *reply;        /* replies read, see read */
    size_t                     reply_len;

    u_char                     refusal[128]; /* the last XADD refusal */

    ngx_http_posthog_limit_t   full_limit;
    ngx_http_posthog_limit_t   too_large_limit;
    ngx_http_posthog_limit_t   xadd_limit;   /* an event Redis refused */
} ngx_http_posthog_queue_t;


/* a ring of "size" bytes and the XADD prefix for "rcf" */
ngx_int_t ngx_http_posthog_queue_init(ngx_http_posthog_queue_t *q,
    ngx_http_posthog_redis_conf_t *rcf, size_t size, ngx_log_t *log);

/*
 * Room for an entry whose event takes at most "max" bytes, to be written
 * in place (posthog_ring_reserve()); NULL: no such room now, the event is
 * made elsewhere and copied in.  A push of an event at the address
 * returned commits it instead of copying it.
 */
u_char *ngx_http_posthog_queue_reserve(ngx_http_posthog_queue_t *q,
    ngx_str_t *token, size_t max);

/*
 * Copies one entry in.  NGX_DECLINED: dropped, too large or the ring
 * full (counted and logged, "ready" tells which Redis to blame).
 */
ngx_int_t ngx_http_posthog_queue_push(ngx_http_posthog_queue_t *q,
    ngx_log_t *log, ngx_str_t *token, ngx_str_t *event, ngx_uint_t ready);

/*
 * Writes every unsent event as an XADD into the output buffer of "ac",
 * a ready connection.  NGX_ERROR: out of memory, the rest stays for a
 * later try.
 */
ngx_int_t ngx_http_posthog_queue_send(ngx_http_posthog_queue_t *q,
    redisAsyncContext *ac);

/*
 * Reads what the socket of "ac", a ready connection, has: replies to the
 * XADDs.  NGX_AGAIN: the socket is empty.  NGX_ERROR: the connection is
 * broken (ac->c.errstr tells); NGX_DECLINED: Redis refuses writes for now
 * (q->refusal tells).  Either way the caller ends the connection.
 */
ngx_int_t ngx_http_posthog_queue_read(ngx_http_posthog_queue_t *q,
    redisAsyncContext *ac);

/* the connection is lost: what was in flight is unsent again */
void ngx_http_posthog_queue_rewind(ngx_http_posthog_queue_t *q);

/* every event leaves (the worker exits); the memory is freed */
void ngx_http_posthog_queue_free(ngx_http_posthog_queue_t *q);


#endif /* _NGX_HTTP_POSTHOG_REDIS_QUEUE_H_INCLUDED_ */
