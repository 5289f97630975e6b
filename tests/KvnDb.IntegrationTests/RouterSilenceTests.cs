using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Protocol.Tls;

namespace KvnDb.IntegrationTests;

/// <summary>
/// The node against routers that go quiet: a silent router is gone after the router timeout (the node
/// pings it first), a connect attempt that hangs gives up after the connect timeout, and the hello
/// carries the node's identity and flags.
/// </summary>
public sealed class RouterSilenceTests
{
    private static readonly TimeSpan Timeout = TestCluster.Timeout;

    [Fact]
    public async Task A_silent_router_is_pinged_then_dropped_and_the_node_reconnects()
    {
        await using var router = new FakeRouter();
        var identity = new NodeIdentity(null);
        var node = TestNode.Start(new NodeOptions
        {
            RouterPort = router.Port,
            RouterTimeout = TimeSpan.FromMilliseconds(900),
            MinReconnectDelay = TimeSpan.FromMilliseconds(10),
            Embedded = true,
        }, new RamStorageEngine(), identity);
        try
        {
            var first = await router.NextPeerAsync();
            var hello = await first.AnswerHelloAsync();
            Assert.True(HelloRequest.TryRead(hello, out var fields));
            Assert.Equal(ConnectionRole.Node, fields.Role);
            Assert.Equal(identity.NodeId, fields.NodeId);
            Assert.Equal(NodeHelloFlags.Embedded, fields.Flags);

            // The node answers the router's pings while the router speaks...
            const ulong routerPing = SyncMessages.ControlIdBit | 5;
            await first.SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, routerPing)));
            var pong = await first.ReadFrameAsync();
            Assert.Equal((Opcode.Ping, true, routerPing), (pong!.Value.Header.Opcode, pong.Value.Header.IsResponse, pong.Value.Header.RequestId));

            // ...then, with the router silent, asks once itself, and gives the link up.
            var ping = await first.ReadFrameAsync();
            Assert.NotNull(ping);
            Assert.Equal(Opcode.Ping, ping.Value.Header.Opcode);
            Assert.False(ping.Value.Header.IsResponse);
            Assert.NotEqual(0UL, ping.Value.Header.RequestId & SyncMessages.ControlIdBit);
            Assert.Null(await first.ReadFrameAsync()); // closed by the node

            var second = await router.NextPeerAsync();
            Assert.True(HelloRequest.TryRead(await second.AnswerHelloAsync(), out var again));
            Assert.Equal(identity.NodeId, again.NodeId); // same process, same node
        }
        finally
        {
            await node.StopAsync();
        }
    }

    [Fact]
    public async Task A_router_whose_pings_are_answered_keeps_the_link()
    {
        await using var router = new FakeRouter();
        var node = TestNode.Start(new NodeOptions { RouterPort = router.Port, RouterTimeout = TimeSpan.FromMilliseconds(600) }, new RamStorageEngine(), new NodeIdentity(null));
        try
        {
            var peer = await router.NextPeerAsync();
            await peer.AnswerHelloAsync();
            peer.Serve(answerPings: true);
            // Five of the node's own pings, each answered, span more than three router timeouts on one link.
            for (var i = 0; i < 5; i++)
                Assert.Equal(Opcode.Ping, (await peer.NextFrameAsync())?.Opcode);
            Assert.Equal(1, router.Accepted);
            Assert.Equal(1, node.Node.ConnectionCount);
        }
        finally
        {
            await node.StopAsync();
        }
    }

    [Fact]
    public async Task A_connect_attempt_that_hangs_gives_up_after_the_connect_timeout()
    {
        // The listener accepts but never speaks, so the TLS handshake of each attempt hangs.
        await using var router = new FakeRouter();
        var node = TestNode.Start(new NodeOptions
        {
            RouterPort = router.Port,
            Tls = new TlsClientSettings { PinnedSha256 = new string('0', 64) },
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
            MinReconnectDelay = TimeSpan.FromMilliseconds(10),
            HandshakeTimeout = TimeSpan.FromMinutes(5),
        }, new RamStorageEngine(), new NodeIdentity(null));
        try
        {
            var first = await router.NextPeerAsync();
            first.Serve(answerPings: false);
            Assert.True(await first.ClosedByPeerAsync()); // the node gave up on this attempt
            await router.NextPeerAsync(); // and tried again
            Assert.Equal(0, node.Node.ConnectionCount);
            Assert.False(node.Run.IsCompleted);
        }
        finally
        {
            await node.StopAsync();
        }
    }
}
