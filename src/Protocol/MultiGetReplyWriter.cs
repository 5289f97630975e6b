using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// Writes a multi-get reply frame sized up front: <see cref="MultiGetReply.HeaderSize"/> plus, per
/// key, <see cref="MultiGetReply.ValueSize"/> or <see cref="MultiGetReply.MissingSize"/>.
/// </summary>
public ref struct MultiGetReplyWriter
{
    private FrameBuilder _frame;
    private uint _left;

    public MultiGetReplyWriter(IBufferWriter<byte> output, ulong requestId, int count, int bodyLength)
    {
        _frame = FrameBuilder.Start(output, new FrameHeader(bodyLength, Opcode.MultiGet, FrameFlags.Response, StatusCode.Ok, requestId));
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
