#!/usr/bin/env bash
# Does a node's cost per cluster write fall as groups are added? One run, the same load on two layouts through one
# kvndb-router: 1 group x 2 nodes (no --groups), and 2 groups x 2 nodes (--groups a,b; nodes a a b b). With two groups
# each node applies only its group's writes, so its CPU per cluster write should about halve (issue 18).
#
# Cost is CPU time (utime+stime from /proc/PID/stat, all threads, as perf/compare.sh) of each node and of the router
# over the measured run, divided by the cluster writes of the run. A warm-up run before each measured one is not
# recorded (JIT). The load generator is kvndb-bench (native port, SET of random keys, acknowledged by every in-sync
# node of the key's group).
#
# Writes only under perf/results/: group-scaling-<date>-<host>.md and group-scaling-latest.md. The report says the load
# average before the first run and whether it was quiet (below 1): a table from a loaded machine is not to be published.
#
# Env: N (writes per run, 200000), CLIENTS (50), PIPELINE (16), DATA (value bytes, 3), KEYS (-r, 100000),
#      ENGINE (the nodes' engine: ram or faster, ram), SETTLE (seconds to wait for the load average to fall below 1, 120).
# Usage: perf/group-scaling.sh            (the lead runs it in a quiet window)
#        N=20000 SETTLE=0 perf/group-scaling.sh   (a short check that it works)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-200000} CLIENTS=${CLIENTS:-50} PIPELINE=${PIPELINE:-16} DATA=${DATA:-3} KEYS=${KEYS:-100000}
ENGINE=${ENGINE:-ram} SETTLE=${SETTLE:-120}
source "$ROOT/perf/lib.sh"
cd "$WORK" # every path below is absolute: a stray relative write lands here
us_per_write() { us_per_request "$1" "$N"; }
build_release

# The load average must fall below 1 before the first run (our own build raised it): wait for it, up to SETTLE.
wait_for_quiet "$SETTLE"
echo "load average before the first run: $LOAD_BEFORE" >&2

ROWS=()
port=7231
# layout name, router --groups (empty: none), the nodes' groups
run_layout() {
  local name=$1 groups=$2; shift 2
  local node_groups=("$@") router nodes=() n=0
  local args=(--port "$port" --data "$WORK/$name-router" --join-grace 0.2)
  [ -n "$groups" ] && args+=(--groups "$groups")
  echo "starting $name: kvndb-router ${args[*]} and ${#node_groups[@]} kvndb-node processes ($ENGINE)..." >&2
  dotnet "$(BIN src/Router kvndb-router)" "${args[@]}" > "$WORK/$name-router.log" 2>&1 &
  router=$!; PIDS+=("$router")
  for _ in $(seq 50); do "${BENCH[@]}" -p "$port" --info >/dev/null 2>&1 && break; sleep 0.2; done
  for group in "${node_groups[@]}"; do
    local node_args=(--engine "$ENGINE" --port "$port" --name "$name-n$n")
    [ "$ENGINE" != ram ] && node_args+=(--data "$WORK/$name-node$n")
    [ -n "$groups" ] && node_args+=(--group "$group")
    dotnet "$(BIN src/NodeHost kvndb-node)" "${node_args[@]}" > "$WORK/$name-node$n.log" 2>&1 &
    nodes+=($!); PIDS+=($!); n=$((n + 1))
  done
  for i in $(seq 150); do
    "${BENCH[@]}" -p "$port" --info 2>/dev/null | grep -q "^nodes_serving: ${#node_groups[@]}" && break
    [ "$i" = 150 ] && { echo "group-scaling.sh: the nodes of $name did not become serving" >&2; cat "$WORK/$name"-*.log >&2; exit 1; }
    sleep 0.2
  done
  local load=(-p "$port" -c "$CLIENTS" -d "$DATA" -P "$PIPELINE" -t set -r "$KEYS" --no-progress)
  echo "warming up $name..." >&2
  "${BENCH[@]}" "${load[@]}" -n $((N / 4 + 1000)) -q >/dev/null 2>&1 || true
  local before_router before_nodes=() after_router rps
  before_router=$(ticks "$router")
  for pid in "${nodes[@]}"; do before_nodes+=("$(ticks "$pid")"); done
  echo "measuring $name: $N writes..." >&2
  rps=$("${BENCH[@]}" "${load[@]}" -n "$N" --csv | grep -v '^"test"' | tr -d '"' | awk -F, 'NR == 1 { printf "%.0f", $2 }')
  after_router=$(ticks "$router")
  local per_node=() sum=0 i d
  for i in "${!nodes[@]}"; do
    d=$(( $(ticks "${nodes[$i]}") - before_nodes[i] ))
    per_node+=("${node_groups[$i]}:$(us_per_write "$d")")
    sum=$((sum + d))
  done
  local mean; mean=$(awk -v d="$sum" -v k="${#nodes[@]}" -v n="$N" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", d / k / hz * 1e6 / n }')
  ROWS+=("| $name | ${rps:-failed} | $(us_per_write $((after_router - before_router))) | ${per_node[*]} | $mean | $(us_per_write "$sum") |")
  kill "$router" "${nodes[@]}" 2>/dev/null || true
  wait "$router" "${nodes[@]}" 2>/dev/null || true
  port=$((port + 10))
}

run_layout "1x2" "" default default
run_layout "2x2" "a,b" a a b b
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

QUIET=no; awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l < 1) }' && QUIET=yes
HOST=$(hostname); DATE=$(date -u +%Y-%m-%dT%H:%MZ); CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
REPORT=$(cat <<MD
# Per-node CPU per write, 1 group vs 2 groups ($DATE, $HOST)

Machine: $CPU, $(nproc) cores, $(uname -sr), .NET $(dotnet --version).
Load average before the first run: $LOAD_BEFORE; after the last: $LOAD_AFTER. Quiet (below 1 before): $QUIET$([ "$QUIET" = yes ] || echo " (loaded: do not publish)").
One kvndb-router, nodes on the $ENGINE engine; kvndb-bench SET, $N writes, $CLIENTS connections, pipeline $PIPELINE, -d $DATA, random keys over $KEYS.
CPU us per cluster write: utime+stime over the measured run / $N. Each node's figure is labelled with its group.

| layout | ops/s | router us/write | each node us/cluster write | node mean | nodes total |
|---|---:|---:|---|---:|---:|
$(printf '%s\n' "${ROWS[@]}")

With two groups a node applies about half the writes: its figure should be about half of the 1x2 one.
MD
)
mkdir -p "$ROOT/perf/results"
echo "$REPORT" > "$ROOT/perf/results/group-scaling-$(date -u +%Y%m%d-%H%M)-$HOST.md"
echo "$REPORT" > "$ROOT/perf/results/group-scaling-latest.md"
echo "$REPORT"
