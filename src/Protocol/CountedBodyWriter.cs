using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// Writes a counted request body, <c>[u32 count]</c> then fields: a MultiGet (one key field per
/// entry, read by <see cref="MultiGetRequest"/>) or a MultiSet (key and value fields per entry, read
/// by <see cref="MultiSetRequest"/>). Sized first with <see cref="HeaderSize"/> plus <see cref="FieldSize"/>
/// per field; <see cref="Complete"/> checks the announced fields were all written.
/// </summary>
public ref struct CountedBodyWriter
{
    public const int HeaderSize = 4;

    private FrameBuilder _body;
    private int _fieldsLeft;

    /// <summary>A body alone, into <paramref name="destination"/> (exactly its length).</summary>
    public CountedBodyWriter(Span<byte> destination, int entries, int fieldsPerEntry)
    {
        _body = FrameBuilder.Body(destination);
        Start(entries, fieldsPerEntry);
    }

    /// <summary>A whole request frame of <paramref name="opcode"/> with a body of <paramref name="bodyLength"/> bytes.</summary>
    public CountedBodyWriter(IBufferWriter<byte> output, Opcode opcode, FrameFlags flags, ulong requestId, int bodyLength, int entries, int fieldsPerEntry)
    {
        _body = FrameBuilder.Start(output, new FrameHeader(bodyLength, opcode, flags, StatusCode.Ok, requestId));
        Start(entries, fieldsPerEntry);
    }

    public static int FieldSize(int length) => FrameWriter.FieldSize(length);

    private void Start(int entries, int fieldsPerEntry)
    {
        _body.UInt32((uint)entries);
        _fieldsLeft = entries * fieldsPerEntry;
    }

    public void Field(ReadOnlySpan<byte> field)
    {
        Take();
        _body.Field(field);
    }

    public void Utf8Field(string field)
    {
        Take();
        _body.Utf8Field(field);
    }

    /// <summary>Checks every announced field was written; returns the bytes written.</summary>
    public readonly int Complete()
    {
        if (_fieldsLeft != 0)
            throw new InvalidOperationException($"{_fieldsLeft} announced fields were not written");
        return _body.Complete();
    }

    private void Take()
    {
        if (_fieldsLeft == 0)
            throw new InvalidOperationException("more fields than announced");
        _fieldsLeft--;
    }
}
