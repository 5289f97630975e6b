using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// What a node reports for a digest: live keys, last sequence applied, and an order-independent
/// hash of its content (the sum of a 64-bit hash of every key and value), so equal replicas give
/// equal digests whatever order their stores keep. Encoded as <c>[u64 keys][u64 last sequence][u64 digest]</c>;
/// it is the whole body of a node's Digest reply and the tail of each <see cref="ClusterDigest"/> entry.
/// </summary>
public readonly record struct NodeDigest(ulong KeyCount, ulong LastSequence, ulong ContentHash)
{
    public const int Size = 24;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, KeyCount);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], LastSequence);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], ContentHash);
    }

    /// <summary>The node's reply frame to a Digest request.</summary>
    public void WriteReply(IBufferWriter<byte> output, ulong requestId)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(Size, Opcode.Digest, FrameFlags.Response, StatusCode.Ok, requestId));
        Write(frame.Rest);
        frame.Skip(Size);
        frame.Complete();
    }

    /// <summary>Reads the first <see cref="Size"/> bytes of <paramref name="source"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out NodeDigest digest)
    {
        digest = default;
        if (source.Length < Size)
            return false;
        digest = new NodeDigest(
            BinaryPrimitives.ReadUInt64LittleEndian(source),
            BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[16..]));
        return true;
    }

    /// <summary>A node's Digest reply body still in the pipe: exactly <see cref="Size"/> bytes.</summary>
    public static bool TryReadReply(in ReadOnlySequence<byte> body, out NodeDigest digest)
    {
        digest = default;
        if (body.Length != Size)
            return false;
        Span<byte> copy = stackalloc byte[Size];
        body.CopyTo(copy);
        return TryRead(copy, out digest);
    }
}
