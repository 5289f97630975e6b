using System.Buffers;
using KvnDb.Node.Commands;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node;

/// <summary>
/// Applies one request frame from the router to the store and writes the reply. Writes arrive as
/// <see cref="SequencedWrite"/>s (the router's sequence and time in front of the client's body) and are
/// evaluated by the <see cref="CommandEvaluator"/>; reads arrive as <see cref="TimedRead"/>s and skip
/// keys expired at the router's time.
/// A write the engine refuses or fails to apply is answered with an error status (StorageUnavailable for
/// a full or failing disk, InternalError otherwise) and ends the link's service (<see cref="Failure"/>):
/// the node must not apply any later write once it missed one, and rejoins from the last sequence it holds.
/// </summary>
internal sealed partial class RequestProcessor : IDisposable
{
    private readonly NodeStore _store;
    private readonly IStorageEngine _engine;
    private readonly NodeIdentity _identity;
    private readonly int _maxKeySize;
    private readonly int _maxFrameSize;
    private readonly SyncState _sync = new();
    private readonly SnapshotSource _snapshots;
    private readonly CommandEvaluator _evaluator;
    private readonly ScratchBuffer _reply = new();
    private readonly ILogger _logger;
    private NodeMetrics? _metrics;

    public RequestProcessor(NodeStore store, NodeIdentity identity, int maxKeySize, int maxFrameSize, ILogger logger)
    {
        _store = store;
        _engine = store.Engine;
        _identity = identity;
        _maxKeySize = maxKeySize;
        _maxFrameSize = maxFrameSize;
        _logger = logger;
        _snapshots = new SnapshotSource(_engine, maxFrameSize);
        _evaluator = new CommandEvaluator(maxFrameSize);
        store.Sync = _sync;
        store.Snapshots = _snapshots;
    }

    /// <summary>For tests and tools: a processor over an engine of its own.</summary>
    public RequestProcessor(IStorageEngine engine, NodeIdentity identity, int maxKeySize, int maxFrameSize, ILogger logger)
        : this(new NodeStore(engine), identity, maxKeySize, maxFrameSize, logger)
    {
    }

    /// <summary>Instruments for this processor's link; created by the link, disposed with it.</summary>
    public NodeMetrics Metrics => _metrics ??= new NodeMetrics(_store, () => _sync.IsSyncing);

    /// <summary>Number of write requests applied since the last call to <see cref="TakeAppliedWrites"/>.</summary>
    private int _appliedWrites;

    public int TakeAppliedWrites()
    {
        var count = _appliedWrites;
        _appliedWrites = 0;
        return count;
    }

    /// <summary>Why this link stopped handling frames (a request the engine failed), or null while it serves.</summary>
    public string? Failure { get; private set; }

    /// <summary>The link ended: its metrics go, and the snapshots it was donating are closed (their scans would hold compaction off).</summary>
    public void Dispose()
    {
        _metrics?.Dispose();
        _snapshots.Dispose();
    }

    /// <summary>Handles a frame; key listings are left to the caller (they stream and flush). Check <see cref="Failure"/> after each.</summary>
    public void Process(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        try
        {
            Handle(header, body, output);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Fail(header, ex, output, $"{header.Opcode}");
        }
    }

