/*
 * The Redis side: connection, XREADGROUP (our own PEL, then new entries),
 * XACK, the dead-letter stream, XAUTOCLAIM, the XCLAIM heartbeat, XINFO.
 *
 * hiredis's blocking API with a socket timeout: a reply that does not come
 * within --redis-timeout closes the connection, and the loop reconnects with
 * a backoff while it goes on delivering what it holds. Every reply shape is
 * checked before use: a trimmed entry comes back as [id, nil] (or as a bare
 * nil from some XAUTOCLAIM versions).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "shipper.h"


#define PH_ARGV_MAX  1100


static redisReply *
ph_cmd(ph_shipper_t *sh, int argc, const char **argv, const size_t *lens)
{
    redisReply  *r;

    if (sh->redis == NULL) {
        return NULL;
    }

    r = redisCommandArgv(sh->redis, argc, argv, lens);

    if (r == NULL) {
        ph_log(PH_LOG_ERROR, "redis %s: %s (%s); reconnecting", argv[0],
               sh->redis->errstr[0] ? sh->redis->errstr : "connection lost",
               sh->cf->redis);
        sh->st.redis_errors++;
        ph_redis_close(sh);
        return NULL;
    }

    /* BUSYGROUP answers every XGROUP CREATE but the first: expected, not
     * an error worth a log line */
    if (r->type == REDIS_REPLY_ERROR
        && !(strcmp(argv[0], "XGROUP") == 0 && r->len >= 9
             && strncmp(r->str, "BUSYGROUP", 9) == 0))
    {
        ph_log(PH_LOG_ERROR, "redis %s: %.*s", argv[0], (int) r->len, r->str);
        sh->st.redis_errors++;
    }

    return r;
}


/* argv of C strings */

static redisReply *
ph_cmds(ph_shipper_t *sh, int argc, const char **argv)
{
    int     i;
    size_t  lens[32];

    for (i = 0; i < argc && i < 32; i++) {
        lens[i] = strlen(argv[i]);
    }

    return ph_cmd(sh, argc, argv, lens);
}


void
ph_redis_close(ph_shipper_t *sh)
{
    uint64_t  delay;

    if (sh->redis) {
        redisFree(sh->redis);
        sh->redis = NULL;
    }

    /* 100ms, 200ms ... 5s */
    delay = 100ULL << (sh->redis_fails < 6 ? sh->redis_fails : 6);
    if (delay > 5000) {
        delay = 5000;
    }
    sh->redis_fails++;
    sh->redis_retry_at = ph_now_ms() + delay;
}


int
ph_redis_connect(ph_shipper_t *sh)
{
    int              argc;
    ph_conf_t       *cf;
    redisReply      *r;
    const char      *argv[8];
    struct timeval   tv;

    cf = sh->cf;
    tv.tv_sec = cf->redis_timeout / 1000;
    tv.tv_usec = (cf->redis_timeout % 1000) * 1000;

    if (cf->redis_unix) {
        sh->redis = redisConnectUnixWithTimeout(cf->redis_unix, tv);
    } else {
        sh->redis = redisConnectWithTimeout(cf->redis_host, cf->redis_port,
                                            tv);
    }

    if (sh->redis == NULL || sh->redis->err) {
        ph_log(sh->redis_fails % 50 ? PH_LOG_DEBUG : PH_LOG_ERROR,
               "redis connect %s: %s", cf->redis,
               sh->redis ? sh->redis->errstr : "out of memory");
        sh->st.redis_errors++;
        ph_redis_close(sh);
        return -1;
    }

    /* replies to XREADGROUP BLOCK come after the block time: the socket
     * timeout must be longer */
    tv.tv_sec = (cf->redis_timeout + 1000) / 1000;
    tv.tv_usec = ((cf->redis_timeout + 1000) % 1000) * 1000;
    redisSetTimeout(sh->redis, tv);

    if (cf->redis_password) {
        argc = 0;
        argv[argc++] = "AUTH";
        if (cf->redis_username) {
            argv[argc++] = cf->redis_username;
        }
        argv[argc++] = cf->redis_password;

        r = ph_cmds(sh, argc, argv);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            if (r) {
                freeReplyObject(r);
                ph_redis_close(sh);
            }
            return -1;
        }
        freeReplyObject(r);
    }

    argv[0] = "XGROUP";
    argv[1] = "CREATE";
    argv[2] = cf->stream;
    argv[3] = cf->group;
    argv[4] = "0";
    argv[5] = "MKSTREAM";

    r = ph_cmds(sh, 6, argv);
    if (r == NULL) {
        return -1;
    }

    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
        freeReplyObject(r);
        ph_redis_close(sh);
        return -1;
    }

    if (r->type != REDIS_REPLY_ERROR) {
        ph_log(PH_LOG_INFO, "created consumer group %s on %s", cf->group,
               cf->stream);
    }

    freeReplyObject(r);

    ph_log(sh->redis_fails ? PH_LOG_INFO : PH_LOG_DEBUG,
           "connected to redis %s as consumer %s", cf->redis, cf->consumer);

    /* redis_fails is reset by the first successful read, not here: a
     * Redis that takes the connection but refuses every read (READONLY,
     * NOPERM) is retried with a growing backoff */

    /* first our own pending entries, whatever happened before */
    sh->scanning = 1;
    strcpy(sh->scan_cursor, "0-0");

    return 0;
}


