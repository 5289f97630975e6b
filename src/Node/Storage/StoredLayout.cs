using System.Buffers.Binary;

namespace KvnDb.Node.Storage;

/// <summary>
/// How a record's value is stored (FASTER values, write-ahead-log entries, <c>dir</c> files):
/// <c>[u64 sequence][value]</c>, or, when the key expires, <c>[u64 sequence | 1 &lt;&lt; 63][i64 expires at, Unix ms][value]</c>.
/// Sequences never reach 2^63, so the top bit is free to flag the expiry.
/// </summary>
public static class StoredLayout
{
    /// <summary>
    /// Version of the record layout. 1: <c>[u64 sequence][value]</c>. 2: the expiry flag and field above.
    /// A layout-1 record is a valid layout-2 record without expiry, so data folders of layout 1 open
    /// unchanged; a folder written with layout 2 must not be opened by a build that knows only layout 1.
    /// (The data-folder format stamp, when present, records this number.)
    /// </summary>
    public const int RecordLayoutVersion = 2;

    public const ulong ExpiryFlag = 1UL << 63;

    public const int SequenceSize = 8;

    /// <summary>Bytes in front of the value.</summary>
    public static int HeaderSize(long expiresAt) => expiresAt == 0 ? SequenceSize : SequenceSize + 8;

    /// <summary>Writes the header; returns its size (the value follows).</summary>
    public static int WriteHeader(Span<byte> destination, ulong sequence, long expiresAt)
    {
        if (expiresAt == 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination, sequence);
            return SequenceSize;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(destination, sequence | ExpiryFlag);
        BinaryPrimitives.WriteInt64LittleEndian(destination[SequenceSize..], expiresAt);
        return SequenceSize + 8;
    }

    /// <summary>Reads the header of a stored value; returns its size, or -1 when the value is too short to be one.</summary>
    public static int ReadHeader(ReadOnlySpan<byte> stored, out ulong sequence, out long expiresAt)
    {
        sequence = 0;
        expiresAt = 0;
        if (stored.Length < SequenceSize)
            return -1;
        var raw = BinaryPrimitives.ReadUInt64LittleEndian(stored);
        sequence = raw & ~ExpiryFlag;
        if ((raw & ExpiryFlag) == 0)
            return SequenceSize;
        if (stored.Length < SequenceSize + 8)
            return -1;
        expiresAt = BinaryPrimitives.ReadInt64LittleEndian(stored[SequenceSize..]);
        return SequenceSize + 8;
    }

    /// <summary>True when a key with this expiry is gone at <paramref name="now"/> (Redis: expired once the time is past it).</summary>
    public static bool IsExpired(long expiresAt, long now) => expiresAt != 0 && now > expiresAt;
}
