using System.IO.Pipelines;
using KvnDb.Protocol;
using KvnDb.Router.Replication;

namespace KvnDb.Router;

/// <summary>
/// A database node connected to the router: who it is (its stable id and what its hello claimed),
/// where it stands (state, in-sync membership, acknowledged position, health), its sender, and the
/// loop reading its replies.
/// </summary>
internal sealed class NodeLink(int number, Guid nodeId, string remoteAddress, HelloClaims hello, Action<string> abort)
{
    private int _outstanding;
    private long _lastHeardMs = Environment.TickCount64;
    private ulong _acked;
    private int _pingOutstanding;
    private volatile NodeState _state = NodeState.Syncing;

    /// <summary>The node's display number (stable for its id while the router's metadata lasts).</summary>
    public int Id { get; } = number;

    public Guid NodeId { get; } = nodeId;

    public string RemoteAddress { get; } = remoteAddress;

    /// <summary>The name the node gave in its hello (kvndb-node --name), cleaned to one word; empty when it gave none.</summary>
    public string Name { get; init; } = "";

    /// <summary>The replica group the node named in its hello (kvndb-node --group): it is sent that group's writes only.</summary>
    public KvnDb.Router.Groups.ReplicaGroup Group { get; init; } = null!;

    /// <summary>What the node said it holds at hello: checked against the durable metadata, never trusted alone.</summary>
    public HelloClaims Hello { get; } = hello;

    /// <summary>Position in write masks, assigned when the node joins.</summary>
    public int Slot { get; set; } = -1;

    public ulong Bit => 1UL << Slot;

    public NodeState State
    {
        get => _state;
        set => _state = value;
    }

    public SyncMode JoinMode { get; set; }

    /// <summary>Log writes the node was behind when it joined by replay.</summary>
    public ulong ReplayedWrites { get; set; }

    /// <summary>A member of the durable in-sync set.</summary>
    public bool IsMember { get; set; }

    /// <summary>Its join completed (SyncEnd acknowledged); it serves reads unless suspect.</summary>
    public bool IsAdmitted { get; set; }

    /// <summary>Set once, when the node joins: the only writer of its link.</summary>
    public NodeSender Sender { get; set; } = null!;

    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>The last sequence the node acknowledged (its replies to writes come in log order).</summary>
    public ulong AckedSequence => Volatile.Read(ref _acked);

    public DateTimeOffset ConnectedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Milliseconds since anything arrived from the node.</summary>
    public long SilentMs => Environment.TickCount64 - Volatile.Read(ref _lastHeardMs);

    public void AddOutstanding() => Interlocked.Increment(ref _outstanding);

    public void RemoveOutstanding() => Interlocked.Decrement(ref _outstanding);

    /// <summary>Starts the acknowledged position where the node's cursor starts.</summary>
    public void StartAckedAt(ulong sequence) => Volatile.Write(ref _acked, sequence);

    /// <summary>True when a ping was sent and no answer came yet; sets the flag.</summary>
    public bool TryStartPing() => Interlocked.Exchange(ref _pingOutstanding, 1) == 0;

    private int _evicting;
    private ulong _ackTarget = ulong.MaxValue;
    private Action? _onAcked;

    /// <summary>Runs <paramref name="callback"/> (on the thread pool) once the node acknowledged every write up to <paramref name="sequence"/>.</summary>
    public void WhenAckedThrough(ulong sequence, Action callback)
    {
        Volatile.Write(ref _onAcked, callback);
        Volatile.Write(ref _ackTarget, sequence);
        CheckAckTarget(); // it may be there already
    }

    private void CheckAckTarget()
    {
        if (AckedSequence < Volatile.Read(ref _ackTarget) || Interlocked.Exchange(ref _onAcked, null) is not { } callback)
            return;
        Volatile.Write(ref _ackTarget, ulong.MaxValue);
        ThreadPool.UnsafeQueueUserWorkItem(static a => a(), callback, preferLocal: false);
    }

    private NodeStatusReport? _status;
    private long _statusHeardMs;

    /// <summary>The node's last storage report (<see cref="Opcode.NodeStatus"/>), or null before the first.</summary>
    public NodeStatusReport? Status => Volatile.Read(ref _status);

    /// <summary>When <see cref="Status"/> arrived (<see cref="Environment.TickCount64"/>), to age what it says.</summary>
    public long StatusHeardMs => Volatile.Read(ref _statusHeardMs);

    private string? _evictionReason;

    /// <summary>Why the router is evicting the node (a write it failed to apply), or null: the reason its leaving is logged and shown with.</summary>
    public string? EvictionReason
    {
        get => Volatile.Read(ref _evictionReason);
        set => Volatile.Write(ref _evictionReason, value);
    }

