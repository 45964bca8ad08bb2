/*
 * The identity cookie: reading and checking the state it carries, and
 * writing it back.  The value's grammar is in posthog_state.h.
 */


#include "ngx_http_posthog.h"
#include "posthog_cookie.h"
#include "posthog_seen.h"


#define NGX_HTTP_POSTHOG_COOKIE_MAX_AGE  (400 * 24 * 60 * 60)


static void ngx_http_posthog_free_secret(void *data);
static u_char *ngx_http_posthog_cookie_num(u_char *p, time_t n);
static u_char *ngx_http_posthog_cookie_expires(u_char *p, time_t t);


/* browsers take today's defaults: first-party, a year, SameSite=Lax */

static ngx_http_posthog_cookie_conf_t  ngx_http_posthog_default_cookie = {
    ngx_string("ph_id"),
    ngx_null_string,
    ngx_string("/"),
    365 * 24 * 60 * 60,
    NGX_HTTP_POSTHOG_SECURE_AUTO,
    NGX_HTTP_POSTHOG_SAMESITE_LAX,
    0
};


/*
 * A signed value verified once is taken as verified while it stays in the
 * worker's small set (its exact bytes, for this very key): a returning
 * visitor's cookie costs one HMAC per worker, not one per request.
 */

static int
ngx_http_posthog_decode(ngx_http_posthog_loc_conf_t *plcf,
    posthog_state_t *st, const u_char *v, size_t len)
{
    int  rc;

    static posthog_seen_t  verified;

    if (plcf->secret == NULL) {
        return posthog_state_decode(st, v, len, NULL);
    }

    if (posthog_seen_has(&verified, plcf->secret, v, len)) {
        return posthog_state_decode(st, v, len, NULL);
    }

    rc = posthog_state_decode(st, v, len, plcf->secret);

    if (rc == POSTHOG_STATE_OK) {
        posthog_seen_add(&verified, plcf->secret, v, len);
    }

    return rc;
}


/*
 * Reads the state from the cookie into ctx->st.  NGX_DECLINED when there
 * is none that can be trusted: absent, malformed, unsigned or forged.
 * The value itself is never logged: it is the client's input.
 *
 * Two cookies of our name (one set by a sibling subdomain, or for another
 * path) are not a reason to churn identities: the first that decodes
 * (with a secret: the first signed for this site) is taken.
 */

ngx_int_t
ngx_http_posthog_read_cookie(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx)
{
    int               rc, first, cnt;
    size_t            len, vlen;
    ngx_int_t         n;
    ngx_str_t        *name;
    const u_char     *v, *p, *end;
    ngx_table_elt_t  *h;
#if (nginx_version < 1023000)
    ngx_uint_t        i;
    ngx_table_elt_t **hh;
#endif

    static ngx_http_posthog_limit_t  dup_limit, bad_limit, exp_limit;

    name = &plcf->cookie->name;
    n = 0;
    len = 0;
    first = POSTHOG_STATE_OK;
    rc = POSTHOG_STATE_BAD_FORMAT;

#if (nginx_version >= 1023000)

    for (h = r->headers_in.cookie; h; h = h->next) {

#else

    hh = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = hh[i];

#endif
        p = h->value.data;
        end = h->value.data + h->value.len;

        while (p < end) {
            v = NULL;

            /* "cnt": the pairs of our name from "p" on, "v" the first */

            cnt = posthog_cookie_find(p, end - p, name->data, name->len,
                                      &v, &vlen);
            if (cnt == 0) {
                break;
            }

            /* once one decoded, the rest are only counted */

            if (rc == POSTHOG_STATE_OK) {
                n += cnt;
                break;
            }

            rc = ngx_http_posthog_decode(plcf, &ctx->st, v, vlen);

            if (rc == POSTHOG_STATE_OK) {
                n += cnt;
                break;
            }

            n++;
            p = v + vlen;

            if (first == POSTHOG_STATE_OK) {
                first = rc;
                len = vlen;
            }
        }
    }

    if (n == 0) {
        return NGX_DECLINED;
    }

    if (n > 1) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_DUPLICATE_COOKIES, 1);
        ngx_http_posthog_log_limited(&dup_limit, NGX_LOG_INFO,
                                     r->connection->log,
                                     "client sent the \"%V\" cookie %i "
                                     "times, %s", name, n,
                                     rc == POSTHOG_STATE_OK
                                     ? "the first valid one is used"
                                     : "none is valid");
    }

    if (rc != POSTHOG_STATE_OK) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BAD_COOKIES, 1);
        ngx_http_posthog_log_limited(&bad_limit, NGX_LOG_INFO,
                                     r->connection->log,
                                     "client sent an invalid \"%V\" cookie "
                                     "(%uz bytes, %s), a new id is issued",
                                     name, len, posthog_state_reason(first));
        return NGX_DECLINED;
    }

    /*
     * A signed identified state is trusted for the cookie's max_age from
     * the identify that made it, not forever: a cookie captured once
     * stops naming its user.  It is replaced as a whole: its anonymous id
     * was merged into that user's person.
     */

    if (plcf->secret && ctx->st.user_len
        && ctx->st.issued + plcf->cookie->max_age < (uint64_t) ngx_time())
    {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_EXPIRED, 1);
        ngx_http_posthog_log_limited(&exp_limit, NGX_LOG_INFO,
                                     r->connection->log,
                                     "an identified \"%V\" cookie is past "
                                     "its max_age, a new id is issued", name);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The first touch of a state read from the cookie, checked where it is
 * first needed (see posthog_state_first()).  A malformed one is dropped:
 * the rest of the state is good, and only an unsigned cookie can carry
 * one (a signed FIRST is ours, checked when it was written).
 */

