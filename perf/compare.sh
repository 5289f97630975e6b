#!/usr/bin/env bash
# Side-by-side throughput: KvnDb (kvndb-router + 2 kvndb-node processes, ram engine, writes acknowledged
# by both nodes) against Redis, Garnet and twemproxy in front of two Redis (../shared/bench/peers.sh),
# all measured by the same client (kvndb-bench), 50 connections, pipeline 1 and 16, SET and GET.
# Prints one table with ratios of KvnDb to twemproxy and writes it to perf/results/compare-<date>-<host>.md
# (and perf/results/compare-latest.md). Release builds.
# Env: ROUNDS (3; the median round is reported), N1 (requests at P=1, 100000), N16 (at P=16, 500000),
#      CLIENTS (50), DATA (3), KVNDB_PORT (7131).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$(cd "$ROOT/.." && pwd)/shared}
# A git worktree's parent is not always the folder that holds shared/: fall back to the main checkout's.
[ -x "$SHARED/bench/peers.sh" ] || SHARED=$(cd "$(git -C "$ROOT" rev-parse --git-common-dir)/../.." && pwd)/shared
PEERS="$SHARED/bench/peers.sh"
[ -x "$PEERS" ] || { echo "compare.sh: cannot find shared/bench/peers.sh (set SHARED=...)" >&2; exit 2; }
ROUNDS=${ROUNDS:-3} N1=${N1:-100000} N16=${N16:-500000} CLIENTS=${CLIENTS:-50} DATA=${DATA:-3} KVNDB_PORT=${KVNDB_PORT:-7131}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PATH="$PATH:$HOME/.dotnet/tools"
# Our own pid folder: another user of peers.sh stopping its peers must not stop ours.
export PEERS_DIR=${PEERS_DIR:-/tmp/kvndb-peers-compare-$$}
WORK=$(mktemp -d /tmp/kvndb-compare.XXXXXX)
# Every path below is absolute; run from the scratch folder so that a stray relative write (awk's
# `printf ... > "-"` once left a file named "-" at the repository root) lands there and is removed.
cd "$WORK"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  # kvndb-router does not exit on SIGTERM yet (see the perf report): give everyone 5 s, then SIGKILL.
  for i in $(seq 25); do
    alive=0; for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break; sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  "$PEERS" stop >/dev/null 2>&1 || true
  rm -rf "$WORK" "$PEERS_DIR"
}
trap cleanup EXIT

echo "building (Release)..." >&2
for p in src/Router/KvnDb.Router.csproj src/NodeHost/KvnDb.NodeHost.csproj perf/KvnDb.Bench/KvnDb.Bench.csproj; do
  dotnet build "$ROOT/$p" -c Release -v q -nologo >/dev/null
done
BIN() { echo "$ROOT/$1/bin/Release/net10.0/$2.dll"; }
BENCH=(dotnet "$(BIN perf/KvnDb.Bench kvndb-bench)")

echo "starting kvndb-router on $KVNDB_PORT and 2 kvndb-node processes..." >&2
dotnet "$(BIN src/Router kvndb-router)" --port "$KVNDB_PORT" > "$WORK/router.log" 2>&1 & PIDS+=($!)
for i in $(seq 50); do "${BENCH[@]}" -p "$KVNDB_PORT" --info >/dev/null 2>&1 && break; sleep 0.2; done
for n in 1 2; do
  dotnet "$(BIN src/NodeHost kvndb-node)" --engine ram --port "$KVNDB_PORT" > "$WORK/node$n.log" 2>&1 & PIDS+=($!)
