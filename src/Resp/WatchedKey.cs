namespace KvnDb.Resp;

/// <summary>A key WATCHed by a connection and its version when it was watched (0: absent), known once the nodes answered.</summary>
internal sealed class WatchedKey(byte[] storedKey)
{
    /// <summary>Never a key's version: makes EXEC's guard fail (the watch read itself failed).</summary>
    public const ulong Broken = ulong.MaxValue;

    public byte[] StoredKey { get; } = storedKey;

    public ulong Version { get; set; }
}
