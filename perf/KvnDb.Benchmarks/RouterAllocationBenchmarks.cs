using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using KvnDb.Bench;
using KvnDb.Router;

namespace KvnDb.Benchmarks;

/// <summary>
/// The router's own allocations per request on the fan-out path (the CI guard, see
/// <c>perf/run-ci.sh</c>): a real router in this process, its two ram nodes in child
/// <c>kvndb-node</c> processes and the generator's zero-allocation connection, so the Allocated
/// column is the router's alone, with and without the Prometheus endpoint on.
/// </summary>
public class RouterAllocationBenchmarks
{
    private const int Pipeline = 16;
    private RouterHost? _router;
    private LoadConnection? _connection;
    private readonly List<Process> _nodes = [];

    [Params(false, true)]
    public bool Metrics { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _router = await RouterHost.StartAsync(new RouterOptions { Port = 0, MetricsPort = Metrics ? 0 : null });
        for (var i = 0; i < 2; i++)
            _nodes.Add(NodeProcess.Start(_router.Port));
        await _router.WaitForServingNodesAsync(2, TimeSpan.FromSeconds(30));
        _connection = await LoadConnection.ConnectAsync("127.0.0.1", _router.Port, new KvnDbWire(), "", keyspace: 1000, valueSize: 3, seed: 1, CancellationToken.None);
        if (await _connection.RunBatchAsync(Bench.TestKind.Set, Pipeline, null, CancellationToken.None) != 0)
            throw new InvalidOperationException("priming SET failed");
        if (Metrics)
        {
            // A scrape, so the endpoint is live and its listener has seen every instrument.
            using var http = new HttpClient();
            _ = await http.GetStringAsync(new Uri($"http://127.0.0.1:{_router.MetricsPort}/metrics"));
        }
    }

    [Benchmark]
    public ValueTask<int> Set() => _connection!.RunBatchAsync(Bench.TestKind.Set, 1, null, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Get() => _connection!.RunBatchAsync(Bench.TestKind.Get, 1, null, CancellationToken.None);

    [Benchmark(OperationsPerInvoke = Pipeline)]
    public ValueTask<int> SetPipelined() => _connection!.RunBatchAsync(Bench.TestKind.Set, Pipeline, null, CancellationToken.None);

    [Benchmark(OperationsPerInvoke = Pipeline)]
    public ValueTask<int> GetPipelined() => _connection!.RunBatchAsync(Bench.TestKind.Get, Pipeline, null, CancellationToken.None);

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task CleanupAsync()
    {
        if (_connection is not null)
            await _connection.DisposeAsync();
        foreach (var node in _nodes)
            NodeProcess.Stop(node);
        _nodes.Clear();
        if (_router is not null)
            await _router.DisposeAsync();
    }
}
