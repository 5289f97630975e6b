using System.Buffers;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>The reply of every error status: a UTF-8 message for humans as the whole body.</summary>
public static class ErrorReply
{
    public static void Write(IBufferWriter<byte> output, Opcode opcode, ulong requestId, StatusCode status, string message)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(Encoding.UTF8.GetByteCount(message), opcode, FrameFlags.Response, status, requestId));
        frame.Utf8(message);
        frame.Complete();
    }

    /// <summary>The message (invalid UTF-8 becomes replacement characters: it is only ever shown).</summary>
    public static string Read(ReadOnlySpan<byte> body) => Encoding.UTF8.GetString(body);

    /// <summary>The message of a body still in the pipe.</summary>
    public static string Read(in ReadOnlySequence<byte> body) => Encoding.UTF8.GetString(body);
}
