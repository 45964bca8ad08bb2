/*
 * Command-line flags, each with an environment variable of the same name
 * (POSTHOG_SHIPPER_<FLAG>, and POSTHOG_HOST for --host). A flag wins over
 * its variable. Every value is validated here, once; an error names the
 * flag (or the variable) and the value.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "shipper.h"


typedef enum {
    PH_OPT_STR,
    PH_OPT_INT,
    PH_OPT_MS,          /* duration: 250, 250ms, 5s, 2m, 1h */
    PH_OPT_BYTES,       /* 4096, 512k, 5m */
    PH_OPT_ONOFF,
    PH_OPT_LEVEL,
    PH_OPT_REDIS,
    PH_OPT_URL,
    PH_OPT_LISTEN,
    PH_OPT_PORT,
    PH_OPT_FLAG
} ph_opt_type_t;

typedef struct {
    const char     *name;
    const char     *env;
    ph_opt_type_t   type;
    size_t          offset;
    const char     *def;            /* NULL: none / computed */
    long            min;
    long            max;
    const char     *arg;
    const char     *help;
} ph_opt_t;

#define OFF(f)  offsetof(ph_conf_t, f)

static const ph_opt_t  ph_opts[] = {

    { "redis", "POSTHOG_SHIPPER_REDIS", PH_OPT_REDIS, OFF(redis),
      "127.0.0.1:6379", 0, 0, "ADDR",
      "Redis: host:port or unix:/path/to/socket" },

    { "redis-username", "POSTHOG_SHIPPER_REDIS_USERNAME", PH_OPT_STR,
      OFF(redis_username), NULL, 0, 0, "NAME",
      "Redis ACL user (AUTH user password)" },

    { "redis-password", "POSTHOG_SHIPPER_REDIS_PASSWORD", PH_OPT_STR,
      OFF(redis_password), NULL, 0, 0, "PASSWORD",
      "Redis password (better in the environment)" },

    { "redis-timeout", "POSTHOG_SHIPPER_REDIS_TIMEOUT", PH_OPT_MS,
      OFF(redis_timeout), "5s", 100, 600000, "DURATION",
      "connect and reply timeout of Redis commands" },

    { "stream", "POSTHOG_SHIPPER_STREAM", PH_OPT_STR, OFF(stream),
      POSTHOG_STREAM_KEY, 0, 0, "KEY", "the stream the module writes" },

    { "group", "POSTHOG_SHIPPER_GROUP", PH_OPT_STR, OFF(group),
      POSTHOG_STREAM_GROUP, 0, 0, "NAME",
      "consumer group (made from id 0 if missing)" },

    { "consumer", "POSTHOG_SHIPPER_CONSUMER", PH_OPT_STR, OFF(consumer),
      NULL, 0, 0, "NAME",
      "consumer name; keep it across restarts\n"
      "(default hostname-pid)" },

    { "dead-stream", "POSTHOG_SHIPPER_DEAD_STREAM", PH_OPT_STR,
      OFF(dead_stream), NULL, 0, 0, "KEY",
      "dead-letter stream (default <stream>:dead)" },

    { "dead-maxlen", "POSTHOG_SHIPPER_DEAD_MAXLEN", PH_OPT_INT,
      OFF(dead_maxlen), "100000", 0, LONG_MAX, "N",
      "MAXLEN ~ of the dead-letter stream, 0: none" },

    { "host", "POSTHOG_HOST", PH_OPT_URL, OFF(host),
      "https://us.i.posthog.com", 0, 0, "URL",
      "PostHog URL; batches go to URL/batch/" },

    { "batch-size", "POSTHOG_SHIPPER_BATCH_SIZE", PH_OPT_INT,
      OFF(batch_size), "100", 1, 10000, "N", "events per request at most" },

    { "batch-bytes", "POSTHOG_SHIPPER_BATCH_BYTES", PH_OPT_BYTES,
      OFF(batch_bytes), "5m", 1024, PH_MAX_BATCH_BYTES, "SIZE",
      "request body bytes at most, before gzip" },

    { "flush-interval", "POSTHOG_SHIPPER_FLUSH_INTERVAL", PH_OPT_MS,
      OFF(flush_interval), "500ms", 0, 3600000, "DURATION",
      "send a partial batch when its oldest event\n"
      "waited this long" },

    { "gzip", "POSTHOG_SHIPPER_GZIP", PH_OPT_ONOFF, OFF(gzip), "on", 0, 0,
      "on|off", "gzip request bodies (Content-Encoding: gzip)" },

    { "timeout", "POSTHOG_SHIPPER_TIMEOUT", PH_OPT_MS, OFF(timeout), "10s",
      100, 600000, "DURATION", "timeout of one HTTP request" },

    { "claim-idle", "POSTHOG_SHIPPER_CLAIM_IDLE", PH_OPT_MS,
      OFF(claim_idle), "60s", 100, 86400000, "DURATION",
      "take over entries pending this long\n"
      "(XAUTOCLAIM: consumers that died)" },

    { "retry-delay", "POSTHOG_SHIPPER_RETRY_DELAY", PH_OPT_MS,
      OFF(retry_delay), "1s", 1, 3600000, "DURATION",
      "first retry delay; doubles, with jitter" },

    { "max-retry-delay", "POSTHOG_SHIPPER_MAX_RETRY_DELAY", PH_OPT_MS,
      OFF(max_retry_delay), "30s", 1, 86400000, "DURATION",
      "retry delay cap (a Retry-After up to 10m wins)" },

    { "auth-retry-delay", "POSTHOG_SHIPPER_AUTH_RETRY_DELAY", PH_OPT_MS,
      OFF(auth_retry_delay), "5m", 1, 86400000, "DURATION",
      "after 401/403 (or 404, 3xx...), leave the\n"
      "token alone this long" },

    { "shutdown-timeout", "POSTHOG_SHIPPER_SHUTDOWN_TIMEOUT", PH_OPT_MS,
      OFF(shutdown_timeout), "5s", 0, 600000, "DURATION",
      "on SIGTERM, wait for the request in flight" },

    { "max-buffered", "POSTHOG_SHIPPER_MAX_BUFFERED", PH_OPT_INT,
      OFF(max_buffered), "10000", 1, 10000000, "N",
      "events held in memory at most" },

    { "stats-interval", "POSTHOG_SHIPPER_STATS_INTERVAL", PH_OPT_MS,
      OFF(stats_interval), "60s", 0, 86400000, "DURATION",
      "log the counters this often, 0: never" },

    { "metrics-port", "POSTHOG_SHIPPER_METRICS_PORT", PH_OPT_PORT,
      OFF(metrics_port), NULL, 1, 65535, "PORT",
      "Prometheus /metrics on 127.0.0.1:PORT" },

    { "metrics-listen", "POSTHOG_SHIPPER_METRICS_LISTEN", PH_OPT_LISTEN,
      OFF(metrics_addr), NULL, 0, 0, "ADDR:PORT",
      "Prometheus /metrics on this IPv4 ADDR:PORT" },

    { "output", "POSTHOG_SHIPPER_OUTPUT", PH_OPT_STR, OFF(output), NULL,
      0, 0, "-|FILE",
      "write batches as JSON lines instead of POST" },

    { "log-level", "POSTHOG_SHIPPER_LOG_LEVEL", PH_OPT_LEVEL,
      OFF(log_level), "info", 0, 0, "LEVEL", "error, warn, info or debug" },

    { "replay-dead", NULL, PH_OPT_FLAG, OFF(replay_dead), NULL, 0, 0, NULL,
      "move the dead letters back to the stream, exit" },
};

