namespace KvnDb.Protocol;

/// <summary>
/// Reads a snapshot chunk body in place (the joiner's SnapshotApply): the header, then one record per
/// <see cref="TryReadNext"/>. Keys and values point into the frame and die with it.
/// </summary>
public ref struct SnapshotChunkReader
{
    private BodyReader _reader;
    private uint _left;

    private SnapshotChunkReader(ReadOnlySpan<byte> records, scoped in SnapshotChunkHeader header)
    {
        _reader = new BodyReader(records);
        _left = header.Count;
        Header = header;
    }

    public SnapshotChunkHeader Header { get; }

    /// <summary>Every announced record was read and nothing follows them.</summary>
    public readonly bool IsComplete => _left == 0 && _reader.IsAtEnd;

    public static bool TryRead(ReadOnlySpan<byte> body, out SnapshotChunkReader reader)
    {
        reader = default;
        if (!SnapshotChunkHeader.TryRead(body, out var header))
            return false;
        reader = new SnapshotChunkReader(body[SnapshotChunkHeader.Size..], header);
        return true;
    }

    /// <summary>The next record; false after the last one or at a malformed one (then <see cref="IsComplete"/> is false).</summary>
    public bool TryReadNext(out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value, out ulong sequence, out long expiresAt)
    {
        value = default;
        sequence = 0;
        expiresAt = 0;
        if (_left == 0 || !_reader.TryReadField(out key) || !_reader.TryReadField(out value) || !_reader.TryReadUInt64(out sequence)
            || !_reader.TryReadInt64(out expiresAt))
        {
            key = default;
            return false;
        }
        _left--;
        return true;
    }
}