void
ngx_http_posthog_state_first(ngx_http_request_t *r, posthog_state_t *st)
{
    static ngx_http_posthog_limit_t  first_limit;

    if (st->first_text == NULL) {
        return;
    }

    if (posthog_state_first(st) != POSTHOG_STATE_OK) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BAD_COOKIES, 1);
        ngx_http_posthog_log_limited(&first_limit, NGX_LOG_INFO,
                                     r->connection->log,
                                     "client sent an identity cookie with "
                                     "a malformed first touch, the touch "
                                     "is dropped");
    }
}


ngx_int_t
ngx_http_posthog_set_cookie(ngx_http_request_t *r,
    ngx_http_posthog_loc_conf_t *plcf, ngx_http_posthog_ctx_t *ctx)
{
    u_char                          *cookie, *p;
    size_t                           len, n;
    ngx_http_posthog_cookie_conf_t  *cc;

    cc = plcf->cookie;

    ngx_http_posthog_state_first(r, &ctx->st);

    len = cc->name.len + 1
          + posthog_state_encoded_len(&ctx->st, plcf->secret != NULL)
          + sizeof("; Max-Age=") - 1 + NGX_TIME_T_LEN
          + sizeof("; Expires=Thu, 01-Jan-1970 00:00:00 GMT") - 1
          + ngx_http_posthog_cookie_attrs_len(cc);

    cookie = ngx_pnalloc(r->pool, len);
    if (cookie == NULL) {
        return NGX_ERROR;
    }

    p = ngx_copy(cookie, cc->name.data, cc->name.len);
    *p++ = '=';

    n = posthog_state_encode(p, &ctx->st, plcf->secret);
    if (n == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "posthog: cannot encode the identity state");
        return NGX_ERROR;
    }

    p += n;

    /* Max-Age for today's browsers, Expires for the rest */

    p = ngx_cpymem(p, "; Max-Age=", sizeof("; Max-Age=") - 1);
    p = ngx_http_posthog_cookie_num(p, cc->max_age);
    p = ngx_cpymem(p, "; Expires=", sizeof("; Expires=") - 1);
    p = ngx_http_posthog_cookie_expires(p, ngx_time() + cc->max_age);
    p = ngx_http_posthog_cookie_attrs(r, p, cc);

    if (ngx_http_posthog_cookie_push(r, cookie, p) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->cookie_sent = 1;

    return NGX_OK;
}


/*
 * A number of seconds, >= 0, without ngx_sprintf(): the max_age of the
 * location, the same for most cookies, so the last one's digits are kept.
 */

static u_char *
ngx_http_posthog_cookie_num(u_char *p, time_t n)
{
    u_char  *q;

    static u_char  *digits;
    static time_t   last = -1;
    static u_char   buf[NGX_TIME_T_LEN];

    if (n != last) {
        q = buf + NGX_TIME_T_LEN;
        last = n;

        do {
            *--q = (u_char) ('0' + n % 10);
            n /= 10;
        } while (n);

        digits = q;
    }

    return ngx_cpymem(p, digits, buf + NGX_TIME_T_LEN - digits);
}


/*
 * The Expires date of time "t": formatted once per second and kept (one
 * worker's cookies of one second share it), ngx_http_cookie_time()
 * formats with ngx_sprintf().
 */

static u_char *
ngx_http_posthog_cookie_expires(u_char *p, time_t t)
{
    static size_t   len;
    static time_t   last = -1;
    static u_char   date[sizeof("Thu, 01-Jan-1970 00:00:00 GMT") + 8];

    if (t != last) {
        len = ngx_http_cookie_time(date, t) - date;
        last = t;
    }

    return ngx_cpymem(p, date, len);
}


