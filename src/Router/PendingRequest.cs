using System.Buffers;
using KvnDb.Protocol;
using KvnDb.Router.Outcomes;

namespace KvnDb.Router;

/// <summary>
/// A request forwarded to nodes and not yet finished. Instances live in <see cref="PendingTable"/>
/// and are reused; <see cref="Id"/> carries a generation so a late reply for a previous use of the
/// slot is recognised and dropped. Fields change only under the instance's lock.
/// </summary>
internal sealed class PendingRequest(int index)
{
    private const uint GenerationMask = (1u << 30) - 1;
    private uint _generation;

    public int Index { get; } = index;

    /// <summary>The id sent to nodes: generation in the high 32 bits, slot index in the low.</summary>
    public ulong Id { get; private set; }

    public PendingKind Kind { get; private set; }

    public IReplyTarget? Client { get; private set; }

    public ulong ClientRequestId { get; private set; }

    public Opcode Opcode { get; private set; }

    // ---- writes ----
    public WriteConcern Concern { get; set; }

    public bool ClientAnswered { get; set; }

    /// <summary>Nodes (by <see cref="NodeLink.Slot"/>) that still owe an acknowledgement.</summary>
    public ulong AwaitedNodes { get; set; }

    public int Acknowledgements { get; set; }

    /// <summary>The first acknowledgement's status: Ok, or NotFound (a delete of a missing key).</summary>
    public StatusCode WriteStatus { get; set; }

    /// <summary>The sequence the write was given (0 until appended).</summary>
    public ulong Sequence { get; set; }

    /// <summary>The first error a node answered (it failed to apply the write, and leaves the in-sync set); Ok when none did.</summary>
    public StatusCode FailureStatus { get; set; }

    public string? ErrorMessage { get; set; }

    /// <summary>Nodes that agreed on the first outcome received.</summary>
    public OutcomeGroup FirstOutcome { get; } = new();

    /// <summary>Nodes that agreed on the first outcome that differed from it (divergence: the minority is out of sync).</summary>
    public OutcomeGroup OtherOutcome { get; } = new();

    /// <summary>Nodes whose outcome matched neither group.</summary>
    public ulong StrayOutcomes { get; set; }

    /// <summary>Digest replies gathered so far.</summary>
    public List<NodeDigestEntry>? DigestEntries { get; set; }

    // ---- reads ----
    public NodeLink? ReadNode { get; set; }

    /// <summary>Streamed replies already forwarded (a listing cannot be retried once it started).</summary>
    public int ChunksForwarded { get; set; }

    /// <summary>Multi-get entries received in the chunks so far (a chunked reply must add up to the keys asked for).</summary>
    public uint EntriesForwarded { get; set; }

    /// <summary>Frames up to this size are kept in the slot's own buffer, reused from request to request.</summary>
    private const int OwnBufferLimit = 4096;
    private byte[]? _ownBuffer;
    private bool _rented;

    /// <summary>The request frame, kept so the read can be retried on another node.</summary>
    public byte[]? RetryFrame { get; private set; }

    public int RetryFrameLength { get; private set; }

    public ReadOnlySpan<byte> RetryFrameSpan => RetryFrame.AsSpan(0, RetryFrameLength);

    /// <summary>When the request arrived (<see cref="System.Diagnostics.Stopwatch"/> timestamp), for the latency histogram.</summary>
    public long StartedAt { get; private set; }

    public void Begin(PendingKind kind, IReplyTarget? client, in FrameHeader header)
    {
        StartedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        // 30 bits of generation: ids never carry the control bit of node-link traffic, and never 0.
        if ((++_generation & GenerationMask) == 0)
            _generation++;
        Id = ((ulong)(_generation & GenerationMask) << 32) | (uint)Index;
        Kind = kind;
        Client = client;
        ClientRequestId = header.RequestId;
        Opcode = header.Opcode;
        Concern = header.Flags.GetWriteConcern();
        ClientAnswered = (header.Flags & FrameFlags.NoReply) != 0;
        AwaitedNodes = 0;
        Acknowledgements = 0;
        WriteStatus = StatusCode.Ok;
        FailureStatus = StatusCode.Ok;
        ErrorMessage = null;
        ReadNode = null;
        ChunksForwarded = 0;
        EntriesForwarded = 0;
        DigestEntries = null;
        StrayOutcomes = 0;
        Sequence = 0;
    }

    /// <summary>Keeps the node-bound form of a read (<see cref="TimedRead"/>: the router's time in front) to send and to retry.</summary>
    public void KeepForRetry(in ReadOnlySequence<byte> frame, long time)
    {
        RetryFrameLength = TimedRead.FrameLength((int)frame.Length);
        // Small frames (nearly every read) reuse the slot's buffer: no allocation and no pool traffic
        // between the receiving thread and the node thread that finishes the request.
        _rented = RetryFrameLength > OwnBufferLimit;
        RetryFrame = _rented
            ? ArrayPool<byte>.Shared.Rent(RetryFrameLength)
            : _ownBuffer ??= new byte[OwnBufferLimit];
        TimedRead.Write(RetryFrame, frame, time);
    }

    /// <summary>A retry reads at the router's time of the retry: a key that expired meanwhile is not returned.</summary>
    public void RestampRetry(long time) => TimedRead.Restamp(RetryFrame, time);

    /// <summary>Ends this use of the slot: later replies carrying the old id no longer match.</summary>
    public void End()
    {
        _generation++;
        Id = 0;
        Client = null;
        ReadNode = null;
        ErrorMessage = null;
        FirstOutcome.Clear();
        OtherOutcome.Clear();
        if (_rented)
            ArrayPool<byte>.Shared.Return(RetryFrame!);
        _rented = false;
        RetryFrame = null;
    }
}
