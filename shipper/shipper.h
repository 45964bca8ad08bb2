/*
 * posthog-shipper: moves events from a Redis stream (written by
 * ngx_http_posthog_module) to PostHog's /batch/ endpoint.
 *
 * Shared types of the shipper. One process, one thread: a loop that reads
 * the stream with XREADGROUP, groups events by project token, sends one
 * batch at a time with libcurl's multi interface and acknowledges entries
 * only after PostHog answered 2xx (or the batch was written to --output).
 */

#ifndef PH_SHIPPER_H
#define PH_SHIPPER_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#define PH_SHIPPER_VERSION     "0.1.0"

#define PH_MAX_EVENT_BYTES     (900 * 1024)     /* SDKs drop larger events */
#define PH_MAX_TOKEN_BYTES     200              /* project tokens: ~50 */
#define PH_MAX_HELD_BYTES      (64 * 1024 * 1024)  /* held in memory */
#define PH_MAX_BATCH_BYTES     (5 * 1024 * 1024)
#define PH_REASON_MAX          512               /* dead-letter reason text */
#define PH_MAX_SPLIT_DEPTH     64


/* ---- log.c ---- */

enum {
    PH_LOG_ERROR = 0,
    PH_LOG_WARN,
    PH_LOG_INFO,
    PH_LOG_DEBUG
};

extern int  ph_log_level;

void ph_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
uint64_t ph_now_ms(void);                       /* monotonic */
void ph_iso_now(char *buf);                     /* 24 chars + NUL, UTC */


/* ---- conf.c ---- */

typedef struct {
    char       *redis;              /* as given, for messages */
    char       *redis_host;
    int         redis_port;
    char       *redis_unix;
    char       *redis_username;
    char       *redis_password;
    long        redis_timeout;      /* ms */
    char       *stream;
    char       *group;
    char       *consumer;
    char       *dead_stream;
    long        dead_maxlen;
    char       *host;
    char       *url;                /* host + "/batch/" */
    long        batch_size;
    long        batch_bytes;
    long        flush_interval;     /* ms */
    int         gzip;
    long        timeout;            /* ms, one HTTP request */
    long        claim_idle;         /* ms */
    long        retry_delay;        /* ms, first retry */
    long        max_retry_delay;    /* ms */
    long        auth_retry_delay;   /* ms, after 401/403 */
    long        shutdown_timeout;   /* ms */
    long        stats_interval;     /* ms, 0 = off */
    long        max_buffered;       /* events held in memory */
    char       *metrics_addr;
    int         metrics_port;       /* 0 = off */
    char       *output;             /* NULL = HTTP */
    int         log_level;
    int         replay_dead;
} ph_conf_t;

/* Returns 0, or 1 after printing --help/--version (exit 0), or -1 after
 * printing an error (exit 2). */
int ph_conf_parse(ph_conf_t *cf, int argc, char **argv);
void ph_conf_free(ph_conf_t *cf);


/* ---- queue.c: what is held in memory ---- */

typedef struct {
    uint64_t    ms;                 /* stream entry id ms-seq */
    uint64_t    seq;
    char       *event;              /* the event JSON, as read */
    size_t      len;
    uint64_t    read_at;            /* ph_now_ms() when read */
} ph_entry_t;

typedef struct {
    size_t      off;                /* relative to the batch start */
    size_t      len;
} ph_range_t;

typedef struct ph_token_s  ph_token_t;

struct ph_token_s {
    char       *token;
    size_t      len;

    ph_entry_t *q;                  /* FIFO q[head .. n) */
    size_t      head;
    size_t      n;
    size_t      cap;
    size_t      bytes;              /* event bytes in q[head .. n) */

    /* the batch under delivery: q[head .. head + batch_n); its parts still
     * to send are a stack of ranges (400/413 split a range in halves) */
    size_t      batch_n;
    ph_range_t  stack[PH_MAX_SPLIT_DEPTH];
    int         nstack;

    unsigned    attempt;            /* failed attempts of the top range */
    uint64_t    next_try;           /* backoff: not before */
    uint64_t    blocked_until;      /* 401/403: not before; 0 = not blocked */
    uint64_t    last_auth_log;

    ph_token_t *next;
};

typedef struct {
    uint64_t   *keys;               /* pairs (ms, seq+1); seq+1 == 0: free */
    size_t      cap;                /* in pairs, power of two */
    size_t      used;               /* live + tombstones */
    size_t      live;
} ph_idset_t;

int ph_idset_add(ph_idset_t *s, uint64_t ms, uint64_t seq);
int ph_idset_has(ph_idset_t *s, uint64_t ms, uint64_t seq);
void ph_idset_del(ph_idset_t *s, uint64_t ms, uint64_t seq);
void ph_idset_free(ph_idset_t *s);

int ph_parse_id(const char *s, size_t len, uint64_t *ms, uint64_t *seq);
int ph_format_id(char *buf, uint64_t ms, uint64_t seq);    /* 42 bytes */


/* ---- metrics ---- */

