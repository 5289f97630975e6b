using System.Buffers;

namespace KvnDb.Resp;

/// <summary>
/// One command's place in a connection's ordered replies. Node replies fill it in whatever order
/// they arrive; the session writes completed slots from the oldest on, so RESP's in-order replies
/// hold. Slots are reused; their buffers are kept (zero allocation once warm) unless they grew large.
/// Fields change only under the session's reply lock.
/// </summary>
internal sealed class ReplySlot : ReplyShape
{
    /// <summary>Buffers above this are dropped after use instead of being kept by an idle slot.</summary>
    private const int MaxKeptBuffer = 64 * 1024;

    /// <summary>The command's number on its connection (the request id nodes echo); 0 when free.</summary>
    public ulong Number { get; private set; }

    /// <summary>The reply is in <see cref="Reply"/>, waiting for the replies before it.</summary>
    public bool Complete { get; set; }

    public ArrayBufferWriter<byte>? Reply { get; set; }

    // ---- counted and listing commands (KEYS, RANDOMKEY) ----
    public int PartsOutstanding { get; set; }

    public long Count { get; set; }

    public string? Error { get; set; }

    /// <summary>The command went out as one Batch of several operations: the reply is a transaction reply.</summary>
    public bool Batched { get; set; }

    /// <summary>CLIENT REPLY OFF or SKIP: the reply is made (the command runs) but not sent.</summary>
    public bool Silent { get; set; }

    /// <summary>WATCH: the list its keys were added to (from <see cref="ReplyShape.First"/> on).</summary>
    public List<WatchedKey>? Watches { get; set; }

    /// <summary>EXEC: the queued commands, in order.</summary>
    public List<QueuedCommand>? Queue { get; set; }

    /// <summary>Bytes held in <see cref="Reply"/> and <see cref="Saved"/>, counted against the output limit.</summary>
    public long HeldBytes { get; set; }


    /// <summary>Reply material gathered along the way: the old value (SET GET), the listed keys (KEYS).</summary>
    public ArrayBufferWriter<byte>? Saved { get; set; }

    // ---- KEYS ----
    public byte[]? Pattern { get; set; }

    public void Begin(ulong number, ReplyKind kind, bool resp3)
    {
        Number = number;
        ResetShape(kind, resp3);
        Complete = false;
        PartsOutstanding = 0;
        Count = 0;
        Error = null;
        Batched = false;
        Queue = null;
        Watches = null;
        Silent = false;
        HeldBytes = 0;
        Pattern = null;
    }

    public void End()
    {
        Number = 0;
        Complete = false;
        Error = null;
        Queue = null;
        Watches = null;
        Pattern = null;
        Reply = Recycle(Reply);
        Saved = Recycle(Saved);
    }

    public static ArrayBufferWriter<byte> Fresh(ArrayBufferWriter<byte>? buffer)
    {
        if (buffer is null)
            return new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        return buffer;
    }

    private static ArrayBufferWriter<byte>? Recycle(ArrayBufferWriter<byte>? buffer)
    {
        if (buffer is null || buffer.Capacity > MaxKeptBuffer)
            return null;
        buffer.ResetWrittenCount();
        return buffer;
    }
}
