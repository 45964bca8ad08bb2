/*
 * RESP encoding of the module's XADD, see posthog_resp.h.
 */

#include <string.h>

#include "posthog_resp.h"


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
 * bytes costs more than the number: this runs three times per event)
 */

static unsigned char *
posthog_resp_number(unsigned char *p, unsigned char type, size_t n)
{
    size_t          m;
    unsigned char  *end;

    *p++ = type;

    end = p;
    m = n;

    do {
        end++;
        m /= 10;
    } while (m);

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
    p = posthog_resp_str(p, POSTHOG_STREAM_FIELD_EVENT);
    p = posthog_resp_write_bulk(p, event, event_len);

    return p;
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
