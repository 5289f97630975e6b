using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>A response copied out of the pipe: its status and body (a Get's value, or an error message).</summary>
internal readonly record struct Reply(StatusCode Status, byte[]? Body)
{
    /// <summary>The error message; for NotLeader the leader's address, empty when the router knows none.</summary>
    public string Message => Body is null ? (Status == StatusCode.NotLeader ? "" : Status.ToString()) : ErrorReply.Read(Body);

    /// <summary>Throws the typed exception for an error status; returns for Ok and NotFound.</summary>
    public void ThrowIfError()
    {
        if (Status.IsError())
            ErrorMapper.Throw(Status, Message);
    }
}
