namespace KvnDb.Protocol;

/// <summary>
/// When a write may make a key due for expiry: the router reads it from the client body (already
/// validated) so it knows when to send the next <see cref="Opcode.TimeMark"/>, without keeping any
/// per-key state. Conservative: a hint too early costs one idle mark, never a late removal.
/// </summary>
public static class ExpiryHint
{
    /// <summary>The earliest expiry the write can set, Unix ms, or <see cref="long.MaxValue"/> when it sets none.</summary>
    public static long Of(Opcode opcode, ReadOnlySpan<byte> body, long time)
    {
        switch (opcode)
        {
            case Opcode.SetWhen when SetWhenHeader.TryRead(body, out var header) && header.HasExpiry:
                return (header.Options & SetOptions.ExpiryRelative) != 0 ? Saturate(time, header.Expiry) : header.Expiry;
            case Opcode.Expire or Opcode.GetExpire when ExpireRequest.TryRead(body, out var mode, out _, out var at, out _) && mode != ExpiryMode.Persist:
                return mode == ExpiryMode.Relative ? Saturate(time, at) : at;
            case Opcode.Transaction or Opcode.Batch when TransactionRequest.TryRead(body, out var transaction):
                for (var i = 0u; i < transaction.GuardCount; i++)
                    transaction.TryReadGuard(out _, out _);
                if (!transaction.TryBeginOperations())
                    return long.MaxValue;
                var earliest = long.MaxValue;
                while (transaction.TryReadOperation(out var inner, out var operation))
                    earliest = Math.Min(earliest, Of(inner, operation, time));
                return earliest;
            default:
                return long.MaxValue;
        }
    }

    /// <summary>Could the opcode set an expiry at all (a cheap test before parsing).</summary>
    public static bool MaySetExpiry(Opcode opcode) => opcode is Opcode.SetWhen or Opcode.Expire or Opcode.GetExpire or Opcode.Transaction or Opcode.Batch;

    private static long Saturate(long time, long delta) => delta > long.MaxValue - time ? long.MaxValue : time + delta;
}