#define PH_NOPTS  (sizeof(ph_opts) / sizeof(ph_opts[0]))


static void
ph_usage(FILE *f)
{
    size_t           i;
    char             left[64];
    const char      *p;
    const ph_opt_t  *o;

    fprintf(f,
        "Usage: posthog-shipper [OPTION]...\n"
        "Ship events from the Redis stream written by ngx_http_posthog_module\n"
        "to PostHog's /batch/ API (docs/shipper.md).\n\n"
        "Every option can also be set with the environment variable shown;\n"
        "a command-line option wins. Durations take ms, s, m or h (plain\n"
        "numbers are ms); sizes take k or m.\n\n");

    for (i = 0; i < PH_NOPTS; i++) {
        o = &ph_opts[i];

        if (o->arg) {
            snprintf(left, sizeof(left), "--%s %s", o->name, o->arg);
        } else {
            snprintf(left, sizeof(left), "--%s", o->name);
        }

        /* a help text may span lines: indent the next ones */
        fprintf(f, "  %-28s ", left);
        for (p = o->help; *p; p++) {
            fputc(*p, f);
            if (*p == '\n') {
                fprintf(f, "  %-28s ", "");
            }
        }

        fputc('\n', f);

        if (o->env) {
            fprintf(f, "  %-28s env %s", "", o->env);
            if (o->def && strlen(o->env) + strlen(o->def) > 34) {
                fprintf(f, "\n  %-28s default %s", "", o->def);
            } else if (o->def) {
                fprintf(f, ", default %s", o->def);
            }
            fputc('\n', f);
        }
    }

    fprintf(f, "  %-28s %s\n  %-28s %s\n", "--help", "this text",
            "--version", "print the version");
}


