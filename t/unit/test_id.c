/*
 * Distinct-id checks: PostHog's illegal ids in every form, trimming,
 * controls, UTF-8, the 200-character limit.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "posthog_id.h"


static int
check(const char *s, size_t len, size_t *start, size_t *n)
{
    return posthog_id_check((const unsigned char *) s, len, start, n);
}


/* one check with its expected code and trimmed span */

static void
t(const char *s, size_t len, int rc, size_t start, size_t n,
    const char *name)
{
    int     got;
    size_t  gs, gn;

    gs = 12345;
    gn = 12345;
    got = check(s, len, &gs, &gn);

    if (!ok(got == rc && (rc == POSTHOG_ID_EMPTY || (gs == start && gn == n)),
            "%s", name))
    {
        diag("rc %d (%s), start %zu, n %zu; expected rc %d, start %zu, n %zu",
             got, posthog_id_reason(got), gs, gn, rc, start, n);
        tap_diag_mem("id", s, len);
    }
}

#define T(s, rc, start, n, name)  t(s, sizeof(s) - 1, rc, start, n, name)


static int
rc_of(const char *s, size_t len)
{
    size_t  start, n;

    return check(s, len, &start, &n);
}


int
main(void)
{
    int          rc;
    char         buf[1024], alt[64];
    size_t       i, j, len, start, n;

    static const char  *ci[] = {
        "anonymous", "guest", "distinctid", "distinct_id", "id",
        "not_authenticated", "email", "undefined", "true", "false", NULL
    };

    static const char  *cs[] = {
        "[object Object]", "NaN", "None", "none", "null", "0", "undefined",
        NULL
    };

    /* case-insensitive list: lower, upper, alternating, quoted, spaced */

    for (i = 0; ci[i]; i++) {
        len = strlen(ci[i]);

        is_int(rc_of(ci[i], len), POSTHOG_ID_ILLEGAL, "illegal: %s", ci[i]);

        for (j = 0; j < len; j++) {
            alt[j] = (char) (ci[i][j] >= 'a' && ci[i][j] <= 'z'
                             ? ci[i][j] - 32 : ci[i][j]);
        }

        alt[len] = '\0';

        is_int(rc_of(alt, len), POSTHOG_ID_ILLEGAL, "illegal: %.*s",
               (int) len, alt);

        for (j = 0; j < len; j += 2) {
            alt[j] = ci[i][j];
        }

        is_int(rc_of(alt, len), POSTHOG_ID_ILLEGAL, "illegal: %.*s",
               (int) len, alt);

        sprintf(buf, "'%s'", alt);
        is_int(rc_of(buf, len + 2), POSTHOG_ID_ILLEGAL, "illegal: %s", buf);

        sprintf(buf, "\"%s\"", ci[i]);
        is_int(rc_of(buf, len + 2), POSTHOG_ID_ILLEGAL, "illegal: %s", buf);

        sprintf(buf, " \t'%s'\r\n", ci[i]);
        is_int(rc_of(buf, len + 6), POSTHOG_ID_ILLEGAL,
               "illegal after trimming: %s", ci[i]);

        sprintf(buf, "%sx", ci[i]);
        is_int(rc_of(buf, len + 1), POSTHOG_ID_OK, "legal: %s", buf);

        sprintf(buf, "'%s", ci[i]);
        is_int(rc_of(buf, len + 1), POSTHOG_ID_OK, "legal: %s", buf);

        sprintf(buf, "'%s\"", ci[i]);
        is_int(rc_of(buf, len + 2), POSTHOG_ID_OK, "legal: %s", buf);

        sprintf(buf, "''%s''", ci[i]);
        is_int(rc_of(buf, len + 4), POSTHOG_ID_OK,
               "legal: %s (quoted twice is not on the list)", buf);
    }

    /* case-sensitive list */

    for (i = 0; cs[i]; i++) {
        len = strlen(cs[i]);

        is_int(rc_of(cs[i], len), POSTHOG_ID_ILLEGAL, "illegal: %s", cs[i]);

        sprintf(buf, "'%s'", cs[i]);
        is_int(rc_of(buf, len + 2), POSTHOG_ID_ILLEGAL, "illegal: %s", buf);

        sprintf(buf, "\"%s\"", cs[i]);
        is_int(rc_of(buf, len + 2), POSTHOG_ID_ILLEGAL, "illegal: %s", buf);

        sprintf(buf, "  %s ", cs[i]);
        is_int(rc_of(buf, len + 3), POSTHOG_ID_ILLEGAL,
               "illegal after trimming: %s", cs[i]);
    }

    T("NULL", POSTHOG_ID_OK, 0, 4, "legal: NULL (case-sensitive entry)");
    T("Null", POSTHOG_ID_OK, 0, 4, "legal: Null");
    T("nan", POSTHOG_ID_OK, 0, 3, "legal: nan");
    T("NAN", POSTHOG_ID_OK, 0, 3, "legal: NAN");
    T("NONE", POSTHOG_ID_OK, 0, 4, "legal: NONE");
    T("[object object]", POSTHOG_ID_OK, 0, 15, "legal: [object object]");
    T("'[OBJECT OBJECT]'", POSTHOG_ID_OK, 0, 17, "legal: '[OBJECT OBJECT]'");
    T("00", POSTHOG_ID_OK, 0, 2, "legal: 00");
    T("1", POSTHOG_ID_OK, 0, 1, "legal: 1");
    T("'0", POSTHOG_ID_OK, 0, 2, "legal: '0");
    T("ids", POSTHOG_ID_OK, 0, 3, "legal: ids");
    T("i d", POSTHOG_ID_OK, 0, 3, "legal: i d");
    T("user@example.com", POSTHOG_ID_OK, 0, 16, "legal: an email address");
    T("'", POSTHOG_ID_OK, 0, 1, "legal: a lone quote");
    T("''", POSTHOG_ID_ILLEGAL, 0, 2, "illegal: '' (quoted empty)");
    T("\"\"", POSTHOG_ID_ILLEGAL, 0, 2, "illegal: \"\" (quoted empty)");
    T("' '", POSTHOG_ID_OK, 0, 3, "legal: ' ' (not on the list)");
    T("ID\xc4\xb0", POSTHOG_ID_OK, 0, 4, "legal: ID + U+0130");

    /* empty and trimming */

    T("", POSTHOG_ID_EMPTY, 0, 0, "empty");
    T(" ", POSTHOG_ID_EMPTY, 0, 0, "one space");
    T(" \t\n\v\f\r ", POSTHOG_ID_EMPTY, 0, 0, "ASCII whitespace only");
    T("\xc2\xa0", POSTHOG_ID_EMPTY, 0, 0, "NBSP only");
    T("\xe3\x80\x80\xef\xbb\xbf\xe2\x80\xa8\xc2\x85",
      POSTHOG_ID_EMPTY, 0, 0, "U+3000, BOM, U+2028, NEL only");
    T("\xe2\x80\x80\xe2\x80\x8a", POSTHOG_ID_EMPTY, 0, 0,
      "U+2000 and U+200A only");

    rc = check("   ", 3, &start, &n);
    ok(rc == POSTHOG_ID_EMPTY && n == 0, "empty: n is 0");

    T("abc", POSTHOG_ID_OK, 0, 3, "plain id");
    T("  abc \t", POSTHOG_ID_OK, 2, 3, "trimmed both ends");
    T("\r\nabc", POSTHOG_ID_OK, 2, 3, "leading CR LF trimmed");
    T("a b", POSTHOG_ID_OK, 0, 3, "inner space kept");
    T("\xc2\xa0" "abc" "\xe2\x80\xa8", POSTHOG_ID_OK, 2, 3,
      "Unicode spaces trimmed");
    T("a\xc2\xa0" "b", POSTHOG_ID_OK, 0, 4, "inner NBSP kept");
    T("\xe2\x80\x8b" "abc", POSTHOG_ID_OK, 0, 6,
      "U+200B zero width space is not whitespace");

    /* controls */

    T("a\x01" "b", POSTHOG_ID_CONTROL, 0, 3, "inner control");
    T("a\nb", POSTHOG_ID_CONTROL, 0, 3, "inner LF");
    T("a\r\nSet-Cookie: x", POSTHOG_ID_CONTROL, 0, 16, "header injection");
    T("a\tb", POSTHOG_ID_CONTROL, 0, 3, "inner tab");
    T("a\x7f", POSTHOG_ID_CONTROL, 0, 2, "DEL");
    T("\x7f", POSTHOG_ID_CONTROL, 0, 1, "DEL alone");
    T("\x1b[31m", POSTHOG_ID_CONTROL, 0, 5, "escape sequence");
    ok(rc_of("a\0b", 3) == POSTHOG_ID_CONTROL, "inner NUL");
    ok(rc_of("\0", 1) == POSTHOG_ID_CONTROL, "NUL alone");
    T("a\x01\xff", POSTHOG_ID_CONTROL, 0, 3, "control reported before UTF-8");

    /* UTF-8 */

    T("caf\xc3\xa9", POSTHOG_ID_OK, 0, 5, "valid UTF-8");
    T("\xf0\x9f\x98\x80", POSTHOG_ID_OK, 0, 4, "emoji");
    T("abc\xff", POSTHOG_ID_BAD_UTF8, 0, 4, "FF byte");
    T("\xc0\x80", POSTHOG_ID_BAD_UTF8, 0, 2, "overlong");
    T("\xed\xa0\x80", POSTHOG_ID_BAD_UTF8, 0, 3, "surrogate");
    T("\xf4\x90\x80\x80", POSTHOG_ID_BAD_UTF8, 0, 4, "above U+10FFFF");
    T("ab\xc3", POSTHOG_ID_BAD_UTF8, 0, 3, "truncated");
    T(" \x80 ", POSTHOG_ID_BAD_UTF8, 1, 1, "stray continuation, trimmed");

    /* the 200-character limit, in characters */

    memset(buf, 'a', 201);
    t(buf, 200, POSTHOG_ID_OK, 0, 200, "200 ASCII characters");
    t(buf, 201, POSTHOG_ID_TOO_LONG, 0, 201, "201 ASCII characters");

    buf[0] = ' ';
    buf[201] = ' ';
    t(buf, 202, POSTHOG_ID_OK, 1, 200, "200 characters once trimmed");

    for (i = 0; i < 201; i++) {
        memcpy(buf + 2 * i, "\xc3\xa9", 2);
    }

    t(buf, 400, POSTHOG_ID_OK, 0, 400, "200 2-byte characters (400 bytes)");
    t(buf, 402, POSTHOG_ID_TOO_LONG, 0, 402, "201 2-byte characters");

    for (i = 0; i < 201; i++) {
        memcpy(buf + 4 * i, "\xf0\x9f\x98\x80", 4);
    }

    t(buf, POSTHOG_ID_MAX, POSTHOG_ID_OK, 0, POSTHOG_ID_MAX,
      "200 4-byte characters (POSTHOG_ID_MAX bytes)");
    t(buf, 804, POSTHOG_ID_TOO_LONG, 0, 804, "201 4-byte characters");
    t(buf, 803, POSTHOG_ID_BAD_UTF8, 0, 803,
      "bad UTF-8 reported before length");

    /* reasons */

    for (i = POSTHOG_ID_OK; i <= POSTHOG_ID_ILLEGAL; i++) {
        for (j = POSTHOG_ID_OK; j < i; j++) {
            if (strcmp(posthog_id_reason((int) i),
                       posthog_id_reason((int) j)) == 0)
            {
                break;
            }
        }

        ok(j == i && posthog_id_reason((int) i)[0] != '\0',
           "reason %zu: %s", i, posthog_id_reason((int) i));
    }

    ok(posthog_id_reason(99) != NULL, "reason for an unknown code");

    return done_testing();
}
