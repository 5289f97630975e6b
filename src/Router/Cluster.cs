using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Protocol;
using KvnDb.Router.Expiry;
using KvnDb.Router.Groups;
using KvnDb.Router.Membership;
using KvnDb.Router.Sync;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>
/// The router core the front doors (native sessions, RESP) talk to: a small facade over its
/// replica groups (<see cref="ReplicaGroup"/>: each with its <see cref="WriteSequencer"/> and replication
/// log, <see cref="ReadRouter"/>, <see cref="ClusterMembership"/> (in-sync set, joins, adoption),
/// <see cref="SyncCoordinator"/>, <see cref="DigestCoordinator"/> and expiry), the slot map that routes
/// every request to its group (<see cref="GroupRouter"/>), and the <see cref="NodeHealthMonitor"/>. Lock order (docs/architecture.md): membership gate, then a
/// pending request's lock, then the sequencer lock, then the node table's lock, then a node
/// sender's or client output's lock; the sync coordinator's lock is never held while calling out.
/// </summary>
internal sealed partial class Cluster : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly BackgroundWork _membershipWork;

    public Cluster(RouterOptions options, ILoggerFactory loggerFactory)
    {
        Options = options;
        ReplySizes = new ReplySizes(options.MaxFrameSize);
        NodeSecret = CredentialPolicy.NodeSecret(options);
        _logger = loggerFactory.CreateLogger<Cluster>();
        _membershipWork = new BackgroundWork(_logger);
        Pending = new PendingTable(options.MaxPendingRequests);
        RecordLimit = new RecordLimit(WriteSequencer.LargestRecordFor(options), loggerFactory.CreateLogger<RecordLimit>());
        Clock = new RouterClock(options.Clock);
        Metadata = new SharedMetadata(options.MetadataStore ?? new FileMetadataStore(options.DataDirectory));
        var numbers = new NodeNumbers(Metadata.Document.NodeNumbers);
        _numbers = numbers;
        _loggerFactory = loggerFactory;
        var map = GroupLayout.Load(Metadata, options.Groups);
        _groups = [.. map.Groups.Select((name, index) => new ReplicaGroup(index, name, this, new GroupMetadataView(Metadata, name), numbers, loggerFactory))];
        Slots = map;
        Routes = RouteTable.Plain(map);
        Primary = Groups[0];
        Routing = new GroupRouter(this);
        Migrations = new MigrationCoordinator(this, loggerFactory);
        if (Groups.Length > 1)
            Migrations.ResumeRecorded();
        Health = new NodeHealthMonitor(options, this, loggerFactory.CreateLogger<NodeHealthMonitor>());
        Connections = new KvnDb.Router.Connections.ConnectionBudget(options, loggerFactory.CreateLogger<KvnDb.Router.Connections.ConnectionBudget>());
    }

    /// <summary>The connection budget across every listener (a Kestrel middleware in front of each port).</summary>
    public KvnDb.Router.Connections.ConnectionBudget Connections { get; }

    public RouterClock Clock { get; }

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the router begins to stop: every session and node link ends, nodes are told why first.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>The router is stopping: sessions and node links end now (node links send a Closing notice first).</summary>
    public Task BeginStopAsync()
    {
        foreach (var group in Groups)
            group.Membership.Stopping = true;
        return _stopping.CancelAsync();
    }

    /// <summary>The router's metadata document (every group's in-sync set and history, the slot map).</summary>
    public SharedMetadata Metadata { get; }

    private readonly NodeNumbers _numbers;
    private readonly ILoggerFactory _loggerFactory;
    private ReplicaGroup[] _groups;

    /// <summary>The replica groups, by index in the slot map (replaced whole when a group is added).</summary>
    public ReplicaGroup[] Groups => Volatile.Read(ref _groups);

    /// <summary>
    /// Adds an empty group to the running router (<see cref="MigrationCoordinator.AddGroupAsync"/>, once the metadata names
    /// it durably, with no migration under way): it owns no slot, so no request routes to it until slots are moved to it.
    /// </summary>
    public ReplicaGroup AddGroup(string name)
    {
        var groups = Groups;
        var group = new ReplicaGroup(groups.Length, name, this, new GroupMetadataView(Metadata, name), _numbers, _loggerFactory);
        var map = Slots.WithGroup(name);
        Volatile.Write(ref _groups, [.. groups, group]); // before the map names it
        Slots = map;
        Routes = RouteTable.Plain(map);
        group.Expiry.Start();
        return group;
    }

    private SlotMap _slots = null!;
    private RouteTable _routes = null!;

    /// <summary>Which group owns each slot (replaced whole by a migration's switch).</summary>
    public SlotMap Slots
    {
        get => Volatile.Read(ref _slots);
        set => Volatile.Write(ref _slots, value);
    }

    /// <summary>How requests are routed: the slot map, with a migration's lane while slots move (<see cref="GroupRouter"/>).</summary>
    public RouteTable Routes
    {
        get => Volatile.Read(ref _routes);
        set => Volatile.Write(ref _routes, value);
    }

    /// <summary>Slot migrations between groups (docs/architecture.md, "Slot migration").</summary>
    public MigrationCoordinator Migrations { get; }

    /// <summary>Routes requests to their groups (split and merged when they span several).</summary>
    public GroupRouter Routing { get; }

    /// <summary>The first group: the only one of a cluster of one group (what the members below name).</summary>
    public ReplicaGroup Primary { get; }

    /// <summary>The group a node named in its hello, or null when this router has no group of that name.</summary>
    public ReplicaGroup? GroupNamed(string name) => Array.Find(Groups, g => g.Name == name);

    /// <summary>Sends the nodes time marks so expired keys are removed (the first group's; each group has its own).</summary>
    public ExpiryScheduler Expiry => Primary.Expiry;

    public RouterOptions Options { get; }

    /// <summary>The secret a node's hello must carry (<see cref="CredentialPolicy.NodeSecret"/>), fixed for this router's life.</summary>
    public string NodeSecret { get; }

    public RouterStats Stats { get; } = new();

    /// <summary>What each key's reply may weigh, learned from the writes sequenced (bounds client windows in bytes).</summary>
    public ReplySizes ReplySizes { get; }

    /// <summary>Every connected node, of every group (each group's table lists its own).</summary>
    public NodeTable Nodes { get; } = new();

    public PendingTable Pending { get; }

    /// <summary>The largest key + value a write may carry: the smallest any connected node or in-sync member can store.</summary>
    public RecordLimit RecordLimit { get; }

    public WriteSequencer Sequencer => Primary.Sequencer;

    public ReadRouter Reads => Primary.Reads;

    public SyncCoordinator Syncs => Primary.Syncs;

    public ClusterMembership Membership => Primary.Membership;

    public DigestCoordinator Digests => Primary.Digests;

    public NodeHealthMonitor Health { get; }

    /// <summary>Sessions that asked to see every request (<c>kvndb monitor</c>).</summary>
    public MonitorHub Monitors { get; } = new();

    /// <summary>Set once the metrics exist (they observe the cluster, so they are built after it).</summary>
    public RouterMetrics? Metrics
    {
        get => Pending.Metrics;
        set => Pending.Metrics = value;
    }

    /// <summary>Writes sequenced so far: the sum of every group's sequence (the one sequence of a cluster of one group).</summary>
    public ulong Sequence
    {
        get
        {
            ulong sum = 0;
            foreach (var group in Groups)
                sum += group.Sequencer.Sequence;
            return sum;
        }
    }

    public Guid HistoryId => Membership.Metadata.History;

    /// <summary>True once every group adopted a source of truth (each serves from then on).</summary>
    public bool IsAdopted => Array.TrueForAll(Groups, g => g.Membership.IsAdopted);

    public int PendingRequests => Pending.InUse;

    public int ServingNodeCount => Nodes.Serving.Length;

    // One group: straight to it, no slot computed (the router before groups, at the same cost).
    public void SubmitWrite(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if (Groups.Length == 1)
            Primary.Sequencer.SubmitWrite(client, header, frame, flush);
        else
            Routing.SubmitWrite(client, header, frame, flush);
    }

    public void SubmitRead(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if (Groups.Length == 1)
            Primary.Reads.SubmitRead(client, header, frame, flush);
        else
            Routing.SubmitRead(client, header, frame, flush);
    }

    public void SubmitDigest(IReplyTarget client, in FrameHeader header, FlushSet flush)
    {
        if (Groups.Length == 1)
            Primary.Digests.SubmitDigest(client, header, flush);
        else
            Routing.SubmitDigest(client, header, flush);
    }

