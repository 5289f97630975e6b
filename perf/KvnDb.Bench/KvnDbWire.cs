using System.Buffers.Binary;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Bench;

/// <summary>
/// The native protocol, written with the Protocol project's header and field writers. With
/// <see cref="SequencedWrites"/> it speaks to a node directly, as the router does: writes carry a
/// sequence in front of the body (used by the direct-node benchmark baseline).
/// </summary>
internal sealed class KvnDbWire(WriteConcern writeConcern = WriteConcern.All, bool sequencedWrites = false) : WireProtocol
{
    private ulong _sequence;

    public bool SequencedWrites => sequencedWrites;

    public override int RequestSize(TestKind test, int keyLength, int valueLength) => test switch
    {
        TestKind.Set => ProtocolLimits.HeaderSize + (sequencedWrites ? 8 : 0) + FrameWriter.FieldSize(keyLength) + FrameWriter.FieldSize(valueLength),
        TestKind.Get => ProtocolLimits.HeaderSize + FrameWriter.FieldSize(keyLength),
        _ => ProtocolLimits.HeaderSize,
    };

    public override int WriteRequest(Span<byte> destination, TestKind test, ulong requestId, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var size = RequestSize(test, key.Length, value.Length);
        var bodyLength = size - ProtocolLimits.HeaderSize;
        switch (test)
        {
            case TestKind.Set:
                new FrameHeader(bodyLength, Opcode.Set, FrameFlags.None.WithWriteConcern(writeConcern), StatusCode.Ok, requestId).Write(destination);
                var offset = ProtocolLimits.HeaderSize;
                if (sequencedWrites)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(destination[offset..], Interlocked.Increment(ref _sequence));
                    offset += 8;
                }
                offset += FrameWriter.WriteField(destination[offset..], key);
                FrameWriter.WriteField(destination[offset..], value);
                break;
            case TestKind.Get:
                new FrameHeader(bodyLength, Opcode.Get, FrameFlags.None, StatusCode.Ok, requestId).Write(destination);
                FrameWriter.WriteField(destination[ProtocolLimits.HeaderSize..], key);
                break;
            default:
                new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, requestId).Write(destination);
                break;
        }
        return size;
    }

    public override int TryParseReply(ReadOnlySpan<byte> buffer, out bool isError)
    {
        isError = false;
        if (buffer.Length < ProtocolLimits.HeaderSize)
            return 0;
        var header = FrameHeader.Read(buffer);
        if (header.BodyLength < 0 || header.BodyLength > ProtocolLimits.DefaultMaxFrameSize)
            throw new InvalidDataException($"reply claims a body of {(uint)header.BodyLength} bytes, above the frame limit");
        if (!header.IsResponse)
            throw new InvalidDataException($"expected a response frame, got a request ({header.Opcode})");
        if (buffer.Length < header.FrameLength)
            return 0;
        isError = header.Status.IsError();
        return header.FrameLength;
    }

    public override async Task HandshakeAsync(LoadConnection connection, string password, CancellationToken cancellationToken)
    {
        var request = new System.Buffers.ArrayBufferWriter<byte>();
        HelloRequest.ForClient(password).Write(request, 0);
        await connection.SendAsync(request.WrittenMemory, cancellationToken).ConfigureAwait(false);
        var reply = await connection.ReceiveReplyAsync(cancellationToken).ConfigureAwait(false);
        var header = FrameHeader.Read(reply);
        if (header.Status != StatusCode.Ok)
            throw new BenchException($"the router refused the hello: {header.Status}: {Encoding.UTF8.GetString(reply.AsSpan(ProtocolLimits.HeaderSize))}");
    }

    /// <summary>The router's <c>info</c> text.</summary>
    public static async Task<string> InfoAsync(LoadConnection connection, CancellationToken cancellationToken)
    {
        var request = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(0, Opcode.Info, FrameFlags.None, StatusCode.Ok, ulong.MaxValue).Write(request);
        await connection.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var reply = await connection.ReceiveReplyAsync(cancellationToken).ConfigureAwait(false);
        return Encoding.UTF8.GetString(reply.AsSpan(ProtocolLimits.HeaderSize));
    }
}
