namespace KvnDb.Bench;

/// <summary>
/// How requests are encoded and replies recognised for one protocol. The generator never decodes
/// values: it only needs to know where a reply ends and whether it is an error.
/// </summary>
internal abstract class WireProtocol
{
    /// <summary>Bytes one request of <paramref name="test"/> takes.</summary>
    public abstract int RequestSize(TestKind test, int keyLength, int valueLength);

    /// <summary>Encodes one request; returns the bytes written (exactly <see cref="RequestSize"/>).</summary>
    public abstract int WriteRequest(Span<byte> destination, TestKind test, ulong requestId, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>Length of the complete reply at the start of <paramref name="buffer"/>, or 0 when more bytes are needed.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a reply of this protocol.</exception>
    public abstract int TryParseReply(ReadOnlySpan<byte> buffer, out bool isError);

    /// <summary>Authenticates a fresh connection (hello or AUTH); throws with the server's reason when refused.</summary>
    public abstract Task HandshakeAsync(LoadConnection connection, string password, CancellationToken cancellationToken);

    public static string TestName(TestKind test) => test switch
    {
        TestKind.Set => "SET",
        TestKind.Get => "GET",
        _ => "PING",
    };
}