/* entries: [[id, [f, v, ...] | nil], ...]; returns the count (claimed: the
 * count of entries taken care of), sets *last */

static int
ph_redis_entries(ph_shipper_t *sh, redisReply *list, char *last, int claimed)
{
    int          n, taken;
    size_t       i;
    redisReply  *e;

    n = 0;
    taken = 0;

    if (list == NULL || list->type != REDIS_REPLY_ARRAY) {
        return 0;
    }

    for (i = 0; i < list->elements; i++) {
        e = list->element[i];
        n++;

        if (e->type == REDIS_REPLY_NIL) {
            /* XAUTOCLAIM of Redis 6.2: a pending entry no longer in the
             * stream, without its id. Redis moved it to our PEL, where a
             * read of the PEL returns it as [id, nil]: read ours again,
             * that counts it and acknowledges it (counting it here too
             * would count it twice; leaving it, it would be claimed and
             * counted again at every XAUTOCLAIM) */
            sh->scanning = 1;
            strcpy(sh->scan_cursor, "0-0");
            taken++;
            continue;
        }

        if (e->type != REDIS_REPLY_ARRAY || e->elements < 1
            || e->element[0]->type != REDIS_REPLY_STRING)
        {
            ph_log(PH_LOG_WARN, "unexpected entry in a stream reply");
            continue;
        }

        if (last && e->element[0]->len < 48) {
            memcpy(last, e->element[0]->str, e->element[0]->len);
            last[e->element[0]->len] = '\0';
        }

        if (ph_accept_entry(sh, e->element[0]->str, e->element[0]->len,
                            e->elements > 1 ? e->element[1] : NULL)
            && claimed)
        {
            /* taken over (what we claim back from ourselves, entries of
             * a parked token, is not counted: nothing was done) */
            sh->st.claimed++;
            taken++;
        }
    }

    return claimed ? taken : n;
}


/* XREADGROUP ... STREAMS <stream> <id>; returns entries read, -1 on error */

int
ph_redis_read(ph_shipper_t *sh, const char *id, long count, long block)
{
    int          argc, n;
    char         cnt[24], blk[24];
    size_t       i;
    ph_conf_t   *cf;
    redisReply  *r, *s;
    const char  *argv[16];

    cf = sh->cf;
    snprintf(cnt, sizeof(cnt), "%ld", count);
    snprintf(blk, sizeof(blk), "%ld", block);

    argc = 0;
    argv[argc++] = "XREADGROUP";
    argv[argc++] = "GROUP";
    argv[argc++] = cf->group;
    argv[argc++] = cf->consumer;
    argv[argc++] = "COUNT";
    argv[argc++] = cnt;
    if (block > 0) {
        argv[argc++] = "BLOCK";
        argv[argc++] = blk;
    }
    argv[argc++] = "STREAMS";
    argv[argc++] = cf->stream;
    argv[argc++] = id;

    r = ph_cmds(sh, argc, argv);
    if (r == NULL) {
        return -1;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        /* NOGROUP: the stream or the group was deleted under us; READONLY
         * (a replica after a failover), NOPERM, BUSY, ...: the read is the
         * loop's sleep, so an error that comes back at once would spin and
         * flood the log. Reconnect with the backoff (which grows, as
         * redis_fails is only reset by a successful read): the connect
         * makes the group again if needed. */
        freeReplyObject(r);
        ph_redis_close(sh);
        return -1;
    }

    /* a good answer: the connection works (resets the reconnect backoff) */
    sh->redis_fails = 0;

    n = 0;

    /* nil: BLOCK timed out; else [[stream, entries]] */
    if (r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < r->elements; i++) {
            s = r->element[i];
            if (s->type == REDIS_REPLY_ARRAY && s->elements == 2) {
                n += ph_redis_entries(sh, s->element[1],
                                      strcmp(id, ">") ? sh->scan_cursor
                                                      : NULL, 0);
            }
        }
    }

    freeReplyObject(r);

    return n;
}


