# Shared by the perf scripts (sourced, not run): the scratch folder and the processes started, their cleanup, Release
# builds of the router, node and load generator, CPU ticks of processes, and the wait for a quiet machine.
# The sourcing script sets ROOT first; it may define cleanup_more (run at exit, before the scratch folder goes).
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORK=$(mktemp -d "/tmp/kvndb-$(basename "$0" .sh).XXXXXX")
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 25); do
    alive=0; for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break; sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if declare -F cleanup_more >/dev/null; then cleanup_more; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# CPU ticks (utime+stime, all threads) of the given pids, summed. The command name in field 2 may hold
# spaces, so fields are counted after its closing parenthesis.
ticks() {
  local total=0 pid rest
  for pid in "$@"; do
    rest=$(sed 's/.*) //' "/proc/$pid/stat")
    total=$((total + $(echo "$rest" | awk '{ print $12 + $13 }')))
  done
  echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)

# Microseconds of CPU per request: ticks spent, requests made.
us_per_request() { awk -v d="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }'; }

BIN() { echo "$ROOT/$1/bin/Release/net10.0/$2.dll"; }
BENCH=(dotnet "$(BIN perf/KvnDb.Bench kvndb-bench)")

build_release() {
  echo "building (Release)..." >&2
  for p in src/Router/KvnDb.Router.csproj src/NodeHost/KvnDb.NodeHost.csproj perf/KvnDb.Bench/KvnDb.Bench.csproj; do
    dotnet build "$ROOT/$p" -c Release -v q -nologo >/dev/null
  done
}

# Waits up to $1 seconds for the 1-minute load average to fall below 1 (our own build raised it); sets LOAD_BEFORE.
wait_for_quiet() {
  for _ in $(seq "$1"); do awk '{ exit !($1 < 1) }' /proc/loadavg && break; sleep 1; done
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
}
