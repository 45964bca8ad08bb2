/*
 * ngx_posthog_module: what a request's User-Agent says about its browser,
 * as posthog-js would say it (posthog_ua.c): event properties, the bot
 * gate, the $posthog_browser... variables, and their directives.
 *
 * posthog-js's patterns are compiled once, at configuration time, with
 * ngx_regex (PCRE2, JIT with "pcre_jit on"); each worker keeps a small
 * fixed-size cache of results, as a visitor's UA repeats on every request:
 * the verdict of the blocked-UA list, the parse when asked for, and the
 * properties as JSON, ready to copy into the event.
 *
 * A request looks its UA up once: what it found is kept in a memo, with
 * the verdict of posthog_bot_user_agent for the location it was asked in.
 * The memo lives where $posthog_is_bot's value does, in the main
 * request's variables: subrequests share them and an internal redirect
 * keeps them (it clears the module contexts).
 */

#include "ngx_http_posthog.h"
#include "posthog_ua.h"


#define NGX_HTTP_POSTHOG_UA_CACHE_DEFAULT  128


typedef struct {
    ngx_regex_t               *re[POSTHOG_UA_RE_N];
    ngx_int_t                  cache;        /* slots per worker */
    ngx_int_t                  is_bot;       /* $posthog_is_bot's index */
} ngx_http_posthog_ua_main_t;


/* what one request found of its UA; $posthog_is_bot's value is the first
 * byte: r->variables[is_bot].data points here */

typedef struct {
    u_char                     value;        /* '0' or '1', for "bot_ua" */
    unsigned                   checked:1;    /* "extra" is known */
    unsigned                   extra:1;      /* a pattern of bot_ua matched */
    ngx_array_t               *bot_ua;       /* of the location asking */
    ngx_str_t                  ua;           /* the User-Agent it is for */
    posthog_ua_slot_t         *slot;         /* NULL: "e" is the request's */
    uint32_t                   stamp;        /* the slot's, when found */
    ngx_uint_t                 gen;          /* the cache's, when found */
    posthog_ua_entry_t        *e;
} ngx_http_posthog_ua_memo_t;


/* the $posthog_* variables of this file, by ngx_http_variable_t.data */

enum {
    NGX_HTTP_POSTHOG_VAR_BROWSER = 0,
    NGX_HTTP_POSTHOG_VAR_BROWSER_VERSION,
    NGX_HTTP_POSTHOG_VAR_OS,
    NGX_HTTP_POSTHOG_VAR_OS_VERSION,
    NGX_HTTP_POSTHOG_VAR_DEVICE,
    NGX_HTTP_POSTHOG_VAR_DEVICE_TYPE,
    NGX_HTTP_POSTHOG_VAR_IS_BOT,
    NGX_HTTP_POSTHOG_VAR_LANGUAGE
};


static ngx_http_posthog_ua_memo_t *ngx_http_posthog_ua_memo(
    ngx_http_request_t *r);
static posthog_ua_cache_t *ngx_http_posthog_ua_cache_get(
    ngx_http_request_t *r, ngx_http_posthog_ua_main_t *um);
static const posthog_ua_entry_t *ngx_http_posthog_ua_entry(
    ngx_http_request_t *r);
static ngx_http_posthog_ua_memo_t *ngx_http_posthog_ua_parsed(
    ngx_http_request_t *r);
static void ngx_http_posthog_ua_members(ngx_http_request_t *r,
    const posthog_ua_entry_t *e, ngx_http_posthog_member_t *m);
static ngx_http_posthog_ua_memo_t *ngx_http_posthog_ua_verdict(
    ngx_http_request_t *r);
static ngx_uint_t ngx_http_posthog_ua_extra(ngx_http_request_t *r,
    ngx_array_t *bot_ua);
static ngx_uint_t ngx_http_posthog_ua_bot(ngx_http_request_t *r);
static int ngx_http_posthog_ua_exec(void *data, unsigned id,
    const unsigned char *s, size_t len, int *cap, int ncap);
