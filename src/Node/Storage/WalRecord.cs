using System.Buffers.Binary;

namespace KvnDb.Node.Storage;

/// <summary>
/// Layout of one write-ahead-log entry: <c>[u8 kind][i32 key length][key][u64 sequence][value]</c>.
/// The tail <c>[u64 sequence][value]</c> is exactly the value FASTER stores, so one buffer serves both.
/// </summary>
internal static class WalRecord
{
    public const byte SetKind = 1;
    public const byte DeleteKind = 2;

    /// <summary>"Every write up to this sequence is reflected" (end of a sync); no key, no value.</summary>
    public const byte MarkKind = 3;
    public const int KeyOffset = 5;

    public static int Size(int keyLength, int valueLength) => KeyOffset + keyLength + FasterFunctions.SequenceSize + valueLength;

    /// <summary>Writes the entry; returns the offset of the stored value (<c>[u64 sequence][value]</c>).</summary>
    public static int Write(Span<byte> destination, byte kind, ReadOnlySpan<byte> key, ulong sequence, ReadOnlySpan<byte> value)
    {
        destination[0] = kind;
        BinaryPrimitives.WriteInt32LittleEndian(destination[1..], key.Length);
        key.CopyTo(destination[KeyOffset..]);
        var valueOffset = KeyOffset + key.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[valueOffset..], sequence);
        value.CopyTo(destination[(valueOffset + FasterFunctions.SequenceSize)..]);
        return valueOffset;
    }

    /// <summary>Parses an entry read back from the log; false if it is not one of ours.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, out byte kind, out ReadOnlySpan<byte> key, out ulong sequence, out ReadOnlySpan<byte> value)
    {
        kind = 0;
        key = value = default;
        sequence = 0;
        if (entry.Length < KeyOffset + FasterFunctions.SequenceSize)
            return false;
        kind = entry[0];
        var keyLength = BinaryPrimitives.ReadInt32LittleEndian(entry[1..]);
        if (kind is not (SetKind or DeleteKind or MarkKind) || keyLength < 0 || keyLength > entry.Length - KeyOffset - FasterFunctions.SequenceSize)
            return false;
        key = entry.Slice(KeyOffset, keyLength);
        sequence = BinaryPrimitives.ReadUInt64LittleEndian(entry[(KeyOffset + keyLength)..]);
        value = entry[(KeyOffset + keyLength + FasterFunctions.SequenceSize)..];
        return true;
    }
}
