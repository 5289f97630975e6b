using FASTER.core;

namespace KvnDb.Node.Storage;

/// <summary>
/// FASTER callbacks for the <c>faster</c> engine. Stored values follow <see cref="StoredLayout"/>;
/// upserts and deletes use FASTER's SpanByte defaults, reads split the sequence and expiry off and copy the
/// value into pooled memory (or nothing, for existence checks).
/// </summary>
internal sealed class FasterFunctions : SpanByteFunctions<SpanByte, FasterReadOutput, Empty>
{
    public const int SequenceSize = StoredLayout.SequenceSize;

    public static readonly FasterFunctions Instance = new();

    public override bool SingleReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref FasterReadOutput dst, ref ReadInfo readInfo)
    {
        Copy(value.AsReadOnlySpan(), ref dst, readInfo.Address);
        return true;
    }

    public override bool ConcurrentReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref FasterReadOutput dst, ref ReadInfo readInfo)
    {
        Copy(value.AsReadOnlySpan(), ref dst, readInfo.Address);
        return true;
    }

    private static void Copy(ReadOnlySpan<byte> stored, ref FasterReadOutput dst, long address)
    {
        dst.Address = address;
        var header = StoredLayout.ReadHeader(stored, out dst.Sequence, out dst.ExpiresAt);
        if (!dst.CopyValue)
            return;
        var value = stored[header..];
        var buffer = PooledValueBuffer.Rent(value.Length);
        value.CopyTo(buffer.Memory.Span);
        dst.Value = buffer;
    }
}
