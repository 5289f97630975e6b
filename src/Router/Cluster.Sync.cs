using System.Buffers;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>
/// Full syncs: the joiner takes live writes from the moment it joined, and pulls a donor's snapshot
/// through the router one chunk at a time (the next chunk is asked for only once the joiner applied
/// the previous one, so a slow joiner never makes the router buffer the store). Sync state is
/// guarded by the write-order lock; sync frames are rare (one per chunk).
/// </summary>
internal sealed partial class Cluster
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);
    private readonly Dictionary<NodeLink, SyncSession> _syncs = [];

    /// <summary>Snapshot records copied so far by the syncs in progress.</summary>
    public long SyncRecords()
    {
        lock (_writeOrder)
            return _syncs.Values.Sum(s => s.Records);
    }

    /// <summary>Ids of the nodes currently donating a snapshot (for operators and tests).</summary>
    public IReadOnlyList<int> ActiveDonorIds()
    {
        lock (_writeOrder)
            return [.. _syncs.Values.Where(s => s.Donor is not null).Select(s => s.Donor!.Id)];
    }

    /// <summary>Gives every sync without a donor a serving one and asks it for the first chunk.</summary>
    private void StartWaitingSyncs()
    {
        var asked = new List<NodeLink>();
        lock (_writeOrder)
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
                session.SyncId = ++_nextSyncId;
                session.DonorDone = false;
                LogSyncStarted(session.Joiner.Id, donor.Id, session.SyncId);
                if (!session.ApplyInFlight)
                    RequestChunk(session);
                asked.Add(donor);
            }
        }
        foreach (var donor in asked)
            donor.Output.Flush();
    }

    private NodeLink? PickDonor(NodeLink joiner)
    {
        NodeLink? best = null;
        foreach (var node in _readTargets)
            if (node != joiner && (best is null || node.Outstanding < best.Outstanding))
                best = node;
        return best;
    }

    private void RequestChunk(SyncSession session) =>
        session.Donor!.Output.Write((session.SyncId, _options.SnapshotChunkBytes), static (writer, s) =>
            new SnapshotRead(s.SyncId, s.SnapshotChunkBytes).Write(writer, SyncMessages.ControlIdBit | s.SyncId));

    /// <summary>Replies on node links to sync frames (ids with <see cref="SyncMessages.ControlIdBit"/>).</summary>
    private void OnSyncReply(NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, HashSet<OutputChannel> touched)
    {
        if (header.Status.IsError())
        {
            LogSyncFrameFailed(node.Id, header.Opcode, header.Status);
            return;
        }
        switch (header.Opcode)
        {
            case Opcode.SyncEnd:
                MarkServing(node);
                break;
            case Opcode.SnapshotRead:
                ForwardChunk(node, header, frame.Slice(ProtocolLimits.HeaderSize), touched);
                break;
            case Opcode.SnapshotApply:
                OnChunkApplied(node, touched);
                break;
        }
    }

    private void ForwardChunk(NodeLink donor, in FrameHeader header, in ReadOnlySequence<byte> body, HashSet<OutputChannel> touched)
    {
        if (!SnapshotChunkHeader.TryRead(body, out var chunkHeader))
            return;
        var syncId = header.RequestId & ~SyncMessages.ControlIdBit;
        lock (_writeOrder)
        {
            SyncSession? session = null;
            foreach (var candidate in _syncs.Values)
                if (candidate.Donor == donor && candidate.SyncId == syncId)
                    session = candidate;
            if (session is null)
                return; // a sync that ended or moved to another donor

            session.DonorDone = chunkHeader.Done;
            session.DonorKeys = chunkHeader.DonorKeys;
            session.Records += chunkHeader.Count;
            session.Bytes += body.Length;
            session.ApplyInFlight = true;
            session.Joiner.Output.TryWriteWithBody(Opcode.SnapshotApply, FrameFlags.None, SyncMessages.ControlIdBit | syncId, body);
            touched.Add(session.Joiner.Output);
            if (session.DonorDone || DateTime.UtcNow - session.LastProgressLog >= ProgressInterval)
            {
                session.LastProgressLog = DateTime.UtcNow;
                LogProgress(session);
            }
        }
    }

    private void OnChunkApplied(NodeLink joiner, HashSet<OutputChannel> touched)
    {
        lock (_writeOrder)
        {
            if (!_syncs.TryGetValue(joiner, out var session))
                return;
            session.ApplyInFlight = false;
            if (session.DonorDone)
            {
                WriteSyncEnd(joiner, session.SyncId);
                touched.Add(joiner.Output);
            }
            else if (session.Donor is not null)
            {
                RequestChunk(session);
                touched.Add(session.Donor.Output);
            }
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

    [LoggerMessage(52, LogLevel.Warning, "Sync of node {JoinerId} waits: no serving node can donate")]
    private partial void LogWaitingForDonor(int joinerId);

    [LoggerMessage(53, LogLevel.Error, "Node {NodeId} failed sync frame {Opcode}: {Status}")]
    private partial void LogSyncFrameFailed(int nodeId, Opcode opcode, StatusCode status);
}
