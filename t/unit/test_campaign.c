/*
 * Campaign parameters are read as posthog-js's getQueryParam reads them
 * (first match, value up to the next '=', '#' ends the query), decoded as
 * decodeURIComponent then '+' -> ' ', kept raw when that would throw, and
 * all of them at once as each alone; the browser language is
 * Accept-Language's first tag.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "posthog_campaign.h"


static void
param(const char *url, const char *name, const char *exp)
{
    size_t                vlen;
    unsigned char         out[256];
    const unsigned char  *v;

    v = posthog_query_param((const unsigned char *) url, strlen(url), name,
                            &vlen);

    if (exp == NULL) {
        tap_ok(v == NULL, __FILE__, __LINE__, "%s: no %s", url, name);
        return;
    }

    if (v == NULL) {
        tap_ok(0, __FILE__, __LINE__, "%s: %s found", url, name);
        return;
    }

    vlen = posthog_campaign_decode(out, v, vlen);

    tap_is_mem(out, vlen, exp, strlen(exp), __FILE__, __LINE__, "%s: %s",
               url, name);
}


static void
lang(const char *h, const char *exp, size_t prefix)
{
    size_t                n, pl;
    const unsigned char  *t;

    n = posthog_language((const unsigned char *) h, strlen(h), &t, &pl);

    if (exp == NULL) {
        tap_ok(n == 0, __FILE__, __LINE__, "no language in '%s'", h);
        return;
    }

    tap_ok(n == strlen(exp) && memcmp(t, exp, n) == 0 && pl == prefix,
           __FILE__, __LINE__, "language of '%s'", h);
}


/* exactly n bytes: ASan sees a read past them */

static void
split(const char *url, int scheme, const char *host, const char *path)
{
    int                   rc;
    size_t                n;
    unsigned char        *c;
    posthog_url_t         u;

    n = strlen(url);
    c = malloc(n ? n : 1);
    memcpy(c, url, n);

    rc = posthog_url_split(c, n, &u, 1);

    tap_ok(rc == scheme && u.host_len == strlen(host)
           && memcmp(u.host, host, u.host_len) == 0
           && u.path_len == strlen(path)
           && memcmp(u.path, path, u.path_len) == 0,
           __FILE__, __LINE__, "split '%s'", url);

    rc = posthog_url_split(c, n, &u, 0);

    tap_ok(rc == scheme && u.host_len == strlen(host)
           && memcmp(u.host, host, u.host_len) == 0,
           __FILE__, __LINE__, "split '%s', host only", url);

    free(c);
}


static void
host(const char *url, const char *exp, const char *path)
{
    size_t                hl, pl;
    const unsigned char  *h, *p;

    h = posthog_url_host((const unsigned char *) url, strlen(url), &hl, &p,
                         &pl);

    if (exp == NULL) {
        tap_ok(h == NULL, __FILE__, __LINE__, "no host in '%s'", url);
        return;
    }

    tap_ok(h && hl == strlen(exp) && memcmp(h, exp, hl) == 0
           && pl == strlen(path) && memcmp(p, path, pl) == 0,
           __FILE__, __LINE__, "host and path of '%s'", url);
}


static void
engine(const char *ref, const char *exp, const char *param)
{
    const char  *e, *p;

    p = NULL;
    e = posthog_search_engine((const unsigned char *) ref, strlen(ref), &p);

    if (exp == NULL) {
        tap_ok(e == NULL, __FILE__, __LINE__, "no search engine: '%s'", ref);
        return;
    }

    tap_ok(e && strcmp(e, exp) == 0 && strcmp(p, param) == 0, __FILE__,
           __LINE__, "search engine of '%s'", ref);
}


/* posthog_campaign_find() finds what posthog_query_param() finds, each */

static void
find(const char *url, size_t want)
{
    int                   ok;
    size_t                i, n, vlen[POSTHOG_CAMPAIGN_NPARAMS], l;
    const unsigned char  *v[POSTHOG_CAMPAIGN_NPARAMS], *q;

    n = posthog_campaign_find((const unsigned char *) url, strlen(url), v,
                              vlen);
    ok = (n == want);

    for (i = 0; i < POSTHOG_CAMPAIGN_NPARAMS; i++) {
        q = posthog_query_param((const unsigned char *) url, strlen(url),
                                posthog_campaign_params[i], &l);

        ok &= (q == v[i] && (q == NULL || l == vlen[i]));
    }

    tap_ok(ok, __FILE__, __LINE__, "all at once: %zu in %s", want, url);
}


