using System.Buffers;
using System.IO.Hashing;
using System.Numerics;
using KvnDb.Protocol;

namespace KvnDb.Router.Outcomes;

/// <summary>
/// Nodes that answered a write with the same outcome (status and body), and a copy of that reply frame
/// so the router can answer the client once the write concern is met, whichever node's reply completes
/// it. Owned by one <see cref="PendingRequest"/> slot and reused: small frames stay in its own buffer.
/// </summary>
internal sealed class OutcomeGroup
{
    private const int OwnBufferLimit = 1024;
    private byte[]? _own;
    private byte[]? _frame;
    private bool _rented;

    public ulong Fingerprint { get; private set; }

    /// <summary>The nodes (by slot bit) that answered this outcome.</summary>
    public ulong Nodes { get; private set; }

    public bool IsEmpty => Nodes == 0;

    public int Count => BitOperations.PopCount(Nodes);

    public StatusCode Status { get; private set; }

    /// <summary>The reply frame as the node sent it (header included), or empty when its body was empty.</summary>
    public ReadOnlySequence<byte> Frame => _frame is null ? default : new ReadOnlySequence<byte>(_frame, 0, FrameLength);

    public bool HasBody => _frame is not null;

    private int FrameLength { get; set; }

    /// <summary>Status and a hash of the body: equal outcomes, equal fingerprints (an empty body hashes to nothing).</summary>
    public static ulong FingerprintOf(in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        var status = (ulong)header.Status << 48;
        if (header.BodyLength == 0)
            return status;
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        return status ^ (XxHash3.HashToUInt64(body.Span) & 0x0000_FFFF_FFFF_FFFF) ^ ((ulong)(uint)body.Span.Length << 16);
    }

    /// <summary>The group's first node: keeps its frame (unless the body is empty).</summary>
    public void Start(ulong fingerprint, ulong node, in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        Fingerprint = fingerprint;
        Nodes = node;
        Status = header.Status;
        if (header.BodyLength == 0)
            return;
        FrameLength = (int)frame.Length;
        _rented = FrameLength > OwnBufferLimit;
        _frame = _rented ? ArrayPool<byte>.Shared.Rent(FrameLength) : _own ??= new byte[OwnBufferLimit];
        frame.CopyTo(_frame);
    }

    public void Add(ulong node) => Nodes |= node;

    public void Clear()
    {
        if (_rented)
            ArrayPool<byte>.Shared.Return(_frame!);
        _rented = false;
        _frame = null;
        Nodes = 0;
        Fingerprint = 0;
        Status = StatusCode.Ok;
    }
}
