#!/bin/sh
# make demo: the whole pipeline on local defaults.  redis-server, nginx
# with the module in front of a small app, and posthog-shipper; a visitor
# walks through anonymous pages, a login, pages and a logout; the batches
# the shipper delivered are printed.  Everything is stopped on exit.
#
# Ships to a local file unless POSTHOG_API_KEY is set (then to
# POSTHOG_HOST, default https://us.i.posthog.com).

set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${PH_BUILD:-$ROOT/build}
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
DIR=$(mktemp -d /tmp/posthog-demo-XXXXXX)
chmod 755 "$DIR"
mkdir -p "$DIR/tmp"

PORT=${DEMO_PORT:-18080}
APP_PORT=$((PORT + 1))
REDIS_PORT=${DEMO_REDIS_PORT:-16379}
API_KEY=${POSTHOG_API_KEY:-phc_demo}
SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')

redis_pid= shipper_pid=

cleanup() {
    [ -f "$DIR/nginx.pid" ] && kill -QUIT "$(cat "$DIR/nginx.pid")" 2>/dev/null
    [ -n "$shipper_pid" ] && kill -TERM "$shipper_pid" 2>/dev/null
    [ -n "$redis_pid" ] && kill -TERM "$redis_pid" 2>/dev/null
    wait 2>/dev/null
    echo "demo: stopped; files in $DIR"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "redis-server on 127.0.0.1:$REDIS_PORT"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$DIR" > "$DIR/redis.log" 2>&1 &
redis_pid=$!
i=0
until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "redis did not start"; exit 1; }
    sleep 0.05
done

say "nginx with ngx_http_posthog_module on 127.0.0.1:$PORT"
user=; [ "$(id -u)" = 0 ] && user="user root;"
sed -e "s|@MODULE@|$BUILD/ngx_http_posthog_module.so|" -e "s|@DIR@|$DIR|g" \
    -e "s|@USER@|$user|" -e "s|@PORT@|$PORT|" -e "s|@APP_PORT@|$APP_PORT|g" \
    -e "s|@REDIS_PORT@|$REDIS_PORT|" -e "s|@API_KEY@|$API_KEY|" \
    -e "s|@SECRET@|$SECRET|" \
    "$ROOT/docs/demo/nginx.conf.in" > "$DIR/nginx.conf"
"$NGINX" -p "$DIR" -c "$DIR/nginx.conf"

if [ "${POSTHOG_API_KEY:-}" ]; then
    out="--host ${POSTHOG_HOST:-https://us.i.posthog.com}"
    say "posthog-shipper, delivering to ${POSTHOG_HOST:-https://us.i.posthog.com}"
else
    out="--output $DIR/batches.jsonl"
    say "posthog-shipper, writing batches to $DIR/batches.jsonl"
fi
# shellcheck disable=SC2086
"$BUILD/posthog-shipper" --redis "127.0.0.1:$REDIS_PORT" $out \
    --flush-interval 200 > "$DIR/shipper.log" 2>&1 &
shipper_pid=$!

jar="$DIR/cookies.txt"
step() {
    code=$(curl -s -o "$DIR/body" -w '%{http_code}' -b "$jar" -c "$jar" \
           -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) demo' \
           -e "${2:-}" "http://127.0.0.1:$PORT$1")
    printf '  %-28s %s  %s\n' "$1" "$code" "$(head -c 70 "$DIR/body" | tr -d '\n')"
}

say "a visitor"
step /                   ""
step /pricing            "http://127.0.0.1:$PORT/"
step /static/site.css
step "/login?user=ada"
step /account
step /reports
step /logout
step /                   "http://127.0.0.1:$PORT/reports"
step "/login?user=grace"
step /account

say "the cookie the browser holds now"
grep -v '^#' "$jar" | awk 'NF { print "  " $6 "=" $7 }'

say "status page"
curl -s "http://127.0.0.1:$PORT/posthog-status"; echo

say "waiting for the shipper to deliver"
i=0
while :; do
    pending=$(redis-cli -p "$REDIS_PORT" xpending posthog:events posthog-shipper \
              2>/dev/null | head -1)
    len=$(redis-cli -p "$REDIS_PORT" xlen posthog:events)
    lag=$(redis-cli -p "$REDIS_PORT" xinfo groups posthog:events 2>/dev/null \
          | awk 'p { print; exit } /^lag$/ { p = 1 }')
    [ "$len" -gt 0 ] && [ "${pending:-1}" = 0 ] && [ "${lag:-1}" = 0 ] && break
    i=$((i + 1)); [ $i -gt 100 ] && { echo "  not drained: $len in stream, $pending pending"; break; }
    sleep 0.1
done

if [ -z "${POSTHOG_API_KEY:-}" ]; then
    say "what was shipped (one line per /batch/ request)"
    perl -MJSON::PP -ne '
        my $req = JSON::PP->new->decode($_);
        printf "batch: api_key=%s sent_at=%s, %d events\n",
            $req->{api_key}, $req->{sent_at}, scalar @{ $req->{batch} };
        # two workers buffer apart: show the events in the order they happened
        for my $e (sort { $a->{timestamp} cmp $b->{timestamp} } @{ $req->{batch} }) {
            my $p = $e->{properties};
            printf "  %-14s %-38s %-16s %s\n", $e->{event}, $e->{distinct_id},
                $p->{q{$pathname}},
                join " ", grep { defined } (
                    $p->{q{$anon_distinct_id}} ? "anon=$p->{q{$anon_distinct_id}}" : undef,
                    exists $p->{q{$process_person_profile}} ? "person-less" : undef,
                    $e->{q{$set}} ? "\$set=" . JSON::PP->new->canonical->encode($e->{q{$set}}) : undef);
        }' "$DIR/batches.jsonl"
else
    say "shipper log"
    cat "$DIR/shipper.log"
fi
