namespace KvnDb.Router.Resp;

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
    Del,
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
