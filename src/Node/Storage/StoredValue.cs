using System.Buffers;

namespace KvnDb.Node.Storage;

/// <summary>A value read from an engine, with the sequence of the write that stored it. Dispose returns pooled memory.</summary>
public readonly struct StoredValue(ReadOnlyMemory<byte> value, ulong sequence, IMemoryOwner<byte>? owner = null) : IDisposable
{
    public ReadOnlyMemory<byte> Value { get; } = value;

    public ulong Sequence { get; } = sequence;

    public void Dispose() => owner?.Dispose();
}
