namespace KvnDb.Protocol;

/// <summary>
/// Redis Cluster's hash slot of a key: CRC16 (XMODEM: polynomial 0x1021, initial value 0, no reflection) of
/// the key, or of its hash tag (the bytes between the first <c>{</c> and the first <c>}</c> after it, when
/// there is at least one), modulo <see cref="Count"/>. SCAN walks keys slot by slot (<see cref="ScanKeysRequest"/>),
/// so the same key has the same place in a scan on every node and in every shard group.
/// </summary>
public static class KeySlot
{
    public const int Count = 16384;

    private static readonly ushort[] Table = BuildTable();

    public static int Of(ReadOnlySpan<byte> key) => Crc16(HashedPart(key)) & (Count - 1);

    /// <summary>The part of the key that is hashed: its hash tag, or all of it.</summary>
    public static ReadOnlySpan<byte> HashedPart(ReadOnlySpan<byte> key)
    {
        var open = key.IndexOf((byte)'{');
        if (open < 0)
            return key;
        var close = key[(open + 1)..].IndexOf((byte)'}');
        return close <= 0 ? key : key.Slice(open + 1, close);
    }

    public static ushort Crc16(ReadOnlySpan<byte> bytes)
    {
        var crc = 0;
        foreach (var b in bytes)
            crc = (crc << 8) ^ Table[((crc >> 8) ^ b) & 0xFF];
        return (ushort)crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = i << 8;
            for (var bit = 0; bit < 8; bit++)
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            table[i] = (ushort)crc;
        }
        return table;
    }
}
