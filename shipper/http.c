/*
 * One POST /batch/ at a time through libcurl's multi interface, so that
 * waiting for PostHog also notices signals and the caller's descriptors
 * (curl_multi_wait takes them; the loop serves what became readable).
 * One easy handle is reused: the connection to PostHog stays open between
 * batches.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "shipper.h"


struct ph_http_s {
    CURLM              *multi;
    CURL               *easy;
    struct curl_slist  *plain;
    struct curl_slist  *gzipped;
    int                 busy;
    char                errbuf[CURL_ERROR_SIZE];
    char                resp[PH_REASON_MAX];
    size_t              resp_len;
    long                retry_after;
};


static size_t
ph_http_write(char *ptr, size_t size, size_t nmemb, void *data)
{
    size_t      n, room;
    ph_http_t  *h;

    h = data;
    n = size * nmemb;
    room = sizeof(h->resp) - 1 - h->resp_len;

    /* keep an excerpt for the log and the dead-letter reason */
    memcpy(h->resp + h->resp_len, ptr, n < room ? n : room);
    h->resp_len += n < room ? n : room;

    return n;
}


static size_t
ph_http_header(char *ptr, size_t size, size_t nmemb, void *data)
{
    long        v;
    size_t      n;
    ph_http_t  *h;

    h = data;
    n = size * nmemb;

    if (n > 12 && strncasecmp(ptr, "Retry-After:", 12) == 0) {
        v = ph_policy_retry_after(ptr + 12, n - 12);
        if (v >= 0) {
            h->retry_after = v;
        }
    }

    return n;
}


ph_http_t *
ph_http_create(ph_conf_t *cf)
{
    ph_http_t  *h;

    h = calloc(1, sizeof(ph_http_t));
    if (h == NULL) {
        return NULL;
    }

    h->multi = curl_multi_init();
    h->easy = curl_easy_init();
    if (h->multi == NULL || h->easy == NULL) {
        ph_http_destroy(h);
        return NULL;
    }

    h->plain = curl_slist_append(NULL, "Content-Type: application/json");
    h->plain = curl_slist_append(h->plain, "Expect:");
    h->gzipped = curl_slist_append(NULL, "Content-Type: application/json");
    h->gzipped = curl_slist_append(h->gzipped, "Content-Encoding: gzip");
    h->gzipped = curl_slist_append(h->gzipped, "Expect:");

    curl_easy_setopt(h->easy, CURLOPT_URL, cf->url);
    curl_easy_setopt(h->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(h->easy, CURLOPT_USERAGENT,
                     "posthog-shipper/" PH_SHIPPER_VERSION);
    curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, cf->timeout);
    curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT_MS,
                     cf->timeout < 5000 ? cf->timeout : 5000L);
    curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, ph_http_write);
    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->easy, CURLOPT_HEADERFUNCTION, ph_http_header);
    curl_easy_setopt(h->easy, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(h->easy, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h->easy, CURLOPT_PROTOCOLS,
                     (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif

    return h;
}


void
ph_http_destroy(ph_http_t *h)
{
    if (h == NULL) {
        return;
    }

    ph_http_abort(h);

    if (h->easy) {
        curl_easy_cleanup(h->easy);
    }
    if (h->multi) {
        curl_multi_cleanup(h->multi);
    }

    curl_slist_free_all(h->plain);
    curl_slist_free_all(h->gzipped);
    free(h);
}


/* body must stay valid until the request ended (CURLOPT_POSTFIELDS does
 * not copy) */

int
ph_http_start(ph_http_t *h, const char *body, size_t len, int gzipped)
{
    h->errbuf[0] = '\0';
    h->resp_len = 0;
    h->resp[0] = '\0';
    h->retry_after = -1;

    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER,
                     gzipped ? h->gzipped : h->plain);
    curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);

    if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK) {
        return -1;
    }

    h->busy = 1;

    return 0;
}


int
ph_http_wait(ph_http_t *h, const int *fds, int nfds, int *ready, int *nready,
    int timeout, ph_http_result_t *res)
{
    int                  running, i, n;
    long                 status;
    size_t               k;
    CURLMsg             *msg;
    CURLcode             cc;
    struct curl_waitfd   wfd[32];

    *nready = 0;

    curl_multi_perform(h->multi, &running);

    msg = curl_multi_info_read(h->multi, &n);

    if (msg == NULL || msg->msg != CURLMSG_DONE) {
        nfds = nfds < 32 ? nfds : 32;

        for (i = 0; i < nfds; i++) {
            wfd[i].fd = fds[i];
            wfd[i].events = CURL_WAIT_POLLIN;
            wfd[i].revents = 0;
        }

        curl_multi_wait(h->multi, wfd, nfds, timeout, NULL);

        for (i = 0; i < nfds; i++) {
            if (wfd[i].revents) {
                ready[(*nready)++] = wfd[i].fd;
            }
        }

        curl_multi_perform(h->multi, &running);
        msg = curl_multi_info_read(h->multi, &n);

        if (msg == NULL || msg->msg != CURLMSG_DONE) {
            return 0;
        }
    }

    cc = msg->data.result;
    curl_multi_remove_handle(h->multi, h->easy);
    h->busy = 0;

    memset(res, 0, sizeof(ph_http_result_t));
    res->retry_after = h->retry_after;

    /* an excerpt fit for one log line */
    for (k = 0; k < h->resp_len; k++) {
        res->body[k] = (h->resp[k] == '\n' || h->resp[k] == '\r'
                        || h->resp[k] == '\0') ? ' ' : h->resp[k];
    }
    res->body[k] = '\0';

    if (cc != CURLE_OK) {
        res->status = 0;
        snprintf(res->error, sizeof(res->error), "%s",
                 h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
        return 1;
    }

    status = 0;
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
    res->status = status;

    return 1;
}


void
ph_http_abort(ph_http_t *h)
{
    if (h->busy) {
        curl_multi_remove_handle(h->multi, h->easy);
        h->busy = 0;
    }
}