    /// <summary>True the first time only: the health monitor evicts a node once.</summary>
    public bool TryStartEviction() => Interlocked.Exchange(ref _evicting, 1) == 0;

    /// <summary>Closes the connection (eviction, replacement by a newer link of the same node).</summary>
    public void Abort(string reason) => abort(reason);

    private string? _violation;
    private int _owedSyncEnds;
    private int _owedChunks;
    private int _owedApplies;
    private int _owedProbes;

    /// <summary>How the node broke the protocol (the first violation), or null: a node that breaks it is dropped.</summary>
    public string? Violation => Volatile.Read(ref _violation);

    /// <summary>A SyncEnd was sent: one SyncEnd reply is now legitimate.</summary>
    public void ExpectSyncEnd() => Interlocked.Increment(ref _owedSyncEnds);

    /// <summary>A SnapshotRead was sent to this donor: one chunk is now legitimate.</summary>
    public void ExpectChunk() => Interlocked.Increment(ref _owedChunks);

    /// <summary>A SnapshotApply was sent to this joiner: one acknowledgement is now legitimate.</summary>
    public void ExpectApply() => Interlocked.Increment(ref _owedApplies);

    /// <summary>It was sent a snapshot chunk it has not acknowledged yet: it answers nothing until the chunk is applied.</summary>
    public bool IsApplyingSnapshot => Volatile.Read(ref _owedApplies) > 0;

    /// <summary>An expiry probe (a TimeMark with a control id) was sent to this node: one answer is now legitimate.</summary>
    public void ExpectProbe() => Interlocked.Increment(ref _owedProbes);

    private static bool TryTake(ref int owed)
    {
        while (true)
        {
            var current = Volatile.Read(ref owed);
            if (current <= 0)
                return false;
            if (Interlocked.CompareExchange(ref owed, current - 1, current) == current)
                return true;
        }
    }

    /// <summary>Records the first violation; the read loop stops at it and the link is dropped (<see cref="RunAsync"/>).</summary>
    public void Violate(string reason) => Interlocked.CompareExchange(ref _violation, reason, null);

