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
    private NodeLink[] _writeTargets = [];
    private NodeLink[] _readTargets = [];
    private ulong _sequence;
    private int _roundRobin;

    public Cluster(RouterOptions options, ILogger<Cluster> logger)
    {
        _options = options;
        _logger = logger;
        _pending = new PendingTable(options.MaxPendingRequests);
    }

    public RouterStats Stats { get; } = new();

    public RouterOptions Options => _options;

    public ulong Sequence => Volatile.Read(ref _sequence);

    public int PendingRequests => _pending.InUse;

    /// <summary>Every connected node (serving or syncing).</summary>
    public IReadOnlyList<NodeLink> Nodes => Volatile.Read(ref _writeTargets);

    public int ServingNodeCount => Volatile.Read(ref _readTargets).Length;

    /// <summary>
    /// Registers a node after its hello and welcomes it; false when all node slots are taken. The
    /// welcome is written under the write-order lock, so it reaches the node before any write.
    /// </summary>
    public bool TryAddNode(NodeLink node, ulong helloRequestId)
    {
        lock (_writeOrder)
        {
            var slot = Array.IndexOf(_nodeSlots, null);
            if (slot < 0)
                return false;
            _nodeSlots[slot] = node;
            node.Slot = slot;
            // Never hand out a sequence a node already holds (the router may have restarted).
            _sequence = Math.Max(_sequence, node.HelloSequence);
            node.State = NodeState.Serving;
            _writeTargets = [.. _writeTargets, node];
            _readTargets = [.. _readTargets, node];
            node.Output.Write((node, helloRequestId), static (writer, s) =>
                new HelloResponse(ProtocolLimits.Version, (ulong)s.node.Id).Write(writer, s.helloRequestId));
        }
        LogNodeJoined(node.Id, node.RemoteAddress, node.HelloSequence, node.State);
        return true;
    }

    /// <summary>Takes a dead node out, then settles what it owed: its writes stop waiting for it, its reads go elsewhere.</summary>
    public void RemoveNode(NodeLink node, HashSet<OutputChannel> touched)
    {
        lock (_writeOrder)
        {
            if (node.State == NodeState.Gone)
                return;
            node.State = NodeState.Gone;
            _writeTargets = [.. _writeTargets.Where(n => n != node)];
            _readTargets = [.. _readTargets.Where(n => n != node)];
            _nodeSlots[node.Slot] = null;
        }
        node.Output.Close();
        LogNodeLeft(node.Id, node.RemoteAddress);

        var bit = 1UL << node.Slot;
        foreach (var request in _pending.Slots)
        {
            lock (request)
            {
                if (request.Id == 0)
                    continue;
                if (request.Kind == PendingKind.Write && (request.AwaitedNodes & bit) != 0)
                {
                    request.AwaitedNodes &= ~bit;
                    ProgressWrite(request, touched);
                }
                else if (request.Kind == PendingKind.Read && request.ReadNode == node)
                {
                    RetryRead(request, touched);
                }
            }
        }
    }

    [LoggerMessage(20, LogLevel.Information, "Node {NodeId} joined from {Address}: last sequence {LastSequence}, {State}")]
    private partial void LogNodeJoined(int nodeId, string address, ulong lastSequence, NodeState state);

    [LoggerMessage(21, LogLevel.Warning, "Node {NodeId} ({Address}) left; its requests in flight are retried or settled")]
    private partial void LogNodeLeft(int nodeId, string address);
}
