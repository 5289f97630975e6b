using System.Buffers;
using System.Runtime.InteropServices;
using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>
/// Groups listed keys into <see cref="KeyListChunk"/> frames flagged More; the last frame (possibly
/// empty) has no More flag and ends the stream.
/// </summary>
internal sealed class KeyChunkWriter(IBufferWriter<byte> output, ulong requestId, int keysPerChunk)
{
    private const int MaxChunkBytes = 256 * 1024;
    private readonly List<byte[]> _keys = new(keysPerChunk);
    private int _bytes;

    /// <summary>Adds a key; returns true when a chunk was written and is worth flushing.</summary>
    public bool Add(byte[] key)
    {
        _keys.Add(key);
        _bytes += KeyListChunk.KeySize(key.Length);
        if (_keys.Count < keysPerChunk && _bytes < MaxChunkBytes)
            return false;
        Write(more: true);
        return true;
    }

    public void Finish() => Write(more: false);

    private void Write(bool more)
    {
        KeyListChunk.Write(output, requestId, more, CollectionsMarshal.AsSpan(_keys));
        _keys.Clear();
        _bytes = 0;
    }
}
