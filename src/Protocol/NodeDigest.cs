using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// What a node reports for a digest: live keys, last sequence applied, and an order-independent
/// hash of its content (the sum of a 64-bit hash of every key and value), so equal replicas give
/// equal digests whatever order their stores keep. Encoded as <c>[u64 keys][u64 last sequence][u64 digest]</c>.
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
}
