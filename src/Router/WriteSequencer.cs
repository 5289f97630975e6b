using System.Buffers;
using System.Text;
using KvnDb.Protocol;
using KvnDb.Router.Replication;

namespace KvnDb.Router;

/// <summary>
/// The write path: gives each write the next sequence and appends it once to the
/// <see cref="ReplicationLog"/> under one short lock (the node senders copy it out later, without the
/// lock), records which nodes must acknowledge it (the in-sync set's bits, <see cref="Gating"/>),
/// and answers the client per its write concern as acknowledgements arrive.
/// </summary>
/// <remarks>
/// A node that answers a write with an error failed to apply it and no longer holds what the others do:
/// <paramref name="onApplyFailed"/> takes it out of the in-sync set (durably, off the caller's locks), and
/// the write keeps waiting for it until then, so it is acknowledged only once every node still in sync has
/// applied it. If no node applied it, the client gets the node's error (StorageUnavailable for a full disk).
/// </remarks>
internal sealed class WriteSequencer(RouterOptions options, RouterStats stats, PendingTable pending, RecordLimit recordLimit, Func<string?> unavailableReason,
    Action<NodeLink, string> onApplyFailed)
{
    /// <summary>
    /// Room a client body must leave under the frame limit: nodes receive a write with the router's
    /// 8-byte sequence in front, and a donor sends a record alone in a snapshot chunk (chunk header,
    /// 8-byte sequence). Without it, one write at the limit would be refused by every node.
    /// </summary>
    public const int ForwardingHeadroom = SnapshotChunkHeader.Size + 8;

    private readonly Lock _lock = new();
    private ulong _sequence;
    private ulong _gating;

    public ReplicationLog Log { get; } = new(options.BacklogBytes);

    /// <summary>Held by membership operations that must be atomic with appends (a join's cursor, SyncEnd, digests).</summary>
    public Lock SyncRoot => _lock;

    public ulong Sequence => Volatile.Read(ref _sequence);

    /// <summary>Slots of the nodes every new write waits for: in-sync members and nodes finishing their join.</summary>
    public ulong Gating => Volatile.Read(ref _gating);

    public int MaxBodySize => options.MaxFrameSize - ForwardingHeadroom;

    /// <summary>The largest key + value a Set body can carry under the frame limit (its two length prefixes aside).</summary>
    public static long LargestRecordFor(RouterOptions options) => options.MaxFrameSize - ForwardingHeadroom - 2L * FrameWriter.LengthPrefixSize;

    public void SubmitWrite(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        stats.Write();
        if (header.BodyLength > MaxBodySize)
        {
            if ((header.Flags & FrameFlags.NoReply) == 0)
                client.Error(header.Opcode, header.RequestId, StatusCode.FrameTooLarge,
                    $"write body of {header.BodyLength} bytes is above the limit of {MaxBodySize} bytes");
            return;
        }
        // One comparison on the hot path: no record in a body can be larger than the body.
        var limit = recordLimit.Current;
        if (header.BodyLength > limit && RefuseAboveRecordLimit(client, header, frame, limit))
            return;
        if (pending.RentOrRefuse(client, header) is not { } request)
            return;
        lock (request)
        {
            request.Begin(PendingKind.Write, client, header);
            lock (_lock)
            {
                if (_gating != 0)
                {
                    var sequence = ++_sequence;
                    Log.Append(header.Opcode, request.Id, sequence, frame.Slice(ProtocolLimits.HeaderSize));
                    request.AwaitedNodes = _gating;
                }
            }
            if (request.AwaitedNodes == 0)
            {
                if (!request.ClientAnswered)
                    Answer(request, StatusCode.Unavailable, unavailableReason() ?? "no in-sync database node is available", flush);
                pending.Finish(request);
                return;
            }
            if (request.Concern == WriteConcern.None && !request.ClientAnswered)
                Answer(request, StatusCode.Ok, null, flush);
        }
        flush.LogAppended();
    }

    /// <summary>
    /// Refuses, before it is sequenced, a write holding a record some node could not store: sequenced, it
    /// would be applied by the nodes that can and fail on the others (silent divergence).
    /// </summary>
    private bool RefuseAboveRecordLimit(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, long limit)
    {
        long largest;
        using (var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize)))
            largest = BodyValidator.LargestRecord(header.Opcode, body.Span);
        if (largest <= limit)
            return false;
        stats.Error();
        if ((header.Flags & FrameFlags.NoReply) == 0)
            client.Error(header.Opcode, header.RequestId, StatusCode.RecordTooLarge,
                $"key and value of {largest} bytes are above the record limit of {limit} bytes ({recordLimit.Holder} can store no more; " +
                "give that node a larger --memory); nothing was written");
        return true;
    }

    /// <summary>A node acknowledged a write (or failed it). Caller holds the request's lock.</summary>
    public void OnWriteReply(PendingRequest request, NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if ((request.AwaitedNodes & node.Bit) == 0)
            return;
        if (header.Status.IsError())
        {
            // The node diverged: the write still waits for it, until it has left the in-sync set (StopAwaiting).
            var message = $"node {node.Id}: {ErrorReply.Read(frame.Slice(ProtocolLimits.HeaderSize))}";
            if (request.FailureStatus == StatusCode.Ok)
            {
                request.FailureStatus = header.Status;
                request.ErrorMessage = message;
            }
            onApplyFailed(node, message);
            return;
        }
        request.AwaitedNodes &= ~node.Bit;
        if (request.Acknowledgements == 0)
            request.WriteStatus = header.Status; // Ok or NotFound (delete of a missing key)
        request.Acknowledgements++;
        Progress(request, flush);
    }

    /// <summary>The node left the in-sync set (durably): the write stops waiting for it. Caller holds the request's lock.</summary>
    public void StopAwaiting(PendingRequest request, ulong bit, FlushSet flush)
    {
        if ((request.AwaitedNodes & bit) == 0)
            return;
        request.AwaitedNodes &= ~bit;
        Progress(request, flush);
    }

    /// <summary>Answers a write still unanswered after the timeout; the slot stays until no node owes anything.</summary>
    public void TimeOut(PendingRequest request, string message, FlushSet flush)
    {
        if (!request.ClientAnswered)
            Answer(request, StatusCode.Unavailable, message, flush);
    }

    /// <summary>From now on every write waits for these nodes too (caller holds <see cref="SyncRoot"/>).</summary>
    public void AddGating(ulong bits) => Volatile.Write(ref _gating, _gating | bits);

    /// <summary>Writes appended from now on no longer wait for these nodes (caller holds <see cref="SyncRoot"/>).</summary>
    public void RemoveGating(ulong bits) => Volatile.Write(ref _gating, _gating & ~bits);

    /// <summary>Continues from an adopted node's last sequence (before any node has a cursor).</summary>
    public void Restart(ulong sequence)
    {
        lock (_lock)
        {
            _sequence = Math.Max(_sequence, sequence);
            Log.Reset(_sequence);
        }
    }

    private void Progress(PendingRequest request, FlushSet flush)
    {
        if (!request.ClientAnswered)
        {
            if (request.AwaitedNodes == 0 && request.Acknowledgements == 0)
            {
                if (request.FailureStatus.IsError())
                    Answer(request, request.FailureStatus, $"{request.ErrorMessage}; the write was not acknowledged (it stays in the router's log: a node that catches up applies it)", flush);
                else
                    Answer(request, StatusCode.Unavailable, "every in-sync node left before acknowledging the write; it may or may not have been applied", flush);
            }
            else if (request.AwaitedNodes == 0 || (request.Concern == WriteConcern.One && request.Acknowledgements > 0))
            {
                Answer(request, request.WriteStatus, null, flush);
            }
        }
        if (request.AwaitedNodes == 0)
            pending.Finish(request);
    }

    private void Answer(PendingRequest request, StatusCode status, string? message, FlushSet flush)
    {
        request.ClientAnswered = true;
        if (request.Client is not { } client)
            return;
        if (status.IsError())
        {
            stats.Error();
            client.Error(request.Opcode, request.ClientRequestId, status, message ?? status.ToString());
        }
        else
        {
            client.Status(request.Opcode, request.ClientRequestId, status);
        }
        flush.Add(client.Output);
    }
}
