using System.Buffers;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node;

/// <summary>
/// Applies one request frame from the router to the engine and writes the reply. Writes arrive
/// as <see cref="SequencedWrite"/>s: the router's sequence in front of the client's body.
/// A write the engine refuses or fails to apply is answered with an error status (StorageUnavailable for
/// a full or failing disk, InternalError otherwise) and ends the link's service (<see cref="Failure"/>):
/// the node must not apply any later write once it missed one, and rejoins from the last sequence it holds.
/// </summary>
internal sealed partial class RequestProcessor(IStorageEngine engine, NodeIdentity identity, int maxKeySize, int maxFrameSize, ILogger logger)
{
    private readonly SyncState _sync = new();
    private readonly SnapshotSource _snapshots = new(engine, maxFrameSize);
    private readonly ILogger _logger = logger;
    private NodeMetrics? _metrics;

    /// <summary>Instruments for this processor's link; created by the link, disposed with it.</summary>
    public NodeMetrics Metrics => _metrics ??= new NodeMetrics(engine, () => _sync.IsSyncing);

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
                break;
            case Opcode.Get:
                Metrics.Read();
                Get(header, body, output);
                break;
            case Opcode.Exists:
                if (!KeyRequest.TryRead(body, out var key))
                    ReplyMalformed(output, header);
                else
                    Reply(output, header, engine.Exists(key) ? StatusCode.Ok : StatusCode.NotFound);
                break;
            case Opcode.MultiGet:
                MultiGet(header, body, output);
                break;
            case Opcode.Set or Opcode.Delete or Opcode.MultiSet:
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
            case Opcode.Digest:
                Digest(header, output);
                break;
            default:
                ErrorReply.Write(output, header.Opcode, header.RequestId, StatusCode.UnknownOpcode,
                    $"node does not handle opcode 0x{(byte)header.Opcode:x2}");
                break;
        }
    }

    private void Get(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (!KeyRequest.TryRead(body, out var key))
        {
            ReplyMalformed(output, header);
            return;
        }
        if (!engine.TryGet(key, out var stored))
        {
            Reply(output, header, StatusCode.NotFound);
            return;
        }
        using (stored)
            ValueReply.Write(output, header.RequestId, stored.Value.Span);
    }

    private void MultiGet(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (BodyValidator.Validate(Opcode.MultiGet, body, maxKeySize) != StatusCode.Ok)
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
                found[i] = engine.TryGet(key, out values[i]);
                bodyLength += found[i] ? MultiGetReply.ValueSize(values[i].Value.Length) : MultiGetReply.MissingSize;
            }
            // Values that fit one by one may not fit together: a reply above the limit would make the
            // router drop this node (and then the next one it retries on).
            if (bodyLength > maxFrameSize)
            {
                ErrorReply.Write(output, Opcode.MultiGet, header.RequestId, StatusCode.FrameTooLarge,
                    $"multi-get reply of {bodyLength} bytes would be above the frame limit of {maxFrameSize} bytes; ask for fewer keys");
                return;
            }
            var reply = new MultiGetReplyWriter(output, header.RequestId, count, (int)bodyLength);
            for (var i = 0; i < count; i++)
            {
                if (found[i])
                    reply.Add(values[i].Value.Span);
                else
                    reply.AddMissing();
            }
            reply.Complete();
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
        if (!SequencedWrite.TryRead(body, out var sequence, out var request)
            || BodyValidator.Validate(header.Opcode, request, maxKeySize) != StatusCode.Ok)
        {
            ReplyMalformed(output, header);
            return;
        }
        var before = engine.LastSequence;
        StatusCode status;
        try
        {
            var (bytes, largest) = Measure(header.Opcode, request);
            engine.EnsureWritable(bytes, largest); // refused whole, before any of it is applied
            status = Apply(header.Opcode, request, sequence);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            RollBack(before);
            Fail(header, ex, output, $"write {sequence}");
            return;
        }
        _appliedWrites++;
        Metrics.Write();
        if ((header.Flags & FrameFlags.NoReply) == 0)
            Reply(output, header, status); // replayed backlog writes carry NoReply
    }

    /// <summary>Applies a validated client write body.</summary>
    private StatusCode Apply(Opcode opcode, ReadOnlySpan<byte> request, ulong sequence)
    {
        switch (opcode)
        {
            case Opcode.Set:
                SetRequest.TryRead(request, out var key, out var value);
                engine.Set(key, value, sequence);
                _sync.OnLiveSet(key, sequence);
                return StatusCode.Ok;
            case Opcode.Delete:
                KeyRequest.TryRead(request, out var deleted);
                var existed = engine.Delete(deleted, sequence);
                _sync.OnLiveDelete(deleted, sequence);
                return existed ? StatusCode.Ok : StatusCode.NotFound;
            default:
                MultiSetRequest.TryRead(request, out var pairs);
                while (pairs.TryReadNext(out var k, out var v))
                {
                    engine.Set(k, v, sequence);
                    _sync.OnLiveSet(k, sequence);
                }
                return StatusCode.Ok;
        }
    }

    /// <summary>Bytes a write adds to the store, and its largest record (key and value), for <see cref="IStorageEngine.EnsureWritable"/>.</summary>
    private static (long Bytes, long LargestRecord) Measure(Opcode opcode, ReadOnlySpan<byte> request)
    {
        switch (opcode)
        {
            case Opcode.Set:
                SetRequest.TryRead(request, out var key, out var value);
                return (request.Length, key.Length + value.Length);
            case Opcode.Delete:
                return (request.Length, request.Length);
            default:
                MultiSetRequest.TryRead(request, out var pairs);
                var largest = 0L;
                while (pairs.TryReadNext(out var k, out var v))
                    largest = Math.Max(largest, k.Length + v.Length);
                return (request.Length, largest);
        }
    }

    /// <summary>A write that failed half applied (a multi-set) must not count as applied: the node rejoins from before it and gets it whole again.</summary>
    private void RollBack(ulong lastSequence)
    {
        if (engine.LastSequence == lastSequence)
            return;
        try
        {
            engine.ResetLastSequence(lastSequence);
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
            engine.Health.Refuse(exception.Message);
        var isWrite = header.Opcode.IsSequencedWrite() || header.Opcode is Opcode.SyncEnd or Opcode.SnapshotApply;
        if (isWrite)
            engine.Health.WriteFailed(message);
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
