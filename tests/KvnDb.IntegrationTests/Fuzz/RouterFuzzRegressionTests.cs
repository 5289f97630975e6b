using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests.Fuzz;

/// <summary>
/// Regression tests for what fuzzing the router found. Size limits: requests a client may legally send
/// whose forwarded form or reply broke the frame limit between router and nodes (with router and nodes
/// on the same limit, as with the defaults, one client could knock every node off the router). And
/// in-flight accounting: a refused request that never released its slot.
/// </summary>
[Collection(FuzzCollection.Name)]
public sealed class RouterFuzzRegressionTests
{
    private const int Limit = 64 * 1024;

    [Fact]
    public async Task Write_with_a_body_at_the_frame_limit_does_not_disconnect_the_nodes()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions { MaxFrameSize = Limit });
        var nodes = StartNodes(cluster, 2);
        try
        {
            await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
            var links = NodeLinkIds(cluster);
            using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
            await raw.SendHelloAsync();
            Assert.Equal(StatusCode.Ok, (await raw.ReadFrameAsync())!.Value.Header.Status);

            // Key and value fill the body exactly to the limit; the router adds its 8-byte sequence when forwarding.
            var key = "big"u8.ToArray();
            var value = new byte[Limit - 8 - key.Length];
            await raw.SendFrameAsync(Opcode.Set, 5, key, value);
            var reply = await raw.ReadFrameAsync();
            Assert.NotNull(reply);
            Assert.Equal(5UL, reply!.Value.Header.RequestId);

            await AssertClusterHealthyAsync(cluster, links);
        }
        finally
        {
            foreach (var node in nodes)
                await node.StopAsync();
        }
    }

    [Fact]
    public async Task MultiGet_whose_reply_exceeds_the_frame_limit_does_not_disconnect_the_nodes()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions { MaxFrameSize = Limit });
        var nodes = StartNodes(cluster, 2);
        try
        {
            await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
            var links = NodeLinkIds(cluster);
            await using var client = await cluster.ConnectAsync();
            var value = new byte[Limit / 2];
            await client.SetAsync("a"u8.ToArray(), value).AsTask().WaitAsync(TestCluster.Timeout);
            await client.SetAsync("b"u8.ToArray(), value).AsTask().WaitAsync(TestCluster.Timeout);

            // Each value fits; both together do not fit in one reply frame.
            try
            {
                await client.MultiGetAsync(["a"u8.ToArray(), "b"u8.ToArray()]).WaitAsync(TestCluster.Timeout);
            }
            catch (KvnDbException)
            {
                // A clear error is the expected answer; losing the nodes is not.
            }

            await AssertClusterHealthyAsync(cluster, links);
        }
        finally
        {
            foreach (var node in nodes)
                await node.StopAsync();
        }
    }

    [Fact]
    public async Task Full_sync_of_records_near_the_frame_limit_keeps_every_chunk_under_it()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions
        {
            MaxFrameSize = Limit, SnapshotChunkBytes = Limit / 4, BacklogBytes = 1024, // too small to replay: the joiner takes a full sync
        });
        var nodes = StartNodes(cluster, 1);
        try
        {
            await cluster.Router.WaitForServingNodesAsync(1, TestCluster.Timeout);
            await using var client = await cluster.ConnectAsync();
            // Small records under the chunk budget, and some as large as a client may write: together they overflow a frame.
            for (var i = 0; i < 8; i++)
                await client.SetAsync($"small/{i}", new string('s', 1024)).AsTask().WaitAsync(TestCluster.Timeout);
            for (var i = 0; i < 3; i++)
            {
                var key = System.Text.Encoding.UTF8.GetBytes($"large/{i}");
                var largest = Limit - ClientSession.ForwardingHeadroom - 8 - key.Length;
                await client.SetAsync(key, new byte[largest]).AsTask().WaitAsync(TestCluster.Timeout);
            }

            // A second node joins by full sync from the first: it must get there without the donor being dropped.
            var links = NodeLinkIds(cluster);
            nodes.AddRange(StartNodes(cluster, 1));
            await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
            Assert.Superset(links.ToHashSet(), NodeLinkIds(cluster).ToHashSet());
            var digests = await client.DigestAsync().WaitAsync(TestCluster.Timeout);
            Assert.Equal(2, digests.Count);
            Assert.Equal(digests[0].Digest, digests[1].Digest);
        }
        finally
        {
            foreach (var node in nodes)
                await node.StopAsync();
        }
    }

    [Fact]
    public async Task Client_frame_above_the_forwarding_headroom_is_refused_and_nodes_stay()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions { MaxFrameSize = Limit });
        var nodes = StartNodes(cluster, 2);
        try
        {
            await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
            var links = NodeLinkIds(cluster);
            using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
            await raw.SendHelloAsync();
            Assert.Equal(StatusCode.Ok, (await raw.ReadFrameAsync())!.Value.Header.Status);
            var key = "k"u8.ToArray();
            await raw.SendFrameAsync(Opcode.Set, 9, key, new byte[Limit - ClientSession.ForwardingHeadroom + 1 - 8 - key.Length]);
            var reply = await raw.ReadFrameAsync();
            Assert.Equal((StatusCode.FrameTooLarge, 9UL), (reply!.Value.Header.Status, reply.Value.Header.RequestId));
            Assert.True(await raw.IsClosedByPeerAsync());
            await AssertClusterHealthyAsync(cluster, links);
        }
        finally
        {
            foreach (var node in nodes)
                await node.StopAsync();
        }
    }

    /// <summary>
    /// Found by the fuzzed pipeline: with the router's request table full, a read flagged NoReply was
    /// refused silently, yet its session counted it in flight forever; after the per-client limit of such
    /// reads the session stopped reading and the connection hung.
    /// </summary>
    [Fact]
    public async Task Refused_NoReply_reads_release_their_in_flight_slots()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { MaxInFlightPerClient = 16, MaxPendingRequests = 1 });
        using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
        await raw.SendHelloAsync();
        Assert.Equal(StatusCode.Ok, (await raw.ReadFrameAsync())!.Value.Header.Status);

        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        for (ulong id = 1; id <= 64; id++)
            FrameWriter.WriteWithField(writer, Opcode.Get, FrameFlags.NoReply, StatusCode.Ok, id, "k"u8);
        FrameWriter.WriteHeaderOnly(writer, new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, 1000));
        await raw.SendAsync(writer.WrittenMemory);

        while (true)
        {
            var reply = await raw.ReadFrameAsync();
            Assert.NotNull(reply);
            if (reply!.Value.Header.Opcode == Opcode.Ping)
                break;
            Assert.True(reply.Value.Header.Status is StatusCode.Busy or StatusCode.NotFound, $"unexpected {reply.Value.Header.Status}");
        }
    }

    private static List<TestNode> StartNodes(TestCluster cluster, int count) =>
        Enumerable.Range(0, count).Select(_ => TestNode.Start(new NodeOptions
        {
            RouterHost = "127.0.0.1",
            RouterPort = cluster.Router.Port,
            MaxFrameSize = Limit,
            MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        }, new RamStorageEngine(), new NodeIdentity(null))).ToList();

    private static int[] NodeLinkIds(TestCluster cluster) => [.. cluster.Router.Cluster.Nodes.Connected.Select(n => n.Id).Order()];

    /// <summary>The same two node links still connected and serving (none dropped and rejoined), and a well-behaved client answered.</summary>
    private static async Task AssertClusterHealthyAsync(TestCluster cluster, int[] links)
    {
        await using var client = await cluster.ConnectAsync(requestTimeout: TimeSpan.FromSeconds(5));
        for (var i = 0; i < 10; i++)
        {
            await client.SetAsync($"after/{i}", $"v{i}").AsTask().WaitAsync(TestCluster.Timeout);
            Assert.Equal($"v{i}", await client.GetStringAsync($"after/{i}").AsTask().WaitAsync(TestCluster.Timeout));
        }
        // A digest is a round trip on every node link: whatever a node sent before its digest reply (a
        // reply too large, an error) has been read by the router by then, so a link it dropped is gone.
        var digests = await client.DigestAsync().WaitAsync(TestCluster.Timeout);
        Assert.Equal(2, digests.Count(d => d.State == NodeState.Serving));
        Assert.Equal(links, NodeLinkIds(cluster));
        Assert.Equal(2, cluster.Router.ServingNodeCount);
    }
}
