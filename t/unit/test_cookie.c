/*
 * posthog_cookie_find() and the cookie name/value checks.
 */

#include <string.h>

#include "tap.h"
#include "posthog_cookie.h"


static int
find(const char *hdr, const char *name, const char **v, size_t *vlen)
{
    int                   n;
    const unsigned char  *value;

    value = NULL;
    *vlen = 0;

    n = posthog_cookie_find((const unsigned char *) hdr, strlen(hdr),
                                (const unsigned char *) name, strlen(name),
                                &value, vlen);
    *v = (const char *) value;

    return n;
}


int
main(void)
{
    int          n;
    size_t       len;
    const char  *v;

    n = find("ph_id=abc", "ph_id", &v, &len);
    is_int(n, 1, "alone");
    is_mem(v, len, "abc", 3, "alone: value");

    n = find("a=1; ph_id=abc; b=2", "ph_id", &v, &len);
    is_int(n, 1, "among others");
    is_mem(v, len, "abc", 3, "among others: value");

    n = find("a=1;ph_id=abc;b=2", "ph_id", &v, &len);
    is_int(n, 1, "no spaces: found once");
    is_mem(v, len, "abc", 3, "no spaces");

    n = find("  ph_id =  abc  ; b=2", "ph_id", &v, &len);
    is_int(n, 1, "whitespace around name and value");
    is_mem(v, len, "abc", 3, "whitespace trimmed");

    n = find("ph_id=\"abc\"", "ph_id", &v, &len);
    is_int(n, 1, "quoted value: found once");
    is_mem(v, len, "abc", 3, "quoted value");

    n = find("ph_id=\"", "ph_id", &v, &len);
    is_int(n, 1, "a lone quote: found once");
    is_mem(v, len, "\"", 1, "a lone quote is kept (and fails validation)");

    n = find("xph_id=abc; ph_idx=def; PH_ID=ghi", "ph_id", &v, &len);
    is_int(n, 0, "prefix, suffix and case differ: not ours");

    n = find("ph_id=abc; ph_id=def", "ph_id", &v, &len);
    is_int(n, 2, "twice: counted");
    is_mem(v, len, "abc", 3, "twice: the first");

    n = find("ph_id=abc, ph_id=def", "ph_id", &v, &len);
    is_int(n, 2, "comma-separated (RFC 2965 clients)");

    n = find("ph_id=", "ph_id", &v, &len);
    is_int(n, 1, "empty value found");
    is_int(len, 0, "empty value");

    n = find("ph_id; a=b", "ph_id", &v, &len);
    is_int(n, 0, "a name without '=' is not a cookie");

    n = find("a=b=c; ph_id=x=y", "ph_id", &v, &len);
    is_int(n, 1, "'=' inside values: found once");
    is_mem(v, len, "x=y", 3, "'=' inside a value");

    n = find(";;; ; ph_id=v ;;", "ph_id", &v, &len);
    is_int(n, 1, "stray separators: found once");
    is_mem(v, len, "v", 1, "stray separators");

    n = find("", "ph_id", &v, &len);
    is_int(n, 0, "empty header");

    ok(posthog_cookie_name_valid((const unsigned char *) "ph_id", 5),
       "ph_id is a valid name");
    ok(posthog_cookie_name_valid((const unsigned char *) "__Host-ph", 9),
       "__Host-ph is a valid name");
    ok(!posthog_cookie_name_valid((const unsigned char *) "p h", 3),
       "space in a name");
    ok(!posthog_cookie_name_valid((const unsigned char *) "a=b", 3),
       "'=' in a name");
    ok(!posthog_cookie_name_valid((const unsigned char *) "a;b", 3),
       "';' in a name");
    ok(!posthog_cookie_name_valid((const unsigned char *) "", 0),
       "empty name");
    ok(!posthog_cookie_name_valid((const unsigned char *) "\xc3\xa9", 2),
       "non-ASCII name");

    ok(posthog_cookie_value_valid((const unsigned char *) "a.b-c_d", 7),
       "cookie-octets");
    ok(!posthog_cookie_value_valid((const unsigned char *) "a b", 3),
       "space in a value");
    ok(!posthog_cookie_value_valid((const unsigned char *) "a;b", 3),
       "';' in a value");
    ok(!posthog_cookie_value_valid((const unsigned char *) "a\r\nb", 4),
       "CR LF in a value");
    ok(!posthog_cookie_value_valid((const unsigned char *) "a\"b", 3),
       "'\"' in a value");
    ok(!posthog_cookie_value_valid((const unsigned char *) "a\\b", 3),
       "'\\' in a value");

    return done_testing();
}
