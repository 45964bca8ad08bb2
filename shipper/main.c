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
 *   settle  2xx: XACK. 400/413: split in halves, a single bad event goes to
 *           the dead-letter stream. 401/403 and any other status (404,
 *           3xx...): keep the token's events pending and leave the token
 *           alone for --auth-retry-delay. Network, 408, 429, 5xx: back off
 *           and retry, forever: the events are safe in Redis meanwhile.
 *
 * Nothing is acknowledged that PostHog (or --output) did not take. Memory is
 * only a cache of our PEL: a crash at any point loses nothing; the next
 * start re-reads the PEL and sends the same events (same uuids) again.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/uio.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include "posthog_utf8.h"
#include "shipper.h"


#define PH_TICK            100      /* ms, longest sleep of the loop */

volatile sig_atomic_t  ph_stop;
volatile sig_atomic_t  ph_reopen;

static char    *ph_body;            /* the request body being sent */
static size_t   ph_body_size;
static char    *ph_zbody;
static size_t   ph_zbody_size;


static void
ph_on_signal(int signo)
{
    if (signo == SIGHUP) {
        ph_reopen = 1;
        return;
    }

    if (ph_stop < 10) {
        ph_stop++;
    }
}


static int
ph_signals(void)
{
    struct sigaction  sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);

    /* no SA_RESTART: poll() returns at once; hiredis and curl retry EINTR */
    sa.sa_handler = ph_on_signal;
    if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL)
        || sigaction(SIGHUP, &sa, NULL))
    {
        return -1;
    }

    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}


static int
ph_output_open(ph_shipper_t *sh)
{
    int  fd;

    if (strcmp(sh->cf->output, "-") == 0) {
        sh->out_fd = STDOUT_FILENO;
        return 0;
    }

    fd = open(sh->cf->output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
              0644);
    if (fd < 0) {
        ph_log(PH_LOG_ERROR, "--output \"%s\": %s", sh->cf->output,
               strerror(errno));
        return -1;
    }

    if (sh->out_fd > STDOUT_FILENO) {
        close(sh->out_fd);
    }

    sh->out_fd = fd;

    return 0;
}


static int
ph_output_write(ph_shipper_t *sh, const char *buf, size_t len)
{
    ssize_t       n;
    size_t        done;
    struct iovec  iov[2];

    done = 0;

    while (done < len + 1) {
        iov[0].iov_base = (char *) buf + (done < len ? done : len);
        iov[0].iov_len = done < len ? len - done : 0;
        iov[1].iov_base = "\n";
        iov[1].iov_len = 1;

        n = writev(sh->out_fd, iov, 2);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ph_log(PH_LOG_ERROR, "writing --output %s: %s", sh->cf->output,
                   strerror(errno));
            return -1;
        }

        done += n;
    }

    return 0;
}


static uint64_t
ph_backoff(ph_conf_t *cf, unsigned attempt, long retry_after)
{
    unsigned  i;
    uint64_t  d, cap, ra;

    cap = cf->max_retry_delay;
    d = cf->retry_delay;

    for (i = 1; i < attempt && d < cap; i++) {
        d *= 2;
    }

    if (d > cap) {
        d = cap;
    }

    /* "equal jitter": shippers that failed together do not retry together */
    d = d / 2 + (uint64_t) random() % (d / 2 + 1);

    if (retry_after >= 0) {
        ra = (uint64_t) (retry_after < 600 ? retry_after : 600) * 1000;
        if (d < ra) {
            d = ra;
        }
    }

    return d;
}


/* The event is pasted as it is into "batch":[...]: a string or a bracket
 * that closes early would rewrite the request (another api_key, more
 * events). So: one {...} with strings that end where JSON says, brackets
 * that match, no control bytes, valid UTF-8 (PostHog refuses the whole
 * batch for one bad event). Numbers and literals are not checked: PostHog
 * answers 400 for those, and the 400 is dead-lettered. */

#define PH_MAX_DEPTH  64

