using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Issue 16, "limits are not shared": a router at 128k keys and 1m frames, with embedded and with separate nodes. Its
/// hello announces its limits, nodes and clients adopt them, and a multi-get reply above the frame limit is refused by
/// the node with a status while every link survives.
/// </summary>
public sealed class AnnouncedLimitsTests
{
    private static readonly RouterOptions Limits = new() { MaxKeySize = 128 * 1024, MaxFrameSize = 1 << 20, MaxInFlightPerClient = 512, OutputLimitBytes = 8L << 20 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_router_at_128k_keys_and_1m_frames_is_honoured_by_its_nodes_and_clients(bool embedded)
    {
        await using var cluster = embedded
            ? await TestCluster.StartAsync(nodes: 0, Limits with { EmbeddedNodes = 2 })
            : await TestCluster.StartAsync(nodes: 2, Limits);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        await using var client = await cluster.ConnectAsync();

        var limits = client.Limits!;
        Assert.Equal(1 << 20, limits.MaxFrameSize);
        Assert.Equal(128 * 1024, limits.MaxKeySize);
        Assert.Equal((1 << 20) - WriteLimits.ForwardingHeadroom, limits.MaxRequestBody);
        Assert.Equal(512, limits.MaxInFlight);
        Assert.Equal(8L << 20, limits.OutputLimit);

        // A 100 KB key: sequenced by the router and stored by every node (it used to be refused by both after sequencing).
        var bigKey = new string('k', 100_000);
        await client.SetAsync(bigKey, "v");
        Assert.Equal("v", await client.GetStringAsync(bigKey));

        // Eight values of 200 KB and a missing key: each fits, together they do not fit one reply. The client library
        // asks with More and gets them all, in chunks it puts together in order.
        var keys = Enumerable.Range(0, 8).Select(i => $"big{i}").ToArray();
        for (var i = 0; i < keys.Length; i++)
            await client.SetAsync(keys[i], new string((char)('a' + i), 200_000));
        string[] asked = [.. keys[..3], "missing", .. keys[3..]];
        var values = await client.MultiGetStringsAsync(asked);
        Assert.Equal(asked.Length, values.Length);
        for (var i = 0; i < asked.Length; i++)
        {
            if (asked[i] == "missing")
                Assert.Null(values[i]);
            else
                Assert.Equal(new string((char)('a' + int.Parse(asked[i][3..], System.Globalization.CultureInfo.InvariantCulture)), 200_000), values[i]);
        }

        // On the wire: chunks with More, each within the frame limit, the last without; a request without More (a
        // client that reads no chunks) is refused with a status, as before chunks.
        using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
        await raw.SendHelloAsync();
        Assert.Equal(StatusCode.Ok, (await raw.ReadRawFrameAsync())!.Header.Status);
        await raw.SendAsync(writer => WriteMultiGet(writer, keys, FrameFlags.More, 7));
        var entries = 0u;
        var chunks = 0;
        ReceivedFrame chunk;
        do
        {
            chunk = (await raw.ReadRawFrameAsync())!;
            Assert.Equal(StatusCode.Ok, chunk.Header.Status);
            Assert.True(chunk.Header.BodyLength <= 1 << 20);
            entries += EntriesIn(chunk.Body);
            chunks++;
        }
        while (chunk.Header.HasMore);
        Assert.Equal((uint)keys.Length, entries);
        Assert.InRange(chunks, 2, keys.Length);
        await raw.SendAsync(writer => WriteMultiGet(writer, keys, FrameFlags.None, 8));
        var refused = (await raw.ReadRawFrameAsync())!;
        Assert.Equal(StatusCode.FrameTooLarge, refused.Header.Status);
        Assert.Contains("ask for fewer keys", System.Text.Encoding.UTF8.GetString(refused.Body), StringComparison.Ordinal);

        // Every link survived: both nodes serve, and the keys read back in two smaller multi-gets.
        Assert.Equal(2, cluster.Router.ServingNodeCount);
        Assert.All(await client.MultiGetStringsAsync(keys[..4]), value => Assert.Equal(200_000, value!.Length));
        Assert.All(await client.MultiGetStringsAsync(keys[4..]), value => Assert.Equal(200_000, value!.Length));
        if (!embedded)
            Assert.All(cluster.Nodes, node => Assert.Equal(1, node.Node.ConnectionCount));

        // A body above what the router takes from clients is refused by the client itself, before it is sent.
        var tooLarge = await Assert.ThrowsAsync<KvnDbProtocolException>(async () => await client.SetAsync("x", new string('v', 1 << 20)));
        Assert.Equal(StatusCode.FrameTooLarge, tooLarge.Status);
        Assert.Contains("announced at hello", tooLarge.Message, StringComparison.Ordinal);
    }

    private static uint EntriesIn(byte[] body)
    {
        Assert.True(MultiGetReply.TryRead(body, out var reply));
        var count = 0u;
        while (reply.TryReadNext(out _, out _))
            count++;
        Assert.True(reply.IsComplete);
        return count;
    }

    private static void WriteMultiGet(System.Buffers.IBufferWriter<byte> output, string[] keys, FrameFlags flags, ulong requestId)
    {
        var bytes = keys.Select(System.Text.Encoding.UTF8.GetBytes).ToArray();
        var writer = new CountedBodyWriter(output, Opcode.MultiGet, flags, requestId, CountedBodyWriter.HeaderSize + bytes.Sum(k => CountedBodyWriter.FieldSize(k.Length)), bytes.Length, 1);
        foreach (var key in bytes)
            writer.Field(key);
        _ = writer.Complete();
    }

    [Fact]
    public async Task A_node_refuses_at_hello_a_router_whose_limits_are_above_its_max_frame_or_max_key()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0, Limits);
        foreach (var (frame, key, named) in new (int?, int?, string)[] { (512 * 1024, null, "--max-frame"), (null, 64 * 1024, "--max-key") })
        {
            var node = TestNode.Start(new NodeOptions { RouterPort = cluster.Router.Port, FrameCeiling = frame, KeyCeiling = key }, new RamStorageEngine(), new NodeIdentity(null));
            var refused = await Assert.ThrowsAsync<NodeFatalException>(() => node.Run.WaitAsync(TestCluster.Timeout));
            Assert.Contains(named, refused.Message, StringComparison.Ordinal);
        }
        // Limits at or above the router's are honoured: the node joins.
        var honest = TestNode.Start(new NodeOptions { RouterPort = cluster.Router.Port, FrameCeiling = 1 << 20, KeyCeiling = 128 * 1024 }, new RamStorageEngine(), new NodeIdentity(null));
        await cluster.Router.WaitForServingNodesAsync(1, TestCluster.Timeout);
        await honest.StopAsync();
    }
}