#pragma warning disable CA1822 // the facade's surface: callers hold the cluster, the work is the node's group's
    public Task<bool> JoinAsync(NodeLink node, PipeWriter output, Action keepAlive, CancellationToken cancellationToken) =>
        node.Group.Membership.JoinAsync(node, output, keepAlive, cancellationToken);

    public Task OnNodeLinkClosedAsync(NodeLink node) => node.Group.Membership.LeaveAsync(node, node.EvictionReason
        ?? (node.Status is { Storage: NodeStorageState.RefusingWrites } status ? $"its storage refuses writes ({status.Message})" : "its link closed"));
#pragma warning restore CA1822

    /// <summary>Routes a node's reply to the request it answers; replies for finished requests are dropped.</summary>
    public void OnNodeReply(NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        var request = Pending.Find(header.RequestId);
        if (request is null)
            return;
        lock (request)
        {
            if (request.Id != header.RequestId)
                return;
            if (header.Opcode != request.Opcode)
            {
                node.Violate($"it answered a {request.Opcode} with a {header.Opcode} reply");
                return;
            }
            switch (request.Kind)
            {
                case PendingKind.Read:
                    if (request.ReadNode == node && !IsWellFormedRead(request, header, frame))
                    {
                        // Retried on another node once the link is down (Settle): the client never sees it.
                        node.Violate($"its {header.Opcode} reply ({header.Status}, {header.BodyLength} bytes) does not have the shape of that reply");
                        return;
                    }
                    node.Group.Reads.OnReadReply(request, node, header, frame, flush);
                    break;
                case PendingKind.Write:
                    if (NodeReplyChecks.CheckWrite(request, node, header, frame) is { } badWrite)
                    {
                        node.Violate(badWrite); // its outcome never counts: the others settle the write (Settle)
                        return;
                    }
                    node.Group.Sequencer.OnWriteReply(request, node, header, frame, flush);
                    break;
                default:
                    if (NodeReplyChecks.CheckDigest(request, node, header, frame) is { } badDigest)
                    {
                        node.Violate(badDigest);
                        return;
                    }
                    node.Group.Digests.OnDigestReply(request, node, header, frame, flush);
                    break;
            }
        }
    }

    private static bool IsWellFormedRead(PendingRequest request, in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        if (header.Opcode != Opcode.MultiGet || header.Status != StatusCode.Ok)
            return NodeReplyRules.IsWellFormedRead(header.Opcode, header.Status, body.Span, request.RetryFrameSpan);
        // A multi-get reply may come in chunks (the client asked for them): each one continues the entries before it.
        if (!NodeReplyRules.IsWellFormedMultiGet(body.Span, request.RetryFrameSpan, request.EntriesForwarded, header.HasMore, out var entries))
            return false;
        request.EntriesForwarded += entries;
        return true;
    }

    /// <summary>
    /// A node broke the protocol (<see cref="NodeLink.Violation"/>): its link is dropped and it leaves like a node whose
    /// link closed; what it owed is retried or settled by the others. Its word is never passed on to a client.
    /// </summary>
    public void OnNodeViolation(NodeLink node, string violation)
    {
        node.EvictionReason ??= $"it broke the protocol: {violation}";
        Stats.Error();
        LogNodeViolation(node.Id, node.RemoteAddress, violation);
    }

    /// <summary>Replies to the router's own frames on a node link (sync control).</summary>
    public void OnControlReply(NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if (header.Opcode is (Opcode.SyncEnd or Opcode.SnapshotApply) && header.Status.IsError())
            OnApplyFailed(node, $"node {node.Id}: {ErrorReply.Read(frame.Slice(ProtocolLimits.HeaderSize))}");
        else if (header.Opcode == Opcode.SyncEnd)
            _membershipWork.Start($"admission of node {node.Id} to the in-sync set", _ => AdmitAsync(node)); // fsyncs: off the I/O thread
        else if (header.Opcode == Opcode.TimeMark)
            node.Group.Expiry.OnProbeReply(header, frame);
        else if (header.Opcode == Opcode.MigrationRead)
            Migrations.OnChunk(node, header, frame);
        else
            node.Group.Syncs.OnReply(node, header, frame, flush);
    }

    /// <summary>
    /// A node answered a write (or a sync frame) with an error: it failed to apply it and diverged. It leaves the
    /// in-sync set durably and its link is closed; it rejoins (replay or full sync) when it connects again. Runs
    /// off the caller's locks (a pending request's, the link's read loop): leaving takes the membership gate.
    /// </summary>
    public void OnApplyFailed(NodeLink node, string message)
    {
        if (!node.TryStartEviction())
            return;
        var reason = $"it failed to apply a write ({message})";
        node.EvictionReason = reason; // whichever comes first, this eviction or the link closing, says why
        Stats.NodeApplyFailure();
        LogApplyFailed(node.Id, message);
        _membershipWork.Start($"eviction of node {node.Id} after a failed apply", _ => EvictAsync(node, reason)); // leaving takes the membership gate: off the caller's locks
    }

    private async Task EvictAsync(NodeLink node, string reason)
    {
        try
        {
            await node.Group.Membership.LeaveAsync(node, reason).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not durable: the node keeps counting for writes, which time out instead of being acknowledged without it.
            LogEvictFailed(node.Id, ex);
        }
        finally
        {
            node.Abort(reason);
        }
    }

    private async Task AdmitAsync(NodeLink node)
    {
        try
        {
            await node.Group.Membership.AdmitAsync(node).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The in-sync set could not be made durable: the node must not count as in sync.
            LogAdmitFailed(node.Id, ex);
            node.Abort("its admission to the in-sync set could not be made durable");
        }
    }

    /// <summary>A node left: every write and digest stops waiting for it, its reads go to another node of its group.</summary>
    public void Settle(NodeLink node)
    {
        var group = node.Group;
        var flush = new FlushSet();
        foreach (var request in Pending.Slots)
        {
            lock (request)
            {
                if (request.Id == 0)
                    continue;
                if (request.Kind == PendingKind.Write)
                    group.Sequencer.StopAwaiting(request, node.Bit, flush);
                else if (request.Kind == PendingKind.Digest)
                    group.Digests.StopAwaiting(request, node.Bit, flush);
                else if (request.ReadNode == node)
                    group.Reads.Retry(request, flush);
            }
        }
        flush.FlushAll();
    }

    /// <summary>The node turned suspect: its reads in flight go to another node.</summary>
    public void RetryReadsOf(NodeLink node)
    {
        var flush = new FlushSet();
        foreach (var request in Pending.Slots)
        {
            lock (request)
            {
                if (request.Id != 0 && request.Kind == PendingKind.Read && request.ReadNode == node)
                    node.Group.Reads.Retry(request, flush);
            }
        }
        flush.FlushAll();
    }

    /// <summary>Answers Unavailable to every write still unanswered after <paramref name="timeout"/>.</summary>
    public void TimeOutWrites(TimeSpan timeout)
    {
        var flush = new FlushSet();
        foreach (var request in Pending.Slots)
        {
            lock (request)
            {
                if (request.Id == 0 || request.Kind != PendingKind.Write || request.ClientAnswered
                    || System.Diagnostics.Stopwatch.GetElapsedTime(request.StartedAt) < timeout)
                    continue;
                // Any group's sequencer answers alike: a time-out only answers the client.
                Primary.Sequencer.TimeOut(request, $"not acknowledged by every in-sync node within {timeout.TotalSeconds:0.#} s " +
                    $"(waiting for {Waiting(request.AwaitedNodes)}); it may or may not have been applied", flush);
            }
        }
        flush.FlushAll();
    }

    /// <summary>Age of the oldest write that waits for this node, or zero.</summary>
    public TimeSpan OldestUnacknowledged(NodeLink node)
    {
        var oldest = TimeSpan.Zero;
        foreach (var request in Pending.Slots)
        {
            if (request.Id != 0 && request.Kind == PendingKind.Write && (request.AwaitedNodes & node.Bit) != 0)
            {
                var age = System.Diagnostics.Stopwatch.GetElapsedTime(request.StartedAt);
                if (age > oldest)
                    oldest = age;
            }
        }
        return oldest;
    }

    private string Waiting(ulong bits) =>
        string.Join(", ", Nodes.Connected.Where(n => (bits & n.Bit) != 0).Select(n => $"node {n.Id}"));

    /// <summary>
    /// Nodes computed another outcome for a write than the majority: their data has diverged (which
    /// validation identical everywhere should make impossible). They leave the in-sync set and come back
    /// only by a full sync that replaces every record they hold.
    /// </summary>
    public void OnDivergence(ulong divergent, PendingRequest request)
    {
        foreach (var node in Nodes.Connected)
        {
            if ((divergent & node.Bit) == 0)
                continue;
            LogDivergence(node.Id, request.Opcode, request.Sequence);
            node.Group.Membership.MarkDiverged(node.NodeId);
            if (!node.TryStartEviction())
                continue;
            const string reason = "its outcome of a write differed from the other nodes' (diverged data)";
            node.EvictionReason = reason;
            _membershipWork.Start($"eviction of node {node.Id} after a divergent outcome", _ => EvictAsync(node, reason));
        }
    }

    /// <summary>Stops the health checks and the expiry checks, then waits for the admissions and the adoption still under way.</summary>
    public async ValueTask DisposeAsync()
    {
        await Migrations.DisposeAsync().ConfigureAwait(false);
        foreach (var group in Groups)
            await group.Expiry.DisposeAsync().ConfigureAwait(false);
        await Health.DisposeAsync().ConfigureAwait(false);
        await _membershipWork.DisposeAsync().ConfigureAwait(false);
        foreach (var group in Groups)
            await group.Membership.DisposeAsync().ConfigureAwait(false);
        Metadata.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(61, LogLevel.Error, "Node {NodeId} diverged: its outcome of {Opcode} at sequence {Sequence} differs from the other nodes'; it leaves the in-sync set and must full-sync")]
    private partial void LogDivergence(int nodeId, Opcode opcode, ulong sequence);

    [LoggerMessage(60, LogLevel.Error, "Node {NodeId} could not be admitted to the in-sync set")]
    private partial void LogAdmitFailed(int nodeId, Exception exception);

    [LoggerMessage(61, LogLevel.Error, "Node {NodeId} failed to apply a write ({Message}): it leaves the in-sync set and stops serving until it has caught up again")]
    private partial void LogApplyFailed(int nodeId, string message);

    [LoggerMessage(63, LogLevel.Warning, "Node {NodeId} ({Address}) broke the protocol: {Violation}; its link is dropped and what it owed goes to the other nodes")]
    private partial void LogNodeViolation(int nodeId, string address, string violation);

    [LoggerMessage(62, LogLevel.Error, "Node {NodeId} could not be taken out of the in-sync set durably")]
    private partial void LogEvictFailed(int nodeId, Exception exception);
}