static ngx_int_t ngx_http_posthog_ua_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_posthog_ua_vars[] = {

    { ngx_string("posthog_browser"), NULL, ngx_http_posthog_ua_variable,
      NGX_HTTP_POSTHOG_VAR_BROWSER, 0, 0 },

    { ngx_string("posthog_browser_version"), NULL,
      ngx_http_posthog_ua_variable,
      NGX_HTTP_POSTHOG_VAR_BROWSER_VERSION, 0, 0 },

    { ngx_string("posthog_os"), NULL, ngx_http_posthog_ua_variable,
      NGX_HTTP_POSTHOG_VAR_OS, 0, 0 },

    { ngx_string("posthog_os_version"), NULL, ngx_http_posthog_ua_variable,
      NGX_HTTP_POSTHOG_VAR_OS_VERSION, 0, 0 },

    { ngx_string("posthog_device"), NULL, ngx_http_posthog_ua_variable,
      NGX_HTTP_POSTHOG_VAR_DEVICE, 0, 0 },

    { ngx_string("posthog_device_type"), NULL, ngx_http_posthog_ua_variable,
      NGX_HTTP_POSTHOG_VAR_DEVICE_TYPE, 0, 0 },

    /* the answer depends on the location (posthog_bot_user_agent): asked
     * again at each read, the memo answers */

    { ngx_string("posthog_is_bot"), NULL, ngx_http_posthog_ua_variable,
      NGX_HTTP_POSTHOG_VAR_IS_BOT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("posthog_browser_language"), NULL,
      ngx_http_posthog_ua_variable,
      NGX_HTTP_POSTHOG_VAR_LANGUAGE, 0, 0 },

      ngx_http_null_variable
};


/* this worker's cache: made at its first request */

static posthog_ua_cache_t  *ngx_http_posthog_ua_cache;
static ngx_int_t            ngx_http_posthog_ua_cache_n;
static ngx_uint_t           ngx_http_posthog_ua_cache_gen;  /* new caches */

/*
 * $raw_user_agent, $lib and the UA's properties, as one raw piece of
 * JSON made once per cached UA: a visitor's UA repeats on every request.
 * A piece answers for the cache slot and the stamp it was made from (the
 * slot's UA, whose bytes the cache compared whole); one that does not fit
 * is not kept.  Used before the log handler returns.
 */

#define NGX_HTTP_POSTHOG_UA_PIECES      64
#define NGX_HTTP_POSTHOG_UA_PIECE_DATA  1024

typedef struct {
    posthog_ua_slot_t         *slot;         /* NULL: empty */
    uint32_t                   stamp;
    ngx_uint_t                 gen;
    size_t                     len;
    u_char                     data[NGX_HTTP_POSTHOG_UA_PIECE_DATA];
} ngx_http_posthog_ua_piece_t;

static ngx_http_posthog_ua_piece_t
    ngx_http_posthog_ua_pieces[NGX_HTTP_POSTHOG_UA_PIECES];

static ngx_str_t  ngx_http_posthog_pageview_name = ngx_string("$pageview");
static ngx_str_t  ngx_http_posthog_bot_pageview = ngx_string("$bot_pageview");


ngx_uint_t
ngx_http_posthog_ua_skip(ngx_http_request_t *r, ngx_uint_t count)
{
    ngx_http_posthog_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    if (plcf->ua.bots == NGX_HTTP_POSTHOG_BOTS_CAPTURE
        || !ngx_http_posthog_ua_bot(r))
    {
        return 0;
    }

    if (count) {
        ngx_http_posthog_stat_add(NGX_HTTP_POSTHOG_STAT_BOTS, 1);
    }

    return 1;
}


/*
 * A bot's page view kept with "posthog_bots capture" is named as
 * posthog-js names it (__preview_capture_bot_pageviews): it stays out of
 * the $pageview counts of web analytics, and can still be looked at.
 */

void
ngx_http_posthog_ua_event_name(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_http_posthog_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    /*
     * Without "posthog_bots capture" a bot's request has no event
     * (ngx_http_posthog_ua_skip(), in the same location): no question.
     * Then the verdict: the memo answers, and most are not bots.
     */

    if (plcf->ua.bots != NGX_HTTP_POSTHOG_BOTS_CAPTURE
        || !ngx_http_posthog_ua_bot(r)
        || name->len != ngx_http_posthog_pageview_name.len
        || ngx_memcmp(name->data, ngx_http_posthog_pageview_name.data,
                      name->len) != 0)
    {
        return;
    }

    *name = ngx_http_posthog_bot_pageview;
}


