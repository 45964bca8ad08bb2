/*
 * The counters, as a periodic log line and as Prometheus text at /metrics,
 * both from one table that names each once.
 *
 * The listener is a few non-blocking sockets polled by the main loop (from
 * curl_multi_wait while a request is in flight, from poll() otherwise). A
 * scrape is answered from memory, never from Redis: the group's pending
 * and lag are those of the loop's last XINFO GROUPS (every 5 s, and within
 * a second of a batch settled), so a scrape cannot stall the loop.
 */

#define _GNU_SOURCE          /* accept4 */

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "shipper.h"


#define PH_METRICS_CLIENTS  16

typedef struct {
    int         fd;
    size_t      len;
    uint64_t    since;
    char        buf[1024];
} ph_mclient_t;

struct ph_metrics_s {
    int             fd;
    ph_mclient_t    c[PH_METRICS_CLIENTS];
    ph_stats_pt     stats;
    void           *data;
};


typedef struct {
    const char     *log;            /* key in the stats line */
    const char     *metric;         /* posthog_shipper_<metric> */
    const char     *labels;         /* "" or {name="value"} */
    const char     *type;           /* NULL: the family of the row above */
    const char     *help;
    size_t          off;            /* in ph_stats_t */
    int             gauge;          /* long long, else uint64_t */
} ph_stat_def_t;


#define PH_COUNTER(log, metric, labels, help, field)                         \
    { log, metric, labels, "counter", help, offsetof(ph_stats_t, field), 0 }
#define PH_SAME(log, metric, labels, field)                                  \
    { log, metric, labels, NULL, NULL, offsetof(ph_stats_t, field), 0 }
#define PH_GAUGE(log, metric, help, field)                                   \
    { log, metric, "", "gauge", help, offsetof(ph_stats_t, field), 1 }

/* the stats line shows them in this order */

static const ph_stat_def_t  ph_stat_defs[] = {
    PH_COUNTER("read", "events_read_total", "", "Stream entries read.",
        read),
    PH_COUNTER("delivered", "events_delivered_total", "",
        "Events acknowledged after a 2xx (or written to --output).",
        delivered),
    PH_COUNTER("retried", "events_retried_total", "",
        "Events in requests that failed and will be retried.", retried),
    PH_COUNTER("dead_lettered", "events_dead_lettered_total", "",
        "Events moved to the dead-letter stream.", dead),
    PH_COUNTER("trimmed", "events_trimmed_total", "",
        "Pending entries found trimmed from the stream (lost).", trimmed),
    PH_COUNTER("claimed", "events_claimed_total", "",
        "Entries taken over from idle consumers with XAUTOCLAIM.", claimed),
    PH_COUNTER("batches", "batches_total", "", "Batches delivered.",
        batches),
    PH_COUNTER("requests", "requests_total", "", "HTTP requests made.",
        requests),
    PH_COUNTER("http_2xx", "responses_total", "{class=\"2xx\"}",
        "HTTP outcomes by class.", http_2xx),
    PH_SAME("http_4xx", "responses_total", "{class=\"4xx\"}", http_4xx),
    PH_SAME("http_5xx", "responses_total", "{class=\"5xx\"}", http_5xx),
    PH_SAME("http_other", "responses_total", "{class=\"other\"}",
        http_other),
    PH_SAME("http_network", "responses_total", "{class=\"network\"}",
        http_network),
    PH_COUNTER("auth_failures", "auth_failures_total", "", "401/403 answers.",
        auth_failures),
    PH_COUNTER("auth_held", "events_auth_held_total", "",
        "Events left pending because their token got 401/403.",
        auth_released),
    PH_COUNTER("splits", "batch_splits_total", "",
        "Batches split in halves after a 400 or 413.", splits),
    PH_COUNTER("request_bytes", "request_bytes_total", "",
        "Request body bytes sent.", http_bytes),
    PH_COUNTER("ack_errors", "ack_errors_total", "",
        "XACKs that failed (the entries will be delivered again).",
        ack_errors),
    PH_COUNTER("redis_errors", "redis_errors_total", "",
        "Redis errors and reconnects.", redis_errors),
    PH_COUNTER("duplicates", "duplicates_total", "",
        "Entries read again while already held.", duplicates),
    PH_GAUGE("held", "held_events", "Events held in memory.", held),
    PH_GAUGE("pending", "group_pending",
        "Entries delivered to the group's consumers and not acknowledged.",
        pending),
    PH_GAUGE("lag", "group_lag",
        "Entries not yet read by the group (-1: unknown).", lag),
    PH_GAUGE("stream_length", "stream_length", "XLEN of the stream.",
        stream_len),
    PH_GAUGE("redis_connected", "redis_connected",
        "1 when connected to Redis.", redis_connected),
};

