using System.Globalization;
using KvnDb.Bench;
using KvnDb.Router;

namespace KvnDb.Benchmarks;

/// <summary>
/// <c>--alloc-profile</c>: a router with N embedded ram nodes in this process, loaded by the
/// generator's zero-allocation connections; prints GC counts, bytes allocated per request and the
/// allocating types (sampled). GET allocates nothing in a ram node, so GET rows are the router's own.
/// </summary>
internal static class AllocationProfile
{
    public static async Task<int> RunAsync(int nodes, long requests, int clients, int pipeline)
    {
        await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0, EmbeddedNodes = nodes });
        await router.WaitForServingNodesAsync(nodes, TimeSpan.FromSeconds(20));
        var connections = await Task.WhenAll(Enumerable.Range(0, clients).Select(i =>
            LoadConnection.ConnectAsync("127.0.0.1", router.Port, new KvnDbWire(), "", keyspace: 100_000, valueSize: 3, seed: i, CancellationToken.None)));
        using var listener = new AllocationListener();
        Console.WriteLine($"router + {nodes} embedded ram nodes, {clients} connections, pipeline {pipeline}, {requests} requests per test, random keys over 100000");
        foreach (var test in new[] { TestKind.Set, TestKind.Get })
        {
            await LoadRun.RunAsync(connections, test, Math.Min(requests, 20_000), pipeline); // warm-up: JIT, tiering, pools
            GC.Collect();
            var gen0 = GC.CollectionCount(0);
            var gen1 = GC.CollectionCount(1);
            var gen2 = GC.CollectionCount(2);
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            listener.Start();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await LoadRun.RunAsync(connections, test, requests, pipeline);
            clock.Stop();
            listener.Stop();
            var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{WireProtocol.TestName(test)}: {requests / clock.Elapsed.TotalSeconds:F0} ops/s, GC gen0/gen1/gen2 +{GC.CollectionCount(0) - gen0}/+{GC.CollectionCount(1) - gen1}/+{GC.CollectionCount(2) - gen2}, allocated {bytes} B = {(double)bytes / requests:F1} B/request (router + nodes + client)"));
            Console.WriteLine("  allocating types (sampled every ~100 KB):");
            foreach (var (type, sampled) in listener.Top(8))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {sampled,14:N0} B  {type}"));
        }
        foreach (var connection in connections)
            await connection.DisposeAsync();
        return 0;
    }
}
