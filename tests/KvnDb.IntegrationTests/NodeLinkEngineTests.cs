using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using KvnDb.Node;
using KvnDb.Router;
using KvnDb.Transport;

namespace KvnDb.IntegrationTests;

/// <summary>
/// The node's link to the router on either socket engine (<c>kvndb-node --io-engine</c>): every write reaches every
/// node, frames larger than any buffer pass both ways, a router that is not there yet is found once it listens, and a
/// router whose frame limit is above what the epoll link buffers is served on .NET's sockets instead.
/// </summary>
public sealed class NodeLinkEngineTests
{
    private static Func<NodeOptions, NodeOptions> On(IoEngine engine) => options => options with { IoEngine = engine };

    [Theory]
    [InlineData(IoEngine.Sockets)]
    [InlineData(IoEngine.Epoll)]
    public async Task Every_write_reaches_both_nodes_and_large_values_pass_both_ways(IoEngine engine)
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0);
        var nodes = new[] { cluster.StartNode(configure: On(engine)), cluster.StartNode(configure: On(engine)) };
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        Assert.All(nodes, node => Assert.Equal(engine, node.Node.LinkEngine));

        // A value of several receive batches goes to both nodes (router to node) and back from one (node to router).
        var big = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 5);
        var clients = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => cluster.ConnectAsync()));
        try
        {
            await clients[0].SetAsync("big"u8.ToArray(), big);
            await Task.WhenAll(clients.Select((client, c) => Task.Run(async () =>
            {
                for (var i = 0; i < 100; i++)
                    await client.SetAsync($"c{c}:k{i}", $"{c}-{i}");
            }))).WaitAsync(TimeSpan.FromMinutes(2));

            for (var c = 0; c < clients.Length; c++)
            {
                var keys = Enumerable.Range(0, 100).Select(i => $"c{c}:k{i}").ToArray();
                Assert.Equal(Enumerable.Range(0, 100).Select(i => $"{c}-{i}"), await clients[c].MultiGetStringsAsync(keys));
            }
            Assert.Equal(big, await clients[1].GetAsync("big"u8.ToArray()));
            // Acknowledged by all (the default concern): each node applied each write.
            Assert.All(nodes, node => Assert.True(node.Node.Writes >= 1 + 8 * 100, $"a node applied {node.Node.Writes} writes"));
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_epoll_node_started_before_its_router_links_once_the_router_listens()
    {
        // A port nobody listens on yet: the node's connects are refused, and it retries.
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        var node = TestNode.Start(new NodeOptions
        {
            RouterHost = "127.0.0.1",
            RouterPort = port,
            IoEngine = IoEngine.Epoll,
            MinReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(100),
        }, new KvnDb.Node.Storage.RamStorageEngine(), new NodeIdentity(null));
        try
        {
            await using var router = await RouterHost.StartAsync(new RouterOptions { Port = port, JoinGrace = TimeSpan.FromMilliseconds(50) }, TestLogging.Factory)
                .WaitAsync(TestCluster.Timeout);
            await router.WaitForServingNodesAsync(1, TestCluster.Timeout);
            Assert.Equal(IoEngine.Epoll, node.Node.LinkEngine);
            Assert.Equal(1, node.Node.ConnectionCount);
        }
        finally
        {
            await node.StopAsync();
        }
    }

    [Fact]
    public async Task A_router_frame_limit_above_the_epoll_links_buffer_is_served_on_sockets()
    {
        // The node buffers frames up to its own limit (256 KiB here) on epoll; this router forwards frames up to 1 MiB.
        await using var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions { MaxFrameSize = 1024 * 1024 });
        var node = cluster.StartNode(configure: options => options with { IoEngine = IoEngine.Epoll, MaxFrameSize = 256 * 1024 });
        await cluster.Router.WaitForServingNodesAsync(1, TestCluster.Timeout);
        Assert.Equal(IoEngine.Sockets, node.Node.LinkEngine);

        var value = RandomNumberGenerator.GetBytes(900 * 1024);
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("large"u8.ToArray(), value);
        Assert.Equal(value, await client.GetAsync("large"u8.ToArray()));
    }
}
