using System.Buffers;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>
/// The router's last frame on a connection it closes (<see cref="Opcode.Closing"/>): NoReply, request id
/// <see cref="SyncMessages.ControlIdBit"/>, a status saying why (<see cref="StatusCode.Unavailable"/>: the router is
/// stopping, reconnect later; <see cref="StatusCode.ProtocolError"/>: the peer broke the protocol) and a UTF-8 message
/// as the body, as an error reply's. A peer of v3 that does not know it drops it (its id matches no request).
/// </summary>
public static class ClosingNotice
{
    /// <summary>Longest message sent (longer ones are cut): a reader never needs more.</summary>
    public const int MaxMessageBytes = 1024;

    public static void Write(IBufferWriter<byte> output, StatusCode status, string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var length = Math.Min(bytes.Length, MaxMessageBytes);
        FrameWriter.WriteRaw(output, Opcode.Closing, FrameFlags.NoReply, status, SyncMessages.ControlIdBit, bytes.AsSpan(0, length));
    }

    /// <summary>The message (invalid UTF-8 becomes replacement characters: it is only shown).</summary>
    public static string Read(ReadOnlySpan<byte> body) => Encoding.UTF8.GetString(body);
}
