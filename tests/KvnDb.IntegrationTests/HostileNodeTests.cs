using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Issue 16, "a node's word is trusted": a node is a peer to verify. Each test plays a node by hand that breaks one
/// rule; the router must drop that node with a logged reason, and no client may see what it said.
/// </summary>
public sealed class HostileNodeTests
{
    [Fact]
    public async Task An_unsolicited_SyncEnd_drops_the_syncing_node_instead_of_making_it_serve_without_data()
    {
        // Found from outside: a SyncEnd reply nobody asked for marked a syncing node serving, and 159 of 500 keys then read missing.
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var client = await cluster.ConnectAsync();
        var keys = Enumerable.Range(0, 200).Select(i => $"k{i}").ToArray();
        foreach (var key in keys)
            await client.SetAsync(key, key);

        // It never acknowledges the snapshot it is sent: it claims the end of its sync itself. Its unknown history forces a
        // full sync: caught up by replay instead, it could have acknowledged every write before the test's SyncEnd left,
        // and then the router's own SyncEnd would have made that one legitimate (seen once in 60 runs on a loaded machine).
        await using var hostile = await HostileNode.ConnectAsync(cluster.Router.Port, joins: false, history: Guid.NewGuid());
        var begun = await hostile.SyncBegun.WaitAsync(TestCluster.Timeout);
        Assert.True(SyncBegin.TryRead(begun.Body, out var begin));
        Assert.Equal(SyncMode.Full, begin.Mode);
        await hostile.SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.SyncEnd, FrameFlags.Response, StatusCode.Ok, SyncMessages.ControlIdBit)));

        await hostile.Closed.WaitAsync(TestCluster.Timeout);
        await Eventually.WaitAsync(() => cluster.Router.Info.Contains("it answered a SyncEnd the router never sent", StringComparison.Ordinal),
            what: "the departure shown with its reason");
        // The notice to the node is best effort (a joiner's link may close before it drains); when it came, it says why.
        if (hostile.Closing.IsCompletedSuccessfully)
        {
            var closing = await hostile.Closing;
            Assert.Equal(StatusCode.ProtocolError, closing.Header.Status);
            Assert.Contains("SyncEnd", Encoding.UTF8.GetString(closing.Body), StringComparison.Ordinal);
        }

        Assert.Equal(1, cluster.Router.ServingNodeCount);
        var values = await client.MultiGetStringsAsync(keys);
        Assert.Equal(keys, values);
    }

    public static TheoryData<string> BrokenReadReplies => ["more", "undefined-status", "router-status", "other-opcode", "bad-shape", "huge-error", "extra-ack"];

    [Theory]
    [MemberData(nameof(BrokenReadReplies))]
    public async Task A_serving_node_that_breaks_a_reply_is_dropped_and_the_read_is_answered_by_another_node(string broken)
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { ReadPolicy = ReadPolicy.RoundRobin });
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("k", "the real value");

        await using var hostile = await HostileNode.ConnectAsync(cluster.Router.Port);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout); // it took the snapshot and was admitted
        hostile.ReadReply = frame => Break(broken, frame.Header);
        if (broken == "extra-ack")
        {
            // An acknowledgement of a write it was never sent: it would let a join finish early.
            await hostile.SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Set, FrameFlags.Response, StatusCode.Ok, 12345)));
        }
        else
        {
            // Round robin: of every two reads one goes to the hostile node; each must still read the real value.
            for (var i = 0; i < 4; i++)
                Assert.Equal("the real value", await client.GetStringAsync("k"));
            Assert.True(Volatile.Read(ref hostile.ReadsSeen) > 0);
        }

        var closing = await hostile.Closing.WaitAsync(TestCluster.Timeout);
        Assert.Equal(StatusCode.ProtocolError, closing.Header.Status);
        Assert.StartsWith("the router dropped this node", Encoding.UTF8.GetString(closing.Body), StringComparison.Ordinal);
        await hostile.Closed.WaitAsync(TestCluster.Timeout);
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1, what: "the hostile node gone");
        Assert.Equal("the real value", await client.GetStringAsync("k"));
        Assert.Contains("broke the protocol", cluster.Router.Info, StringComparison.Ordinal);
    }

    /// <summary>A reply to <paramref name="request"/> that breaks one rule.</summary>
    private static Action<IBufferWriter<byte>> Break(string broken, FrameHeader request)
    {
        var forged = Encoding.UTF8.GetBytes("forged by a hostile node");
        var id = request.RequestId;
        return broken switch
        {
            // A Get is one frame: a More flag made the router forward 2,000 frames for one Get and leak its slot.
            "more" => w => FrameWriter.WriteRaw(w, request.Opcode, FrameFlags.Response | FrameFlags.More, StatusCode.Ok, id, Field(forged)),
            "undefined-status" => w => FrameWriter.WriteRaw(w, request.Opcode, FrameFlags.Response, (StatusCode)999, id, Field(forged)),
            "router-status" => w => ErrorReply.Write(w, request.Opcode, id, StatusCode.AuthFailed, "not a node's status"),
            "other-opcode" => w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Exists, FrameFlags.Response, StatusCode.Ok, id)),
            "bad-shape" => w =>
            {
                var body = Field(forged);
                BinaryPrimitives.WriteInt32LittleEndian(body, forged.Length + 100); // a value claiming more than the body holds
                FrameWriter.WriteRaw(w, request.Opcode, FrameFlags.Response, StatusCode.Ok, id, body);
            },
            // Claims a 60 MiB message and sends 16 bytes of it: refused from the header, nothing of it is buffered.
            "huge-error" => w =>
            {
                var span = w.GetSpan(ProtocolLimits.HeaderSize + 16);
                new FrameHeader(60 << 20, request.Opcode, FrameFlags.Response, StatusCode.InternalError, id).Write(span);
                span.Slice(ProtocolLimits.HeaderSize, 16).Fill((byte)'x');
                w.Advance(ProtocolLimits.HeaderSize + 16);
            },
            _ => throw new ArgumentOutOfRangeException(nameof(broken)),
        };
    }

    private static byte[] Field(byte[] value)
    {
        var field = new byte[FrameWriter.FieldSize(value.Length)];
        FrameWriter.WriteField(field, value);
        return field;
    }

    [Fact]
    public async Task A_snapshot_chunk_nobody_asked_for_drops_the_node()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var hostile = await HostileNode.ConnectAsync(cluster.Router.Port);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        // Donor flow control: one chunk in flight per sync, asked for by the router. This one was not.
        await hostile.SendAsync(w =>
        {
            var chunk = new SnapshotChunkWriter(w, SyncMessages.ControlIdBit | 1, new SnapshotChunkHeader(true, 0, 0), 0);
            chunk.Complete();
        });
        var closing = await hostile.Closing.WaitAsync(TestCluster.Timeout);
        Assert.Contains("snapshot chunk", Encoding.UTF8.GetString(closing.Body), StringComparison.Ordinal);
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1, what: "the hostile node gone");
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("after", "fine");
        Assert.Equal("fine", await client.GetStringAsync("after"));
    }

    [Fact]
    public async Task A_node_that_answers_a_write_with_the_wrong_outcome_shape_is_dropped_and_the_write_is_acknowledged_by_the_others()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var hostile = await HostileNode.ConnectAsync(cluster.Router.Port);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        // A Set's acknowledgement has no body: this one carries an outcome no Set has.
        hostile.WriteReply = frame => w => FrameWriter.WriteRaw(w, frame.Header.Opcode, FrameFlags.Response, StatusCode.Ok, frame.Header.RequestId, [1, 2, 3, 4, 5]);
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("k", "v");

        var closing = await hostile.Closing.WaitAsync(TestCluster.Timeout);
        Assert.Contains("does not have the shape of that write's outcome", Encoding.UTF8.GetString(closing.Body), StringComparison.Ordinal);
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1, what: "the hostile node gone");
        Assert.Equal("v", await client.GetStringAsync("k"));
    }

    [Fact]
    public async Task A_node_that_acknowledges_writes_out_of_their_order_is_dropped()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var hostile = await HostileNode.ConnectAsync(cluster.Router.Port);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        // It holds the first write's answer and answers the second one first: an acknowledgement for a write that was not due.
        FrameHeader? held = null;
        hostile.WriteReply = frame =>
        {
            if (held is not { } first)
            {
                held = frame.Header;
                return static _ => { };
            }
            return w =>
            {
                FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, frame.Header.Opcode, FrameFlags.Response, StatusCode.Ok, frame.Header.RequestId));
                FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, first.Opcode, FrameFlags.Response, StatusCode.Ok, first.RequestId));
            };
        };
        await using var client = await cluster.ConnectAsync();
        await Task.WhenAll(client.SetAsync("a", "1").AsTask(), client.SetAsync("b", "2").AsTask()).WaitAsync(TestCluster.Timeout);

        var closing = await hostile.Closing.WaitAsync(TestCluster.Timeout);
        Assert.Contains("was due", Encoding.UTF8.GetString(closing.Body), StringComparison.Ordinal);
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1, what: "the hostile node gone");
        Assert.Equal("1", await client.GetStringAsync("a"));
        Assert.Equal("2", await client.GetStringAsync("b"));
    }

    [Theory]
    [InlineData("short")]
    [InlineData("not-found")]
    public async Task A_node_that_breaks_its_digest_answer_is_dropped_and_the_digest_reports_the_others(string broken)
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var hostile = await HostileNode.ConnectAsync(cluster.Router.Port);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        hostile.DigestReply = frame => broken == "short"
            ? w => FrameWriter.WriteRaw(w, Opcode.Digest, FrameFlags.Response, StatusCode.Ok, frame.Header.RequestId, new byte[5])
            : w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Digest, FrameFlags.Response, StatusCode.NotFound, frame.Header.RequestId));
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("k", "v");
        var entries = await client.DigestAsync().WaitAsync(TestCluster.Timeout);
        Assert.Contains(entries, e => e.State == NodeState.Serving && e.Digest.KeyCount == 1);

        var closing = await hostile.Closing.WaitAsync(TestCluster.Timeout);
        Assert.Contains("digest's shape", Encoding.UTF8.GetString(closing.Body), StringComparison.Ordinal);
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1, what: "the hostile node gone");
    }

    [Fact]
    public async Task An_expiry_probe_answer_nobody_asked_for_drops_the_node()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var hostile = await HostileNode.ConnectAsync(cluster.Router.Port);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout); // its admission's probe was answered (HostileNode)
        await hostile.SendAsync(w => FrameWriter.WriteRaw(w, Opcode.TimeMark, FrameFlags.Response, StatusCode.Ok,
            SyncMessages.ControlIdBit | ((1UL << 62) - 1), new byte[TimeMarkReply.Size]));
        var closing = await hostile.Closing.WaitAsync(TestCluster.Timeout);
        Assert.Contains("expiry probe", Encoding.UTF8.GetString(closing.Body), StringComparison.Ordinal);
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1, what: "the hostile node gone");
    }
}
