using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>
/// What keeps a router group's failover short (issue 17: writes resume within 3 s of the leader's death), each as
/// behaviour rather than time: the new active router adopts as soon as every in-sync node is back instead of waiting out
/// the join grace; a client keeps asking at its shortest delay while standbys answer (the group is electing); a node goes
/// on to the next router of its list at once when one cannot be reached. Each test sets the wait it removes (grace,
/// backoff) far beyond the test's timeout, so it fails without its rule.
/// </summary>
public sealed class RouterGroupFailoverSpeedTests
{
    private static readonly TimeSpan Forever = TimeSpan.FromHours(1);

    [Fact]
    public async Task A_restarted_router_adopts_at_once_when_every_in_sync_node_is_back()
    {
        using var data = new TempDirectory();
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { DataDirectory = data.Path });
        await using (var client = await cluster.ConnectAsync())
            await client.SetAsync("k", "v");

        // Both nodes are in the durable in-sync set and come back: no grace can gather a better source of truth.
        await cluster.RestartRouterAsync(options: o => o with { JoinGrace = Forever });
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);

        await using var after = await cluster.ConnectAsync();
        Assert.Equal("v", await after.GetStringAsync("k"));
    }

    [Fact]
    public async Task A_restarted_router_waits_for_a_missing_in_sync_node_and_adopts_the_moment_it_returns()
    {
        using var data = new TempDirectory();
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { DataDirectory = data.Path });
        await using (var client = await cluster.ConnectAsync())
            await client.SetAsync("k", "v");
        var away = cluster.Nodes[1];

        // The node stops while the router is down: it stays in the durable in-sync set.
        await cluster.RestartRouterAsync(whileStopped: away.StopAsync, options: o => o with { JoinGrace = Forever });
        await Eventually.WaitAsync(() => cluster.Router.ConnectionCounts.Nodes == 1, TestCluster.Timeout, "the present node's link");
        Assert.Equal(0, cluster.Router.ServingNodeCount); // one member is missing: the grace goes on

        cluster.StartNode(away.Engine, identity: away.Node.Identity);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        await using var after = await cluster.ConnectAsync();
        Assert.Equal("v", await after.GetStringAsync("k"));
    }

    [Fact]
    public async Task A_client_keeps_its_shortest_reconnect_delay_while_standbys_answer()
    {
        await using var router = new FakeRouter();
        var options = new KvnDbClientOptions
        {
            Routers = [$"127.0.0.1:{router.Port}"],
            RequestTimeout = TestCluster.Timeout,
            ReconnectMinDelay = TimeSpan.FromMilliseconds(10),
            ReconnectMaxDelay = Forever,
        };
        var connecting = KvnDbClient.ConnectAsync(options);
        var first = await router.NextPeerAsync();
        await first.AnswerHelloAsync();
        await using var client = await connecting.WaitAsync(TestCluster.Timeout);

        await first.DisposeAsync(); // the leader is gone
        // An election: each attempt meets a standby that knows no leader yet. Doubling from 10 ms, the 15th attempt
        // would wait minutes; at the shortest delay it comes at once.
        for (var attempt = 0; attempt < 15; attempt++)
            await (await router.NextPeerAsync()).AnswerHelloAsStandbyAsync();
        var leader = await router.NextPeerAsync();
        await leader.AnswerHelloAsync();
        await client.WaitUntilConnectedAsync().WaitAsync(TestCluster.Timeout);
    }

    [Fact]
    public async Task A_node_tries_the_next_router_at_once_when_one_cannot_be_reached()
    {
        await using var router = new FakeRouter();
        var options = new NodeOptions
        {
            // The first router of the list is gone (nothing listens there): the node must not back off before the next.
            Routers = [new RouterAddress("127.0.0.1", ChildProcess.FreePort()), new RouterAddress("127.0.0.1", router.Port)],
            MinReconnectDelay = Forever,
            MaxReconnectDelay = Forever,
        };
        var node = TestNode.Start(options, new RamStorageEngine(), new NodeIdentity(null));
        try
        {
            var peer = await router.NextPeerAsync();
            var hello = await peer.ReadFrameAsync();
            Assert.Equal(Opcode.Hello, hello?.Header.Opcode);
        }
        finally
        {
            await node.StopAsync();
        }
    }
}
