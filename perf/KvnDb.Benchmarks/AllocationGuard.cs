using System.Globalization;
using KvnDb.Bench;
using KvnDb.Router;
using KvnDb.Transport;

namespace KvnDb.Benchmarks;

/// <summary>
/// <c>--alloc-guard</c>, the CI guard on the fan-out path (run by <c>perf/run-ci.sh</c>): a router in
/// this process, its two ram nodes in child <c>kvndb-node</c> processes and the generator's
/// zero-allocation connections, so every byte allocated in this process is the router's. SET and GET
/// at pipeline 1 and 16, with the Prometheus endpoint off and on, on both socket engines; fails when any cell allocates more
/// than the budget per request in steady state.
/// </summary>
/// <remarks>
/// The budget (8 B per request unless <c>KVNDB_ALLOC_BUDGET</c> says otherwise) sits below the
/// smallest object (24 B): one object per request fails the guard, while the router's timers
/// (heartbeats every 250 ms, the health check) stay under it when spread over 100,000 requests.
/// BenchmarkDotNet's Allocated column on one connection is not used for this: its allocation pass
/// reported a steady 632 B per SET with metrics on that this measurement (GC totals over the same
/// traffic) never shows.
/// </remarks>
internal static class AllocationGuard
{
    public static async Task<int> RunAsync(long requests)
    {
        var budget = double.Parse(Environment.GetEnvironmentVariable("KVNDB_ALLOC_BUDGET") ?? "8", CultureInfo.InvariantCulture);
        var failures = 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"router allocation guard: 2 node processes, 50 connections, {requests} requests per cell, budget {budget} B/request"));
        Console.WriteLine("| engine | metrics | pipeline | test | B/request | verdict |");
        Console.WriteLine("|---|---|---:|---|---:|---|");
        var engines = OperatingSystem.IsLinux() ? new[] { IoEngine.Sockets, IoEngine.Epoll } : [IoEngine.Sockets];
        foreach (var (engine, metrics) in engines.SelectMany(engine => new[] { (engine, false), (engine, true) }))
        {
            // A small log fills during the warm-up, so measured writes recycle its segments as a
            // long-running router does (a 64 MiB log would still be filling: one new segment per MiB).
            await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0, MetricsPort = metrics ? 0 : null, BacklogBytes = 256 * 1024, IoEngine = engine });
            var nodes = new[] { NodeProcess.Start(router.Port), NodeProcess.Start(router.Port) };
            try
            {
                await router.WaitForServingNodesAsync(2, TimeSpan.FromSeconds(30));
                if (metrics)
                {
                    using var http = new HttpClient();
                    _ = await http.GetStringAsync(new Uri($"http://127.0.0.1:{router.MetricsPort}/metrics"));
                }
                var connections = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
                    LoadConnection.ConnectAsync("127.0.0.1", router.Port, new KvnDbWire(), "", keyspace: 100_000, valueSize: 3, seed: i, CancellationToken.None)));
                foreach (var pipeline in new[] { 1, 16 })
                {
                    foreach (var test in new[] { TestKind.Set, TestKind.Get })
                    {
                        await LoadRun.RunAsync(connections, test, Math.Min(requests, 20_000), pipeline); // warm-up: JIT tiers, pools, the log
                        var before = GC.GetTotalAllocatedBytes(precise: true);
                        await LoadRun.RunAsync(connections, test, requests, pipeline);
                        var perRequest = (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / requests;
                        var ok = perRequest <= budget;
                        failures += ok ? 0 : 1;
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"| {engine.ToString().ToLowerInvariant()} | {(metrics ? "on" : "off")} | {pipeline} | {WireProtocol.TestName(test)} | {perRequest:F1} | {(ok ? "ok" : "OVER BUDGET")} |"));
                    }
                }
                foreach (var connection in connections)
                    await connection.DisposeAsync();
            }
            finally
            {
                foreach (var node in nodes)
                    NodeProcess.Stop(node);
            }
        }
        if (failures > 0)
            await Console.Error.WriteLineAsync($"router allocation guard: {failures} cell(s) over the budget of {budget} B/request");
        return failures == 0 ? 0 : 1;
    }
}
