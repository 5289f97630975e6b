namespace KvnDb.Resp;

/// <summary>Outcome of looking for one command at the start of the input.</summary>
internal enum RespParseStatus
{
    /// <summary>A whole command was found; its arguments are in <see cref="RespArguments"/>.</summary>
    Complete,
    /// <summary>The command is not complete yet: wait for more bytes.</summary>
    Incomplete,
    /// <summary>The input breaks the protocol: answer <c>-ERR Protocol error</c> and close.</summary>
    Error,
}
