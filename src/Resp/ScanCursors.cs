namespace KvnDb.Resp;

/// <summary>
/// SCAN cursors, shared by every RESP connection of the router (a client may continue a scan on
/// another pooled connection). A cursor is a random number naming the last key of the page it
/// ended; the table keeps the most recent <see cref="Capacity"/> cursors and forgets older ones.
/// </summary>
internal sealed class ScanCursors
{
    public const int Capacity = 16 * 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, byte[]> _lastKeys = [];
    private readonly Queue<ulong> _age = new();

    public ulong Add(byte[] lastKey)
    {
        lock (_lock)
        {
            ulong cursor;
            do
            {
                // 53 bits: exact as a double, for clients that parse cursors loosely; never 0 (the end).
                cursor = (ulong)Random.Shared.NextInt64(1, 1L << 53);
            }
            while (_lastKeys.ContainsKey(cursor));
            if (_age.Count >= Capacity)
                _lastKeys.Remove(_age.Dequeue());
            _lastKeys[cursor] = lastKey;
            _age.Enqueue(cursor);
            return cursor;
        }
    }

    public byte[]? Find(ulong cursor)
    {
        lock (_lock)
            return _lastKeys.GetValueOrDefault(cursor);
    }
}
