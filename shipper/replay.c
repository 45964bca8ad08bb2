/*
 * --replay-dead: the dead letters back into the stream, once what made
 * PostHog refuse them is fixed. Runs alone (no loop), on a connected
 * stream client, and stops when the flag it is given is set (a signal).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "shipper.h"


/* --replay-dead: XADD every dead-letter entry's v, t, e back to the stream,
 * then XDEL it from the dead-letter stream. A crash in between replays it
 * twice: same uuid, collapsed by PostHog. Each XRANGE reads from the start
 * of the dead-letter stream, so an entry that is not deleted comes back on
 * the next one: anything but a deleted entry stops the replay (-1), else it
 * would XADD the same entries forever. */

int
ph_replay_dead(ph_rstream_t *rs, volatile sig_atomic_t *stop)
{
    int           argc;
    char          end[48];
    long          moved;
    size_t        i, j, lens[10];
    ph_conf_t    *cf;
    redisReply   *r, *e, *f, *x;
    const char   *argv[10];

    cf = rs->cf;
    moved = 0;

    /* only what is there now: entries that a running shipper dead-letters
     * again meanwhile (the same 400, a version it does not know) are for
     * another replay, else this one would never end */
    argv[0] = "XREVRANGE";
    argv[1] = cf->dead_stream;
    argv[2] = "+";
    argv[3] = "-";
    argv[4] = "COUNT";
    argv[5] = "1";

    r = ph_rstream_cmds(rs, 6, argv);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        if (r) {
            freeReplyObject(r);
        }
        return -1;
    }

    end[0] = '\0';
    if (r->elements > 0) {
        e = r->element[0];
        if (e->type == REDIS_REPLY_ARRAY && e->elements > 0
            && e->element[0]->type == REDIS_REPLY_STRING
            && e->element[0]->len < sizeof(end))
        {
            memcpy(end, e->element[0]->str, e->element[0]->len);
            end[e->element[0]->len] = '\0';
        }
    }

    freeReplyObject(r);

    for ( ;; ) {
        if (end[0] == '\0') {
            break;
        }

        if (*stop) {
            ph_log(PH_LOG_ERROR, "replay stopped by a signal after %ld "
                   "entries; the rest stay in %s", moved, cf->dead_stream);
            return -1;
        }

        argv[0] = "XRANGE";
        argv[1] = cf->dead_stream;
        argv[2] = "-";
        argv[3] = end;
        argv[4] = "COUNT";
        argv[5] = "100";

        r = ph_rstream_cmds(rs, 6, argv);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
            if (r) {
                freeReplyObject(r);
            }
            return -1;
        }

        if (r->elements == 0) {
            freeReplyObject(r);
            break;
        }

        for (i = 0; i < r->elements; i++) {
            if (*stop) {
                ph_log(PH_LOG_ERROR, "replay stopped by a signal after %ld "
                       "entries; the rest stay in %s", moved,
                       cf->dead_stream);
                freeReplyObject(r);
                return -1;
            }

            e = r->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2
                || e->element[0]->type != REDIS_REPLY_STRING)
            {
                /* skipping it would read it again and again; deleting
                 * what we do not understand is not ours to do */
                ph_log(PH_LOG_ERROR, "replay stopped after %ld entries: "
                       "entry %zu of an XRANGE of %s is not a stream "
                       "entry; look at it, delete it, replay again",
                       moved, i, cf->dead_stream);
                freeReplyObject(r);
                return -1;
            }

            f = e->element[1];

            argc = 0;
            argv[argc] = "XADD"; lens[argc++] = 4;
            argv[argc] = cf->stream; lens[argc] = strlen(cf->stream); argc++;
            argv[argc] = "*"; lens[argc++] = 1;

            for (j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements;
                 j += 2)
            {
                if (f->element[j]->type != REDIS_REPLY_STRING
                    || f->element[j + 1]->type != REDIS_REPLY_STRING
                    || f->element[j]->len != 1
                    || strchr(POSTHOG_STREAM_FIELD_VERSION
                          POSTHOG_STREAM_FIELD_TOKEN
                          POSTHOG_STREAM_FIELD_EVENT,
                          f->element[j]->str[0]) == NULL
                    || argc > 8)
                {
                    continue;
                }
                argv[argc] = f->element[j]->str;
                lens[argc++] = 1;
                argv[argc] = f->element[j + 1]->str;
                lens[argc++] = f->element[j + 1]->len;
            }

            if (argc > 3) {
                x = ph_rstream_cmd(rs, argc, argv, lens);
                if (x == NULL || x->type == REDIS_REPLY_ERROR) {
                    if (x) {
                        freeReplyObject(x);
                    }
                    freeReplyObject(r);
                    return -1;
                }
                freeReplyObject(x);
            }

            argv[0] = "XDEL";
            argv[1] = cf->dead_stream;
            argv[2] = e->element[0]->str;
            x = ph_rstream_cmds(rs, 3, argv);
            if (x == NULL || x->type == REDIS_REPLY_ERROR) {
                /* (NOPERM: an ACL user without XDEL) not deleted, it
                 * would be read and XADDed again forever */
                ph_log(PH_LOG_ERROR, "replay stopped after %ld entries: "
                       "XDEL %s from %s failed (it is now in %s too: same "
                       "uuid, PostHog keeps one)", moved,
                       e->element[0]->str, cf->dead_stream, cf->stream);
                if (x) {
                    freeReplyObject(x);
                }
                freeReplyObject(r);
                return -1;
            }
            freeReplyObject(x);
            moved++;
        }

        freeReplyObject(r);
    }

    ph_log(PH_LOG_INFO, "replayed %ld dead-letter entries from %s to %s",
           moved, cf->dead_stream, cf->stream);

    return 0;
}
