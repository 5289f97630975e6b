using System.Buffers.Binary;

namespace KvnDb.Node.Storage;

/// <summary>
/// Layout of one write-ahead-log entry: <c>[u8 kind][i32 key length][key][stored value]</c>, where the
/// stored value is exactly what FASTER stores (<see cref="StoredLayout"/>: sequence, optional expiry,
/// value), so one buffer serves both.
/// </summary>
internal static class WalRecord
{
    public const byte SetKind = 1;
    public const byte DeleteKind = 2;

    /// <summary>"Every write up to this sequence is reflected" (end of a sync); no key, no value.</summary>
    public const byte MarkKind = 3;
    public const int KeyOffset = 5;

    public static int Size(int keyLength, int valueLength, long expiresAt = 0) => KeyOffset + keyLength + StoredLayout.HeaderSize(expiresAt) + valueLength;

    /// <summary>Writes the entry; returns the offset of the stored value (its header, then the value).</summary>
    public static int Write(Span<byte> destination, byte kind, ReadOnlySpan<byte> key, ulong sequence, ReadOnlySpan<byte> value, long expiresAt = 0)
    {
        destination[0] = kind;
        BinaryPrimitives.WriteInt32LittleEndian(destination[1..], key.Length);
        key.CopyTo(destination[KeyOffset..]);
        var valueOffset = KeyOffset + key.Length;
        var header = StoredLayout.WriteHeader(destination[valueOffset..], sequence, expiresAt);
        value.CopyTo(destination[(valueOffset + header)..]);
        return valueOffset;
    }

    /// <summary>Parses an entry read back from the log; false if it is not one of ours.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, out byte kind, out ReadOnlySpan<byte> key, out ulong sequence, out ReadOnlySpan<byte> value, out long expiresAt)
    {
        kind = 0;
        key = value = default;
        sequence = 0;
        expiresAt = 0;
        if (entry.Length < KeyOffset + StoredLayout.SequenceSize)
            return false;
        kind = entry[0];
        var keyLength = BinaryPrimitives.ReadInt32LittleEndian(entry[1..]);
        if (kind is not (SetKind or DeleteKind or MarkKind) || keyLength < 0 || keyLength > entry.Length - KeyOffset - StoredLayout.SequenceSize)
            return false;
        key = entry.Slice(KeyOffset, keyLength);
        var stored = entry[(KeyOffset + keyLength)..];
        var header = StoredLayout.ReadHeader(stored, out sequence, out expiresAt);
        if (header < 0)
            return false;
        value = stored[header..];
        return true;
    }
}