    /// <summary>Reads replies until the node goes away; each batch's touched peers flush once.</summary>
    public async Task RunAsync(PipeReader input, Cluster cluster, CancellationToken cancellationToken)
    {
        try
        {
            // Error bodies are bounded from the header: a node claiming a huge message is refused before it is buffered.
            await FrameLoop.RunAsync(input, new Replies(this, cluster, new FlushSet(queueClientFlushes: cluster.Options.SendsInline)), new NodeReplySize(cluster.Options.MaxFrameSize), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            // The link is gone; the membership settles what it owed.
        }
        finally
        {
            if (Violation is { } violation)
            {
                cluster.OnNodeViolation(this, violation);
                // Said to the node too (best effort, before the link closes): its operator sees why in its log.
                await SayClosingAsync(StatusCode.ProtocolError, $"the router dropped this node: {violation}", ViolationFlushTimeout).ConfigureAwait(false);
            }
            else if (cluster.Stopping.IsCancellationRequested)
            {
                // The node hears it as a clean close (and reconnects with its backoff), not as a dead link.
                await SayClosingAsync(StatusCode.Unavailable, "the router is stopping", ClosingFlushTimeout).ConfigureAwait(false);
            }
            Sender?.Close();
            await cluster.OnNodeLinkClosedAsync(this).ConfigureAwait(false);
        }
    }

    /// <summary>How long the router waits for a node to be sent its Closing notice (a node that does not read gets none).</summary>
    private static readonly TimeSpan ClosingFlushTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>A dropped node's notice is not racing a shutdown deadline: it may wait longer for a slow link.</summary>
    private static readonly TimeSpan ViolationFlushTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Sends the Closing notice before the link closes. While an earlier flush is still draining, the notice waits in
    /// the pipe and that flush's completion sends it: so the wait is for that flush, else closing the sender now would
    /// leave the notice unsent.
    /// </summary>
    private async Task SayClosingAsync(StatusCode status, string message, TimeSpan timeout)
    {
        if (Sender is not { } sender)
            return;
        sender.TrySend((status, message), static (writer, notice) => ClosingNotice.Write(writer, notice.status, notice.message));
        sender.Flush();
        await sender.FlushWait.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>The link's frame handler: route every reply of a read, then flush what they touched once.</summary>
    private readonly struct Replies(NodeLink node, Cluster cluster, FlushSet flush) : IFrameHandler
    {
        public FrameAction OnFrame(in FrameHeader header, in System.Buffers.ReadOnlySequence<byte> frame)
        {
            node.OnReply(cluster, header, frame, flush);
            // Nothing after a violation is believed: the frames behind it are never handled.
            return node.Violation is null ? FrameAction.Continue : FrameAction.Stop;
        }

        public ValueTask OnFrameAsync(FrameHeader header, System.Buffers.ReadOnlySequence<byte> frame, CancellationToken cancellationToken) => default;

        public ValueTask OnBatchEndAsync(CancellationToken cancellationToken)
        {
            Volatile.Write(ref node._lastHeardMs, Environment.TickCount64);
            flush.FlushAll();
            return default;
        }

        public ValueTask OnPausedAsync(CancellationToken cancellationToken) => default;

        public void OnFrameTooLarge(in FrameHeader header) =>
            node.Violate(NodeReplyRules.CheckHeader(header)
                ?? $"it sent a frame of {(uint)header.BodyLength} bytes, above the frame limit of {cluster.Options.MaxFrameSize}");
    }

    private void OnReply(Cluster cluster, in FrameHeader header, in System.Buffers.ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if (NodeReplyRules.CheckHeader(header) is { } broken)
        {
            Violate(broken);
            return;
        }
        if (header.Opcode == Opcode.NodeStatus)
        {
            // About once a second: the copy of a small report is not on the hot path.
            using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
            if (NodeStatusReport.TryRead(body.Span, out var report))
            {
                Volatile.Write(ref _statusHeardMs, Environment.TickCount64);
                Volatile.Write(ref _status, report);
            }
            return;
        }
        if (header.Opcode == Opcode.Ping && (header.Flags & FrameFlags.Response) == 0)
        {
            // The node's own heartbeat: answer it (its watchdog drops a router that stays silent).
            Sender.TrySend(header.RequestId, static (writer, id) =>
                FrameWriter.WriteHeaderOnly(writer, new FrameHeader(0, Opcode.Ping, FrameFlags.Response, StatusCode.Ok, id)));
            flush.Add(Sender);
            return;
        }
        if ((header.RequestId & SyncMessages.ControlIdBit) != 0)
        {
            if (CheckControlReply(header) is { } unasked)
                Violate(unasked);
            else if (header.Opcode == Opcode.Ping)
                Volatile.Write(ref _pingOutstanding, 0);
            else
                cluster.OnControlReply(this, header, frame, flush);
            return;
        }
        // InvalidValue is an evaluated outcome (the write was applied as "nothing changed"), not a failure: it acknowledges too.
        if (header.Opcode.IsSequencedWrite() && (!header.Status.IsError() || header.Status == StatusCode.InvalidValue))
        {
            // Every log frame is answered, in order: the n-th write reply acknowledges the n-th write sent.
            // An error is no acknowledgement: the node stops there and leaves (Cluster.OnApplyFailed).
            if (_acked >= Sender.SentSequence)
            {
                Violate($"it acknowledged a {header.Opcode} beyond the last write it was sent (sequence {Sender.SentSequence})");
                return;
            }
            Volatile.Write(ref _acked, _acked + 1);
            CheckAckTarget();
        }
        else if (header.Opcode is Opcode.Ping or Opcode.Hello or Opcode.Info)
        {
            Violate($"it answered {header.Opcode} with a request id the router never sent it");
            return;
        }
        cluster.OnNodeReply(this, header, frame, flush);
    }

    /// <summary>
    /// A reply with a control id must answer a control frame the router sent this link and still waits for:
    /// a SyncEnd only while its join is finishing, a chunk only when asked, an acknowledgement only of a chunk sent.
    /// </summary>
    private string? CheckControlReply(in FrameHeader header)
    {
        switch (header.Opcode)
        {
            case Opcode.Ping:
                return null; // the answer to the router's heartbeat (or a late one): harmless
            case Opcode.TimeMark:
                if (!TryTake(ref _owedProbes))
                    return "it answered an expiry probe the router never sent it";
                return header.Status.IsError() || (header.Status == StatusCode.Ok && header.BodyLength == TimeMarkReply.Size)
                    ? null : $"its expiry probe answer ({header.Status}, {header.BodyLength} bytes) does not have the shape of a time mark's";
            case Opcode.SyncEnd:
                return TryTake(ref _owedSyncEnds) ? null : "it answered a SyncEnd the router never sent (no sync is finishing on its link)";
            case Opcode.SnapshotRead or Opcode.MigrationRead:
                return TryTake(ref _owedChunks) ? null : "it sent a snapshot chunk the router did not ask for";
            case Opcode.SnapshotApply:
                return TryTake(ref _owedApplies) ? null : "it acknowledged a snapshot chunk the router never sent it";
            default:
                return $"it answered {header.Opcode} with a control id the router never uses for it";
        }
    }
}

/// <summary>A node's hello: what it says it holds, and the largest record (key + value) its store can hold.</summary>
internal readonly record struct HelloClaims(Guid History, ulong Sequence, NodeHelloFlags Flags, long MaxRecord);
