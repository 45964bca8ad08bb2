/*
 * A tiny TAP producer for the C unit tests: prove reads what these
 * print.  Header only; main() ends with "return done_testing();", which
 * prints the plan and gives a non-zero exit status on any failure.
 */

#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int  tap_run;
static int  tap_failed;


static inline void
diag(const char *fmt, ...)
{
    va_list  ap;

    fflush(stdout);
    va_start(ap, fmt);
    fprintf(stderr, "# ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}


static inline int
tap_vok(int cond, const char *file, int line, const char *fmt, va_list ap)
{
    tap_run++;

    printf("%sok %d - ", cond ? "" : "not ", tap_run);
    vprintf(fmt, ap);
    printf("\n");

    if (!cond) {
        tap_failed++;
        diag("  Failed test at %s line %d.", file, line);
    }

    return cond;
}


static inline int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    cond = tap_vok(cond, file, line, fmt, ap);
    va_end(ap);

    return cond;
}


/* prints bytes readably: printable ASCII as is, the rest as \xHH */

static inline void
tap_diag_mem(const char *what, const void *p, size_t len)
{
    size_t               i;
    const unsigned char *s;

    s = p;

    fflush(stdout);
    fprintf(stderr, "#   %8s: ", what);

    if (p == NULL) {
        fprintf(stderr, "NULL\n");
        return;
    }

    fprintf(stderr, "'");

    for (i = 0; i < len; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
            fputc(s[i], stderr);

        } else {
            fprintf(stderr, "\\x%02x", s[i]);
        }
    }

    fprintf(stderr, "' (%zu bytes)\n", len);
}


static inline int
tap_is_mem(const void *got, size_t glen, const void *exp, size_t elen,
    const char *file, int line, const char *fmt, ...)
{
    int      cond;
    va_list  ap;

    cond = got != NULL && exp != NULL && glen == elen
           && memcmp(got, exp, glen) == 0;

    va_start(ap, fmt);
    tap_vok(cond, file, line, fmt, ap);
    va_end(ap);

    if (!cond) {
        tap_diag_mem("got", got, glen);
        tap_diag_mem("expected", exp, elen);
    }

    return cond;
}


static inline int
tap_is_int(long long got, long long exp, const char *file, int line,
    const char *fmt, ...)
{
    int      cond;
    va_list  ap;

    cond = (got == exp);

    va_start(ap, fmt);
    tap_vok(cond, file, line, fmt, ap);
    va_end(ap);

    if (!cond) {
        diag("         got: %lld", got);
        diag("    expected: %lld", exp);
    }

    return cond;
}


static inline int
done_testing(void)
{
    printf("1..%d\n", tap_run);

    if (tap_failed) {
        diag("Looks like you failed %d test%s of %d.", tap_failed,
             tap_failed == 1 ? "" : "s", tap_run);
    }

    fflush(stdout);

    return tap_failed ? 1 : 0;
}


#define ok(cond, ...)                                                        \
    tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, exp, ...)                                                \
    tap_is_int((long long) (got), (long long) (exp), __FILE__, __LINE__,     \
               __VA_ARGS__)

#define is_mem(got, glen, exp, elen, ...)                                    \
    tap_is_mem((got), (glen), (exp), (elen), __FILE__, __LINE__, __VA_ARGS__)

#define is_str(got, exp, ...)                                                \
    tap_is_mem((got), (got) ? strlen(got) : 0, (exp),                        \
               (exp) ? strlen(exp) : 0, __FILE__, __LINE__, __VA_ARGS__)


/* a fixed-seed xorshift PRNG: random tests that fail reproducibly */

static unsigned long long  tap_rng_state = 0x9e3779b97f4a7c15ULL;

static inline unsigned long long
tap_rand(void)
{
    unsigned long long  x;

    x = tap_rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    tap_rng_state = x;

    return x;
}

#endif /* TAP_H */
