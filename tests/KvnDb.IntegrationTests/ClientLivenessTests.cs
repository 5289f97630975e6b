using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

/// <summary>
/// The client against routers that go quiet without closing anything: it notices, fails what is in
/// flight, fails new calls fast, reconnects by itself and works again with the same client object.
/// Every wait is on an event or a count, bounded by a timeout.
/// </summary>
public sealed class ClientLivenessTests
{
    private static readonly TimeSpan Timeout = TestCluster.Timeout;

    private static KvnDbClientOptions Quick(int port, string password = "") => new()
    {
        Port = port,
        Password = password,
        RequestTimeout = TimeSpan.FromSeconds(60), // far beyond the test's waits: only liveness can end a call early
        PingInterval = TimeSpan.FromMilliseconds(200),
        RouterTimeout = TimeSpan.FromSeconds(1),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(300),
    };

    [Fact]
    public async Task A_client_behind_a_silent_link_fails_fast_and_works_again_after_the_heal()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0);
        // This node's link does not go through the proxy; it waits for the router however long it idles.
        var node = TestNode.Start(new NodeOptions
        {
            RouterPort = cluster.Router.Port,
            Password = (cluster.Router.Options.NodePassword ?? ""),
            RouterTimeout = System.Threading.Timeout.InfiniteTimeSpan,
        }, new RamStorageEngine(), new NodeIdentity(null));
        try
        {
            await cluster.Router.WaitForServingNodesAsync(1, Timeout);
            await using var proxy = new SilenceableProxy(cluster.Router.Port);
            await using var client = await KvnDbClient.ConnectAsync(Quick(proxy.Port, cluster.Router.Options.Password)).WaitAsync(Timeout);
            await client.SetAsync("k", "v").AsTask().WaitAsync(Timeout);
            Assert.True(client.IsConnected);

            proxy.Silence();
            var inFlight = client.GetStringAsync("k").AsTask();
            await Assert.ThrowsAsync<KvnDbConnectionException>(() => inFlight.WaitAsync(Timeout));
            Assert.False(client.IsConnected);
            // Still silent: a new call fails at once instead of waiting out its 60 s timeout.
            await Assert.ThrowsAsync<KvnDbConnectionException>(() => client.GetStringAsync("k").AsTask().WaitAsync(Timeout));

            proxy.Heal();
            await client.WaitUntilConnectedAsync().WaitAsync(Timeout);
            Assert.Equal("v", await client.GetStringAsync("k").AsTask().WaitAsync(Timeout));
            await client.SetAsync("k", "after").AsTask().WaitAsync(Timeout);
            Assert.Equal("after", await client.GetStringAsync("k").AsTask().WaitAsync(Timeout));
            Assert.True(client.ConnectionCount >= 2);
        }
        finally
        {
            await node.StopAsync();
        }
    }

    [Fact]
    public async Task Consecutive_timeouts_drop_the_connection_even_when_pings_are_answered()
    {
        await using var router = new FakeRouter();
        var options = Quick(router.Port) with { RequestTimeout = TimeSpan.FromMilliseconds(200), MaxConsecutiveTimeouts = 3 };
        var connect = KvnDbClient.ConnectAsync(options);
        var first = await router.NextPeerAsync();
        await first.AnswerHelloAsync();
        await using var client = await connect.WaitAsync(Timeout);
        first.Serve(answerPings: true); // alive, but no request is ever answered

        for (var i = 0; i < 3; i++)
            await Assert.ThrowsAsync<KvnDbTimeoutException>(() => client.GetStringAsync($"k{i}").AsTask().WaitAsync(Timeout));

        // The third timeout in a row dropped the connection; the client dials again by itself.
        Assert.True(await first.ClosedByPeerAsync());
        var second = await router.NextPeerAsync();
        await second.AnswerHelloAsync();
        await client.WaitUntilConnectedAsync().WaitAsync(Timeout);
        Assert.Equal(2, client.ConnectionCount);
    }

    [Fact]
    public async Task A_router_that_answers_nothing_at_all_is_dropped_after_the_router_timeout()
    {
        await using var router = new FakeRouter();
        var connect = KvnDbClient.ConnectAsync(Quick(router.Port));
        var first = await router.NextPeerAsync();
        await first.AnswerHelloAsync();
        await using var client = await connect.WaitAsync(Timeout);
        first.Serve(answerPings: false);

        // Idle, the client pings; unanswered, it gives up on the connection and dials again.
        Assert.Equal(Opcode.Ping, (await first.NextFrameAsync())?.Opcode);
        Assert.True(await first.ClosedByPeerAsync());
        var second = await router.NextPeerAsync();
        await second.AnswerHelloAsync();
        await client.WaitUntilConnectedAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task The_client_answers_the_routers_pings()
    {
        await using var router = new FakeRouter();
        var connect = KvnDbClient.ConnectAsync(Quick(router.Port) with { PingInterval = System.Threading.Timeout.InfiniteTimeSpan, RouterTimeout = System.Threading.Timeout.InfiniteTimeSpan });
        var peer = await router.NextPeerAsync();
        await peer.AnswerHelloAsync();
        await using var client = await connect.WaitAsync(Timeout);

        const ulong pingId = SyncMessages.ControlIdBit | 77;
        await peer.SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, pingId)));
        var answer = await peer.ReadFrameAsync();
        Assert.NotNull(answer);
        Assert.Equal(Opcode.Ping, answer.Value.Header.Opcode);
        Assert.True(answer.Value.Header.IsResponse);
        Assert.Equal(StatusCode.Ok, answer.Value.Header.Status);
        Assert.Equal(pingId, answer.Value.Header.RequestId);
        Assert.True(client.IsConnected);
    }
}
