#!/usr/bin/env bash
# Side by side, speed and cost: KvnDb (kvndb-router + 2 kvndb-node processes, ram engine, writes
# acknowledged by both nodes) against Redis, Garnet, and twemproxy in front of two Redis
# (../shared/bench/peers.sh). Two load generators: kvndb-bench (KvnDb's native port; RESP for the
# peers) and redis-benchmark (KvnDb's RESP port and the peers). 50 connections, pipeline 1 and 16,
# SET and GET, interleaved rounds; the median round of each cell is reported.
#
# Cost is CPU time per request of every server process (utime+stime from /proc/PID/stat over the
# cell): on two cores throughput is CPU, so that is the figure to compare. The load generator's own CPU per
# request (bash's time) is reported too: it shares the two cores, so it caps every target alike.
#
# Writes only under perf/results/: compare-<date>-<host>.md, compare-latest.md, compare-raw-latest.csv,
# and readme-table-latest.md, which is written only when the load average before the first cell was
# below 1 (a loaded machine flatters whoever suffers least from it: such a table is never published).
#
# Env: ROUNDS (3), N1 (requests at P=1, 100000), N16 (at P=16, 500000), CLIENTS (50), DATA (3),
#      GENERATORS ("kvndb-bench redis-benchmark"; kvndb-bench-sockets is kvndb-bench on .NET's sockets engine,
#        the generator of runs before 2026-12-02 evening), PIPELINES ("1 16"),
#      VARIANTS (router variants, "name:extra router args" separated by ';', default "kvndb:"),
#        e.g. VARIANTS="kvndb:;kvndb-inline:--inline-io" compares a lever in the same run, and words node:ARG
#        go to the nodes (VARIANTS="kvndb:;kvndb-node-sockets:node:--io-engine=sockets"),
#      SETTLE (seconds to wait for the load average to fall below 1 before the first cell, 180).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$(cd "$ROOT/.." && pwd)/shared}
# A git worktree's parent is not always the folder that holds shared/: fall back to the main checkout's.
[ -x "$SHARED/bench/peers.sh" ] || SHARED=$(cd "$(git -C "$ROOT" rev-parse --git-common-dir)/../.." && pwd)/shared
PEERS="$SHARED/bench/peers.sh"
[ -x "$PEERS" ] || { echo "compare.sh: cannot find shared/bench/peers.sh (set SHARED=...)" >&2; exit 2; }
ROUNDS=${ROUNDS:-3} N1=${N1:-100000} N16=${N16:-500000} CLIENTS=${CLIENTS:-50} DATA=${DATA:-3}
GENERATORS=${GENERATORS:-kvndb-bench redis-benchmark} PIPELINES=${PIPELINES:-1 16}
VARIANTS=${VARIANTS:-kvndb:} SETTLE=${SETTLE:-180}
export PATH="$PATH:$HOME/.dotnet/tools"
# Our own pid folder: another user of peers.sh stopping its peers must not stop ours.
export PEERS_DIR=${PEERS_DIR:-/tmp/kvndb-peers-compare-$$}
# A peer still writing its log as it stops can make the first rm find the folder not empty: try once more.
cleanup_more() { "$PEERS" stop >/dev/null 2>&1 || true; rm -rf "$PEERS_DIR" 2>/dev/null || rm -rf "$PEERS_DIR" || true; }
source "$ROOT/perf/lib.sh"
# Every path below is absolute; run from the scratch folder so that a stray relative write lands there.
cd "$WORK"

