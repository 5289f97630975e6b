using System.Buffers;
using System.Text;
using KvnDb.Protocol;
using KvnDb.Router.Outcomes;
using KvnDb.Router.Replication;

namespace KvnDb.Router;

/// <summary>
/// The write path: gives each write the next sequence and appends it once to the
/// <see cref="ReplicationLog"/> under one short lock (the node senders copy it out later, without the
/// lock), records which nodes must acknowledge it (the in-sync set's bits, <see cref="Gating"/>),
/// and answers the client per its write concern as acknowledgements arrive, with the outcome a node
/// computed (conditional writes, counters: the reply body). Outcomes that differ between nodes are a
/// divergence: the minority is reported and leaves the in-sync set (<see cref="OnDivergence"/>).
/// </summary>
/// <remarks>
/// A node that answers a write with an error other than an evaluated outcome (InvalidValue) failed to
/// apply it and no longer holds what the others do: <paramref name="onApplyFailed"/> takes it out of the
/// in-sync set (durably, off the caller's locks), and the write keeps waiting for it until then, so it is
/// acknowledged only once every node still in sync has applied it. If no node applied it, the client gets
/// the node's error (StorageUnavailable for a full disk).
/// </remarks>
internal sealed class WriteSequencer(RouterOptions options, RouterStats stats, PendingTable pending, RecordLimit recordLimit, RouterClock clock,
    Func<string?> unavailableReason, Action<NodeLink, string> onApplyFailed, NodeTable nodes)
{
    /// <summary>
    /// Room a client body must leave under the frame limit: nodes receive a write with the router's
    /// sequence and time in front, and a donor sends a record alone in a snapshot chunk. Without it, one
    /// write at the limit would be refused by every node.
    /// </summary>
    public const int ForwardingHeadroom = WriteLimits.ForwardingHeadroom;

    private readonly Lock _lock = new();
    private ulong _sequence;
    private ulong _gating;

    /// <summary>Told the earliest expiry a sequenced write may set (the expiry scheduler), under the sequencer lock.</summary>
    public Action<long>? ExpiryHint { get; set; }

    /// <summary>Nodes (slot bits) whose outcome of a write differed from the majority's, and the write.</summary>
    public Action<ulong, PendingRequest>? OnDivergence { get; set; }

    public RouterClock Clock => clock;

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
                    var time = clock.Now();
                    var body = frame.Slice(ProtocolLimits.HeaderSize);
                    Log.Append(header.Opcode, request.Id, sequence, time, body);
                    request.AwaitedNodes = _gating;
                    request.Sequence = sequence;
                    if (global::KvnDb.Protocol.ExpiryHint.MaySetExpiry(header.Opcode) && ExpiryHint is { } hint)
                    {
                        using var bytes = new ContiguousBytes(body);
                        var due = global::KvnDb.Protocol.ExpiryHint.Of(header.Opcode, bytes.Span, time);
                        if (due != long.MaxValue)
                            hint(due);
                    }
                }
            }
            if (request.AwaitedNodes == 0)
            {
                if (!request.ClientAnswered)
                    Answer(request, StatusCode.Unavailable, unavailableReason() ?? "no in-sync database node is available", flush);
                pending.Finish(request);
                return;
            }
            if (request.Concern == WriteConcern.None && !request.ClientAnswered && !Fenced(request, flush))
                Answer(request, StatusCode.Ok, null, flush);
        }
        flush.LogAppended(nodes);
    }

    /// <summary>
    /// Appends a write another group sequenced (a slot migration's relay, <see cref="Groups.MigrationRelay"/>) under this
    /// group's next sequence, with the source's time (every replica evaluates it as the source's did), and no pending
    /// request: the nodes' answers carry request id 0 and are dropped. The caller flushes the group's senders.
    /// </summary>
    public void AppendRelayed(Opcode opcode, long time, in ReadOnlySequence<byte> body)
    {
        lock (_lock)
        {
            var sequence = ++_sequence;
            Log.Append(opcode, 0, sequence, time, body);
            if (global::KvnDb.Protocol.ExpiryHint.MaySetExpiry(opcode) && ExpiryHint is { } hint)
            {
                using var bytes = new ContiguousBytes(body);
                var due = global::KvnDb.Protocol.ExpiryHint.Of(opcode, bytes.Span, time);
                if (due != long.MaxValue)
                    hint(due);
            }
        }
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
        if (header.Status.IsError() && header.Status != StatusCode.InvalidValue)
        {
            // The node failed to apply the write: the write still waits for it, until it has left the in-sync set (StopAwaiting).
            var message = $"node {node.Id}: {ErrorReply.Read(frame.Slice(ProtocolLimits.HeaderSize))}";
            if (request.FailureStatus == StatusCode.Ok)
            {
                request.FailureStatus = header.Status;
                request.ErrorMessage = message;
            }
            onApplyFailed(node, message);
            return;
        }
        // Every other answer, InvalidValue included, is the outcome of evaluating the write: identical on every node.
        request.AwaitedNodes &= ~node.Bit;
        Group(request, node.Bit, header, frame);
        request.Acknowledgements++;
        Progress(request, flush);
    }

    private static void Group(PendingRequest request, ulong bit, in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        var fingerprint = OutcomeGroup.FingerprintOf(header, frame);
        var first = request.FirstOutcome;
        var other = request.OtherOutcome;
        if (first.IsEmpty)
            first.Start(fingerprint, bit, header, frame);
        else if (first.Fingerprint == fingerprint)
            first.Add(bit);
        else if (other.IsEmpty)
            other.Start(fingerprint, bit, header, frame);
        else if (other.Fingerprint == fingerprint)
            other.Add(bit);
        else
            request.StrayOutcomes |= bit;
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
            else if ((request.AwaitedNodes == 0 || (request.Concern == WriteConcern.One && request.Acknowledgements > 0)) && !Fenced(request, flush))
                AnswerOutcome(request, flush);
        }
        if (request.AwaitedNodes == 0)
        {
            CheckAgreement(request);
            pending.Finish(request);
        }
    }

    /// <summary>
    /// A router group's leader acknowledges a write only while it holds its lease (<c>Ha/GroupRole.HoldsLease</c>): past
    /// it another router may lead, so the write is answered Unavailable instead (outcome unknown: nodes still linked here
    /// may have applied it). A single router has no group and is never fenced.
    /// </summary>
    private bool Fenced(PendingRequest request, FlushSet flush)
    {
        if (options.Group is not { } role || role.HoldsLease)
            return false;
        Answer(request, StatusCode.Unavailable, role.LeaseLost, flush);
        return true;
    }

    /// <summary>The outcome most nodes reported (the first one on a tie), as the node sent it.</summary>
    private void AnswerOutcome(PendingRequest request, FlushSet flush)
    {
        var outcome = Majority(request);
        if (outcome.IsEmpty)
        {
            Answer(request, StatusCode.InternalError, "no node reported an outcome", flush);
            return;
        }
        request.ClientAnswered = true;
        if (outcome.Status.IsError())
            stats.Error();
        if (request.Client is not { } client)
            return;
        if (outcome.HasBody)
            client.Forward(outcome.Frame, request.ClientRequestId);
        else
            client.Status(request.Opcode, request.ClientRequestId, outcome.Status);
        flush.Add(client.Output);
    }

    private static OutcomeGroup Majority(PendingRequest request) =>
        request.OtherOutcome.Count > request.FirstOutcome.Count ? request.OtherOutcome : request.FirstOutcome;

    /// <summary>Every awaited node answered: any node outside the majority's outcome has diverged.</summary>
    private void CheckAgreement(PendingRequest request)
    {
        if (request.OtherOutcome.IsEmpty && request.StrayOutcomes == 0)
            return;
        var majority = Majority(request);
        var divergent = (request.FirstOutcome.Nodes | request.OtherOutcome.Nodes | request.StrayOutcomes) & ~majority.Nodes;
        if (divergent != 0)
            OnDivergence?.Invoke(divergent, request);
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