#define PH_NSTATS  (sizeof(ph_stat_defs) / sizeof(ph_stat_defs[0]))


static long long
ph_stat_value(const ph_stats_t *st, const ph_stat_def_t *d)
{
    const char  *p;

    p = (const char *) st + d->off;

    return d->gauge ? *(const long long *) p
                    : (long long) *(const uint64_t *) p;
}


ph_metrics_t *
ph_metrics_create(const char *addr, int port, ph_stats_pt fn, void *data)
{
    int                  one, i;
    ph_metrics_t        *m;
    struct sockaddr_in   sin;

    m = calloc(1, sizeof(ph_metrics_t));
    if (m == NULL) {
        return NULL;
    }

    for (i = 0; i < PH_METRICS_CLIENTS; i++) {
        m->c[i].fd = -1;
    }

    m->stats = fn;
    m->data = data;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);

    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        ph_log(PH_LOG_ERROR, "--metrics-listen: \"%s\" is not an IPv4 "
               "address", addr);
        free(m);
        return NULL;
    }

    m->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m->fd < 0) {
        ph_log(PH_LOG_ERROR, "metrics socket: %s", strerror(errno));
        free(m);
        return NULL;
    }

    one = 1;
    setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    if (bind(m->fd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        || listen(m->fd, 16) != 0)
    {
        ph_log(PH_LOG_ERROR, "metrics listener on %s:%d: %s", addr, port,
               strerror(errno));
        close(m->fd);
        free(m);
        return NULL;
    }

    ph_log(PH_LOG_INFO, "metrics on http://%s:%d/metrics", addr, port);

    return m;
}


void
ph_metrics_destroy(ph_metrics_t *m)
{
    int  i;

    if (m == NULL) {
        return;
    }

    for (i = 0; i < PH_METRICS_CLIENTS; i++) {
        if (m->c[i].fd >= 0) {
            close(m->c[i].fd);
        }
    }

    close(m->fd);
    free(m);
}


int
ph_metrics_fds(ph_metrics_t *m, int *fds, int max)
{
    int  i, n;

    if (m == NULL || max < 1) {
        return 0;
    }

    n = 0;
    fds[n++] = m->fd;

    for (i = 0; i < PH_METRICS_CLIENTS && n < max; i++) {
        if (m->c[i].fd >= 0) {
            fds[n++] = m->c[i].fd;
        }
    }

    return n;
}


static size_t
ph_metrics_text(const ph_stats_t *st, char *buf, size_t size)
{
    size_t                i, n;
    const ph_stat_def_t  *d;

    n = 0;

    for (i = 0; i < PH_NSTATS && n < size; i++) {
        d = &ph_stat_defs[i];

        if (d->type) {
            n += snprintf(buf + n, size - n,
                          "# HELP posthog_shipper_%s %s\n"
                          "# TYPE posthog_shipper_%s %s\n",
                          d->metric, d->help, d->metric, d->type);
            if (n >= size) {
                break;
            }
        }

        n += snprintf(buf + n, size - n, "posthog_shipper_%s%s %lld\n",
                      d->metric, d->labels, ph_stat_value(st, d));
    }

    return n < size ? n : size - 1;
}