    private void Handle(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        switch (header.Opcode)
        {
            case Opcode.Ping:
                // A response is the router's answer to the link's own ping: hearing it was the point.
                if ((header.Flags & FrameFlags.Response) == 0)
                    Reply(output, header, StatusCode.Ok);
                _snapshots.CloseIdle();
                break;
            case Opcode.Get or Opcode.Exists or Opcode.MultiGet or Opcode.GetVersioned or Opcode.TimeToLive or Opcode.KeyCount
                or Opcode.ScanKeys:
                Metrics.Read();
                if (!TimedRead.TryRead(body, out var now, out var read))
                    ReplyMalformed(output, header);
                else
                    Read(header, read, now, output);
                break;
            case Opcode.TimeMark when (header.RequestId & SyncMessages.ControlIdBit) != 0:
                ExpiryProbe(header, output);
                break;
            case var write when write.IsSequencedWrite():
                ApplyWrite(header, body, output);
                break;
            case Opcode.SyncBegin:
                SyncBegin(header, body, output);
                break;
            case Opcode.SyncEnd:
                SyncEnd(header, body, output);
                break;
            case Opcode.SnapshotRead:
                SnapshotRead(header, body, output);
                break;
            case Opcode.SnapshotApply:
                SnapshotApply(header, body, output);
                break;
            case Opcode.MigrationRead:
                MigrationRead(header, body, output);
                break;
            case Opcode.Digest:
                if (!TimedRead.TryRead(body, out var at, out _))
                    ReplyMalformed(output, header);
                else
                    Digest(header, at, output);
                break;
            default:
                ErrorReply.Write(output, header.Opcode, header.RequestId, StatusCode.UnknownOpcode,
                    $"node does not handle opcode 0x{(byte)header.Opcode:x2}");
                break;
        }
    }

    private void Read(in FrameHeader header, ReadOnlySpan<byte> body, long now, IBufferWriter<byte> output)
    {
        if (header.Opcode == Opcode.MultiGet)
        {
            MultiGet(header, body, now, output);
            return;
        }
        if (header.Opcode == Opcode.ScanKeys)
        {
            // One page, on the loop: its cost is bounded by its count (KeyScanIndex), not by the store.
            if (ScanKeysRequest.TryRead(body, out var scanned, out var position, out var count, out var pattern, out var end))
                _store.Keys.WritePage(output, header.RequestId, scanned, position, count, pattern, _store.Expiry, now, end);
            else
                ReplyMalformed(output, header);
            return;
        }
        if (header.Opcode == Opcode.KeyCount)
        {
            if (!KeyCountRequest.TryRead(body, out var database, out var excluded))
            {
                ReplyMalformed(output, header);
                return;
            }
            var size = database == KeyCountRequest.PerDatabase ? KeyCountRequest.PerDatabaseReplySize : KeyCountRequest.ReplySize;
            var reply = output.GetSpan(ProtocolLimits.HeaderSize + size);
            new FrameHeader(size, Opcode.KeyCount, FrameFlags.Response, StatusCode.Ok, header.RequestId).Write(reply);
            if (database == KeyCountRequest.PerDatabase)
            {
                for (var i = 0; i < DatabaseKeys.Count; i++)
                    KeyCountRequest.WriteReply(reply[(ProtocolLimits.HeaderSize + i * KeyCountRequest.ReplySize)..], _store.KeyCount((byte)i, excluded));
            }
            else
            {
                KeyCountRequest.WriteReply(reply[ProtocolLimits.HeaderSize..], _store.KeyCount(database, excluded));
            }
            output.Advance(ProtocolLimits.HeaderSize + size);
            return;
        }
        if (!KeyRequest.TryRead(body, out var key))
        {
            ReplyMalformed(output, header);
            return;
        }
        switch (header.Opcode)
        {
            case Opcode.Exists:
                Reply(output, header, _store.Exists(key, now) ? StatusCode.Ok : StatusCode.NotFound);
                return;
            case Opcode.TimeToLive:
                if (!_store.TryReadVersion(key, now, out var version, out var expiresAt))
                {
                    Reply(output, header, StatusCode.NotFound);
                    return;
                }
                var ttl = output.GetSpan(ProtocolLimits.HeaderSize + TimeToLiveReply.Size);
                new FrameHeader(TimeToLiveReply.Size, Opcode.TimeToLive, FrameFlags.Response, StatusCode.Ok, header.RequestId).Write(ttl);
                TimeToLiveReply.WriteBody(ttl[ProtocolLimits.HeaderSize..], version, expiresAt, expiresAt == 0 ? -1 : expiresAt - now);
                output.Advance(ProtocolLimits.HeaderSize + TimeToLiveReply.Size);
                return;
        }
        if (!_store.TryRead(key, now, out var stored))
        {
            Reply(output, header, StatusCode.NotFound);
            return;
        }
        using (stored)
        {
            if (header.Opcode == Opcode.Get)
            {
                ValueReply.Write(output, header.RequestId, stored.Value.Span);
                return;
            }
            var size = VersionedGetReply.BodySize(stored.Value.Length);
            var frame = output.GetSpan(ProtocolLimits.HeaderSize + size);
            new FrameHeader(size, Opcode.GetVersioned, FrameFlags.Response, StatusCode.Ok, header.RequestId).Write(frame);
            VersionedGetReply.WriteBody(frame[ProtocolLimits.HeaderSize..], stored.Sequence, stored.ExpiresAt, stored.Value.Span);
            output.Advance(ProtocolLimits.HeaderSize + size);
        }
    }