command -v redis-benchmark >/dev/null || GENERATORS=${GENERATORS//redis-benchmark/}
build_release

# Targets: name, native port, RESP port, the pid measured as "front" (router, proxy or server) and
# the pids behind it ("back": nodes, or twemproxy's two Redis).
declare -A NATIVE RESP FRONT BACK
NAMES=()
port=7131
IFS=';' read -ra variant_list <<< "$VARIANTS"
for variant in "${variant_list[@]}"; do
  name=${variant%%:*}; args=() envs=() node_args=() node_envs=()
  # Words shaped NAME=value set the router's environment (DOTNET_gcServer=1); words node:ARG and node:NAME=value
  # are the nodes' arguments and environment (node:--io-engine=sockets); the rest are the router's arguments.
  for word in ${variant#*:}; do
    if [[ $word =~ ^node:[A-Za-z_][A-Za-z0-9_]*= ]]; then node_envs+=("${word#node:}")
    elif [[ $word == node:* ]]; then node_args+=("${word#node:}")
    elif [[ $word =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then envs+=("$word")
    else args+=("$word"); fi
  done
  echo "starting $name (${envs[*]} kvndb-router ${args[*]}) on $port, RESP $((port + 1)), and 2 kvndb-node processes..." >&2
  env "${envs[@]}" dotnet "$(BIN src/Router kvndb-router)" --port "$port" --resp-port $((port + 1)) --data "$WORK/$name-data" "${args[@]}" > "$WORK/$name-router.log" 2>&1 &
  router=$!; PIDS+=("$router")
  for _ in $(seq 50); do "${BENCH[@]}" -p "$port" --info >/dev/null 2>&1 && break; sleep 0.2; done
  nodes=()
  for n in 1 2; do
    env "${node_envs[@]}" dotnet "$(BIN src/NodeHost kvndb-node)" --engine ram --port "$port" "${node_args[@]}" > "$WORK/$name-node$n.log" 2>&1 &
    nodes+=($!); PIDS+=($!)
  done
  for i in $(seq 100); do
    "${BENCH[@]}" -p "$port" --info 2>/dev/null | grep -q '^nodes_serving: 2' && break
    [ "$i" = 100 ] && { echo "compare.sh: the 2 nodes of $name did not become serving" >&2; cat "$WORK"/"$name"-*.log >&2; exit 1; }
    sleep 0.2
  done
  NAMES+=("$name"); NATIVE[$name]=$port; RESP[$name]=$((port + 1)); FRONT[$name]=$router; BACK[$name]="${nodes[*]}"
  port=$((port + 10))
done

echo "starting peers (redis 7101/7102, garnet 7103, twemproxy 7121)..." >&2
"$PEERS" start >/dev/null
pid_of() { cat "$PEERS_DIR/$1.pid"; }
for peer in redis garnet twemproxy; do NAMES+=("$peer"); done
NATIVE[redis]=7101; RESP[redis]=7101; FRONT[redis]=$(pid_of redis-7101); BACK[redis]=""
NATIVE[garnet]=7103; RESP[garnet]=7103; FRONT[garnet]=$(pid_of garnet); BACK[garnet]=""
NATIVE[twemproxy]=7121; RESP[twemproxy]=7121; FRONT[twemproxy]=$(pid_of nutcracker); BACK[twemproxy]="$(pid_of redis-7101) $(pid_of redis-7102)"
is_kvndb() { [ -n "${BACK[$1]}" ] && [ "$1" != twemproxy ]; }

# Warm-up, not recorded: the first requests of a .NET process pay for its JIT, which is not a per-request cost.
for name in "${NAMES[@]}"; do
  is_kvndb "$name" || continue
  echo "warming up $name..." >&2
  for P in $PIPELINES; do
    "${BENCH[@]}" -p "${NATIVE[$name]}" -c "$CLIENTS" -n 50000 -d "$DATA" -P "$P" -t set,get -r 100000 -q --no-progress >/dev/null 2>&1 || true
    command -v redis-benchmark >/dev/null && redis-benchmark -p "${RESP[$name]}" -c "$CLIENTS" -n 50000 -d "$DATA" -P "$P" -t set,get -r 100000 -q >/dev/null 2>&1 || true
  done
done

# The load average must fall below 1 before the first cell (our own build raised it): wait for it.
wait_for_quiet "$SETTLE"
echo "load average before the first cell: $LOAD_BEFORE" >&2

RAW="$WORK/raw.csv"
echo "round,generator,target,pipeline,test,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms,requests,front_us,back_us,client_us" > "$RAW"
run_cell() { # round generator target P test N
  local round=$1 gen=$2 name=$3 P=$4 test=$5 N=$6 out="$WORK/out.csv" before_front before_back after_front after_back
  # The generator's own CPU (bash's time: user and system seconds of the command), to tell what caps a cell.
  local TIMEFORMAT='%3U %3S'
  # shellcheck disable=SC2086
  before_front=$(ticks ${FRONT[$name]}); before_back=$(ticks ${BACK[$name]})
  if [[ $gen == kvndb-bench* ]]; then
    local proto=resp port=${RESP[$name]} engine=()
    [ "$gen" = kvndb-bench-sockets ] && engine=(--io-engine sockets)
    is_kvndb "$name" && { proto=kvndb; port=${NATIVE[$name]}; }
    { time "${BENCH[@]}" "${engine[@]}" --protocol "$proto" -p "$port" -c "$CLIENTS" -n "$N" -d "$DATA" -P "$P" -t "$test" -r 100000 --csv --no-progress > "$out" 2> "$WORK/stderr.txt" || echo FAILED >> "$WORK/stderr.txt"; } 2> "$WORK/time.txt"
  else
    { time redis-benchmark -h 127.0.0.1 -p "${RESP[$name]}" -c "$CLIENTS" -n "$N" -d "$DATA" -P "$P" -t "$test" -r 100000 --csv -q > "$out" 2> "$WORK/stderr.txt" || echo FAILED >> "$WORK/stderr.txt"; } 2> "$WORK/time.txt"
  fi
  # shellcheck disable=SC2086
  after_front=$(ticks ${FRONT[$name]}); after_back=$(ticks ${BACK[$name]})
  if grep -qv '^"test"' "$out" 2>/dev/null && ! grep -q FAILED "$WORK/stderr.txt"; then
    local front_us back_us client_us
    front_us=$(us_per_request $((after_front - before_front)) "$N")
    back_us=$(us_per_request $((after_back - before_back)) "$N")
    client_us=$(awk -v n="$N" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$WORK/time.txt")
    grep -v '^"test"' "$out" | tr -d '"' | awk -F, -v OFS=, -v pre="$round,$gen,$name,$P" -v n="$N" -v f="$front_us" -v b="$back_us" -v c="$client_us" \
      '{ print pre, toupper($1), $2, $3, $4, $5, $6, $7, $8, n, f, b, c }' >> "$RAW"
  else
    # One failed cell (a peer gone, a refused connection) must not lose the rest of the table.
    sed "s/^/round $round, $gen, $name, P=$P, $test: /" "$WORK/stderr.txt" | tee -a "$WORK/notes.txt" >&2
  fi
}
for round in $(seq "$ROUNDS"); do
  for P in $PIPELINES; do
    N=$N1; [ "$P" != 1 ] && N=$N16
    # Interleaved per round, so a noisy neighbour hurts every target alike.
    for gen in $GENERATORS; do
      for name in "${NAMES[@]}"; do
        for test in set get; do
          echo "round $round: $gen $name P=$P $test" >&2
          run_cell "$round" "$gen" "$name" "$P" "$test" "$N"
        done
      done
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$ROOT/perf/results"
cp "$RAW" "$ROOT/perf/results/compare-raw-latest.csv"

HOST=$(hostname); DATE=$(date -u +%Y-%m-%dT%H:%MZ); CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); CORES=$(nproc)
# Per generator, target, pipeline and test: the round with the median ops/s (its latencies and costs come with it).
MEDIANS=$(tail -n +2 "$RAW" | sort -t, -k2,2 -k3,3 -k4,4n -k5,5 -k6,6g | awk -F, '
  { key = $2 "," $3 "," $4 "," $5; count[key]++; row[key "#" count[key]] = $0 }
  END { for (key in count) print row[key "#" int((count[key] + 1) / 2)] }')
TABLE=$(echo "$MEDIANS" | awk -F, -v rounds="$ROUNDS" -v names="${NAMES[*]}" -v gens="$GENERATORS" -v pipes="$PIPELINES" '
  { key = $2 "," $3 "," $4 "," $5; rps[key] = $6; p50[key] = $9; p99[key] = $11; front[key] = $14; back[key] = $15; client[key] = $16 }
  END {
    nt = split(names, targets, " "); ng = split(gens, generators, " "); np = split(pipes, pipelines, " "); split("SET GET", tests, " ")
    printf "| generator | P | test | target | ops/s | vs twemproxy | p50 ms | p99 ms | CPU us/req front | back | total | client |\n"
    printf "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    for (g = 1; g <= ng; g++) for (p = 1; p <= np; p++) for (s = 1; s <= 2; s++) {
      base = rps[generators[g] ",twemproxy," pipelines[p] "," tests[s]] + 0
      for (t = 1; t <= nt; t++) {
        key = generators[g] "," targets[t] "," pipelines[p] "," tests[s]
        if (!(key in rps)) continue
        ratio = base > 0 ? sprintf("%.2fx", rps[key] / base) : "-"
        printf "| %s | %s | %s | %s | %.0f | %s | %s | %s | %.1f | %.1f | %.1f | %.1f |\n", generators[g], pipelines[p], tests[s], targets[t], rps[key], ratio, p50[key], p99[key], front[key], back[key], front[key] + back[key], client[key]
      }
    }
  }')

QUIET=no; awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l < 1) }' && QUIET=yes
REPORT=$(cat <<MD
# KvnDb vs peers ($DATE, $HOST)

Machine: $CPU, $CORES cores, $(uname -sr), .NET $(dotnet --version).
Load average before the first cell: $LOAD_BEFORE; after the last: $LOAD_AFTER. Quiet (below 1 before): $QUIET.
$CLIENTS connections, -d $DATA, random keys over 100000 (-r), N=$N1 at P=1 and $N16 otherwise, $ROUNDS interleaved rounds, median round per cell.
kvndb: kvndb-router + 2 kvndb-node processes (ram), SET acknowledged by both nodes, GET from one node. Variants: $VARIANTS.
twemproxy: nutcracker in front of 2 redis (sharded, not replicated). Targets (issue 13): router CPU per request <= twemproxy's; SET >= 1.0x, GET >= 1.2x twemproxy.
CPU us/req: utime+stime of the front process (router, proxy or server) and of the processes behind it (kvndb nodes; twemproxy's redis), per request of the cell; client: the load generator's own (kvndb-bench's includes its .NET start). On two cores throughput is about 2 s / (total + client) per request, so a heavy client narrows every ratio.

$TABLE

\`\`\`
$(cat "$WORK/notes.txt" 2>/dev/null || echo "every cell ran")
\`\`\`
MD
)
echo "$REPORT" | tee "$ROOT/perf/results/compare-$(date -u +%Y%m%d-%H%M)-$HOST.md" > "$ROOT/perf/results/compare-latest.md"
if [ "$QUIET" = yes ]; then
  echo "$REPORT" > "$ROOT/perf/results/readme-table-latest.md"
else
  echo "compare.sh: the load average before the run was $LOAD_BEFORE (not below 1): no README table written" >&2
fi
echo "$REPORT"
