/*
 * The visitor's identity and its transitions, as posthog-js has them:
 * anonymous -> identified ($identify, once), a different user while
 * identified (no merge), reset at logout (a new anonymous id), alias
 * (an id handed over from another platform); and the variables.
 */


#include "ngx_http_posthog.h"

#include <openssl/rand.h>


static ngx_int_t ngx_http_posthog_random(ngx_http_request_t *r, u_char *out,
    size_t n);
static time_t ngx_http_posthog_issued(ngx_http_request_t *r);
static ngx_int_t ngx_http_posthog_new_anon(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx);
static ngx_int_t ngx_http_posthog_keep(ngx_http_request_t *r, ngx_str_t *dst,
    u_char *data, size_t len);
static ngx_int_t ngx_http_posthog_transitions(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_loc_conf_t *plcf,
    ngx_str_t *signal);
static void ngx_http_posthog_identify(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_str_t *value);
static void ngx_http_posthog_alias(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_str_t *value);
static ngx_int_t ngx_http_posthog_do_reset(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_uint_t device);
static ngx_int_t ngx_http_posthog_signals(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_loc_conf_t *plcf,
    ngx_str_t *identify, ngx_uint_t *reset);
static void ngx_http_posthog_refuse(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_str_t *value, const char *what,
    const char *reason);
static void ngx_http_posthog_cleanup(void *data);
static ngx_int_t ngx_http_posthog_save(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx);

static ngx_int_t ngx_http_posthog_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#define NGX_HTTP_POSTHOG_VAR_DISTINCT_ID  0
#define NGX_HTTP_POSTHOG_VAR_ANON_ID      1
#define NGX_HTTP_POSTHOG_VAR_IDENTIFIED   2
#define NGX_HTTP_POSTHOG_VAR_DEVICE_ID    3
#define NGX_HTTP_POSTHOG_VAR_NONE         4


static ngx_http_variable_t  ngx_http_posthog_vars[] = {

    { ngx_string("posthog_distinct_id"), NULL, ngx_http_posthog_id_variable,
      NGX_HTTP_POSTHOG_VAR_DISTINCT_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("posthog_anon_id"), NULL, ngx_http_posthog_id_variable,
      NGX_HTTP_POSTHOG_VAR_ANON_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("posthog_identified"), NULL, ngx_http_posthog_id_variable,
      NGX_HTTP_POSTHOG_VAR_IDENTIFIED, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("posthog_device_id"), NULL, ngx_http_posthog_id_variable,
      NGX_HTTP_POSTHOG_VAR_DEVICE_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* rate-limited per worker, see ngx_http_posthog_log_limited() */
static ngx_http_posthog_limit_t  ngx_http_posthog_refuse_limit;
static ngx_http_posthog_limit_t  ngx_http_posthog_regex_limit;


/*
 * The identity is the main request's.  Subrequests share it, and an
 * internal redirect, which clears module contexts, finds it again in the
 * pool cleanup list (as ngx_http_realip_module does), so neither makes a
 * second id.
 */

ngx_http_posthog_ctx_t *
ngx_http_posthog_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_posthog_ctx_t       *ctx;
    ngx_http_posthog_loc_conf_t  *plcf;

    r = r->main;

    ctx = ngx_http_get_module_ctx(r, ngx_http_posthog_module);
    if (ctx) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_posthog_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_posthog_module);
            return ctx;
        }
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_posthog_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    /* without consent nothing of the visitor's is read or made */

    ngx_http_posthog_consent_check(r, plcf, ctx);

    if (!ctx->cookieless
        && ngx_http_posthog_read_cookie(r, plcf, ctx) != NGX_OK)
    {
        if (ngx_http_posthog_new_anon(r, ctx) != NGX_OK) {
            return NULL;
        }
    }

    if (!ctx->cookieless
        && ngx_http_posthog_session_begin(r, plcf, ctx) != NGX_OK)
    {
        return NULL;
    }

    /* found again after an internal redirect: only once the state is valid */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_posthog_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_posthog_module);

    return ctx;
}