int
ph_redis_ack_id(ph_shipper_t *sh, const char *id)
{
    redisReply  *r;
    const char  *argv[4];

    argv[0] = "XACK";
    argv[1] = sh->cf->stream;
    argv[2] = sh->cf->group;
    argv[3] = id;

    r = ph_cmds(sh, 4, argv);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        sh->st.ack_errors++;
        if (r) {
            freeReplyObject(r);
        }
        return -1;
    }

    freeReplyObject(r);

    return 0;
}


/* XACK the entries t->q[head + off .. + len) */

int
ph_redis_ack(ph_shipper_t *sh, ph_token_t *t, size_t off, size_t len)
{
    int           rc;
    char         *ids;
    size_t        i, k, chunk, *lens;
    ph_entry_t   *e;
    redisReply   *r;
    const char  **argv;

    rc = 0;
    argv = malloc(PH_ARGV_MAX * sizeof(char *));
    lens = malloc(PH_ARGV_MAX * sizeof(size_t));
    ids = malloc(PH_ARGV_MAX * 42);

    if (argv == NULL || lens == NULL || ids == NULL) {
        rc = -1;
        goto done;
    }

    for (i = 0; i < len; i += chunk) {
        chunk = len - i < 1000 ? len - i : 1000;

        argv[0] = "XACK";
        argv[1] = sh->cf->stream;
        argv[2] = sh->cf->group;

        for (k = 0; k < chunk; k++) {
            e = &t->q[t->head + off + i + k];
            argv[3 + k] = ids + 42 * k;
            lens[3 + k] = ph_format_id(ids + 42 * k, e->ms, e->seq);
        }

        lens[0] = 4;
        lens[1] = strlen(argv[1]);
        lens[2] = strlen(argv[2]);

        r = ph_cmd(sh, (int) (3 + chunk), argv, lens);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            /* they stay pending and will be delivered again: duplicates
             * with the same uuid, collapsed by PostHog */
            sh->st.ack_errors += chunk;
            rc = -1;
        }

        if (r) {
            freeReplyObject(r);
        }
    }

done:

    free(argv);
    free(lens);
    free(ids);

    return rc;
}


int
ph_redis_dead(ph_shipper_t *sh, const char *id, const char *v, size_t vlen,
    const char *tok, size_t toklen, const char *ev, size_t evlen,
    const char *reason, int status)
{
    int          argc;
    char         st[16], ml[24];
    size_t       lens[20];
    redisReply  *r;
    const char  *argv[20];

    snprintf(st, sizeof(st), "%d", status);
    snprintf(ml, sizeof(ml), "%ld", sh->cf->dead_maxlen);

    argc = 0;
    argv[argc] = "XADD"; lens[argc++] = 4;
    argv[argc] = sh->cf->dead_stream; lens[argc] = strlen(argv[argc]); argc++;
    if (sh->cf->dead_maxlen > 0) {
        argv[argc] = "MAXLEN"; lens[argc++] = 6;
        argv[argc] = "~"; lens[argc++] = 1;
        argv[argc] = ml; lens[argc] = strlen(ml); argc++;
    }
    argv[argc] = "*"; lens[argc++] = 1;
    argv[argc] = "v"; lens[argc++] = 1;
    argv[argc] = v ? v : ""; lens[argc++] = v ? vlen : 0;
    argv[argc] = "t"; lens[argc++] = 1;
    argv[argc] = tok ? tok : ""; lens[argc++] = tok ? toklen : 0;
    argv[argc] = "e"; lens[argc++] = 1;
    argv[argc] = ev ? ev : ""; lens[argc++] = ev ? evlen : 0;
    argv[argc] = "reason"; lens[argc++] = 6;
    argv[argc] = reason; lens[argc] = strlen(reason); argc++;
    argv[argc] = "status"; lens[argc++] = 6;
    argv[argc] = st; lens[argc] = strlen(st); argc++;
    argv[argc] = "id"; lens[argc++] = 2;
    argv[argc] = id; lens[argc] = strlen(id); argc++;

    r = ph_cmd(sh, argc, argv, lens);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        /* not acknowledged: it stays pending and is tried again later */
        if (r) {
            freeReplyObject(r);
        }
        return -1;
    }

    freeReplyObject(r);

    ph_log(PH_LOG_WARN, "dead-lettered %s (status %d): %s", id, status,
           reason);

    sh->st.dead++;

    return ph_redis_ack_id(sh, id);
}


