using KvnDb.Router;

namespace KvnDb.Resp;

/// <summary>What every RESP connection shares: the router core, the password check and the front door's counters (INFO).</summary>
internal sealed class RespServerState(IRouterCore core)
{
    private long _connections;
    private long _connectionsTotal;
    private long _commands;
    private long _protocolErrors;

    public IRouterCore Core { get; } = core;

    public PasswordVerifier Password { get; } = new(core.Options.Password);

    public ScanCursors Cursors { get; } = new();

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public long Connections => Volatile.Read(ref _connections);

    public long ConnectionsTotal => Volatile.Read(ref _connectionsTotal);

    public long Commands => Volatile.Read(ref _commands);

    public long ProtocolErrors => Volatile.Read(ref _protocolErrors);

    /// <summary>Returns the new connection's id (CLIENT ID).</summary>
    public long Connected()
    {
        Interlocked.Increment(ref _connections);
        return Interlocked.Increment(ref _connectionsTotal);
    }

    public void Disconnected() => Interlocked.Decrement(ref _connections);

    public void CommandProcessed() => Interlocked.Increment(ref _commands);

    public void ProtocolError() => Interlocked.Increment(ref _protocolErrors);
}
