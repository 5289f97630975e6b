using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// The donor's reply to SnapshotRead: a chunk frame sized up front (header plus the records'
/// <see cref="SnapshotChunkHeader.RecordSize"/> total), then filled record by record.
/// </summary>
public ref struct SnapshotChunkWriter
{
    private FrameBuilder _frame;
    private uint _left;

    /// <param name="output">Where the frame goes.</param>
    /// <param name="requestId">The SnapshotRead's request id.</param>
    /// <param name="header">Done flag, donor key count and the number of records that follow.</param>
    /// <param name="recordBytes">Sum of <see cref="SnapshotChunkHeader.RecordSize"/> over the records.</param>
    /// <param name="opcode">SnapshotRead, or MigrationRead for a migration's (slot-filtered) snapshot.</param>
    public SnapshotChunkWriter(IBufferWriter<byte> output, ulong requestId, scoped in SnapshotChunkHeader header, int recordBytes, Opcode opcode = Opcode.SnapshotRead)
    {
        _frame = FrameBuilder.Start(output,
            new FrameHeader(SnapshotChunkHeader.Size + recordBytes, opcode, FrameFlags.Response, StatusCode.Ok, requestId));
        header.Write(_frame.Rest);
        _frame.Skip(SnapshotChunkHeader.Size);
        _left = header.Count;
    }

    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt)
    {
        if (_left == 0)
            throw new InvalidOperationException("more records than the chunk header announced");
        _left--;
        _frame.Field(key);
        _frame.Field(value);
        _frame.UInt64(sequence);
        _frame.Int64(expiresAt);
    }

    /// <summary>Checks every announced record was written and commits the frame.</summary>
    public readonly void Complete()
    {
        if (_left != 0)
            throw new InvalidOperationException($"{_left} announced records were not written");
        _frame.Complete();
    }
}
