#!/usr/bin/env bash
# GC counts and bytes allocated per request in a kvndb-router process (2 kvndb-node processes, ram),
# over 1M-request kvndb-bench runs (500k SET + 500k GET, 50 connections), read from the router's info.
# The run is repeated: the first includes warm-up (JIT, Kestrel's buffer pool growing, the write backlog
# filling), the later ones show the steady state. Usage: perf/router-gc.sh [P (1)] [runs (3)]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
P=${1:-1} RUNS=${2:-3} PORT=${KVNDB_PORT:-7132}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for p in src/Router/KvnDb.Router.csproj src/NodeHost/KvnDb.NodeHost.csproj perf/KvnDb.Bench/KvnDb.Bench.csproj; do
  dotnet build "$ROOT/$p" -c Release -v q -nologo >/dev/null
done
BENCH=(dotnet "$ROOT/perf/KvnDb.Bench/bin/Release/net10.0/kvndb-bench.dll" -p "$PORT")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
dotnet "$ROOT/src/Router/bin/Release/net10.0/kvndb-router.dll" --port "$PORT" >/dev/null 2>&1 & PIDS+=($!)
for i in $(seq 50); do "${BENCH[@]}" --info >/dev/null 2>&1 && break; sleep 0.2; done
for n in 1 2; do dotnet "$ROOT/src/NodeHost/bin/Release/net10.0/kvndb-node.dll" --port "$PORT" >/dev/null 2>&1 & PIDS+=($!); done
for i in $(seq 100); do "${BENCH[@]}" --info 2>/dev/null | grep -q '^nodes_serving: 2' && break; sleep 0.2; done
echo "kvndb-router + 2 kvndb-node (ram), kvndb-bench -c 50 -n 500000 -t set,get -P $P -r 100000 -d 3, $RUNS runs"
for run in $(seq "$RUNS"); do
  echo "run $run:"
  "${BENCH[@]}" -c 50 -n 500000 -t set,get -P "$P" -r 100000 -d 3 -q --no-progress --router-info 2>&1 | sed 's/^/  /'
done
"${BENCH[@]}" --info | grep -E '^(gc_collections|allocated_bytes|backlog|writes|reads)' | sed 's/^/final info: /'
