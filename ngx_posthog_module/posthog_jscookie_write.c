/*
 * posthog-js's persistence cookie, written in posthog-js's own format:
 * JSON.stringify + encodeURIComponent, and the cookie's name.
 */

#include <string.h>

#include "posthog_jscookie.h"
#include "posthog_utf8.h"


/* the writer: JSON text, percent-encoded as it is written */

typedef struct {
    unsigned char  *p;
    unsigned char  *end;
    int             full;
} ph_out_t;


static void
ph_put(ph_out_t *w, const unsigned char *s, size_t len)
{
    size_t  i;
    int     c;

    static const char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < len; i++) {
        c = s[i];

        /* encodeURIComponent's unreserved set */

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '!' || c == '~' || c == '*' || c == '\'' || c == '('
            || c == ')')
        {
            if (w->end - w->p < 1) {
                w->full = 1;
                return;
            }

            *w->p++ = (unsigned char) c;
            continue;
        }

        if (w->end - w->p < 3) {
            w->full = 1;
            return;
        }

        *w->p++ = '%';
        *w->p++ = (unsigned char) hex[c >> 4];
        *w->p++ = (unsigned char) hex[c & 0xf];
    }
}


static void
ph_puts(ph_out_t *w, const char *s)
{
    ph_put(w, (const unsigned char *) s, strlen(s));
}


/* a JSON string as JSON.stringify writes it; "s" is valid UTF-8 */

static void
ph_put_string(ph_out_t *w, const unsigned char *s, size_t len)
{
    size_t         i;
    unsigned char  e[6];

    static const char  hex[] = "0123456789abcdef";

    ph_puts(w, "\"");

    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '"':  ph_puts(w, "\\\""); continue;
        case '\\': ph_puts(w, "\\\\"); continue;
        case '\b': ph_puts(w, "\\b"); continue;
        case '\f': ph_puts(w, "\\f"); continue;
        case '\n': ph_puts(w, "\\n"); continue;
        case '\r': ph_puts(w, "\\r"); continue;
        case '\t': ph_puts(w, "\\t"); continue;
        }

        if (s[i] < 0x20) {
            e[0] = '\\';
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = (unsigned char) hex[s[i] >> 4];
            e[5] = (unsigned char) hex[s[i] & 0xf];
            ph_put(w, e, 6);
            continue;
        }

        ph_put(w, s + i, 1);
    }

    ph_puts(w, "\"");
}


static void
ph_put_uint(ph_out_t *w, uint64_t n)
{
    unsigned char  buf[24], *p;

    p = buf + sizeof(buf);

    do {
        *--p = (unsigned char) ('0' + n % 10);
        n /= 10;
    } while (n);

    ph_put(w, p, (size_t) (buf + sizeof(buf) - p));
}


/* new Date(ms).toISOString(): "2026-11-28T20:16:40.767Z" */

static void
ph_put_iso(ph_out_t *w, uint64_t ms)
{
    int            i;
    char           buf[32];
    uint64_t       days, secs, y, m, d, doe, yoe, doy, mp, era;
    unsigned int   v[7];

    days = ms / 86400000;
    secs = (ms / 1000) % 86400;

    /* H. Hinnant's civil_from_days, for days since 1970-01-01 >= 0 */

    days += 719468;
    era = days / 146097;
    doe = days - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += (m <= 2);

    v[0] = (unsigned int) (y % 10000);
    v[1] = (unsigned int) m;
    v[2] = (unsigned int) d;
    v[3] = (unsigned int) (secs / 3600);
    v[4] = (unsigned int) (secs / 60 % 60);
    v[5] = (unsigned int) (secs % 60);
    v[6] = (unsigned int) (ms % 1000);

    i = 0;
    buf[i++] = '"';
    buf[i++] = (char) ('0' + v[0] / 1000);
    buf[i++] = (char) ('0' + v[0] / 100 % 10);
    buf[i++] = (char) ('0' + v[0] / 10 % 10);
    buf[i++] = (char) ('0' + v[0] % 10);
    buf[i++] = '-';
    buf[i++] = (char) ('0' + v[1] / 10);
    buf[i++] = (char) ('0' + v[1] % 10);
    buf[i++] = '-';
    buf[i++] = (char) ('0' + v[2] / 10);
    buf[i++] = (char) ('0' + v[2] % 10);
    buf[i++] = 'T';
    buf[i++] = (char) ('0' + v[3] / 10);
    buf[i++] = (char) ('0' + v[3] % 10);
    buf[i++] = ':';
    buf[i++] = (char) ('0' + v[4] / 10);
    buf[i++] = (char) ('0' + v[4] % 10);
    buf[i++] = ':';
    buf[i++] = (char) ('0' + v[5] / 10);
    buf[i++] = (char) ('0' + v[5] % 10);
    buf[i++] = '.';
    buf[i++] = (char) ('0' + v[6] / 100);
    buf[i++] = (char) ('0' + v[6] / 10 % 10);
    buf[i++] = (char) ('0' + v[6] % 10);
    buf[i++] = 'Z';
    buf[i++] = '"';

    ph_put(w, (unsigned char *) buf, (size_t) i);
}


