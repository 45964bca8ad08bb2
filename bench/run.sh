#!/bin/sh
# ngx_posthog_module benchmark: the module against bare nginx, side by side
# in one run, reported as ratios (see docs/benchmarks.md).
#
#   sh bench/run.sh                 # a few minutes (2 min of it is wrk)
#   QUICK=1 sh bench/run.sh         # shorter (25 s of wrk), rougher
#
# 1. callgrind: instructions per request of one nginx process (the count of
#    a window of N keep-alive requests, zeroed and dumped with
#    callgrind_control, so start-up and shutdown are not in it), for bare
#    nginx and for the module in four cases.
#    And the cost of parsing the User-Agent, with and without the cache
#    (ONLY=ua: that case alone).
# 2. wrk: requests/s, p99 latency and the nginx worker's CPU time per
#    request, bare and module alternating, with Redis up and with Redis
#    stopped; medians and the median of the per-round module/bare ratios.
#    Redis up: the stream bounded (WRK_MAXLEN, 100 000) and filled to its
#    cap first, as a deployed stream sits; two layouts in each round:
#    (i) wrk and redis-server on CPU 1, (ii) wrk on nginx's CPU 0 and
#    redis-server alone on CPU 1.  redis-server's CPU time per event, XADD
#    time (INFO commandstats), XADDs per read of Redis and per write(2) of
#    the worker.  ONLY=wrk: the wrk and Redis parts alone.
# 3. Redis: the status page's counters (written + dropped = events) against
#    the requests sent, and the XADDs Redis executed.
# 4. bench/shipper.pl (posthog-shipper throughput), unless SHIPPER=0.
#
# Knobs (environment): QUICK=1, N (callgrind requests per case), ROUNDS,
# UA_BENCH=0 (no user-agent cases), RATIOS_OUT=FILE ("case ratio" lines,
# for bench/guard.sh),
# DUR (seconds per wrk run; ROUNDS=0: no wrk), CONNS (wrk connections),
# WRK_MAXLEN (the wrk stream's maxlen; 0: unbounded, not filled),
# WRK_FLUSH (the wrk module's posthog_buffer flush=, e.g. 1ms), SHIPPER=0|1,
# SHIP_N (events for shipper.pl), PIN=0 (no taskset), NGINX_BIN, PH_BUILD,
# PH_KEEP=1 (keep the temporary directory).
#
# Loopback only; every process is started here and stopped on exit.

if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PH_BUILD=${PH_BUILD:-$ROOT/build}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
MODULE=${PH_MODULE:-$PH_BUILD/ngx_http_posthog_module.so}

if [ "${QUICK:-0}" = 1 ]; then
    N=${N:-400}; ROUNDS=${ROUNDS:-1}; DUR=${DUR:-3}; SHIP_N=${SHIP_N:-10000}
else
    N=${N:-2000}; ROUNDS=${ROUNDS:-3}; DUR=${DUR:-5}; SHIP_N=${SHIP_N:-50000}
fi
CONNS=${CONNS:-32}
SHIPPER=${SHIPPER:-1}
WARM=20

# Every request, bare nginx's and the module's, carries the headers Chrome
# 126 sends on Linux when a link of the same site is followed (recorded
# from its network panel): the module is measured against bare nginx
# answering the same bytes.  Cookie and X-User-Id come on top, the same for
# both (see the cases below).
UA='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'
BROWSER=(
    -H 'sec-ch-ua: "Not/A)Brand";v="8", "Chromium";v="126", "Google Chrome";v="126"'
    -H 'sec-ch-ua-mobile: ?0'
    -H 'sec-ch-ua-platform: "Linux"'
    -H 'Upgrade-Insecure-Requests: 1'
    -H "User-Agent: $UA"
    -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'
    -H 'Sec-Fetch-Site: same-origin'
    -H 'Sec-Fetch-Mode: navigate'
    -H 'Sec-Fetch-User: ?1'
    -H 'Sec-Fetch-Dest: document'
    -H 'Referer: http://127.0.0.1/docs/getting-started'
    -H 'Accept-Encoding: gzip, deflate, br, zstd'
    -H 'Accept-Language: en-US,en;q=0.9'
)
SECRET=3f1c0e5a9b7d2468ace013579bdf2468ace013579bdf2468ace013579bdf0246
USER_ID=user-42
PAGE='<!doctype html><html><head><title>bench</title></head><body><h1>Hello</h1><p>A small page.</p></body></html>'

for tool in valgrind callgrind_control wrk redis-server redis-cli curl perl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is needed" >&2; exit 1; }
done
[ -f "$MODULE" ] || { echo "bench: $MODULE is not built (run make)" >&2; exit 1; }
[ -x "$NGINX_BIN" ] || { echo "bench: no nginx at $NGINX_BIN" >&2; exit 1; }

# nginx on CPU 0; wrk and redis on CPU 1 (when there are two CPUs)
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null 2>&1 \
   && [ "$(nproc)" -ge 2 ]; then
    PIN_NGX="taskset -c 0"; PIN_CLI="taskset -c 1"
else
    PIN_NGX=""; PIN_CLI=""
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/ph-bench-XXXXXX")
chmod 755 "$T"
declare -A WORKER  # port -> pid of that nginx's worker
PIDS=""          # processes we started (valgrind'ed nginx, redis)
PIDFILES=""      # daemonized nginx masters

