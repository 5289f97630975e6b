using System.Buffers;
using System.Buffers.Binary;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node;

/// <summary>
/// Applies one request frame from the router to the engine and writes the reply. Writes arrive
/// with the router's sequence in front of the client's body: <c>[u64 sequence][body]</c>.
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
                if (!TryReadSingleKey(body, out var key))
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
                FrameWriter.WriteError(output, header.Opcode, header.RequestId, StatusCode.UnknownOpcode,
                    $"node does not handle opcode 0x{(byte)header.Opcode:x2}");
                break;
        }
    }

    private void Get(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (!TryReadSingleKey(body, out var key))
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
            FrameWriter.WriteWithField(output, header.Opcode, FrameFlags.Response, StatusCode.Ok, header.RequestId, stored.Value.Span);
    }

    private void MultiGet(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (BodyValidator.Validate(Opcode.MultiGet, body, maxKeySize) != StatusCode.Ok)
        {
            ReplyMalformed(output, header);
            return;
        }
        var reader = new BodyReader(body);
        reader.TryReadUInt32(out var count);
        var values = ArrayPool<StoredValue>.Shared.Rent((int)count);
        var found = ArrayPool<bool>.Shared.Rent((int)count);
        try
        {
            long bodyLength = 4;
            for (var i = 0; i < count; i++)
            {
                reader.TryReadField(out var key);
                found[i] = engine.TryGet(key, out values[i]);
                bodyLength += FrameWriter.LengthPrefixSize + (found[i] ? values[i].Value.Length : 0);
            }
            // Values that fit one by one may not fit together: a reply above the limit would make the
            // router drop this node (and then the next one it retries on).
            if (bodyLength > maxFrameSize)
            {
                FrameWriter.WriteError(output, Opcode.MultiGet, header.RequestId, StatusCode.FrameTooLarge,
                    $"multi-get reply of {bodyLength} bytes would be above the frame limit of {maxFrameSize} bytes; ask for fewer keys");
                return;
            }
            var span = output.GetSpan(ProtocolLimits.HeaderSize + (int)bodyLength);
            new FrameHeader((int)bodyLength, Opcode.MultiGet, FrameFlags.Response, StatusCode.Ok, header.RequestId).Write(span);
            BinaryPrimitives.WriteUInt32LittleEndian(span[ProtocolLimits.HeaderSize..], count);
            var offset = ProtocolLimits.HeaderSize + 4;
            for (var i = 0; i < count; i++)
            {
                if (found[i])
                    offset += FrameWriter.WriteField(span[offset..], values[i].Value.Span);
                else
                {
                    BinaryPrimitives.WriteInt32LittleEndian(span[offset..], -1);
                    offset += FrameWriter.LengthPrefixSize;
                }
            }
            output.Advance(offset);
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
        if (body.Length < 8)
        {
            ReplyMalformed(output, header);
            return;
        }
        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(body);
        var request = body[8..];
        if (BodyValidator.Validate(header.Opcode, request, maxKeySize) != StatusCode.Ok)
        {
            ReplyMalformed(output, header);
            return;
        }
        var reader = new BodyReader(request);
        var status = StatusCode.Ok;
        try
        {
            Apply(header.Opcode, ref reader, sequence, ref status);
        }
        catch (ArgumentException ex)
        {
            // The engine cannot hold this record (e.g. larger than a FASTER page): the write fails, the link lives.
            FrameWriter.WriteError(output, header.Opcode, header.RequestId, StatusCode.InternalError, ex.Message);
            return;
        }
        _appliedWrites++;
        Metrics.Write();
        if ((header.Flags & FrameFlags.NoReply) == 0)
            Reply(output, header, status); // replayed backlog writes carry NoReply
    }

    private void Apply(Opcode opcode, ref BodyReader reader, ulong sequence, ref StatusCode status)
    {
        switch (opcode)
        {
            case Opcode.Set:
                reader.TryReadField(out var key);
                reader.TryReadField(out var value);
                engine.Set(key, value, sequence);
                _sync.OnLiveSet(key, sequence);
                break;
            case Opcode.Delete:
                reader.TryReadField(out var deleted);
                status = engine.Delete(deleted, sequence) ? StatusCode.Ok : StatusCode.NotFound;
                _sync.OnLiveDelete(deleted, sequence);
                break;
            case Opcode.MultiSet:
                reader.TryReadUInt32(out var count);
                for (var i = 0; i < count; i++)
                {
                    reader.TryReadField(out var k);
                    reader.TryReadField(out var v);
                    engine.Set(k, v, sequence);
                    _sync.OnLiveSet(k, sequence);
                }
                break;
        }
    }

    private static bool TryReadSingleKey(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> key)
    {
        var reader = new BodyReader(body);
        return reader.TryReadField(out key) && reader.IsAtEnd;
    }

    private static void Reply(IBufferWriter<byte> output, in FrameHeader request, StatusCode status) =>
        FrameWriter.WriteHeaderOnly(output, new FrameHeader(0, request.Opcode, FrameFlags.Response, status, request.RequestId));

    private static void ReplyMalformed(IBufferWriter<byte> output, in FrameHeader request) =>
        FrameWriter.WriteError(output, request.Opcode, request.RequestId, StatusCode.ProtocolError,
            $"malformed {request.Opcode} body");
}