done
for i in $(seq 100); do
  "${BENCH[@]}" -p "$KVNDB_PORT" --info 2>/dev/null | grep -q '^nodes_serving: 2' && break
  [ "$i" = 100 ] && { echo "compare.sh: the 2 nodes did not become serving" >&2; cat "$WORK"/*.log >&2; exit 1; }
  sleep 0.2
done

echo "starting peers (redis 7101/7102, garnet 7103, twemproxy 7121)..." >&2
"$PEERS" start >/dev/null

TARGETS=("kvndb:$KVNDB_PORT:kvndb" "redis:7101:resp" "garnet:7103:resp" "twemproxy:7121:resp")
RAW="$WORK/raw.csv"
echo "round,target,pipeline,test,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms" > "$RAW"
for round in $(seq "$ROUNDS"); do
  for P in 1 16; do
    N=$N1; [ "$P" = 16 ] && N=$N16
    # Interleaved per round, so a noisy neighbour hurts every target alike.
    for t in "${TARGETS[@]}"; do
      IFS=: read -r name port proto <<< "$t"
      echo "round $round: $name P=$P" >&2
      extra=(); [ "$name" = kvndb ] && extra=(--router-info)
      if "${BENCH[@]}" --protocol "$proto" -p "$port" -c "$CLIENTS" -n "$N" -d "$DATA" -P "$P" -t set,get -r 100000 --csv --no-progress "${extra[@]}" \
        > "$WORK/out.csv" 2> "$WORK/stderr.txt"; then
        grep -v '^"test"' "$WORK/out.csv" | tr -d '"' | sed "s/^/$round,$name,$P,/" >> "$RAW"
      else
        # One failed cell (a peer gone, a refused connection) must not lose the rest of the table.
        echo "FAILED" >> "$WORK/stderr.txt"
      fi
      sed "s/^/round $round, $name, P=$P: /" "$WORK/stderr.txt" | tee -a "$WORK/notes.txt" >&2
    done
  done
done
cp "$RAW" "$ROOT/perf/results/compare-raw-latest.csv"
grep -q FAILED "$WORK/notes.txt" && echo "compare.sh: some cells failed, see the notes below the table" >&2

HOST=$(hostname); DATE=$(date -u +%Y-%m-%dT%H:%MZ); CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); CORES=$(nproc)
# Per target, pipeline and test: the round with the median ops/s (its latencies come with it).
MEDIANS=$(tail -n +2 "$RAW" | sort -t, -k2,2 -k3,3n -k4,4 -k5,5g | awk -F, '
  { key = $2 "," $3 "," $4; count[key]++; row[key "#" count[key]] = $0 }
  END { for (key in count) print row[key "#" int((count[key] + 1) / 2)] }')
TABLE=$(echo "$MEDIANS" | awk -F, -v rounds="$ROUNDS" '
  { key = $2 "," $3 "," $4; rps[key] = $5; p50[key] = $8; p99[key] = $10 }
  END {
    split("kvndb redis garnet twemproxy", targets, " "); split("1 16", pipes, " "); split("SET GET", tests, " ")
    printf "| target | P | test | ops/s (median of %d) | p50 ms | p99 ms | vs twemproxy |\n", rounds
    printf "|---|---:|---|---:|---:|---:|---:|\n"
    for (p = 1; p <= 2; p++) {
      for (s = 1; s <= 2; s++) {
        base = rps["twemproxy," pipes[p] "," tests[s]] + 0
        for (t = 1; t <= 4; t++) {
          key = targets[t] "," pipes[p] "," tests[s]
          if (!(key in rps)) continue
          ratio = base > 0 ? sprintf("%.2fx", rps[key] / base) : "-"
          printf "| %s | %s | %s | %.0f | %s | %s | %s |\n", targets[t], pipes[p], tests[s], rps[key], p50[key], p99[key], ratio
        }
      }
    }
  }')

REPORT=$(cat <<MD
# KvnDb vs peers ($DATE, $HOST)

Machine: $CPU, $CORES cores, $(uname -sr), .NET $(dotnet --version). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg).
Client: kvndb-bench (same tool for all), $CLIENTS connections, -d $DATA, random keys over 100000 (-r), N=$N1 at P=1 and $N16 at P=16, $ROUNDS interleaved rounds.
kvndb: kvndb-router + 2 kvndb-node processes (ram), SET acknowledged by both nodes (write concern all), GET from one node.
twemproxy: nutcracker in front of 2 redis (sharded, not replicated). Targets (DESIGN.md 7): GET >= 1.2x, SET >= 1.0x twemproxy.

$TABLE

Router allocations and GCs per kvndb run (from its info; SET then GET, $CLIENTS connections):
\`\`\`
$(grep 'router:' "$WORK/notes.txt" || echo "none reported")
$(grep -v 'router:' "$WORK/notes.txt" || true)
\`\`\`
MD
)
mkdir -p "$ROOT/perf/results"
echo "$REPORT" | tee "$ROOT/perf/results/compare-$(date -u +%Y%m%d-%H%M)-$HOST.md" > "$ROOT/perf/results/compare-latest.md"
echo "$REPORT"