cleanup() {
    local p f
    for f in $PIDFILES; do
        [ -f "$f" ] && p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] \
            && kill -QUIT "$p" 2>/dev/null
    done
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for f in $PIDFILES; do
        [ -f "$f" ] && p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] \
            && kill -KILL "$p" 2>/dev/null
    done
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    if [ "${PH_KEEP:-0}" = 1 ]; then
        echo "bench: kept $T" >&2
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
            LocalPort => 0, ReuseAddr => 1) or die "no free port: $!";
        print $s->sockport, "\n";'
}

wait_port() {   # port [tries of 0.1 s]
    local i
    for i in $(seq "${2:-100}"); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    echo "bench: nothing answers on port $1" >&2
    return 1
}

# write_conf NAME MODE(single|master) LOAD(0|1) HTTP-BODY
write_conf() {
    local d=$T/$1
    mkdir -p "$d/tmp"
    {
        [ "$3" = 1 ] && echo "load_module $MODULE;"
        [ "$(id -u)" = 0 ] && echo "user root;"
        if [ "$2" = single ]; then
            echo "daemon off; master_process off;"
        else
            echo "daemon on; master_process on;"
        fi
        cat <<EOF
worker_processes 1;
error_log $d/error.log warn;
pid $d/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    default_type text/html;
    keepalive_requests 10000000;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
$4
}
EOF
    } > "$d/nginx.conf"
    echo "$d"
}

# a server block: server_block PORT EXTRA-DIRECTIVES
server_block() {
    cat <<EOF
    server {
        listen 127.0.0.1:$1;
        $2
        location / { return 200 '$PAGE'; }
    }
EOF
}

redis() { redis-cli -p "$REDIS_PORT" "$@"; }

counter() {     # counter STATUS-PORT NAME...: the sum of those counters
    local json n sum=0
    json=$(curl -s "http://127.0.0.1:$1/status") || { echo 0; return; }
    shift
    for n in "$@"; do
        v=$(printf '%s' "$json" | sed -n "s/^\"$n\":\([0-9]*\).*/\1/p")
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}
DROPPED="dropped_full dropped_too_large dropped_redis dropped_exit dropped_no_redis"

cookie_of() {   # cookie_of CURL-ARGS...: the ph_id value set by the response
    curl -s -o /dev/null -D - "${BROWSER[@]}" "$@" \
        | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: ph_id=\([^;]*\).*/\1/p' \
        | head -1
}

sets_cookie() { # sets_cookie CURL-ARGS...: yes/no
    if curl -s -o /dev/null -D - "${BROWSER[@]}" "$@" \
        | grep -qi '^set-cookie: ph_id='; then echo yes; else echo no; fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print 0; exit } if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---------------------------------------------------------------- redis

REDIS_PORT=$(free_port)
mkdir -p "$T/redis"
$PIN_CLI redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$T/redis" --daemonize no \
    > "$T/redis/redis.log" 2>&1 &
REDIS_PID=$!
PIDS="$PIDS $REDIS_PID"
for i in $(seq 100); do
    [ "$(redis PING 2>/dev/null)" = PONG ] && break
    sleep 0.1
done
[ "$(redis PING 2>/dev/null)" = PONG ] || { echo "bench: redis-server did not start" >&2; exit 1; }

START=$(date +%s)
echo "ngx_posthog_module benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $("$NGINX_BIN" -v 2>&1 | sed 's/.*: //')"
echo "nginx pinned: ${PIN_NGX:-no}; client and redis: ${PIN_CLI:-no}"
echo

# ------------------------------------------------------------- callgrind

[ "${ONLY:-}" = wrk ] \
    || echo "== 1. instructions per request (valgrind --tool=callgrind, $N keep-alive requests per case)"

CG=$T/cg
mkdir -p "$CG"

cat > "$CG/self.awk" <<'EOF'
# self cost per object and per function, from an uncompressed callgrind file
/^ob=/    { ob = substr($0, 4); next }
/^fn=/    { fn = substr($0, 4); next }
/^calls=/ { skip = 1; next }
/^[0-9+*-]/ {
    if (skip) { skip = 0; next }
    s[ob "\t" fn] += $2; o[ob] += $2; next
}
END {
    for (k in o) printf "OB\t%d\t%s\n", o[k], k
    for (k in s) printf "FN\t%d\t%s\n", s[k], k
}
EOF

PB=$(free_port); PO=$(free_port); PM=$(free_port); PS=$(free_port)
# Identify applies only past the access phase, which "return" never
# reaches: the identified visitor logs in at /login, a static page.  curl
# replays one cookie, where a browser would store the session's refreshed
# last activity (once a minute): a long refresh keeps the replay a
# returning visitor's request (see docs/benchmarks.md).
mkdir -p "$T/www"
printf '%s' "$PAGE" > "$T/www/page.html"
PH_COMMON="posthog on;
        posthog_api_key phc_benchBENCHbenchBENCHbenchBENCHbench0;
        posthog_identify \$http_x_user_id;
        posthog_session idle=24h max=48h refresh=12h;
        location = /login { root $T/www; try_files /page.html =404; }"

