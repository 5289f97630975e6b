namespace KvnDb.Resp;

/// <summary>CLIENT REPLY: whether the connection's replies are sent.</summary>
internal enum ReplyMode
{
    On,
    Off,
    /// <summary>The next command's reply only is not sent.</summary>
    SkipNext,
}
