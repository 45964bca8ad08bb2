#!/bin/sh
# A regression guard on the module's cost (make bench-guard, run by CI).
#
# Runs the callgrind part of bench/run.sh (instructions are deterministic:
# no timing, no load dependence) and fails when a case's ratio to bare
# nginx on the same request is over its limit in bench/limits.  The limits
# are the ratios measured when they were set, with a margin for a compiler
# or library update; docs/benchmarks.md has the measured ones.

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mktemp "${TMPDIR:-/tmp}/ph-guard-XXXXXX")
trap 'rm -f "$OUT" "$OUT.log"' EXIT

QUICK=1 ROUNDS=0 SHIPPER=0 UA_BENCH=0 RATIOS_OUT=$OUT \
    sh "$ROOT/bench/run.sh" > "$OUT.log" 2>&1
rc=$?
sed -n '/^config/,/^   cookie/p' "$OUT.log"

if [ "$rc" != 0 ] || [ ! -s "$OUT" ]; then
    echo "bench-guard: bench/run.sh failed (exit $rc):"
    cat "$OUT.log"
    exit 1
fi

grep -q '^bench:' "$OUT.log" && { grep '^bench:' "$OUT.log"; exit 1; }

fail=0
while read -r name limit; do
    case "$name" in ''|'#'*) continue ;; esac
    got=$(awk -v n="$name" '$1 == n { print $2 }' "$OUT")
    if [ -z "$got" ]; then
        echo "bench-guard: no ratio measured for $name"
        fail=1
    elif awk -v g="$got" -v l="$limit" 'BEGIN { exit !(g > l) }'; then
        echo "bench-guard: $name costs ${got}x bare nginx, over its limit ${limit}x"
        fail=1
    else
        echo "bench-guard: $name ${got}x (limit ${limit}x)"
    fi
done < "$ROOT/bench/limits"

exit $fail
