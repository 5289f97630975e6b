using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// Writes a multi-get reply frame sized up front: <see cref="MultiGetReply.HeaderSize"/> plus, per
/// key, <see cref="MultiGetReply.ValueSize"/> or <see cref="MultiGetReply.MissingSize"/>. A reply above the frame limit,
/// to a request flagged More, is several such frames, each a run of entries in request order, all but the last with More.
/// </summary>
public ref struct MultiGetReplyWriter
{
    private FrameBuilder _frame;
    private uint _left;

    /// <summary>Starts a reply frame of <paramref name="count"/> entries in <paramref name="bodyLength"/> bytes; <paramref name="more"/>: a chunk, more entries follow in later frames.</summary>
    public MultiGetReplyWriter(IBufferWriter<byte> output, ulong requestId, int count, int bodyLength, bool more = false)
    {
        var flags = more ? FrameFlags.Response | FrameFlags.More : FrameFlags.Response;
        _frame = FrameBuilder.Start(output, new FrameHeader(bodyLength, Opcode.MultiGet, flags, StatusCode.Ok, requestId));
        _frame.UInt32((uint)count);
        _left = (uint)count;
    }

    public void Add(ReadOnlySpan<byte> value)
    {
        Take();
        _frame.Field(value);
    }

    public void AddMissing()
    {
        Take();
        _frame.AbsentField();
    }

    public readonly void Complete()
    {
        if (_left != 0)
            throw new InvalidOperationException($"{_left} announced entries were not written");
        _frame.Complete();
    }

    private void Take()
    {
        if (_left == 0)
            throw new InvalidOperationException("more entries than announced");
        _left--;
    }
}