static int
ph_is_object(const char *s, size_t len)
{
    char                 stack[PH_MAX_DEPTH];
    size_t               depth;
    const unsigned char *p, *last;

    p = (const unsigned char *) s;
    last = p + len;

    while (p < last && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }

    if (p == last || *p != '{'
        || !posthog_utf8_valid(p, (size_t) (last - p)))
    {
        return 0;
    }

    depth = 0;

    for ( /* void */ ; p < last; p++) {

        if (*p == '"') {
            for (p++; p < last && *p != '"'; p++) {
                if (*p < 0x20) {
                    return 0;
                }
                if (*p == '\\') {
                    p++;
                    if (p == last || strchr("\"\\/bfnrtu", *p) == NULL
                        || *p == '\0')
                    {
                        return 0;
                    }
                    if (*p == 'u') {
                        if (last - p < 5 || !isxdigit(p[1]) || !isxdigit(p[2])
                            || !isxdigit(p[3]) || !isxdigit(p[4]))
                        {
                            return 0;
                        }
                        p += 4;
                    }
                }
            }
            if (p == last) {
                return 0;
            }
            continue;
        }

        switch (*p) {
        case '{':
        case '[':
            if (depth == PH_MAX_DEPTH) {
                return 0;
            }
            stack[depth++] = (char) *p;
            break;

        case '}':
        case ']':
            if (depth == 0 || stack[--depth] != (*p == '}' ? '{' : '[')) {
                return 0;
            }
            if (depth == 0) {
                /* the object ends here: whitespace after it, nothing else */
                for (p++; p < last; p++) {
                    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
                        return 0;
                    }
                }
                return 1;
            }
            break;

        default:
            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
                return 0;
            }
        }
    }

    return 0;    /* not closed */
}


/* A token goes into the JSON body (api_key) and into log lines: the
 * module's posthog_api_key rule (printable ASCII, no space, quote or
 * backslash), and a length no project token comes near. */

static int
ph_token_ok(const char *p, size_t len)
{
    size_t  i;

    if (len > PH_MAX_TOKEN_BYTES) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) p[i] <= ' ' || (unsigned char) p[i] >= 0x7f
            || p[i] == '"' || p[i] == '\\')
        {
            return 0;
        }
    }

    return 1;
}


/* Called for every entry a read or a claim returned. Returns 1 when the
 * entry was taken care of (now held, dead-lettered, or acknowledged as
 * trimmed), 0 when it was left as it is (already held, its token parked,
 * out of memory). */

