using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// A read as the router sends it to a node: <c>[i64 router time, Unix ms][client body]</c> under the
/// client's opcode (Get, Exists, MultiGet, ListKeys, GetVersioned, TimeToLive; and Digest, whose client
/// body is empty). A key whose expiry is before that time is absent for the read, on every node alike,
/// whatever the node's own clock says.
/// </summary>
public static class TimedRead
{
    public const int TimeSize = 8;

    /// <summary>Length of the node-bound frame made from a client frame of <paramref name="clientFrameLength"/> bytes.</summary>
    public static int FrameLength(int clientFrameLength) => clientFrameLength + TimeSize;

    /// <summary>
    /// Writes the node-bound frame for the client's <paramref name="clientFrame"/> (header included) into
    /// <paramref name="destination"/> (at least <see cref="FrameLength"/> bytes); returns its length.
    /// </summary>
    public static int Write(Span<byte> destination, in ReadOnlySequence<byte> clientFrame, long time)
    {
        var header = FrameHeader.Read(clientFrame);
        (header with { BodyLength = header.BodyLength + TimeSize }).Write(destination);
        BinaryPrimitives.WriteInt64LittleEndian(destination[ProtocolLimits.HeaderSize..], time);
        clientFrame.Slice(ProtocolLimits.HeaderSize).CopyTo(destination[(ProtocolLimits.HeaderSize + TimeSize)..]);
        return FrameLength((int)clientFrame.Length);
    }

    /// <summary>Writes header and time; returns where the client body goes (exactly its length), for a writer that encodes it in place (the direct-node benchmark).</summary>
    public static Span<byte> WritePrefix(Span<byte> destination, Opcode opcode, ulong requestId, long time, int clientBodyLength)
    {
        new FrameHeader(TimeSize + clientBodyLength, opcode, FrameFlags.None, StatusCode.Ok, requestId).Write(destination);
        BinaryPrimitives.WriteInt64LittleEndian(destination[ProtocolLimits.HeaderSize..], time);
        return destination.Slice(ProtocolLimits.HeaderSize + TimeSize, clientBodyLength);
    }

    /// <summary>A node-bound frame with an empty client body (Digest).</summary>
    public static void WriteEmpty(IBufferWriter<byte> output, Opcode opcode, ulong requestId, long time)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(TimeSize, opcode, FrameFlags.None, StatusCode.Ok, requestId));
        frame.UInt64((ulong)time);
        frame.Complete();
    }

    /// <summary>Sets a new time in an encoded node-bound frame (a read retried on another node later).</summary>
    public static void Restamp(Span<byte> frame, long time) =>
        BinaryPrimitives.WriteInt64LittleEndian(frame[ProtocolLimits.HeaderSize..], time);

    /// <summary>Splits a node-side read body into the router's time and the client body.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out long time, out ReadOnlySpan<byte> clientBody)
    {
        time = 0;
        clientBody = default;
        if (body.Length < TimeSize)
            return false;
        time = BinaryPrimitives.ReadInt64LittleEndian(body);
        clientBody = body[TimeSize..];
        return true;
    }
}
