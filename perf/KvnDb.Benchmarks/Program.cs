using Microsoft.Extensions.Logging;
using BenchmarkDotNet.Running;
using KvnDb.Benchmarks;

// --alloc-profile [nodes] [requests] [pipeline]: GC counts and allocating types of a router under load (no BenchmarkDotNet).
if (args.Length > 0 && args[0] == "--alloc-profile")
{
    int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    return await AllocationProfile.RunAsync(nodes: Arg(1, 2), requests: Arg(2, 1_000_000), clients: 50, pipeline: Arg(3, 1));
}

// --alloc-guard [requests]: the router's bytes per request on the fan-out path, against a budget (CI).
if (args.Length > 0 && args[0] == "--alloc-guard")
    return await AllocationGuard.RunAsync(args.Length > 1 ? long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000);

// --check-direct: the direct-node baseline alone, with the node's log (a smoke check of the harness).
if (args.Length > 0 && args[0] == "--check-direct")
{
    using var logging = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Debug));
    await using var direct = new DirectNodeHarness();
    await direct.StartAsync(3, logging);
    foreach (var test in new[] { KvnDb.Bench.TestKind.Set, KvnDb.Bench.TestKind.Get, KvnDb.Bench.TestKind.Set })
        Console.WriteLine($"{test}: {await direct.Connection!.RunBatchAsync(test, 16, null, CancellationToken.None)} errors");
    return 0;
}

// --ci: the short job CI runs (perf/run-ci.sh); everything else goes to BenchmarkDotNet (--filter, --list, ...).
var ci = args.Contains("--ci");
var rest = args.Where(a => a != "--ci").ToArray();
var artifacts = Environment.GetEnvironmentVariable("KVNDB_BENCH_RESULTS")
    ?? Path.Combine(Directory.GetCurrentDirectory(), "perf", "results", ci ? "ci" : "bdn");
if (rest.Length == 0)
    rest = ["--filter", "*"];
var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(rest, BenchmarkConfig.Create(ci, artifacts));
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