int
ph_accept_entry(ph_shipper_t *sh, const char *id, size_t idlen, void *fields)
{
    char         idbuf[48];
    size_t       i, vlen, tlen, elen;
    uint64_t     ms, seq;
    ph_token_t  *t;
    redisReply  *f, *k, *v;
    const char  *vs, *ts, *es, *reason;

    if (idlen >= sizeof(idbuf) || ph_parse_id(id, idlen, &ms, &seq) != 0) {
        ph_log(PH_LOG_WARN, "ignoring a stream entry with id \"%.*s\"",
               (int) (idlen < 48 ? idlen : 48), id);
        return 0;
    }

    memcpy(idbuf, id, idlen);
    idbuf[idlen] = '\0';

    if (ph_idset_has(&sh->ids, ms, seq)) {
        /* a PEL rescan or a claim returned what we hold (and will send) */
        sh->st.duplicates++;
        return 0;
    }

    f = fields;

    if (f == NULL || (f->type != REDIS_REPLY_ARRAY
                      && f->type != REDIS_REPLY_NIL))
    {
        /* not the shape of a stream entry: whatever it is, it is no proof
         * that the entry is gone; leave it pending */
        ph_log(PH_LOG_WARN, "entry %s: unexpected reply shape (%s); left "
               "pending", idbuf, f ? "not an array" : "no fields");
        return 0;
    }

    sh->st.read++;

    if (f->type == REDIS_REPLY_NIL) {
        /* pending, but trimmed from the stream by MAXLEN ~ before anyone
         * delivered it: nothing left to send, and it would come back from
         * every PEL read until acknowledged */
        sh->st.trimmed++;
        ph_log(PH_LOG_WARN, "entry %s was trimmed from the stream before "
               "delivery: lost (raise the module's maxlen?)", idbuf);
        ph_redis_ack_id(sh, idbuf);
        return 1;
    }

    vs = ts = es = NULL;
    vlen = tlen = elen = 0;

    for (i = 0; i + 1 < f->elements; i += 2) {
        k = f->element[i];
        v = f->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING
            || k->len != 1)
        {
            continue;
        }

        switch (k->str[0]) {
        case 'v':
            vs = v->str;
            vlen = v->len;
            break;
        case 't':
            ts = v->str;
            tlen = v->len;
            break;
        case 'e':
            es = v->str;
            elen = v->len;
            break;
        }
    }

    reason = NULL;

    if (vs == NULL || vlen != 1 || vs[0] != '1') {
        reason = "unknown_version";
    } else if (ts == NULL || tlen == 0) {
        reason = "missing_token";
    } else if (!ph_token_ok(ts, tlen)) {
        reason = "bad_token";
    } else if (es == NULL || elen == 0) {
        reason = "missing_event";
    } else if (elen > PH_MAX_EVENT_BYTES) {
        reason = "too_large";
    } else if (!ph_is_object(es, elen)) {
        reason = "not_a_json_object";
    }

    if (reason) {
        ph_redis_dead(sh, idbuf, vs, vlen, ts, tlen, es, elen, reason, 0);
        return 1;
    }

    t = ph_token_get(sh, ts, tlen);
    if (t == NULL) {
        ph_log(PH_LOG_ERROR, "out of memory; %s stays pending", idbuf);
        return 0;
    }

    if (t->blocked_until) {
        /* parked (401/403...): leave it pending until the token is tried
         * again */
        sh->st.auth_released++;
        return 0;
    }

    if (ph_token_push(sh, t, ms, seq, es, elen) != 0) {
        ph_log(PH_LOG_ERROR, "out of memory; %s stays pending", idbuf);
        return 0;
    }

    return 1;
}


static int
ph_token_due(ph_shipper_t *sh, ph_token_t *t, uint64_t now)
{
    size_t  count;

    if (t->blocked_until) {
        return 0;
    }

    if (t->nstack) {
        return t->next_try <= now;
    }

    count = t->n - t->head;

    if (count == 0 || t->next_try > now) {
        return 0;
    }

    return (long) count >= sh->cf->batch_size
           || (long) (ph_body_overhead(t) + t->bytes + count)
              >= sh->cf->batch_bytes
           || now - t->q[t->head].read_at >= (uint64_t) sh->cf->flush_interval
           || (long) sh->held >= sh->cf->max_buffered
           || sh->held_bytes >= PH_MAX_HELD_BYTES;
}


static ph_token_t *
ph_pick(ph_shipper_t *sh, uint64_t now)
{
    ph_token_t  *t, *best;

    best = NULL;

    for (t = sh->tokens; t; t = t->next) {
        /* the oldest entry first, across tokens */
        if (ph_token_due(sh, t, now)
            && (best == NULL
                || t->q[t->head].ms < best->q[best->head].ms
                || (t->q[t->head].ms == best->q[best->head].ms
                    && t->q[t->head].seq < best->q[best->head].seq)))
        {
            best = t;
        }
    }

    return best;
}


static void
ph_batch_form(ph_shipper_t *sh, ph_token_t *t)
{
    size_t  count, bytes, len;

    count = 0;
    bytes = ph_body_overhead(t);

    while (t->head + count < t->n && (long) count < sh->cf->batch_size) {
        len = t->q[t->head + count].len + 1;
        if (count > 0 && (long) (bytes + len) > sh->cf->batch_bytes) {
            break;
        }
        bytes += len;
        count++;
    }

    t->batch_n = count;
    t->stack[0].off = 0;
    t->stack[0].len = count;
    t->nstack = 1;
    t->attempt = 0;
}


