namespace KvnDb.Resp;

/// <summary>How the native replies to a RESP command are turned into its one RESP reply.</summary>
internal enum ReplyKind
{
    /// <summary>Answered by the router itself (PING, INFO, errors).</summary>
    Local,
    Get,
    /// <summary>SET or MSET: one acknowledged write.</summary>
    Write,
    /// <summary>SET with NX, XX or GET: one SetWhen, whose outcome the nodes decide.</summary>
    ConditionalSet,
    /// <summary>DEL: one delete per key, counted.</summary>
    Delete,
    /// <summary>EXISTS: one exists per key, counted.</summary>
    Exists,
    MultiGet,
    Keys,
    Scan,
    DbSize,
}
