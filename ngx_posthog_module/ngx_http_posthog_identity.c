/*
 * The visitor's identity and its transitions, as posthog-js has them:
 * anonymous -> identified ($identify, once), a different user while
 * identified (no merge), reset at logout (a new anonymous id), alias
 * (an id handed over from another platform).  The upstream's signals
 * are read in ngx_http_posthog_signals.c, the variables and the
 * posthog_reset/posthog_logout directives are in
 * ngx_http_posthog_variables.c.
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
static void ngx_http_posthog_refuse(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx, ngx_str_t *value, const char *what,
    const char *reason);
static ngx_http_posthog_ctx_t *ngx_http_posthog_ctx_alloc(
    ngx_http_request_t *r);
static void ngx_http_posthog_cleanup(void *data);
static ngx_int_t ngx_http_posthog_save(ngx_http_request_t *r,
    ngx_http_posthog_ctx_t *ctx);


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

    ctx = ngx_http_posthog_ctx_alloc(r);
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
            goto failed;
        }
    }

    if (!ctx->cookieless
        && ngx_http_posthog_session_begin(r, plcf, ctx) != NGX_OK)
    {
        goto failed;
    }

    /* found again after an internal redirect: only once the state is valid */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        goto failed;
    }

    cln->handler = ngx_http_posthog_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_posthog_module);

    return ctx;

failed:

    ngx_http_posthog_cleanup(ctx);

    return NULL;
}


/*
 * Contexts are the worker's, kept for its next requests, not the
 * request's pool's: their ~2.7 KB would fill most of the pool's first
 * block, and nginx would allocate another block (a malloc() and a free())
 * for nearly every request.  A context is given back by the pool cleanup
 * that marks it (ngx_http_posthog_cleanup()), when the request's pool is
 * destroyed, after the log phase.  Up to NGX_HTTP_POSTHOG_SPARE_MAX are
 * kept (as many requests at a time as that need no allocation), the
 * rest are freed.  One list per process, as nginx's workers are.
 */

#define NGX_HTTP_POSTHOG_SPARE_MAX  64

static ngx_http_posthog_ctx_t  *ngx_http_posthog_spare;
static ngx_uint_t               ngx_http_posthog_nspare;


static ngx_http_posthog_ctx_t *
ngx_http_posthog_ctx_alloc(ngx_http_request_t *r)
{
    ngx_http_posthog_ctx_t  *ctx;

    ctx = ngx_http_posthog_spare;

    if (ctx) {
        ngx_http_posthog_spare = ctx->next_spare;
        ngx_http_posthog_nspare--;

    } else {
        ctx = ngx_alloc(sizeof(ngx_http_posthog_ctx_t), r->connection->log);
        if (ctx == NULL) {
            return NULL;
        }
    }

    /* not zeroed whole: the state's ~2.5 KB are mostly unused buffers */

    posthog_state_reset(&ctx->st);
    ngx_memzero((u_char *) ctx + sizeof(posthog_state_t),
                sizeof(ngx_http_posthog_ctx_t) - sizeof(posthog_state_t));

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

    /* the first touch goes in this request's $identify: checked now */

    ngx_http_posthog_state_first(r, &ctx->st);

    posthog_state_copy(ctx->saved, &ctx->st);
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

    posthog_state_copy(&ctx->st, ctx->saved);
    ctx->dirty = ctx->saved_dirty;
    ctx->identified = 0;
    ctx->aliased = 0;

    ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_IDENTIFY_ON_ERROR, 1);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "posthog: identity not changed by an error response");
}


/* marks the context of a request (see get_ctx), and gives it back */

static void
ngx_http_posthog_cleanup(void *data)
{
    ngx_http_posthog_ctx_t  *ctx = data;

    if (ngx_http_posthog_nspare >= NGX_HTTP_POSTHOG_SPARE_MAX) {
        ngx_free(ctx);
        return;
    }

    ctx->next_spare = ngx_http_posthog_spare;
    ngx_http_posthog_spare = ctx;
    ngx_http_posthog_nspare++;
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
    posthog_state_reset(&ctx->st);

    if (ngx_http_posthog_new_uuid(r, ctx->st.anon) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->st.device, ctx->st.anon, POSTHOG_UUID_LEN);
    ctx->st.issued = ngx_http_posthog_issued(r);
    ngx_http_posthog_request_touch(r, &ctx->st.first);

    /* made here, valid: the cookie's encoder need not check them again */

    ctx->st.known = POSTHOG_STATE_KNOWN_IDS | POSTHOG_STATE_KNOWN_FIRST;

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
    st->first.ref_len = 0;
    st->first.url_len = 0;
    st->first_text = NULL;
    st->first_text_len = 0;

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
    st->known &= ~POSTHOG_STATE_KNOWN_IDS;

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
    ctx->st.known &= ~POSTHOG_STATE_KNOWN_IDS;

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

    /* NGX_DECLINED: posthog-js's does not fit, ours is written all the same */

    if (ngx_http_posthog_js_set_cookie(r, plcf, ctx) == NGX_ERROR) {
        return NGX_ERROR;
    }

    return ngx_http_posthog_set_cookie(r, plcf, ctx);
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