/* the most bytes ngx_http_posthog_cookie_attrs() writes for "cc" */

size_t
ngx_http_posthog_cookie_attrs_len(ngx_http_posthog_cookie_conf_t *cc)
{
    return sizeof("; Domain=") - 1 + cc->domain.len
           + sizeof("; Path=") - 1 + cc->path.len
           + sizeof("; Secure; HttpOnly; SameSite=Strict") - 1;
}


/*
 * A cookie's attributes as "cc" has them: "; Domain=...; Path=..."
 * and Secure (on https with secure=auto), HttpOnly, SameSite.  A cookie
 * is deleted with the same ones (the browser's key is name, domain and
 * path; a __Secure- or SameSite=None cookie needs Secure to be stored).
 */

u_char *
ngx_http_posthog_cookie_attrs(ngx_http_request_t *r, u_char *p,
    ngx_http_posthog_cookie_conf_t *cc)
{
    ngx_uint_t  secure;

    secure = (cc->secure == NGX_HTTP_POSTHOG_SECURE_ON);

#if (NGX_HTTP_SSL)
    if (cc->secure == NGX_HTTP_POSTHOG_SECURE_AUTO && r->connection->ssl) {
        secure = 1;
    }
#endif

    if (cc->domain.len) {
        p = ngx_cpymem(p, "; Domain=", sizeof("; Domain=") - 1);
        p = ngx_copy(p, cc->domain.data, cc->domain.len);
    }

    p = ngx_cpymem(p, "; Path=", sizeof("; Path=") - 1);
    p = ngx_copy(p, cc->path.data, cc->path.len);

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    if (cc->httponly) {
        p = ngx_cpymem(p, "; HttpOnly", sizeof("; HttpOnly") - 1);
    }

    switch (cc->samesite) {

    case NGX_HTTP_POSTHOG_SAMESITE_STRICT:
        return ngx_cpymem(p, "; SameSite=Strict",
                          sizeof("; SameSite=Strict") - 1);

    case NGX_HTTP_POSTHOG_SAMESITE_NONE:
        return ngx_cpymem(p, "; SameSite=None", sizeof("; SameSite=None") - 1);

    default: /* NGX_HTTP_POSTHOG_SAMESITE_LAX */
        return ngx_cpymem(p, "; SameSite=Lax", sizeof("; SameSite=Lax") - 1);
    }
}


/* adds the Set-Cookie header "cookie" .. "last" to the response */

ngx_int_t
ngx_http_posthog_cookie_push(ngx_http_request_t *r, u_char *cookie,
    u_char *last)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.len = last - cookie;
    h->value.data = cookie;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "posthog cookie: \"%V\"", &h->value);

    return NGX_OK;
}


/*
 * posthog_cookie NAME [domain=D] [path=P] [max_age=TIME] [secure[=off]]
 *                [httponly] [samesite=strict|lax|none]
 */

