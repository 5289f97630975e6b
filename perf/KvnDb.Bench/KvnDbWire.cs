using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Bench;

/// <summary>
/// The native protocol, written with the Protocol project's message types and read with its
/// <see cref="FrameLoop"/>. With <see cref="SequencedWrites"/> it speaks to a node directly, as the
/// router does: writes are <see cref="SequencedWrite"/>s (used by the direct-node benchmark baseline).
/// </summary>
internal sealed class KvnDbWire(WriteConcern writeConcern = WriteConcern.All, bool sequencedWrites = false) : WireProtocol
{
    private ulong _sequence;

    public bool SequencedWrites => sequencedWrites;

    public override int RequestSize(TestKind test, int keyLength, int valueLength) => test switch
    {
        TestKind.Set or TestKind.Incr or TestKind.SetNx when sequencedWrites => SequencedWrite.FrameLength(BodyLength(test, keyLength, valueLength)),
        TestKind.Get when sequencedWrites => TimedRead.FrameLength(ProtocolLimits.HeaderSize + KeyRequest.BodyLength(keyLength)),
        TestKind.Ping => ProtocolLimits.HeaderSize,
        _ => ProtocolLimits.HeaderSize + BodyLength(test, keyLength, valueLength),
    };

    private static int BodyLength(TestKind test, int keyLength, int valueLength) => test switch
    {
        TestKind.Set => SetRequest.BodyLength(keyLength, valueLength),
        TestKind.Incr => IncrementRequest.BodyLength(keyLength),
        TestKind.SetNx => SetWhenRequest.BodyLength(keyLength, valueLength),
        _ => KeyRequest.BodyLength(keyLength),
    };

    private static Opcode OpcodeOf(TestKind test) => test switch
    {
        TestKind.Set => Opcode.Set,
        TestKind.Incr => Opcode.Increment,
        TestKind.SetNx => Opcode.SetWhen,
        _ => Opcode.Get,
    };

    private static readonly SetWhenHeader IfAbsent = new(WriteCondition.NotExists, SetOptions.None, 0, 0);

    private static void WriteBody(Span<byte> body, TestKind test, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        switch (test)
        {
            case TestKind.Set:
                SetRequest.WriteBody(body, key, value);
                break;
            case TestKind.Incr:
                Span<byte> counter = stackalloc byte[key.Length];
                CounterKey(key, counter);
                IncrementRequest.WriteBody(body, 1, counter);
                break;
            case TestKind.SetNx:
                SetWhenRequest.WriteBody(body, IfAbsent, key, value);
                break;
            default:
                KeyRequest.WriteBody(body, key);
                break;
        }
    }

    public override int WriteRequest(Span<byte> destination, TestKind test, ulong requestId, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var size = RequestSize(test, key.Length, value.Length);
        var flags = FrameFlags.None.WithWriteConcern(writeConcern);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        switch (test)
        {
            case TestKind.Ping:
                new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, requestId).Write(destination);
                break;
            case TestKind.Get when sequencedWrites:
                WriteBody(TimedRead.WritePrefix(destination, Opcode.Get, requestId, now, KeyRequest.BodyLength(key.Length)), test, key, value);
                break;
            case TestKind.Get:
                new FrameHeader(size - ProtocolLimits.HeaderSize, Opcode.Get, FrameFlags.None, StatusCode.Ok, requestId).Write(destination);
                WriteBody(destination[ProtocolLimits.HeaderSize..size], test, key, value);
                break;
            case var _ when sequencedWrites:
                WriteBody(SequencedWrite.WritePrefix(destination, OpcodeOf(test), flags, requestId, Interlocked.Increment(ref _sequence),
                    now, BodyLength(test, key.Length, value.Length)), test, key, value);
                break;
            default:
                new FrameHeader(size - ProtocolLimits.HeaderSize, OpcodeOf(test), flags, StatusCode.Ok, requestId).Write(destination);
                WriteBody(destination[ProtocolLimits.HeaderSize..size], test, key, value);
                break;
        }
        return size;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask ReceiveRepliesAsync(PipeReader input, ReplyBatch batch, CancellationToken cancellationToken)
    {
        var exit = await FrameLoop.RunAsync(input, new Replies(batch), ProtocolLimits.DefaultMaxFrameSize, cancellationToken).ConfigureAwait(false);
        if (exit != FrameLoopExit.Stopped)
            throw new BenchException("the server closed the connection");
    }

    /// <summary>Counts replies (errors by status) until the batch is complete; a request frame where a reply belongs is refused (but for a node's own reports).</summary>
    private readonly struct Replies(ReplyBatch batch) : IFrameHandler
    {
        public FrameAction OnFrame(in FrameHeader header, in ReadOnlySequence<byte> frame)
        {
            // Straight to a node (the direct baseline), the node also sends its storage reports and heartbeats: not replies.
            if (!header.IsResponse && header.Opcode is Opcode.NodeStatus or Opcode.Ping)
                return FrameAction.Continue;
            if (!header.IsResponse)
                throw new InvalidDataException($"expected a response frame, got a request ({header.Opcode})");
            return batch.OnReply(header.Status.IsError()) ? FrameAction.Stop : FrameAction.Continue;
        }

        public ValueTask OnFrameAsync(FrameHeader header, ReadOnlySequence<byte> frame, CancellationToken cancellationToken) => default;

        public ValueTask OnBatchEndAsync(CancellationToken cancellationToken) => default;

        public ValueTask OnPausedAsync(CancellationToken cancellationToken) => default;

        public void OnFrameTooLarge(in FrameHeader header) =>
            throw new InvalidDataException($"reply claims a body of {(uint)header.BodyLength} bytes, above the frame limit");
    }

    public override async Task HandshakeAsync(LoadConnection connection, string password, CancellationToken cancellationToken)
    {
        var request = new ArrayBufferWriter<byte>();
        HelloRequest.ForClient(password).Write(request, 0);
        await connection.SendAsync(request.WrittenMemory, cancellationToken).ConfigureAwait(false);
        var reply = await ReceiveOneAsync(connection, cancellationToken).ConfigureAwait(false);
        if (reply.Header.Status != StatusCode.Ok)
            throw new BenchException($"the router refused the hello: {reply.Header.Status}: {ErrorReply.Read(reply.Body)}");
    }

    /// <summary>The router's <c>info</c> text.</summary>
    public static async Task<string> InfoAsync(LoadConnection connection, CancellationToken cancellationToken)
    {
        var request = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(0, Opcode.Info, FrameFlags.None, StatusCode.Ok, ulong.MaxValue).Write(request);
        await connection.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var reply = await ReceiveOneAsync(connection, cancellationToken).ConfigureAwait(false);
        return Encoding.UTF8.GetString(reply.Body);
    }

    private static async Task<ReceivedFrame> ReceiveOneAsync(LoadConnection connection, CancellationToken cancellationToken) =>
        await FrameLoop.ReadFrameAsync(connection.Input, ProtocolLimits.DefaultMaxFrameSize, cancellationToken).ConfigureAwait(false)
            ?? throw new BenchException("the server closed the connection");
}
