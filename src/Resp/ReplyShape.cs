namespace KvnDb.Resp;

/// <summary>
/// What a command's reply is made from: its kind and the parameters the renderer needs (<see cref="ReplyRenderer"/>).
/// A reply slot has one (<see cref="ReplySlot"/>), and so has each command queued by MULTI (<see cref="QueuedCommand"/>).
/// </summary>
internal abstract class ReplyShape
{
    public ReplyKind Kind { get; set; }

    /// <summary>RESP3 nulls and maps: fixed when the command was read, as HELLO may change it later.</summary>
    public bool Resp3 { get; set; }

    // ---- SET with NX / XX / GET ----
    public SetCondition Condition { get; set; }

    public bool ReturnOld { get; set; }

    /// <summary>SETNX: 1 when written, 0 when not, instead of OK / null.</summary>
    public bool IntegerReply { get; set; }

    /// <summary>A kind's variant (TTL units, LCS mode).</summary>
    public int Variant { get; set; }

    /// <summary>GETRANGE's start; LCS's minimum match length; WATCH's first key.</summary>
    public long First { get; set; }

    /// <summary>GETRANGE's end; LCS's WITHMATCHLEN (1).</summary>
    public long Last { get; set; }

    /// <summary>Native operations the command became (several for DEL k1 k2 inside a batch).</summary>
    public int Parts { get; set; }

    protected void ResetShape(ReplyKind kind, bool resp3)
    {
        Kind = kind;
        Resp3 = resp3;
        Condition = SetCondition.Always;
        ReturnOld = false;
        IntegerReply = false;
        Variant = 0;
        First = 0;
        Last = 0;
        Parts = 0;
    }
}

/// <summary>A command queued between MULTI and EXEC: its reply shape, or the reply itself when the router answers it.</summary>
internal sealed class QueuedCommand : ReplyShape
{
    public QueuedCommand(ReplyKind kind, bool resp3) => ResetShape(kind, resp3);

    /// <summary>The reply of a command answered locally (PING, a syntax error found when it ran).</summary>
    public byte[]? Local { get; set; }

    /// <summary>An operation EXEC added only to check the watched keys; not part of the reply.</summary>
    public bool Hidden { get; init; }
}
