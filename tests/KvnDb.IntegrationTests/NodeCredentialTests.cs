using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>Nodes see every write and answer reads, so they have a credential of their own.</summary>
public sealed class NodeCredentialTests
{
    [Fact]
    public async Task With_a_client_password_and_no_node_password_only_embedded_nodes_join()
    {
        await using var router = await RouterHost.StartAsync(new RouterOptions
        {
            Port = 0, Password = "client-pw", EmbeddedNodes = 1, AuthFailureDelay = TimeSpan.Zero, JoinGrace = TimeSpan.FromMilliseconds(50),
        });
        await router.WaitForServingNodesAsync(1, TestCluster.Timeout);

        // The client password is not a node credential: refused and named as such.
        using (var rogue = await RawConnection.ConnectAsync(router.Port))
        {
            await rogue.SendHelloAsync("client-pw", role: ConnectionRole.Node);
            var reply = await rogue.ReadFrameAsync();
            Assert.Equal(StatusCode.AuthFailed, reply!.Value.Header.Status);
            Assert.Contains("client password cannot register a node", reply.Value.Body);
        }
        // No other secret works either: the embedded nodes' secret is random and never leaves the process.
        using (var guess = await RawConnection.ConnectAsync(router.Port))
        {
            await guess.SendHelloAsync("", role: ConnectionRole.Node);
            var reply = await guess.ReadFrameAsync();
            Assert.Equal(StatusCode.AuthFailed, reply!.Value.Header.Status);
            Assert.Contains("--node-password", reply.Value.Body);
        }
        Assert.Equal(1, router.NodeCount);

        await using var client = await KvnDb.Client.KvnDbClient.ConnectAsync(new KvnDb.Client.KvnDbClientOptions { Port = router.Port, Password = "client-pw" });
        await client.SetAsync("k", "from the embedded node");
        Assert.Equal("from the embedded node", await client.GetStringAsync("k"));
    }

    [Fact]
    public async Task A_node_password_equal_to_the_client_password_is_refused_at_start()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            RouterHost.StartAsync(new RouterOptions { Port = 0, Password = "same", NodePassword = "same" }));
        Assert.Contains("must differ", error.Message);
    }

    [Fact]
    public async Task A_node_password_alone_does_not_open_a_non_loopback_address_to_clients()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            RouterHost.StartAsync(new RouterOptions { Host = "0.0.0.0", Port = 0, NodePassword = "node-only" }));
        Assert.Contains("without a client password", error.Message);
    }

    [Fact]
    public async Task Nodes_with_the_node_password_join_and_serve()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { Password = "client-pw", NodePassword = "node-pw" });
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("k", "v");
        Assert.Equal("v", await client.GetStringAsync("k"));
        Assert.Equal(2, cluster.Router.ServingNodeCount);
    }
}
