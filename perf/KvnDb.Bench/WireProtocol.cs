using System.IO.Pipelines;

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

    /// <summary>
    /// Reads replies from <paramref name="input"/>, telling <paramref name="batch"/> of each, until it
    /// says the batch is complete. Allocates nothing per reply.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not replies of this protocol.</exception>
    /// <exception cref="BenchException">The server closed the connection first.</exception>
    public abstract ValueTask ReceiveRepliesAsync(PipeReader input, ReplyBatch batch, CancellationToken cancellationToken);

    /// <summary>Authenticates a fresh connection (hello or AUTH); throws with the server's reason when refused.</summary>
    public abstract Task HandshakeAsync(LoadConnection connection, string password, CancellationToken cancellationToken);

    /// <summary>Counters live under <c>ctr:</c> (same length as <c>key:</c>), so an INCR never meets a SET's value.</summary>
    protected static void CounterKey(ReadOnlySpan<byte> key, Span<byte> destination)
    {
        key.CopyTo(destination);
        "ctr:"u8.CopyTo(destination);
    }

    public static string TestName(TestKind test) => test switch
    {
        TestKind.Set => "SET",
        TestKind.Get => "GET",
        TestKind.Incr => "INCR",
        TestKind.SetNx => "SETNX",
        _ => "PING",
    };
}
