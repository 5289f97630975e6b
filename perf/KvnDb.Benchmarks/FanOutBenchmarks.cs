using BenchmarkDotNet.Attributes;
using KvnDb.Bench;
using KvnDb.Router;
using KvnDb.Transport;

namespace KvnDb.Benchmarks;

/// <summary>
/// Latency of one request (or a pipelined batch of 16) over real loopback sockets: through a real
/// router to 1, 2 and 4 real ram nodes (writes fan out to all and are acknowledged by all; reads go to
/// one), and straight to one node with no router (<c>direct</c>). The client is the load generator's
/// raw connection, which allocates nothing per request, so the Allocated column is what the router
/// and the nodes in this process allocate per request.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "VSTHRD200:Use \"Async\" suffix for async methods", Justification = "The benchmark names (Set, Get, ...) are the keys of the results kept in perf/results")]
public class FanOutBenchmarks
{
    private const int Pipeline = 16;
    private const int ValueSize = 3;
    private RouterHost? _router;
    private DirectNodeHarness? _direct;
    private LoadConnection? _connection;

    /// <summary>The paths measured; <c>KVNDB_FANOUT_PATHS</c> (comma-separated) picks some, to measure one lever quickly.</summary>
    public static IEnumerable<string> Paths =>
        Environment.GetEnvironmentVariable("KVNDB_FANOUT_PATHS") is { Length: > 0 } chosen
            ? chosen.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : ["direct", "direct/sockets", "router/1", "router/2", "router/4", "epoll/2", "epoll/2/sleep"];

    /// <summary>
    /// <c>direct</c>: one node, no router (<c>direct/sockets</c>: its link on .NET's sockets); <c>router/N</c>: through the
    /// router to N nodes; <c>epoll/N</c>: the same on <c>--io-engine epoll</c>; <c>epoll/N/sleep</c>: with
    /// <c>--busy-poll 0</c> (epoll threads sleep as soon as they are idle).
    /// </summary>
    [ParamsSource(nameof(Paths))]
    public string Path { get; set; } = "router/1";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        if (Path.StartsWith("direct", StringComparison.Ordinal))
        {
            _direct = new DirectNodeHarness();
            await _direct.StartAsync(ValueSize, engine: Path == "direct/sockets" ? IoEngine.Sockets : null);
            _connection = _direct.Connection!;
        }
        else
        {
            var parts = Path.Split('/');
            var nodes = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            var engine = parts[0] == "epoll" ? IoEngine.Epoll : IoEngine.Sockets;
            var busyPoll = parts is [_, _, "sleep"] ? TimeSpan.Zero : RouterOptions.DefaultBusyPoll;
            _router = await RouterHost.StartAsync(new RouterOptions { Port = 0, EmbeddedNodes = nodes, IoEngine = engine, BusyPoll = busyPoll });
            await _router.WaitForServingNodesAsync(nodes, TimeSpan.FromSeconds(20));
            _connection = await LoadConnection.ConnectAsync("127.0.0.1", _router.Port, new KvnDbWire(), "", keyspace: 0, ValueSize, seed: 1, CancellationToken.None);
        }
        // GET must find its key.
        var errors = await _connection.RunBatchAsync(TestKind.Set, 1, null, CancellationToken.None);
        if (errors != 0)
            throw new InvalidOperationException($"priming SET failed on {Path}");
    }

    [Benchmark]
    public ValueTask<int> Set() => _connection!.RunBatchAsync(TestKind.Set, 1, null, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Get() => _connection!.RunBatchAsync(TestKind.Get, 1, null, CancellationToken.None);

    [Benchmark(OperationsPerInvoke = Pipeline)]
    public ValueTask<int> SetPipelined() => _connection!.RunBatchAsync(TestKind.Set, Pipeline, null, CancellationToken.None);

    [Benchmark(OperationsPerInvoke = Pipeline)]
    public ValueTask<int> GetPipelined() => _connection!.RunBatchAsync(TestKind.Get, Pipeline, null, CancellationToken.None);

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_direct is not null)
            await _direct.DisposeAsync();
        else if (_connection is not null)
            await _connection.DisposeAsync();
        if (_router is not null)
            await _router.DisposeAsync();
    }
}
