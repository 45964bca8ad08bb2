/*
 * RESP encoding of the module's XADD, and the reading of its replies, see
 * posthog_resp.h.
 */

#include <limits.h>
#include <string.h>

#include "posthog_resp.h"


/* the event's field as a bulk string; its name is one byte long */
#define POSTHOG_RESP_FIELD_EVENT  "$1\r\n" POSTHOG_STREAM_FIELD_EVENT "\r\n"

typedef char posthog_resp_field_event_len[
    (sizeof(POSTHOG_STREAM_FIELD_EVENT) == 2) ? 1 : -1];


#define posthog_resp_str(p, s)                                               \
    posthog_resp_write_bulk(p, s, sizeof(s) - 1)


/* the decimal digits of n, written backwards before "end" */

static unsigned char *
posthog_resp_digits(unsigned char *end, size_t n)
{
    do {
        *--end = (unsigned char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return end;
}


/*
 * "<type><n>\r\n", the digits written in place (a memcpy() call of a few
 * bytes costs more than the number: this runs twice per event), their
 * count found by comparisons rather than divisions
 */

static unsigned char *
posthog_resp_number(unsigned char *p, unsigned char type, size_t n)
{
    size_t          m, len;
    unsigned char  *end;

    *p++ = type;

    if (n < 10) {
        len = 1;

    } else if (n < 100) {
        len = 2;

    } else if (n < 1000) {
        len = 3;

    } else if (n < 10000) {
        len = 4;

    } else {
        len = 5;

        for (m = n / 100000; m; m /= 10) {
            len++;
        }
    }

    end = p + len;

    (void) posthog_resp_digits(end, n);

    *end++ = '\r';
    *end++ = '\n';

    return end;
}


static inline unsigned char *
posthog_resp_write_bulk(unsigned char *p, const void *data, size_t len)
{
    p = posthog_resp_number(p, '$', len);

    memcpy(p, data, len);
    p += len;
    *p++ = '\r';
    *p++ = '\n';

    return p;
}


unsigned char *
posthog_resp_bulk(unsigned char *p, const void *data, size_t len)
{
    return posthog_resp_write_bulk(p, data, len);
}


unsigned char *
posthog_resp_xadd_prefix(unsigned char *p, const unsigned char *stream,
    size_t stream_len, size_t maxlen)
{
    unsigned char  *d, digits[20];

    p = posthog_resp_number(p, '*', maxlen ? 12 : 9);
    p = posthog_resp_str(p, "XADD");
    p = posthog_resp_write_bulk(p, stream, stream_len);

    if (maxlen) {
        d = posthog_resp_digits(digits + sizeof(digits), maxlen);

        p = posthog_resp_str(p, "MAXLEN");
        p = posthog_resp_str(p, "~");
        p = posthog_resp_write_bulk(p, d,
                                    (size_t) (digits + sizeof(digits) - d));
    }

    p = posthog_resp_str(p, "*");
    p = posthog_resp_str(p, POSTHOG_STREAM_FIELD_VERSION);
    p = posthog_resp_str(p, POSTHOG_STREAM_VERSION);
    p = posthog_resp_str(p, POSTHOG_STREAM_FIELD_TOKEN);

    return p;
}


unsigned char *
posthog_resp_xadd_entry(unsigned char *p, const unsigned char *token,
    size_t token_len, const unsigned char *event, size_t event_len)
{
    p = posthog_resp_write_bulk(p, token, token_len);

    /* the field's name, a constant: "$1\r\ne\r\n" */
    memcpy(p, POSTHOG_RESP_FIELD_EVENT, sizeof(POSTHOG_RESP_FIELD_EVENT) - 1);
    p += sizeof(POSTHOG_RESP_FIELD_EVENT) - 1;

    p = posthog_resp_write_bulk(p, event, event_len);

    return p;
}


/*
 * the "\r" that ends the line at p, NULL: not complete (a plain loop:
 * the lines are short, and a memchr() call costs more)
 */

static const unsigned char *
posthog_resp_line(const unsigned char *p, const unsigned char *last)
{
    for ( /* void */ ; p + 1 < last; p++) {
        if (p[0] == '\r' && p[1] == '\n') {
            return p;
        }
    }

    return NULL;
}


/*
 * A signed decimal as hiredis's string2ll() takes it: "0", or an optional
 * "-" and digits without a leading zero, within a long long.  Returns 0,
 * or -1 when it is not one.
 */

static int
posthog_resp_integer(const unsigned char *p, size_t len, int *negative,
    unsigned long long *value)
{
    size_t              i;
    unsigned long long  v;

    *negative = 0;

    if (len == 1 && p[0] == '0') {
        *value = 0;
        return 0;
    }

    i = 0;

    if (len && p[0] == '-') {
        *negative = 1;
        i = 1;
    }

    if (i == len || p[i] < '1' || p[i] > '9') {
        return -1;
    }

    v = 0;

    for ( /* void */ ; i < len; i++) {
        if (p[i] < '0' || p[i] > '9' || v > (ULLONG_MAX - 9) / 10) {
            return -1;
        }

        v = v * 10 + (unsigned long long) (p[i] - '0');
    }

    if (v > (unsigned long long) LLONG_MAX + *negative) {
        return -1;
    }

    *value = v;

    return 0;
}


int
posthog_resp_reply(const unsigned char *p, size_t n,
    posthog_resp_reply_t *reply, size_t *used)
{
    int                   negative;
    size_t                room;
    unsigned long long    len;
    const unsigned char  *last, *cr, *line;

    if (n == 0) {
        return POSTHOG_RESP_REPLY_AGAIN;
    }

    if (p[0] != '+' && p[0] != '-' && p[0] != ':' && p[0] != '$') {
        return POSTHOG_RESP_REPLY_BAD;
    }

    last = p + n;
    line = p + 1;

    cr = posthog_resp_line(line, last);
    if (cr == NULL) {
        return POSTHOG_RESP_REPLY_AGAIN;
    }

    reply->type = p[0];
    reply->str = line;
    reply->len = (size_t) (cr - line);

    if (p[0] == '+' || p[0] == '-') {
        *used = (size_t) (cr + 2 - p);
        return POSTHOG_RESP_REPLY_OK;
    }

    if (posthog_resp_integer(line, reply->len, &negative, &len) != 0) {
        return POSTHOG_RESP_REPLY_BAD;
    }

    if (p[0] == ':') {
        *used = (size_t) (cr + 2 - p);
        return POSTHOG_RESP_REPLY_OK;
    }

    /* a bulk string: its length, nil (-1), the bytes and two more */

    if (negative) {
        if (len != 1) {
            return POSTHOG_RESP_REPLY_BAD;
        }

        reply->str = NULL;
        reply->len = 0;
        *used = (size_t) (cr + 2 - p);

        return POSTHOG_RESP_REPLY_OK;
    }

    room = (size_t) (last - (cr + 2));

    if (len > room || room - len < 2) {
        return POSTHOG_RESP_REPLY_AGAIN;
    }

    /* like hiredis, the two bytes after the string are not looked at */

    reply->str = cr + 2;
    reply->len = (size_t) len;
    *used = (size_t) (cr + 2 - p) + (size_t) len + 2;

    return POSTHOG_RESP_REPLY_OK;
}


int
posthog_resp_error_transient(const char *err, size_t len)
{
    size_t  n, i;

    static const struct {
        const char  *code;
        size_t       len;
    } codes[] = {
#define posthog_resp_code(s)  { s, sizeof(s) - 1 }
        posthog_resp_code("READONLY"),    /* a replica, e.g. after failover */
        posthog_resp_code("MASTERDOWN"),
        posthog_resp_code("NOREPLICAS"),  /* min-replicas-to-write */
        posthog_resp_code("LOADING"),
        posthog_resp_code("BUSY"),        /* a script runs too long */
        posthog_resp_code("OOM"),         /* maxmemory, noeviction */
        posthog_resp_code("MISCONF"),     /* cannot save, refuses writes */
        posthog_resp_code("NOAUTH"),
        posthog_resp_code("NOPERM"),
        posthog_resp_code("TRYAGAIN"),
        posthog_resp_code("CLUSTERDOWN")
#undef posthog_resp_code
    };

    for (n = 0; n < len; n++) {
        if (err[n] == ' ') {
            break;
        }
    }

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (n == codes[i].len && memcmp(err, codes[i].code, n) == 0) {
            return 1;
        }
    }

    return 0;
}
