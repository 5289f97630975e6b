using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// The body of a <see cref="Opcode.Transaction"/>:
/// <c>[u32 guard count] guard × ([field key][u64 version]) [u32 operation count] operation × ([u8 opcode][u32 length][body])</c>.
/// A guard holds when the key's version equals the given one (0: the key is absent). Operations are
/// ordinary write bodies of the opcodes <see cref="OpcodeExtensions.IsTransactionOperation"/> allows.
/// Sized first (<see cref="GuardSize"/>, <see cref="OperationSize"/>), written with <see cref="TransactionBodyWriter"/>,
/// read in place with <see cref="TransactionReader"/>.
/// </summary>
public static class TransactionRequest
{
    public const int CountSize = 4;

    /// <summary>Opcode byte and length of an operation entry.</summary>
    public const int OperationHeaderSize = 1 + 4;

    public static int GuardSize(int keyLength) => FrameWriter.FieldSize(keyLength) + 8;

    public static int OperationSize(int bodyLength) => OperationHeaderSize + bodyLength;

    /// <summary>Both counts; add the guards' and operations' sizes.</summary>
    public const int FixedSize = 2 * CountSize;

    /// <summary>Reads the guards, then the operations; false for a body that does not have the layout (no operation is malformed too).</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out TransactionReader reader)
    {
        reader = default;
        if (body.Length < CountSize)
            return false;
        reader = new TransactionReader(body);
        return true;
    }
}

/// <summary>Writes a transaction body into a span of exactly its size.</summary>
public ref struct TransactionBodyWriter
{
    private FrameBuilder _body;
    private int _guardsLeft;
    private int _operationsLeft = -1;

    public TransactionBodyWriter(Span<byte> destination, int guards)
    {
        _body = FrameBuilder.Body(destination);
        _body.UInt32((uint)guards);
        _guardsLeft = guards;
    }

    public void Guard(ReadOnlySpan<byte> key, ulong version)
    {
        if (_guardsLeft-- <= 0)
            throw new InvalidOperationException("more guards than announced");
        _body.Field(key);
        _body.UInt64(version);
    }

    public void BeginOperations(int count)
    {
        if (_guardsLeft != 0 || _operationsLeft >= 0)
            throw new InvalidOperationException("operations begin once, after every announced guard");
        _body.UInt32((uint)count);
        _operationsLeft = count;
    }

    /// <summary>Writes the entry's opcode and length; returns where its body goes (exactly <paramref name="bodyLength"/> bytes).</summary>
    public Span<byte> Operation(Opcode opcode, int bodyLength)
    {
        if (_operationsLeft-- <= 0)
            throw new InvalidOperationException("more operations than announced");
        _body.Byte((byte)opcode);
        _body.UInt32((uint)bodyLength);
        var span = _body.Rest[..bodyLength];
        _body.Skip(bodyLength);
        return span;
    }

    public readonly int Complete()
    {
        if (_operationsLeft != 0)
            throw new InvalidOperationException("announced operations were not written");
        return _body.Complete();
    }
}

/// <summary>Reads a transaction body in place: every guard with <see cref="TryReadGuard"/>, then every operation with <see cref="TryReadOperation"/>.</summary>
public ref struct TransactionReader
{
    private BodyReader _reader;
    private uint _guardsLeft;
    private uint _operationsLeft;
    private bool _inOperations;

    internal TransactionReader(ReadOnlySpan<byte> body)
    {
        _reader = new BodyReader(body);
        _reader.TryReadUInt32(out _guardsLeft);
        GuardCount = _guardsLeft;
    }

    public uint GuardCount { get; }

    /// <summary>Known once the guards were read.</summary>
    public uint OperationCount { get; private set; }

    /// <summary>Every guard and operation was read and nothing follows.</summary>
    public readonly bool IsComplete => _inOperations && _operationsLeft == 0 && _reader.IsAtEnd;

    public bool TryReadGuard(out ReadOnlySpan<byte> key, out ulong version)
    {
        version = 0;
        if (_guardsLeft == 0 || !_reader.TryReadField(out key) || !_reader.TryReadUInt64(out version))
        {
            key = default;
            return false;
        }
        _guardsLeft--;
        return true;
    }

    /// <summary>Moves past the guards (all must have been read) to the operation count; false when malformed.</summary>
    public bool TryBeginOperations()
    {
        if (_guardsLeft != 0 || _inOperations || !_reader.TryReadUInt32(out var count))
            return false;
        _inOperations = true;
        _operationsLeft = count;
        OperationCount = count;
        return true;
    }

    public bool TryReadOperation(out Opcode opcode, out ReadOnlySpan<byte> body)
    {
        opcode = default;
        body = default;
        if (!_inOperations || _operationsLeft == 0 || !_reader.TryReadByte(out var code) || !_reader.TryReadUInt32(out var length)
            || length > (uint)_reader.Remaining || !_reader.TryReadBytes((int)length, out body))
            return false;
        opcode = (Opcode)code;
        _operationsLeft--;
        return true;
    }
}

/// <summary>
/// The Ok reply of a transaction: <c>[u32 count] count × ([u16 status][u32 length][body])</c>, one entry per
/// operation in order, each the status and body the operation alone would have answered. A failed guard
/// answers ConditionFailed with <c>[u32 guard index]</c>.
/// </summary>
public static class TransactionReply
{
    public const int EntryHeaderSize = 2 + 4;

    public static int EntrySize(int bodyLength) => EntryHeaderSize + bodyLength;

    public static void WriteCount(Span<byte> destination, int count) => BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)count);

    public static void WriteEntryHeader(Span<byte> destination, StatusCode status, int bodyLength)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)status);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[2..], (uint)bodyLength);
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out TransactionReplyReader reader)
    {
        reader = default;
        if (body.Length < 4)
            return false;
        reader = new TransactionReplyReader(body);
        return true;
    }

    /// <summary>The index of the guard that failed (a ConditionFailed reply).</summary>
    public static bool TryReadFailedGuard(ReadOnlySpan<byte> body, out int index)
    {
        index = -1;
        if (body.Length != 4)
            return false;
        index = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body), int.MaxValue);
        return true;
    }
}

/// <summary>Reads a transaction's Ok reply in place.</summary>
public ref struct TransactionReplyReader
{
    private BodyReader _reader;
    private uint _left;

    internal TransactionReplyReader(ReadOnlySpan<byte> body)
    {
        _reader = new BodyReader(body);
        _reader.TryReadUInt32(out _left);
        Count = _left;
    }

    public uint Count { get; }

    public readonly bool IsComplete => _left == 0 && _reader.IsAtEnd;

    public bool TryReadNext(out StatusCode status, out ReadOnlySpan<byte> body)
    {
        status = default;
        body = default;
        if (_left == 0 || !_reader.TryReadUInt16(out var code) || !_reader.TryReadUInt32(out var length)
            || length > (uint)_reader.Remaining || !_reader.TryReadBytes((int)length, out body))
            return false;
        status = (StatusCode)code;
        _left--;
        return true;
    }
}
