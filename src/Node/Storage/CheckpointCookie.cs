using System.Buffers.Binary;

namespace KvnDb.Node.Storage;

/// <summary>
/// What the <c>faster</c> engine writes into each checkpoint's commit cookie: the state exactly at the
/// checkpoint's consistency point (the engine takes it between batches, holding its lock).
/// </summary>
internal readonly record struct CheckpointCookie(ulong LastSequence, long Count)
{
    private const uint Magic = 0x4B564E31; // "KVN1"
    private const int Size = 4 + 8 + 8;

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(4), LastSequence);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(12), Count);
        return bytes;
    }

    public static bool TryParse(ReadOnlySpan<byte> bytes, out CheckpointCookie cookie)
    {
        cookie = default;
        if (bytes.Length != Size || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
            return false;
        cookie = new CheckpointCookie(BinaryPrimitives.ReadUInt64LittleEndian(bytes[4..]), BinaryPrimitives.ReadInt64LittleEndian(bytes[12..]));
        return true;
    }
}
