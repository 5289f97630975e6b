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
            Opcode.Get or Opcode.Exists or Opcode.Delete => KeysThenEnd(ref reader, 1, withValues: false, maxKeySize),
            Opcode.ListKeys => ReadPrefix(ref reader, maxKeySize),
            Opcode.Set => KeysThenEnd(ref reader, 1, withValues: true, maxKeySize),
            Opcode.MultiGet => Counted(ref reader, withValues: false, maxKeySize),
            Opcode.MultiSet => Counted(ref reader, withValues: true, maxKeySize),
            _ => StatusCode.UnknownOpcode,
        };
    }

    /// <summary>
    /// The largest record (key + value bytes) a validated write body would store: the pair of a Set, the
    /// largest pair of a MultiSet, the key of a Delete; 0 for anything else. Reads in place, allocates nothing.
    /// </summary>
    public static long LargestRecord(Opcode opcode, ReadOnlySpan<byte> body)
    {
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
