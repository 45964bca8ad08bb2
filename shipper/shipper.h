/*
 * posthog-shipper: moves events from a Redis stream (written by
 * ngx_http_posthog_module) to PostHog's /batch/ endpoint.
 *
 * The shipper's layers, each taking what it needs as arguments or
 * callbacks; only main.c (the loop) knows them all, and no file calls up
 * into main.c (docs/architecture.md):
 *
 *   main.c        the loop: read, group, send, settle
 *   replay.c      --replay-dead
 *   rstream.c     the Redis stream client      http.c     one POST at a time
 *   metrics.c     the counters: table, /metrics, stats line
 *   output.c      --output                     body.c     the /batch/ body
 *   batch.c       which batch is next          queue.c    what is held
 *   intake.c      entry checks (pure)          policy.c   HTTP answers (pure)
 *   conf.c, log.c, signals.c; ../ngx_posthog_module/posthog_stream.c: the
 *   contract between the module and the shipper
 */

#ifndef PH_SHIPPER_H
#define PH_SHIPPER_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#include "intake.h"
#include "policy.h"
#include "posthog_stream.h"

#define PH_SHIPPER_VERSION     "0.1.0"

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

/* tokens: a list; entries held: counts and the set of their ids */
typedef struct {
    ph_token_t *tokens;
    size_t      held;
    size_t      held_bytes;
    ph_idset_t  ids;
} ph_queue_t;

ph_token_t *ph_token_get(ph_queue_t *qu, const char *tok, size_t len);
int ph_token_push(ph_queue_t *qu, ph_token_t *t, uint64_t ms, uint64_t seq,
    const char *ev, size_t len);
void ph_token_drop(ph_queue_t *qu, ph_token_t *t, size_t count);
void ph_token_release(ph_queue_t *qu, ph_token_t *t);
/* frees tokens that hold and wait for nothing, but "busy" */
void ph_tokens_gc(ph_queue_t *qu, const ph_token_t *busy);
void ph_tokens_free(ph_queue_t *qu);


/* ---- batch.c: which batch is next ---- */

ph_token_t *ph_batch_pick(ph_queue_t *qu, const ph_conf_t *cf, uint64_t now);
void ph_batch_form(ph_token_t *t, const ph_conf_t *cf);
void ph_batch_split(ph_token_t *t, const ph_range_t *r);
void ph_batch_done(ph_queue_t *qu, ph_token_t *t);
uint64_t ph_batch_next(ph_queue_t *qu, const ph_conf_t *cf, uint64_t due);


/* ---- body.c: the /batch/ request body ---- */

size_t ph_json_escape(char *dst, const char *src, size_t len);
size_t ph_body_overhead(ph_token_t *t);
int ph_body_build(ph_token_t *t, size_t off, size_t len, char **buf,
    size_t *size, size_t *blen);
int ph_gzip(const char *src, size_t len, char **dst, size_t *dsize,
    size_t *dlen);


/* ---- metrics.c: the counters (one table names them for the stats line
 * and /metrics) and the listener ---- */

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
    long long   held;               /* gauges; held and redis_connected */
    long long   pending;            /* are filled in snapshots only */
    long long   lag;                /* XINFO GROUPS; -1 unknown */
    long long   stream_len;
    long long   redis_connected;
} ph_stats_t;


/* fills a snapshot of the counters and gauges */
typedef void (*ph_stats_pt)(void *data, ph_stats_t *st);

typedef struct ph_metrics_s  ph_metrics_t;

ph_metrics_t *ph_metrics_create(const char *addr, int port, ph_stats_pt fn,
    void *data);
void ph_metrics_destroy(ph_metrics_t *m);
int ph_metrics_fds(ph_metrics_t *m, int *fds, int max);
void ph_metrics_serve(ph_metrics_t *m, const int *ready, int n);
/* waits at most timeout ms for scrapes, serving them */
void ph_metrics_poll(ph_metrics_t *m, int timeout);
void ph_stats_log(const ph_stats_t *st);


