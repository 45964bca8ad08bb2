/*
 * UUIDv7 (RFC 9562, section 5.7): 48-bit Unix time in milliseconds,
 * version 7, 74 random bits.  Plain C, no nginx types: used by the
 * module and by the unit tests and fuzz targets.
 */

#ifndef POSTHOG_UUID_H
#define POSTHOG_UUID_H

#include <stddef.h>
#include <stdint.h>

#define POSTHOG_UUID_LEN      36    /* canonical text form */
#define POSTHOG_UUID_RANDOM   10    /* random bytes consumed */


/*
 * Builds a UUIDv7 from the time "ms" and POSTHOG_UUID_RANDOM random
 * bytes (the caller takes them from a CSPRNG) and writes its lower-case
 * canonical text form (36 bytes, not NUL-terminated) to "out".
 */
void posthog_uuid_v7(unsigned char *out, uint64_t ms,
    const unsigned char *rnd);

/*
 * Returns 1 if the "len" bytes at "p" are a canonical UUID (8-4-4-4-12
 * lower-case hex digits) of RFC 9562 variant, any version, else 0.
 */
int posthog_uuid_valid(const unsigned char *p, size_t len);

/* Same, and the version nibble must be 7. */
int posthog_uuid_v7_valid(const unsigned char *p, size_t len);

/* The 48-bit millisecond timestamp of a valid UUIDv7. */
uint64_t posthog_uuid_v7_time(const unsigned char *p);

#endif /* POSTHOG_UUID_H */
