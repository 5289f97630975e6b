using System.Buffers;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Protocol;

/// <summary>Every message type: its writer's bytes read back by its reader, and every shorter or longer body refused.</summary>
public sealed class MessageTests
{
    private static readonly Guid History = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
    private static readonly Guid Node = Guid.Parse("7c9e6679-7425-40de-944b-e07fc1f90ae7");

    [Fact]
    public void Hello_round_trips_the_node_fields_and_refuses_any_other_length()
    {
        var hello = new HelloRequest(ProtocolLimits.Version, ConnectionRole.Node, "pässword", 42, History, Node,
            NodeHelloFlags.MayHaveLostWrites | NodeHelloFlags.Embedded | NodeHelloFlags.Reset, MaxRecord: (16UL << 20) - 64);
        var (header, body) = Encode(w => hello.Write(w, 5));
        Assert.Equal(Opcode.Hello, header.Opcode);
        Assert.Equal(hello.BodyLength, body.Length);

        Assert.True(HelloRequest.TryRead(body, out var read));
        Assert.Equal(hello.Version, read.Version);
        Assert.Equal(ConnectionRole.Node, read.Role);
        Assert.Equal("pässword", Encoding.UTF8.GetString(read.Password));
        Assert.Equal(42UL, read.LastSequence);
        Assert.Equal(History, read.HistoryId);
        Assert.Equal(Node, read.NodeId);
        Assert.Equal(hello.Flags, read.Flags);
        Assert.Equal((16UL << 20) - 64, read.MaxRecord);

        for (var length = 0; length < body.Length; length++)
            Assert.False(HelloRequest.TryRead(body.AsSpan(0, length), out _));
        Assert.False(HelloRequest.TryRead([.. body, 0], out _));
    }

    [Fact]
    public void Hello_refuses_unknown_roles_and_flags()
    {
        var (_, body) = Encode(w => HelloRequest.ForClient("").Write(w, 1));
        Assert.True(HelloRequest.TryRead(body, out var client));
        Assert.Equal(Guid.Empty, client.NodeId);
        Assert.Equal(NodeHelloFlags.None, client.Flags);
        Assert.Equal(HelloRequest.ClientReadsLimits, client.MaxRecord); // a client's ask for the flow limits in the reply

        var badFlags = body.ToArray();
        badFlags[^9] = 8; // the flags byte sits before the u64 max record
        Assert.False(HelloRequest.TryRead(badFlags, out _));
        badFlags[^9] = 0x80;
        Assert.False(HelloRequest.TryRead(badFlags, out _));
        var badRole = body.ToArray();
        badRole[2] = 3;
        Assert.False(HelloRequest.TryRead(badRole, out _));
    }

    [Fact]
    public void A_version_1_hello_is_malformed_but_its_version_still_reads()
    {
        // v1: [u16 version][u8 role][field password][u64 last sequence][16 history id]
        byte[] v1 = [1, 0, 1, 0, 0, 0, 0, .. new byte[8], .. new byte[16]];
        Assert.False(HelloRequest.TryRead(v1, out _));
        Assert.True(HelloRequest.TryReadVersion(v1, out var version));
        Assert.Equal(1, version);
        Assert.False(HelloRequest.TryReadVersion([1], out _));
    }

    [Fact]
    public void A_version_2_hello_is_malformed_but_its_version_still_reads()
    {
        // v2: [u16 version][u8 role][field password][u64 last sequence][16 history id][16 node id][u8 flags], no max record.
        byte[] v2 = [2, 0, 2, 0, 0, 0, 0, .. new byte[8], .. new byte[16], .. new byte[16], 0];
        Assert.False(HelloRequest.TryRead(v2, out _));
        Assert.True(HelloRequest.TryReadVersion(v2, out var version));
        Assert.Equal(2, version);
    }

