/*
 * The Redis side: connection, XREADGROUP (our own PEL, then new entries),
 * XACK, the dead-letter stream, XAUTOCLAIM, the XCLAIM heartbeat, XINFO.
 *
 * hiredis's blocking API with a socket timeout: a reply that does not come
 * within --redis-timeout closes the connection, and the loop reconnects with
 * a backoff while it goes on delivering what it holds. Every reply shape is
 * checked before use: a trimmed entry comes back as [id, nil] (or as a bare
 * nil from some XAUTOCLAIM versions).
 *
 * What to do with an entry is not decided here: each one read or claimed
 * goes to the caller's entry callback, and reads and claims stop when its
 * room callback says so (hiredis style: a function and its privdata).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "shipper.h"


#define PH_ARGV_MAX  1100
#define PH_FIELDS    32       /* fields of an entry without malloc */


redisReply *
ph_rstream_cmd(ph_rstream_t *rs, int argc, const char **argv,
    const size_t *lens)
{
    redisReply  *r;

    if (rs->c == NULL) {
        return NULL;
    }

    r = redisCommandArgv(rs->c, argc, argv, lens);

    if (r == NULL) {
        ph_log(PH_LOG_ERROR, "redis %s: %s (%s); reconnecting", argv[0],
               rs->c->errstr[0] ? rs->c->errstr : "connection lost",
               rs->cf->redis);
        rs->st->redis_errors++;
        ph_rstream_close(rs);
        return NULL;
    }

    /* BUSYGROUP answers every XGROUP CREATE but the first: expected, not
     * an error worth a log line */
    if (r->type == REDIS_REPLY_ERROR
        && !(strcmp(argv[0], "XGROUP") == 0 && r->len >= 9
             && strncmp(r->str, "BUSYGROUP", 9) == 0))
    {
        ph_log(PH_LOG_ERROR, "redis %s: %.*s", argv[0], (int) r->len, r->str);
        rs->st->redis_errors++;
    }

    return r;
}


/* argv of C strings */

redisReply *
ph_rstream_cmds(ph_rstream_t *rs, int argc, const char **argv)
{
    int     i;
    size_t  lens[32];

    for (i = 0; i < argc && i < 32; i++) {
        lens[i] = strlen(argv[i]);
    }

    return ph_rstream_cmd(rs, argc, argv, lens);
}


void
ph_rstream_init(ph_rstream_t *rs, ph_conf_t *cf, ph_stats_t *st,
    ph_entry_pt entry, ph_room_pt room, void *data)
{
    memset(rs, 0, sizeof(ph_rstream_t));
    rs->cf = cf;
    rs->st = st;
    rs->entry = entry;
    rs->room = room;
    rs->data = data;
    strcpy(rs->claim_cursor, "0-0");
}


void
ph_rstream_close(ph_rstream_t *rs)
{
    uint64_t  delay;

    if (rs->c) {
        redisFree(rs->c);
        rs->c = NULL;
    }

    /* 100ms, 200ms ... 5s */
    delay = 100ULL << (rs->fails < 6 ? rs->fails : 6);
    if (delay > 5000) {
        delay = 5000;
    }
    rs->fails++;
    rs->retry_at = ph_now_ms() + delay;
}


/* read our own PEL again from the start (what the caller holds it skips) */

void
ph_rstream_rescan(ph_rstream_t *rs)
{
    rs->scanning = 1;
    strcpy(rs->scan_cursor, "0-0");
}


