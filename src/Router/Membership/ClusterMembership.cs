using System.IO.Pipelines;
using KvnDb.Protocol;
using KvnDb.Router.Groups;
using KvnDb.Router.Replication;
using KvnDb.Router.Sync;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Membership;

/// <summary>
/// Which nodes are in sync, and how nodes join and leave (DESIGN.md section 3; Kafka's ISR is the
/// model). The in-sync set is durable (<see cref="IMetadataStore"/>: a file, or a router group's Raft log): a member is added once it holds
/// every write and every later write waits for it, and removed before any write is acknowledged
/// without it. After a start, or once the last member is gone, the router <em>adopts</em> a member
/// of the last durable set as the source of truth (<see cref="AdoptionPolicy"/>) and serves nothing
/// until one is back. Every change runs under one async gate, off the I/O hot path.
/// </summary>
internal sealed partial class ClusterMembership : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _adoptionLock = new();
    private readonly List<NodeLink> _candidates = [];
    private readonly HashSet<Guid> _diverged = [];
    private readonly NodeNumbers _numbers;
    private readonly GroupMetadataView _store;
    private readonly RouterOptions _options;
    private readonly RouterStats _stats;
    private readonly NodeTable _nodes;
    private readonly WriteSequencer _sequencer;
    private readonly SyncCoordinator _syncs;
    private readonly RecordLimit _recordLimit;
    private readonly Action<NodeLink> _settle;
    private readonly ILogger _logger;
    private readonly BackgroundWork _adoption;
    private RouterMetadata _metadata;
    private readonly TaskCompletionSource _adopted = NewAdoption();
    // Every member of the durable in-sync set has connected: the grace can gather no better candidate, it ends now.
    private readonly TaskCompletionSource _everyMemberConnected = NewAdoption();
    private bool _graceRunning;
    private string _waitingReason = "no database node has connected yet";
    private string? _lastMemberLeft;

    public ClusterMembership(RouterOptions options, RouterStats stats, NodeTable nodes, WriteSequencer sequencer, SyncCoordinator syncs,
        RecordLimit recordLimit, Action<NodeLink> settle, GroupMetadataView store, NodeNumbers numbers, ILogger<ClusterMembership> logger)
    {
        _options = options;
        _stats = stats;
        _nodes = nodes;
        _sequencer = sequencer;
        _syncs = syncs;
        _recordLimit = recordLimit;
        _settle = settle;
        _logger = logger;
        _adoption = new BackgroundWork(logger);
        _store = store;
        _metadata = _store.Load();
        _numbers = numbers;
        recordLimit.MembersChanged(_metadata.Members, store.Group);
        syncs.SnapshotComplete = CatchUp;
        if (_metadata.Members.Count > 0)
        {
            _waitingReason = $"waiting for an in-sync node ({MemberList(_metadata)}) to reconnect";
            LogLoaded(_store.Location, _metadata.History, MemberList(_metadata));
        }
    }

    public RouterMetadata Metadata => Volatile.Read(ref _metadata);

    /// <summary>Called once a node is admitted (its data may hold keys due to expire that the router knows nothing about).</summary>
    public Action<NodeLink>? NodeAdmitted { get; set; }

    /// <summary>
    /// The node reported another outcome of a write than the majority: its next join is a full sync that
    /// trusts none of its records (<c>trusted through</c> 0). The caller evicts it.
    /// </summary>
    public void MarkDiverged(Guid nodeId)
    {
        lock (_diverged)
            _diverged.Add(nodeId);
    }

    private bool HasDiverged(Guid nodeId)
    {
        lock (_diverged)
            return _diverged.Contains(nodeId);
    }

    public bool IsAdopted => _adopted.Task.IsCompleted;

    /// <summary>
    /// The router is stopping: links that close now leave the in-sync set unchanged on disk, so every member is still one
    /// at the next start (a stop that evicted them one by one would leave only the last to close eligible for adoption).
    /// </summary>
    public bool Stopping
    {
        get => Volatile.Read(ref _stopping);
        set => Volatile.Write(ref _stopping, value);
    }

    private bool _stopping;

    /// <summary>Nodes that left and are not back in sync, with why (shown by info).</summary>
    public DepartureLog Departures { get; } = new();

    /// <summary>Why writes and reads are refused, or null when in-sync nodes are serving.</summary>
    public string? UnavailableReason
    {
        get
        {
            if (!IsAdopted)
                return $"the router serves nothing yet: {Volatile.Read(ref _waitingReason)}";
            return _sequencer.Gating == 0
                ? $"no in-sync database node is available (in-sync set: {MemberList(Metadata)}; waiting for one of them, or a node that can replay the log)"
                    + (Volatile.Read(ref _lastMemberLeft) is { } left ? $"; {left}" : "")
                : null;
        }
    }

    /// <summary>Display numbers of in-sync members that are not connected as admitted members.</summary>
    public IEnumerable<int> MissingMembers()
    {
        var connected = _nodes.Connected;
        foreach (var member in Metadata.Members)
            if (!Array.Exists(connected, n => n.NodeId == member.NodeId && n.IsAdmitted))
                yield return member.Number;
    }

    /// <summary>A stable display number for a node id (kept in the metadata with the next change).</summary>
    public int NumberFor(Guid nodeId) => _numbers.NumberFor(nodeId);

    /// <summary>The replica group whose in-sync set this is.</summary>
    public string Group => _store.Group;

    /// <summary>
    /// Admits a node after its hello: waits for adoption, decides how it catches up (current,
    /// replay from the log, or full sync), opens its sender and sends the hello reply and SyncBegin
    /// before any live write. Returns false when all node slots are taken.
    /// </summary>
    public async Task<bool> JoinAsync(NodeLink node, PipeWriter output, Action keepAlive, CancellationToken cancellationToken)
    {
        while (true)
        {
            await WaitForAdoptionAsync(node, keepAlive, cancellationToken).ConfigureAwait(false);
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!IsAdopted)
                    continue; // the last member left meanwhile: wait for the next adoption
                if (_nodes.Find(node.NodeId) is { } previous)
                {
                    // The same node on a new link: the old one is half-open or dying. Settle it first.
                    previous.Abort("replaced by a new link from the same node");
                    await LeaveLockedAsync(previous, "replaced by a new link from the same node").ConfigureAwait(false);
                    if (!IsAdopted)
                        continue;
                }
                if (!_nodes.TryAdd(node))
                    return false;
                Open(node, output);
                break;
            }
            finally
            {
                _gate.Release();
            }
        }
        if (node.JoinMode == SyncMode.Full)
            _syncs.Start(node);
        else
            CatchUp(node);
        return true;
    }

    /// <summary>Under the sequencer lock, so no write falls between the node's cursor and its SyncBegin.</summary>
    private void Open(NodeLink node, PipeWriter output)
    {
        var metadata = Metadata;
        var claims = node.Hello;
        node.IsMember = metadata.IsMember(node.NodeId);
        lock (_sequencer.SyncRoot)
        {
            var head = _sequencer.Sequence;
            var log = _sequencer.Log;
            var diverged = HasDiverged(node.NodeId);
            var prefix = !diverged && metadata.IsPrefix(claims.History, claims.Sequence, head);
            node.JoinMode = !prefix ? SyncMode.Full
                : claims.Sequence == head ? SyncMode.Current
                : log.Covers(claims.Sequence) ? SyncMode.Replay
                : SyncMode.Full;
            var cursor = node.JoinMode == SyncMode.Replay ? log.OpenCursorAfter(claims.Sequence) : log.OpenCursorAtEnd();
            node.Sender = new NodeSender(output, cursor, log, deferBatchFlush: _options.SendsInline);
            node.StartAckedAt(node.JoinMode == SyncMode.Full ? head : claims.Sequence);
            node.ReplayedWrites = node.JoinMode == SyncMode.Replay ? head - claims.Sequence : 0;
            var begin = new SyncBegin(node.JoinMode, metadata.History, _syncs.NextSyncId(),
                TrustedThrough: diverged ? 0 : metadata.TrustedThrough(claims.History, claims.Sequence, head), LiveAfter: cursor.Sequence);
            node.Sender.TrySend(begin, static (writer, b) => b.Write(writer, SyncMessages.ControlIdBit | b.SyncId));
            if (!prefix && claims.History == metadata.History && claims.Sequence > head)
                LogAheadOfHistory(node.Id, claims.Sequence, head);
        }
        _stats.Replayed((int)Math.Min(node.ReplayedWrites, int.MaxValue));
        node.Sender.Flush();
        LogNodeJoined(node.Id, node.RemoteAddress, claims.Sequence, node.JoinMode, node.ReplayedWrites, node.IsMember);
    }

    /// <summary>Writes a joiner may still owe when it starts to gate writes: so few that nobody waits on its catch-up.</summary>
    private const ulong CaughtUpWithin = 256;

    /// <summary>
    /// Waits until the joiner has been sent the whole log and has acknowledged it, then finishes its
    /// join; so the writers never wait while a joiner works through a long replay.
    /// </summary>
    private void CatchUp(NodeLink node) =>
        node.Sender.WhenCaughtUp(() => node.WhenAckedThrough(node.Sender.SentSequence, () => FinishJoin(node)));

    /// <summary>
    /// The joiner has been sent everything (and applied the snapshot, for a full sync): SyncEnd tells
    /// it the position it now reflects. While in-sync nodes take writes, every write from now on also
    /// waits for the joiner; while none does (the last one left), nothing is written until the joiner
    /// is durably admitted, so it holds every write the moment it enters the set.
    /// </summary>
    private void FinishJoin(NodeLink node)
    {
        lock (_sequencer.SyncRoot)
        {
            if (node.State == NodeState.Gone || node.Sender.IsClosed)
                return;
            var position = _sequencer.Sequence;
            if (position - Math.Min(position, node.AckedSequence) > CaughtUpWithin)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Self.CatchUp(s.node), (Self: this, node), preferLocal: false);
                return; // writes arrived faster than it applied them: another round first
            }
            if (_sequencer.Gating != 0)
                _sequencer.AddGating(node.Bit);
            node.ExpectSyncEnd(); // before it can be answered: another thread's flush may send it at once
            if (!node.Sender.TrySendAfter(position, new SyncEnd(position), static (writer, end) =>
                end.Write(writer, SyncMessages.ControlIdBit)))
                return;
        }
        node.Sender.Flush();
    }

    /// <summary>The node acknowledged SyncEnd: it holds every write, and every later one waits for it.</summary>
    public async Task AdmitAsync(NodeLink node)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (node.State == NodeState.Gone || !IsAdopted)
                return;
            lock (_sequencer.SyncRoot)
            {
                if ((_sequencer.Gating & node.Bit) == 0 && _sequencer.Gating != 0)
                {
                    // Others took writes since its SyncEnd without waiting for it: finish the join again.
                    ThreadPool.UnsafeQueueUserWorkItem(static s => s.Self.CatchUp(s.node), (Self: this, node), preferLocal: false);
                    return;
                }
            }
            var metadata = Metadata;
            var connected = _nodes.Connected;
            // Members that are not connected and in sync drop out: only the ones admitted now hold every write.
            var stay = metadata.Members.Where(m => m.NodeId != node.NodeId && Array.Exists(connected, n => n.NodeId == m.NodeId && n.IsAdmitted)).ToList();
            var joined = new InSyncMember(node.NodeId, node.Id, node.Hello.Flags.HasFlag(NodeHelloFlags.Embedded), node.Hello.MaxRecord);
            // Rewritten too when the member came back with another record limit (a new --memory): the file bounds writes while it is away.
            if (!metadata.IsMember(node.NodeId) || stay.Count != metadata.Members.Count - 1
                || metadata.Members.Single(m => m.NodeId == node.NodeId).MaxRecord != joined.MaxRecord)
            {
                await SaveAsync(metadata with { Members = [.. stay, joined] }).ConfigureAwait(false);
                LogAdmitted(node.Id, MemberList(Metadata));
            }
            lock (_sequencer.SyncRoot)
                _sequencer.AddGating(node.Bit);
            node.IsMember = true;
            node.IsAdmitted = true;
            Departures.Forget(node.NodeId);
            Volatile.Write(ref _lastMemberLeft, null);
            if (node.State == NodeState.Syncing)
                node.State = NodeState.Serving;
            if (node.State == NodeState.Serving)
                _nodes.SetServing(node, true);
        }
        finally
        {
            _gate.Release();
        }
        LogNodeServing(node.Id, node.RemoteAddress);
        lock (_diverged)
            _diverged.Remove(node.NodeId);
        NodeAdmitted?.Invoke(node);
        _syncs.StartWaiting();
    }

    /// <summary>The node's link closed (or it was evicted): settle what it owed, and leave the in-sync set durably first.</summary>
    public async Task LeaveAsync(NodeLink node, string reason)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await LeaveLockedAsync(node, reason).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task LeaveLockedAsync(NodeLink node, string reason)
    {
        lock (_adoptionLock)
            _candidates.Remove(node);
        if (node.State == NodeState.Gone || node.Slot < 0)
        {
            node.State = NodeState.Gone;
            return;
        }
        node.State = NodeState.Gone;
        _nodes.SetServing(node, false); // no new reads first
        var lastMember = false;
        var metadata = Metadata;
        // A stopping router writes nothing any more: the member keeps its place for the next start.
        if (metadata.IsMember(node.NodeId) && !Stopping)
        {
            var rest = metadata.Members.Where(m => m.NodeId != node.NodeId).ToList();
            if (rest.Count > 0 && IsAdopted)
            {
                await SaveAsync(metadata with { Members = rest }).ConfigureAwait(false);
                LogEvicted(node.Id, reason, MemberList(Metadata));
            }
            else
            {
                lastMember = true; // it alone holds every acknowledged write: it stays in the set
                Volatile.Write(ref _lastMemberLeft, $"the last one, node {node.Id}, left: {reason}"); // before its writes are answered
            }
        }
        node.IsMember = false;
        lock (_sequencer.SyncRoot)
            _sequencer.RemoveGating(lastMember ? ulong.MaxValue : node.Bit);
        node.Sender?.Close();
        _settle(node);
        _syncs.OnNodeLeft(node);
        _nodes.Remove(node);
        Departures.Record(node, reason);
        LogNodeLeft(node.Id, node.RemoteAddress, reason);
        if (lastMember)
        {
            LogWaiting($"the last in-sync node {node.Id} left ({reason}); nothing is written until it, or a node that can replay the log, is back");
        }
    }

    private async Task WaitForAdoptionAsync(NodeLink node, Action keepAlive, CancellationToken cancellationToken)
    {
        Task adopted;
        lock (_adoptionLock)
        {
            adopted = _adopted.Task;
            if (adopted.IsCompleted)
                return;
            _candidates.Add(node);
            var metadata = Metadata;
            if (!AdoptionPolicy.IsEligible(node, metadata, _options.ForceAdopt))
            {
                var why = AdoptionPolicy.WhyNot(node, metadata) ?? "not eligible";
                _waitingReason = $"node {node.Id} connected but cannot be the source of truth ({why}); waiting for an in-sync node ({MemberList(metadata)}) to reconnect";
                LogNotEligible(node.Id, why);
            }
            else if (!_graceRunning)
            {
                _graceRunning = true;
                _adoption.Start("adoption of the most advanced node after the join grace", AdoptAfterGraceAsync);
            }
            if (EveryMemberIsCandidate(metadata))
                _everyMemberConnected.TrySetResult();
        }
        // The node waits with its hello answered: pings keep its watchdog from dropping the link meanwhile.
        while (!adopted.IsCompleted)
        {
            await Task.WhenAny(adopted, Task.Delay(_options.Heartbeat, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (!adopted.IsCompleted)
                keepAlive();
        }
    }

    /// <summary>
    /// True when every member of the last durable in-sync set is among the candidates (under the adoption lock). Only
    /// members can be the source of truth then, so waiting longer cannot find a more advanced one: after a router group's
    /// failover (or a restart) with every in-sync node back, adoption does not wait out the join grace.
    /// </summary>
    private bool EveryMemberIsCandidate(RouterMetadata metadata) =>
        !AdoptionPolicy.StartsFresh(metadata, _options.ForceAdopt)
        && metadata.Members.All(m => _candidates.Exists(c => c.NodeId == m.NodeId && c.State != NodeState.Gone));

    /// <summary>
    /// Gathers hellos for the join grace after the first eligible one (or until every in-sync member has connected), then
    /// adopts the most advanced eligible node.
    /// </summary>
    private async Task AdoptAfterGraceAsync(CancellationToken cancellationToken)
    {
        using (var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var waited = await Task.WhenAny(Task.Delay(_options.JoinGrace, grace.Token), _everyMemberConnected.Task).ConfigureAwait(false);
            await grace.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (waited == _everyMemberConnected.Task)
                LogEveryMemberConnected(MemberList(Metadata));
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            NodeLink? source;
            TaskCompletionSource adopted;
            lock (_adoptionLock)
            {
                _graceRunning = false;
                // A second grace can start in the moment between the first one's choice and its adoption
                // (a node waiting then sees no grace running and no adoption yet). It must never adopt
                // again: that would begin another history and reset the log under the senders' cursors.
                if (_adopted.Task.IsCompleted)
                {
                    _candidates.Clear();
                    return;
                }
                _candidates.RemoveAll(c => c.State == NodeState.Gone);
                source = AdoptionPolicy.Choose(_candidates, Metadata, _options.ForceAdopt);
                adopted = _adopted;
                if (source is null)
                    return; // the eligible node left during the grace: wait for the next one
                _candidates.Clear();
            }
            await AdoptAsync(source).ConfigureAwait(false);
            adopted.TrySetResult();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task AdoptAsync(NodeLink source)
    {
        var previous = Metadata;
        var fresh = previous.Members.Count == 0 || previous.Members.All(m => m.Embedded);
        await SaveAsync(previous with
        {
            History = Guid.NewGuid(),
            ParentHistory = source.Hello.History,
            ForkSequence = source.Hello.Sequence,
            Members = [new InSyncMember(source.NodeId, source.Id, source.Hello.Flags.HasFlag(NodeHelloFlags.Embedded), source.Hello.MaxRecord)],
        }).ConfigureAwait(false);
        _sequencer.Restart(source.Hello.Sequence);
        if (_options.ForceAdopt && !fresh)
            LogForcedAdoption(source.Id, MemberList(previous));
        LogAdopted(Metadata.History, source.Hello.History, source.Hello.Sequence, source.Id, fresh);
    }

    /// <summary>The change takes effect only once durable (a group: committed in Raft); when it cannot be, it throws and nothing changes.</summary>
    private async Task SaveAsync(RouterMetadata metadata)
    {
        metadata = metadata with { NodeNumbers = _numbers.Snapshot() };
        await _store.SaveAsync(metadata).ConfigureAwait(false);
        Volatile.Write(ref _metadata, metadata);
        _recordLimit.MembersChanged(metadata.Members, _store.Group);
    }

    private static string MemberList(RouterMetadata metadata) =>
        metadata.Members.Count == 0 ? "none" : string.Join(", ", metadata.Members.Select(m => $"node {m.Number}"));

    /// <summary>Waits for an adoption under way (its grace is cut short).</summary>
    public ValueTask DisposeAsync() => _adoption.DisposeAsync();

    private static TaskCompletionSource NewAdoption() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(20, LogLevel.Information, "Node {NodeId} joined from {Address}: last sequence {LastSequence}, {Mode} ({Replayed} writes to replay); in-sync member: {Member}")]
    private partial void LogNodeJoined(int nodeId, string address, ulong lastSequence, SyncMode mode, ulong replayed, bool member);

    [LoggerMessage(21, LogLevel.Warning, "Node {NodeId} ({Address}) left: {Reason}; its requests in flight are retried or settled")]
    private partial void LogNodeLeft(int nodeId, string address, string reason);

    [LoggerMessage(22, LogLevel.Information, "Node {NodeId} ({Address}) is in sync and serving")]
    private partial void LogNodeServing(int nodeId, string address);

    [LoggerMessage(23, LogLevel.Information, "History {History} begins from node {NodeId}'s data (history {Parent}, sequence {Sequence}); fresh cluster: {Fresh}")]
    private partial void LogAdopted(Guid history, Guid parent, ulong sequence, int nodeId, bool fresh);

    [LoggerMessage(25, LogLevel.Information, "Node {NodeId} entered the in-sync set: {Members}")]
    private partial void LogAdmitted(int nodeId, string members);

    [LoggerMessage(26, LogLevel.Warning, "Node {NodeId} left the in-sync set ({Reason}): {Members}")]
    private partial void LogEvicted(int nodeId, string reason, string members);

    [LoggerMessage(27, LogLevel.Warning, "Serving nothing: {Reason}")]
    private partial void LogWaiting(string reason);

    [LoggerMessage(28, LogLevel.Warning, "Node {NodeId} cannot be adopted as the source of truth: {Reason}")]
    private partial void LogNotEligible(int nodeId, string reason);

    [LoggerMessage(29, LogLevel.Warning, "--force-adopt: node {NodeId} adopted although the in-sync set was {Members}; writes only they held are lost")]
    private partial void LogForcedAdoption(int nodeId, string members);

    [LoggerMessage(37, LogLevel.Information, "Router metadata {Location}: history {History}, in-sync set {Members}")]
    private partial void LogLoaded(string location, Guid history, string members);

    [LoggerMessage(41, LogLevel.Information, "Every in-sync node ({Members}) has connected: adopting the most advanced without waiting out the join grace")]
    private partial void LogEveryMemberConnected(string members);

    [LoggerMessage(38, LogLevel.Warning, "Node {NodeId} claims sequence {Claimed} of the current history, ahead of the router's {Head}: those writes were never acknowledged and are replaced by a full sync")]
    private partial void LogAheadOfHistory(int nodeId, ulong claimed, ulong head);
}