/* ---- http.c: one POST /batch/ at a time ---- */

typedef struct ph_http_s     ph_http_t;

typedef struct {
    long        status;             /* 0: network error */
    char        error[256];         /* curl's error text */
    char        body[PH_REASON_MAX];   /* response excerpt */
    long        retry_after;        /* seconds, -1 none */
} ph_http_result_t;

ph_http_t *ph_http_create(ph_conf_t *cf);
void ph_http_destroy(ph_http_t *h);
int ph_http_start(ph_http_t *h, const char *body, size_t len, int gzipped);
/* waits at most timeout ms, also for the "nfds" descriptors "fds" (those
 * that became readable go to ready[*nready]); returns 1 when the request
 * ended, with its result */
int ph_http_wait(ph_http_t *h, const int *fds, int nfds, int *ready,
    int *nready, int timeout, ph_http_result_t *res);
void ph_http_abort(ph_http_t *h);


/* ---- output.c: --output instead of HTTP ---- */

int ph_output_open(const char *path, int *fd);
int ph_output_write(int fd, const char *path, const char *buf, size_t len);


/* ---- rstream.c: the Redis stream client ---- */

struct redisContext;
struct redisReply;

/* an entry read or claimed: 1 when taken care of (held, dead-lettered,
 * acknowledged), 0 when left pending */
typedef int (*ph_entry_pt)(void *data, const ph_rentry_t *e);
/* entries there is room to hold; 0: read nothing */
typedef long (*ph_room_pt)(void *data);

typedef struct {
    ph_conf_t              *cf;
    ph_stats_t             *st;         /* counters it updates */
    ph_entry_pt             entry;
    ph_room_pt              room;
    void                   *data;       /* of entry and room */

    struct redisContext    *c;          /* NULL: not connected */
    uint64_t                retry_at;
    unsigned                fails;

    int                     scanning;   /* reading our own PEL */
    char                    scan_cursor[48];
    char                    claim_cursor[48];
} ph_rstream_t;

void ph_rstream_init(ph_rstream_t *rs, ph_conf_t *cf, ph_stats_t *st,
    ph_entry_pt entry, ph_room_pt room, void *data);
int ph_rstream_connect(ph_rstream_t *rs);
void ph_rstream_close(ph_rstream_t *rs);
/* our own PEL while scanning, else new entries; the count read, -1 */
int ph_rstream_read(ph_rstream_t *rs, long count, long block);
void ph_rstream_rescan(ph_rstream_t *rs);
int ph_rstream_ack(ph_rstream_t *rs, const ph_entry_t *e, size_t n);
int ph_rstream_ack_id(ph_rstream_t *rs, const char *id);
int ph_rstream_dead(ph_rstream_t *rs, const char *id, const ph_str_t *v,
    const ph_str_t *t, const ph_str_t *e, const char *reason, int status);
int ph_rstream_autoclaim(ph_rstream_t *rs, int max_pages);
int ph_rstream_heartbeat(ph_rstream_t *rs, const ph_token_t *tokens);
int ph_rstream_info(ph_rstream_t *rs);
/* one command; logs and counts errors, closes the connection when lost */
struct redisReply *ph_rstream_cmd(ph_rstream_t *rs, int argc,
    const char **argv, const size_t *lens);
struct redisReply *ph_rstream_cmds(ph_rstream_t *rs, int argc,
    const char **argv);                 /* C strings, at most 32 */


/* ---- signals.c ---- */

extern volatile sig_atomic_t  ph_stop;     /* SIGTERM, SIGINT received */
extern volatile sig_atomic_t  ph_reopen;   /* SIGHUP */

int ph_signals(void);


/* ---- replay.c ---- */

/* --replay-dead on a connected client; stops (-1) when *stop is set */
int ph_replay_dead(ph_rstream_t *rs, volatile sig_atomic_t *stop);

#endif /* PH_SHIPPER_H */
