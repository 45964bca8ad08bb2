/*
 * ngx_posthog_module: the directives of the Redis writer, posthog_redis
 * and posthog_buffer (http level), and their defaults.  Parsed and
 * checked here, once; the writer (ngx_http_posthog_redis.c) only reads
 * the result.
 */


#include "ngx_http_posthog.h"
#include "posthog_resp.h"


#define NGX_HTTP_POSTHOG_REDIS_PORT         6379
#define NGX_HTTP_POSTHOG_REDIS_MAXLEN       1000000
#define NGX_HTTP_POSTHOG_CONNECT_TIMEOUT    1000
#define NGX_HTTP_POSTHOG_TIMEOUT            5000

#define NGX_HTTP_POSTHOG_BUFFER_SIZE        (4 * 1024 * 1024)
#define NGX_HTTP_POSTHOG_BUFFER_MIN         1024
#define NGX_HTTP_POSTHOG_FLUSH              100
#define NGX_HTTP_POSTHOG_EXIT_TIMEOUT       5000


/* posthog_redis ADDRESS [stream=] [maxlen=] [password=] [db=] [timeouts] */

char *
ngx_http_posthog_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_main_conf_t *pmcf = conf;

    ngx_int_t                       n;
    ngx_str_t                      *value, s;
    ngx_url_t                       u;
    ngx_uint_t                      i;
    ngx_http_posthog_redis_conf_t  *rcf;

    if (pmcf->redis != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_posthog_redis_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rcf->stream = { 0, NULL };    the default, see init_main_conf
     *     rcf->password = { 0, NULL };  no AUTH
     *     rcf->db = { 0, NULL };        no SELECT
     */

    rcf->maxlen = NGX_CONF_UNSET_UINT;
    rcf->connect_timeout = NGX_CONF_UNSET_MSEC;
    rcf->timeout = NGX_CONF_UNSET_MSEC;

    value = cf->args->elts;

    rcf->addr = value[1];

    if (value[1].len > 5 && ngx_strncasecmp(value[1].data,
                                            (u_char *) "unix:", 5) == 0)
    {
        s.data = value[1].data + 5;
        s.len = value[1].len - 5;

        if (s.len >= sizeof(((struct sockaddr_un *) 0)->sun_path)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "socket path in \"%V\" of \"%V\" is too long",
                               &value[1], &cmd->name);
            return NGX_CONF_ERROR;
        }

        rcf->unix_socket = 1;
        rcf->host.data = ngx_pnalloc(cf->pool, s.len + 1);
        if (rcf->host.data == NULL) {
            return NGX_CONF_ERROR;
        }

        rcf->host.len = s.len;
        ngx_cpystrn(rcf->host.data, s.data, s.len + 1);

    } else {
        ngx_memzero(&u, sizeof(ngx_url_t));

        u.url = value[1];
        u.default_port = NGX_HTTP_POSTHOG_REDIS_PORT;

        /* a name is resolved here, once: never in a worker */

        if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\" of \"%V\"",
                               u.err ? u.err : "invalid address", &value[1],
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (u.uri.len || u.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid address \"%V\" in \"%V\", expected "
                               "host:port or unix:/path", &value[1],
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (u.naddrs > 1) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"%V\" has %ui addresses, using %V",
                               &value[1], u.naddrs, &u.addrs[0].name);
        }

        rcf->host.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
        if (rcf->host.data == NULL) {
            return NGX_CONF_ERROR;
        }

        rcf->host.len = ngx_sock_ntop(u.addrs[0].sockaddr,
                                      u.addrs[0].socklen, rcf->host.data,
                                      NGX_SOCKADDR_STRLEN, 0);
        rcf->host.data[rcf->host.len] = '\0';
        rcf->port = ngx_inet_get_port(u.addrs[0].sockaddr);
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "stream=", 7) == 0) {
            rcf->stream.data = value[i].data + 7;
            rcf->stream.len = value[i].len - 7;

            if (rcf->stream.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "maxlen=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            n = ngx_atoi(s.data, s.len);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            /* maxlen=0: no trimming */
            rcf->maxlen = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rcf->password.data = value[i].data + 9;
            rcf->password.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            s.data = value[i].data + 3;
            s.len = value[i].len - 3;

            n = ngx_atoi(s.data, s.len);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            /* db=0 is what a new connection has */
            rcf->db = n ? s : (ngx_str_t) ngx_null_string;
            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0) {
            s.data = value[i].data + 16;
            s.len = value[i].len - 16;

            n = ngx_parse_time(&s, 0);
            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            rcf->connect_timeout = (ngx_msec_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            n = ngx_parse_time(&s, 0);
            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            rcf->timeout = (ngx_msec_t) n;
            continue;
        }

        goto invalid;
    }

    pmcf->redis = rcf;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\"", &value[i],
                       &cmd->name);

    return NGX_CONF_ERROR;
}


/* posthog_buffer SIZE [flush=] [exit_timeout=] */

char *
ngx_http_posthog_buffer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_posthog_main_conf_t *pmcf = conf;

    ssize_t                          size;
    ngx_int_t                        n;
    ngx_str_t                       *value, s;
    ngx_uint_t                       i;
    ngx_http_posthog_buffer_conf_t  *bcf;

    bcf = &pmcf->buffer;

    if (bcf->size != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < NGX_HTTP_POSTHOG_BUFFER_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid size \"%V\" in \"%V\", at least %d "
                           "bytes", &value[1], &cmd->name,
                           NGX_HTTP_POSTHOG_BUFFER_MIN);
        return NGX_CONF_ERROR;
    }

    bcf->size = size;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "flush=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            n = ngx_parse_time(&s, 0);
            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            bcf->flush = (ngx_msec_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "exit_timeout=", 13) == 0) {
            s.data = value[i].data + 13;
            s.len = value[i].len - 13;

            n = ngx_parse_time(&s, 0);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            bcf->exit_timeout = (ngx_msec_t) n;
            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\"", &value[i],
                       &cmd->name);

    return NGX_CONF_ERROR;
}


/* the defaults, for what posthog_redis and posthog_buffer did not say */

char *
ngx_http_posthog_redis_init_main_conf(ngx_conf_t *cf,
    ngx_http_posthog_main_conf_t *pmcf)
{
    ngx_http_posthog_redis_conf_t  *rcf;

    ngx_conf_init_ptr_value(pmcf->redis, NULL);

    rcf = pmcf->redis;

    if (rcf) {
        if (rcf->stream.data == NULL) {
            ngx_str_set(&rcf->stream, POSTHOG_STREAM_KEY);
        }

        ngx_conf_init_uint_value(rcf->maxlen, NGX_HTTP_POSTHOG_REDIS_MAXLEN);
        ngx_conf_init_msec_value(rcf->connect_timeout,
                                 NGX_HTTP_POSTHOG_CONNECT_TIMEOUT);
        ngx_conf_init_msec_value(rcf->timeout, NGX_HTTP_POSTHOG_TIMEOUT);
    }

    ngx_conf_init_size_value(pmcf->buffer.size, NGX_HTTP_POSTHOG_BUFFER_SIZE);
    ngx_conf_init_msec_value(pmcf->buffer.flush, NGX_HTTP_POSTHOG_FLUSH);
    ngx_conf_init_msec_value(pmcf->buffer.exit_timeout,
                             NGX_HTTP_POSTHOG_EXIT_TIMEOUT);

    return NGX_CONF_OK;
}
