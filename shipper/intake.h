/*
 * posthog-shipper's intake: what to do with one stream entry, decided from
 * its fields alone. Pure: no I/O, no state; fuzzed (t/fuzz/fuzz_intake.c).
 */

#ifndef PH_INTAKE_H
#define PH_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "posthog_stream.h"


typedef struct {
    const char  *p;                 /* NULL: absent (or not a string) */
    size_t       len;
} ph_str_t;

/* the shape of an entry's fields in a reply */
enum {
    PH_FIELDS_ARRAY = 0,            /* [k, v, k, v, ...] */
    PH_FIELDS_NIL,                  /* trimmed from the stream */
    PH_FIELDS_NONE,                 /* [id] alone */
    PH_FIELDS_OTHER                 /* anything else */
};

/* one entry as the stream client read it */
typedef struct {
    ph_str_t         id;
    int              shape;
    const ph_str_t  *kv;            /* PH_FIELDS_ARRAY: keys and values */
    size_t           n;             /* elements of kv */
} ph_rentry_t;

/* verdicts */
enum {
    PH_INTAKE_HOLD = 0,             /* a good event: hold it, send it */
    PH_INTAKE_DEAD,                 /* to the dead-letter stream */
    PH_INTAKE_TRIMMED,              /* gone from the stream: acknowledge */
    PH_INTAKE_LEAVE                 /* not understood: leave it pending */
};

typedef struct {
    ph_str_t     v;                 /* the fields found (last one wins) */
    ph_str_t     t;
    ph_str_t     e;
    const char  *reason;            /* DEAD: the reason; LEAVE: why */
} ph_intake_t;


/* the verdict on an entry whose id parsed (posthog_stream_id_parse) */
int ph_intake_check(const ph_rentry_t *e, ph_intake_t *in);

#endif /* PH_INTAKE_H */