static int
ph_bad(const ph_opt_t *o, const char *val, int from_env, const char *why)
{
    if (from_env) {
        fprintf(stderr, "posthog-shipper: invalid value \"%s\" for %s "
                "(environment, for --%s): %s\n", val, o->env, o->name, why);
    } else {
        fprintf(stderr, "posthog-shipper: invalid value \"%s\" for --%s: %s\n",
                val, o->name, why);
    }

    return -1;
}


static int
ph_parse_num(const char *val, long *out, long *mult, int ms)
{
    char        *end;
    long         n;
    long double  d;

    if (*val == '\0' || *val == '-' || *val == '+' || *val == ' ') {
        return -1;
    }

    errno = 0;
    n = strtol(val, &end, 10);
    if (errno || end == val) {
        return -1;
    }

    *mult = 1;

    if (*end != '\0') {
        if (ms) {
            if (strcmp(end, "ms") == 0) {
                *mult = 1;
            } else if (strcmp(end, "s") == 0) {
                *mult = 1000;
            } else if (strcmp(end, "m") == 0) {
                *mult = 60000;
            } else if (strcmp(end, "h") == 0) {
                *mult = 3600000;
            } else {
                return -1;
            }

        } else {
            if (strcasecmp(end, "k") == 0) {
                *mult = 1024;
            } else if (strcasecmp(end, "m") == 0) {
                *mult = 1024 * 1024;
            } else {
                return -1;
            }
        }
    }

    d = (long double) n * *mult;
    if (d > LONG_MAX) {
        return -1;
    }

    *out = n * *mult;

    return 0;
}


