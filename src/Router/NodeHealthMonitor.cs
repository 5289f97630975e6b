using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>
/// Heartbeats and failure detection for node links (DESIGN.md section 3, "Health"): pings a link
/// idle for <see cref="RouterOptions.Heartbeat"/>; a node silent past <see cref="RouterOptions.NodeTimeout"/>
/// while it owes a reply is suspect (no reads; its reads in flight go elsewhere); past
/// <see cref="RouterOptions.NodeEvictTimeout"/> it leaves the in-sync set (durably, when another
/// member is healthy) and its link is closed. Writes unanswered past the eviction timeout fail
/// Unavailable, so nothing waits forever.
/// </summary>
internal sealed partial class NodeHealthMonitor(RouterOptions options, Cluster cluster, ILogger<NodeHealthMonitor> logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger = logger;
    private readonly BackgroundWork _evictions = new(logger);
    private Task _loop = Task.CompletedTask;
    private long _pingId;
    private int _disposed;

    public void Start() => _loop = RunAsync();

    private async Task RunAsync()
    {
        var interval = TimeSpan.FromMilliseconds(Math.Max(10, options.Heartbeat.TotalMilliseconds / 2));
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
                Check();
        }
        catch (OperationCanceledException)
        {
            // Router stopping.
        }
    }

    /// <summary>One round over every node link; public so tests can drive it.</summary>
    public void Check()
    {
        try
        {
            foreach (var node in cluster.Nodes.Connected)
                CheckNode(node);
            cluster.TimeOutWrites(options.NodeEvictTimeout);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogCheckFailed(ex);
        }
    }

    private void CheckNode(NodeLink node)
    {
        var silent = TimeSpan.FromMilliseconds(node.SilentMs);
        if (silent >= options.Heartbeat && node.TryStartPing())
        {
            var id = SyncMessages.ControlIdBit | (ulong)Interlocked.Increment(ref _pingId);
            node.Sender.TrySend(id, static (writer, pingId) =>
                FrameWriter.WriteHeaderOnly(writer, new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, pingId)));
            node.Sender.Flush();
        }
        if (silent > options.NodeTimeout)
        {
            if (node.State is NodeState.Serving or NodeState.Syncing)
            {
                node.State = NodeState.Suspect;
                node.Group.Nodes.SetServing(node, false);
                LogSuspect(node.Id, silent.TotalSeconds);
                cluster.RetryReadsOf(node);
            }
        }
        else if (node.State == NodeState.Suspect)
        {
            node.State = node.IsAdmitted ? NodeState.Serving : NodeState.Syncing;
            if (node.IsAdmitted)
                node.Group.Nodes.SetServing(node, true);
            LogRecovered(node.Id);
        }

        var log = node.Group.Sequencer.Log;
        var pinsLog = node.Sender.UnsentBytes > 2 * log.Capacity;
        if (silent > EvictionSilence(node) || pinsLog)
        {
            // The last healthy copy of the acknowledged writes is never evicted: writes time out instead.
            var otherHealthyMember = Array.Exists(node.Group.Nodes.Connected, n => n != node && n.IsAdmitted && n.State == NodeState.Serving);
            if ((node.IsMember && !otherHealthyMember) || !node.TryStartEviction())
                return;
            var reason = pinsLog
                ? $"it fell {node.Sender.UnsentBytes} bytes behind the replication log"
                : $"it was silent for {silent.TotalSeconds:0.0} s";
            LogEvicting(node.Id, reason);
            node.Abort(reason);
            _evictions.Start($"eviction of node {node.Id}", _ => LeaveAsync(node, reason)); // fsyncs: not on the timer's loop
        }
    }

    /// <summary>
    /// A joiner applying a snapshot chunk is silent until the chunk is applied, which a slow engine or a loaded disk can
    /// make take seconds: busy, not gone. It serves no reads and no write waits for it, so its link is ended for
    /// silence only after <see cref="JoinerSilenceFactor"/> times the eviction timeout (TCP keepalive still finds a dead
    /// one, and a joiner that pins the log is evicted at once).
    /// </summary>
    private TimeSpan EvictionSilence(NodeLink node) =>
        !node.IsMember && node.IsApplyingSnapshot ? options.NodeEvictTimeout * JoinerSilenceFactor : options.NodeEvictTimeout;

    private const int JoinerSilenceFactor = 10;

    private async Task LeaveAsync(NodeLink node, string reason)
    {
        try
        {
            await node.Group.Membership.LeaveAsync(node, reason).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not durable: the node keeps counting for writes, which time out instead of being acknowledged without it.
            LogCheckFailed(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        await _evictions.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    [LoggerMessage(70, LogLevel.Warning, "Node {NodeId} is suspect: silent for {Seconds:0.0} s; no reads until it answers")]
    private partial void LogSuspect(int nodeId, double seconds);

    [LoggerMessage(71, LogLevel.Information, "Node {NodeId} answers again")]
    private partial void LogRecovered(int nodeId);

    [LoggerMessage(72, LogLevel.Warning, "Evicting node {NodeId}: {Reason}")]
    private partial void LogEvicting(int nodeId, string reason);

    [LoggerMessage(73, LogLevel.Error, "Health check failed")]
    private partial void LogCheckFailed(Exception exception);
}
