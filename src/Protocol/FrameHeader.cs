using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// The fixed 16-byte frame header: body length (uint32), opcode, flags, status (uint16),
/// request id (uint64). Little-endian.
/// </summary>
public readonly record struct FrameHeader(int BodyLength, Opcode Opcode, FrameFlags Flags, StatusCode Status, ulong RequestId)
{
    public bool IsResponse => (Flags & FrameFlags.Response) != 0;

    public bool HasMore => (Flags & FrameFlags.More) != 0;

    public int FrameLength => ProtocolLimits.HeaderSize + BodyLength;

    /// <summary>Reads a header; the length is returned as read and must be checked by the caller.</summary>
    public static FrameHeader Read(ReadOnlySpan<byte> source)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(source);
        return new FrameHeader(
            length > int.MaxValue ? -1 : (int)length,
            (Opcode)source[4],
            (FrameFlags)source[5],
            (StatusCode)BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));
    }

    /// <summary>Reads the header at the start of a frame still in the pipe, contiguous or not.</summary>
    public static FrameHeader Read(in ReadOnlySequence<byte> source)
    {
        if (source.FirstSpan.Length >= ProtocolLimits.HeaderSize)
            return Read(source.FirstSpan);
        Span<byte> copy = stackalloc byte[ProtocolLimits.HeaderSize];
        source.Slice(0, ProtocolLimits.HeaderSize).CopyTo(copy);
        return Read(copy);
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)BodyLength);
        destination[4] = (byte)Opcode;
        destination[5] = (byte)Flags;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)Status);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], RequestId);
    }

    /// <summary>Overwrites only the request id of an encoded header (used when forwarding frames).</summary>
    public static void WriteRequestId(Span<byte> header, ulong requestId) =>
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], requestId);
}
