using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>Nodes joining (current, replay from the backlog, or full sync) and leaving.</summary>
internal sealed partial class Cluster
{
    private readonly TaskCompletionSource _adopted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(Guid History, ulong Sequence)> _adoptionCandidates = [];
    private ulong _nextSyncId;

    /// <summary>
    /// Admits a node after its hello: decides how it catches up, welcomes it, and queues the
    /// SyncBegin (and backlog replay) before any live write, all under the write-order lock.
    /// Returns false when all node slots are taken.
    /// </summary>
    public async Task<bool> JoinAsync(NodeLink node, ulong helloRequestId, CancellationToken cancellationToken)
    {
        await WaitForAdoptionAsync(node, cancellationToken).ConfigureAwait(false);
        SyncMode mode;
        int replayed = 0;
        lock (_writeOrder)
        {
            var slot = Array.IndexOf(_nodeSlots, null);
            if (slot < 0)
                return false;
            _nodeSlots[slot] = node;
            node.Slot = slot;
            node.State = NodeState.Syncing;

            mode = !_history.IsPrefix(node.HelloHistory, node.HelloSequence, _sequence) ? SyncMode.Full
                : node.HelloSequence == _sequence ? SyncMode.Current
                : _backlog.Covers(node.HelloSequence) ? SyncMode.Replay
                : SyncMode.Full;
            node.JoinMode = mode;

            var syncId = ++_nextSyncId;
            node.Output.Write((node.Id, helloRequestId), static (writer, s) =>
                new HelloResponse(ProtocolLimits.Version, (ulong)s.Id).Write(writer, s.helloRequestId));
            node.Output.Write(new SyncBegin(mode, _history.Current, syncId, TrustedThrough: 0, LiveAfter: _sequence), static (writer, s) =>
                s.Write(writer, SyncMessages.ControlIdBit | s.SyncId));
            if (mode == SyncMode.Replay)
                replayed = _backlog.ReplayAfter(node.HelloSequence, node.Output);
            _writeTargets = [.. _writeTargets, node];

            if (mode == SyncMode.Full)
                _syncs[node] = new SyncSession(node);
            else
                WriteSyncEnd(node, syncId);
        }
        node.ReplayedWrites = replayed;
        Stats.Replayed(replayed);
        node.Output.Flush();
        LogNodeJoined(node.Id, node.RemoteAddress, node.HelloSequence, mode, replayed);
        if (mode == SyncMode.Full)
        {
            Stats.FullSyncStarted();
            StartWaitingSyncs();
        }
        return true;
    }

    /// <summary>
    /// After a router start, the first hellos are gathered for <see cref="RouterOptions.JoinGrace"/>;
    /// then the most advanced node's data becomes the reference and a new history begins from it.
    /// </summary>
    private Task WaitForAdoptionAsync(NodeLink node, CancellationToken cancellationToken)
    {
        lock (_writeOrder)
        {
            if (_history.IsAdopted)
                return Task.CompletedTask;
            _adoptionCandidates.Add((node.HelloHistory, node.HelloSequence));
            if (_adoptionCandidates.Count == 1)
                _ = AdoptAfterGraceAsync();
        }
        return _adopted.Task.WaitAsync(cancellationToken);
    }

    private async Task AdoptAfterGraceAsync()
    {
        await Task.Delay(_options.JoinGrace).ConfigureAwait(false);
        lock (_writeOrder)
        {
            // A node with data but no history was interrupted in a full sync: it is the last choice.
            var best = _adoptionCandidates.OrderByDescending(c => c.History != Guid.Empty).ThenByDescending(c => c.Sequence).First();
            _history.Adopt(best.History, best.Sequence);
            // Never hand out a sequence a node already holds (the router may have restarted).
            _sequence = Math.Max(_sequence, best.Sequence);
            _backlog.Clear();
            LogAdopted(_history.Current, best.History, best.Sequence, _adoptionCandidates.Count);
            _adoptionCandidates.Clear();
        }
        _adopted.TrySetResult();
    }

    /// <summary>Queues the end of a join: the node reflects every write up to now once it reaches this frame.</summary>
    private void WriteSyncEnd(NodeLink node, ulong syncId) =>
        node.Output.Write((SyncMessages.ControlIdBit | syncId, _sequence), static (writer, s) =>
            new SyncEnd(s._sequence).Write(writer, s.Item1));

    /// <summary>The node acknowledged SyncEnd: it holds every write and may serve reads.</summary>
    private void MarkServing(NodeLink node)
    {
        lock (_writeOrder)
        {
            if (node.State != NodeState.Syncing)
                return;
            node.State = NodeState.Serving;
            _readTargets = [.. _readTargets, node];
            _syncs.Remove(node);
        }
        Stats.SyncCompleted();
        LogNodeServing(node.Id, node.RemoteAddress);
        StartWaitingSyncs();
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
            if (node.Slot >= 0 && _nodeSlots[node.Slot] == node)
                _nodeSlots[node.Slot] = null;
            _syncs.Remove(node);
            foreach (var session in _syncs.Values)
            {
                if (session.Donor == node)
                {
                    session.Donor = null; // restarts from another donor below
                    Stats.SyncRestarted();
                    LogDonorLost(session.Joiner.Id, node.Id);
                }
            }
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
                if (request.Kind != PendingKind.Read && (request.AwaitedNodes & bit) != 0)
                {
                    request.AwaitedNodes &= ~bit;
                    if (request.Kind == PendingKind.Write)
                        ProgressWrite(request, touched);
                    else
                        ProgressDigest(request, touched);
                }
                else if (request.Kind == PendingKind.Read && request.ReadNode == node)
                {
                    RetryRead(request, touched);
                }
            }
        }
        StartWaitingSyncs();
    }

    [LoggerMessage(20, LogLevel.Information, "Node {NodeId} joined from {Address}: last sequence {LastSequence}, {Mode} ({Replayed} writes replayed)")]
    private partial void LogNodeJoined(int nodeId, string address, ulong lastSequence, SyncMode mode, int replayed);

    [LoggerMessage(21, LogLevel.Warning, "Node {NodeId} ({Address}) left; its requests in flight are retried or settled")]
    private partial void LogNodeLeft(int nodeId, string address);

    [LoggerMessage(22, LogLevel.Information, "Node {NodeId} ({Address}) is current and serving")]
    private partial void LogNodeServing(int nodeId, string address);

    [LoggerMessage(23, LogLevel.Information, "History {History} begins from node data of history {Parent} at sequence {Sequence} (chosen among {Candidates} nodes)")]
    private partial void LogAdopted(Guid history, Guid parent, ulong sequence, int candidates);

    [LoggerMessage(24, LogLevel.Warning, "Sync of node {JoinerId}: donor node {DonorId} left; restarting from another donor")]
    private partial void LogDonorLost(int joinerId, int donorId);
}
