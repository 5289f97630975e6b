namespace KvnDb.Protocol;

/// <summary>
/// Redis's sixteen databases as namespaced keys: database 0 is the plain keyspace (what native clients
/// see); a key of database N (1 to 15) is stored as <c>[0xFF 'd' 'b' N][key]</c>. Nodes know the layout only
/// to count and flush one database (<see cref="Opcode.KeyCount"/>, <see cref="Opcode.FlushKeys"/>).
/// </summary>
public static class DatabaseKeys
{
    public const int Count = 16;

    /// <summary>The database byte meaning every key (FLUSHALL, the store's whole key count).</summary>
    public const byte All = 0xFF;

    public const int PrefixSize = 4;

    /// <summary>The three bytes every namespaced key starts with (the fourth is the database).</summary>
    public static ReadOnlySpan<byte> Marker => [0xFF, (byte)'d', (byte)'b'];

    /// <summary>Writes database <paramref name="database"/>'s prefix (1 to 15) into <paramref name="destination"/>.</summary>
    public static void WritePrefix(Span<byte> destination, int database)
    {
        Marker.CopyTo(destination);
        destination[3] = (byte)database;
    }

    /// <summary>The database a stored key belongs to: 0 unless it carries a namespace prefix of 1 to 15.</summary>
    public static int DatabaseOf(ReadOnlySpan<byte> storedKey) =>
        storedKey.Length >= PrefixSize && storedKey.StartsWith(Marker) && storedKey[3] is >= 1 and < Count ? storedKey[3] : 0;
}
