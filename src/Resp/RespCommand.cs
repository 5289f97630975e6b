namespace KvnDb.Resp;

/// <summary>The commands the RESP front door understands.</summary>
internal enum RespCommand
{
    Unknown,
    // connection
    Ping, Echo, Hello, Auth, Select, Quit, Reset, Client,
    // strings
    Get, GetBit, Set, SetNx, SetEx, PSetEx, GetSet, GetDel, GetEx, MGet, MSet, MSetNx, Append, Strlen, GetRange, SetRange, Lcs,
    // counters
    Incr, Decr, IncrBy, DecrBy, IncrByFloat,
    // expiry
    Expire, PExpire, ExpireAt, PExpireAt, Ttl, PTtl, ExpireTime, PExpireTime, Persist,
    // keyspace
    Del, Unlink, Exists, Touch, Type, Rename, RenameNx, Copy, Move, RandomKey, Keys, Scan, DbSize, FlushDb, FlushAll, Object, SwapDb,
    // transactions
    Multi, Exec, Discard, Watch, Unwatch,
    // pub/sub
    Subscribe, Unsubscribe, PSubscribe, PUnsubscribe, Publish, PubSub,
    // server
    Info, Command, Config, Function, Script, Time, LastSave,
    /// <summary>SAVE, BGSAVE, SHUTDOWN: refused (nodes checkpoint on their own); not allowed inside MULTI, as in Redis.</summary>
    Save,
}