/* {"r":ref,"u":url} */

static void
ph_put_touch(ph_out_t *w, const unsigned char *ref, size_t ref_len,
    const unsigned char *url, size_t url_len)
{
    ph_puts(w, "{\"r\":");
    ph_put_string(w, ref, ref_len);
    ph_puts(w, ",\"u\":");
    ph_put_string(w, url, url_len);
    ph_puts(w, "}");
}


size_t
posthog_jscookie_encode(unsigned char *out, size_t max,
    const posthog_jscookie_out_t *o)
{
    size_t     i, start, n;
    ph_out_t   w;
    const posthog_jscookie_span_t  *k;

    if (posthog_id_check(o->id, o->id_len, &start, &n) != POSTHOG_ID_OK
        || start != 0 || n != o->id_len
        || !posthog_uuid_valid(o->device, POSTHOG_UUID_LEN)
        || (o->session
            && (!posthog_uuid_v7_valid(o->session, POSTHOG_UUID_LEN)
                || o->session_start == 0
                || o->session_start > o->session_last
                || o->session_last > POSTHOG_JSCOOKIE_MS_MAX))
        || (o->entry_url
            && (!posthog_utf8_valid(o->entry_url, o->entry_url_len)
                || !posthog_utf8_valid(o->entry_ref, o->entry_ref_len)))
        || (o->initial_url
            && (!posthog_utf8_valid(o->initial_url, o->initial_url_len)
                || !posthog_utf8_valid(o->initial_ref, o->initial_ref_len)))
        || o->reset > POSTHOG_JSCOOKIE_MS_MAX)
    {
        return 0;
    }

    w.p = out;
    w.end = out + max;
    w.full = 0;

    /* in the order posthog-js writes a first visit's cookie */

    ph_puts(&w, "{\"distinct_id\":");
    ph_put_string(&w, o->id, o->id_len);
    ph_puts(&w, ",\"$device_id\":");
    ph_put_string(&w, o->device, POSTHOG_UUID_LEN);
    ph_puts(&w, ",\"$user_state\":");
    ph_puts(&w, o->identified ? "\"identified\"" : "\"anonymous\"");

    if (o->initial_url) {
        ph_puts(&w, ",\"$initial_person_info\":");
        ph_put_touch(&w, o->initial_ref, o->initial_ref_len,
                     o->initial_url, o->initial_url_len);
    }

    if (o->session) {
        ph_puts(&w, ",\"$sesid\":[");
        ph_put_uint(&w, o->session_last);
        ph_puts(&w, ",");
        ph_put_string(&w, o->session, POSTHOG_UUID_LEN);
        ph_puts(&w, ",");
        ph_put_uint(&w, o->session_start);
        ph_puts(&w, "]");

        if (o->entry_url) {
            ph_puts(&w, ",\"$client_session_props\":{\"sessionId\":");
            ph_put_string(&w, o->session, POSTHOG_UUID_LEN);
            ph_puts(&w, ",\"props\":");
            ph_put_touch(&w, o->entry_ref, o->entry_ref_len,
                         o->entry_url, o->entry_url_len);
            ph_puts(&w, "}");
        }
    }

    if (o->reset) {
        ph_puts(&w, ",\"$last_posthog_reset\":");
        ph_put_iso(&w, o->reset);
    }

    if (o->identified) {
        ph_puts(&w, ",\"$epp\":true,\"$user_id\":");
        ph_put_string(&w, o->id, o->id_len);
    }

    /* posthog-js's other members, as it wrote them (checked JSON) */

    if (o->keep) {
        for (i = 0; i < o->keep->nkeep; i++) {
            k = &o->keep->keep[i];

            if (k->len > o->keep->json_len
                || k->off > o->keep->json_len - k->len)
            {
                return 0;
            }

            /* ours, written above (or stale if anonymous now) */

            if (k->kind == POSTHOG_JSCOOKIE_USER_ID
                || k->kind == POSTHOG_JSCOOKIE_EPP
                || (k->kind == POSTHOG_JSCOOKIE_INITIAL && o->initial_url)
                || (k->kind == POSTHOG_JSCOOKIE_RESET && o->reset))
            {
                continue;
            }

            ph_puts(&w, ",");
            ph_put(&w, o->keep->json + k->off, k->len);
        }
    }

    ph_puts(&w, "}");

    if (w.full) {
        return 0;
    }

    return (size_t) (w.p - out);
}


size_t
posthog_jscookie_name(unsigned char *out, const unsigned char *token,
    size_t len)
{
    size_t          i;
    unsigned char  *p;

    p = out;
    memcpy(p, "ph_", 3);
    p += 3;

    for (i = 0; i < len; i++) {
        switch (token[i]) {
        case '+':
            *p++ = 'P';
            *p++ = 'L';
            break;
        case '/':
            *p++ = 'S';
            *p++ = 'L';
            break;
        case '=':
            *p++ = 'E';
            *p++ = 'Q';
            break;
        default:
            *p++ = token[i];
        }
    }

    memcpy(p, "_posthog", 8);
    p += 8;

    return (size_t) (p - out);
}

