using System.Buffers;
using System.Buffers.Binary;
using KvnDb.Protocol;

namespace KvnDb.Bench.Tests;

public sealed class KvnDbWireTests
{
    [Fact]
    public void SetIsAValidFrameWithTheWriteConcernInItsFlags()
    {
        var wire = new KvnDbWire(WriteConcern.One);
        var buffer = new byte[wire.RequestSize(TestKind.Set, 16, 3)];
        Assert.Equal(buffer.Length, wire.WriteRequest(buffer, TestKind.Set, 7, "key:000000000042"u8, "xxx"u8));
        var sequence = new ReadOnlySequence<byte>(buffer);
        Assert.Equal(FrameReadStatus.Complete, FrameReader.TryRead(ref sequence, 1024, out var header, out var frame));
        Assert.Equal(Opcode.Set, header.Opcode);
        Assert.Equal(7UL, header.RequestId);
        Assert.Equal(WriteConcern.One, header.Flags.GetWriteConcern());
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.Set, frame.Slice(ProtocolLimits.HeaderSize).ToArray(), 1024));
        Assert.True(sequence.IsEmpty);
    }

    [Fact]
    public void SequencedWritesCarryAnIncreasingSequenceBeforeTheBody()
    {
        var wire = new KvnDbWire(sequencedWrites: true);
        var buffer = new byte[wire.RequestSize(TestKind.Set, 4, 1)];
        wire.WriteRequest(buffer, TestKind.Set, 1, "abcd"u8, "v"u8);
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(ProtocolLimits.HeaderSize)));
        wire.WriteRequest(buffer, TestKind.Set, 2, "abcd"u8, "v"u8);
        Assert.Equal(2UL, BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(ProtocolLimits.HeaderSize)));
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.Set, buffer.AsSpan(ProtocolLimits.HeaderSize + 8), 1024));
    }

    [Theory]
    [InlineData(StatusCode.Ok, false)]
    [InlineData(StatusCode.NotFound, false)]
    [InlineData(StatusCode.Busy, true)]
    [InlineData(StatusCode.Unavailable, true)]
    public void RepliesAreCountedWhenCompleteAndErrorsByStatus(StatusCode status, bool error)
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameWriter.WriteWithField(writer, Opcode.Get, FrameFlags.Response, status, 9, "xxx"u8);
        var bytes = writer.WrittenSpan.ToArray();
        var wire = new KvnDbWire();
        Assert.Equal(bytes.Length, wire.TryParseReply(bytes, out var isError));
        Assert.Equal(error, isError);
        for (var cut = 0; cut < bytes.Length; cut++)
            Assert.Equal(0, wire.TryParseReply(bytes.AsSpan(0, cut), out _));
    }

    [Fact]
    public void AHeaderClaimingAHugeBodyIsRefusedBeforeItsBodyArrives()
    {
        var header = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(0, Opcode.Get, FrameFlags.Response, StatusCode.Ok, 1).Write(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header, uint.MaxValue);
        Assert.Throws<InvalidDataException>(() => new KvnDbWire().TryParseReply(header, out _));
    }

    [Fact]
    public void ARequestFrameWhereAReplyIsExpectedIsRefused()
    {
        var header = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, 1).Write(header);
        Assert.Throws<InvalidDataException>(() => new KvnDbWire().TryParseReply(header, out _));
    }
}
