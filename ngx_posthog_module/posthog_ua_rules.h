/*
 * posthog_ua_rules.c's tables, for posthog_ua.c only: the rules of
 * posthog-js's detectBrowser, detectBrowserVersion, detectOS,
 * detectDevice and detectDeviceType, and its blocked-UA list.
 */

#ifndef POSTHOG_UA_RULES_H
#define POSTHOG_UA_RULES_H

#include <stddef.h>

#include "posthog_ua.h"


#define NONE  -1


/*
 * detectBrowser: the first rule whose substrings are all present (case
 * sensitive, as posthog-js's includes()), whose "none" substrings are all
 * absent, and whose regex (if any) matches.  An "or" in posthog-js is two
 * rules with the same name.
 */

typedef struct {
    const char     *all[2];
    const char     *none[2];
    int             re;
    const char     *name;
} posthog_ua_browser_rule_t;

extern const posthog_ua_browser_rule_t  posthog_ua_browsers[];
extern const size_t  posthog_ua_browsers_n;


/*
 * detectBrowserVersion: the browser's patterns in order; the version is
 * parseFloat() of the group before the last (posthog-js takes
 * matches[matches.length - 2]), "group" here.
 */

typedef struct {
    const char     *browser;
    int             re[2];
    int             group[2];
} posthog_ua_version_rule_t;

extern const posthog_ua_version_rule_t  posthog_ua_versions[];
extern const size_t  posthog_ua_versions_n;


/* detectOS: the first pattern that matches decides; "how" makes the version */

enum {
    OS_FIXED = 0,        /* no version */
    OS_GROUP,            /* group "g", or "" */
    OS_DOTTED,           /* groups g, g+1, g+2 or "0", joined by '.' */
    OS_WATCH,            /* group 2, else group 3 */
    OS_WINDOWS           /* the Windows function */
};

typedef struct {
    int             re;
    const char     *name;
    int             how;
    int             group;
} posthog_ua_os_rule_t;

extern const posthog_ua_os_rule_t  posthog_ua_oses[];
extern const size_t  posthog_ua_oses_n;

/* windowsVersionMap */

extern const char  *posthog_ua_windows[][2];
extern const size_t  posthog_ua_windows_n;


/*
 * detectDevice: the first rule whose "re" (or "re_or") matches and whose
 * "re_not" does not.  "android" marks the Android rule, whose tablet
 * tests follow in posthog_ua_android().
 */

typedef struct {
    int             re;
    int             re_or;
    int             re_not;
    unsigned        android;
    const char     *name;
} posthog_ua_device_rule_t;

extern const posthog_ua_device_rule_t  posthog_ua_devices[];
extern const size_t  posthog_ua_devices_n;

/* detectDeviceType: devices that are not "Mobile"; none at all: "Desktop" */

extern const char  *posthog_ua_device_types[][2];
extern const size_t  posthog_ua_device_types_n;


/* DEFAULT_BLOCKED_UA_STRS, and ours for clients that are not browsers */

extern const char  *posthog_ua_blocked_strs[];
extern const size_t  posthog_ua_blocked_strs_n;
extern const char  *posthog_ua_client_strs[];
extern const size_t  posthog_ua_client_strs_n;


#endif /* POSTHOG_UA_RULES_H */