    [Fact]
    public void Hello_response_round_trips_the_router_limits()
    {
        var sent = new HelloResponse(ProtocolLimits.Version, 77, MaxFrameSize: 8 << 20, MaxKeySize: 1024);
        var (header, body) = Encode(w => sent.Write(w, 3));
        Assert.True(header.IsResponse);
        Assert.Equal(HelloResponse.BodySize, body.Length);
        Assert.True(HelloResponse.TryRead(body, out var response));
        Assert.Equal(sent, response);
        for (var length = 0; length < body.Length; length++)
            Assert.False(HelloResponse.TryRead(body.AsSpan(0, length), out _));
        // Bytes after the known fields are later additions inside v3: ignored, not refused.
        Assert.True(HelloResponse.TryRead([.. body, 0], out var longer));
        Assert.Equal(sent, longer);
    }

    [Fact]
    public void Hello_response_round_trips_the_flow_limits_a_client_asked_for()
    {
        var sent = new HelloResponse(ProtocolLimits.Version, 77, 8 << 20, 1024, new HelloLimits((8 << 20) - WriteLimits.ForwardingHeadroom, 4096, 128L << 20));
        var (_, body) = Encode(w => sent.Write(w, 3));
        Assert.Equal(HelloResponse.BodySize + HelloLimits.Size, body.Length);
        Assert.True(HelloResponse.TryRead(body, out var response));
        Assert.Equal(sent, response);
        // Cut inside the limits: the short reply is still read (an older router's), the partial limits are not.
        Assert.True(HelloResponse.TryRead(body.AsSpan(0, HelloResponse.BodySize + 4), out var cut));
        Assert.Null(cut.Limits);
        body.AsSpan(HelloResponse.BodySize + 4, 4).Clear(); // max in flight 0: no client could send anything
        Assert.False(HelloResponse.TryRead(body, out _));
    }

    [Fact]
    public void Hello_response_refuses_zero_or_oversized_limits()
    {
        foreach (var (frame, key) in new[] { (0, 1024), (1024, 0) })
        {
            var (_, body) = Encode(w => new HelloResponse(ProtocolLimits.Version, 1, frame, key).Write(w, 1));
            Assert.False(HelloResponse.TryRead(body, out _));
        }
        var (_, huge) = Encode(w => new HelloResponse(ProtocolLimits.Version, 1, 1024, 1024).Write(w, 1));
        huge.AsSpan(10, 4).Fill(0xFF); // max frame 2^32 - 1: more than any frame can be
        Assert.False(HelloResponse.TryRead(huge, out _));
    }

    [Fact]
    public void Sync_control_messages_round_trip_at_exactly_their_size()
    {
        var begin = new SyncBegin(SyncMode.Full, History, 9, TrustedThrough: 100, LiveAfter: 120);
        var (beginHeader, beginBody) = Encode(w => begin.Write(w, SyncMessages.ControlIdBit | 9));
        Assert.Equal(FrameFlags.NoReply, beginHeader.Flags);
        Assert.Equal(SyncBegin.Size, beginBody.Length);
        Assert.True(SyncBegin.TryRead(beginBody, out var readBegin));
        Assert.Equal(begin, readBegin);
        beginBody[0] = 3;
        Assert.False(SyncBegin.TryRead(beginBody, out _));
        beginBody[0] = (byte)SyncMode.Full;

        var (_, endBody) = Encode(w => new SyncEnd(55).Write(w, 1));
        Assert.True(SyncEnd.TryRead(endBody, out var end));
        Assert.Equal(55UL, end.Sequence);

        var (_, readBody) = Encode(w => new SnapshotRead(9, 1 << 20).Write(w, 1));
        Assert.True(SnapshotRead.TryRead(readBody, out var read));
        Assert.Equal(new SnapshotRead(9, 1 << 20), read);

        Assert.False(SyncBegin.TryRead(beginBody.AsSpan(1), out _));
        Assert.False(SyncBegin.TryRead([.. beginBody, 0], out _));
        Assert.False(SyncEnd.TryRead(endBody.AsSpan(1), out _));
        Assert.False(SyncEnd.TryRead([.. endBody, 0], out _));
        Assert.False(SnapshotRead.TryRead(readBody.AsSpan(1), out _));
        Assert.False(SnapshotRead.TryRead([.. readBody, 0], out _));
    }

    [Fact]
    public void A_snapshot_read_budget_above_int_max_reads_as_int_max()
    {
        byte[] body = [.. new byte[8], 0xff, 0xff, 0xff, 0xff];
        Assert.True(SnapshotRead.TryRead(body, out var read));
        Assert.Equal(int.MaxValue, read.MaxBytes);
    }

