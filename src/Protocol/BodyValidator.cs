namespace KvnDb.Protocol;

/// <summary>
/// Checks the shape of request bodies (fields inside the body, keys within the limit) so a bad
/// request fails alone, with a status, before the router sequences or forwards it.
/// </summary>
public static class BodyValidator
{
    /// <summary>Validates a request body for <paramref name="opcode"/>; returns Ok or the status to answer.</summary>
    public static StatusCode Validate(Opcode opcode, ReadOnlySpan<byte> body, int maxKeySize)
    {
        var reader = new BodyReader(body);
        return opcode switch
        {
            Opcode.Ping or Opcode.Info => reader.IsAtEnd ? StatusCode.Ok : StatusCode.ProtocolError,
            Opcode.Get or Opcode.Exists or Opcode.Delete or Opcode.GetVersioned or Opcode.TimeToLive or Opcode.GetDelete =>
                KeysThenEnd(ref reader, 1, withValues: false, maxKeySize),
            Opcode.ListKeys => ReadPrefix(ref reader, maxKeySize),
            Opcode.Set or Opcode.Append => KeysThenEnd(ref reader, 1, withValues: true, maxKeySize),
            Opcode.MultiGet => Counted(ref reader, withValues: false, maxKeySize),
            Opcode.MultiSet => Counted(ref reader, withValues: true, maxKeySize),
            Opcode.SetWhen => Key(SetWhenRequest.TryRead(body, out var header, out var key, out _) && header.IsValid, key, maxKeySize),
            Opcode.Increment => Key(IncrementRequest.TryRead(body, out _, out var key), key, maxKeySize),
            Opcode.IncrementFloat => Key(FloatIncrementRequest.TryRead(body, out var delta, out var key) && double.IsFinite(delta), key, maxKeySize),
            Opcode.SetRange => Key(SetRangeRequest.TryRead(body, out _, out var key, out _), key, maxKeySize),
            Opcode.Expire => Key(ExpireRequest.TryRead(body, out _, out _, out _, out var key), key, maxKeySize),
            Opcode.TimeMark => reader.IsAtEnd ? StatusCode.Ok : StatusCode.ProtocolError,
            Opcode.Transaction or Opcode.Batch => Transaction(body, maxKeySize),
            Opcode.ScanKeys => Key(ScanKeysRequest.TryRead(body, out _, out _, out _, out var pattern), pattern, maxKeySize),
            Opcode.KeyCount => KeyCountRequest.TryRead(body, out _) ? StatusCode.Ok : StatusCode.ProtocolError,
            Opcode.FlushKeys => KeyCountRequest.TryRead(body, out var flushed) && flushed != KeyCountRequest.PerDatabase ? StatusCode.Ok : StatusCode.ProtocolError,
            Opcode.GetExpire => Key(ExpireRequest.TryRead(body, out _, out var getCondition, out _, out var key) && getCondition == ExpiryCondition.Always, key, maxKeySize),
            Opcode.CopyKey => CopyKey(body, maxKeySize),
            Opcode.FlushSlots => FlushSlotsRequest.TryRead(body, out _) ? StatusCode.Ok : StatusCode.ProtocolError,
            Opcode.MigrationApply => MigrationChunk(body, maxKeySize),
            Opcode.SlotControl => SlotControlRequest.IsWellFormed(body) ? StatusCode.Ok : StatusCode.ProtocolError,
            Opcode.GroupControl => GroupControlRequest.IsWellFormed(body) ? StatusCode.Ok : StatusCode.ProtocolError,
            _ => StatusCode.UnknownOpcode,
        };
    }

    private static StatusCode CopyKey(ReadOnlySpan<byte> body, int maxKeySize)
    {
        if (!CopyKeyRequest.TryRead(body, out _, out var source, out var target))
            return StatusCode.ProtocolError;
        return source.Length > maxKeySize || target.Length > maxKeySize ? StatusCode.KeyTooLarge : StatusCode.Ok;
    }

    /// <summary>A snapshot chunk whose every announced record is there, keys within the limit, nothing after them.</summary>
    private static StatusCode MigrationChunk(ReadOnlySpan<byte> body, int maxKeySize)
    {
        if (!SnapshotChunkReader.TryRead(body, out var chunk))
            return StatusCode.ProtocolError;
        var status = StatusCode.Ok;
        while (chunk.TryReadNext(out var key, out _, out _, out _))
            if (key.Length > maxKeySize)
                status = StatusCode.KeyTooLarge;
        return chunk.IsComplete ? status : StatusCode.ProtocolError;
    }

    private static StatusCode Key(bool wellFormed, ReadOnlySpan<byte> key, int maxKeySize) =>
        !wellFormed ? StatusCode.ProtocolError : key.Length > maxKeySize ? StatusCode.KeyTooLarge : StatusCode.Ok;

