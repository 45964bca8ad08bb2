/*
 * The upstream's signals: X-PostHog-* headers of its response, read by
 * the identity's header filter (ngx_http_posthog_identity.c) and never
 * passed to the client.
 */


#include "ngx_http_posthog.h"


/*
 * X-PostHog-* headers of the upstream's response: always removed from what
 * the client sees; acted upon only with "posthog_signals on", because
 * whoever can set them can make anyone's browser anyone's person.
 *
 *   X-PostHog-Identify: <distinct id>
 *   X-PostHog-Reset: 1 | device
 *   X-PostHog-Event: <event name>            (may be repeated)
 *   X-PostHog-Property-<name>: <value>       (properties of those events)
 */

ngx_int_t
ngx_http_posthog_signals(ngx_http_request_t *r, ngx_http_posthog_ctx_t *ctx,
    ngx_http_posthog_loc_conf_t *plcf, ngx_str_t *identify, ngx_uint_t *reset)
{
    u_char                     *p;
    size_t                      n;
    ngx_str_t                  *ev, *v, key;
    ngx_uint_t                  i, k;
    ngx_list_part_t            *part;
    ngx_table_elt_t            *h;
    ngx_http_posthog_member_t  *m;

    static const u_char  prefix[] = "x-posthog-";
    static const u_char  property[] = "property-";

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0
            || h[i].key.len <= sizeof(prefix) - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) prefix,
                               sizeof(prefix) - 1) != 0)
        {
            continue;
        }

        h[i].hash = 0;

        /*
         * A response from the cache was meant for whoever the upstream
         * answered then: its signals would make every visitor that user.
         */

        if (!plcf->signals || r->cached) {
            continue;
        }

        p = h[i].key.data + sizeof(prefix) - 1;
        n = h[i].key.len - (sizeof(prefix) - 1);

        if (n == 8 && ngx_strncasecmp(p, (u_char *) "identify", 8) == 0) {
            *identify = h[i].value;

        } else if (n == 5 && ngx_strncasecmp(p, (u_char *) "reset", 5) == 0) {
            v = &h[i].value;

            if (v->len == 6
                && ngx_strncasecmp(v->data, (u_char *) "device", 6) == 0)
            {
                *reset = NGX_HTTP_POSTHOG_RESET_DEVICE;

            } else if ((v->len == 1 && v->data[0] == '1')
                       || (v->len == 4
                           && ngx_strncasecmp(v->data, (u_char *) "true", 4)
                              == 0))
            {
                *reset = NGX_HTTP_POSTHOG_RESET_ON;
            }

        } else if (n == 5 && ngx_strncasecmp(p, (u_char *) "event", 5) == 0) {
            if (h[i].value.len == 0) {
                continue;
            }

            if (ctx->signal_events == NULL) {
                ctx->signal_events = ngx_array_create(r->pool, 1,
                                                      sizeof(ngx_str_t));
                if (ctx->signal_events == NULL) {
                    return NGX_ERROR;
                }
            }

            ev = ngx_array_push(ctx->signal_events);
            if (ev == NULL) {
                return NGX_ERROR;
            }

            *ev = h[i].value;

        } else if (n > sizeof(property) - 1
                   && ngx_strncasecmp(p, (u_char *) property,
                                      sizeof(property) - 1) == 0)
        {
            if (ctx->signal_props == NULL) {
                ctx->signal_props = ngx_array_create(r->pool, 4,
                                            sizeof(ngx_http_posthog_member_t));
                if (ctx->signal_props == NULL) {
                    return NGX_ERROR;
                }
            }

            /* the name as JSON: lower case, [a-z0-9_-] only (a header's) */

            p += sizeof(property) - 1;
            n -= sizeof(property) - 1;

            key.data = ngx_pnalloc(r->pool, n);
            if (key.data == NULL) {
                return NGX_ERROR;
            }

            key.len = n;
            ngx_strlow(key.data, p, n);

            for (p = key.data; p < key.data + n; p++) {
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                      || *p == '_' || *p == '-'))
                {
                    *p = '_';
                }
            }

            /* one name once in the JSON: the last header wins */

            m = ctx->signal_props->elts;

            for (k = 0; k < ctx->signal_props->nelts; k++) {
                if (m[k].key.len == n
                    && ngx_memcmp(m[k].key.data, key.data, n) == 0)
                {
                    break;
                }
            }

            if (k == ctx->signal_props->nelts) {
                m = ngx_array_push(ctx->signal_props);
                if (m == NULL) {
                    return NGX_ERROR;
                }

            } else {
                m = &m[k];
            }

            ngx_memzero(m, sizeof(ngx_http_posthog_member_t));

            m->key = key;
            m->value = h[i].value;
            m->max = NGX_HTTP_POSTHOG_VALUE_MAX;
            m->cut = NGX_HTTP_POSTHOG_CUT_CUSTOM;
        }
    }

    return NGX_OK;
}


/* when the identity failed: the signal headers still never reach a client */

void
ngx_http_posthog_strip_signals(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len > sizeof("x-posthog-") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "x-posthog-",
                               sizeof("x-posthog-") - 1) == 0)
        {
            h[i].hash = 0;
        }
    }
}