int
main(void)
{
    param("https://a.com/?utm_source=news", "utm_source", "news");
    param("https://a.com/p?x=1&utm_source=a&utm_source=b", "utm_source", "a");
    param("https://a.com/p?utm_source=a=b", "utm_source", "a");
    param("https://a.com/p?utm_source=", "utm_source", "");
    param("https://a.com/p?utm_source", "utm_source", NULL);
    param("https://a.com/p#?utm_source=x", "utm_source", NULL);
    param("https://a.com/p?a=1#utm_source=x", "utm_source", NULL);
    param("https://a.com/p??utm_source=x", "utm_source", "x");
    param("https://a.com/p?xutm_source=x", "utm_source", NULL);
    param("https://a.com/p?UTM_SOURCE=x", "utm_source", NULL);
    param("https://a.com/?utm_term=red+shoes%20now", "utm_term",
          "red shoes now");
    param("https://a.com/?utm_term=a%2Bb", "utm_term", "a b");
    param("https://a.com/?utm_term=caf%C3%A9", "utm_term", "caf\xc3\xa9");
    param("https://a.com/?utm_term=100%", "utm_term", "100%");
    param("https://a.com/?utm_term=%ZZ+x", "utm_term", "%ZZ x");
    param("https://a.com/?utm_term=%FF%FE+x", "utm_term", "%FF%FE x");
    param("https://a.com/?utm_term=a%0D%0Ab", "utm_term", "a\r\nb");
    param("/?gclid=abc&fbclid=def", "fbclid", "def");
    param("no query", "gclid", NULL);

    find("https://a.com/", 0);
    find("https://a.com/p?q=1&page=2", 0);
    find("https://a.com/p?utm_source=a&utm_source=b&gclid=&_kx=1=2", 3);
    find("https://a.com/p??utm_medium=x&&li_fat_id=9#&fbclid=1", 2);
    find("https://a.com/p?utm_sourc=1&utm_sourcex=2&UTM_SOURCE=3&utm_term", 0);
    find("https://a.com/p#?utm_source=x", 0);
    find("/?utm_source=1&utm_medium=2&utm_campaign=3&utm_content=4&"
         "utm_term=5&gad_source=6&mc_cid=7&gclid=8&gclsrc=9&dclid=10&"
         "gbraid=11&wbraid=12&fbclid=13&msclkid=14&twclid=15&li_fat_id=16&"
         "igshid=17&ttclid=18&rdt_cid=19&epik=20&qclid=21&sccid=22&"
         "irclid=23&_kx=24", 24);

    tap_ok(posthog_campaign_nparams == 24
           && strcmp(posthog_campaign_params[0], "utm_source") == 0
           && strcmp(posthog_campaign_params[23], "_kx") == 0,
           __FILE__, __LINE__, "posthog-js's 24 campaign parameters");

    lang("en-US,en;q=0.9", "en-US", 2);
    lang("  de ; q=1", "de", 2);
    lang("zh-Hant-TW", "zh-Hant-TW", 2);
    lang("fr", "fr", 2);
    lang("*", NULL, 0);
    lang("", NULL, 0);
    lang("en\"US", NULL, 0);
    lang("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, 0);
    lang("\xc3\xa9", NULL, 0);
    lang("en_US", "en_US", 5);
    lang("-x", "-x", 0);
    lang("a-b-c;q=1", "a-b-c", 1);
    lang("\ten-GB\t,fr", "en-GB", 2);
    lang("en x", NULL, 0);
    lang("en\x7f", NULL, 0);
    lang("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 35);
    lang("Az09-_", "Az09-_", 4);
    lang("@", NULL, 0);
    lang("en`", NULL, 0);

    host("https://user@Example.com:8080/a/b?q=1#x", "Example.com:8080",
         "/a/b");
    host("http://a.com", "a.com", "");
    host("http://a.com?x", "a.com", "");
    host("not a url", NULL, NULL);
    host("https://", "", "");
    host("x/y://z.example/w?q", "z.example", "/w");
    host("android-app://com.app/p", "com.app", "/p");

    /* without "://": the host from the start, and 0 */
    split("no-scheme.example/path?q", 0, "no-scheme.example", "/path");
    split("user@h.example#f", 0, "h.example", "");
    split("", 0, "", "");
    split("ab", 0, "ab", "");
    split("http:/x/y", 0, "http:", "/x/y");
    split("https://u:p@h:1/a@b/c?d#e", 1, "h:1", "/a@b/c");
    split("http://h/", 1, "h", "/");
    split("ftp://h", 1, "h", "");

    engine("https://www.google.com/search?q=x", "google", "q");
    engine("http://google.co.uk", "google", "q");
    engine("https://www.bing.com/search?q=x", "bing", "q");
    engine("https://search.yahoo.com/search?p=x", "yahoo", "p");
    engine("https://duckduckgo.com/", "duckduckgo", "q");
    engine("https://example.com/google", NULL, NULL);
    engine("https://example.com/googles", "google", "q");
    engine("ftp://google.com/", NULL, NULL);

    /* the host's and the path's ends against the byte loops they replace */

    {
        size_t                i, j, n, bad;
        unsigned char         u[80], *c;
        const unsigned char  *e, *h, *p, *rh, *re, *rp;

        static const char  alphabet[] = "/?#@a.:";

        bad = 0;

        for (i = 0; i < 100000; i++) {
            n = (size_t) tap_rand() % sizeof(u);

            for (j = 0; j < n; j++) {
                u[j] = (tap_rand() % 4) ? (unsigned char) ('a' + j % 26)
                       : (unsigned char) alphabet[tap_rand() % 7];
            }

            /* exactly n bytes: ASan sees a read past them */
            c = malloc(n ? n : 1);
            memcpy(c, u, n);
            e = posthog_url_host_end(c, c + n, &h);
            h = u + (h - c);
            e = u + (e - c);
            p = u + (posthog_url_path_end(c + (e - u), c + n) - c);
            free(c);

            rh = u;

            for (re = u; re < u + n && *re != '/' && *re != '?'
                         && *re != '#'; re++)
            {
                if (*re == '@') {
                    rh = re + 1;
                }
            }

            for (rp = re; rp < u + n && *rp != '?' && *rp != '#'; rp++) {
                /* void */
            }

            if ((e != re || h != rh || p != rp) && bad++ == 0)
            {
                diag("%.*s: host %d..%d, want %d..%d", (int) n, (char *) u,
                     (int) (h - u), (int) (e - u), (int) (rh - u),
                     (int) (re - u));
            }
        }

        is_int(bad, 0, "url_host_end, url_path_end: as the byte loops");
    }

    return done_testing();
}