int
ph_rstream_connect(ph_rstream_t *rs)
{
    int              argc;
    ph_conf_t       *cf;
    redisReply      *r;
    const char      *argv[8];
    struct timeval   tv;

    cf = rs->cf;
    tv.tv_sec = cf->redis_timeout / 1000;
    tv.tv_usec = (cf->redis_timeout % 1000) * 1000;

    if (cf->redis_unix) {
        rs->c = redisConnectUnixWithTimeout(cf->redis_unix, tv);
    } else {
        rs->c = redisConnectWithTimeout(cf->redis_host, cf->redis_port, tv);
    }

    if (rs->c == NULL || rs->c->err) {
        ph_log(rs->fails % 50 ? PH_LOG_DEBUG : PH_LOG_ERROR,
               "redis connect %s: %s", cf->redis,
               rs->c ? rs->c->errstr : "out of memory");
        rs->st->redis_errors++;
        ph_rstream_close(rs);
        return -1;
    }

    /* replies to XREADGROUP BLOCK come after the block time: the socket
     * timeout must be longer */
    tv.tv_sec = (cf->redis_timeout + 1000) / 1000;
    tv.tv_usec = ((cf->redis_timeout + 1000) % 1000) * 1000;
    redisSetTimeout(rs->c, tv);

    if (cf->redis_password) {
        argc = 0;
        argv[argc++] = "AUTH";
        if (cf->redis_username) {
            argv[argc++] = cf->redis_username;
        }
        argv[argc++] = cf->redis_password;

        r = ph_rstream_cmds(rs, argc, argv);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            if (r) {
                freeReplyObject(r);
                ph_rstream_close(rs);
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

    r = ph_rstream_cmds(rs, 6, argv);
    if (r == NULL) {
        return -1;
    }

    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
        freeReplyObject(r);
        ph_rstream_close(rs);
        return -1;
    }

    if (r->type != REDIS_REPLY_ERROR) {
        ph_log(PH_LOG_INFO, "created consumer group %s on %s", cf->group,
               cf->stream);
    }

    freeReplyObject(r);

    ph_log(rs->fails ? PH_LOG_INFO : PH_LOG_DEBUG,
           "connected to redis %s as consumer %s", cf->redis, cf->consumer);

    /* fails is reset by the first successful read, not here: a
     * Redis that takes the connection but refuses every read (READONLY,
     * NOPERM) is retried with a growing backoff */

    /* first our own pending entries, whatever happened before */
    ph_rstream_rescan(rs);

    return 0;
}


/* one entry of a reply, [id, [k, v, ...] | nil], to the entry callback */

static int
ph_rstream_entry(ph_rstream_t *rs, redisReply *e)
{
    int           rc;
    size_t        i;
    ph_str_t      kvbuf[PH_FIELDS], *kv;
    redisReply   *f, *x;
    ph_rentry_t   en;

    en.id.p = e->element[0]->str;
    en.id.len = e->element[0]->len;
    en.kv = NULL;
    en.n = 0;

    f = e->elements > 1 ? e->element[1] : NULL;

    if (f == NULL) {
        en.shape = PH_FIELDS_NONE;

    } else if (f->type == REDIS_REPLY_NIL) {
        en.shape = PH_FIELDS_NIL;

    } else if (f->type != REDIS_REPLY_ARRAY) {
        en.shape = PH_FIELDS_OTHER;

    } else {
        en.shape = PH_FIELDS_ARRAY;

        kv = kvbuf;
        if (f->elements > PH_FIELDS) {
            kv = malloc(f->elements * sizeof(ph_str_t));
            if (kv == NULL) {
                ph_log(PH_LOG_ERROR, "out of memory; %.*s stays pending",
                       (int) (en.id.len < 48 ? en.id.len : 48), en.id.p);
                return 0;
            }
        }

        for (i = 0; i < f->elements; i++) {
            x = f->element[i];
            kv[i].p = x->type == REDIS_REPLY_STRING ? x->str : NULL;
            kv[i].len = x->type == REDIS_REPLY_STRING ? x->len : 0;
        }

        en.kv = kv;
        en.n = f->elements;
    }

    rc = rs->entry(rs->data, &en);

    if (en.kv != kvbuf && en.kv != NULL) {
        free((void *) en.kv);
    }

    return rc;
}


/* entries: [[id, [f, v, ...] | nil], ...]; returns the count (claimed: the
 * count of entries taken care of), sets *last */

static int
ph_rstream_entries(ph_rstream_t *rs, redisReply *list, char *last,
    int claimed)
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
            ph_rstream_rescan(rs);
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

        if (ph_rstream_entry(rs, e) && claimed) {
            /* taken over (what we claim back from ourselves, entries of
             * a parked token, is not counted: nothing was done) */
            rs->st->claimed++;
            taken++;
        }
    }

    return claimed ? taken : n;
}


/* XREADGROUP ... STREAMS <stream> <id>; returns entries read, -1 on error */

static int
ph_rstream_xreadgroup(ph_rstream_t *rs, const char *id, long count,
    long block)
{
    int          argc, n;
    char         cnt[24], blk[24];
    size_t       i;
    ph_conf_t   *cf;
    redisReply  *r, *s;
    const char  *argv[16];

    cf = rs->cf;
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

    r = ph_rstream_cmds(rs, argc, argv);
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
        ph_rstream_close(rs);
        return -1;
    }

    /* a good answer: the connection works (resets the reconnect backoff) */
    rs->fails = 0;

    n = 0;

    /* nil: BLOCK timed out; else [[stream, entries]] */
    if (r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < r->elements; i++) {
            s = r->element[i];
            if (s->type == REDIS_REPLY_ARRAY && s->elements == 2) {
                n += ph_rstream_entries(rs, s->element[1],
                                        strcmp(id, ">") ? rs->scan_cursor
                                                        : NULL, 0);
            }
        }
    }

    freeReplyObject(r);

    return n;
}


