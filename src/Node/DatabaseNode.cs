using System.Net.Sockets;
using KvnDb.Node.Storage;
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

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var delay = options.MinReconnectDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Built once (it rebuilds the expiry index from the engine) and kept across links.
                _store ??= new NodeStore(engine);
                await using var link = await RouterLink.ConnectAsync(options, _store, identity, _logger, cancellationToken).ConfigureAwait(false);
                ConnectionCount++;
                ConnectionId = link.ConnectionId;
                delay = options.MinReconnectDelay;
                LogConnected(options.RouterHost, options.RouterPort, engine.LastSequence, identity.NodeId);
                var reason = await link.ServeAsync(cancellationToken).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested)
                    break;
                LogLinkClosed(reason);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (NodeFatalException)
            {
                throw;
            }
            catch (Exception ex) when (ex is SocketException or IOException or TimeoutException or InvalidDataException or System.Security.Authentication.AuthenticationException)
            {
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

    [LoggerMessage(1, LogLevel.Information, "Connected to router {Host}:{Port} as node {NodeId}; last sequence {LastSequence}")]
    private partial void LogConnected(string host, int port, ulong lastSequence, Guid nodeId);

    [LoggerMessage(2, LogLevel.Warning, "Router link closed: {Reason}; reconnecting")]
    private partial void LogLinkClosed(string reason);

    [LoggerMessage(3, LogLevel.Warning, "Router link dropped: {Reason}; retrying in {DelayMs} ms")]
    private partial void LogLinkFailed(string reason, double delayMs);
}