/*
 * The precontent phase of the main request: the access phase is over, so
 * $remote_user, a trusted header or auth_request_set's variables now name
 * a user that nginx let through.  Identify and alias apply from here on
 * (the application sees the user in $posthog_distinct_id), provisionally:
 * the header filter keeps them only for a response below 400.  Nothing
 * read earlier (a map, limit_req_zone, a rewrite) applies an identity.
 */

ngx_int_t
ngx_http_posthog_identity_access(ngx_http_request_t *r)
{
    ngx_http_posthog_ctx_t       *ctx;
    ngx_http_posthog_loc_conf_t  *plcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    if (!plcf->enable
        || (plcf->identify == NULL && plcf->alias == NULL && !plcf->signals))
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_posthog_get_ctx(r);

    if (ctx == NULL || ctx->final || ctx->cookieless) {
        return NGX_DECLINED;
    }

    ctx->access = 1;

    /* the request goes on without: the header filter tries again */

    (void) ngx_http_posthog_transitions(r, ctx, plcf, NULL);

    return NGX_DECLINED;
}


/*
 * The first change of a request's identity keeps the state as it was, so
 * that a response that turns out to be an error (a failed login, a 500)
 * changes nothing: see ngx_http_posthog_identity_settle().
 */

static ngx_int_t
ngx_http_posthog_save(ngx_http_request_t *r, ngx_http_posthog_ctx_t *ctx)
{
    if (ctx->saved) {
        return NGX_OK;
    }

    ctx->saved = ngx_palloc(r->pool, sizeof(posthog_state_t));
    if (ctx->saved == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->saved, &ctx->st, sizeof(posthog_state_t));
    ctx->saved_dirty = ctx->dirty;

    return NGX_OK;
}


/*
 * Keeps the identify and alias of this request ("ok": the response is
 * below 400, as the header filter saw it), or undoes them.  Once.
 */

void
ngx_http_posthog_identity_settle(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_uint_t ok)
{
    if (ctx->settled) {
        return;
    }

    ctx->settled = 1;

    if (ok) {
        if (ctx->identified) {
            ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_IDENTIFIES, 1);
        }

        if (ctx->aliased) {
            ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_ALIASES, 1);
        }

        return;
    }

    if (ctx->saved == NULL) {
        return;
    }

    ngx_memcpy(&ctx->st, ctx->saved, sizeof(posthog_state_t));
    ctx->dirty = ctx->saved_dirty;
    ctx->identified = 0;
    ctx->aliased = 0;

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_IDENTIFY_ON_ERROR, 1);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "posthog: identity not changed by an error response");
}


static void
ngx_http_posthog_cleanup(void *data)
{
    /* nothing to free: the handler only marks the context (see get_ctx) */
}


/* a UUIDv7 with the request's time and random bits from OpenSSL's CSPRNG */

ngx_int_t
ngx_http_posthog_new_uuid(ngx_http_request_t *r, u_char *out)
{
    uint64_t  ms;
    u_char    rnd[POSTHOG_UUID_RANDOM];

    if (ngx_http_posthog_random(r, rnd, POSTHOG_UUID_RANDOM) != NGX_OK) {
        return NGX_ERROR;
    }

    ms = (uint64_t) r->start_sec * 1000 + r->start_msec;

    posthog_uuid_v7(out, ms, rnd);

    return NGX_OK;
}


/*
 * Random bytes from a per-process pool, refilled by one RAND_bytes() call
 * when it runs out: RAND_bytes() costs as much for 10 bytes as for 4 KiB.
 * Invariants: a byte is handed out once (the position only grows between
 * two fills), and the pool is used only by the process that filled it.
 * A forked process inherits the parent's pool, position and all, so two
 * workers forked from one master would hand out the same bytes: the pid
 * that filled it is kept, and a process that finds another pid there
 * (ngx_pid is set anew after each fork) refills before taking anything.
 */

