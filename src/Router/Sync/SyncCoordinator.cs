using System.Buffers;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Sync;

/// <summary>
/// Full syncs: the joiner takes live writes from the log from the moment it joined, and pulls a
/// serving in-sync donor's snapshot through the router one chunk at a time (the next chunk is asked
/// for only once the joiner applied the previous one, so a slow joiner never makes the router buffer
/// the store). The joiner keeps its own data until the sync completes (see <see cref="SyncBegin"/>).
/// Each chunk is applied at the exact position of the write stream where the donor read it: the donor
/// is asked right after the log's head, and the joiner is held at that same head until the chunk is
/// sent to it. So a record describes the key exactly as the joiner's next write finds it, which a write
/// evaluated against the current value (increment, conditional set, expiry) needs.
/// State under this type's own lock (taken before the sequencer's); never held while calling back into membership.
/// </summary>
internal sealed partial class SyncCoordinator(RouterOptions options, RouterStats stats, NodeTable nodes, WriteSequencer sequencer, ILogger<SyncCoordinator> logger)
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);
    private readonly Lock _lock = new();
    private readonly Dictionary<NodeLink, SyncSession> _syncs = [];
    private readonly ILogger _logger = logger;
    private long _nextSyncId;

    /// <summary>Called when a joiner has the whole snapshot: the membership finishes its join.</summary>
    public Action<NodeLink>? SnapshotComplete { get; set; }

    /// <summary>A fresh id for sync control frames (snapshots, SyncEnd).</summary>
    public ulong NextSyncId() => (ulong)Interlocked.Increment(ref _nextSyncId);

    /// <summary>Snapshot records copied so far by the syncs in progress.</summary>
    public long Records()
    {
        lock (_lock)
            return _syncs.Values.Sum(s => s.Records);
    }

    /// <summary>Ids of the nodes currently donating a snapshot (for operators and tests).</summary>
    public IReadOnlyList<int> ActiveDonorIds()
    {
        lock (_lock)
            return [.. _syncs.Values.Where(s => s.Donor is not null).Select(s => s.Donor!.Id)];
    }

    /// <summary>Progress of one joiner's sync, or null when it is not syncing.</summary>
    public (long Records, ulong DonorKeys)? Progress(NodeLink joiner)
    {
        lock (_lock)
            return _syncs.TryGetValue(joiner, out var s) ? (s.Records, s.DonorKeys) : null;
    }

    public void Start(NodeLink joiner)
    {
        lock (_lock)
            _syncs[joiner] = new SyncSession(joiner);
        stats.FullSyncStarted();
        StartWaiting();
    }

    /// <summary>A node left: its own sync ends; syncs it donated to restart from another donor.</summary>
    public void OnNodeLeft(NodeLink node)
    {
        var released = new List<NodeLink>();
        lock (_lock)
        {
            _syncs.Remove(node);
            foreach (var session in _syncs.Values)
            {
                if (session.Donor == node)
                {
                    session.Donor = null;
                    stats.SyncRestarted();
                    LogDonorLost(session.Joiner.Id, node.Id);
                    if (!session.ApplyInFlight)
                    {
                        // The chunk it was held for will never come: let the joiner take live writes meanwhile.
                        session.Joiner.Sender.ReleaseHold();
                        released.Add(session.Joiner);
                    }
                }
            }
        }
        foreach (var joiner in released)
            joiner.Sender.Flush();
        StartWaiting();
    }

    /// <summary>Gives every sync without a donor a serving in-sync one and asks it for the first chunk.</summary>
    public void StartWaiting()
    {
        var asked = new List<NodeLink>();
        lock (_lock)
        {
            foreach (var session in _syncs.Values)
            {
                if (session.Donor is not null)
                    continue;
                var donor = PickDonor(session.Joiner);
                if (donor is null)
                {
                    LogWaitingForDonor(session.Joiner.Id);
                    continue;
                }
                session.Donor = donor;
                session.SyncId = NextSyncId();
                session.DonorDone = false;
                LogSyncStarted(session.Joiner.Id, donor.Id, session.SyncId);
                if (!session.ApplyInFlight)
                    RequestChunk(session);
                asked.Add(donor);
            }
        }
        foreach (var donor in asked)
            donor.Sender.Flush();
    }

    /// <summary>A sync frame's reply on a node link: a donor's chunk, or a joiner's acknowledgement of one.</summary>
    public void OnReply(NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if (header.Status.IsError())
        {
            LogSyncFrameFailed(node.Id, header.Opcode, header.Status);
            return;
        }
        if (header.Opcode == Opcode.SnapshotRead)
            ForwardChunk(node, header, frame.Slice(ProtocolLimits.HeaderSize), flush);
        else if (header.Opcode == Opcode.SnapshotApply)
            OnChunkApplied(node, flush);
    }

    private NodeLink? PickDonor(NodeLink joiner)
    {
        NodeLink? best = null;
        foreach (var node in nodes.Serving)
            if (node != joiner && node.IsMember && (best is null || node.Outstanding < best.Outstanding))
                best = node;
        return best;
    }

    /// <summary>Asks the donor for the next chunk right after the log's head, and holds the joiner at that head.</summary>
    private void RequestChunk(SyncSession session)
    {
        lock (sequencer.SyncRoot)
        {
            var head = sequencer.Sequence;
            session.ChunkAt = head;
            session.Joiner.Sender.HoldAt(head);
            session.Donor!.ExpectChunk(); // before it can be answered: another thread's flush may send it at once
            session.Donor.Sender.TrySendAfter(head, (session.SyncId, options.SnapshotChunkBytes), static (writer, s) =>
                new SnapshotRead(s.SyncId, s.SnapshotChunkBytes).Write(writer, SyncMessages.ControlIdBit | s.SyncId));
        }
    }

    private void ForwardChunk(NodeLink donor, in FrameHeader header, in ReadOnlySequence<byte> body, FlushSet flush)
    {
        if (!SnapshotChunkHeader.TryRead(body, out var chunk))
            return;
        var syncId = header.RequestId & ~SyncMessages.ControlIdBit;
        lock (_lock)
        {
            SyncSession? session = null;
            foreach (var candidate in _syncs.Values)
                if (candidate.Donor == donor && candidate.SyncId == syncId)
                    session = candidate;
            if (session is null)
                return; // a sync that ended or moved to another donor

            session.DonorDone = chunk.Done;
            session.DonorKeys = chunk.DonorKeys;
            session.Records += chunk.Count;
            session.Bytes += body.Length;
            session.ApplyInFlight = true;
            session.Joiner.ExpectApply();
            // After exactly the writes the donor had applied when it read the chunk; then the joiner streams on.
            session.Joiner.Sender.TrySendAfter(session.ChunkAt, (syncId, body), static (writer, s) =>
                FrameWriter.WriteWithBody(writer, Opcode.SnapshotApply, FrameFlags.None, SyncMessages.ControlIdBit | s.syncId, s.body));
            session.Joiner.Sender.ReleaseHold();
            flush.Add(session.Joiner.Sender);
            if (session.DonorDone || DateTime.UtcNow - session.LastProgressLog >= ProgressInterval)
            {
                session.LastProgressLog = DateTime.UtcNow;
                LogProgress(session);
            }
        }
    }

    private void OnChunkApplied(NodeLink joiner, FlushSet flush)
    {
        var complete = false;
        lock (_lock)
        {
            if (!_syncs.TryGetValue(joiner, out var session))
                return;
            session.ApplyInFlight = false;
            if (session.DonorDone)
            {
                _syncs.Remove(joiner);
                complete = true;
            }
            else if (session.Donor is not null)
            {
                RequestChunk(session);
                flush.Add(session.Donor.Sender);
            }
        }
        if (complete)
        {
            stats.SyncCompleted();
            SnapshotComplete?.Invoke(joiner);
        }
    }

    private void LogProgress(SyncSession session)
    {
        var elapsed = DateTime.UtcNow - session.StartedAt;
        var rate = session.Records / Math.Max(elapsed.TotalSeconds, 0.001);
        var remaining = session.DonorKeys > (ulong)session.Records ? session.DonorKeys - (ulong)session.Records : 0;
        var eta = rate > 0 ? TimeSpan.FromSeconds(remaining / rate) : TimeSpan.Zero;
        LogSyncProgress(session.Joiner.Id, session.Records, session.DonorKeys, session.Bytes / (1024.0 * 1024.0), rate, eta.TotalSeconds, session.DonorDone);
    }

    [LoggerMessage(50, LogLevel.Information, "Sync of node {JoinerId}: donor node {DonorId}, snapshot {SyncId}")]
    private partial void LogSyncStarted(int joinerId, int donorId, ulong syncId);

    [LoggerMessage(51, LogLevel.Information, "Sync of node {JoinerId}: {Records}/{DonorKeys} records, {MiB:0.0} MiB, {Rate:0} records/s, ETA {EtaSeconds:0}s, donor done: {Done}")]
    private partial void LogSyncProgress(int joinerId, long records, ulong donorKeys, double miB, double rate, double etaSeconds, bool done);

    [LoggerMessage(52, LogLevel.Warning, "Sync of node {JoinerId} waits: no serving in-sync node can donate")]
    private partial void LogWaitingForDonor(int joinerId);

    [LoggerMessage(53, LogLevel.Error, "Node {NodeId} failed sync frame {Opcode}: {Status}")]
    private partial void LogSyncFrameFailed(int nodeId, Opcode opcode, StatusCode status);

    [LoggerMessage(24, LogLevel.Warning, "Sync of node {JoinerId}: donor node {DonorId} left; restarting from another donor")]
    private partial void LogDonorLost(int joinerId, int donorId);
}