/* Take over entries idle longer than --claim-idle: those of consumers that
 * died (or of our own that we released). At most max_pages XAUTOCLAIMs of
 * one batch each per call; the cursor goes on at the next call. */

int
ph_redis_autoclaim(ph_shipper_t *sh, int max_pages)
{
    int          page, n;
    long         room;
    char         idle[24], cnt[24];
    size_t       i;
    redisReply  *r, *del;
    const char  *argv[10];

    snprintf(idle, sizeof(idle), "%ld", sh->cf->claim_idle);

    n = 0;

    for (page = 0; page < max_pages; page++) {

        /* the same bounds as a read: events and bytes held */
        if (!ph_room(sh)) {
            break;
        }

        /* a page, but no more than there is room for */
        room = sh->cf->max_buffered - (long) sh->held;
        snprintf(cnt, sizeof(cnt), "%ld",
                 room < sh->cf->batch_size ? room : sh->cf->batch_size);

        argv[0] = "XAUTOCLAIM";
        argv[1] = sh->cf->stream;
        argv[2] = sh->cf->group;
        argv[3] = sh->cf->consumer;
        argv[4] = idle;
        argv[5] = sh->claim_cursor;
        argv[6] = "COUNT";
        argv[7] = cnt;

        r = ph_cmds(sh, 8, argv);
        if (r == NULL) {
            return -1;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements < 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[0]->len >= sizeof(sh->claim_cursor))
        {
            freeReplyObject(r);
            return -1;
        }

        memcpy(sh->claim_cursor, r->element[0]->str, r->element[0]->len);
        sh->claim_cursor[r->element[0]->len] = '\0';

        n += ph_redis_entries(sh, r->element[1], NULL, 1);

        /* Redis 7: ids of pending entries no longer in the stream, which
         * XAUTOCLAIM removed from the PEL itself */
        if (r->elements > 2 && r->element[2]->type == REDIS_REPLY_ARRAY) {
            del = r->element[2];
            for (i = 0; i < del->elements; i++) {
                sh->st.trimmed++;
                if (del->element[i]->type == REDIS_REPLY_STRING) {
                    ph_log(PH_LOG_WARN, "entry %.*s was trimmed from the "
                           "stream before delivery: lost",
                           (int) del->element[i]->len, del->element[i]->str);
                }
            }
        }

        freeReplyObject(r);

        if (strcmp(sh->claim_cursor, "0-0") == 0) {
            break;
        }
    }

    return n;
}


/* XCLAIM <ids> to ourselves with min-idle 0 and JUSTID: resets the idle time
 * of what we hold, so that other shippers' XAUTOCLAIM leaves it to us while
 * we are busy with it (e.g. retrying through a long PostHog outage). */