    /// <summary>Guards, then at least one operation of an allowed opcode whose own body is valid; nothing after them.</summary>
    private static StatusCode Transaction(ReadOnlySpan<byte> body, int maxKeySize)
    {
        if (!TransactionRequest.TryRead(body, out var transaction))
            return StatusCode.ProtocolError;
        var status = StatusCode.Ok;
        for (var i = 0u; i < transaction.GuardCount; i++)
        {
            if (!transaction.TryReadGuard(out var key, out _))
                return StatusCode.ProtocolError;
            if (key.Length > maxKeySize)
                status = StatusCode.KeyTooLarge;
        }
        if (!transaction.TryBeginOperations() || transaction.OperationCount == 0)
            return StatusCode.ProtocolError;
        for (var i = 0u; i < transaction.OperationCount; i++)
        {
            if (!transaction.TryReadOperation(out var opcode, out var operation) || !opcode.IsTransactionOperation())
                return StatusCode.ProtocolError;
            var inner = Validate(opcode, operation, maxKeySize);
            if (inner == StatusCode.ProtocolError)
                return inner;
            if (inner != StatusCode.Ok)
                status = inner;
        }
        return transaction.IsComplete ? status : StatusCode.ProtocolError;

    }

    /// <summary>
    /// The largest record (key + value bytes) a validated write body would store: the pair of a Set, the
    /// largest pair of a MultiSet, the key of a Delete; 0 for anything else. Reads in place, allocates nothing.
    /// </summary>
    public static long LargestRecord(Opcode opcode, ReadOnlySpan<byte> body)
    {
        // The writes evaluated by the nodes store the key and value they carry (SetWhen, Append's suffix,
        // SetRange's patch at least); a transaction stores the largest of its operations'.
        switch (opcode)
        {
            case Opcode.SetWhen:
                return SetWhenRequest.TryRead(body, out _, out var whenKey, out var whenValue) ? (long)whenKey.Length + whenValue.Length : 0;
            case Opcode.Append:
                return SetRequest.TryRead(body, out var appendKey, out var suffix) ? (long)appendKey.Length + suffix.Length : 0;
            case Opcode.SetRange:
                return SetRangeRequest.TryRead(body, out var offset, out var rangeKey, out var patch) ? (long)rangeKey.Length + (long)Math.Min(offset, int.MaxValue) + patch.Length : 0;
            case Opcode.CopyKey:
                return CopyKeyRequest.TryRead(body, out _, out _, out var copyTarget) ? copyTarget.Length : 0;
            case Opcode.MigrationApply:
                if (!SnapshotChunkReader.TryRead(body, out var chunk))
                    return 0;
                var largestCopied = 0L;
                while (chunk.TryReadNext(out var copiedKey, out var copiedValue, out _, out _))
                    largestCopied = Math.Max(largestCopied, (long)copiedKey.Length + copiedValue.Length);
                return largestCopied;
            case Opcode.Transaction or Opcode.Batch:
                if (!TransactionRequest.TryRead(body, out var transaction))
                    return 0;
                for (var i = 0u; i < transaction.GuardCount; i++)
                    transaction.TryReadGuard(out _, out _);
                if (!transaction.TryBeginOperations())
                    return 0;
                var largestOperation = 0L;
                while (transaction.TryReadOperation(out var inner, out var operation))
                    largestOperation = Math.Max(largestOperation, LargestRecord(inner, operation));
                return largestOperation;
        }
        var reader = new BodyReader(body);
        var count = 1u;
        if (opcode == Opcode.MultiSet && !reader.TryReadUInt32(out count))
            return 0;
        if (opcode is not (Opcode.Set or Opcode.MultiSet or Opcode.Delete))
            return 0;
        var largest = 0L;
        for (var i = 0u; i < count; i++)
        {
            if (!reader.TryReadField(out var key))
                break;
            var record = (long)key.Length;
            if (opcode != Opcode.Delete)
            {
                if (!reader.TryReadField(out var value))
                    break;
                record += value.Length;
            }
            largest = Math.Max(largest, record);
        }
        return largest;
    }

    private static StatusCode ReadPrefix(ref BodyReader reader, int maxKeySize)
    {
        if (!reader.TryReadField(out var prefix) || !reader.IsAtEnd)
            return StatusCode.ProtocolError;
        return prefix.Length > maxKeySize ? StatusCode.KeyTooLarge : StatusCode.Ok;
    }

    private static StatusCode Counted(ref BodyReader reader, bool withValues, int maxKeySize)
    {
        if (!reader.TryReadUInt32(out var count) || count == 0)
            return StatusCode.ProtocolError;
        // Each entry takes at least four bytes: a count above that cannot be honest.
        var minimumEntry = withValues ? 8 : 4;
        if (count > (uint)(reader.Remaining / minimumEntry))
            return StatusCode.ProtocolError;
        return KeysThenEnd(ref reader, (int)count, withValues, maxKeySize);
    }

    private static StatusCode KeysThenEnd(ref BodyReader reader, int count, bool withValues, int maxKeySize)
    {
        var status = StatusCode.Ok;
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryReadField(out var key))
                return StatusCode.ProtocolError;
            if (key.Length > maxKeySize)
                status = StatusCode.KeyTooLarge;
            if (withValues && !reader.TryReadField(out _))
                return StatusCode.ProtocolError;
        }
        return reader.IsAtEnd ? status : StatusCode.ProtocolError;
    }
}