char *
ngx_http_posthog_cookie(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_loc_conf_t *plcf = conf;

    u_char                          *p;
    ngx_str_t                       *value, s;
    ngx_uint_t                       i;
    ngx_http_posthog_cookie_conf_t  *cc;

    if (plcf->cookie) {
        return "is duplicate";
    }

    cc = ngx_palloc(cf->pool, sizeof(ngx_http_posthog_cookie_conf_t));
    if (cc == NULL) {
        return NGX_CONF_ERROR;
    }

    *cc = ngx_http_posthog_default_cookie;

    value = cf->args->elts;

    if (!posthog_cookie_name_valid(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid cookie name \"%V\" in \"%V\" directive",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    cc->name = value[1];

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "domain=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            for (p = s.data; p < s.data + s.len; p++) {
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                      || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
                {
                    goto invalid;
                }
            }

            if (s.len == 0) {
                goto invalid;
            }

            cc->domain = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "path=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (s.len == 0 || s.data[0] != '/'
                || !posthog_cookie_value_valid(s.data, s.len))
            {
                goto invalid;
            }

            cc->path = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_age=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            cc->max_age = ngx_parse_time(&s, 1);
            if (cc->max_age == (time_t) NGX_ERROR || cc->max_age == 0) {
                goto invalid;
            }

            /* RFC 6265bis: browsers keep a cookie 400 days at most */

            if (cc->max_age > NGX_HTTP_POSTHOG_COOKIE_MAX_AGE) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" in \"%V\" directive is over "
                                   "400 days, the most browsers keep a "
                                   "cookie", &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "secure") == 0
            || ngx_strcmp(value[i].data, "secure=on") == 0)
        {
            cc->secure = NGX_HTTP_POSTHOG_SECURE_ON;
            continue;
        }

        if (ngx_strcmp(value[i].data, "secure=off") == 0) {
            cc->secure = NGX_HTTP_POSTHOG_SECURE_OFF;
            continue;
        }

        if (ngx_strcmp(value[i].data, "secure=auto") == 0) {
            cc->secure = NGX_HTTP_POSTHOG_SECURE_AUTO;
            continue;
        }

        if (ngx_strcmp(value[i].data, "httponly") == 0) {
            cc->httponly = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "samesite=lax") == 0) {
            cc->samesite = NGX_HTTP_POSTHOG_SAMESITE_LAX;
            continue;
        }

        if (ngx_strcmp(value[i].data, "samesite=strict") == 0) {
            cc->samesite = NGX_HTTP_POSTHOG_SAMESITE_STRICT;
            continue;
        }

        if (ngx_strcmp(value[i].data, "samesite=none") == 0) {
            cc->samesite = NGX_HTTP_POSTHOG_SAMESITE_NONE;
            continue;
        }

        goto invalid;
    }

    /* combinations that browsers refuse to store */

    if (cc->samesite == NGX_HTTP_POSTHOG_SAMESITE_NONE
        && cc->secure != NGX_HTTP_POSTHOG_SECURE_ON)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"samesite=none\" requires \"secure\" in \"%V\" "
                           "directive: browsers drop SameSite=None cookies "
                           "without Secure", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if ((ngx_strncmp(cc->name.data, "__Secure-", 9) == 0
         || ngx_strncmp(cc->name.data, "__Host-", 7) == 0)
        && cc->secure != NGX_HTTP_POSTHOG_SECURE_ON)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cookie name \"%V\" requires \"secure\" in \"%V\" "
                           "directive", &cc->name, &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (ngx_strncmp(cc->name.data, "__Host-", 7) == 0
        && (cc->domain.len || cc->path.len != 1))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cookie name \"%V\" requires \"path=/\" and "
                           "no \"domain\" in \"%V\" directive",
                           &cc->name, &cmd->name);
        return NGX_CONF_ERROR;
    }

    plcf->cookie = cc;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive",
                       &value[i], &cmd->name);

    return NGX_CONF_ERROR;
}


/*
 * posthog_cookie_secret KEY: the secret of the HMAC-SHA256 that signs the
 * state.  Only checked here: the key proper is derived at merge time for
 * each project and cookie name (see posthog_state.h), once; workers
 * inherit it and only hash per request.
 */

char *
ngx_http_posthog_cookie_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_loc_conf_t *plcf = conf;

    ngx_str_t  *value;

    if (plcf->cookie_secret.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* a short key can be guessed offline from one signed cookie */

    if (value[1].len < 16) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs a key of at least 16 bytes "
                           "(32 random bytes recommended), the one given "
                           "has %uz", &cmd->name, value[1].len);
        return NGX_CONF_ERROR;
    }

    plcf->cookie_secret = value[1];

    return NGX_CONF_OK;
}


static void
ngx_http_posthog_free_secret(void *data)
{
    posthog_state_key_free(data);
}


char *
ngx_http_posthog_merge_cookie_conf(ngx_conf_t *cf,
    ngx_http_posthog_loc_conf_t *prev, ngx_http_posthog_loc_conf_t *conf)
{
    u_char              *p;
    size_t               len;
    ngx_pool_cleanup_t  *cln;

    if (conf->cookie == NULL) {
        conf->cookie = prev->cookie ? prev->cookie
                                    : &ngx_http_posthog_default_cookie;
    }

    if (conf->cookie_secret.data == NULL) {
        conf->cookie_secret = prev->cookie_secret;
    }

    if (conf->cookie_secret.data == NULL) {
        return NGX_CONF_OK;
    }

    /* a location that changes neither shares its parent's key */

    if (prev->secret && prev->cookie_secret.data == conf->cookie_secret.data
        && prev->cookie == conf->cookie
        && prev->api_key.data == conf->api_key.data)
    {
        conf->secret = prev->secret;
        return NGX_CONF_OK;
    }

    /* the context: the api key, NUL, the cookie name */

    len = conf->api_key.len + 1 + conf->cookie->name.len;

    p = ngx_pnalloc(cf->temp_pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(p, conf->api_key.data, conf->api_key.len);
    p[conf->api_key.len] = '\0';
    ngx_memcpy(p + conf->api_key.len + 1, conf->cookie->name.data,
               conf->cookie->name.len);

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->secret = posthog_state_key_new(conf->cookie_secret.data,
                                         conf->cookie_secret.len, p, len);
    if (conf->secret == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"posthog_cookie_secret\": cannot set up "
                           "HMAC-SHA256 in OpenSSL");
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_posthog_free_secret;
    cln->data = conf->secret;

    return NGX_CONF_OK;
}