static void
ph_metrics_answer(ph_metrics_t *m, ph_mclient_t *c)
{
    int         flags;
    char        head[256], *body;
    size_t      blen, hlen, off;
    ssize_t     w;
    ph_stats_t  st;

    body = malloc(16384);
    if (body == NULL) {
        return;
    }

    if (strncmp(c->buf, "GET /metrics ", 13) == 0
        || strncmp(c->buf, "GET /metrics?", 13) == 0
        || strncmp(c->buf, "GET / ", 6) == 0)
    {
        m->stats(m->data, &st);
        blen = ph_metrics_text(&st, body, 16384);
        hlen = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
                        "Content-Type: text/plain; version=0.0.4\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                        blen);

    } else {
        blen = snprintf(body, 16384, "not found; try /metrics\n");
        hlen = snprintf(head, sizeof(head), "HTTP/1.0 404 Not Found\r\n"
                        "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
                        "Connection: close\r\n\r\n", blen);
    }

    /* small enough for the socket buffer; a client that reads nothing
     * cannot hold the loop for more than the send timeout */
    flags = fcntl(c->fd, F_GETFL);
    fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);

    off = 0;
    while (off < hlen) {
        w = send(c->fd, head + off, hlen - off, MSG_NOSIGNAL);
        if (w <= 0) {
            goto done;
        }
        off += w;
    }

    off = 0;
    while (off < blen) {
        w = send(c->fd, body + off, blen - off, MSG_NOSIGNAL);
        if (w <= 0) {
            goto done;
        }
        off += w;
    }

done:

    free(body);
}


void
ph_metrics_serve(ph_metrics_t *m, const int *ready, int n)
{
    int             i, j, fd;
    ssize_t         r;
    uint64_t        now;
    ph_mclient_t   *c;
    struct timeval  tv;

    if (m == NULL) {
        return;
    }

    now = ph_now_ms();

    for (i = 0; i < n; i++) {

        if (ready[i] == m->fd) {
            for ( ;; ) {
                fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                    break;
                }

                for (j = 0; j < PH_METRICS_CLIENTS; j++) {
                    if (m->c[j].fd < 0) {
                        break;
                    }
                }

                if (j == PH_METRICS_CLIENTS) {
                    close(fd);
                    continue;
                }

                tv.tv_sec = 0;
                tv.tv_usec = 200000;
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

                m->c[j].fd = fd;
                m->c[j].len = 0;
                m->c[j].since = now;
            }
            continue;
        }

        for (j = 0; j < PH_METRICS_CLIENTS; j++) {
            c = &m->c[j];
            if (c->fd != ready[i]) {
                continue;
            }

            r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);

            if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                break;
            }

            if (r > 0) {
                c->len += r;
                c->buf[c->len] = '\0';

                if (strstr(c->buf, "\r\n\r\n") == NULL
                    && strstr(c->buf, "\n\n") == NULL
                    && c->len < sizeof(c->buf) - 1)
                {
                    break;
                }

                ph_metrics_answer(m, c);
            }

            close(c->fd);
            c->fd = -1;
            break;
        }
    }

    /* clients that never finish their request */
    for (j = 0; j < PH_METRICS_CLIENTS; j++) {
        if (m->c[j].fd >= 0 && now - m->c[j].since > 5000) {
            close(m->c[j].fd);
            m->c[j].fd = -1;
        }
    }
}


void
ph_metrics_poll(ph_metrics_t *m, int timeout)
{
    int            i, n, fds[32], ready[32], nready;
    struct pollfd  pfd[32];

    n = ph_metrics_fds(m, fds, 32);

    if (n == 0) {
        if (timeout > 0) {
            poll(NULL, 0, timeout);
        }
        return;
    }

    for (i = 0; i < n; i++) {
        pfd[i].fd = fds[i];
        pfd[i].events = POLLIN;
        pfd[i].revents = 0;
    }

    if (poll(pfd, n, timeout) <= 0) {
        return;
    }

    nready = 0;
    for (i = 0; i < n; i++) {
        if (pfd[i].revents) {
            ready[nready++] = pfd[i].fd;
        }
    }

    ph_metrics_serve(m, ready, nready);
}


void
ph_stats_log(const ph_stats_t *st)
{
    char    line[1024];
    size_t  i, n;

    n = 0;

    for (i = 0; i < PH_NSTATS && n < sizeof(line); i++) {
        n += snprintf(line + n, sizeof(line) - n, "%s%s=%lld", i ? " " : "",
                      ph_stat_defs[i].log,
                      ph_stat_value(st, &ph_stat_defs[i]));
    }

    ph_log(PH_LOG_INFO, "stats: %s", line);
}
