namespace KvnDb.Resp;

/// <summary>What the read loop does after handling the commands of one read.</summary>
internal enum BatchOutcome
{
    /// <summary>Handle the next command of the buffer.</summary>
    Continue,
    /// <summary>The buffer ends inside a command: read more.</summary>
    NeedMore,
    /// <summary>Too many replies owed: stop reading until some are written.</summary>
    Backpressure,
    /// <summary>The client leaves its output unread: stop reading until it drains (back-pressure on this client alone).</summary>
    OutputBackedUp,
    /// <summary>A wrong password: hold this connection (only) before answering.</summary>
    AuthDelay,
    /// <summary>EXEC must wait for the versions its WATCH read: wait, then run it.</summary>
    WaitForWatches,
    /// <summary>QUIT or a protocol error: write what is owed, then close.</summary>
    Close,
}
