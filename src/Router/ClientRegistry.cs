using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>The connected clients (native and RESP); closes those idle past <see cref="RouterOptions.IdleTimeout"/> (checked every second).</summary>
internal sealed partial class ClientRegistry : IDisposable
{
    private readonly ConcurrentDictionary<ITrackedClient, byte> _sessions = new();
    private readonly TimeSpan _idleTimeout;
    private readonly ILogger _logger;
    private readonly Timer? _sweeper;

    public ClientRegistry(RouterOptions options, ILogger<ClientRegistry> logger)
    {
        _idleTimeout = options.IdleTimeout;
        _logger = logger;
        if (_idleTimeout > TimeSpan.Zero)
            _sweeper = new Timer(static s => ((ClientRegistry)s!).CloseIdle(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public int Count => _sessions.Count;

    public void Add(ITrackedClient session) => _sessions[session] = 0;

    public void Remove(ITrackedClient session) => _sessions.TryRemove(session, out _);

    private void CloseIdle()
    {
        var now = Environment.TickCount64;
        foreach (var session in _sessions.Keys)
        {
            // A client waiting for replies is not idle, however long they take.
            if (!session.HasRequestsInFlight && now - session.LastActivityMs > _idleTimeout.TotalMilliseconds)
            {
                LogIdle(session.Id, session.RemoteAddress, _idleTimeout.TotalSeconds);
                session.Abort();
            }
        }
    }

    public void Dispose() => _sweeper?.Dispose();

    [LoggerMessage(36, LogLevel.Information, "Client {ConnectionId} ({Address}) idle for {Seconds} s; closed")]
    private partial void LogIdle(long connectionId, string address, double seconds);
}