typedef struct {
    uint64_t    read;
    uint64_t    delivered;
    uint64_t    retried;            /* events in failed, to-be-retried sends */
    uint64_t    dead;
    uint64_t    trimmed;
    uint64_t    batches;
    uint64_t    requests;
    uint64_t    http_2xx;
    uint64_t    http_4xx;
    uint64_t    http_5xx;
    uint64_t    http_other;
    uint64_t    http_network;
    uint64_t    http_bytes;         /* request bytes as sent */
    uint64_t    auth_failures;
    uint64_t    auth_released;      /* left pending: token got 401/403 */
    uint64_t    splits;
    uint64_t    ack_errors;
    uint64_t    redis_errors;
    uint64_t    claimed;
    uint64_t    duplicates;         /* entries read again while held */
    long long   pending;            /* XINFO GROUPS; -1 unknown */
    long long   lag;
    long long   stream_len;
} ph_stats_t;


/* ---- the shipper ---- */

struct redisContext;
typedef struct ph_http_s     ph_http_t;
typedef struct ph_metrics_s  ph_metrics_t;

typedef struct {
    ph_conf_t              *cf;
    struct redisContext    *redis;
    uint64_t                redis_retry_at;
    unsigned                redis_fails;

    ph_token_t             *tokens;
    size_t                  held;           /* entries in memory */
    size_t                  held_bytes;
    ph_idset_t              ids;

    int                     scanning;       /* reading our own PEL */
    char                    scan_cursor[48];
    char                    claim_cursor[48];
    uint64_t                next_claim;
    uint64_t                next_heartbeat;
    uint64_t                next_stats;
    uint64_t                next_info;
    uint64_t                last_empty_read;

    ph_http_t              *http;
    ph_token_t             *inflight;       /* token whose range is in flight */
    int                     out_fd;         /* --output, -1 = HTTP */

    ph_metrics_t           *metrics;
    ph_stats_t              st;
} ph_shipper_t;

extern volatile sig_atomic_t  ph_stop;     /* signals received */
extern volatile sig_atomic_t  ph_reopen;   /* SIGHUP */

/* rstream.c */
int ph_redis_connect(ph_shipper_t *sh);
void ph_redis_close(ph_shipper_t *sh);
int ph_redis_read(ph_shipper_t *sh, const char *id, long count, long block);
int ph_redis_ack(ph_shipper_t *sh, ph_token_t *t, size_t off, size_t len);
int ph_redis_ack_id(ph_shipper_t *sh, const char *id);
int ph_redis_dead(ph_shipper_t *sh, const char *id, const char *v, size_t vlen,
    const char *tok, size_t toklen, const char *ev, size_t evlen,
    const char *reason, int status);
int ph_redis_autoclaim(ph_shipper_t *sh, int max_pages);
int ph_redis_heartbeat(ph_shipper_t *sh);
int ph_redis_info(ph_shipper_t *sh);
int ph_replay_dead(ph_shipper_t *sh);

/* main.c: called for every entry read (fields nil: the entry was trimmed);
 * 1: taken care of (held, dead-lettered, acknowledged), 0: left pending */
int ph_room(ph_shipper_t *sh);
int ph_accept_entry(ph_shipper_t *sh, const char *id, size_t idlen,
    void *fields);

/* queue.c */
ph_token_t *ph_token_get(ph_shipper_t *sh, const char *tok, size_t len);
int ph_token_push(ph_shipper_t *sh, ph_token_t *t, uint64_t ms, uint64_t seq,
    const char *ev, size_t len);
void ph_token_drop(ph_shipper_t *sh, ph_token_t *t, size_t count);
void ph_token_release(ph_shipper_t *sh, ph_token_t *t);
void ph_tokens_gc(ph_shipper_t *sh);
void ph_tokens_free(ph_shipper_t *sh);

/* body.c: the /batch/ request body */
size_t ph_json_escape(char *dst, const char *src, size_t len);
size_t ph_body_overhead(ph_token_t *t);
int ph_body_build(ph_token_t *t, size_t off, size_t len, char **buf,
    size_t *size, size_t *blen);
int ph_gzip(const char *src, size_t len, char **dst, size_t *dsize,
    size_t *dlen);

/* http.c */
typedef struct {
    long        status;             /* 0: network error */
    char        error[256];         /* curl's error text */
    char        body[PH_REASON_MAX];   /* response excerpt */
    long        retry_after;        /* seconds, -1 none */
} ph_http_result_t;

ph_http_t *ph_http_create(ph_conf_t *cf);
void ph_http_destroy(ph_http_t *h);
int ph_http_start(ph_http_t *h, const char *body, size_t len, int gzipped);
/* waits at most timeout ms, serving fds; returns 1 when the request ended */
int ph_http_wait(ph_http_t *h, ph_metrics_t *m, ph_shipper_t *sh,
    int timeout, ph_http_result_t *res);
void ph_http_abort(ph_http_t *h);

/* metrics.c */
ph_metrics_t *ph_metrics_create(const char *addr, int port);
void ph_metrics_destroy(ph_metrics_t *m);
int ph_metrics_fds(ph_metrics_t *m, int *fds, int max);
void ph_metrics_serve(ph_metrics_t *m, ph_shipper_t *sh, const int *ready,
    int n);
void ph_metrics_poll(ph_metrics_t *m, ph_shipper_t *sh, int timeout);
void ph_stats_log(ph_shipper_t *sh);

#endif /* PH_SHIPPER_H */
