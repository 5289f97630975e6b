using System.Buffers;
using System.Buffers.Binary;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Protocol;

/// <summary>What a router accepts from a node (docs/protocol.md section 6.1), rule by rule.</summary>
public sealed class NodeReplyRulesTests
{
    private static FrameHeader Reply(Opcode opcode, StatusCode status, int length = 0, FrameFlags flags = FrameFlags.Response) =>
        new(length, opcode, flags, status, 7);

    [Fact]
    public void Headers_a_node_may_send_pass()
    {
        Assert.Null(NodeReplyRules.CheckHeader(Reply(Opcode.Get, StatusCode.Ok, 10)));
        Assert.Null(NodeReplyRules.CheckHeader(Reply(Opcode.ListKeys, StatusCode.Ok, 10, FrameFlags.Response | FrameFlags.More)));
        Assert.Null(NodeReplyRules.CheckHeader(Reply(Opcode.Set, StatusCode.StorageUnavailable, NodeReplyRules.MaxErrorBody)));
        Assert.Null(NodeReplyRules.CheckHeader(new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, 1)));
        Assert.Null(NodeReplyRules.CheckHeader(new FrameHeader(40, Opcode.NodeStatus, FrameFlags.NoReply, StatusCode.Ok, SyncMessages.ControlIdBit)));
    }

    [Fact]
    public void Each_broken_rule_is_named()
    {
        Assert.Contains("request", NodeReplyRules.CheckHeader(new FrameHeader(0, Opcode.Set, FrameFlags.None, StatusCode.Ok, 1)));
        Assert.Contains("status 999", NodeReplyRules.CheckHeader(Reply(Opcode.Get, (StatusCode)999)));
        Assert.Contains("status 11", NodeReplyRules.CheckHeader(Reply(Opcode.Get, StatusCode.AuthFailed, 3)));
        Assert.Contains("More", NodeReplyRules.CheckHeader(Reply(Opcode.Get, StatusCode.Ok, 5, FrameFlags.Response | FrameFlags.More)));
        Assert.Contains("More", NodeReplyRules.CheckHeader(Reply(Opcode.ListKeys, StatusCode.InternalError, 5, FrameFlags.Response | FrameFlags.More)));
        Assert.Contains("error body", NodeReplyRules.CheckHeader(Reply(Opcode.Get, StatusCode.InternalError, NodeReplyRules.MaxErrorBody + 1)));
    }

    [Fact]
    public void Error_bodies_are_bounded_from_the_header_and_values_are_not()
    {
        var size = new NodeReplySize(1 << 20);
        Assert.Equal(NodeReplyRules.MaxErrorBody, size.MaxBodySize(Reply(Opcode.Get, StatusCode.InternalError)));
        Assert.Equal(1 << 20, size.MaxBodySize(Reply(Opcode.Get, StatusCode.Ok)));
        var buffer = new ReadOnlySequence<byte>(Header(Reply(Opcode.Get, StatusCode.InternalError, 60 << 20)));
        Assert.Equal(FrameReadStatus.TooLarge, FrameReader.TryRead(ref buffer, size, out _, out _));
    }

    [Fact]
    public void Read_replies_must_have_their_shape()
    {
        byte[] value = [4, 0, 0, 0, (byte)'a', (byte)'b', (byte)'c', (byte)'d'];
        Assert.True(NodeReplyRules.IsWellFormedRead(Opcode.Get, StatusCode.Ok, value, default));
        Assert.False(NodeReplyRules.IsWellFormedRead(Opcode.Get, StatusCode.Ok, value.AsSpan(0, 7), default));
        Assert.False(NodeReplyRules.IsWellFormedRead(Opcode.Get, StatusCode.NotFound, value, default));
        Assert.True(NodeReplyRules.IsWellFormedRead(Opcode.Get, StatusCode.NotFound, [], default));
        Assert.False(NodeReplyRules.IsWellFormedRead(Opcode.Exists, StatusCode.Ok, value, default));
        Assert.False(NodeReplyRules.IsWellFormedRead(Opcode.Get, StatusCode.ConditionFailed, [], default));

        // A multi-get reply carries exactly one entry per key asked for.
        var request = new byte[ProtocolLimits.HeaderSize + TimedRead.TimeSize + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(ProtocolLimits.HeaderSize + TimedRead.TimeSize), 2);
        byte[] two = [2, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, (byte)'x'];
        Assert.True(NodeReplyRules.IsWellFormedRead(Opcode.MultiGet, StatusCode.Ok, two, request));
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(ProtocolLimits.HeaderSize + TimedRead.TimeSize), 3);
        Assert.False(NodeReplyRules.IsWellFormedRead(Opcode.MultiGet, StatusCode.Ok, two, request));
        Assert.False(NodeReplyRules.IsWellFormedRead(Opcode.MultiGet, StatusCode.NotFound, [], request));

        byte[] chunk = [1, 0, 0, 0, 1, 0, 0, 0, (byte)'k'];
        Assert.True(NodeReplyRules.IsWellFormedRead(Opcode.ListKeys, StatusCode.Ok, chunk, default));
        Assert.False(NodeReplyRules.IsWellFormedRead(Opcode.ListKeys, StatusCode.Ok, [.. chunk, 0], default));
        Assert.True(NodeReplyRules.IsWellFormedRead(Opcode.Get, StatusCode.InternalError, "a message"u8, default));
    }

    [Fact]
    public void A_multi_get_reply_comes_in_chunks_only_when_asked_and_the_chunks_add_up_to_the_keys_asked_for()
    {
        Assert.Null(NodeReplyRules.CheckHeader(Reply(Opcode.MultiGet, StatusCode.Ok, 10, FrameFlags.Response | FrameFlags.More)));
        Assert.Contains("More", NodeReplyRules.CheckHeader(Reply(Opcode.MultiGet, StatusCode.FrameTooLarge, 5, FrameFlags.Response | FrameFlags.More)));

        var asked = new byte[ProtocolLimits.HeaderSize + TimedRead.TimeSize + 4];
        new FrameHeader(12, Opcode.MultiGet, FrameFlags.More, StatusCode.Ok, 1).Write(asked);
        BinaryPrimitives.WriteUInt32LittleEndian(asked.AsSpan(ProtocolLimits.HeaderSize + TimedRead.TimeSize), 3);
        byte[] one = [1, 0, 0, 0, 1, 0, 0, 0, (byte)'x'];
        byte[] two = [2, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, (byte)'y'];
        Assert.True(NodeReplyRules.IsWellFormedMultiGet(one, asked, 0, more: true, out var first));
        Assert.Equal(1u, first);
        Assert.True(NodeReplyRules.IsWellFormedMultiGet(two, asked, 1, more: false, out var last));
        Assert.Equal(2u, last);
        Assert.False(NodeReplyRules.IsWellFormedMultiGet(two, asked, 0, more: false, out _)); // one short
        Assert.False(NodeReplyRules.IsWellFormedMultiGet(two, asked, 2, more: false, out _)); // one too many
        Assert.False(NodeReplyRules.IsWellFormedMultiGet(two, asked, 1, more: true, out _)); // More, yet nothing left
        Assert.False(NodeReplyRules.IsWellFormedMultiGet([0, 0, 0, 0], asked, 0, more: true, out _)); // an empty chunk

        // A request without More is answered in one frame.
        new FrameHeader(12, Opcode.MultiGet, FrameFlags.None, StatusCode.Ok, 1).Write(asked);
        Assert.False(NodeReplyRules.IsWellFormedMultiGet(one, asked, 0, more: true, out _));
        Assert.False(NodeReplyRules.IsWellFormedMultiGet(two, asked, 1, more: false, out _));
    }

    private static byte[] Header(FrameHeader header)
    {
        var bytes = new byte[ProtocolLimits.HeaderSize];
        header.Write(bytes);
        return bytes;
    }
}
