#!/usr/bin/env bash
# Usage: perf/shards-cpu-per-write.sh (after dotnet build of src/Router and src/NodeHost; N=requests). Reads utime+stime of each node from /proc.
# Per-node CPU per cluster write, 1 group of 2 nodes vs 2 groups of 2 nodes, through the RESP port with redis-benchmark.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUTER=$ROOT/src/Router/bin/Debug/net10.0/kvndb-router.dll
NODE=$ROOT/src/NodeHost/bin/Debug/net10.0/kvndb-node.dll
N=${N:-100000}
TCK=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
run() {
  local groups=$1; shift; local nodegroups=("$@")
  local dir; dir=$(mktemp -d)
  local port=$((20000 + RANDOM % 20000)) resp=$((40000 + RANDOM % 20000))
  dotnet "$ROUTER" --port $port --resp-port $resp --data "$dir/router" --groups "$groups" --join-grace 0.2 > "$dir/router.log" 2>&1 &
  local rpid=$!
  local pids=()
  local i=0
  for g in "${nodegroups[@]}"; do
    dotnet "$NODE" --engine faster --data "$dir/node$i" --port $port --group "$g" --name "n$i" > "$dir/node$i.log" 2>&1 &
    pids+=($!); i=$((i+1))
  done
  for t in $(seq 1 240); do
    [ "$(redis-cli -p $resp info 2>/dev/null | grep -c 'nodes_serving:'"${#nodegroups[@]}")" -ge 1 ] && break
    [ "$(redis-cli -p $resp set warm x 2>/dev/null)" = "OK" ] && [ "$(redis-cli -p $resp info 2>/dev/null | tr -d '\r' | grep -E '^nodes_serving:' | cut -d: -f2)" = "${#nodegroups[@]}" ] && break
    sleep 0.5
  done
  local before=() ; for p in "${pids[@]}"; do before+=($(cpu $p)); done
  local rbefore; rbefore=$(cpu $rpid)
  redis-benchmark -p $resp -t set -n $N -c 50 -P 16 -r 100000 -q 2>&1 | tr '\r' '\n' | grep -v '^$' | tail -1
  i=0
  for p in "${pids[@]}"; do
    local d=$(( $(cpu $p) - ${before[$i]} ))
    awk -v d=$d -v t=$TCK -v n=$N -v g="${nodegroups[$i]}" -v i=$i 'BEGIN{printf "  node%d (group %s): %.1f us CPU per cluster write\n", i, g, d/t*1e6/n}'
    i=$((i+1))
  done
  awk -v d=$(( $(cpu $rpid) - rbefore )) -v t=$TCK -v n=$N 'BEGIN{printf "  router: %.1f us CPU per write\n", d/t*1e6/n}'
  redis-cli -p $resp info 2>/dev/null | tr -d '\r' | grep -E '^group_' 
  kill "${pids[@]}" $rpid 2>/dev/null; wait 2>/dev/null
  rm -rf "$dir"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1 group (default), 2 nodes"; run default default default
echo "== 2 groups (a,b), 2 nodes each"; run a,b a a b b
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
