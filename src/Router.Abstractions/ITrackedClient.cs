namespace KvnDb.Router;

/// <summary>What the idle-timeout sweep needs from a client connection, native or RESP.</summary>
internal interface ITrackedClient
{
    long Id { get; }

    string RemoteAddress { get; }

    /// <summary>When the client last sent anything (<see cref="Environment.TickCount64"/>).</summary>
    long LastActivityMs { get; }

    /// <summary>Requests still owed a reply: a client waiting for answers is not idle.</summary>
    bool HasRequestsInFlight { get; }

    void Abort();
}
