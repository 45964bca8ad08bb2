/*
 * The /batch/ request body:
 *
 *   {"api_key":"<token>","sent_at":"<now>","batch":[<event>,<event>...]}
 *
 * The events are the JSON texts the module wrote, concatenated as they are:
 * the shipper never parses them. sent_at is taken at build time, and a body
 * is built for every attempt, so a retried batch carries a fresh sent_at
 * (PostHog corrects each event's timestamp by now - sent_at).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "shipper.h"


/* dst must hold 6 * len bytes; returns the bytes written */

size_t
ph_json_escape(char *dst, const char *src, size_t len)
{
    size_t          i;
    char           *p;
    unsigned char   c;
    static const char  hex[] = "0123456789abcdef";

    p = dst;

    for (i = 0; i < len; i++) {
        c = (unsigned char) src[i];

        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char) c;

        } else if (c < 0x20 || c == 0x7f) {
            *p++ = '\\';
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];

        } else {
            *p++ = (char) c;
        }
    }

    return p - dst;
}


#define PH_BODY_HEAD1  "{\"api_key\":\""
#define PH_BODY_HEAD2  "\",\"sent_at\":\""
#define PH_BODY_HEAD3  "\",\"batch\":["
#define PH_BODY_TAIL   "]}"
#define PH_SENT_AT_LEN 24


/* bytes of a body with no event and no comma (an upper bound for the
 * escaped token) */

size_t
ph_body_overhead(ph_token_t *t)
{
    return sizeof(PH_BODY_HEAD1) - 1 + 6 * t->len + sizeof(PH_BODY_HEAD2) - 1
           + PH_SENT_AT_LEN + sizeof(PH_BODY_HEAD3) - 1
           + sizeof(PH_BODY_TAIL) - 1;
}


int
ph_body_build(ph_token_t *t, size_t off, size_t len, char **buf,
    size_t *size, size_t *blen)
{
    char        *p, *nb, now[25];
    size_t       i, need;
    ph_entry_t  *e;

    need = ph_body_overhead(t) + 1;
    for (i = 0; i < len; i++) {
        need += t->q[t->head + off + i].len + 1;
    }

    if (need > *size) {
        nb = realloc(*buf, need);
        if (nb == NULL) {
            return -1;
        }
        *buf = nb;
        *size = need;
    }

    ph_iso_now(now);

    p = *buf;
    memcpy(p, PH_BODY_HEAD1, sizeof(PH_BODY_HEAD1) - 1);
    p += sizeof(PH_BODY_HEAD1) - 1;
    p += ph_json_escape(p, t->token, t->len);
    memcpy(p, PH_BODY_HEAD2, sizeof(PH_BODY_HEAD2) - 1);
    p += sizeof(PH_BODY_HEAD2) - 1;
    memcpy(p, now, PH_SENT_AT_LEN);
    p += PH_SENT_AT_LEN;
    memcpy(p, PH_BODY_HEAD3, sizeof(PH_BODY_HEAD3) - 1);
    p += sizeof(PH_BODY_HEAD3) - 1;

    for (i = 0; i < len; i++) {
        e = &t->q[t->head + off + i];
        if (i) {
            *p++ = ',';
        }
        memcpy(p, e->event, e->len);
        p += e->len;
    }

    memcpy(p, PH_BODY_TAIL, sizeof(PH_BODY_TAIL) - 1);
    p += sizeof(PH_BODY_TAIL) - 1;

    *blen = p - *buf;

    return 0;
}


int
ph_gzip(const char *src, size_t len, char **dst, size_t *dsize, size_t *dlen)
{
    int        rc;
    char      *nb;
    size_t     need;
    z_stream   z;

    memset(&z, 0, sizeof(z));

    /* 15 + 16: a gzip header and trailer, as Content-Encoding: gzip wants */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        != Z_OK)
    {
        return -1;
    }

    need = deflateBound(&z, len);
    if (need > *dsize) {
        nb = realloc(*dst, need);
        if (nb == NULL) {
            deflateEnd(&z);
            return -1;
        }
        *dst = nb;
        *dsize = need;
    }

    z.next_in = (Bytef *) src;
    z.avail_in = (uInt) len;
    z.next_out = (Bytef *) *dst;
    z.avail_out = (uInt) *dsize;

    rc = deflate(&z, Z_FINISH);
    *dlen = z.total_out;
    deflateEnd(&z);

    return rc == Z_STREAM_END ? 0 : -1;
}
