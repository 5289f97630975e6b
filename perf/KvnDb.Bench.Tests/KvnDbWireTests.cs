using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
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
        Assert.True(SequencedWrite.TryRead(buffer.AsSpan(ProtocolLimits.HeaderSize), out _, out _, out var body));
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.Set, body, 1024));
    }

    [Theory]
    [InlineData(StatusCode.Ok, false)]
    [InlineData(StatusCode.NotFound, false)]
    [InlineData(StatusCode.Busy, true)]
    [InlineData(StatusCode.Unavailable, true)]
    public async Task RepliesAreCountedWhenCompleteAndErrorsByStatus(StatusCode status, bool error)
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameWriter.WriteWithField(writer, Opcode.Get, FrameFlags.Response, status, 9, "xxx"u8);
        var bytes = writer.WrittenSpan.ToArray();
        using var connection = new PipeConnection();
        var batch = connection.StartAsync(count: 2);
        // Two replies fed one byte at a time: each is counted only when whole.
        foreach (var b in bytes.Concat(bytes))
            await connection.Pipe.Writer.WriteAsync(new[] { b });
        Assert.Equal(error ? 2 : 0, await batch.WaitAsync(Timeout));
    }

    [Fact]
    public async Task AHeaderClaimingAHugeBodyIsRefusedBeforeItsBodyArrives()
    {
        var header = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(0, Opcode.Get, FrameFlags.Response, StatusCode.Ok, 1).Write(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header, uint.MaxValue);
        using var connection = new PipeConnection();
        var batch = connection.StartAsync(count: 1);
        await connection.Pipe.Writer.WriteAsync(header);
        await Assert.ThrowsAsync<InvalidDataException>(() => batch.WaitAsync(Timeout));
    }

    [Fact]
    public async Task ARequestFrameWhereAReplyIsExpectedIsRefused()
    {
        var header = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(0, Opcode.Info, FrameFlags.None, StatusCode.Ok, 1).Write(header);
        using var connection = new PipeConnection();
        var batch = connection.StartAsync(count: 1);
        await connection.Pipe.Writer.WriteAsync(header);
        await Assert.ThrowsAsync<InvalidDataException>(() => batch.WaitAsync(Timeout));
    }

    [Fact]
    public async Task ANodesStorageReportAndHeartbeatOnADirectLinkArePassedOver()
    {
        var frames = new byte[3 * ProtocolLimits.HeaderSize];
        new FrameHeader(0, Opcode.NodeStatus, FrameFlags.None, StatusCode.Ok, 0).Write(frames);
        new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, 0).Write(frames.AsSpan(ProtocolLimits.HeaderSize));
        new FrameHeader(0, Opcode.Ping, FrameFlags.Response, StatusCode.Ok, 1).Write(frames.AsSpan(2 * ProtocolLimits.HeaderSize));
        using var connection = new PipeConnection();
        var batch = connection.StartAsync(count: 1);
        await connection.Pipe.Writer.WriteAsync(frames);
        await batch.WaitAsync(Timeout);
    }

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Replies fed through an in-memory pipe into the wire's read loop.</summary>
    private sealed class PipeConnection : IDisposable
    {
        private readonly ReplyBatch _batch = new();

        public Pipe Pipe { get; } = new();

        /// <summary>Waits for <paramref name="count"/> replies; the task's result is the error replies.</summary>
        public Task<int> StartAsync(int count)
        {
            _batch.Begin(count, null);
            return Task.Run(async () =>
            {
                await new KvnDbWire().ReceiveRepliesAsync(Pipe.Reader, _batch, CancellationToken.None);
                return _batch.Errors;
            });
        }

        public void Dispose() => Pipe.Reader.Complete();
    }
}
