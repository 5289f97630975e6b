using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// A write as the router sends it to a node: the client's body with the router's sequence and
/// clock in front, <c>[u64 sequence][i64 router time, Unix ms][client body]</c>, under the client's
/// opcode. The time is the router's (one clock for every replica): nodes judge expiry and compute
/// relative expiries with it, never with their own clock. Nodes answer every one without NoReply, in
/// order, echoing the request id.
/// </summary>
public static class SequencedWrite
{
    public const int SequenceSize = 8;

    /// <summary>Sequence and time.</summary>
    public const int PrefixSize = 16;

    /// <summary>Header, prefix and client body.</summary>
    public static int FrameLength(int clientBodyLength) => ProtocolLimits.HeaderSize + PrefixSize + clientBodyLength;

    /// <summary>Writes the whole frame into <paramref name="destination"/> (at least <see cref="FrameLength"/> bytes).</summary>
    public static void Write(Span<byte> destination, Opcode opcode, FrameFlags flags, ulong requestId, ulong sequence, long time, in ReadOnlySequence<byte> clientBody)
    {
        var body = WritePrefix(destination, opcode, flags, requestId, sequence, time, (int)clientBody.Length);
        clientBody.CopyTo(body);
    }

    /// <summary>
    /// Writes header, sequence and time and returns where the client body goes (exactly its length), for
    /// a writer that encodes the client body in place (the direct-node benchmark).
    /// </summary>
    public static Span<byte> WritePrefix(Span<byte> destination, Opcode opcode, FrameFlags flags, ulong requestId, ulong sequence, long time, int clientBodyLength)
    {
        new FrameHeader(PrefixSize + clientBodyLength, opcode, flags, StatusCode.Ok, requestId).Write(destination);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[ProtocolLimits.HeaderSize..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(destination[(ProtocolLimits.HeaderSize + SequenceSize)..], time);
        return destination.Slice(ProtocolLimits.HeaderSize + PrefixSize, clientBodyLength);
    }

    /// <summary>Splits a node-side write body; the client body is then read with its own message type.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out ulong sequence, out long time, out ReadOnlySpan<byte> clientBody)
    {
        sequence = 0;
        time = 0;
        clientBody = default;
        if (body.Length < PrefixSize)
            return false;
        sequence = BinaryPrimitives.ReadUInt64LittleEndian(body);
        time = BinaryPrimitives.ReadInt64LittleEndian(body[SequenceSize..]);
        clientBody = body[PrefixSize..];
        return true;
    }

    /// <summary>The sequence of an encoded sequenced-write frame (header included), e.g. one held for replay.</summary>
    public static bool TryReadSequence(ReadOnlySpan<byte> frame, out ulong sequence)
    {
        sequence = 0;
        if (frame.Length < ProtocolLimits.HeaderSize + SequenceSize)
            return false;
        sequence = BinaryPrimitives.ReadUInt64LittleEndian(frame[ProtocolLimits.HeaderSize..]);
        return true;
    }
}
