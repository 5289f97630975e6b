using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Router;

namespace KvnDb.Testing;

/// <summary>
/// A real router on a loopback port chosen by the OS, with in-process nodes that each connect over
/// a real socket and can be stopped one by one.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    /// <summary>What a test waits for anything a cluster does (a start, a reply, a node joining) before it fails.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly List<TestNode> _nodes = [];

    private TestCluster(RouterHost router) => Router = router;

    public RouterHost Router { get; private set; }

    public IReadOnlyList<TestNode> Nodes => _nodes;

    public static async Task<TestCluster> StartAsync(int nodes, RouterOptions? options = null)
    {
        options ??= new RouterOptions();
        // Nodes have a credential of their own: a fixture with a client password gets a node password beside it.
        if (options.Password.Length > 0 && options.NodePassword is null)
            options = options with { NodePassword = options.Password + "-nodes" };
        var router = await RouterHost.StartAsync(options with { Port = 0, JoinGrace = TimeSpan.FromMilliseconds(50) }, TestLogging.Factory).WaitAsync(Timeout);
        var cluster = new TestCluster(router);
        for (var i = 0; i < nodes; i++)
            cluster.StartNode();
        await router.WaitForServingNodesAsync(nodes, Timeout);
        return cluster;
    }

    public TestNode StartNode(IStorageEngine? engine = null, string? password = null, NodeIdentity? identity = null, string? group = null,
        Func<NodeOptions, NodeOptions>? configure = null)
    {
        var options = new NodeOptions
        {
            RouterHost = "127.0.0.1",
            RouterPort = Router.Port,
            Password = password ?? Router.Options.NodePassword ?? "",
            MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
            Group = group ?? KvnDb.Protocol.HelloRequest.DefaultGroup,
        };
        var node = TestNode.Start(configure?.Invoke(options) ?? options, engine ?? new RamStorageEngine(), identity ?? new NodeIdentity(null));
        _nodes.Add(node);
        return node;
    }

    public Task<KvnDbClient> ConnectAsync(string? password = null, TimeSpan? requestTimeout = null) =>
        KvnDbClient.ConnectAsync(new KvnDbClientOptions
        {
            Port = Router.Port,
            Password = password ?? Router.Options.Password,
            RequestTimeout = requestTimeout ?? Timeout,
        }).WaitAsync(Timeout);

    /// <summary>
    /// Stops the router and starts a new one on the same port (nodes reconnect by themselves); <paramref name="whileStopped"/>
    /// runs in between (to look at what the router left on disk), <paramref name="options"/> changes the new router's options.
    /// </summary>
    public async Task RestartRouterAsync(Func<Task>? whileStopped = null, Func<RouterOptions, RouterOptions>? options = null)
    {
        var next = Router.Options with { Port = Router.Port };
        await Router.DisposeAsync().AsTask().WaitAsync(Timeout);
        if (whileStopped is not null)
            await whileStopped();
        Router = await RouterHost.StartAsync(options is null ? next : options(next), TestLogging.Factory).WaitAsync(Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.StopAsync();
        await Router.DisposeAsync().AsTask().WaitAsync(Timeout);
    }
}