int
ph_rstream_read(ph_rstream_t *rs, long count, long block)
{
    int  n;

    if (!rs->scanning) {
        return ph_rstream_xreadgroup(rs, ">", count, block);
    }

    /* our PEL from the cursor on: without BLOCK, it is there or not */
    n = ph_rstream_xreadgroup(rs, rs->scan_cursor, count, 0);
    if (n == 0) {
        rs->scanning = 0;
        ph_log(PH_LOG_DEBUG, "own pending entries read; now new ones");
    }

    return n;
}


int
ph_rstream_ack_id(ph_rstream_t *rs, const char *id)
{
    redisReply  *r;
    const char  *argv[4];

    argv[0] = "XACK";
    argv[1] = rs->cf->stream;
    argv[2] = rs->cf->group;
    argv[3] = id;

    r = ph_rstream_cmds(rs, 4, argv);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        rs->st->ack_errors++;
        if (r) {
            freeReplyObject(r);
        }
        return -1;
    }

    freeReplyObject(r);

    return 0;
}


/* XACK the entries e[0 .. len) */

int
ph_rstream_ack(ph_rstream_t *rs, const ph_entry_t *e, size_t len)
{
    int           rc;
    char         *ids;
    size_t        i, k, chunk, *lens;
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
        argv[1] = rs->cf->stream;
        argv[2] = rs->cf->group;

        for (k = 0; k < chunk; k++) {
            argv[3 + k] = ids + 42 * k;
            lens[3 + k] = posthog_stream_id_format(ids + 42 * k,
                                                   e[i + k].ms, e[i + k].seq);
        }

        lens[0] = 4;
        lens[1] = strlen(argv[1]);
        lens[2] = strlen(argv[2]);

        r = ph_rstream_cmd(rs, (int) (3 + chunk), argv, lens);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            /* they stay pending and will be delivered again: duplicates
             * with the same uuid, collapsed by PostHog */
            rs->st->ack_errors += chunk;
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
ph_rstream_dead(ph_rstream_t *rs, const char *id, const ph_str_t *v,
    const ph_str_t *t, const ph_str_t *e, const char *reason, int status)
{
    int          argc;
    char         st[16], ml[24];
    size_t       lens[20];
    ph_conf_t   *cf;
    redisReply  *r;
    const char  *argv[20];

    cf = rs->cf;

    snprintf(st, sizeof(st), "%d", status);
    snprintf(ml, sizeof(ml), "%ld", cf->dead_maxlen);

#define PH_ARG(s, n)  do { argv[argc] = (s); lens[argc++] = (n); } while (0)
#define PH_FIELD(f)   PH_ARG((f)->p ? (f)->p : "", (f)->p ? (f)->len : 0)

    /* the entry as it was (v, t, e), and why, with what, and where from */
    argc = 0;
    PH_ARG("XADD", 4);
    PH_ARG(cf->dead_stream, strlen(cf->dead_stream));
    if (cf->dead_maxlen > 0) {
        PH_ARG("MAXLEN", 6);
        PH_ARG("~", 1);
        PH_ARG(ml, strlen(ml));
    }
    PH_ARG("*", 1);
    PH_ARG(POSTHOG_STREAM_FIELD_VERSION, 1);
    PH_FIELD(v);
    PH_ARG(POSTHOG_STREAM_FIELD_TOKEN, 1);
    PH_FIELD(t);
    PH_ARG(POSTHOG_STREAM_FIELD_EVENT, 1);
    PH_FIELD(e);
    PH_ARG("reason", 6);
    PH_ARG(reason, strlen(reason));
    PH_ARG("status", 6);
    PH_ARG(st, strlen(st));
    PH_ARG("id", 2);
    PH_ARG(id, strlen(id));

#undef PH_FIELD
#undef PH_ARG

    r = ph_rstream_cmd(rs, argc, argv, lens);
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

    rs->st->dead++;

    return ph_rstream_ack_id(rs, id);
}


/* Take over entries idle longer than --claim-idle: those of consumers that
 * died (or of our own that we released). At most max_pages XAUTOCLAIMs of
 * one batch each per call; the cursor goes on at the next call. */

int
ph_rstream_autoclaim(ph_rstream_t *rs, int max_pages)
{
    int          page, n;
    long         room;
    char         idle[24], cnt[24];
    size_t       i;
    ph_conf_t   *cf;
    redisReply  *r, *del;
    const char  *argv[10];

    cf = rs->cf;
    snprintf(idle, sizeof(idle), "%ld", cf->claim_idle);

    n = 0;

    for (page = 0; page < max_pages; page++) {

        /* the same bounds as a read: events and bytes held; a page, but
         * no more than there is room for */
        room = rs->c ? rs->room(rs->data) : 0;
        if (room <= 0) {
            break;
        }

        snprintf(cnt, sizeof(cnt), "%ld",
                 room < cf->batch_size ? room : cf->batch_size);

        argv[0] = "XAUTOCLAIM";
        argv[1] = cf->stream;
        argv[2] = cf->group;
        argv[3] = cf->consumer;
        argv[4] = idle;
        argv[5] = rs->claim_cursor;
        argv[6] = "COUNT";
        argv[7] = cnt;

        r = ph_rstream_cmds(rs, 8, argv);
        if (r == NULL) {
            return -1;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements < 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[0]->len >= sizeof(rs->claim_cursor))
        {
            freeReplyObject(r);
            return -1;
        }

        memcpy(rs->claim_cursor, r->element[0]->str, r->element[0]->len);
        rs->claim_cursor[r->element[0]->len] = '\0';

        n += ph_rstream_entries(rs, r->element[1], NULL, 1);

        /* Redis 7: ids of pending entries no longer in the stream, which
         * XAUTOCLAIM removed from the PEL itself */
        if (r->elements > 2 && r->element[2]->type == REDIS_REPLY_ARRAY) {
            del = r->element[2];
            for (i = 0; i < del->elements; i++) {
                rs->st->trimmed++;
                if (del->element[i]->type == REDIS_REPLY_STRING) {
                    ph_log(PH_LOG_WARN, "entry %.*s was trimmed from the "
                           "stream before delivery: lost",
                           (int) del->element[i]->len, del->element[i]->str);
                }
            }
        }

        freeReplyObject(r);

        if (strcmp(rs->claim_cursor, "0-0") == 0) {
            break;
        }
    }

    return n;
}


/* XCLAIM <ids> to ourselves with min-idle 0 and JUSTID: resets the idle time
 * of what we hold, so that other shippers' XAUTOCLAIM leaves it to us while
 * we are busy with it (e.g. retrying through a long PostHog outage). */

int
ph_rstream_heartbeat(ph_rstream_t *rs, const ph_token_t *tokens)
{
    int                rc;
    char              *ids;
    size_t             i, k, *lens;
    const ph_token_t  *t;
    const ph_entry_t  *e;
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
    argv[1] = rs->cf->stream;
    argv[2] = rs->cf->group;
    argv[3] = rs->cf->consumer;
    argv[4] = "0";
    for (k = 0; k < 5; k++) {
        lens[k] = strlen(argv[k]);
    }

    k = 5;

    for (t = tokens; t; t = t->next) {
        for (i = t->head; i < t->n; i++) {
            e = &t->q[i];
            argv[k] = ids + 42 * k;
            lens[k] = posthog_stream_id_format(ids + 42 * k, e->ms, e->seq);
            k++;

            if (k == PH_ARGV_MAX - 1) {
                argv[k] = "JUSTID";
                lens[k++] = 6;

                r = ph_rstream_cmd(rs, (int) k, argv, lens);
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
        r = ph_rstream_cmd(rs, (int) k, argv, lens);
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
ph_rstream_info(ph_rstream_t *rs)
{
    size_t       i, j;
    redisReply  *r, *g, *k, *v;
    const char  *argv[4];

    argv[0] = "XINFO";
    argv[1] = "GROUPS";
    argv[2] = rs->cf->stream;

    r = ph_rstream_cmds(rs, 3, argv);
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
                        || strcmp(v->str, rs->cf->group) != 0))
                {
                    break;
                }
                if (k->type != REDIS_REPLY_STRING) {
                    continue;
                }
                if (strcmp(k->str, "pending") == 0) {
                    rs->st->pending = v->type == REDIS_REPLY_INTEGER
                                     ? v->integer : -1;
                } else if (strcmp(k->str, "lag") == 0) {
                    rs->st->lag = v->type == REDIS_REPLY_INTEGER
                                 ? v->integer : -1;
                }
            }
        }
    }

    freeReplyObject(r);

    argv[0] = "XLEN";
    argv[1] = rs->cf->stream;
    r = ph_rstream_cmds(rs, 2, argv);
    if (r == NULL) {
        return -1;
    }
    if (r->type == REDIS_REPLY_INTEGER) {
        rs->st->stream_len = r->integer;
    }
    freeReplyObject(r);

    return 0;
}
