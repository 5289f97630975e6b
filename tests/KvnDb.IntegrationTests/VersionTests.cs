using System.Buffers;
using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A peer of another protocol version is refused at hello with a status it prints, in both directions,
/// never let through to fail later on an opcode it does not know (issue 19).
/// </summary>
public sealed class VersionTests
{
    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    [Fact]
    public async Task A_version_2_node_is_refused_at_hello_with_version_mismatch()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0);
        using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
        await raw.SendAsync(Version2NodeHello());
        var reply = await raw.ReadFrameAsync();
        Assert.Equal(StatusCode.VersionMismatch, reply!.Value.Header.Status);
        Assert.Contains($"router speaks {ProtocolLimits.Version}, peer sent 2", reply.Value.Body);
        Assert.True(await raw.IsClosedByPeerAsync());
        Assert.Equal(0, cluster.Router.NodeCount);
    }

    [Fact]
    public async Task A_node_refused_by_an_older_router_logs_why_and_exits_non_zero()
    {
        await using var router = new FakeRouter();
        await using var node = NodeProcess.Start(router.Port, ["--engine", "ram"]);
        await using (var peer = await router.NextPeerAsync())
            await peer.RefuseAsVersion2RouterAsync();
        Assert.Equal(1, await node.WaitForExitAsync(Timeout));
        Assert.Contains("VersionMismatch", node.Output);
        Assert.Contains($"router speaks 2, peer sent {ProtocolLimits.Version}", node.Output);
        Assert.Equal(1, router.Accepted); // refused for good: no retry loop against a router it cannot speak to
    }

    [Fact]
    public async Task A_router_answering_ok_in_another_layout_or_version_is_refused_by_the_node_and_the_client()
    {
        await using var router = new FakeRouter();
        var node = new DatabaseNode(new NodeOptions { RouterPort = router.Port }, new RamStorageEngine(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        var run = node.RunAsync(CancellationToken.None);
        await using (var peer = await router.NextPeerAsync())
        {
            var hello = await peer.ReadFrameAsync();
            // A version 2 router's Ok: [u16 version][u64 connection id], no limits.
            await peer.SendAsync(w => FrameWriter.WriteRaw(w, Opcode.Hello, FrameFlags.Response, StatusCode.Ok, hello!.Value.Header.RequestId, [2, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
            var fatal = await Assert.ThrowsAsync<NodeFatalException>(() => run.WaitAsync(Timeout));
            Assert.Contains("layout this node", fatal.Message);
        }

        var connecting = KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, RequestTimeout = Timeout });
        await using (var peer = await router.NextPeerAsync())
        {
            var hello = await peer.ReadFrameAsync();
            await peer.SendAsync(w => new HelloResponse(ProtocolLimits.Version + 1, 1, 1 << 20, 1024).Write(w, hello!.Value.Header.RequestId));
            var mismatch = await Assert.ThrowsAsync<KvnDbVersionMismatchException>(() => connecting.WaitAsync(Timeout));
            Assert.Contains($"router speaks {ProtocolLimits.Version + 1}", mismatch.Message);
        }
    }

    [Fact]
    public async Task A_client_refused_by_an_older_router_gets_a_version_mismatch_exception()
    {
        await using var router = new FakeRouter();
        var connecting = KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, RequestTimeout = Timeout });
        await using var peer = await router.NextPeerAsync();
        await peer.RefuseAsVersion2RouterAsync();
        var refused = await Assert.ThrowsAsync<KvnDbVersionMismatchException>(() => connecting.WaitAsync(Timeout));
        Assert.Contains("router speaks 2", refused.Message);
    }

    /// <summary>The hello a version 2 node sent: the layout of its day, which has no record limit at the end.</summary>
    private static byte[] Version2NodeHello()
    {
        // [u16 2][u8 role node][field password ""][u64 last sequence][16 history][16 node id][u8 flags]
        byte[] body = [2, 0, (byte)ConnectionRole.Node, 0, 0, 0, 0, .. new byte[8], .. new byte[16], .. Guid.NewGuid().ToByteArray(), 0];
        var writer = new ArrayBufferWriter<byte>();
        FrameWriter.WriteRaw(writer, Opcode.Hello, FrameFlags.None, StatusCode.Ok, 1, body);
        return writer.WrittenSpan.ToArray();
    }
}
