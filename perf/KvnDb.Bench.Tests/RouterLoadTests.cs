using KvnDb.Client;
using KvnDb.Router;
using KvnDb.Transport;

namespace KvnDb.Bench.Tests;

/// <summary>The generator against a real router with two real ram nodes on loopback (port 0).</summary>
public sealed class RouterLoadTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private TestCluster? _cluster;

    private RouterHost Router => _cluster?.Router ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { Password = "secret", AuthFailureDelay = TimeSpan.FromMilliseconds(50) }).WaitAsync(Timeout);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync().AsTask().WaitAsync(Timeout);
    }

    private Task<LoadConnection> ConnectAsync(string password = "secret", LoadTransport? transport = null) =>
        LoadConnection.ConnectAsync("127.0.0.1", Router.Port, new KvnDbWire(), password, keyspace: 50, valueSize: 10, seed: 1, CancellationToken.None, transport)
            .WaitAsync(Timeout);

    /// <summary>Both of the generator's socket engines (epoll where this machine has it).</summary>
    public static TheoryData<IoEngine> Engines => EpollNative.IsSupported ? [IoEngine.Sockets, IoEngine.Epoll] : [IoEngine.Sockets];

    [Fact]
    public async Task PipelinedBatchesAreAllAnsweredWithoutErrors()
    {
        await using var connection = await ConnectAsync();
        Assert.Equal(0, await connection.RunBatchAsync(TestKind.Set, 16, null, CancellationToken.None).AsTask().WaitAsync(Timeout));
        Assert.Equal(0, await connection.RunBatchAsync(TestKind.Get, 16, null, CancellationToken.None).AsTask().WaitAsync(Timeout));
        Assert.Equal(0, await connection.RunBatchAsync(TestKind.Ping, 3, null, CancellationToken.None).AsTask().WaitAsync(Timeout));
        Assert.Equal(2, RouterInfo.Parse(await KvnDbWire.InfoAsync(connection, CancellationToken.None).WaitAsync(Timeout)).NodesServing);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task ARunCountsEveryRequestAndTheRouterSawThemAll(IoEngine engine)
    {
        using var transport = new LoadTransport(engine, threads: 2);
        var options = new BenchOptions { Port = Router.Port, Clients = 4, Requests = 1000, Pipeline = 8, Keyspace = 100, Password = "secret" };
        var connections = new List<LoadConnection>();
        for (var i = 0; i < options.Clients; i++)
            connections.Add(await ConnectAsync(transport: transport));
        var before = RouterInfoSnapshot.Parse(Router.Info);
        var runner = new BenchRunner(options, connections);
        var set = await runner.RunAsync(TestKind.Set, showProgress: false, CancellationToken.None).WaitAsync(Timeout);
        var get = await runner.RunAsync(TestKind.Get, showProgress: false, CancellationToken.None).WaitAsync(Timeout);
        var after = RouterInfoSnapshot.Parse(Router.Info);
        foreach (var result in new[] { set, get })
        {
            Assert.Equal(1000, result.Requests);
            Assert.Equal(0, result.Errors);
            Assert.True(result.RequestsPerSecond > 0);
            Assert.InRange(result.MinMs, 0, result.P50Ms);
            // Percentiles come from HdrHistogram buckets (3 significant digits), so p99 may sit a hair above the exact max.
            Assert.InRange(result.P99Ms, result.P50Ms, result.MaxMs * 1.002 + 0.001);
        }
        // Warm-up batches (2 per connection and test) come on top of the 1000 measured requests.
        var warmup = 2 * options.Clients * options.Pipeline;
        Assert.Equal(1000 + warmup, after.Writes - before.Writes);
        Assert.Equal(1000 + warmup, after.Reads - before.Reads);
        foreach (var connection in connections)
            await connection.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task EitherEngineConnectsByHostName(IoEngine engine)
    {
        using var transport = new LoadTransport(engine);
        // "localhost" may resolve to ::1 first while the router listens on IPv4: every address is tried in turn.
        await using var connection = await LoadConnection.ConnectAsync("localhost", Router.Port, new KvnDbWire(), "secret", keyspace: 0, valueSize: 3, seed: 1,
            CancellationToken.None, transport).WaitAsync(Timeout);
        Assert.Equal(0, await connection.RunBatchAsync(TestKind.Ping, 4, null, CancellationToken.None).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task AWrongPasswordIsReportedWithTheRoutersReason()
    {
        var error = await Assert.ThrowsAsync<BenchException>(() => ConnectAsync("wrong"));
        Assert.Contains("AuthFailed", error.Message, StringComparison.Ordinal);
    }
}