    [Fact]
    public void Snapshot_chunk_written_by_the_donor_is_read_by_the_joiner_and_its_header_by_the_router()
    {
        (byte[] Key, byte[] Value, ulong Sequence, long ExpiresAt)[] records = [("a"u8.ToArray(), "one"u8.ToArray(), 3, 0), ([], [], 4, 1_700_000_000_000), ("ccc"u8.ToArray(), new byte[300], 9, 0)];
        var recordBytes = records.Sum(r => SnapshotChunkHeader.RecordSize(r.Key.Length, r.Value.Length));
        var (header, body) = Encode(w =>
        {
            var chunk = new SnapshotChunkWriter(w, 11, new SnapshotChunkHeader(Done: true, DonorKeys: 1000, Count: 3), recordBytes);
            foreach (var (key, value, sequence, expiresAt) in records)
                chunk.Add(key, value, sequence, expiresAt);
            chunk.Complete();
        });
        Assert.Equal(Opcode.SnapshotRead, header.Opcode);
        Assert.Equal(SnapshotChunkHeader.Size + recordBytes, body.Length);

        // The router reads only the header, from the pipe, however it is split.
        for (var split = 1; split < SnapshotChunkHeader.Size + 2; split++)
        {
            Assert.True(SnapshotChunkHeader.TryRead(Segments.Create(body.AsMemory(..split), body.AsMemory(split..)), out var forwarded));
            Assert.Equal(new SnapshotChunkHeader(true, 1000, 3), forwarded);
        }

        Assert.True(SnapshotChunkReader.TryRead(body, out var reader));
        var read = new List<(byte[], byte[], ulong, long)>();
        while (reader.TryReadNext(out var key, out var value, out var sequence, out var expiresAt))
            read.Add((key.ToArray(), value.ToArray(), sequence, expiresAt));
        Assert.True(reader.IsComplete);
        Assert.Equal(records.Select(r => (Convert.ToHexString(r.Key), Convert.ToHexString(r.Value), r.Sequence, r.ExpiresAt)),
            read.Select(r => (Convert.ToHexString(r.Item1), Convert.ToHexString(r.Item2), r.Item3, r.Item4)));

        for (var length = SnapshotChunkHeader.Size; length < body.Length; length++)
        {
            Assert.True(SnapshotChunkReader.TryRead(body.AsSpan(0, length), out var truncated));
            while (truncated.TryReadNext(out _, out _, out _, out _))
            {
            }
            Assert.False(truncated.IsComplete);
        }
        Assert.False(SnapshotChunkHeader.TryRead(body.AsSpan(0, SnapshotChunkHeader.Size - 1), out _));
    }

