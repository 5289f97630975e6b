#!/usr/bin/env bash
# Kernel work per request of the router, counted (not timed): receives, sends, epoll waits, yields, futex
# calls and context switches of kvndb-router (+ 2 kvndb-node processes, ram) under kvndb-bench, divided by
# the requests made. Counts hardly depend on the machine's load, so this runs anywhere `perf` has
# tracepoints (root); the table goes to stdout and perf/results/syscalls-latest.md.
#
# Usage: perf/syscalls-per-request.sh [router args...]   e.g. --io-engine sockets
# Env: N (requests per cell, 100000), CLIENTS (50), PIPELINES ("1 16"), TESTS ("set get").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-100000} CLIENTS=${CLIENTS:-50} PIPELINES=${PIPELINES:-1 16} TESTS=${TESTS:-set get}
command -v perf >/dev/null || { echo "syscalls-per-request.sh: needs perf (apt install linux-perf)" >&2; exit 2; }
source "$ROOT/perf/lib.sh"
build_release
PORT=7231
dotnet "$(BIN src/Router kvndb-router)" --port $PORT --data "$WORK/data" "$@" > "$WORK/router.log" 2>&1 &
ROUTER=$!; PIDS+=("$ROUTER")
for _ in $(seq 50); do "${BENCH[@]}" -p $PORT --info >/dev/null 2>&1 && break; sleep 0.2; done
for n in 1 2; do dotnet "$(BIN src/NodeHost kvndb-node)" --engine ram --port $PORT > "$WORK/node$n.log" 2>&1 & PIDS+=($!); done
for i in $(seq 100); do
  "${BENCH[@]}" -p $PORT --info 2>/dev/null | grep -q '^nodes_serving: 2' && break
  [ "$i" = 100 ] && { echo "syscalls-per-request.sh: the nodes did not become serving" >&2; cat "$WORK"/*.log >&2; exit 1; }
  sleep 0.2
done
echo "warming up..." >&2
for P in $PIPELINES; do "${BENCH[@]}" -p $PORT -c "$CLIENTS" -n 50000 -d 3 -P "$P" -t set,get -r 100000 -q --no-progress >/dev/null; done

EVENTS=syscalls:sys_enter_recvfrom,syscalls:sys_enter_recvmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_sched_yield,syscalls:sys_enter_futex,sched:sched_switch
TABLE="| router args | P | test | recv | send | epoll_wait | sched_yield | futex | context switches |
|---|---:|---|---:|---:|---:|---:|---:|---:|"
for P in $PIPELINES; do
  for test in $TESTS; do
    echo "counting P=$P $test..." >&2
    "${BENCH[@]}" -p $PORT -c "$CLIENTS" -n "$N" -d 3 -P "$P" -t "$test" -r 100000 -q --no-progress > "$WORK/bench.out" &
    bench=$!
    perf stat -x, -e "$EVENTS" -p "$ROUTER" -o "$WORK/perf.csv" -- sh -c "while kill -0 $bench 2>/dev/null; do sleep 0.05; done"
    wait "$bench"
    row=$(awk -F, -v n="$N" '
      /sys_enter_recvfrom/ { r += $1 } /sys_enter_recvmsg/ { r += $1 } /sys_enter_sendto/ { s += $1 } /sys_enter_sendmsg/ { s += $1 }
      /sys_enter_epoll_wait/ { e = $1 } /sys_enter_sched_yield/ { y = $1 } /sys_enter_futex/ { f = $1 } /sched_switch/ { c = $1 }
      END { printf "%.2f | %.2f | %.2f | %.2f | %.2f | %.2f", r / n, s / n, e / n, y / n, f / n, c / n }' "$WORK/perf.csv")
    TABLE+=$'\n'"| ${*:-(defaults)} | $P | $test | $row |"
  done
done
mkdir -p "$ROOT/perf/results"
{ echo "# Router kernel work per request ($(date -u +%Y-%m-%dT%H:%MZ), load before: $(cut -d' ' -f1-3 /proc/loadavg))"; echo
  echo "$CLIENTS connections, -d 3, $N requests per cell, kvndb-bench, router + 2 ram nodes. Counts per request, router process only."; echo
  echo "$TABLE"; } | tee "$ROOT/perf/results/syscalls-latest.md"