/* the batch's ranges are all settled: forget its entries */

static void
ph_batch_done(ph_shipper_t *sh, ph_token_t *t)
{
    ph_token_drop(sh, t, t->batch_n);
    t->batch_n = 0;
    t->nstack = 0;
    t->attempt = 0;
}


static void
ph_settle_ok(ph_shipper_t *sh, ph_token_t *t)
{
    ph_range_t  *r;

    r = &t->stack[t->nstack - 1];

    ph_redis_ack(sh, t, r->off, r->len);

    sh->st.delivered += r->len;
    sh->st.batches++;

    t->nstack--;
    t->attempt = 0;

    if (t->nstack == 0) {
        ph_batch_done(sh, t);
    }
}


static void
ph_settle_reject(ph_shipper_t *sh, ph_token_t *t, ph_http_result_t *res)
{
    char         id[42], reason[PH_REASON_MAX + 32];
    ph_range_t   r;
    ph_entry_t  *e;

    r = t->stack[--t->nstack];
    t->attempt = 0;

    if (r.len > 1 && t->nstack + 2 <= PH_MAX_SPLIT_DEPTH) {
        /* halves; the first half on top, so order is kept */
        t->stack[t->nstack].off = r.off + r.len / 2;
        t->stack[t->nstack].len = r.len - r.len / 2;
        t->nstack++;
        t->stack[t->nstack].off = r.off;
        t->stack[t->nstack].len = r.len / 2;
        t->nstack++;

        sh->st.splits++;

        ph_log(PH_LOG_WARN, "token %.12s: %ld for %zu events, splitting "
               "(%s)", t->token, res->status, r.len,
               res->body[0] ? res->body : "no body");

    } else {
        e = &t->q[t->head + r.off];
        ph_format_id(id, e->ms, e->seq);

        if (res->status == 413) {
            snprintf(reason, sizeof(reason), "too_large%s%s",
                     res->body[0] ? ": " : "", res->body);
        } else {
            snprintf(reason, sizeof(reason), "%s",
                     res->body[0] ? res->body : "rejected");
        }

        ph_redis_dead(sh, id, "1", 1, t->token, t->len, e->event, e->len,
                      reason, (int) res->status);
    }

    if (t->nstack == 0) {
        ph_batch_done(sh, t);
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

    if (s == 401 || s == 403) {
        sh->st.auth_failures++;
    }

    t->blocked_until = now + sh->cf->auth_retry_delay;

    /* once per --auth-retry-delay per token by construction; the minute
     * guard covers a token refused again right away */
    if (t->last_auth_log == 0 || now - t->last_auth_log >= 60000) {
        t->last_auth_log = now;

        if (s == 401 || s == 403) {
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

    ph_token_release(sh, t);
}


static void
ph_settle(ph_shipper_t *sh, ph_token_t *t, ph_http_result_t *res)
{
    long         s;
    size_t       n;
    uint64_t     now, delay;
    const char  *what;

    s = res->status;
    n = t->stack[t->nstack - 1].len;
    now = ph_now_ms();

    if (s == 0) {
        sh->st.http_network++;
    } else if (s >= 200 && s < 300) {
        sh->st.http_2xx++;
    } else if (s >= 400 && s < 500) {
        sh->st.http_4xx++;
    } else if (s >= 500 && s < 600) {
        sh->st.http_5xx++;
    } else {
        sh->st.http_other++;
    }

    if (s >= 200 && s < 300) {
        ph_log(PH_LOG_DEBUG, "token %.12s: %ld, %zu events delivered",
               t->token, s, n);
        ph_settle_ok(sh, t);
        return;
    }

    if (s == 400 || s == 413) {
        ph_settle_reject(sh, t, res);
        return;
    }

    if (s != 0 && s != 408 && s != 429 && (s < 500 || s > 599)) {
        /* 401/403: an unknown or revoked project token. Any other 4xx (and
         * a 3xx, which libcurl does not follow): PostHog's SDKs do not
         * retry those, the request would get the same answer again (a
         * wrong --host answering 404, a proxy in the way). Dropping or
         * dead-lettering would lose a whole stream to a misconfiguration,
         * retrying at once would hammer: the token is parked, its events
         * stay pending, and it is tried again after --auth-retry-delay. */
        ph_park(sh, t, res, now);
        return;
    }

    /* network errors, 408, 429, 5xx: transient, retry later */
    t->attempt++;
    delay = ph_backoff(sh->cf, t->attempt, res->retry_after);
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

        if (ph_output_write(sh, ph_body, blen) == 0) {
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
    uint64_t     due, d;
    ph_token_t  *t;

    due = now + PH_TICK;

#define PH_DUE(x)  do { d = (x); if (d < due) { due = d; } } while (0)

    /* without Redis nothing is sent: only the reconnect is due */
    for (t = sh->redis ? sh->tokens : NULL; t; t = t->next) {
        if (t->blocked_until) {
            PH_DUE(t->blocked_until);

        } else if (t->nstack) {
            /* a batch under delivery (maybe backing off): its entries are
             * old, only the retry time counts, else the loop would spin
             * through the whole backoff */
            PH_DUE(t->next_try);

        } else if (t->n > t->head) {
            d = t->q[t->head].read_at + sh->cf->flush_interval;
            PH_DUE(d > t->next_try ? d : t->next_try);
        }
    }

    PH_DUE(sh->next_claim);
    PH_DUE(sh->next_heartbeat);
    PH_DUE(sh->next_info);
    if (sh->cf->stats_interval) {
        PH_DUE(sh->next_stats);
    }
    if (sh->redis == NULL) {
        PH_DUE(sh->redis_retry_at);
    }

#undef PH_DUE

    return due > now ? (long) (due - now) : 0;
}


/* room to read or claim more: under --max-buffered and the 64 MiB */

int
ph_room(ph_shipper_t *sh)
{
    return sh->redis && (long) sh->held < sh->cf->max_buffered
           && sh->held_bytes < PH_MAX_HELD_BYTES;
}


static void
ph_periodic(ph_shipper_t *sh, uint64_t now)
{
    int          n;
    long         tick;
    ph_token_t  *t;

    for (t = sh->tokens; t; t = t->next) {
        if (t->blocked_until && now >= t->blocked_until) {
            t->blocked_until = 0;
            t->next_try = 0;
            ph_log(PH_LOG_INFO, "token %.12s: trying again after 401/403",
                   t->token);
            /* its entries are in our PEL: read it again (what we hold is
             * skipped) */
            sh->scanning = 1;
            strcpy(sh->scan_cursor, "0-0");
        }
    }

    if (sh->redis && now >= sh->next_heartbeat) {
        if (sh->held) {
            ph_redis_heartbeat(sh);
        }
        sh->next_heartbeat = now + sh->cf->claim_idle / 3;
    }

    if (sh->redis && now >= sh->next_claim) {
        n = ph_redis_autoclaim(sh, 10);
        tick = sh->cf->claim_idle / 2;
        if (tick > 30000) {
            tick = 30000;
        }

        /* a dead consumer left more than one call takes (10 pages): go
         * on at the next tick rather than after claim_idle/2, else a big
         * PEL is taken over at a few hundred entries a minute and can be
         * trimmed meanwhile */
        if (sh->redis && strcmp(sh->claim_cursor, "0-0") != 0
            && (n > 0 || !ph_room(sh)))
        {
            tick = PH_TICK;
        }

        sh->next_claim = now + tick;
    }

    if (now >= sh->next_info) {
        if (sh->redis) {
            ph_redis_info(sh);
        }
        sh->next_info = now + 5000;
    }

    if (sh->cf->stats_interval && now >= sh->next_stats) {
        ph_stats_log(sh);
        sh->next_stats = now + sh->cf->stats_interval;
    }

    if (ph_reopen) {
        ph_reopen = 0;
        if (sh->out_fd > STDOUT_FILENO) {
            ph_output_open(sh);
        }
    }

    ph_tokens_gc(sh);
}




static long
ph_read_count(ph_shipper_t *sh)
{
    long  n, room;

    n = sh->cf->batch_size < 100 ? 100 : sh->cf->batch_size;
    room = sh->cf->max_buffered - (long) sh->held;

    return n < room ? n : (room > 0 ? room : 1);
}


static void
ph_read(ph_shipper_t *sh, long block)
{
    int  n;

    if (sh->scanning) {
        n = ph_redis_read(sh, sh->scan_cursor, ph_read_count(sh), 0);
        if (n == 0) {
            sh->scanning = 0;
            ph_log(PH_LOG_DEBUG, "own pending entries read; now new ones");
        }
        return;
    }

    n = ph_redis_read(sh, ">", ph_read_count(sh), block);
    if (n == 0) {
        sh->last_empty_read = ph_now_ms();
    }
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

        if (sh->redis == NULL && !stopping && now >= sh->redis_retry_at) {
            ph_redis_connect(sh);
        }

        if (!stopping) {
            ph_periodic(sh, now);
        }

        /* without Redis, what PostHog takes could not be acknowledged and
         * would be sent again: wait for the reconnect */
        if (sh->inflight == NULL && !stopping && sh->redis) {
            t = ph_pick(sh, now);

            if (t) {
                if (t->nstack == 0) {
                    ph_batch_form(sh, t);
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
                && (sh->scanning || now - sh->last_empty_read >= PH_TICK))
            {
                ph_read(sh, 0);
            }

            if (ph_http_wait(sh->http, sh->metrics, sh, stopping ? 20 : 50,
                             &res))
            {
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
            ph_read(sh, ph_pick(sh, ph_now_ms()) ? 0 : (wait ? wait : 1));
            ph_metrics_poll(sh->metrics, sh, 0);

        } else {
            ph_metrics_poll(sh->metrics, sh, (int) wait);
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
    strcpy(sh.claim_cursor, "0-0");
    srandom((unsigned) getpid() ^ (unsigned) ph_now_ms());

    rc = 1;

    if (ph_signals() != 0) {
        ph_log(PH_LOG_ERROR, "sigaction: %s", strerror(errno));
        goto done;
    }

    if (cf.replay_dead) {
        if (ph_redis_connect(&sh) == 0 && ph_replay_dead(&sh) == 0) {
            rc = 0;
        }
        goto done;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ph_log(PH_LOG_ERROR, "curl_global_init failed");
        goto done;
    }

    if (cf.output) {
        if (ph_output_open(&sh) != 0) {
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
        sh.metrics = ph_metrics_create(cf.metrics_addr, cf.metrics_port);
        if (sh.metrics == NULL) {
            goto curl;
        }
    }

    ph_log(PH_LOG_INFO, "posthog-shipper %s: %s %s group %s consumer %s -> %s",
           PH_SHIPPER_VERSION, cf.redis, cf.stream, cf.group, cf.consumer,
           cf.output ? cf.output : cf.url);

    sh.next_stats = ph_now_ms() + cf.stats_interval;

    rc = ph_run(&sh);

    if (sh.redis) {
        ph_redis_info(&sh);
    }
    ph_stats_log(&sh);
    ph_log(PH_LOG_INFO, "stopped");

curl:

    ph_http_destroy(sh.http);
    curl_global_cleanup();

done:

    ph_metrics_destroy(sh.metrics);
    ph_tokens_free(&sh);
    ph_redis_close(&sh);
    if (sh.out_fd > STDOUT_FILENO) {
        close(sh.out_fd);
    }
    free(ph_body);
    free(ph_zbody);
    ph_conf_free(&cf);

    return rc;
}
