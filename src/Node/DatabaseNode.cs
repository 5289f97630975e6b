using System.Net.Sockets;
using KvnDb.Node.Storage;
using KvnDb.Transport;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node;

/// <summary>
/// A database node: connects out to the router, serves it until the link drops (the router closed it,
/// broke the protocol, or stayed silent past <see cref="NodeOptions.RouterTimeout"/>), and reconnects
/// with capped, jittered exponential backoff. Stops when its token is cancelled.
/// </summary>
public sealed partial class DatabaseNode(NodeOptions options, IStorageEngine engine, NodeIdentity identity, ILoggerFactory loggerFactory)
{
    /// <summary>A node whose data lives only in memory (no history file).</summary>
    public DatabaseNode(NodeOptions options, IStorageEngine engine, ILoggerFactory loggerFactory)
        : this(options, engine, new NodeIdentity(null), loggerFactory)
    {
    }

    private readonly ILogger _logger = loggerFactory.CreateLogger<DatabaseNode>();

    public IStorageEngine Engine => engine;

    private NodeStore? _store;

    public NodeIdentity Identity => identity;

    /// <summary>Number of times a link to the router was established (useful to operators and tests).</summary>
    public int ConnectionCount { get; private set; }

    /// <summary>The router's id for the current link (0 before the first connection).</summary>
    public ulong ConnectionId { get; private set; }

    /// <summary>The socket engine of the current (or last) link; null before the first.</summary>
    public IoEngine? LinkEngine { get; private set; }

    private volatile bool _connected;
    private int _fencedRefusals;

    /// <summary>Routers refused because they lead an older term than this node has followed (fencing).</summary>
    public int FencedRefusals => Volatile.Read(ref _fencedRefusals);

    /// <summary>True while a link to the router is up (its hello accepted).</summary>
    public bool IsConnected => _connected;

    /// <summary>Read requests answered since the node started (every link).</summary>
    public long Reads => _store?.Reads ?? 0;

    /// <summary>Writes applied since the node started (every link).</summary>
    public long Writes => _store?.Writes ?? 0;

    /// <summary>The full sync in progress on the current link, or null (read from another thread: a moment's view).</summary>
    public NodeSyncProgress? SyncProgress =>
        _store?.Sync is { IsSyncing: true } sync ? new NodeSyncProgress(sync.RecordsApplied, sync.RecordsReplaced, sync.RecordsSkipped) : null;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var delay = options.MinReconnectDelay;
        var routers = new RouterRotation(options);
        while (!cancellationToken.IsCancellationRequested)
        {
            var router = routers.Next();
            // A node whose storage refuses writes does not join: it would only fail the first write it is sent.
            if (engine.Health.RefusesWrites && !await WaitForStorageAsync(cancellationToken).ConfigureAwait(false))
                break;
            try
            {
                // Built once (it rebuilds the expiry index from the engine) and kept across links.
                _store ??= new NodeStore(engine);
                await using var link = await RouterLink.ConnectAsync(routers.OptionsFor(router), _store, identity, _logger, cancellationToken).ConfigureAwait(false);
                ConnectionCount++;
                ConnectionId = link.ConnectionId;
                LinkEngine = link.Engine;
                delay = options.MinReconnectDelay;
                routers.Linked();
                LogConnected(router.Host, router.Port, engine.LastSequence, identity.NodeId, link.Engine);
                _connected = true;
                string reason;
                try
                {
                    reason = await link.ServeAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _connected = false;
                }
                if (cancellationToken.IsCancellationRequested)
                    break;
                LogLinkClosed(reason);
                if (link.FailedApply && !engine.Health.RefusesWrites)
                    delay = options.MaxReconnectDelay; // the same write comes back at once: give whatever failed time
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (NodeFatalException)
            {
                throw;
            }
            catch (RouterFencedException ex)
            {
                Interlocked.Increment(ref _fencedRefusals);
                LogFenced(ex.Message);
            }
            catch (RouterRedirectException ex)
            {
                // A standby of a router group: straight to the leader it named (a whole round of redirects waits out the backoff).
                LogRedirected(router.ToString(), ex.Leader.Length > 0 ? ex.Leader : "unknown");
                if (routers.Redirect(ex.Leader) && routers.RedirectsInARow <= routers.Count)
                    continue;
                // A standby answered: the group is alive and electing. Ask again soon instead of backing off the whole
                // election away (the new leader's join grace waits for the in-sync nodes).
                delay = options.MinReconnectDelay;
            }
            catch (Exception ex) when (ex is SocketException or IOException or TimeoutException or InvalidDataException or System.Security.Authentication.AuthenticationException)
            {
                if (routers.TryNextAtOnce())
                {
                    LogTryingNextRouter(router.ToString(), ex.Message);
                    continue;
                }
                LogLinkFailed(ex.Message, delay.TotalMilliseconds);
            }

            try
            {
                await Task.Delay(Jitter(delay), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
        }
    }

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.8 + Random.Shared.NextDouble() * 0.4);

    /// <summary>
    /// Out of service while the storage refuses writes: probes it every <see cref="NodeOptions.StorageProbeInterval"/>
    /// (free space back, a checkpoint that succeeds, a stuck store reopened) and returns true once it takes writes
    /// again, false when the node is stopping.
    /// </summary>
    private async Task<bool> WaitForStorageAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        LogWaitingForStorage(engine.Health.Refusal ?? "", options.StorageProbeInterval.TotalSeconds);
        while (true)
        {
            try
            {
                if (await engine.ProbeStorageAsync(cancellationToken).ConfigureAwait(false))
                {
                    LogStorageBack(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, engine.LastSequence);
                    return true;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                LogProbeFailed(ex.Message);
            }
            try
            {
                await Task.Delay(options.StorageProbeInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    [LoggerMessage(21, LogLevel.Warning, "Refused a deposed router: {Reason}")]
    private partial void LogFenced(string reason);

    [LoggerMessage(20, LogLevel.Information, "Router {Router} is a standby of its group; the leader is {Leader}")]
    private partial void LogRedirected(string router, string leader);

    [LoggerMessage(1, LogLevel.Information, "Connected to router {Host}:{Port} as node {NodeId}; last sequence {LastSequence}; link on {Engine}")]
    private partial void LogConnected(string host, int port, ulong lastSequence, Guid nodeId, IoEngine engine);

    [LoggerMessage(2, LogLevel.Warning, "Router link closed: {Reason}; reconnecting")]
    private partial void LogLinkClosed(string reason);

    [LoggerMessage(3, LogLevel.Warning, "Router link dropped: {Reason}; retrying in {DelayMs} ms")]
    private partial void LogLinkFailed(string reason, double delayMs);

    [LoggerMessage(7, LogLevel.Warning, "Router {Router} cannot be reached: {Reason}; trying the next router of the group")]
    private partial void LogTryingNextRouter(string router, string reason);

    [LoggerMessage(4, LogLevel.Error, "Not serving: the storage refuses writes ({Reason}); probing it every {Seconds} s, the node rejoins when it takes writes again")]
    private partial void LogWaitingForStorage(string reason, double seconds);

    [LoggerMessage(5, LogLevel.Information, "Storage takes writes again after {Seconds:0.0} s: rejoining from last sequence {LastSequence}")]
    private partial void LogStorageBack(double seconds, ulong lastSequence);

    [LoggerMessage(6, LogLevel.Debug, "Storage probe failed: {Reason}")]
    private partial void LogProbeFailed(string reason);
}
