/*
 * Logging to stderr: one line per message, UTC timestamp, level.
 * systemd's journal and docker both take stderr as it is.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shipper.h"


int  ph_log_level = PH_LOG_INFO;

static const char  *ph_level_names[] = { "error", "warn", "info", "debug" };


uint64_t
ph_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


void
ph_iso_now(char *buf)
{
    unsigned         ms;
    struct tm        tm;
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);

    /* 2026-11-28T20:16:33.290Z */
    strftime(buf, 21, "%Y-%m-%dT%H:%M:%S.", &tm);
    ms = (unsigned) (ts.tv_nsec / 1000000) % 1000;
    buf[20] = (char) ('0' + ms / 100);
    buf[21] = (char) ('0' + ms / 10 % 10);
    buf[22] = (char) ('0' + ms % 10);
    buf[23] = 'Z';
    buf[24] = '\0';
}


void
ph_log(int level, const char *fmt, ...)
{
    int      n;
    char     line[2048], now[25];
    va_list  ap;

    if (level > ph_log_level) {
        return;
    }

    ph_iso_now(now);

    n = snprintf(line, sizeof(line), "%s posthog-shipper[%d] %s: ",
                 now, (int) getpid(), ph_level_names[level]);

    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);

    if (n > (int) sizeof(line) - 2) {
        n = sizeof(line) - 2;
    }

    line[n++] = '\n';

    /* one write(2): lines of concurrent shippers sharing a file stay whole */
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nowhere left to report it */
    }
}
