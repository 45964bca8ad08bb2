/*
 * libFuzzer target for the user-agent rules and the campaign readers: any
 * bytes give results within their bounds (a JSON number or nothing for
 * the version, names from the tables), patterns never fail, an entry made
 * in two steps (the verdict, then the parse) is the parse, its JSON
 * members valid UTF-8 within their max, the campaign parameters found at
 * once are those found one by one, and the first touch copy is UTF-8
 * without control bytes, within its max.
 */

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posthog_ua.h"
#include "posthog_campaign.h"
#include "posthog_state.h"
#include "posthog_utf8.h"


static pcre2_code        *re[POSTHOG_UA_RE_N];
static pcre2_match_data  *md;


static int
exec_pcre2(void *data, unsigned id, const unsigned char *s, size_t len,
    int *cap, int ncap)
{
    int          rc, i;
    PCRE2_SIZE  *ov;

    (void) data;

    rc = pcre2_match(re[id], s, len, 0, 0, md, NULL);

    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }

    if (rc < 0) {
        return -1;
    }

    ov = pcre2_get_ovector_pointer(md);

    for (i = 0; i < rc && 2 * i + 1 < ncap; i++) {
        cap[2 * i] = ov[2 * i] == PCRE2_UNSET ? -1 : (int) ov[2 * i];
        cap[2 * i + 1] = ov[2 * i + 1] == PCRE2_UNSET ? -1
                                                      : (int) ov[2 * i + 1];
    }

    return 1;
}


static void
init(void)
{
    int         err;
    unsigned    i;
    PCRE2_SIZE  off;

    for (i = 0; i < POSTHOG_UA_RE_N; i++) {
        re[i] = pcre2_compile((PCRE2_SPTR) posthog_ua_regex[i].pattern,
                              PCRE2_ZERO_TERMINATED,
                              posthog_ua_regex[i].caseless ? PCRE2_CASELESS
                                                           : 0,
                              &err, &off, NULL);
        if (re[i] == NULL) {
            abort();
        }
    }

    md = pcre2_match_data_create(POSTHOG_UA_CAPTURES, NULL);
}


static void
check_number(const char *p, size_t len)
{
    size_t  i;

    if (len >= POSTHOG_UA_NUMBER_MAX) {
        abort();
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == 'e'
              || p[i] == '+' || p[i] == '-'))
        {
            abort();
        }
    }

    if (len && (p[0] < '0' || p[0] > '9')) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                i, n, vlen, hl, pl, prefix;
    posthog_ua_t          ua;
    unsigned char        *out;
    posthog_ua_entry_t    e;
    size_t                all_len[POSTHOG_CAMPAIGN_NPARAMS];
    const unsigned char  *all[POSTHOG_CAMPAIGN_NPARAMS];
    const unsigned char  *v, *h, *path, *tag;
    const char           *param;

    if (md == NULL) {
        init();
    }

    posthog_ua_parse(&ua, data, size, exec_pcre2, NULL);

    if (ua.browser == NULL || ua.os == NULL || ua.device == NULL
        || ua.device_type == NULL || ua.device_type[0] == '\0'
        || ua.errors || ua.os_version_len > POSTHOG_UA_OS_VERSION_MAX)
    {
        abort();
    }

    check_number(ua.browser_version, ua.browser_version_len);

    if (ua.bot != posthog_ua_blocked(data, size)
        || ua.client != posthog_ua_client(data, size))
    {
        abort();
    }

    posthog_ua_check(&e, data, size);

    if (e.parsed || e.ua.bot != ua.bot || e.ua.client != ua.client
        || posthog_ua_complete(&e, data, size, exec_pcre2, NULL) != 0
        || memcmp(&e.ua, &ua, sizeof(ua)) != 0
        || e.json_key == NULL || e.json_key[0] != '$'
        || e.json_len > POSTHOG_UA_JSON_MAX || e.json_len < 4
        || !posthog_utf8_valid(e.json, e.json_len))
    {
        abort();
    }

    for (i = 0; i < e.json_len; i++) {
        if (e.json[i] < 0x20) {
            abort();
        }
    }

    n = posthog_campaign_find(data, size, all, all_len);

    for (i = 0; i < posthog_campaign_nparams; i++) {
        v = posthog_query_param(data, size, posthog_campaign_params[i],
                                &vlen);

        if (v != all[i] || (v && vlen != all_len[i])) {
            abort();
        }

        if (v == NULL) {
            continue;
        }

        n--;

        if (v < data || v + vlen > data + size) {
            abort();
        }

        out = malloc(vlen + 1);
        if (out == NULL) {
            abort();
        }

        if (posthog_campaign_decode(out, v, vlen) > vlen) {
            abort();
        }

        free(out);
    }

    if (n != 0) {
        abort();
    }

    out = malloc(300);
    if (out == NULL) {
        abort();
    }

    n = posthog_touch_copy(out, 256, data, size);

    if (n > 256 || !posthog_utf8_valid(out, n)) {
        abort();
    }

    for (i = 0; i < n; i++) {
        if (out[i] < 0x20 || out[i] == 0x7f) {
            abort();
        }
    }

    free(out);

    h = posthog_url_host(data, size, &hl, &path, &pl);

    if (h && (h < data || h + hl > data + size || path + pl > data + size)) {
        abort();
    }

    (void) posthog_search_engine(data, size, &param);

    n = posthog_language(data, size, &tag, &prefix);

    if (n && (n > 35 || prefix > n || tag < data || tag + n > data + size)) {
        abort();
    }

    return 0;
}