    [Fact]
    public void Snapshot_chunk_writer_refuses_a_record_count_other_than_announced()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Throws<InvalidOperationException>(() =>
        {
            var chunk = new SnapshotChunkWriter(output, 1, new SnapshotChunkHeader(false, 0, 2), SnapshotChunkHeader.RecordSize(1, 1));
            chunk.Add("k"u8, "v"u8, 1, 0);
            chunk.Complete();
        });
    }

    [Fact]
    public void Sequenced_write_puts_the_sequence_and_router_time_before_a_client_body_taken_from_several_segments()
    {
        var (_, client) = Encode(w => SetRequest.Write(w, FrameFlags.None, 1, "key"u8, "value"u8));
        var frame = new byte[SequencedWrite.FrameLength(client.Length)];
        SequencedWrite.Write(frame, Opcode.Set, FrameFlags.None, 0x42, 99, 1_700_000_000_123, Segments.Create(client.AsMemory(..3), client.AsMemory(3..)));

        var header = FrameHeader.Read(frame);
        Assert.Equal(client.Length + SequencedWrite.PrefixSize, header.BodyLength);
        Assert.True(SequencedWrite.TryReadSequence(frame, out var stored));
        Assert.Equal(99UL, stored);
        Assert.True(SequencedWrite.TryRead(frame.AsSpan(ProtocolLimits.HeaderSize), out var sequence, out var time, out var body));
        Assert.Equal(99UL, sequence);
        Assert.Equal(1_700_000_000_123, time);
        Assert.True(SetRequest.TryRead(body, out var key, out var value));
        Assert.Equal("key", Encoding.UTF8.GetString(key));
        Assert.Equal("value", Encoding.UTF8.GetString(value));
        Assert.False(SequencedWrite.TryRead(new byte[15], out _, out _, out _));
    }

    [Fact]
    public void Key_and_set_requests_round_trip_bytes_and_strings_alike()
    {
        var bytes = new byte[KeyRequest.BodyLength(3)];
        KeyRequest.WriteBody(bytes, "kéy"u8[..3]);
        var text = new byte[KeyRequest.BodyLength("k")];
        KeyRequest.WriteBody(text, "k");
        Assert.True(KeyRequest.TryRead(text, out var key));
        Assert.Equal("k", Encoding.UTF8.GetString(key));
        Assert.False(KeyRequest.TryRead([.. text, 0], out _));

        var set = new byte[SetRequest.BodyLength("é", "v")];
        SetRequest.WriteBody(set, "é", "v");
        Assert.True(SetRequest.TryRead(set, out var k, out var v));
        Assert.Equal(("é", "v"), (Encoding.UTF8.GetString(k), Encoding.UTF8.GetString(v)));
        for (var length = 0; length < set.Length; length++)
            Assert.False(SetRequest.TryRead(set.AsSpan(0, length), out _, out _));
    }

    [Fact]
    public void Counted_bodies_are_read_by_the_multi_get_and_multi_set_readers()
    {
        var keys = new[] { "a"u8.ToArray(), "bb"u8.ToArray(), Array.Empty<byte>() };
        var getBody = new byte[CountedBodyWriter.HeaderSize + keys.Sum(k => CountedBodyWriter.FieldSize(k.Length))];
        var get = new CountedBodyWriter(getBody, keys.Length, fieldsPerEntry: 1);
        foreach (var key in keys)
            get.Field(key);
        Assert.Equal(getBody.Length, get.Complete());
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.MultiGet, getBody, 16));
        Assert.True(MultiGetRequest.TryRead(getBody, out var multiGet));
        Assert.Equal(3u, multiGet.Count);
        var readKeys = new List<string>();
        while (multiGet.TryReadNext(out var key))
            readKeys.Add(Convert.ToHexString(key));
        Assert.True(multiGet.IsComplete);
        Assert.Equal(keys.Select(Convert.ToHexString), readKeys);

        var output = new ArrayBufferWriter<byte>();
        var setLength = CountedBodyWriter.HeaderSize + 2 * CountedBodyWriter.FieldSize(1);
        var set = new CountedBodyWriter(output, Opcode.MultiSet, FrameFlags.None, 5, setLength, entries: 1, fieldsPerEntry: 2);
        set.Field("k"u8);
        set.Utf8Field("v");
        set.Complete();
        var setBody = output.WrittenSpan[ProtocolLimits.HeaderSize..].ToArray();
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.MultiSet, setBody, 16));
        Assert.True(MultiSetRequest.TryRead(setBody, out var multiSet));
        Assert.True(multiSet.TryReadNext(out var k, out var v));
        Assert.Equal(("k", "v"), (Encoding.UTF8.GetString(k), Encoding.UTF8.GetString(v)));
        Assert.False(multiSet.TryReadNext(out _, out _));
        Assert.True(multiSet.IsComplete);
    }

    [Fact]
    public void The_largest_record_of_a_write_body_is_its_biggest_key_plus_value()
    {
        var set = new byte[SetRequest.BodyLength(3, 1000)];
        SetRequest.WriteBody(set, "abc", new string('v', 1000));
        Assert.Equal(1003, BodyValidator.LargestRecord(Opcode.Set, set));

        var pairs = new (string Key, int Value)[] { ("a", 10), ("bb", 5000), ("c", 0) };
        var length = CountedBodyWriter.HeaderSize + pairs.Sum(p => CountedBodyWriter.FieldSize(p.Key.Length) + CountedBodyWriter.FieldSize(p.Value));
        var output = new ArrayBufferWriter<byte>();
        var multi = new CountedBodyWriter(output, Opcode.MultiSet, FrameFlags.None, 1, length, entries: pairs.Length, fieldsPerEntry: 2);
        foreach (var (key, value) in pairs)
        {
            multi.Utf8Field(key);
            multi.Field(new byte[value]);
        }
        multi.Complete();
        Assert.Equal(5002, BodyValidator.LargestRecord(Opcode.MultiSet, output.WrittenSpan[ProtocolLimits.HeaderSize..]));

        var delete = new byte[KeyRequest.BodyLength(7)];
        KeyRequest.WriteBody(delete, "deleted");
        Assert.Equal(7, BodyValidator.LargestRecord(Opcode.Delete, delete));
        Assert.Equal(0, BodyValidator.LargestRecord(Opcode.Get, delete));
    }

    [Fact]
    public void Multi_get_reply_marks_missing_keys_and_never_trusts_a_count_past_its_body()
    {
        var bodyLength = MultiGetReply.HeaderSize + MultiGetReply.ValueSize(2) + MultiGetReply.MissingSize + MultiGetReply.ValueSize(0);
        var (header, body) = Encode(w =>
        {
            var reply = new MultiGetReplyWriter(w, 8, 3, bodyLength);
            reply.Add("v1"u8);
            reply.AddMissing();
            reply.Add([]);
            reply.Complete();
        });
        Assert.Equal(Opcode.MultiGet, header.Opcode);
        Assert.True(MultiGetReply.TryRead(body, out var read));
        Assert.Equal(3u, read.Count);
        Assert.True(read.TryReadNext(out var first, out var found) && found && first.SequenceEqual("v1"u8));
        Assert.True(read.TryReadNext(out _, out found) && !found);
        Assert.True(read.TryReadNext(out var empty, out found) && found && empty.IsEmpty);
        Assert.False(read.TryReadNext(out _, out _));
        Assert.True(read.IsComplete);

        byte[] lying = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        Assert.True(MultiGetReply.TryRead(lying, out var liar));
        Assert.Equal(1u, liar.Count);
        Assert.True(liar.TryReadNext(out _, out found) && !found);
        Assert.False(liar.IsComplete);
    }

    [Fact]
    public void Key_list_chunks_round_trip_with_the_more_flag()
    {
        byte[][] keys = ["x"u8.ToArray(), "yy"u8.ToArray()];
        var (more, body) = Encode(w => KeyListChunk.Write(w, 4, more: true, keys));
        Assert.True(more.HasMore);
        Assert.Equal(KeyListChunk.BodyLength(keys), body.Length);
        Assert.True(KeyListChunk.TryRead(body, out var chunk));
        Assert.Equal(2u, chunk.Count);
        Assert.True(chunk.TryReadNext(out var x) && x.SequenceEqual("x"u8));
        Assert.True(chunk.TryReadNext(out var yy) && yy.SequenceEqual("yy"u8));
        Assert.True(chunk.IsComplete);

        var (last, empty) = Encode(w => KeyListChunk.Write(w, 4, more: false, []));
        Assert.False(last.HasMore);
        Assert.True(KeyListChunk.TryRead(empty, out var none) && none.Count == 0 && none.IsComplete);
        Assert.False(KeyListChunk.TryRead(empty.AsSpan(0, 3), out _));
    }

    [Fact]
    public void Value_and_error_replies_read_from_spans_and_from_split_sequences()
    {
        var (header, body) = Encode(w => ValueReply.Write(w, 2, "hello"u8));
        Assert.Equal(Opcode.Get, header.Opcode);
        Assert.True(ValueReply.TryRead(body, out var value) && value.SequenceEqual("hello"u8));
        for (var split = 1; split < body.Length; split++)
        {
            Assert.True(ValueReply.TryRead(Segments.Create(body.AsMemory(..split), body.AsMemory(split..)), out var forwarded));
            Assert.Equal("hello", Encoding.UTF8.GetString(forwarded));
        }
        Assert.False(ValueReply.TryRead(body.AsSpan(0, body.Length - 1), out _));

        var (error, message) = Encode(w => ErrorReply.Write(w, Opcode.Set, 3, StatusCode.KeyTooLarge, "trop grand é"));
        Assert.Equal(StatusCode.KeyTooLarge, error.Status);
        Assert.Equal("trop grand é", ErrorReply.Read(message));
        Assert.Equal("trop grand é", ErrorReply.Read(Segments.Create(message.AsMemory(..2), message.AsMemory(2..))));
    }

    [Fact]
    public void Digests_round_trip_with_membership_and_lag()
    {
        var node = new NodeDigest(10, 20, 0xdead_beef);
        var (reply, nodeBody) = Encode(w => node.WriteReply(w, 6));
        Assert.Equal(Opcode.Digest, reply.Opcode);
        Assert.True(NodeDigest.TryReadReply(Segments.Create(nodeBody.AsMemory(..5), nodeBody.AsMemory(5..)), out var readNode));
        Assert.Equal(node, readNode);
        Assert.False(NodeDigest.TryReadReply(new ReadOnlySequence<byte>(nodeBody, 0, NodeDigest.Size - 1), out _));

        NodeDigestEntry[] entries = [new(1, NodeState.Serving, true, 0, node), new(2, NodeState.Missing, true, 7, default), new(3, NodeState.Suspect, false, 3, node)];
        var (_, clusterBody) = Encode(w => ClusterDigest.WriteReply(w, 6, entries));
        Assert.Equal(ClusterDigest.BodySize(3), clusterBody.Length);
        Assert.True(ClusterDigest.TryRead(clusterBody, out var read));
        Assert.Equal(entries, read);
        Assert.False(ClusterDigest.TryRead(clusterBody.AsSpan(0, clusterBody.Length - 1), out _));
    }

    [Fact]
    public void Node_status_round_trips_and_refuses_unknown_states_cut_bodies_and_trailing_bytes()
    {
        var report = new NodeStatusReport(NodeStorageState.RefusingWrites, NodeCheckpointState.Failed, 1234, 5 << 20, 3, 7, "disque plein: no space left on device");
        var (header, body) = Encode(w => report.Write(w, SyncMessages.ControlIdBit));
        Assert.Equal(Opcode.NodeStatus, header.Opcode);
        Assert.Equal(FrameFlags.NoReply, header.Flags);
        Assert.True(NodeStatusReport.TryRead(body, out var read));
        Assert.Equal(report, read);

        // The trailing key count is optional (a node from before it sends none): only that cut reads, as unknown.
        for (var length = 0; length < body.Length; length++)
            Assert.Equal(length == body.Length - 8, NodeStatusReport.TryRead(body.AsSpan(0, length), out _));
        Assert.True(NodeStatusReport.TryRead(body.AsSpan(0, body.Length - 8), out var old));
        Assert.Equal(NodeStatusReport.Unknown, old!.KeyCount);
        Assert.True(NodeStatusReport.TryRead(Encode(w => (report with { KeyCount = 42 }).Write(w, 1)).Body, out var counted));
        Assert.Equal(42UL, counted!.KeyCount);
        Assert.False(NodeStatusReport.TryRead([.. body, 0], out _));
        var badState = body.ToArray();
        badState[0] = 2;
        Assert.False(NodeStatusReport.TryRead(badState, out _));
        var badCheckpoint = body.ToArray();
        badCheckpoint[1] = 3;
        Assert.False(NodeStatusReport.TryRead(badCheckpoint, out _));

        // A long message is cut by the writer, so a report stays a small frame.
        var (_, longBody) = Encode(w => (report with { Message = new string('é', 5000) }).Write(w, 1));
        Assert.True(NodeStatusReport.TryRead(longBody, out var cut));
        Assert.True(Encoding.UTF8.GetByteCount(cut!.Message) <= NodeStatusReport.MaxMessageBytes);
        Assert.EndsWith("...", cut.Message, StringComparison.Ordinal);
    }

    private static (FrameHeader Header, byte[] Body) Encode(Action<ArrayBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        var header = FrameHeader.Read(output.WrittenSpan);
        Assert.Equal(output.WrittenCount, header.FrameLength);
        return (header, output.WrittenSpan[ProtocolLimits.HeaderSize..].ToArray());
    }
}
