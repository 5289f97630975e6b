using System.Buffers;
using System.Text;

namespace KvnDb.Resp;

/// <summary>
/// Writes RESP2/RESP3 values straight into a buffer writer (a pipe or a reply slot): size first,
/// then one <c>GetSpan</c>/<c>Advance</c>.
/// </summary>
internal static class RespWriter
{
    /// <summary>Room for a type byte, a 64-bit integer and CRLF.</summary>
    private const int MaxPrefixSize = 1 + 20 + 2;

    public static void WriteSimple(IBufferWriter<byte> output, ReadOnlySpan<byte> text)
    {
        var span = output.GetSpan(text.Length + 3);
        span[0] = (byte)'+';
        text.CopyTo(span[1..]);
        span[text.Length + 1] = (byte)'\r';
        span[text.Length + 2] = (byte)'\n';
        output.Advance(text.Length + 3);
    }

    public static void WriteOk(IBufferWriter<byte> output) => WriteSimple(output, "OK"u8);

    /// <summary>An error line. The message starts with its code ("ERR ...", "NOAUTH ..."); line breaks are blanked.</summary>
    public static void WriteError(IBufferWriter<byte> output, string message)
    {
        var byteCount = Encoding.UTF8.GetByteCount(message);
        var span = output.GetSpan(byteCount + 3);
        span[0] = (byte)'-';
        Encoding.UTF8.GetBytes(message, span[1..]);
        foreach (ref var b in span.Slice(1, byteCount))
        {
            if (b is (byte)'\r' or (byte)'\n')
                b = (byte)' ';
        }
        span[byteCount + 1] = (byte)'\r';
        span[byteCount + 2] = (byte)'\n';
        output.Advance(byteCount + 3);
    }

    public static void WriteInteger(IBufferWriter<byte> output, long value) => WritePrefixed(output, (byte)':', value);

    public static void WriteArrayHeader(IBufferWriter<byte> output, long count) => WritePrefixed(output, (byte)'*', count);

    /// <summary>A RESP3 push frame's header (pub/sub messages).</summary>
    public static void WritePushHeader(IBufferWriter<byte> output, long count) => WritePrefixed(output, (byte)'>', count);

    /// <summary>A map of <paramref name="pairs"/> entries: <c>%</c> in RESP3, a flat array in RESP2.</summary>
    public static void WriteMapHeader(IBufferWriter<byte> output, int pairs, bool resp3)
    {
        if (resp3)
            WritePrefixed(output, (byte)'%', pairs);
        else
            WriteArrayHeader(output, pairs * 2L);
    }

    /// <summary>The absent value: <c>_</c> in RESP3, the null bulk string in RESP2.</summary>
    public static void WriteNull(IBufferWriter<byte> output, bool resp3) =>
        output.Write(resp3 ? "_\r\n"u8 : "$-1\r\n"u8);

    public static void WriteBulk(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        var span = output.GetSpan(MaxPrefixSize + value.Length + 2);
        var offset = WritePrefix(span, (byte)'$', value.Length);
        value.CopyTo(span[offset..]);
        offset += value.Length;
        span[offset++] = (byte)'\r';
        span[offset++] = (byte)'\n';
        output.Advance(offset);
    }

    /// <summary>A bulk string straight from a (possibly multi-segment) slice of a node's reply.</summary>
    public static void WriteBulk(IBufferWriter<byte> output, in ReadOnlySequence<byte> value)
    {
        var length = (int)value.Length;
        var span = output.GetSpan(MaxPrefixSize + length + 2);
        var offset = WritePrefix(span, (byte)'$', length);
        value.CopyTo(span[offset..]);
        offset += length;
        span[offset++] = (byte)'\r';
        span[offset++] = (byte)'\n';
        output.Advance(offset);
    }

    public static void WriteBulkString(IBufferWriter<byte> output, string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        var span = output.GetSpan(MaxPrefixSize + byteCount + 2);
        var offset = WritePrefix(span, (byte)'$', byteCount);
        offset += Encoding.UTF8.GetBytes(value, span[offset..]);
        span[offset++] = (byte)'\r';
        span[offset++] = (byte)'\n';
        output.Advance(offset);
    }

    private static void WritePrefixed(IBufferWriter<byte> output, byte type, long value)
    {
        var span = output.GetSpan(MaxPrefixSize);
        output.Advance(WritePrefix(span, type, value));
    }

    private static int WritePrefix(Span<byte> span, byte type, long value)
    {
        span[0] = type;
        value.TryFormat(span[1..], out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        span[written + 1] = (byte)'\r';
        span[written + 2] = (byte)'\n';
        return written + 3;
    }
}