ngx_int_t
ngx_http_posthog_ua_props(ngx_http_request_t *r, ngx_array_t *a)
{
    const posthog_ua_entry_t     *e;
    ngx_http_posthog_member_t    *m;
    ngx_http_posthog_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    /* only "posthog_bots capture" lets a bot get here */

    if (plcf->ua.bots == NGX_HTTP_POSTHOG_BOTS_CAPTURE
        && ngx_http_posthog_ua_bot(r))
    {
        if (ngx_http_posthog_member(a, "$browser_type", (u_char *) "bot", 3)
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    if (!plcf->ua.parse) {
        return NGX_OK;
    }

    e = ngx_http_posthog_ua_entry(r);
    if (e == NULL) {
        return NGX_ERROR;
    }

    /*
     * The members the entry wrote once for this UA, as one: the first
     * one's key, the rest as its raw value ("Linux","$browser":...).
     * Never cut (names, versions, tags).  Not copied: the event is written
     * before its handler returns, and until then the slot is refilled by
     * no one (only another request's UA would take it).
     */

    m = ngx_http_posthog_member(a, (char *) e->json_key,
                                (u_char *) e->json, e->json_len);
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->raw = 1;

    return NGX_OK;
}


ngx_int_t
ngx_http_posthog_ua_piece(ngx_http_request_t *r, ngx_array_t *a)
{
    u_char                       *p;
    size_t                        len;
    ngx_array_t                   ma;
    ngx_http_posthog_member_t    *m, mm[3];
    ngx_http_posthog_ua_memo_t   *memo;
    ngx_http_posthog_ua_piece_t  *pc;
    ngx_http_posthog_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    /* a captured bot has its $browser_type too: the members */

    if (!plcf->ua.parse || plcf->ua.bots == NGX_HTTP_POSTHOG_BOTS_CAPTURE
        || r->headers_in.user_agent == NULL)
    {
        return NGX_DECLINED;
    }

    memo = ngx_http_posthog_ua_parsed(r);
    if (memo == NULL) {
        return NGX_ERROR;
    }

    if (memo->slot == NULL) {
        return NGX_DECLINED;        /* not cached: the request's own */
    }

    pc = &ngx_http_posthog_ua_pieces[(memo->slot
                                      - ngx_http_posthog_ua_cache->slot)
                                     % NGX_HTTP_POSTHOG_UA_PIECES];

    if (pc->slot != memo->slot || pc->stamp != memo->stamp
        || pc->gen != memo->gen)
    {
        pc->slot = NULL;

        ngx_http_posthog_ua_members(r, memo->e, mm);

        ma.elts = mm;
        ma.nelts = 3;

        len = ngx_http_posthog_members_bound(&ma);

        if (len > NGX_HTTP_POSTHOG_UA_PIECE_DATA
            && ngx_http_posthog_members_len(&ma)
               > NGX_HTTP_POSTHOG_UA_PIECE_DATA)
        {
            return NGX_DECLINED;
        }

        p = ngx_http_posthog_members_write(pc->data, &ma);

        pc->len = p - pc->data;
        pc->slot = memo->slot;
        pc->stamp = memo->stamp;
        pc->gen = memo->gen;
    }

    m = ngx_http_posthog_member_n(a, NULL, 0, pc->data, pc->len);
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->raw = 1;
    m->cut = NGX_HTTP_POSTHOG_CUT_UA_PIECE;

    return NGX_OK;
}


/* the members of the piece at a[i], in its place, where an event is cut */

ngx_int_t
ngx_http_posthog_ua_unpiece(ngx_http_request_t *r, ngx_array_t *a,
    ngx_uint_t i)
{
    ngx_http_posthog_member_t   *m;
    ngx_http_posthog_ua_memo_t  *memo;

    /* the same entry: nothing ran since the piece was found */

    memo = ngx_http_posthog_ua_parsed(r);
    if (memo == NULL) {
        return NGX_ERROR;
    }

    if (ngx_array_push_n(a, 2) == NULL) {
        return NGX_ERROR;
    }

    m = a->elts;

    ngx_memmove(&m[i + 3], &m[i + 1],
                (a->nelts - 3 - i) * sizeof(ngx_http_posthog_member_t));

    ngx_http_posthog_ua_members(r, memo->e, &m[i]);

    return NGX_OK;
}


/*
 * As ngx_http_posthog_standard_props() and ngx_http_posthog_ua_props()
 * make them: $raw_user_agent (cut first), $lib, the UA's properties.
 */

static void
ngx_http_posthog_ua_members(ngx_http_request_t *r,
    const posthog_ua_entry_t *e, ngx_http_posthog_member_t *m)
{
    ngx_memzero(m, 3 * sizeof(ngx_http_posthog_member_t));

    ngx_str_set(&m[0].key, "$raw_user_agent");
    m[0].value = r->headers_in.user_agent->value;
    m[0].max = NGX_HTTP_POSTHOG_UA_MAX;
    m[0].cut = NGX_HTTP_POSTHOG_CUT_USER_AGENT;

    ngx_str_set(&m[1].value, NGX_HTTP_POSTHOG_LIB_MEMBERS);
    m[1].max = NGX_HTTP_POSTHOG_VALUE_MAX;
    m[1].raw = 1;

    m[2].key.data = (u_char *) e->json_key;
    m[2].key.len = ngx_strlen(e->json_key);
    m[2].value.data = (u_char *) e->json;
    m[2].value.len = e->json_len;
    m[2].max = NGX_HTTP_POSTHOG_VALUE_MAX;
    m[2].raw = 1;
}


/* the request's memo, made at its first question */

static ngx_http_posthog_ua_memo_t *
ngx_http_posthog_ua_memo(ngx_http_request_t *r)
{
    ngx_str_t                      s;
    posthog_ua_cache_t            *cache;
    ngx_http_variable_value_t     *v;
    ngx_http_posthog_ua_memo_t    *memo;
    ngx_http_posthog_ua_main_t    *um;
    ngx_http_posthog_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_posthog_module);
    um = pmcf->ua;

    if (r->headers_in.user_agent) {
        s = r->headers_in.user_agent->value;

    } else {
        ngx_str_null(&s);
    }

    v = &r->main->variables[um->is_bot];
    memo = (ngx_http_posthog_ua_memo_t *) v->data;

    if (memo && memo->e && memo->ua.data == s.data && memo->ua.len == s.len
        && (memo->slot == NULL
            || (memo->gen == ngx_http_posthog_ua_cache_gen
                && memo->slot->stamp == memo->stamp)))
    {
        return memo;
    }

    /*
     * The first question; or the slot went to another UA since the last,
     * or the cache itself (a reload of a single process resized it), or
     * a module rewrote the header.
     */

    if (memo == NULL) {
        memo = ngx_palloc(r->pool, sizeof(ngx_http_posthog_ua_memo_t));
        if (memo == NULL) {
            return NULL;
        }

        memo->ua.len = (size_t) -1;    /* for no UA */

        v->data = &memo->value;
        v->len = 1;
        v->valid = 0;
        v->no_cacheable = 1;
        v->not_found = 0;
    }

    if (memo->ua.data != s.data || memo->ua.len != s.len) {
        memo->value = '0';
        memo->checked = 0;
        memo->extra = 0;
        memo->bot_ua = NULL;
        memo->ua = s;
    }

    memo->e = NULL;

    cache = ngx_http_posthog_ua_cache_get(r, um);

    memo->slot = posthog_ua_find(cache, s.data, s.len);

    if (memo->slot) {
        memo->stamp = memo->slot->stamp;
        memo->gen = ngx_http_posthog_ua_cache_gen;
        memo->e = &memo->slot->e;
        return memo;
    }

    /* not cached: the request's own */

    memo->e = ngx_palloc(r->pool, sizeof(posthog_ua_entry_t));
    if (memo->e == NULL) {
        return NULL;
    }

    posthog_ua_check(memo->e, s.data, s.len);

    return memo;
}


static posthog_ua_cache_t *
ngx_http_posthog_ua_cache_get(ngx_http_request_t *r,
    ngx_http_posthog_ua_main_t *um)
{
    size_t  size;

    if (ngx_http_posthog_ua_cache_n == um->cache) {
        return ngx_http_posthog_ua_cache;
    }

    /* the first request of this worker (or a new size after a reload) */

    ngx_http_posthog_ua_cache_gen++;

    if (ngx_http_posthog_ua_cache) {
        ngx_free(ngx_http_posthog_ua_cache);
        ngx_http_posthog_ua_cache = NULL;
    }

    ngx_http_posthog_ua_cache_n = um->cache;

    if (um->cache) {
        size = posthog_ua_cache_size(um->cache);

        ngx_http_posthog_ua_cache = ngx_calloc(size, r->connection->log);

        if (ngx_http_posthog_ua_cache) {
            ngx_http_posthog_ua_cache->n = um->cache;
        }
    }

    return ngx_http_posthog_ua_cache;
}


/* the request's UA parsed: the cached parse, or made now */

static const posthog_ua_entry_t *
ngx_http_posthog_ua_entry(ngx_http_request_t *r)
{
    ngx_http_posthog_ua_memo_t  *memo;

    memo = ngx_http_posthog_ua_parsed(r);

    return memo ? memo->e : NULL;
}


/* the memo, its entry parsed */

static ngx_http_posthog_ua_memo_t *
ngx_http_posthog_ua_parsed(ngx_http_request_t *r)
{
    ngx_str_t                      s;
    posthog_ua_entry_t            *e;
    ngx_http_posthog_ua_memo_t    *memo;
    ngx_http_posthog_main_conf_t  *pmcf;

    static ngx_http_posthog_limit_t  limit;

    memo = ngx_http_posthog_ua_memo(r);
    if (memo == NULL) {
        return NULL;
    }

    if (memo->e->parsed) {
        return memo;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_posthog_module);

    if (r->headers_in.user_agent) {
        s = r->headers_in.user_agent->value;

    } else {
        ngx_str_null(&s);
    }

    if (posthog_ua_complete(memo->e, s.data, s.len, ngx_http_posthog_ua_exec,
                            pmcf->ua)
        == 0)
    {
        return memo;
    }

    ngx_http_posthog_log_limited(&limit, NGX_LOG_ERR, r->connection->log,
                                 "user agent rules failed to run on \"%V\"",
                                 &s);

    /* a result a failed pattern made is not kept: the next try may work */

    if (memo->slot) {
        e = ngx_palloc(r->pool, sizeof(posthog_ua_entry_t));
        if (e == NULL) {
            return NULL;
        }

        *e = memo->slot->e;
        posthog_ua_release(memo->slot);

        memo->slot = NULL;
        memo->e = e;
    }

    return memo;
}


const posthog_ua_t *
ngx_http_posthog_ua_get(ngx_http_request_t *r)
{
    const posthog_ua_entry_t  *e;

    e = ngx_http_posthog_ua_entry(r);

    return e ? &e->ua : NULL;
}


/* posthog-js's list, ours, then the location's patterns: once each */

static ngx_http_posthog_ua_memo_t *
ngx_http_posthog_ua_verdict(ngx_http_request_t *r)
{
    ngx_http_posthog_ua_memo_t   *memo;
    ngx_http_posthog_loc_conf_t  *plcf;

    memo = ngx_http_posthog_ua_memo(r);
    if (memo == NULL) {
        return NULL;
    }

    if (memo->e->ua.bot || memo->e->ua.client) {
        memo->value = '1';
        return memo;
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_posthog_module);

    if (!memo->checked || memo->bot_ua != plcf->ua.bot_ua) {
        memo->bot_ua = plcf->ua.bot_ua;
        memo->extra = plcf->ua.bot_ua
                      && ngx_http_posthog_ua_extra(r, plcf->ua.bot_ua);
        memo->checked = 1;
    }

    memo->value = memo->extra ? '1' : '0';

    return memo;
}


static ngx_uint_t
ngx_http_posthog_ua_bot(ngx_http_request_t *r)
{
    ngx_http_posthog_ua_memo_t  *memo;

    memo = ngx_http_posthog_ua_verdict(r);

    return memo != NULL && memo->value == '1';
}


/* posthog_bot_user_agent */

static ngx_uint_t
ngx_http_posthog_ua_extra(ngx_http_request_t *r, ngx_array_t *bot_ua)
{
    ngx_int_t       rc;
    ngx_str_t       s;
    ngx_uint_t      i;
    ngx_regex_t   **re;

    static ngx_http_posthog_limit_t  limit;

    if (r->headers_in.user_agent) {
        s = r->headers_in.user_agent->value;

    } else {
        ngx_str_null(&s);
    }

    re = bot_ua->elts;

    for (i = 0; i < bot_ua->nelts; i++) {
        rc = ngx_regex_exec(re[i], &s, NULL, 0);

        if (rc >= 0) {
            return 1;
        }

        if (rc != NGX_REGEX_NO_MATCHED) {
            ngx_http_posthog_log_limited(&limit, NGX_LOG_ERR,
                                         r->connection->log,
                                         "posthog_bot_user_agent: "
                                         ngx_regex_exec_n " failed: %i", rc);
        }
    }

    return 0;
}


static int
ngx_http_posthog_ua_exec(void *data, unsigned id, const unsigned char *s,
    size_t len, int *cap, int ncap)
{
    int                          i, ov[3 * POSTHOG_UA_CAPTURES];
    ngx_int_t                    rc;
    ngx_str_t                    str;
    ngx_http_posthog_ua_main_t  *um;

    um = data;

    str.data = (u_char *) s;
    str.len = len;

    /* ngx_regex_exec() takes PCRE1's 3 ints per group and fills 2 */

    rc = ngx_regex_exec(um->re[id], &str, ov, 3 * POSTHOG_UA_CAPTURES);

    if (rc == NGX_REGEX_NO_MATCHED) {
        return 0;
    }

    if (rc < 0) {
        return -1;
    }

    if (rc == 0 || rc > POSTHOG_UA_CAPTURES) {
        rc = POSTHOG_UA_CAPTURES;
    }

    for (i = 0; i < rc && 2 * i + 1 < ncap; i++) {
        cap[2 * i] = ov[2 * i];
        cap[2 * i + 1] = ov[2 * i + 1];
    }

    return 1;
}


static ngx_int_t
ngx_http_posthog_ua_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                       *p;
    size_t                        len, prefix;
    ngx_str_t                     lang;
    const char                   *s;
    const posthog_ua_t           *ua;
    ngx_http_posthog_ua_memo_t   *memo;

    s = NULL;
    len = 0;

    switch (data) {

    case NGX_HTTP_POSTHOG_VAR_IS_BOT:

        /* the memo's byte, for this location: never kept by nginx */

        memo = ngx_http_posthog_ua_verdict(r);
        if (memo == NULL) {
            return NGX_ERROR;
        }

        v->data = &memo->value;
        v->len = 1;
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;

        return NGX_OK;

    case NGX_HTTP_POSTHOG_VAR_LANGUAGE:
        if (ngx_http_posthog_language(r, &lang, &prefix) == NGX_OK) {
            s = (const char *) lang.data;
            len = lang.len;
        }

        break;

    default:
        ua = ngx_http_posthog_ua_get(r);
        if (ua == NULL) {
            return NGX_ERROR;
        }

        switch (data) {
        case NGX_HTTP_POSTHOG_VAR_BROWSER:
            s = ua->browser;
            break;
        case NGX_HTTP_POSTHOG_VAR_BROWSER_VERSION:
            s = ua->browser_version;
            len = ua->browser_version_len;
            break;
        case NGX_HTTP_POSTHOG_VAR_OS:
            s = ua->os;
            break;
        case NGX_HTTP_POSTHOG_VAR_OS_VERSION:
            s = ua->os_version;
            len = ua->os_version_len;
            break;
        case NGX_HTTP_POSTHOG_VAR_DEVICE:
            s = ua->device;
            break;
        default: /* NGX_HTTP_POSTHOG_VAR_DEVICE_TYPE */
            s = ua->device_type;
            break;
        }

        if (data != NGX_HTTP_POSTHOG_VAR_BROWSER_VERSION
            && data != NGX_HTTP_POSTHOG_VAR_OS_VERSION)
        {
            len = ngx_strlen(s);
        }
    }

    if (len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    /* the versions come from the UA: copied, as the cache slot may go */

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, s, len);

    v->data = p;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_posthog_ua_add_variables(ngx_conf_t *cf)
{
    return ngx_http_posthog_add_variable_table(cf, ngx_http_posthog_ua_vars);
}


void
ngx_http_posthog_ua_create_conf(ngx_http_posthog_ua_conf_t *conf)
{
    conf->parse = NGX_CONF_UNSET;
    conf->bots = NGX_CONF_UNSET_UINT;
    conf->bot_ua = NULL;
}


void
ngx_http_posthog_ua_merge_conf(ngx_http_posthog_ua_conf_t *prev,
    ngx_http_posthog_ua_conf_t *conf)
{
    ngx_conf_merge_value(conf->parse, prev->parse, 1);
    ngx_conf_merge_uint_value(conf->bots, prev->bots,
                              NGX_HTTP_POSTHOG_BOTS_IGNORE);

    if (conf->bot_ua == NULL) {
        conf->bot_ua = prev->bot_ua;
    }
}


static ngx_http_posthog_ua_main_t *
ngx_http_posthog_ua_main(ngx_conf_t *cf, ngx_http_posthog_main_conf_t *pmcf)
{
    ngx_http_posthog_ua_main_t  *um;

    if (pmcf->ua) {
        return pmcf->ua;
    }

    um = ngx_pcalloc(cf->pool, sizeof(ngx_http_posthog_ua_main_t));
    if (um == NULL) {
        return NULL;
    }

    um->cache = NGX_CONF_UNSET;
    pmcf->ua = um;

    return um;
}


/* posthog-js's patterns, compiled once for all workers */

char *
ngx_http_posthog_ua_init_main_conf(ngx_conf_t *cf,
    ngx_http_posthog_main_conf_t *pmcf)
{
    ngx_str_t                    name;
    ngx_uint_t                   i;
    ngx_regex_compile_t          rc;
    ngx_http_posthog_ua_main_t  *um;
    u_char                       errstr[NGX_MAX_CONF_ERRSTR];

    um = ngx_http_posthog_ua_main(cf, pmcf);
    if (um == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_value(um->cache, NGX_HTTP_POSTHOG_UA_CACHE_DEFAULT);

    name.len = sizeof("posthog_is_bot") - 1;
    name.data = (u_char *) "posthog_is_bot";

    um->is_bot = ngx_http_get_variable_index(cf, &name);
    if (um->is_bot == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < POSTHOG_UA_RE_N; i++) {
        ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

        rc.pattern.data = (u_char *) posthog_ua_regex[i].pattern;
        rc.pattern.len = ngx_strlen(posthog_ua_regex[i].pattern);
        rc.pool = cf->pool;
        rc.options = posthog_ua_regex[i].caseless ? NGX_REGEX_CASELESS : 0;
        rc.err.len = NGX_MAX_CONF_ERRSTR;
        rc.err.data = errstr;

        if (ngx_regex_compile(&rc) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "posthog user agent rule \"%V\": %V",
                               &rc.pattern, &rc.err);
            return NGX_CONF_ERROR;
        }

        if (rc.captures + 1 > POSTHOG_UA_CAPTURES) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "posthog user agent rule \"%V\": too many "
                               "groups", &rc.pattern);
            return NGX_CONF_ERROR;
        }

        um->re[i] = rc.regex;
    }

    return NGX_CONF_OK;
}