static ngx_int_t
ngx_http_posthog_random(ngx_http_request_t *r, u_char *out, size_t n)
{
    static u_char     pool[4096];
    static size_t     pos = sizeof(pool);
    static ngx_pid_t  pid;

    if (pid != ngx_pid || sizeof(pool) - pos < n) {

        if (RAND_bytes(pool, sizeof(pool)) != 1) {
            pos = sizeof(pool);
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "posthog: RAND_bytes() failed");
            return NGX_ERROR;
        }

        pos = 0;
        pid = ngx_pid;
    }

    ngx_memcpy(out, pool + pos, n);
    pos += n;

    return NGX_OK;
}


/*
 * When an identity was set, for a signed state only: its age limits how
 * long a captured cookie is trusted (see ngx_http_posthog_read_cookie()).
 * An unsigned state can claim anything anyway: no time, a shorter cookie.
 */

static time_t
ngx_http_posthog_issued(ngx_http_request_t *r)
{
    ngx_http_posthog_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    return plcf->secret ? ngx_time() : 0;
}


/* a new visitor: anonymous, and the device id is the anonymous id */

static ngx_int_t
ngx_http_posthog_new_anon(ngx_http_request_t *r, ngx_http_posthog_ctx_t *ctx)
{
    ngx_memzero(&ctx->st, sizeof(posthog_state_t));

    if (ngx_http_posthog_new_uuid(r, ctx->st.anon) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->st.device, ctx->st.anon, POSTHOG_UUID_LEN);
    ctx->st.issued = ngx_http_posthog_issued(r);
    ngx_http_posthog_first_touch(r, &ctx->st.first);

    ctx->fresh = 1;
    ctx->dirty = 1;

    return NGX_OK;
}


/* a copy in the request's pool: the state it comes from may change */

static ngx_int_t
ngx_http_posthog_keep(ngx_http_request_t *r, ngx_str_t *dst, u_char *data,
    size_t len)
{
    ngx_str_t  src;

    src.len = len;
    src.data = data;

    dst->data = ngx_pstrdup(r->pool, &src);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    dst->len = len;

    return NGX_OK;
}


void
ngx_http_posthog_distinct_id(ngx_http_posthog_ctx_t *ctx, ngx_str_t *id)
{
    if (ctx->cookieless) {
        ngx_str_set(id, NGX_HTTP_POSTHOG_SENTINEL);

    } else if (ctx->st.user_len) {
        id->data = ctx->st.user;
        id->len = ctx->st.user_len;

    } else {
        id->data = ctx->st.anon;
        id->len = POSTHOG_UUID_LEN;
    }
}


/*
 * Applies posthog_identify and posthog_alias.  Called when the context is
 * made (the request's own values: headers, $remote_user, cookies) and
 * again in the header filter, where the upstream's response headers and
 * the signals are known.
 */

