namespace KvnDb.Protocol;

/// <summary>Options of a <see cref="Opcode.CopyKey"/> (a bit set). Values are part of the wire format.</summary>
[Flags]
public enum CopyKeyOptions : byte
{
    None = 0,
    /// <summary>Delete the source afterwards (RENAME, MOVE).</summary>
    DeleteSource = 0x01,
    /// <summary>Overwrite an existing destination (RENAME, COPY ... REPLACE); without it an existing destination fails the copy.</summary>
    Replace = 0x02,
}

/// <summary>
/// The body of a <see cref="Opcode.CopyKey"/>: <c>[u8 options][field source][field destination]</c>. The
/// destination gets the source's value and expiry under the write's sequence. Outcomes: Ok (copied),
/// NotFound (no source), ConditionFailed (the destination exists and Replace is not set; or source and
/// destination are the same key without Replace). Same key with Replace: Ok, nothing changes.
/// </summary>
public static class CopyKeyRequest
{
    private const CopyKeyOptions KnownOptions = CopyKeyOptions.DeleteSource | CopyKeyOptions.Replace;

    public static int BodyLength(int sourceLength, int destinationLength) =>
        1 + FrameWriter.FieldSize(sourceLength) + FrameWriter.FieldSize(destinationLength);

    public static int WriteBody(Span<byte> destination, CopyKeyOptions options, ReadOnlySpan<byte> source, ReadOnlySpan<byte> target)
    {
        var body = FrameBuilder.Body(destination[..BodyLength(source.Length, target.Length)]);
        body.Byte((byte)options);
        body.Field(source);
        body.Field(target);
        return body.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out CopyKeyOptions options, out ReadOnlySpan<byte> source, out ReadOnlySpan<byte> target)
    {
        options = default;
        source = target = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadByte(out var bits) || (bits & ~(byte)KnownOptions) != 0)
            return false;
        options = (CopyKeyOptions)bits;
        return reader.TryReadField(out source) && reader.TryReadField(out target) && reader.IsAtEnd;
    }
}
