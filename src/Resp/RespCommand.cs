namespace KvnDb.Resp;

/// <summary>The commands the RESP front door understands.</summary>
internal enum RespCommand
{
    Unknown,
    Ping,
    Echo,
    Hello,
    Auth,
    Select,
    Quit,
    Get,
    Set,
    SetNx,
    /// <summary>SETEX and PSETEX: refused with the expiry error until keys can expire.</summary>
    SetEx,
    Del,
    /// <summary>DEL by another name (Redis frees memory in the background; here they are the same).</summary>
    Unlink,
    Exists,
    MGet,
    MSet,
    Keys,
    Scan,
    DbSize,
    Info,
    Command,
    Config,
    Client,
}
