using System.Buffers;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node;

/// <summary>
/// Applies one request frame from the router to the engine and writes the reply. Writes arrive
/// as <see cref="SequencedWrite"/>s: the router's sequence in front of the client's body.
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

    /// <summary>Handles a frame; key listings are left to the caller (they stream and flush).</summary>
    public void Process(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
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
        StatusCode status;
        try
        {
            status = Apply(header.Opcode, request, sequence);
        }
        catch (ArgumentException ex)
        {
            // The engine cannot hold this record (e.g. larger than a FASTER page): the write fails, the link lives.
            ErrorReply.Write(output, header.Opcode, header.RequestId, StatusCode.InternalError, ex.Message);
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

    private static void Reply(IBufferWriter<byte> output, in FrameHeader request, StatusCode status) =>
        FrameWriter.WriteHeaderOnly(output, new FrameHeader(0, request.Opcode, FrameFlags.Response, status, request.RequestId));

    private static void ReplyMalformed(IBufferWriter<byte> output, in FrameHeader request) =>
        ErrorReply.Write(output, request.Opcode, request.RequestId, StatusCode.ProtocolError,
            $"malformed {request.Opcode} body");
}
