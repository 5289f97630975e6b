using System.Buffers;
using System.IO.Hashing;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node;

/// <summary>The node's side of replication: joining (SyncBegin/End), donating and applying snapshots, digests.</summary>
internal sealed partial class RequestProcessor
{
    /// <summary>How often a full sync in progress logs how far it got.</summary>
    private static readonly TimeSpan SyncProgressInterval = TimeSpan.FromSeconds(2);

    private Guid _joiningHistory;
    private Guid? _pendingHistory;
    private long _syncStartedAt;
    private long _syncProgressLoggedAt;

    /// <summary>A history to record once the data that earns it is durable (after a sync ended).</summary>
    public bool TakePendingHistory(out Guid history)
    {
        history = _pendingHistory.GetValueOrDefault();
        var pending = _pendingHistory.HasValue;
        _pendingHistory = null;
        return pending;
    }

    public bool IsSyncing => _sync.IsSyncing;

    private void SyncBegin(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (!Protocol.SyncBegin.TryRead(body, out var begin))
        {
            ReplyMalformed(output, header);
            return;
        }
        if (begin.Mode == SyncMode.Full)
        {
            LogFullSyncBegins(begin.SyncId, _engine.Count, begin.TrustedThrough, begin.LiveAfter);
            // The data is kept (never wiped first) but belongs to no history until the sync has ended and is
            // durable: a node that dies mid-sync must never be mistaken for a current replica.
            _identity.SetHistory(Guid.Empty);
            _sync.Begin(begin.TrustedThrough, begin.LiveAfter);
            _syncStartedAt = _syncProgressLoggedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        else
        {
            _sync.Abandon();
            LogJoining(begin.Mode, _engine.LastSequence);
            _identity.SetHistory(begin.HistoryId);
        }
        _joiningHistory = begin.HistoryId;
    }

    private void SyncEnd(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (!Protocol.SyncEnd.TryRead(body, out var end))
        {
            ReplyMalformed(output, header);
            return;
        }
        if (_sync.IsSyncing)
        {
            var (applied, replaced, skipped) = (_sync.RecordsApplied, _sync.RecordsReplaced, _sync.RecordsSkipped);
            var dropped = _sync.End(_store, end.Sequence);
            LogFullSyncEnded(applied, replaced, skipped, dropped, _engine.Count, _engine.LastSequence, System.Diagnostics.Stopwatch.GetElapsedTime(_syncStartedAt).TotalSeconds);
        }
        else
        {
            _engine.MarkApplied(end.Sequence);
        }
        // The node belongs to the history again only once the synced data is durable (see RouterLink).
        _pendingHistory = _joiningHistory;
        _appliedWrites++; // make the batch durable before the router hears the node is current
        Reply(output, header, StatusCode.Ok);
    }

    private void SnapshotRead(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (!Protocol.SnapshotRead.TryRead(body, out var read))
        {
            ReplyMalformed(output, header);
            return;
        }
        _snapshots.WriteNextChunk(output, header.RequestId, read.SyncId, Math.Min(read.MaxBytes, 16 * 1024 * 1024));
    }

    /// <summary>A migration's donor: the next chunk of a snapshot of the keys in the given slots (the reply is a chunk under MigrationRead).</summary>
    private void MigrationRead(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (!Protocol.MigrationRead.TryRead(body, out var snapshotId, out var maxBytes, out var slots))
        {
            ReplyMalformed(output, header);
            return;
        }
        _snapshots.WriteNextChunk(output, header.RequestId, snapshotId, Math.Min(maxBytes, 16 * 1024 * 1024), slots);
    }

    private void SnapshotApply(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (!SnapshotChunkReader.TryRead(body, out var chunk))
        {
            ReplyMalformed(output, header);
            return;
        }
        var largest = 0L;
        var measure = chunk;
        while (measure.TryReadNext(out var k, out var v, out _, out _))
            largest = Math.Max(largest, k.Length + v.Length);
        _engine.EnsureWritable(body.Length, largest); // refused whole; a failure ends the link (Process)
        while (chunk.TryReadNext(out var key, out var value, out var sequence, out var expiresAt))
            _sync.ApplySnapshotRecord(_store, key, value, sequence, expiresAt);
        LogSyncProgressWhenDue();
        if (!chunk.IsComplete)
        {
            ReplyMalformed(output, header);
            return;
        }
        _appliedWrites++;
        Reply(output, header, StatusCode.Ok);
    }

    /// <summary>
    /// Key count, last sequence and an order-independent content hash over the keys live at the router's
    /// time <paramref name="now"/> (an expiry is part of the record: it is folded into the key's seed). The
    /// router queues digest requests like writes, with one time for all nodes, so every node computes it at
    /// the same point of the write stream.
    /// </summary>
    private void Digest(in FrameHeader header, long now, IBufferWriter<byte> output)
    {
        ulong keys = 0;
        ulong hash = 0;
        foreach (var record in _engine.Scan())
        {
            if (Storage.StoredLayout.IsExpired(record.ExpiresAt, now))
                continue;
            keys++;
            var seed = unchecked((long)XxHash3.HashToUInt64(record.Key)) ^ record.ExpiresAt;
            hash += XxHash3.HashToUInt64(record.Value.Span, seed);
        }
        new NodeDigest(keys, _engine.LastSequence, hash).WriteReply(output, header.RequestId);
    }

    /// <summary>One line every <see cref="SyncProgressInterval"/> while snapshot chunks arrive (the router logs the ETA; it knows the donor's count).</summary>
    private void LogSyncProgressWhenDue()
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (System.Diagnostics.Stopwatch.GetElapsedTime(_syncProgressLoggedAt, now) < SyncProgressInterval)
            return;
        _syncProgressLoggedAt = now;
        var records = _sync.RecordsApplied + _sync.RecordsReplaced + _sync.RecordsSkipped;
        var seconds = Math.Max(1e-3, System.Diagnostics.Stopwatch.GetElapsedTime(_syncStartedAt, now).TotalSeconds);
        LogFullSyncProgress(records, _sync.RecordsApplied, _sync.RecordsReplaced, _sync.RecordsSkipped, records / seconds, seconds);
    }

    [LoggerMessage(43, LogLevel.Information, "Full sync: {Records} snapshot records so far ({Applied} applied, {Replaced} replaced, {Skipped} skipped), {Rate:0} records/s over {Seconds:0.0} s")]
    private partial void LogFullSyncProgress(long records, long applied, long replaced, long skipped, double rate, double seconds);

    [LoggerMessage(40, LogLevel.Information, "Full sync {SyncId} begins over the {Keys} keys held (trusted through {TrustedThrough}, live writes after {LiveAfter}): applying the donor's snapshot while live writes flow")]
    private partial void LogFullSyncBegins(ulong syncId, long keys, ulong trustedThrough, ulong liveAfter);

    [LoggerMessage(41, LogLevel.Information, "Joining ({Mode}) from last sequence {LastSequence}")]
    private partial void LogJoining(SyncMode mode, ulong lastSequence);

    [LoggerMessage(42, LogLevel.Information, "Full sync done: {Applied} records applied, {Replaced} replaced divergent ones, {Skipped} skipped as older; {Dropped} keys the snapshot lacked dropped; {Keys} keys, current at sequence {Sequence} ({Seconds:0.0} s)")]
    private partial void LogFullSyncEnded(long applied, long replaced, long skipped, long dropped, long keys, ulong sequence, double seconds);
}
