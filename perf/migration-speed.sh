#!/usr/bin/env bash
# Usage: perf/migration-speed.sh (after dotnet build of src/Router, src/NodeHost and src/Cli; KEYS, SIZE, SLOTS, LOAD=1 to write meanwhile).
# Slot migration speed: a router with groups a,b (two FASTER nodes each), KEYS random keys of SIZE bytes written
# through the RESP port, then `kvndb slots move a b --count SLOTS`; prints keys/s and MiB/s from the router's
# "Migration ... done" line (records and bytes the donor sent, over the whole migration: copy, switch, cleanup).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUTER=$ROOT/src/Router/bin/Debug/net10.0/kvndb-router.dll
NODE=$ROOT/src/NodeHost/bin/Debug/net10.0/kvndb-node.dll
CLI=$ROOT/src/Cli/bin/Debug/net10.0/kvndb.dll
KEYS=${KEYS:-200000}
SIZE=${SIZE:-100}
SLOTS=${SLOTS:-4096}
LOAD=${LOAD:-1}
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000)); resp=$((40000 + RANDOM % 20000))
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$ROUTER" --port $port --resp-port $resp --data "$dir/router" --groups a,b --join-grace 0.2 > "$dir/router.log" 2>&1 &
pids=($!)
i=0
for g in a a b b; do
  dotnet "$NODE" --engine faster --data "$dir/node$i" --port $port --group $g --name "n$i" > "$dir/node$i.log" 2>&1 &
  pids+=($!); i=$((i+1))
done
for t in $(seq 1 240); do
  [ "$(redis-cli -p $resp info 2>/dev/null | tr -d '\r' | grep -E '^nodes_serving:' | cut -d: -f2)" = "4" ] && break
  sleep 0.5
done
# Distinct keys: redis-benchmark's key:__rand_int__ over a key space of KEYS, written 2*KEYS times.
redis-benchmark -p $resp -t set -n $((KEYS * 2)) -r $KEYS -d $SIZE -c 50 -P 16 -q 2>&1 | tr '\r' '\n' | grep -v '^$' | tail -1
dotnet "$CLI" -p $port slots
if [ "$LOAD" = 1 ]; then
  redis-benchmark -p $resp -t set -n 100000000 -r $KEYS -d $SIZE -c 10 -P 1 -q > /dev/null 2>&1 &
  bench=$!
fi
start=$(date +%s.%N)
dotnet "$CLI" -p $port slots move a b --count $SLOTS
for t in $(seq 1 1200); do
  dotnet "$CLI" -p $port info 2>/dev/null | grep -q '^migration: none' && break
  sleep 0.25
done
end=$(date +%s.%N)
[ "$LOAD" = 1 ] && kill $bench 2>/dev/null
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E "Migration a -> b (done|: switched)" "$dir/router.log" | sed 's/^.*Migration/Migration/'
grep -E "Migration a -> b done" "$dir/router.log" | tail -1 | \
  sed -E 's/.*: ([0-9]+) slots, ([0-9]+) records, ([0-9.]+) MiB in ([0-9.]+) s/\1 \2 \3 \4/' | \
  awk '{printf "%d slots: %d keys, %.1f MiB in %.1f s: %.0f keys/s, %.1f MiB/s\n", $1, $2, $3, $4, $2/$4, $3/$4}'
awk -v s=$start -v e=$end 'BEGIN{printf "wall clock from the command to migration: none: %.1f s\n", e-s}'
dotnet "$CLI" -p $port slots
dotnet "$CLI" -p $port digest | tail -6
kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null
rm -rf "$dir"