static int
ph_set(ph_conf_t *cf, const ph_opt_t *o, const char *val, int from_env)
{
    char   *p, **sp, why[160];
    long    n, mult, port;
    void   *field;

    field = (char *) cf + o->offset;

    switch (o->type) {

    case PH_OPT_STR:
        if (*val == '\0') {
            return ph_bad(o, val, from_env, "must not be empty");
        }
        sp = field;
        free(*sp);
        *sp = strdup(val);
        return 0;

    case PH_OPT_INT:
    case PH_OPT_PORT:
        if (ph_parse_num(val, &n, &mult, 0) != 0 || mult != 1
            || n < o->min || n > o->max)
        {
            snprintf(why, sizeof(why), "expected an integer from %ld to %ld",
                     o->min, o->max);
            return ph_bad(o, val, from_env, why);
        }
        if (o->type == PH_OPT_PORT) {
            *(int *) field = (int) n;
        } else {
            *(long *) field = n;
        }
        return 0;

    case PH_OPT_MS:
        if (ph_parse_num(val, &n, &mult, 1) != 0
            || n < o->min || n > o->max)
        {
            snprintf(why, sizeof(why), "expected a duration from %ldms to "
                     "%lds (e.g. 500ms, 5s, 2m)", o->min, o->max / 1000);
            return ph_bad(o, val, from_env, why);
        }
        *(long *) field = n;
        return 0;

    case PH_OPT_BYTES:
        if (ph_parse_num(val, &n, &mult, 0) != 0
            || n < o->min || n > o->max)
        {
            snprintf(why, sizeof(why), "expected a size from %ld to %ld bytes "
                     "(e.g. 512k, 5m)", o->min, o->max);
            return ph_bad(o, val, from_env, why);
        }
        *(long *) field = n;
        return 0;

    case PH_OPT_ONOFF:
        if (strcmp(val, "on") == 0) {
            *(int *) field = 1;
        } else if (strcmp(val, "off") == 0) {
            *(int *) field = 0;
        } else {
            return ph_bad(o, val, from_env, "expected on or off");
        }
        return 0;

    case PH_OPT_LEVEL:
        if (strcmp(val, "error") == 0) {
            n = PH_LOG_ERROR;
        } else if (strcmp(val, "warn") == 0) {
            n = PH_LOG_WARN;
        } else if (strcmp(val, "info") == 0) {
            n = PH_LOG_INFO;
        } else if (strcmp(val, "debug") == 0) {
            n = PH_LOG_DEBUG;
        } else {
            return ph_bad(o, val, from_env,
                          "expected error, warn, info or debug");
        }
        *(int *) field = (int) n;
        return 0;

    case PH_OPT_REDIS:
        free(cf->redis_host);
        free(cf->redis_unix);
        cf->redis_host = NULL;
        cf->redis_unix = NULL;

        if (strncmp(val, "unix:", 5) == 0) {
            if (val[5] != '/') {
                return ph_bad(o, val, from_env,
                              "expected unix:/absolute/path");
            }
            cf->redis_unix = strdup(val + 5);

        } else {
            p = strrchr(val, ':');
            if (p == NULL || p == val
                || ph_parse_num(p + 1, &port, &mult, 0) != 0 || mult != 1
                || port < 1 || port > 65535)
            {
                return ph_bad(o, val, from_env,
                              "expected host:port or unix:/path");
            }
            /* [::1]:6379 */
            if (*val == '[' && p[-1] == ']') {
                cf->redis_host = strndup(val + 1, p - val - 2);
            } else {
                cf->redis_host = strndup(val, p - val);
            }
            cf->redis_port = (int) port;
        }

        free(cf->redis);
        cf->redis = strdup(val);
        return 0;

    case PH_OPT_URL:
        if ((strncmp(val, "http://", 7) != 0
             && strncmp(val, "https://", 8) != 0)
            || strchr(val, ' ') != NULL
            || val[strlen(val) - 1] == ':' || strlen(val) < 9)
        {
            return ph_bad(o, val, from_env,
                          "expected an http:// or https:// URL");
        }
        sp = field;
        free(*sp);
        *sp = strdup(val);
        return 0;

    case PH_OPT_LISTEN:
        p = strrchr(val, ':');
        if (p == NULL || p == val
            || ph_parse_num(p + 1, &port, &mult, 0) != 0 || mult != 1
            || port < 1 || port > 65535)
        {
            return ph_bad(o, val, from_env, "expected ADDR:PORT, e.g. "
                          "127.0.0.1:9464");
        }
        free(cf->metrics_addr);
        cf->metrics_addr = strndup(val, p - val);
        cf->metrics_port = (int) port;
        return 0;

    case PH_OPT_FLAG:
        *(int *) field = 1;
        return 0;
    }

    return -1;
}


