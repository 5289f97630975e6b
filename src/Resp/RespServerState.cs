using System.Collections.Concurrent;
using KvnDb.Router;

namespace KvnDb.Resp;

/// <summary>What every RESP connection shares: the router core, the password check and the front door's counters (INFO).</summary>
internal sealed class RespServerState(IRouterCore core)
{
    private long _connections;
    private long _connectionsTotal;
    private long _commands;
    private long _protocolErrors;
    private long _errorReplies;
    private readonly ConcurrentDictionary<long, RespSession> _sessions = new();

    public IRouterCore Core { get; } = core;

    public PasswordVerifier Password { get; } = new(core.Options.Password);


    public PubSubHub PubSub { get; } = new();

    /// <summary>The connected sessions (CLIENT LIST, CLIENT KILL), in id order.</summary>
    public IEnumerable<RespSession> Sessions => _sessions.Values.OrderBy(static s => s.Id);

    public void Register(RespSession session) => _sessions[session.Id] = session;

    public void Unregister(RespSession session) => _sessions.TryRemove(session.Id, out _);

    /// <summary>Error replies sent (INFO total_error_replies).</summary>
    public long ErrorReplies => Volatile.Read(ref _errorReplies);

    public void ErrorReplied() => Interlocked.Increment(ref _errorReplies);

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

    private readonly long[] _calls = new long[Enum.GetValues<RespCommand>().Length];
    private readonly long[] _rejected = new long[Enum.GetValues<RespCommand>().Length];

    /// <summary>A command ran (INFO commandstats), or was refused before it ran (arity, auth, state).</summary>
    public void Called(RespCommand command, bool rejected) => Interlocked.Increment(ref (rejected ? _rejected : _calls)[(int)command]);

    public (long Calls, long Rejected) CommandCalls(RespCommand command) =>
        (Volatile.Read(ref _calls[(int)command]), Volatile.Read(ref _rejected[(int)command]));

    public void ProtocolError() => Interlocked.Increment(ref _protocolErrors);
}