/* posthog_bot_user_agent REGEX ...: case-insensitive, as posthog-js's list */

char *
ngx_http_posthog_bot_user_agent(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_posthog_loc_conf_t *plcf = conf;

    ngx_str_t            *value;
    ngx_uint_t            i;
    ngx_regex_t         **re;
    ngx_regex_compile_t   rc;
    u_char                errstr[NGX_MAX_CONF_ERRSTR];

    if (plcf->ua.bot_ua) {
        return "is duplicate";
    }

    plcf->ua.bot_ua = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                       sizeof(ngx_regex_t *));
    if (plcf->ua.bot_ua == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

        rc.pattern = value[i];
        rc.pool = cf->pool;
        rc.options = NGX_REGEX_CASELESS;
        rc.err.len = NGX_MAX_CONF_ERRSTR;
        rc.err.data = errstr;

        if (value[i].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": an empty pattern would match every "
                               "user agent", &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (ngx_regex_compile(&rc) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" \"%V\": %V",
                               &cmd->name, &value[i], &rc.err);
            return NGX_CONF_ERROR;
        }

        re = ngx_array_push(plcf->ua.bot_ua);
        if (re == NULL) {
            return NGX_CONF_ERROR;
        }

        *re = rc.regex;
    }

    return NGX_CONF_OK;
}


/* posthog_user_agent_cache SLOTS: per worker; 0 turns the cache off */

char *
ngx_http_posthog_user_agent_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_posthog_main_conf_t *pmcf = conf;

    ngx_int_t                    n;
    ngx_str_t                   *value;
    ngx_http_posthog_ua_main_t  *um;

    um = ngx_http_posthog_ua_main(cf, pmcf);
    if (um == NULL) {
        return NGX_CONF_ERROR;
    }

    if (um->cache != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n > 65536) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid number of slots \"%V\" "
                           "(0 to 65536)", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    um->cache = n;

    return NGX_CONF_OK;
}
