using System.Buffers;

namespace KvnDb.Node.Storage;

/// <summary>
/// A value read from an engine, with the sequence of the write that stored it (the key's version) and
/// its expiry (Unix ms, 0 when none). Dispose returns pooled memory.
/// </summary>
public readonly struct StoredValue(ReadOnlyMemory<byte> value, ulong sequence, IMemoryOwner<byte>? owner = null, long expiresAt = 0) : IDisposable
{
    public ReadOnlyMemory<byte> Value { get; } = value;

    public ulong Sequence { get; } = sequence;

    public long ExpiresAt { get; } = expiresAt;

    public void Dispose() => owner?.Dispose();
}