int
ph_conf_parse(ph_conf_t *cf, int argc, char **argv)
{
    int              i, from_flag[PH_NOPTS];
    char            *arg, *eq, host[256], buf[512];
    size_t           k, nlen;
    const char      *val;
    const ph_opt_t  *o;

    memset(cf, 0, sizeof(ph_conf_t));
    memset(from_flag, 0, sizeof(from_flag));

    /* defaults */
    for (k = 0; k < PH_NOPTS; k++) {
        if (ph_opts[k].def && ph_set(cf, &ph_opts[k], ph_opts[k].def, 0)) {
            return -1;
        }
    }

    /* flags first, remembering which were given, then the environment
     * for the rest: a flag wins over its variable */
    for (i = 1; i < argc; i++) {
        arg = argv[i];

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            ph_usage(stdout);
            return 1;
        }

        if (strcmp(arg, "--version") == 0) {
            printf("posthog-shipper %s\n", PH_SHIPPER_VERSION);
            return 1;
        }

        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "posthog-shipper: unexpected argument \"%s\" "
                    "(see --help)\n", arg);
            return -1;
        }

        eq = strchr(arg, '=');
        nlen = eq ? (size_t) (eq - arg - 2) : strlen(arg + 2);

        for (k = 0; k < PH_NOPTS; k++) {
            if (strlen(ph_opts[k].name) == nlen
                && strncmp(ph_opts[k].name, arg + 2, nlen) == 0)
            {
                break;
            }
        }

        if (k == PH_NOPTS) {
            fprintf(stderr, "posthog-shipper: unknown option \"%.*s\" "
                    "(see --help)\n", (int) nlen + 2, arg);
            return -1;
        }

        o = &ph_opts[k];

        if (o->type == PH_OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "posthog-shipper: --%s takes no value\n",
                        o->name);
                return -1;
            }
            val = "1";

        } else if (eq) {
            val = eq + 1;

        } else if (i + 1 < argc) {
            val = argv[++i];

        } else {
            fprintf(stderr, "posthog-shipper: --%s needs a value (%s)\n",
                    o->name, o->arg);
            return -1;
        }

        if (ph_set(cf, o, val, 0) != 0) {
            return -1;
        }

        from_flag[k] = 1;
    }

    for (k = 0; k < PH_NOPTS; k++) {
        if (from_flag[k] || ph_opts[k].env == NULL) {
            continue;
        }

        val = getenv(ph_opts[k].env);
        if (val == NULL || *val == '\0') {
            continue;
        }

        /* --metrics-listen and --metrics-port set the same thing */
        if ((ph_opts[k].type == PH_OPT_PORT || ph_opts[k].type
             == PH_OPT_LISTEN) && cf->metrics_port)
        {
            continue;
        }

        if (ph_set(cf, &ph_opts[k], val, 1) != 0) {
            return -1;
        }
    }

    /* computed defaults */

    if (cf->metrics_port && cf->metrics_addr == NULL) {
        cf->metrics_addr = strdup("127.0.0.1");
    }

    if (cf->consumer == NULL) {
        if (gethostname(host, sizeof(host)) != 0) {
            strcpy(host, "localhost");
        }
        host[sizeof(host) - 1] = '\0';
        snprintf(buf, sizeof(buf), "%s-%d", host, (int) getpid());
        cf->consumer = strdup(buf);
    }

    if (cf->dead_stream == NULL) {
        snprintf(buf, sizeof(buf), "%s" POSTHOG_STREAM_DEAD_SUFFIX,
                 cf->stream);
        cf->dead_stream = strdup(buf);
    }

    if (strcmp(cf->dead_stream, cf->stream) == 0) {
        fprintf(stderr, "posthog-shipper: invalid value \"%s\" for "
                "--dead-stream: must differ from --stream\n", cf->dead_stream);
        return -1;
    }

    nlen = strlen(cf->host);
    while (nlen > 0 && cf->host[nlen - 1] == '/') {
        nlen--;
    }
    cf->url = malloc(nlen + sizeof("/batch/"));
    memcpy(cf->url, cf->host, nlen);
    memcpy(cf->url + nlen, "/batch/", sizeof("/batch/"));

    ph_log_level = cf->log_level;

    return 0;
}


void
ph_conf_free(ph_conf_t *cf)
{
    free(cf->redis);
    free(cf->redis_host);
    free(cf->redis_unix);
    free(cf->redis_username);
    free(cf->redis_password);
    free(cf->stream);
    free(cf->group);
    free(cf->consumer);
    free(cf->dead_stream);
    free(cf->host);
    free(cf->url);
    free(cf->metrics_addr);
    free(cf->output);
}
