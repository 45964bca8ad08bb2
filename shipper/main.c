/*
 * posthog-shipper's loop.
 *
 *   read    XREADGROUP: first our own PEL (after start, reconnect, or when a
 *           token blocked by 401/403 is retried), then new entries ('>').
 *           Periodically XAUTOCLAIM what dead consumers left.
 *   group   entries by project token; a token's queue becomes a batch when
 *           it holds --batch-size events or --batch-bytes, or its oldest
 *           event waited --flush-interval.
 *   send    one batch at a time, oldest first; gzip; fresh sent_at.
 *   settle  by PostHog's answer (policy.c): XACK, split and dead-letter,
 *           park the token, or back off and retry.
 *
 * Nothing is acknowledged that PostHog (or --output) did not take. Memory is
 * only a cache of our PEL: a crash at any point loses nothing; the next
 * start re-reads the PEL and sends the same events (same uuids) again.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "shipper.h"


#define PH_TICK            100      /* ms, longest sleep of the loop */
#define PH_INFO_EVERY      5000     /* ms, XINFO GROUPS and XLEN */
#define PH_INFO_SETTLED    1000     /* ms, at most, after a batch settled */


/* the loop's state: the layers below know nothing of it */

typedef struct {
    ph_conf_t              *cf;
    ph_rstream_t            rs;
    ph_queue_t              qu;

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


static char    *ph_body;            /* the request body being sent */
static size_t   ph_body_size;
static char    *ph_zbody;
static size_t   ph_zbody_size;


/* The entry callback of the stream client, for every entry a read or a
 * claim returned. Returns 1 when the entry was taken care of (now held,
 * dead-lettered, or acknowledged as trimmed), 0 when it was left as it is
 * (already held, its token parked, out of memory, not understood). */

static int
ph_on_entry(void *data, const ph_rentry_t *en)
{
    int            rc;
    char           id[POSTHOG_STREAM_ID_MAX + 1];
    uint64_t       ms, seq;
    ph_token_t    *t;
    ph_intake_t    in;
    ph_shipper_t  *sh;

    sh = data;

    if (posthog_stream_id_parse(en->id.p, en->id.len, &ms, &seq) != 0) {
        ph_log(PH_LOG_WARN, "ignoring a stream entry with id \"%.*s\"",
               (int) (en->id.len < 48 ? en->id.len : 48), en->id.p);
        return 0;
    }

    memcpy(id, en->id.p, en->id.len);
    id[en->id.len] = '\0';

    if (ph_idset_has(&sh->qu.ids, ms, seq)) {
        /* a PEL rescan or a claim returned what we hold (and will send) */
        sh->st.duplicates++;
        return 0;
    }

    rc = ph_intake_check(en, &in);

    switch (rc) {

    case PH_INTAKE_LEAVE:
        /* not the shape of a stream entry: whatever it is, it is no proof
         * that the entry is gone; leave it pending */
        ph_log(PH_LOG_WARN, "entry %s: unexpected reply shape (%s); left "
               "pending", id, in.reason);
        return 0;

    case PH_INTAKE_TRIMMED:
        sh->st.read++;
        sh->st.trimmed++;
        ph_log(PH_LOG_WARN, "entry %s was trimmed from the stream before "
               "delivery: lost (raise the module's maxlen?)", id);
        ph_rstream_ack_id(&sh->rs, id);
        return 1;

    case PH_INTAKE_DEAD:
        sh->st.read++;
        ph_rstream_dead(&sh->rs, id, &in.v, &in.t, &in.e, in.reason, 0);
        return 1;
    }

    sh->st.read++;

    t = ph_token_get(&sh->qu, in.t.p, in.t.len);
    if (t == NULL) {
        ph_log(PH_LOG_ERROR, "out of memory; %s stays pending", id);
        return 0;
    }

    if (t->blocked_until) {
        /* parked (401/403...): leave it pending until the token is tried
         * again */
        sh->st.auth_released++;
        return 0;
    }

    if (ph_token_push(&sh->qu, t, ms, seq, in.e.p, in.e.len) != 0) {
        ph_log(PH_LOG_ERROR, "out of memory; %s stays pending", id);
        return 0;
    }

    return 1;
}


/* the room callback: entries there is room to hold, under --max-buffered
 * and the 64 MiB */

static long
ph_on_room(void *data)
{
    ph_shipper_t  *sh;

    sh = data;

    if (sh->qu.held_bytes >= PH_MAX_HELD_BYTES
        || (long) sh->qu.held >= sh->cf->max_buffered)
    {
        return 0;
    }

    return sh->cf->max_buffered - (long) sh->qu.held;
}


static int
ph_room(ph_shipper_t *sh)
{
    return sh->rs.c && ph_on_room(sh) > 0;
}


/* the stats callback of the metrics listener, and of the stats line */

static void
ph_on_stats(void *data, ph_stats_t *st)
{
    ph_shipper_t  *sh;

    sh = data;

    *st = sh->st;
    st->held = (long long) sh->qu.held;
    st->redis_connected = sh->rs.c != NULL;
}


/* the group's pending count changed: the gauges that /metrics serves from
 * memory are refreshed by the loop soon, not at the next scrape */

static void
ph_info_soon(ph_shipper_t *sh, uint64_t now)
{
    if (sh->next_info > now + PH_INFO_SETTLED) {
        sh->next_info = now + PH_INFO_SETTLED;
    }
}


static void
ph_settle_ok(ph_shipper_t *sh, ph_token_t *t)
{
    ph_range_t  *r;

    r = &t->stack[t->nstack - 1];

    ph_rstream_ack(&sh->rs, &t->q[t->head + r->off], r->len);

    sh->st.delivered += r->len;
    sh->st.batches++;

    t->nstack--;
    t->attempt = 0;

    if (t->nstack == 0) {
        ph_batch_done(&sh->qu, t);
    }
}


static void
ph_settle_reject(ph_shipper_t *sh, ph_token_t *t, ph_http_result_t *res)
{
    char         id[POSTHOG_STREAM_ID_MAX + 1], reason[PH_REASON_MAX + 32];
    ph_str_t     v, tok, ev;
    ph_range_t   r;
    ph_entry_t  *e;

    r = t->stack[--t->nstack];
    t->attempt = 0;

    if (ph_policy_split(r.len, t->nstack, PH_MAX_SPLIT_DEPTH)) {
        ph_batch_split(t, &r);
        sh->st.splits++;

        ph_log(PH_LOG_WARN, "token %.12s: %ld for %zu events, splitting "
               "(%s)", t->token, res->status, r.len,
               res->body[0] ? res->body : "no body");

    } else {
        e = &t->q[t->head + r.off];
        posthog_stream_id_format(id, e->ms, e->seq);
        ph_policy_dead_reason(res->status, res->body, reason,
                              sizeof(reason));

        v.p = POSTHOG_STREAM_VERSION;
        v.len = sizeof(POSTHOG_STREAM_VERSION) - 1;
        tok.p = t->token;
        tok.len = t->len;
        ev.p = e->event;
        ev.len = e->len;

        ph_rstream_dead(&sh->rs, id, &v, &tok, &ev, reason,
                        (int) res->status);
    }

    if (t->nstack == 0) {
        ph_batch_done(&sh->qu, t);
    }
}


/* 401/403 or another refusal that is not retryable as is: leave the token
 * alone for --auth-retry-delay; its events stay in our PEL (neither
 * acknowledged nor dead-lettered) and are read again when it is retried */

static void
ph_park(ph_shipper_t *sh, ph_token_t *t, ph_http_result_t *res, uint64_t now)
{
    long  s;

    s = res->status;

    if (ph_policy_auth(s)) {
        sh->st.auth_failures++;
    }

    t->blocked_until = now + sh->cf->auth_retry_delay;

    /* once per --auth-retry-delay per token by construction; the minute
     * guard covers a token refused again right away */
    if (t->last_auth_log == 0 || now - t->last_auth_log >= 60000) {
        t->last_auth_log = now;

        if (ph_policy_auth(s)) {
            ph_log(PH_LOG_ERROR, "token %.12s: PostHog answered %ld (%s): "
                   "unknown or invalid project token? Its events stay "
                   "pending; trying again in %lds", t->token, s,
                   res->body[0] ? res->body : "no body",
                   sh->cf->auth_retry_delay / 1000);
        } else {
            ph_log(PH_LOG_ERROR, "token %.12s: %zu events: PostHog answered "
                   "%ld (%s), not retryable as is: wrong --host (%s), or a "
                   "proxy in the way? Its events stay pending; trying again "
                   "in %lds", t->token, t->stack[t->nstack - 1].len, s,
                   res->body[0] ? res->body : "no body", sh->cf->url,
                   sh->cf->auth_retry_delay / 1000);
        }
    }

    sh->st.auth_released += t->n - t->head;
    ph_token_release(&sh->qu, t);
}


static void
ph_settle(ph_shipper_t *sh, ph_token_t *t, ph_http_result_t *res)
{
    long         s;
    size_t       n;
    uint64_t     now, delay, *cls[5];
    const char  *what;

    /* in the order of PH_CLASS_* */
    cls[PH_CLASS_NETWORK] = &sh->st.http_network;
    cls[PH_CLASS_2XX] = &sh->st.http_2xx;
    cls[PH_CLASS_4XX] = &sh->st.http_4xx;
    cls[PH_CLASS_5XX] = &sh->st.http_5xx;
    cls[PH_CLASS_OTHER] = &sh->st.http_other;

    s = res->status;
    n = t->stack[t->nstack - 1].len;
    now = ph_now_ms();

    (*cls[ph_policy_class(s)])++;

    switch (ph_policy_action(s)) {

    case PH_SENT_OK:
        ph_log(PH_LOG_DEBUG, "token %.12s: %ld, %zu events delivered",
               t->token, s, n);
        ph_settle_ok(sh, t);
        ph_info_soon(sh, now);
        return;

    case PH_SENT_REJECTED:
        ph_settle_reject(sh, t, res);
        ph_info_soon(sh, now);
        return;

    case PH_SENT_PARK:
        ph_park(sh, t, res, now);
        return;
    }

    /* network errors, 408, 429, 5xx: transient, retry later */
    t->attempt++;
    delay = ph_policy_backoff((uint64_t) sh->cf->retry_delay,
                              (uint64_t) sh->cf->max_retry_delay, t->attempt,
                              res->retry_after, (uint64_t) random());
    t->next_try = now + delay;
    sh->st.retried += n;

    what = s == 0 ? "network error" : "transient";

    if (s == 0) {
        ph_log(PH_LOG_WARN, "token %.12s: %zu events: %s: %s; retry %u in "
               "%llums", t->token, n, what, res->error, t->attempt,
               (unsigned long long) delay);
    } else {
        ph_log(PH_LOG_WARN, "token %.12s: %zu events: %s %ld (%s)%s; retry "
               "%u in %llums", t->token, n, what, s,
               res->body[0] ? res->body : "no body",
               res->retry_after >= 0 ? ", honouring Retry-After" : "",
               t->attempt, (unsigned long long) delay);
    }
}


/* Send the top range of t's batch. Returns 1 when it was settled at once
 * (--output), 0 when a request is in flight, -1 on a local failure. */

static int
ph_send(ph_shipper_t *sh, ph_token_t *t)
{
    size_t             blen, zlen;
    ph_range_t        *r;
    ph_http_result_t   res;

    r = &t->stack[t->nstack - 1];

    if (ph_body_build(t, r->off, r->len, &ph_body, &ph_body_size, &blen)
        != 0)
    {
        return -1;
    }

    if (sh->out_fd >= 0) {
        memset(&res, 0, sizeof(res));
        res.retry_after = -1;

        if (ph_output_write(sh->out_fd, sh->cf->output, ph_body, blen)
            == 0)
        {
            res.status = 200;
        } else {
            snprintf(res.error, sizeof(res.error), "write failed");
        }

        sh->st.requests++;
        sh->st.http_bytes += blen + 1;
        ph_settle(sh, t, &res);
        return 1;
    }

    if (sh->cf->gzip) {
        if (ph_gzip(ph_body, blen, &ph_zbody, &ph_zbody_size, &zlen) != 0) {
            return -1;
        }
        if (ph_http_start(sh->http, ph_zbody, zlen, 1) != 0) {
            return -1;
        }
        sh->st.http_bytes += zlen;

    } else {
        if (ph_http_start(sh->http, ph_body, blen, 0) != 0) {
            return -1;
        }
        sh->st.http_bytes += blen;
    }

    sh->st.requests++;
    sh->inflight = t;

    return 0;
}


/* ms until something is due (clamped to the loop's tick) */

static long
ph_next_due(ph_shipper_t *sh, uint64_t now)
{
    uint64_t  due, d;

    due = now + PH_TICK;

#define PH_DUE(x)  do { d = (x); if (d < due) { due = d; } } while (0)

    /* without Redis nothing is sent: only the reconnect is due */
    if (sh->rs.c) {
        PH_DUE(ph_batch_next(&sh->qu, sh->cf, due));
    }

    PH_DUE(sh->next_claim);
    PH_DUE(sh->next_heartbeat);
    PH_DUE(sh->next_info);
    if (sh->cf->stats_interval) {
        PH_DUE(sh->next_stats);
    }
    if (sh->rs.c == NULL) {
        PH_DUE(sh->rs.retry_at);
    }

#undef PH_DUE

    return due > now ? (long) (due - now) : 0;
}


static void
ph_stats_line(ph_shipper_t *sh)
{
    ph_stats_t  st;

    ph_on_stats(sh, &st);
    ph_stats_log(&st);
}


static void
ph_periodic(ph_shipper_t *sh, uint64_t now)
{
    int          n;
    long         tick;
    ph_token_t  *t;

    for (t = sh->qu.tokens; t; t = t->next) {
        if (t->blocked_until && now >= t->blocked_until) {
            t->blocked_until = 0;
            t->next_try = 0;
            ph_log(PH_LOG_INFO, "token %.12s: trying again after 401/403",
                   t->token);
            /* its entries are in our PEL: read it again (what we hold is
             * skipped) */
            ph_rstream_rescan(&sh->rs);
        }
    }

    if (sh->rs.c && now >= sh->next_heartbeat) {
        if (sh->qu.held) {
            ph_rstream_heartbeat(&sh->rs, sh->qu.tokens);
        }
        sh->next_heartbeat = now + sh->cf->claim_idle / 3;
    }

    if (sh->rs.c && now >= sh->next_claim) {
        n = ph_rstream_autoclaim(&sh->rs, 10);
        tick = sh->cf->claim_idle / 2;
        if (tick > 30000) {
            tick = 30000;
        }

        /* a dead consumer left more than one call takes (10 pages): go
         * on at the next tick rather than after claim_idle/2, else a big
         * PEL is taken over at a few hundred entries a minute and can be
         * trimmed meanwhile */
        if (sh->rs.c && strcmp(sh->rs.claim_cursor, "0-0") != 0
            && (n > 0 || !ph_room(sh)))
        {
            tick = PH_TICK;
        }

        sh->next_claim = now + tick;
    }

    if (now >= sh->next_info) {
        if (sh->rs.c) {
            ph_rstream_info(&sh->rs);
        }
        sh->next_info = now + PH_INFO_EVERY;
    }

    if (sh->cf->stats_interval && now >= sh->next_stats) {
        ph_stats_line(sh);
        sh->next_stats = now + sh->cf->stats_interval;
    }

    if (ph_reopen) {
        ph_reopen = 0;
        if (sh->out_fd > STDOUT_FILENO) {
            ph_output_open(sh->cf->output, &sh->out_fd);
        }
    }

    ph_tokens_gc(&sh->qu, sh->inflight);
}


static long
ph_read_count(ph_shipper_t *sh)
{
    long  n, room;

    n = sh->cf->batch_size < 100 ? 100 : sh->cf->batch_size;
    room = sh->cf->max_buffered - (long) sh->qu.held;

    return n < room ? n : (room > 0 ? room : 1);
}


static void
ph_read(ph_shipper_t *sh, long block)
{
    int  scanning;

    scanning = sh->rs.scanning;

    if (ph_rstream_read(&sh->rs, ph_read_count(sh), scanning ? 0 : block) == 0
        && !scanning)
    {
        sh->last_empty_read = ph_now_ms();
    }
}


/* while a request is in flight: wait for it, serving scrapes meanwhile */

static int
ph_wait(ph_shipper_t *sh, int timeout, ph_http_result_t *res)
{
    int  rc, nfds, nready, fds[32], ready[32];

    nfds = ph_metrics_fds(sh->metrics, fds, 32);

    rc = ph_http_wait(sh->http, fds, nfds, ready, &nready, timeout, res);

    if (nready) {
        ph_metrics_serve(sh->metrics, ready, nready);
    }

    return rc;
}


static int
ph_run(ph_shipper_t *sh)
{
    int                rc, stopping;
    long               wait;
    uint64_t           now, deadline;
    ph_token_t        *t;
    ph_http_result_t   res;

    stopping = 0;
    deadline = 0;

    for ( ;; ) {
        now = ph_now_ms();

        if (ph_stop && !stopping) {
            stopping = 1;
            deadline = now + sh->cf->shutdown_timeout;
            ph_log(PH_LOG_INFO, "shutting down%s", sh->inflight
                   ? ": waiting for the request in flight" : "");
        }

        if (stopping) {
            if (sh->inflight == NULL) {
                break;
            }

            if (now >= deadline || ph_stop > 1) {
                /* not acknowledged: the next start or another shipper
                 * sends it again */
                ph_http_abort(sh->http);
                ph_log(PH_LOG_WARN, "abandoned the request in flight; its "
                       "%zu events stay pending",
                       sh->inflight->stack[sh->inflight->nstack - 1].len);
                sh->inflight = NULL;
                break;
            }
        }

        if (sh->rs.c == NULL && !stopping && now >= sh->rs.retry_at) {
            ph_rstream_connect(&sh->rs);
        }

        if (!stopping) {
            ph_periodic(sh, now);
        }

        /* without Redis, what PostHog takes could not be acknowledged and
         * would be sent again: wait for the reconnect */
        if (sh->inflight == NULL && !stopping && sh->rs.c) {
            t = ph_batch_pick(&sh->qu, sh->cf, now);

            if (t) {
                if (t->nstack == 0) {
                    ph_batch_form(t, sh->cf);
                }

                rc = ph_send(sh, t);

                if (rc < 0) {
                    ph_log(PH_LOG_ERROR, "out of memory building a batch");
                    t->next_try = now + 1000;
                }

                if (rc != 0) {
                    continue;
                }
            }
        }

        if (sh->inflight) {
            /* read ahead while PostHog works, without blocking */
            if (!stopping && ph_room(sh)
                && (sh->rs.scanning
                    || now - sh->last_empty_read >= PH_TICK))
            {
                ph_read(sh, 0);
            }

            if (ph_wait(sh, stopping ? 20 : 50, &res)) {
                t = sh->inflight;
                sh->inflight = NULL;
                if (!stopping || (res.status >= 200 && res.status < 300)) {
                    ph_settle(sh, t, &res);
                }
            }

            continue;
        }

        if (stopping) {
            continue;
        }

        wait = ph_next_due(sh, now);

        if (ph_room(sh)) {
            /* the blocking read is the loop's sleep */
            ph_read(sh, ph_batch_pick(&sh->qu, sh->cf, ph_now_ms())
                        ? 0 : (wait ? wait : 1));
            ph_metrics_poll(sh->metrics, 0);

        } else {
            ph_metrics_poll(sh->metrics, (int) wait);
        }
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int           rc;
    ph_conf_t     cf;
    ph_shipper_t  sh;

    rc = ph_conf_parse(&cf, argc, argv);
    if (rc != 0) {
        ph_conf_free(&cf);
        return rc > 0 ? 0 : 2;
    }

    memset(&sh, 0, sizeof(sh));
    sh.cf = &cf;
    sh.out_fd = -1;
    sh.st.pending = -1;
    sh.st.lag = -1;
    sh.st.stream_len = -1;
    ph_rstream_init(&sh.rs, &cf, &sh.st, ph_on_entry, ph_on_room, &sh);
    srandom((unsigned) getpid() ^ (unsigned) ph_now_ms());

    rc = 1;

    if (ph_signals() != 0) {
        ph_log(PH_LOG_ERROR, "sigaction: %s", strerror(errno));
        goto done;
    }

    if (cf.replay_dead) {
        if (ph_rstream_connect(&sh.rs) == 0
            && ph_replay_dead(&sh.rs, &ph_stop) == 0)
        {
            rc = 0;
        }
        goto done;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ph_log(PH_LOG_ERROR, "curl_global_init failed");
        goto done;
    }

    if (cf.output) {
        if (ph_output_open(cf.output, &sh.out_fd) != 0) {
            goto curl;
        }

    } else {
        sh.http = ph_http_create(&cf);
        if (sh.http == NULL) {
            ph_log(PH_LOG_ERROR, "cannot set up libcurl");
            goto curl;
        }
    }

    if (cf.metrics_port) {
        sh.metrics = ph_metrics_create(cf.metrics_addr, cf.metrics_port,
                                       ph_on_stats, &sh);
        if (sh.metrics == NULL) {
            goto curl;
        }
    }

    ph_log(PH_LOG_INFO, "posthog-shipper %s: %s %s group %s consumer %s -> %s",
           PH_SHIPPER_VERSION, cf.redis, cf.stream, cf.group, cf.consumer,
           cf.output ? cf.output : cf.url);

    sh.next_stats = ph_now_ms() + cf.stats_interval;

    rc = ph_run(&sh);

    if (sh.rs.c) {
        ph_rstream_info(&sh.rs);
    }
    ph_stats_line(&sh);
    ph_log(PH_LOG_INFO, "stopped");

curl:

    ph_http_destroy(sh.http);
    curl_global_cleanup();

done:

    ph_metrics_destroy(sh.metrics);
    ph_tokens_free(&sh.qu);
    ph_rstream_close(&sh.rs);
    if (sh.out_fd > STDOUT_FILENO) {
        close(sh.out_fd);
    }
    free(ph_body);
    free(ph_zbody);
    ph_conf_free(&cf);

    return rc;
}