static ngx_int_t
ngx_http_posthog_transitions(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_http_posthog_loc_conf_t *plcf,
    ngx_str_t *signal)
{
    ngx_str_t  value;

    /*
     * A response from nginx's cache carries the upstream headers of
     * whoever the upstream answered then: $upstream_http_* there names
     * another visitor.  The identity waits for a request that is not a
     * cache hit.
     */

    if (plcf->identify && !r->cached) {
        if (ngx_http_complex_value(r, plcf->identify, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value.len) {
            ngx_http_posthog_identify(r, ctx, &value);
        }
    }

    if (signal && signal->len) {
        ngx_http_posthog_identify(r, ctx, signal);
    }

    if (plcf->alias && !ctx->alias_done) {
        if (ngx_http_complex_value(r, plcf->alias, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value.len) {
            ctx->alias_done = 1;
            ngx_http_posthog_alias(r, ctx, &value);
        }
    }

    return NGX_OK;
}


static void
ngx_http_posthog_identify(ngx_http_request_t *r, ngx_http_posthog_ctx_t *ctx,
    ngx_str_t *value)
{
    int              rc;
    u_char          *id;
    size_t           start, n;
    posthog_state_t *st;

    st = &ctx->st;

    /* the user of every request after the login: checked when stored */

    if (value->len == st->user_len
        && ngx_memcmp(value->data, st->user, value->len) == 0)
    {
        return;
    }

    rc = posthog_id_check(value->data, value->len, &start, &n);

    if (rc != POSTHOG_ID_OK) {
        ngx_http_posthog_refuse(r, ctx, value, "identify",
                                posthog_id_reason(rc));
        return;
    }

    id = value->data + start;

    if (n == st->user_len && ngx_memcmp(id, st->user, n) == 0) {
        return;
    }

    if (ngx_http_posthog_save(r, ctx) != NGX_OK) {
        return;
    }

    if (st->user_len == 0) {

        if (n == POSTHOG_UUID_LEN && ngx_memcmp(id, st->anon, n) == 0) {
            return;
        }

        /*
         * Anonymous -> identified: one $identify links the two ids.  Not
         * for a visitor whose anonymous id was made by this request: it
         * has no history to join, and a client that keeps no cookies (an
         * API client with credentials) would merge a new id every time.
         */

        if (!ctx->fresh) {
            if (ngx_http_posthog_keep(r, &ctx->identify_user, id, n)
                != NGX_OK)
            {
                return;
            }

            ngx_memcpy(ctx->identify_anon, st->anon, POSTHOG_UUID_LEN);
            ctx->identified = 1;
        }

    } else {

        /*
         * Another user while identified, without a logout between: as
         * posthog-js, no merge; the new id is simply used from now on.
         * An $identify of this request for the previous user stands.
         */

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "posthog: identified as another user, no merge");
    }

    ngx_memcpy(st->user, id, n);
    st->user_len = n;
    st->issued = ngx_http_posthog_issued(r);

    /* the first touch goes in this $identify (from ctx->saved), not on */
    ngx_memzero(&st->first, sizeof(posthog_touch_t));

    ctx->dirty = 1;
}


/*
 * posthog_alias: an anonymous distinct id handed over from another
 * platform (a deep link's parameter).  Only a UUID is accepted: anything
 * looser would let a link make its clicker part of someone's person.
 */

static void
ngx_http_posthog_alias(ngx_http_request_t *r, ngx_http_posthog_ctx_t *ctx,
    ngx_str_t *value)
{
    u_char            id[POSTHOG_UUID_LEN];
    size_t            i;
    posthog_state_t  *st;

    if (value->len != POSTHOG_UUID_LEN) {
        ngx_http_posthog_refuse(r, ctx, value, "alias", "not a UUID");
        return;
    }

    for (i = 0; i < POSTHOG_UUID_LEN; i++) {
        id[i] = ngx_tolower(value->data[i]);
    }

    if (!posthog_uuid_valid(id, POSTHOG_UUID_LEN)) {
        ngx_http_posthog_refuse(r, ctx, value, "alias", "not a UUID");
        return;
    }

    st = &ctx->st;

    if (ngx_http_posthog_save(r, ctx) != NGX_OK) {
        return;
    }

    if (st->user_len) {

        /* identified: link the other platform's id to the user */

        if (ngx_http_posthog_keep(r, &ctx->alias_to, st->user, st->user_len)
            != NGX_OK)
        {
            return;
        }

        ngx_memcpy(ctx->alias_from, id, POSTHOG_UUID_LEN);
        ctx->aliased = 1;

        return;
    }

    if (ngx_memcmp(id, st->anon, POSTHOG_UUID_LEN) == 0) {
        return;
    }

    /*
     * Anonymous: adopt the id, so this browser continues the other
     * platform's visitor.  A first visit has no history of its own; a
     * returning visitor's earlier id is linked with $create_alias.  The
     * state stays anonymous, so that a later login still sends $identify.
     */

    if (!ctx->fresh) {
        if (ngx_http_posthog_keep(r, &ctx->alias_to, id, POSTHOG_UUID_LEN)
            != NGX_OK)
        {
            return;
        }

        ngx_memcpy(ctx->alias_from, st->anon, POSTHOG_UUID_LEN);
        ctx->aliased = 1;

    } else {
        ngx_memcpy(st->device, id, POSTHOG_UUID_LEN);
    }

    ngx_memcpy(st->anon, id, POSTHOG_UUID_LEN);

    ctx->dirty = 1;
}


/*
 * Logout: a new anonymous id, the identified state gone, the device id
 * kept unless asked.  This request's own events still belong to the user
 * who logged out, so its distinct id is kept in ctx->event_id.
 */

static ngx_int_t
ngx_http_posthog_do_reset(ngx_http_request_t *r, ngx_http_posthog_ctx_t *ctx,
    ngx_uint_t device)
{
    ngx_str_t  id;

    ngx_http_posthog_distinct_id(ctx, &id);

    if (ngx_http_posthog_keep(r, &ctx->event_id, id.data, id.len) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->event_personless = (ctx->st.user_len == 0);
    ngx_memcpy(ctx->event_device, ctx->st.device, POSTHOG_UUID_LEN);

    if (ngx_http_posthog_new_uuid(r, ctx->st.anon) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->st.user_len = 0;
    ctx->st.issued = ngx_http_posthog_issued(r);

    if (ngx_http_posthog_session_reset(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (device) {
        ngx_memcpy(ctx->st.device, ctx->st.anon, POSTHOG_UUID_LEN);
    }

    ctx->reset = 1;
    ctx->dirty = 1;

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_RESETS, 1);

    return NGX_OK;
}


ngx_int_t
ngx_http_posthog_identity_header_filter(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_str_t                     signal;
    ngx_uint_t                    i, reset;
    ngx_regex_t                 **re;
    ngx_http_posthog_ctx_t       *ctx;
    ngx_http_posthog_loc_conf_t  *plcf;

    ctx = ngx_http_posthog_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    if (!ctx->final) {
        ctx->final = 1;

        ngx_str_null(&signal);
        reset = NGX_HTTP_POSTHOG_RESET_OFF;

        if (ngx_http_posthog_signals(r, ctx, plcf, &signal, &reset) != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* no identity without consent: X-PostHog-Identify/Reset unused */

        if (ctx->cookieless) {
            return ngx_http_posthog_consent_header_filter(r, plcf, ctx);
        }

        /*
         * Identify and alias only for a request that passed the access
         * phase and gets a response below 400: a wrong password's 401
         * names nobody, whatever $remote_user says.
         */

        if (ctx->access
            && ngx_http_posthog_transitions(r, ctx, plcf, &signal) != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_posthog_identity_settle(r, ctx,
                            r->headers_out.status < NGX_HTTP_BAD_REQUEST);

        if (plcf->reset == NGX_HTTP_POSTHOG_RESET_ON
            || plcf->reset == NGX_HTTP_POSTHOG_RESET_DEVICE)
        {
            reset = plcf->reset;
        }

        /* "posthog_reset off" exempts a location from posthog_logout */

        if (reset == NGX_HTTP_POSTHOG_RESET_OFF
            && plcf->reset == NGX_HTTP_POSTHOG_RESET_UNSET
            && plcf->logout)
        {
            re = plcf->logout->elts;

            for (i = 0; i < plcf->logout->nelts; i++) {
                rc = ngx_regex_exec(re[i], &r->uri, NULL, 0);

                if (rc >= 0) {
                    reset = NGX_HTTP_POSTHOG_RESET_ON;
                    break;
                }

                if (rc != NGX_REGEX_NO_MATCHED) {
                    ngx_http_posthog_log_limited(&ngx_http_posthog_regex_limit,
                                        NGX_LOG_ERR, r->connection->log,
                                        "posthog_logout: " ngx_regex_exec_n
                                        " failed: %i", rc);
                }
            }
        }

        /* a failed logout logs nobody out */

        if (reset != NGX_HTTP_POSTHOG_RESET_OFF
            && r->headers_out.status < NGX_HTTP_BAD_REQUEST)
        {
            if (ngx_http_posthog_do_reset(r, ctx,
                                    reset == NGX_HTTP_POSTHOG_RESET_DEVICE)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    if (!ctx->dirty || ctx->cookie_sent) {
        return NGX_OK;
    }

    if (ngx_http_posthog_js_set_cookie(r, plcf, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_posthog_set_cookie(r, plcf, ctx);
}


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

static ngx_int_t
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


/*
 * Refused ids: counted once per request (the same value is seen again
 * in the header filter), logged at most once per interval.
 */

static void
ngx_http_posthog_refuse(ngx_http_request_t *r, ngx_http_posthog_ctx_t *ctx,
    ngx_str_t *value, const char *what, const char *reason)
{
    if (value->len == ctx->refused.len
        && ngx_memcmp(value->data, ctx->refused.data, value->len) == 0)
    {
        return;
    }

    ctx->refused = *value;

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_REFUSED_IDS, 1);

    ngx_http_posthog_log_limited(&ngx_http_posthog_refuse_limit,
                                 NGX_LOG_WARN, r->connection->log,
                                 "refused an %s id (%s), the visitor stays "
                                 "as they were", what, reason);
}


static ngx_int_t
ngx_http_posthog_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                     id;
    ngx_http_posthog_ctx_t       *ctx;
    ngx_http_posthog_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r->main, ngx_http_posthog_module);

    if (!plcf->enable) {
        v->not_found = 1;
        return NGX_OK;
    }

    ctx = ngx_http_posthog_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* no consent: no id (the events carry PostHog's cookieless sentinel) */

    if (ctx->cookieless) {
        data = NGX_HTTP_POSTHOG_VAR_NONE;
    }

    switch (data) {

    case NGX_HTTP_POSTHOG_VAR_NONE:
        ngx_str_null(&id);
        break;

    case NGX_HTTP_POSTHOG_VAR_ANON_ID:
        id.data = ctx->st.anon;
        id.len = POSTHOG_UUID_LEN;
        break;

    case NGX_HTTP_POSTHOG_VAR_DEVICE_ID:
        id.data = ctx->st.device;
        id.len = POSTHOG_UUID_LEN;
        break;

    case NGX_HTTP_POSTHOG_VAR_IDENTIFIED:
        if (ctx->st.user_len) {
            ngx_str_set(&id, "1");

        } else {
            ngx_str_null(&id);
        }

        break;

    default: /* NGX_HTTP_POSTHOG_VAR_DISTINCT_ID */
        ngx_http_posthog_distinct_id(ctx, &id);
        break;
    }

    v->data = id.data;
    v->len = id.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_posthog_identity_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_posthog_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* posthog_reset [device] */

char *
ngx_http_posthog_reset(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_loc_conf_t *plcf = conf;

    ngx_str_t  *value;

    if (plcf->reset != NGX_HTTP_POSTHOG_RESET_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 1) {
        plcf->reset = NGX_HTTP_POSTHOG_RESET_ON;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "device") == 0) {
        plcf->reset = NGX_HTTP_POSTHOG_RESET_DEVICE;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "off") == 0) {
        plcf->reset = NGX_HTTP_POSTHOG_RESET_OFF;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive, "
                       "it must be \"device\" or \"off\"",
                       &value[1], &cmd->name);

    return NGX_CONF_ERROR;
}


/* posthog_logout REGEX ...: "~*" before a regex makes it caseless */

char *
ngx_http_posthog_logout(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_loc_conf_t *plcf = conf;

    u_char                errstr[NGX_MAX_CONF_ERRSTR];
    ngx_str_t            *value;
    ngx_uint_t            i;
    ngx_regex_t         **re;
    ngx_regex_compile_t   rc;

    if (plcf->logout == NULL) {
        plcf->logout = ngx_array_create(cf->pool, 2, sizeof(ngx_regex_t *));
        if (plcf->logout == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

        rc.pattern = value[i];
        rc.pool = cf->pool;
        rc.err.len = NGX_MAX_CONF_ERRSTR;
        rc.err.data = errstr;

        if (value[i].len > 2 && value[i].data[0] == '~'
            && value[i].data[1] == '*')
        {
            rc.pattern.data += 2;
            rc.pattern.len -= 2;
            rc.options = NGX_REGEX_CASELESS;
        }

        if (ngx_regex_compile(&rc) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid regex \"%V\" in \"%V\" directive: %V",
                               &value[i], &cmd->name, &rc.err);
            return NGX_CONF_ERROR;
        }

        re = ngx_array_push(plcf->logout);
        if (re == NULL) {
            return NGX_CONF_ERROR;
        }

        *re = rc.regex;
    }

    return NGX_CONF_OK;
}
