using System.Buffers;
using System.Collections.Concurrent;

namespace KvnDb.Node.Storage;

/// <summary>
/// A value copied out of the store into a pooled array. Both the array (ArrayPool) and this holder
/// (a small bounded queue) are reused, so a read allocates nothing in the steady state.
/// </summary>
internal sealed class PooledValueBuffer : IMemoryOwner<byte>
{
    private const int MaxPooledHolders = 1024;
    private static readonly ConcurrentQueue<PooledValueBuffer> Holders = new();
    private byte[]? _array;
    private int _length;

    private PooledValueBuffer()
    {
    }

    public Memory<byte> Memory => _array is null ? Memory<byte>.Empty : _array.AsMemory(0, _length);

    public static PooledValueBuffer Rent(int length)
    {
        if (!Holders.TryDequeue(out var buffer))
            buffer = new PooledValueBuffer();
        buffer._array = length == 0 ? [] : ArrayPool<byte>.Shared.Rent(length);
        buffer._length = length;
        return buffer;
    }

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is null)
            return; // already returned
        if (array.Length > 0)
            ArrayPool<byte>.Shared.Return(array);
        if (Holders.Count < MaxPooledHolders)
            Holders.Enqueue(this);
    }
}
