namespace KvnDb.Resp;

/// <summary>How the native replies to a RESP command are turned into its one RESP reply.</summary>
internal enum ReplyKind
{
    /// <summary>Answered by the router itself (PING, INFO, errors).</summary>
    Local,
    Get,
    /// <summary>SET or MSET: acknowledged writes, answered OK.</summary>
    Write,
    /// <summary>SET with NX, XX, GET or an expiry; SETNX, GETSET: one SetWhen, whose outcome the nodes decide.</summary>
    ConditionalSet,
    /// <summary>DEL, UNLINK: keys deleted, counted.</summary>
    Delete,
    /// <summary>EXISTS, TOUCH: keys present, counted (repeats count again, as in Redis).</summary>
    Exists,
    MultiGet,
    Keys,
    Scan,
    /// <summary>RANDOMKEY: one key of a listing.</summary>
    RandomKey,
    /// <summary>DBSIZE: one node's O(1) key count.</summary>
    KeyCount,
    /// <summary>GETDEL, GETEX: the value before, or null.</summary>
    OldValue,
    /// <summary>INCR family, APPEND, SETRANGE: the number the node computed.</summary>
    Integer,
    /// <summary>INCRBYFLOAT: the new value as text.</summary>
    FloatValue,
    /// <summary>EXPIRE family, PERSIST, RENAMENX, COPY, MOVE, MSETNX: 1 when the node did it, else 0.</summary>
    Flag,
    /// <summary>RENAME: OK, or no such key.</summary>
    Rename,
    /// <summary>TTL, PTTL, EXPIRETIME, PEXPIRETIME (<see cref="ReplyShape.Variant"/> says which).</summary>
    TimeToLive,
    Strlen,
    /// <summary>GETBIT: one bit of the value (<see cref="ReplyShape.First"/> is the offset).</summary>
    GetBit,
    GetRange,
    Type,
    ObjectEncoding,
    Lcs,
    /// <summary>EXEC: every queued command's reply from one Batch.</summary>
    Exec,
    /// <summary>INFO with the keyspace section: the text, then a node's per-database key counts.</summary>
    Info,
    /// <summary>WATCH: the watched keys' versions, read in one Batch, then OK.</summary>
    Watch,
}
