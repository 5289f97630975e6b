using System.IO.Hashing;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// What a request's reply may weigh, known before any node answers it, so that a client's window of requests in flight
/// (<see cref="ReplyWindow"/>) is bounded in bytes and not only in requests: a client that first widens its window with
/// small replies and then asks for large values gets the large ones admitted only as far as its reply budget reaches.
/// The router sees every write, so it keeps, per key hash bucket, the largest value written there (grow-only: deletes
/// and smaller writes never lower it, and keys that share a bucket share the larger estimate). A key the router has
/// never seen written (data from before this router started) counts as the largest value it has seen anywhere, written
/// or answered. Lock-free: a race can only make an estimate late by one write, never lower than it was.
/// </summary>
internal sealed class ReplySizes
{
    private const int BucketBits = 18;

    /// <summary>A listing or scan chunk: at most 256 KiB of keys, plus the key that passes the mark.</summary>
    private const long ListingChunkBytes = 256 * 1024;

    /// <summary>Per bucket: 1 + the largest value size written to a key of it (0: nothing known).</summary>
    private readonly uint[] _buckets = new uint[1 << BucketBits];
    private readonly long _maxFrame;
    private long _largest;

    public ReplySizes(int maxFrameSize) => _maxFrame = Math.Max(ProtocolLimits.HeaderSize, maxFrameSize);

    /// <summary>The largest value seen written, or reply seen sent, anywhere since the start.</summary>
    public long Largest => Volatile.Read(ref _largest);

    /// <summary>The value size this key may have: the bucket's, or <see cref="Largest"/> for a key never seen written.</summary>
    public long ValueEstimate(ReadOnlySpan<byte> key)
    {
        var known = Volatile.Read(ref _buckets[Bucket(key)]);
        return known == 0 ? Largest : known - 1;
    }

    /// <summary>
    /// The reply frame a request may bring, in bytes; 0 for requests whose replies are small and fixed (they never
    /// narrow a window). A body that does not parse counts 0 (it is refused before it is forwarded).
    /// </summary>
    public long Estimate(Opcode opcode, ReadOnlySpan<byte> body)
    {
        var value = EstimateBody(opcode, body);
        return value == 0 ? 0 : Math.Min(_maxFrame, ProtocolLimits.HeaderSize + value);
    }

    private long EstimateBody(Opcode opcode, ReadOnlySpan<byte> body)
    {
        switch (opcode)
        {
            case Opcode.Get or Opcode.GetVersioned or Opcode.GetDelete:
                return KeyRequest.TryRead(body, out var key) ? VersionedGetReply.BodySize(0) + ValueEstimate(key) : 0;
            case Opcode.GetExpire:
                return ExpireRequest.TryRead(body, out _, out _, out _, out var expiring) ? VersionedGetReply.BodySize(0) + ValueEstimate(expiring) : 0;
            case Opcode.SetWhen:
                return SetWhenRequest.TryRead(body, out var header, out var target, out _) && (header.Options & SetOptions.ReturnOld) != 0
                    ? VersionedGetReply.BodySize(0) + ValueEstimate(target)
                    : 0;
            case Opcode.MultiGet:
                if (!MultiGetRequest.TryRead(body, out var keys))
                    return 0;
                long total = MultiGetReply.HeaderSize;
                while (keys.TryReadNext(out var each) && total < _maxFrame)
                    total += MultiGetReply.ValueSize(0) + ValueEstimate(each);
                return total;
            case Opcode.ListKeys or Opcode.ScanKeys:
                return ListingChunkBytes + ProtocolLimits.DefaultMaxKeySize;
            case Opcode.Transaction or Opcode.Batch:
                if (!TransactionRequest.TryRead(body, out var reader))
                    return 0;
                while (reader.TryReadGuard(out _, out _))
                {
                }
                if (!reader.TryBeginOperations())
                    return 0;
                long sum = 4;
                while (reader.TryReadOperation(out var inner, out var operation) && sum < _maxFrame)
                    sum += TransactionReply.EntrySize(0) + EstimateBody(inner, operation);
                return sum;
            default:
                return 0;
        }
    }

    /// <summary>Learns the value sizes a write may leave (before it is sequenced; a write that fails only over-estimates).</summary>
    public void LearnWrite(Opcode opcode, ReadOnlySpan<byte> body)
    {
        switch (opcode)
        {
            case Opcode.Set or Opcode.Append:
                if (SetRequest.TryRead(body, out var key, out var value))
                    Raise(key, opcode == Opcode.Append ? ValueEstimate(key) + value.Length : value.Length);
                break;
            case Opcode.SetWhen:
                if (SetWhenRequest.TryRead(body, out _, out var whenKey, out var whenValue))
                    Raise(whenKey, whenValue.Length);
                break;
            case Opcode.SetRange:
                if (SetRangeRequest.TryRead(body, out var offset, out var rangeKey, out var rangeValue))
                    Raise(rangeKey, Math.Max(ValueEstimate(rangeKey), (long)Math.Min(offset, (ulong)_maxFrame) + rangeValue.Length));
                break;
            case Opcode.CopyKey:
                if (CopyKeyRequest.TryRead(body, out _, out var source, out var destination))
                    Raise(destination, ValueEstimate(source));
                break;
            case Opcode.MultiSet:
                if (MultiSetRequest.TryRead(body, out var pairs))
                {
                    while (pairs.TryReadNext(out var pairKey, out var pairValue))
                        Raise(pairKey, pairValue.Length);
                }
                break;
            case Opcode.Transaction or Opcode.Batch:
                if (!TransactionRequest.TryRead(body, out var reader))
                    break;
                while (reader.TryReadGuard(out _, out _))
                {
                }
                if (!reader.TryBeginOperations())
                    break;
                while (reader.TryReadOperation(out var inner, out var operation))
                    LearnWrite(inner, operation);
                break;
        }
    }

    /// <summary>A reply of <paramref name="bytes"/> went to a client: keys never seen written count at least this much.</summary>
    public void ObserveReply(long bytes)
    {
        if (bytes > Volatile.Read(ref _largest))
            RaiseLargest(bytes);
    }

    private void Raise(ReadOnlySpan<byte> key, long size)
    {
        size = Math.Clamp(size, 0, _maxFrame);
        ref var bucket = ref _buckets[Bucket(key)];
        var stored = (uint)size + 1;
        while (true)
        {
            var known = Volatile.Read(ref bucket);
            if (known >= stored || Interlocked.CompareExchange(ref bucket, stored, known) == known)
                break;
        }
        if (size > Volatile.Read(ref _largest))
            RaiseLargest(size);
    }

    private void RaiseLargest(long size)
    {
        while (true)
        {
            var largest = Volatile.Read(ref _largest);
            if (largest >= size || Interlocked.CompareExchange(ref _largest, size, largest) == largest)
                return;
        }
    }

    private static int Bucket(ReadOnlySpan<byte> key) => (int)(XxHash3.HashToUInt64(key) >> (64 - BucketBits));
}