    private void MultiGet(in FrameHeader header, ReadOnlySpan<byte> body, long now, IBufferWriter<byte> output)
    {
        if (BodyValidator.Validate(Opcode.MultiGet, body, _maxKeySize) != StatusCode.Ok)
        {
            ReplyMalformed(output, header);
            return;
        }
        MultiGetRequest.TryRead(body, out var keys);
        var count = (int)keys.Count;
        var values = ArrayPool<StoredValue>.Shared.Rent(count);
        var found = ArrayPool<bool>.Shared.Rent(count);
        try
        {
            long bodyLength = MultiGetReply.HeaderSize;
            for (var i = 0; i < count; i++)
            {
                keys.TryReadNext(out var key);
                found[i] = _store.TryRead(key, now, out values[i]);
                bodyLength += found[i] ? MultiGetReply.ValueSize(values[i].Value.Length) : MultiGetReply.MissingSize;
            }
            // Values that fit one by one may not fit together: a reply above the limit would make the
            // router drop this node (and then the next one it retries on). A requester that reads chunks (More on its
            // request) gets the values in several frames; any other is refused, as before chunks.
            if (bodyLength > _maxFrameSize && !header.HasMore)
            {
                ErrorReply.Write(output, Opcode.MultiGet, header.RequestId, StatusCode.FrameTooLarge,
                    $"multi-get reply of {bodyLength} bytes would be above the frame limit of {_maxFrameSize} bytes; ask for fewer keys");
                return;
            }
            for (var first = 0; first < count;)
            {
                // One chunk: as many entries in request order as fit the frame limit (always at least one: a value fits a frame).
                var end = first;
                long chunkLength = MultiGetReply.HeaderSize;
                while (end < count)
                {
                    var entry = found[end] ? MultiGetReply.ValueSize(values[end].Value.Length) : MultiGetReply.MissingSize;
                    if (end > first && chunkLength + entry > _maxFrameSize)
                        break;
                    chunkLength += entry;
                    end++;
                }
                var reply = new MultiGetReplyWriter(output, header.RequestId, end - first, (int)chunkLength, more: end < count);
                for (var i = first; i < end; i++)
                {
                    if (found[i])
                        reply.Add(values[i].Value.Span);
                    else
                        reply.AddMissing();
                }
                reply.Complete();
                first = end;
            }
        }
        finally
        {
            for (var i = 0; i < count; i++)
                if (found[i])
                    values[i].Dispose();
            ArrayPool<StoredValue>.Shared.Return(values, clearArray: true);
            ArrayPool<bool>.Shared.Return(found);
        }
    }

