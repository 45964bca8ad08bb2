/*
 * posthog_resp_reply() against hiredis's own reader, for the unit test
 * and the fuzz target: for the same bytes the same outcome, a reply (the
 * same type, text and length), one not complete yet, or an error.  The
 * one difference by design: an array, which hiredis reads, is refused.
 * Header only; link with -lhiredis.
 */

#ifndef RESPCHECK_H
#define RESPCHECK_H

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "posthog_resp.h"


static int
respcheck_same(const unsigned char *p, size_t n)
{
    int                    rc, same;
    char                   num[32];
    void                  *obj;
    size_t                 used;
    redisReply            *r;
    redisReader           *reader;
    posthog_resp_reply_t   reply;

    used = 0;
    rc = posthog_resp_reply(p, n, &reply, &used);

    if (n && p[0] == '*') {
        return rc == POSTHOG_RESP_REPLY_BAD;
    }

    reader = redisReaderCreate();

    if (n) {
        redisReaderFeed(reader, (const char *) p, n);
    }

    obj = NULL;

    if (redisReaderGetReply(reader, &obj) != REDIS_OK) {
        same = (rc == POSTHOG_RESP_REPLY_BAD);

    } else if (obj == NULL) {
        same = (rc == POSTHOG_RESP_REPLY_AGAIN);

    } else {
        r = obj;

        /* what the reader has not used is after the reply */
        same = (rc == POSTHOG_RESP_REPLY_OK
                && used == n - (reader->len - reader->pos));

        switch (r->type) {

        case REDIS_REPLY_STATUS:
        case REDIS_REPLY_ERROR:
        case REDIS_REPLY_STRING:
            same = same
                   && reply.type == (r->type == REDIS_REPLY_STATUS ? '+'
                                     : r->type == REDIS_REPLY_ERROR ? '-'
                                     : '$')
                   && reply.str != NULL && reply.len == r->len
                   && memcmp(reply.str, r->str, r->len) == 0;
            break;

        case REDIS_REPLY_NIL:
            same = same && reply.type == '$' && reply.str == NULL;
            break;

        case REDIS_REPLY_INTEGER:
            snprintf(num, sizeof(num), "%lld", r->integer);
            same = same && reply.type == ':' && reply.len == strlen(num)
                   && memcmp(reply.str, num, reply.len) == 0;
            break;

        default:
            same = 0;
        }

        freeReplyObject(r);
    }

    redisReaderFree(reader);

    return same;
}

#endif /* RESPCHECK_H */
