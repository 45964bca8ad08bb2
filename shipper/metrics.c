/*
 * The counters, as a periodic log line and as Prometheus text at /metrics.
 *
 * The listener is a few non-blocking sockets polled by the main loop (from
 * curl_multi_wait while a request is in flight, from poll() otherwise). A
 * scrape is answered from memory, with the group's pending/lag as of the
 * last XINFO GROUPS (refreshed every few seconds by the loop).
 */

#define _GNU_SOURCE          /* accept4 */

#include <errno.h>
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
};


ph_metrics_t *
ph_metrics_create(const char *addr, int port)
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
ph_metrics_text(ph_shipper_t *sh, char *buf, size_t size)
{
    size_t       n;
    ph_stats_t  *s;

    s = &sh->st;
    n = 0;

#define PH_M(name, type, help, fmt, ...)                                    \
    n += snprintf(buf + n, size - n,                                        \
                  "# HELP posthog_shipper_" name " " help "\n"              \
                  "# TYPE posthog_shipper_" name " " type "\n"              \
                  "posthog_shipper_" name fmt "\n", __VA_ARGS__);           \
    if (n >= size) { return size - 1; }

    PH_M("events_read_total", "counter", "Stream entries read.",
         " %llu", (unsigned long long) s->read)
    PH_M("events_delivered_total", "counter",
         "Events acknowledged after a 2xx (or written to --output).",
         " %llu", (unsigned long long) s->delivered)
    PH_M("events_retried_total", "counter",
         "Events in requests that failed and will be retried.",
         " %llu", (unsigned long long) s->retried)
    PH_M("events_dead_lettered_total", "counter",
         "Events moved to the dead-letter stream.",
         " %llu", (unsigned long long) s->dead)
    PH_M("events_trimmed_total", "counter",
         "Pending entries found trimmed from the stream (lost).",
         " %llu", (unsigned long long) s->trimmed)
    PH_M("events_claimed_total", "counter",
         "Entries taken over from idle consumers with XAUTOCLAIM.",
         " %llu", (unsigned long long) s->claimed)
    PH_M("events_auth_held_total", "counter",
         "Events left pending because their token got 401/403.",
         " %llu", (unsigned long long) s->auth_released)
    PH_M("batches_total", "counter", "Batches delivered.",
         " %llu", (unsigned long long) s->batches)
    PH_M("batch_splits_total", "counter",
         "Batches split in halves after a 400 or 413.",
         " %llu", (unsigned long long) s->splits)
    PH_M("requests_total", "counter", "HTTP requests made.",
         " %llu", (unsigned long long) s->requests)

    n += snprintf(buf + n, size - n,
        "# HELP posthog_shipper_responses_total HTTP outcomes by class.\n"
        "# TYPE posthog_shipper_responses_total counter\n"
        "posthog_shipper_responses_total{class=\"2xx\"} %llu\n"
        "posthog_shipper_responses_total{class=\"4xx\"} %llu\n"
        "posthog_shipper_responses_total{class=\"5xx\"} %llu\n"
        "posthog_shipper_responses_total{class=\"other\"} %llu\n"
        "posthog_shipper_responses_total{class=\"network\"} %llu\n",
        (unsigned long long) s->http_2xx, (unsigned long long) s->http_4xx,
        (unsigned long long) s->http_5xx, (unsigned long long) s->http_other,
        (unsigned long long) s->http_network);
    if (n >= size) {
        return size - 1;
    }

    PH_M("request_bytes_total", "counter", "Request body bytes sent.",
         " %llu", (unsigned long long) s->http_bytes)
    PH_M("auth_failures_total", "counter", "401/403 answers.",
         " %llu", (unsigned long long) s->auth_failures)
    PH_M("ack_errors_total", "counter",
         "XACKs that failed (the entries will be delivered again).",
         " %llu", (unsigned long long) s->ack_errors)
    PH_M("redis_errors_total", "counter", "Redis errors and reconnects.",
         " %llu", (unsigned long long) s->redis_errors)
    PH_M("duplicates_total", "counter",
         "Entries read again while already held.",
         " %llu", (unsigned long long) s->duplicates)
    PH_M("held_events", "gauge", "Events held in memory.",
         " %zu", sh->held)
    PH_M("group_pending", "gauge",
         "Entries delivered to the group's consumers and not acknowledged.",
         " %lld", s->pending)
    PH_M("group_lag", "gauge",
         "Entries not yet read by the group (-1: unknown).",
         " %lld", s->lag)
    PH_M("stream_length", "gauge", "XLEN of the stream.",
         " %lld", s->stream_len)
    PH_M("redis_connected", "gauge", "1 when connected to Redis.",
         " %d", sh->redis != NULL)

#undef PH_M

    return n;
}


static void
ph_metrics_answer(ph_shipper_t *sh, ph_mclient_t *c)
{
    int      flags;
    char     head[256], *body;
    size_t   blen, hlen, off;
    ssize_t  w;

    body = malloc(16384);
    if (body == NULL) {
        return;
    }

    if (strncmp(c->buf, "GET /metrics ", 13) == 0
        || strncmp(c->buf, "GET /metrics?", 13) == 0
        || strncmp(c->buf, "GET / ", 6) == 0)
    {
        if (sh->redis) {
            ph_redis_info(sh);
        }
        blen = ph_metrics_text(sh, body, 16384);
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
ph_metrics_serve(ph_metrics_t *m, ph_shipper_t *sh, const int *ready, int n)
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

                ph_metrics_answer(sh, c);
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
ph_metrics_poll(ph_metrics_t *m, ph_shipper_t *sh, int timeout)
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

    ph_metrics_serve(m, sh, ready, nready);
}


void
ph_stats_log(ph_shipper_t *sh)
{
    ph_stats_t  *s;

    s = &sh->st;

    ph_log(PH_LOG_INFO, "stats: read=%llu delivered=%llu retried=%llu "
           "dead_lettered=%llu trimmed=%llu claimed=%llu batches=%llu "
           "requests=%llu http_2xx=%llu http_4xx=%llu http_5xx=%llu "
           "http_other=%llu http_network=%llu auth_failures=%llu "
           "held=%zu pending=%lld lag=%lld stream_length=%lld",
           (unsigned long long) s->read, (unsigned long long) s->delivered,
           (unsigned long long) s->retried, (unsigned long long) s->dead,
           (unsigned long long) s->trimmed, (unsigned long long) s->claimed,
           (unsigned long long) s->batches, (unsigned long long) s->requests,
           (unsigned long long) s->http_2xx, (unsigned long long) s->http_4xx,
           (unsigned long long) s->http_5xx,
           (unsigned long long) s->http_other,
           (unsigned long long) s->http_network,
           (unsigned long long) s->auth_failures, sh->held, s->pending,
           s->lag, s->stream_len);
}