    private void ApplyWrite(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (!SequencedWrite.TryRead(body, out var sequence, out var time, out var request)
            || BodyValidator.Validate(header.Opcode, request, _maxKeySize) != StatusCode.Ok)
        {
            ReplyMalformed(output, header);
            return;
        }
        _reply.Reset();
        var before = _engine.LastSequence;
        StatusCode status;
        try
        {
            _engine.EnsureWritable(request.Length, BodyValidator.LargestRecord(header.Opcode, request)); // refused whole, before any of it is applied
            status = _evaluator.Evaluate(_store, header.Opcode, request, sequence, time, _reply);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            RollBack(before);
            Fail(header, ex, output, $"write {sequence}");
            return;
        }
        // A write that changed nothing (a condition that failed, a value that was no number) still happened.
        if (_engine.LastSequence < sequence)
            _engine.MarkApplied(sequence);
        _appliedWrites++;
        Metrics.Write();
        if ((header.Flags & FrameFlags.NoReply) != 0)
            return; // replayed backlog writes carry NoReply
        if (_reply.WrittenCount == 0)
            Reply(output, header, status);
        else
            FrameWriter.WriteRaw(output, header.Opcode, FrameFlags.Response, status, header.RequestId, _reply.WrittenSpan);
    }

    /// <summary>The router asks (outside the write stream) when this node's next key expires: nothing is removed.</summary>
    private void ExpiryProbe(in FrameHeader header, IBufferWriter<byte> output)
    {
        var frame = output.GetSpan(ProtocolLimits.HeaderSize + TimeMarkReply.Size);
        new FrameHeader(TimeMarkReply.Size, Opcode.TimeMark, FrameFlags.Response, StatusCode.Ok, header.RequestId).Write(frame);
        TimeMarkReply.WriteBody(frame[ProtocolLimits.HeaderSize..], 0, _store.Expiry.NextDue);
        output.Advance(ProtocolLimits.HeaderSize + TimeMarkReply.Size);
    }

    /// <summary>A write that failed half applied (a multi-set) must not count as applied: the node rejoins from before it and gets it whole again.</summary>
    private void RollBack(ulong lastSequence)
    {
        if (_engine.LastSequence == lastSequence)
            return;
        try
        {
            _engine.ResetLastSequence(lastSequence);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRollBackFailed(lastSequence, ex.Message);
        }
    }

    /// <summary>
    /// The engine failed a request: log it, count it, and stop serving (<see cref="Failure"/>). Writes and
    /// sync frames are answered with the error, so the router knows the node missed a write and takes it out
    /// of the in-sync set; reads are not answered: the router retries them on another node once the link closes.
    /// </summary>
    private void Fail(in FrameHeader header, Exception exception, IBufferWriter<byte> output, string what)
    {
        var full = DiskSpace.IsDiskFull(exception);
        var message = full
            ? $"node storage unavailable: {exception.Message}"
            : $"node could not apply {what}: {exception.Message}";
        if (full)
            _engine.Health.Refuse(exception.Message);
        var isWrite = header.Opcode.IsSequencedWrite() || header.Opcode is Opcode.SyncEnd or Opcode.SnapshotApply;
        if (isWrite)
            _engine.Health.WriteFailed(message);
        Failure = message;
        if (exception is StorageUnavailableException)
            LogRequestFailed(header.Opcode, what, message, null);
        else
            LogRequestFailed(header.Opcode, what, message, exception);
        if (isWrite && (header.Flags & FrameFlags.NoReply) == 0)
            ErrorReply.Write(output, header.Opcode, header.RequestId, full ? StatusCode.StorageUnavailable : StatusCode.InternalError, message);
    }

    private static void Reply(IBufferWriter<byte> output, in FrameHeader request, StatusCode status) =>
        FrameWriter.WriteHeaderOnly(output, new FrameHeader(0, request.Opcode, FrameFlags.Response, status, request.RequestId));

    private static void ReplyMalformed(IBufferWriter<byte> output, in FrameHeader request) =>
        ErrorReply.Write(output, request.Opcode, request.RequestId, StatusCode.ProtocolError,
            $"malformed {request.Opcode} body");

    [LoggerMessage(30, LogLevel.Error, "{Opcode} failed ({What}): {Message}. The node stops serving on this link and rejoins from the last sequence it holds")]
    private partial void LogRequestFailed(Opcode opcode, string what, string message, Exception? exception);

    [LoggerMessage(31, LogLevel.Error, "Could not put the last sequence back to {Sequence} after a failed write: {Reason}")]
    private partial void LogRollBackFailed(ulong sequence, string reason);
}