# for comparison, two things people already run on every request: nginx's
# own JSON access log (eight fields, buffered) and its userid cookie
PJ=$(free_port); PU=$(free_port)
D_BARE=$(write_conf cg-bare single 0 "$(server_block "$PB" "")
    log_format bench_json escape=json '{\"time\":\"\$time_iso8601\",\"addr\":\"\$remote_addr\",\"request\":\"\$request\",\"status\":\$status,\"bytes\":\$body_bytes_sent,\"referer\":\"\$http_referer\",\"ua\":\"\$http_user_agent\",\"time_taken\":\$request_time}';
$(server_block "$PJ" "access_log $T/cg-bare/access.json bench_json buffer=64k;")
$(server_block "$PU" "userid on; userid_name uid; userid_expires max;")")
D_MOD=$(write_conf cg-module single 1 "    posthog_redis 127.0.0.1:$REDIS_PORT stream=bench:callgrind maxlen=0;
$(server_block "$PO" "posthog off;")
$(server_block "$PM" "$PH_COMMON")
$(server_block "$PS" "$PH_COMMON
        posthog_cookie_secret $SECRET;")")

for d in "$D_BARE" "$D_MOD"; do
    "$NGINX_BIN" -t -q -p "$d" -c "$d/nginx.conf" \
        || { echo "bench: nginx -t failed for $d" >&2; exit 1; }
done

# cg_start NAME DIR PORT: nginx (one process) under callgrind, collecting
cg_start() {
    $PIN_NGX valgrind --tool=callgrind --compress-strings=no \
        --compress-pos=no --callgrind-out-file="$CG/$1.out" \
        --log-file="$CG/$1.valgrind.log" \
        "$NGINX_BIN" -p "$2" -c "$2/nginx.conf" &
    CG_PID=$!
    PIDS="$PIDS $CG_PID"
    CG_DUMPS=0
    wait_port "$3" 300 || exit 1
}

# cg_measure NAME PORT CURL-ARGS...: sets CG_IR, the instructions of N requests
# (warmed up by WARM requests; the Redis writes of the window included)
cg_measure() {
    local name=$1 port=$2 before want i
    shift 2
    curl -s -o /dev/null "${BROWSER[@]}" "$@" \
        "http://127.0.0.1:$port/warm/[1-$WARM]"
    before=$(redis XLEN bench:callgrind)
    for i in $(seq 20); do      # let the warm-up's events be written
        sleep 0.3
        want=$(redis XLEN bench:callgrind)
        [ "$want" = "$before" ] && break
        before=$want
    done
    callgrind_control -z "$CG_PID" > "$CG/control.log" 2>&1 \
        || { echo "bench: callgrind_control -z failed:" >&2; cat "$CG/control.log" >&2; exit 1; }
    local codes
    codes=$(curl -s -o /dev/null -w '%{http_code}\n' "${BROWSER[@]}" \
        "$@" "http://127.0.0.1:$port/page/[1-$N]" \
        | grep -c '^200$')
    if [ "${name#bare}" = "$name" ] && [ "$name" != off ]; then
        want=$((before + N))
        for i in $(seq 100); do
            [ "$(redis XLEN bench:callgrind)" -ge "$want" ] && break
            sleep 0.1
        done
        sleep 0.3               # the XADD replies
    fi
    callgrind_control -d "$CG_PID" > "$CG/control.log" 2>&1 \
        || { echo "bench: callgrind_control -d failed:" >&2; cat "$CG/control.log" >&2; exit 1; }
    CG_DUMPS=$((CG_DUMPS + 1))
    local f=$CG/$CG_NAME.out.$CG_DUMPS
    for i in $(seq 50); do [ -s "$f" ] && break; sleep 0.1; done
    mv "$f" "$CG/case-$name.out"
    [ "$codes" = "$N" ] || echo "bench: $name: only $codes of $N answered 200" >&2
    awk -f "$CG/self.awk" "$CG/case-$name.out" > "$CG/case-$name.self"
    CG_IR=$(sed -n 's/^summary: //p' "$CG/case-$name.out")
}

cg_stop() {
    kill -QUIT "$CG_PID" 2>/dev/null
    wait "$CG_PID" 2>/dev/null
}

# User-Agent parsing (posthog-js's rules): a returning visitor with parsing
# off, on with the per-worker cache warm (the same UA on every request, as a
# visitor's), and on without a cache (posthog_user_agent_cache 0: every
# request runs the patterns).  "ONLY=ua sh bench/run.sh" runs this alone.
ua_bench() {
    local pu pn pc d_ua d_nc cookie b_off
    pn=$(free_port); pu=$(free_port); pc=$(free_port)
    d_ua=$(write_conf cg-ua single 1 "    posthog_redis 127.0.0.1:$REDIS_PORT stream=bench:callgrind maxlen=0;
$(server_block "$pn" "$PH_COMMON
        posthog_user_agent_parse off;")
$(server_block "$pu" "$PH_COMMON")")
    d_nc=$(write_conf cg-ua-nocache single 1 "    posthog_redis 127.0.0.1:$REDIS_PORT stream=bench:callgrind maxlen=0;
    posthog_user_agent_cache 0;
$(server_block "$pc" "$PH_COMMON")")
    for d in "$d_ua" "$d_nc"; do
        "$NGINX_BIN" -t -q -p "$d" -c "$d/nginx.conf" \
            || { echo "bench: nginx -t failed for $d" >&2; exit 1; }
    done

    CG_NAME=ua
    cg_start ua "$d_ua" "$pn"
    cookie=$(cookie_of "http://127.0.0.1:$pn/")
    cg_measure ua-off "$pn" -H "Cookie: ph_id=$cookie"; I_UA_OFF=$CG_IR
    cg_measure ua-warm "$pu" -H "Cookie: ph_id=$cookie"; I_UA_WARM=$CG_IR
    cg_stop

    CG_NAME=uanc
    cg_start uanc "$d_nc" "$pc"
    cg_measure ua-nocache "$pc" -H "Cookie: ph_id=$cookie"; I_UA_NC=$CG_IR
    cg_stop

    b_off=$(awk -v a="$I_UA_OFF" -v n="$N" 'BEGIN { printf "%.0f", a / n }')
    echo
    echo "user-agent parsing, returning visitor (UA: $UA):"
    printf '%-52s %12s %12s\n' "config" "instr/req" "extra/req"
    for c in "posthog_user_agent_parse off:$I_UA_OFF" \
             "parse on, warm cache (default):$I_UA_WARM" \
             "parse on, posthog_user_agent_cache 0:$I_UA_NC"; do
        p=$(awk -v a="${c##*:}" -v n="$N" 'BEGIN { printf "%.0f", a / n }')
        printf '%-52s %12s %12s\n' "${c%:*}" "$p" "$((p - b_off))"
    done
}

if [ "${ONLY:-}" = ua ]; then
    ua_bench
    exit 0
fi

if [ "${ONLY:-}" != wrk ]; then   # ONLY=wrk: the wrk and Redis parts alone

CG_NAME=module
cg_start module "$D_MOD" "$PM"
cg_measure off "$PO"; I_OFF=$CG_IR

RET_COOKIE=$(cookie_of "http://127.0.0.1:$PM/")
[ "$(sets_cookie -H "Cookie: ph_id=$RET_COOKIE" "http://127.0.0.1:$PM/")" = no ] \
    || echo "bench: the returning visitor's cookie is re-sent on every request" >&2
cg_measure returning "$PM" -H "Cookie: ph_id=$RET_COOKIE"; I_RET=$CG_IR
cg_measure new "$PM"; I_NEW=$CG_IR

SIG_COOKIE=$(cookie_of -H "X-User-Id: $USER_ID" "http://127.0.0.1:$PS/login")
case "$SIG_COOKIE" in
    *.dXNlci00Mg.*) ;;
    *) echo "bench: the identified visitor's cookie names no user" >&2 ;;
esac
[ "$(sets_cookie -H "X-User-Id: $USER_ID" -H "Cookie: ph_id=$SIG_COOKIE" "http://127.0.0.1:$PS/")" = no ] \
    || echo "bench: the identified visitor's cookie is re-sent on every request" >&2
cg_measure identified "$PS" -H "X-User-Id: $USER_ID" \
    -H "Cookie: ph_id=$SIG_COOKIE"; I_SIG=$CG_IR
cg_stop

# bare nginx answering the very same requests: each case is compared with
# its own (a Cookie header alone is ~2,000 instructions of header parsing)
CG_NAME=bare
cg_start bare "$D_BARE" "$PB"
cg_measure bare "$PB"; I_BARE=$CG_IR
cg_measure bare-returning "$PB" -H "Cookie: ph_id=$RET_COOKIE"; I_BRET=$CG_IR
cg_measure bare-identified "$PB" -H "X-User-Id: $USER_ID" \
    -H "Cookie: ph_id=$SIG_COOKIE"; I_BSIG=$CG_IR
cg_measure json-log "$PJ" -H "Cookie: ph_id=$RET_COOKIE"; I_JSON=$CG_IR
UID_COOKIE=$(curl -s -o /dev/null -D - "${BROWSER[@]}" "http://127.0.0.1:$PU/" \
    | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: uid=\([^;]*\).*/\1/p')
[ -n "$UID_COOKIE" ] || echo "bench: userid set no cookie" >&2
cg_measure bare-uid "$PB" -H "Cookie: uid=$UID_COOKIE"; I_BUID=$CG_IR
cg_measure userid "$PU" -H "Cookie: uid=$UID_COOKIE"; I_UID=$CG_IR
cg_stop

per() { awk -v a="$1" -v n="$N" 'BEGIN { printf "%.0f", a / n }'; }
B=$(per "$I_BARE")
declare -A BASE=([off]=bare [returning]=bare-returning [new]=bare
                 [identified]=bare-identified)
echo
printf '%-52s %12s %12s %8s %10s\n' "config" "instr/req" "bare/req" "ratio" "extra/req"
row() {     # row LABEL INSTR BARE-INSTR
    local p b
    p=$(per "$2"); b=$(per "$3")
    printf '%-52s %12s %12s %8s %10s\n' "$1" "$p" "$b" "$(ratio "$p" "$b")" "$((p - b))"
    RATIO_LINES="$RATIO_LINES$4 $(ratio "$p" "$b")
"
}
RATIO_LINES=""
row "(a) bare nginx, return 200 text/html" "$I_BARE" "$I_BARE" bare
row "(a') module loaded, posthog off" "$I_OFF" "$I_BARE" off
row "(b) posthog on, returning visitor (cookie)" "$I_RET" "$I_BRET" returning
row "(c) posthog on, new visitor each request" "$I_NEW" "$I_BARE" new
row "(d) identified visitor, signed cookie (HMAC)" "$I_SIG" "$I_BSIG" identified
row "(e) no module: nginx's JSON access_log, 8 fields" "$I_JSON" "$I_BRET" json-log
row "(f) no module: userid on, returning visitor" "$I_UID" "$I_BUID" userid
echo "  (bare/req: bare nginx answering the same request: the same headers,"
echo "   cookie and X-User-Id)"
[ -n "${RATIOS_OUT:-}" ] && printf '%s' "$RATIO_LINES" > "$RATIOS_OUT"

# where the extra instructions go: per object, then per function (self
# cost of the case minus that of bare nginx, per request)
echo
echo "extra instructions per request by object (self cost, case minus bare nginx on the same request):"
objs() { awk -F'\t' -v n="$N" '$1 == "OB" { o = $3; sub(".*/", "", o); printf "%s\t%.0f\n", o, $2 / n }' "$1" | sort; }
for c in bare bare-returning bare-identified off returning new identified; do
    objs "$CG/case-$c.self" > "$CG/obj-$c"
done
printf '  %-30s %8s %10s %10s %10s\n' object "off" returning new identified
cut -f1 "$CG"/obj-* | sort -u | while read -r o; do
    line=""
    for c in off returning new identified; do
        b=$(awk -F'\t' -v o="$o" '$1 == o { print $2 }' "$CG/obj-${BASE[$c]}")
        v=$(awk -F'\t' -v o="$o" '$1 == o { print $2 }' "$CG/obj-$c")
        line="$line $(printf '%10d' $(( ${v:-0} - ${b:-0} )))"
    done
    printf '  %-30s%s\n' "$o" "${line# }"
done
echo "  (nginx and libc differ by a few hundred instructions between two"
echo "   processes with different configs: heap layout, not the module)"

# fndiff CASE: "extra<TAB>share<TAB>function [object]", largest first
fndiff() {
    awk -F'\t' -v n="$N" -v total="$2" '
        $1 != "FN" { next }
        { o = $3; sub(".*/", "", o); k = $4 " [" o "]" }
        FILENAME ~ /case-bare/ { d[k] -= $2; next }
        { d[k] += $2 }
        END { for (k in d) if (d[k] / n >= 1)
                  printf "%.0f\t%.1f%%\t%s\n", d[k] / n, 100 * d[k] / n / total, k }' \
        "$CG/case-${BASE[$1]}.self" "$CG/case-$1.self" | sort -rn
}
echo
echo "top extra functions per request (self cost, case minus its bare; share of the extra):"
for c in returning new identified; do
    case $c in
        returning) x=$(( $(per "$I_RET") - $(per "$I_BRET") )) ;;
        new)       x=$(( $(per "$I_NEW") - B )) ;;
        identified) x=$(( $(per "$I_SIG") - $(per "$I_BSIG") )) ;;
    esac
    echo "  ($c, +$x)"
    fndiff "$c" "$x" > "$CG/fndiff-$c"
    head -10 "$CG/fndiff-$c" | awk -F'\t' '{ printf "    %8d %6s  %s\n", $1, $2, $3 }'
done

# inclusive cost (the function and what it calls) of the module's own
# functions, per request: where the extra goes, by step of the request
incl() {
    callgrind_annotate --inclusive=yes --threshold=100 "$CG/case-$1.out" \
        2>/dev/null | awk -v n="$N" '
        /ngx_http_posthog_module\.so\]$/ && $1 ~ /^[0-9,]+$/ {
            v = $1; gsub(",", "", v); f = $(NF-1)
            sub(".*:", "", f)
            if (v / n >= 100) printf "    %8.0f  %s\n", v / n, f
        }' | head -"${2:-25}"
}
echo
echo "inclusive cost per request of the module's functions (the function and"
echo "what it calls, nginx and libc included):"
for c in returning new identified; do
    echo "  ($c)"
    incl "$c"
done

[ "${UA_BENCH:-1}" = 1 ] && ua_bench
echo "callgrind phase: $(( $(date +%s) - START )) s"
echo

fi  # ONLY != wrk

# ------------------------------------------------------------------ wrk

if [ "$ROUNDS" -gt 0 ]; then    # ROUNDS=0: callgrind only

# The stream is bounded and filled to its cap before the rounds, which is
# where a deployed stream sits: posthog_redis's default maxlen is 1 000 000
# and the shipper acknowledges entries but does not delete them.  At its
# cap each XADD also trims.  A stream that only grows (WRK_MAXLEN=0) costs
# Redis several times more per XADD (fresh memory: page faults).
WRK_MAXLEN=${WRK_MAXLEN:-100000}

# The layouts, each round alternating bare and module in each:
# (i) wrk and redis-server on CPU 1, nginx alone on CPU 0 (issue 12's
# layout: wrk saturates CPU 1 against bare nginx, so redis-server's CPU is
# taken from wrk); (ii) wrk on nginx's CPU 0, redis-server alone on CPU 1.
if [ -n "$PIN_CLI" ]; then
    LAYOUTS="i ii"
else
    LAYOUTS="np"
fi
declare -A LAYOUT_PIN=([i]="taskset -c 1" [ii]="taskset -c 0" [np]="")
declare -A LAYOUT_NAME=(
    [i]="(i) wrk + redis-server on CPU 1, nginx alone on CPU 0"
    [ii]="(ii) wrk on nginx's CPU 0, redis-server alone on CPU 1"
    [np]="(not pinned)")

echo "== 2. throughput: wrk -t1 -c$CONNS, $ROUNDS x ${DUR}s per config and layout, alternating"

WB=$(free_port); WM=$(free_port); WS=$(free_port)
D_WBARE=$(write_conf wrk-bare master 0 "$(server_block "$WB" "")")
D_WMOD=$(write_conf wrk-module master 1 "    posthog_redis 127.0.0.1:$REDIS_PORT stream=bench:wrk maxlen=$WRK_MAXLEN;
${WRK_FLUSH:+    posthog_buffer 4m flush=$WRK_FLUSH;
}$(server_block "$WM" "$PH_COMMON")
    server {
        listen 127.0.0.1:$WS;
        location = /status { posthog_status; }
    }")
for d in "$D_WBARE" "$D_WMOD"; do
    $PIN_NGX "$NGINX_BIN" -p "$d" -c "$d/nginx.conf" \
        || { echo "bench: nginx failed to start in $d" >&2; exit 1; }
    PIDFILES="$PIDFILES $d/nginx.pid"
done
wait_port "$WB" && wait_port "$WM" || exit 1
WORKER[$WB]=$(pgrep -P "$(cat "$D_WBARE/nginx.pid")" | head -1)
WORKER[$WM]=$(pgrep -P "$(cat "$D_WMOD/nginx.pid")" | head -1)
WRK_COOKIE=$(cookie_of "http://127.0.0.1:$WM/")
curl -s -o /dev/null "${BROWSER[@]}" -H "Cookie: ph_id=$WRK_COOKIE" \
    "http://127.0.0.1:$WM/page/1"
SENT=3                          # wait_port, cookie_of and that request

for i in $(seq 50); do
    [ "$(counter "$WS" written)" -ge 3 ] && break
    sleep 0.1
done

if [ "$WRK_MAXLEN" -gt 0 ]; then
    # copies of the entries just written, the returning visitor's and a
    # new visitor's in turn (a deployed stream holds both; Redis's cost
    # per XADD depends on the entries it trims), as XADDs with the
    # module's MAXLEN, until the stream is at its cap
    redis --raw XREVRANGE bench:wrk + - COUNT 2 > "$T/wrk-entry"
    perl -e '
        my ($file, $n, $cap) = @ARGV;
        open my $f, "<", $file or die "$file: $!";
        chomp(my @l = <$f>);
        sub b { "\$" . length($_[0]) . "\r\n$_[0]\r\n" }
        my @cmd;
        while (@l >= 7) {               # an id and the three fields
            my (undef, @fv) = splice @l, 0, 7;
            my @a = ("XADD", "bench:wrk", "MAXLEN", "~", $cap, "*", @fv);
            push @cmd, "*" . @a . "\r\n" . join("", map { b($_) } @a);
            print STDERR length($fv[5]), "\n";
        }
        die "no entry in $file\n" unless @cmd;
        print $cmd[$_ % @cmd] for 1 .. $n;' "$T/wrk-entry" $((WRK_MAXLEN * 11 / 10)) \
        "$WRK_MAXLEN" 2> "$T/wrk-entry.sizes" | redis --pipe > "$T/wrk-fill.log" 2>&1 \
        || { echo "bench: filling the stream failed:" >&2; cat "$T/wrk-fill.log" >&2; }
    echo "stream bench:wrk filled to its cap before the rounds: XLEN $(redis XLEN bench:wrk),"
    echo "  maxlen=$WRK_MAXLEN, copies of a returning and a new visitor's entries (events of $(tr '\n' ' ' < "$T/wrk-entry.sizes")bytes);"
    echo "  every XADD of the rounds trims, as in a deployment (a stream at its cap;"
    echo "  WRK_MAXLEN=0: a stream that only grows, which costs Redis more per XADD)"
else
    echo "stream bench:wrk unbounded (WRK_MAXLEN=0): it only grows, Redis allocates"
    echo "  fresh memory for each XADD (a deployed stream sits at its cap instead)"
fi
redis CONFIG RESETSTAT > /dev/null
WR_P=$(counter "$WS" written)

# CPU time (user + system, clock ticks) of a process
HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
minflt() { awk '{ print $10 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# write-like system calls of a process (one writev per response for nginx)
syscw() { awk '$1 == "syscw:" { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0; }
# "xadd-calls xadd-usec redis-reads" so far
redis_stats() {
    local x r
    x=$(redis INFO commandstats 2>/dev/null | tr -d '\r' \
        | sed -n 's/^cmdstat_xadd:calls=\([0-9]*\),usec=\([0-9]*\),.*/\1 \2/p')
    r=$(redis INFO stats 2>/dev/null | tr -d '\r' \
        | sed -n 's/^total_reads_processed://p')
    echo "${x:-0 0} ${r:-0}"
}

# run_wrk LABEL PORT PIN [HEADER]: appends "rps p99ms requests non2xx
# worker-us/req redis-us/req xadd-calls xadd-usec redis-reads worker-syscw
# dropped redis-minflt" to $T/wrk.LABEL (dropped: the module's dropped_*
# counters; minflt: redis-server's minor page faults)
run_wrk() {
    local out c0 c1 r0 r1 s0 s1 x0 x1 d0 d1 f0 f1 w=${WORKER[$2]}
    d0=$(counter "$WS" $DROPPED); f0=$(minflt "$REDIS_PID")
    c0=$(ticks "$w"); s0=$(syscw "$w"); r0=$(ticks "$REDIS_PID"); x0=$(redis_stats)
    out=$($3 wrk -t1 -c"$CONNS" -d"${DUR}s" --latency \
        "${BROWSER[@]}" ${4:+-H "$4"} \
        "http://127.0.0.1:$2/page/1")
    c1=$(ticks "$w"); s1=$(syscw "$w"); r1=$(ticks "$REDIS_PID"); x1=$(redis_stats)
    d1=$(counter "$WS" $DROPPED); f1=$(minflt "$REDIS_PID")
    echo "$out" > "$T/wrk.$1.$(date +%s%N)"
    echo "$out" | awk -v cpu=$((c1 - c0)) -v rcpu=$((r1 - r0)) -v hz="$HZ" \
        -v sw=$((s1 - s0)) -v x0="$x0" -v x1="$x1" -v dr=$((d1 - d0)) \
        -v flt=$((f1 - f0)) '
        /Requests\/sec:/ { rps = $2 }
        /^ +99%/ { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                   p99 = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
        /requests in/ { req = $1 }
        /Non-2xx/ { bad = $NF }
        END { split(x0, a, " "); split(x1, b, " ")
              us = req > 0 ? 1e6 * cpu / hz / req : 0
              rus = req > 0 ? 1e6 * rcpu / hz / req : 0
              printf "%s %s %s %d %.2f %.2f %d %d %d %d %d %d\n", rps, p99, req,
                  bad, us, rus, b[1] - a[1], b[2] - a[2], b[3] - a[3], sw, dr,
                  flt }' \
        >> "$T/wrk.$1"
}

col() { awk -v c="$2" '{ print $c }' "$T/wrk.$1"; }
sum() { awk -v c="$2" '{ s += $c } END { print s + 0 }' "$T/wrk.$1"; }
# rcol LABEL C D: per round, column C / column D
rcol() { awk -v c="$2" -v d="$3" '{ print ($d > 0) ? $c / $d : 0 }' "$T/wrk.$1"; }
# the median of the per-round ratios of column C, LABEL against BASE
rmed() {
    local i r=""
    for i in $(seq "$ROUNDS"); do
        r="$r $(ratio "$(sed -n "${i}p" "$T/wrk.$1" | cut -d' ' -f"$3")" \
            "$(sed -n "${i}p" "$T/wrk.$2" | cut -d' ' -f"$3")")"
    done
    median $r
}

# report BASE LABEL...: medians, and the median of the per-round ratios
report() {
    local base=$1 l
    shift
    printf '  %-34s %9s %8s %8s %8s %10s %8s %9s\n' config "req/s" "vs bare" \
        "p99 ms" "p99 vs" "cpu us/req" "cpu vs" "redis us"
    for l in "$base" "$@"; do
        printf '  %-34s %9.0f %8s %8.2f %8s %10.2f %8s %9.2f\n' "$(label "$l")" \
            "$(median $(col "$l" 1))" "$(rmed "$l" "$base" 1)" \
            "$(median $(col "$l" 2))" "$(rmed "$l" "$base" 2)" \
            "$(median $(col "$l" 5))" "$(rmed "$l" "$base" 5)" \
            "$(median $(col "$l" 6))"
    done
    for l in "$base" "$@"; do
        [ "$(sum "$l" 4)" = 0 ] || echo "    $(label "$l"): $(sum "$l" 4) non-2xx responses"
        [ "$(sum "$l" 11)" = 0 ] || [ "${l#down}" != "$l" ] \
            || echo "    $(label "$l"): $(sum "$l" 11) events dropped (per round: $(col "$l" 11 | tr '\n' ' '))"
        echo "    $(label "$l") req/s per round: $(col "$l" 1 | tr '\n' ' ')"
    done
}
label() {
    case $1 in
        *-bare)   echo "bare nginx" ;;
        *-ret)    echo "module, returning visitor" ;;
        *-new)    echo "module, new visitor each request" ;;
        down-ret) echo "module, returning, REDIS STOPPED" ;;
    esac
}

for l in $LAYOUTS; do
    : > "$T/wrk.$l-bare"; : > "$T/wrk.$l-ret"; : > "$T/wrk.$l-new"
done
for i in $(seq "$ROUNDS"); do
    for l in $LAYOUTS; do
        run_wrk "$l-bare" "$WB" "${LAYOUT_PIN[$l]}"
        run_wrk "$l-ret" "$WM" "${LAYOUT_PIN[$l]}" "Cookie: ph_id=$WRK_COOKIE"
        run_wrk "$l-new" "$WM" "${LAYOUT_PIN[$l]}"
    done
done
echo
echo "-- Redis up (\"redis us\": redis-server's CPU time per request, from /proc)"
for l in $LAYOUTS; do
    echo "${LAYOUT_NAME[$l]}"
    report "$l-bare" "$l-ret" "$l-new"
    SENT=$((SENT + $(sum "$l-ret" 3) + $(sum "$l-new" 3)))
done

echo
echo "-- side by side: module / bare, median of the per-round ratios"
printf '  %-34s' ""
for l in $LAYOUTS; do printf ' %18s' "req/s ($l)"; done
for l in $LAYOUTS; do printf ' %18s' "worker cpu ($l)"; done
echo
for c in ret new; do
    printf '  %-34s' "$(label "x-$c")"
    for l in $LAYOUTS; do printf ' %18s' "$(rmed "$l-$c" "$l-bare" 1)"; done
    for l in $LAYOUTS; do printf ' %18s' "$(rmed "$l-$c" "$l-bare" 5)"; done
    echo
done

# Redis's cost per event, and how the events reach it: the XADDs per
# write(2) of the worker are the XADDs over the worker's write calls past
# one per response (bare nginx's count per request, measured alongside)
echo
echo "-- Redis per event (module, all rounds; XADD: INFO commandstats)"
for l in $LAYOUTS; do
    for c in ret new; do
        cat "$T/wrk.$l-$c"
    done > "$T/wrk.$l-mod"
    awk -v bare="$(awk '{ r += $3; w += $10 } END { print (r > 0) ? w / r : 1 }' "$T/wrk.$l-bare")" '
        { req += $3; rcpu += $6 * $3; x += $7; xu += $8; rd += $9; w += $10
          flt += $12 }
        END { wr = w - bare * req
              printf "  %-6s redis-server %.2f us/event, XADD %.2f us/call, %.3f page faults/event;\n",
                  "(" l ")", x ? rcpu / x : 0, x ? xu / x : 0, x ? flt / x : 0
              printf "         XADDs per redis read %.1f; ", rd ? x / rd : 0
              if (wr >= 1) printf "XADDs per write(2) of the worker %.0f\n", x / wr
              else printf "XADDs per write(2) of the worker > %.0f\n", x }' \
        l="$l" "$T/wrk.$l-mod"
done

# ---------------------------------------------------------------- redis end

for i in $(seq 100); do
    [ "$(counter "$WS" buffered_events)" = 0 ] && break
    sleep 0.1
done
EV=$(counter "$WS" events); WR=$(counter "$WS" written)
DR=$(counter "$WS" $DROPPED); XL=$(redis XLEN bench:wrk)
XC=$(redis_stats | cut -d' ' -f1)
echo
echo "== 3. Redis end (Redis up)"
echo "requests answered to wrk (+ setup): $SENT (wrk does not count the requests in flight"
echo "  when it stops, up to $CONNS per run)"
echo "status page: events=$EV written=$WR dropped=$DR buffered=$(counter "$WS" buffered_events)"
for c in $DROPPED; do
    v=$(counter "$WS" "$c")
    [ "$v" = 0 ] || echo "  $c=$v"
done
if [ $((WR + DR)) = "$EV" ]; then
    echo "  every event written or counted as dropped: written + dropped = events"
else
    echo "  MISMATCH: written + dropped = $((WR + DR)), events = $EV"
fi
echo "  events - requests answered = $((EV - SENT)); redis_errors=$(counter "$WS" redis_errors) redis_reconnects=$(counter "$WS" redis_reconnects)"
echo "XADDs Redis executed during the rounds (INFO commandstats): $XC; written during them: $((WR - WR_P))"
if [ "$WRK_MAXLEN" -gt 0 ]; then
    echo "XLEN bench:wrk = $XL (capped at maxlen=$WRK_MAXLEN, trimmed: not a count of events)"
else
    echo "XLEN bench:wrk = $XL   (events written / requests: $(ratio "$XL" "$SENT"); XLEN / written: $(ratio "$XL" "$WR"))"
fi
redis DEL bench:wrk > /dev/null

# ------------------------------------------------------------ redis down

kill "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
EV0=$EV; WR0=$WR
declare -A C0
for c in $DROPPED redis_errors redis_reconnects; do C0[$c]=$(counter "$WS" "$c"); done
: > "$T/wrk.down-bare"; : > "$T/wrk.down-ret"
for i in $(seq "$ROUNDS"); do
    run_wrk down-bare "$WB" "$PIN_CLI"
    run_wrk down-ret "$WM" "$PIN_CLI" "Cookie: ph_id=$WRK_COOKIE"
done
echo
echo "-- Redis stopped (the module's requests against bare nginx, same run; layout ${LAYOUT_NAME[${LAYOUTS%% *}]})"
report down-bare down-ret
sleep 0.5
echo "status page after: events=+$(( $(counter "$WS" events) - EV0 )) (wrk answered $(sum down-ret 3)) written=+$(( $(counter "$WS" written) - WR0 ))"
line="  dropped:"
for c in $DROPPED; do line="$line $c=+$(( $(counter "$WS" "$c") - ${C0[$c]} ))"; done
echo "$line"
echo "  buffered_events=$(counter "$WS" buffered_events) buffered_bytes=$(counter "$WS" buffered_bytes) redis_errors=+$(( $(counter "$WS" redis_errors) - ${C0[redis_errors]} )) redis_reconnects=+$(( $(counter "$WS" redis_reconnects) - ${C0[redis_reconnects]} ))"
echo "wrk phase done: $(( $(date +%s) - START )) s"

fi  # ROUNDS > 0

# ---------------------------------------------------------------- shipper

if [ "$SHIPPER" = 1 ] && [ -f "$ROOT/bench/shipper.pl" ] \
   && [ -x "$PH_BUILD/posthog-shipper" ]; then
    echo
    echo "== 4. posthog-shipper throughput (bench/shipper.pl $SHIP_N)"
    (cd "$ROOT" && PH_BUILD=$PH_BUILD perl bench/shipper.pl "$SHIP_N") \
        || echo "bench: bench/shipper.pl failed" >&2
fi

echo
echo "total: $(( $(date +%s) - START )) s"
