#!/usr/bin/env bash
# CI performance job: the BenchmarkDotNet suites with the short "ci" job (a few minutes), Release build,
# then the allocation guard (--alloc-guard), which fails the job when the router allocates per request.
# Results (GitHub markdown and CSV per suite) go to perf/results/ci/results/; a summary is printed.
# Usage: perf/run-ci.sh [extra BenchmarkDotNet args, e.g. --filter '*FanOut*']
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build perf/KvnDb.Benchmarks/KvnDb.Benchmarks.csproj -c Release -v q -nologo
OUT="$ROOT/perf/results/ci"
rm -rf "$OUT"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--filter '*')
KVNDB_BENCH_RESULTS="$OUT" dotnet perf/KvnDb.Benchmarks/bin/Release/net10.0/KvnDb.Benchmarks.dll --ci "${args[@]}" > "$OUT.log" 2>&1 || {
  tail -50 "$OUT.log" >&2; echo "perf/run-ci.sh: benchmarks failed (full log: $OUT.log)" >&2; exit 1; }
for f in "$OUT"/results/*-report-github.md; do
  echo "### $(basename "$f" -report-github.md | sed 's/^KvnDb\.Benchmarks\.//')"
  grep '^|' "$f"
  echo
done
# The allocation guard: the router's bytes per request on the fan-out path (metrics off and on) must
# stay under the budget; the job fails otherwise. Time is never a verdict here (a shared, noisy box).
echo "### Router allocation guard"
mkdir -p "$OUT"
dotnet perf/KvnDb.Benchmarks/bin/Release/net10.0/KvnDb.Benchmarks.dll --alloc-guard 100000 | tee "$OUT/alloc-guard.md" || {
  echo "perf/run-ci.sh: the router allocates per request (see above)" >&2; exit 1; }
