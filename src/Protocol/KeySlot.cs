namespace KvnDb.Protocol;

/// <summary>
/// The hash slot of a key, as Redis Cluster computes it: CRC16 (XMODEM: polynomial 0x1021, initial 0, no
/// reflection) of the key modulo <see cref="Count"/>. When the key holds a <c>{hash tag}</c> (a <c>{</c>
/// followed later by a <c>}</c> with at least one byte between), only the bytes between the first <c>{</c> and
/// the first <c>}</c> after it are hashed, so related keys can be put in one slot. A key of a Redis database
/// other than 0 (<see cref="DatabaseKeys"/>) is hashed without its namespace prefix: a key keeps its slot in
/// every database, so MOVE and COPY between databases stay within one group.
/// </summary>
public static class KeySlot
{
    /// <summary>Slots in the key space (Redis Cluster's 16,384).</summary>
    public const int Count = 16384;

    private static readonly ushort[] s_table = BuildTable();

    /// <summary>The slot of a stored key (0 to <see cref="Count"/> − 1).</summary>
    public static int Of(ReadOnlySpan<byte> key)
    {
        if (DatabaseKeys.DatabaseOf(key) != 0)
            key = key[DatabaseKeys.PrefixSize..];
        return Crc16(HashedPart(key)) & (Count - 1);
    }

    /// <summary>The bytes that decide the slot: the hash tag's content when there is one, else the whole key.</summary>
    public static ReadOnlySpan<byte> HashedPart(ReadOnlySpan<byte> key)
    {
        var open = key.IndexOf((byte)'{');
        if (open < 0)
            return key;
        var close = key[(open + 1)..].IndexOf((byte)'}');
        // "{}" or no closing brace: the whole key is hashed (Redis's rule).
        return close <= 0 ? key : key.Slice(open + 1, close);
    }

    /// <summary>CRC16-XMODEM (the CRC Redis Cluster uses; CRC16("123456789") = 0x31C3).</summary>
    public static ushort Crc16(ReadOnlySpan<byte> data)
    {
        var table = s_table;
        ushort crc = 0;
        foreach (var b in data)
            crc = (ushort)((crc << 8) ^ table[((crc >> 8) ^ b) & 0xFF]);
        return crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ushort)(i << 8);
            for (var bit = 0; bit < 8; bit++)
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            table[i] = crc;
        }
        return table;
    }
}