int
ph_redis_heartbeat(ph_shipper_t *sh)
{
    int           rc;
    char         *ids;
    size_t        i, k, *lens;
    ph_token_t   *t;
    ph_entry_t   *e;
    redisReply   *r;
    const char  **argv;

    rc = 0;
    argv = malloc(PH_ARGV_MAX * sizeof(char *));
    lens = malloc(PH_ARGV_MAX * sizeof(size_t));
    ids = malloc(PH_ARGV_MAX * 42);

    if (argv == NULL || lens == NULL || ids == NULL) {
        rc = -1;
        goto done;
    }

    argv[0] = "XCLAIM";
    argv[1] = sh->cf->stream;
    argv[2] = sh->cf->group;
    argv[3] = sh->cf->consumer;
    argv[4] = "0";
    for (k = 0; k < 5; k++) {
        lens[k] = strlen(argv[k]);
    }

    k = 5;

    for (t = sh->tokens; t; t = t->next) {
        for (i = t->head; i < t->n; i++) {
            e = &t->q[i];
            argv[k] = ids + 42 * k;
            lens[k] = ph_format_id(ids + 42 * k, e->ms, e->seq);
            k++;

            if (k == PH_ARGV_MAX - 1) {
                argv[k] = "JUSTID";
                lens[k++] = 6;

                r = ph_cmd(sh, (int) k, argv, lens);
                if (r == NULL) {
                    rc = -1;
                    goto done;
                }
                freeReplyObject(r);
                k = 5;
            }
        }
    }

    if (k > 5) {
        argv[k] = "JUSTID";
        lens[k++] = 6;
        r = ph_cmd(sh, (int) k, argv, lens);
        if (r) {
            freeReplyObject(r);
        }
    }

done:

    free(argv);
    free(lens);
    free(ids);

    return rc;
}


/* XINFO GROUPS for pending and lag, XLEN */

int
ph_redis_info(ph_shipper_t *sh)
{
    size_t       i, j;
    redisReply  *r, *g, *k, *v;
    const char  *argv[4];

    argv[0] = "XINFO";
    argv[1] = "GROUPS";
    argv[2] = sh->cf->stream;

    r = ph_cmds(sh, 3, argv);
    if (r == NULL) {
        return -1;
    }

    if (r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < r->elements; i++) {
            g = r->element[i];
            if (g->type != REDIS_REPLY_ARRAY) {
                continue;
            }

            /* a flat map: name g consumers n pending n ... lag n|nil */
            for (j = 0; j + 1 < g->elements; j += 2) {
                k = g->element[j];
                v = g->element[j + 1];
                if (k->type == REDIS_REPLY_STRING
                    && strcmp(k->str, "name") == 0
                    && (v->type != REDIS_REPLY_STRING
                        || strcmp(v->str, sh->cf->group) != 0))
                {
                    break;
                }
                if (k->type != REDIS_REPLY_STRING) {
                    continue;
                }
                if (strcmp(k->str, "pending") == 0) {
                    sh->st.pending = v->type == REDIS_REPLY_INTEGER
                                     ? v->integer : -1;
                } else if (strcmp(k->str, "lag") == 0) {
                    sh->st.lag = v->type == REDIS_REPLY_INTEGER
                                 ? v->integer : -1;
                }
            }
        }
    }

    freeReplyObject(r);

    argv[0] = "XLEN";
    argv[1] = sh->cf->stream;
    r = ph_cmds(sh, 2, argv);
    if (r == NULL) {
        return -1;
    }
    if (r->type == REDIS_REPLY_INTEGER) {
        sh->st.stream_len = r->integer;
    }
    freeReplyObject(r);

    return 0;
}


/* --replay-dead: XADD every dead-letter entry's v, t, e back to the stream,
 * then XDEL it from the dead-letter stream. A crash in between replays it
 * twice: same uuid, collapsed by PostHog. Each XRANGE reads from the start
 * of the dead-letter stream, so an entry that is not deleted comes back on
 * the next one: anything but a deleted entry stops the replay (-1), else it
 * would XADD the same entries forever. */

int
ph_replay_dead(ph_shipper_t *sh)
{
    int           argc;
    char          end[48];
    long          moved;
    size_t        i, j, lens[10];
    ph_conf_t    *cf;
    redisReply   *r, *e, *f, *x;
    const char   *argv[10];

    cf = sh->cf;
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

    r = ph_cmds(sh, 6, argv);
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

        if (ph_stop) {
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

        r = ph_cmds(sh, 6, argv);
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
            if (ph_stop) {
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
                    || strchr("vte", f->element[j]->str[0]) == NULL
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
                x = ph_cmd(sh, argc, argv, lens);
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
            x = ph_cmds(sh, 3, argv);
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
