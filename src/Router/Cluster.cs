using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>
/// The router's view of its nodes and of every request in flight. Writes are sequenced and queued
/// to every node under one lock, so each node's FIFO link receives them in the same order.
/// Membership changes take the same lock, so a write either reaches a node or never counts on it.
/// </summary>
internal sealed partial class Cluster
{
    /// <summary>Nodes are tracked in a 64-bit mask per write.</summary>
    public const int MaxNodes = 64;

    private readonly Lock _writeOrder = new();
    private readonly NodeLink?[] _nodeSlots = new NodeLink?[MaxNodes];
    private readonly PendingTable _pending;
    private readonly RouterOptions _options;
    private readonly ILogger _logger;
    private readonly WriteBacklog _backlog;
    private readonly ClusterHistory _history = new();
    private NodeLink[] _writeTargets = [];
    private NodeLink[] _readTargets = [];
    private ulong _sequence;
    private int _roundRobin;

    public Cluster(RouterOptions options, ILogger<Cluster> logger)
    {
        _options = options;
        _logger = logger;
        _pending = new PendingTable(options.MaxPendingRequests);
        _backlog = new WriteBacklog(options.BacklogBytes);
    }

    public RouterStats Stats { get; } = new();

    /// <summary>Set once the metrics exist (they observe the cluster, so they are built after it).</summary>
    public RouterMetrics? Metrics { get; set; }

    public RouterOptions Options => _options;

    public ulong Sequence => Volatile.Read(ref _sequence);

    public Guid HistoryId => _history.Current;

    public int PendingRequests => _pending.InUse;

    public (ulong Oldest, ulong Newest, long Bytes) Backlog
    {
        get
        {
            lock (_writeOrder)
                return (_backlog.OldestSequence, _backlog.NewestSequence, _backlog.Bytes);
        }
    }

    /// <summary>Every connected node (serving or syncing).</summary>
    public IReadOnlyList<NodeLink> Nodes => Volatile.Read(ref _writeTargets);

    public int ServingNodeCount => Volatile.Read(ref _readTargets).Length;
}
