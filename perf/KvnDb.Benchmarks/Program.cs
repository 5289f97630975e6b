using BenchmarkDotNet.Running;
using KvnDb.Benchmarks;

// --ci: the short job CI runs (perf/run-ci.sh); everything else goes to BenchmarkDotNet (--filter, --list, ...).
var ci = args.Contains("--ci");
var rest = args.Where(a => a != "--ci").ToArray();
var artifacts = Environment.GetEnvironmentVariable("KVNDB_BENCH_RESULTS")
    ?? Path.Combine(Directory.GetCurrentDirectory(), "perf", "results", ci ? "ci" : "bdn");
if (rest.Length == 0)
    rest = ["--filter", "*"];
var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(rest, BenchmarkConfig.Create(ci, artifacts));
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
