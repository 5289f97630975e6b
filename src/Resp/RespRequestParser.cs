using System.Buffers;

namespace KvnDb.Resp;

/// <summary>
/// Finds one RESP command (a multibulk array of bulk strings, or an inline line) at the start of a
/// pipe's buffer and records where its arguments are. Allocation-free and bounded: a bulk length, the
/// whole command and the argument count are checked against limits before anything is waited for,
/// and requests cannot nest (a client command is a flat array).
/// </summary>
internal static class RespRequestParser
{
    /// <summary>Redis's own limit on the elements of one multibulk request.</summary>
    public const int MaxArguments = 1024 * 1024;

    /// <summary>Redis's limit on an inline command line.</summary>
    public const int MaxInlineLength = 64 * 1024;

    /// <summary>An integer line ("*3", "$11") is never longer than this.</summary>
    private const int MaxIntegerDigits = 19;

    /// <summary>
    /// Parses the command at the start of <paramref name="buffer"/>. On <see cref="RespParseStatus.Complete"/>,
    /// <paramref name="length"/> is the command's size in bytes (an empty command has no arguments and
    /// is skipped by the caller); on <see cref="RespParseStatus.Error"/>, <paramref name="error"/> says why.
    /// </summary>
    public static RespParseStatus TryParse(in ReadOnlySequence<byte> buffer, int maxCommandSize, RespArguments arguments,
        out int length, out string? error, int maxArguments = MaxArguments, int maxBulk = int.MaxValue)
    {
        arguments.Clear();
        length = 0;
        error = null;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryPeek(out var first))
            return RespParseStatus.Incomplete;
        if (first != (byte)'*')
            return TryParseInline(ref reader, arguments, out length, out error);

        reader.Advance(1);
        var status = TryReadInteger(ref reader, out var count);
        if (status == IntegerStatus.Incomplete)
            return RespParseStatus.Incomplete;
        if (status == IntegerStatus.Invalid || count > MaxArguments)
            return Fail("invalid multibulk length", out error);
        if (count > maxArguments)
            return Fail("unauthenticated multibulk length", out error);
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryRead(out var type))
                return RespParseStatus.Incomplete;
            if (type != (byte)'$')
            {
                error = $"expected '$', got '{Printable(type)}'";
                return RespParseStatus.Error;
            }
            status = TryReadInteger(ref reader, out var bulkLength);
            if (status == IntegerStatus.Incomplete)
                return RespParseStatus.Incomplete;
            if (status == IntegerStatus.Invalid || bulkLength < 0 || bulkLength > maxCommandSize)
                return Fail("invalid bulk length", out error);
            if (bulkLength > maxBulk)
                return Fail("unauthenticated bulk length", out error);
            var offset = reader.Consumed;
            if (offset + bulkLength + 2 > maxCommandSize)
                return Fail("command larger than the frame limit", out error);
            if (reader.Remaining < bulkLength + 2)
                return RespParseStatus.Incomplete;
            reader.Advance(bulkLength);
            reader.TryRead(out var cr);
            reader.TryRead(out var lf);
            if (cr != (byte)'\r' || lf != (byte)'\n')
                return Fail("bulk string not terminated by CRLF", out error);
            arguments.Add((int)offset, (int)bulkLength);
        }
        length = (int)reader.Consumed;
        return RespParseStatus.Complete;
    }

    private static RespParseStatus TryParseInline(ref SequenceReader<byte> reader, RespArguments arguments, out int length, out string? error)
    {
        length = 0;
        error = null;
        if (!reader.TryAdvanceTo((byte)'\n', advancePastDelimiter: true))
            return reader.Remaining > MaxInlineLength ? Fail("too big inline request", out error) : RespParseStatus.Incomplete;
        length = (int)reader.Consumed;
        if (length > MaxInlineLength)
            return Fail("too big inline request", out error);

        // Split the line on blanks; double or single quotes group words (no escapes inside: arguments stay slices of the input).
        var line = new SequenceReader<byte>(reader.Sequence.Slice(0, length));
        var start = -1;
        var quoted = false;
        byte quote = 0;
        while (line.TryRead(out var b))
        {
            var position = (int)line.Consumed - 1;
            if (quoted)
            {
                if (b == quote)
                {
                    arguments.Add(start, position - start);
                    start = -1;
                    quoted = false;
                    if (line.TryPeek(out var next) && !IsBlank(next))
                        return Fail("unbalanced quotes in request", out error);
                }
                else if (b == (byte)'\n')
                {
                    return Fail("unbalanced quotes in request", out error);
                }
                continue;
            }
            if (IsBlank(b))
            {
                if (start >= 0)
                    arguments.Add(start, position - start);
                start = -1;
            }
            else if (start < 0)
            {
                if (b is (byte)'"' or (byte)'\'')
                {
                    quoted = true;
                    quote = b;
                    start = position + 1;
                }
                else
                {
                    start = position;
                }
            }
        }
        return RespParseStatus.Complete;
    }

    private static bool IsBlank(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    private enum IntegerStatus { Ok, Incomplete, Invalid }

    /// <summary>Reads "[-]digits\r\n" (the type byte already consumed).</summary>
    private static IntegerStatus TryReadInteger(ref SequenceReader<byte> reader, out long value)
    {
        value = 0;
        var negative = false;
        var digits = 0;
        while (true)
        {
            if (!reader.TryRead(out var b))
                return IntegerStatus.Incomplete;
            if (b == (byte)'\r')
                break;
            if (b == (byte)'-' && digits == 0 && !negative)
            {
                negative = true;
                continue;
            }
            if (b is < (byte)'0' or > (byte)'9' || ++digits > MaxIntegerDigits)
                return IntegerStatus.Invalid;
            value = value * 10 + (b - '0');
        }
        if (!reader.TryRead(out var lf))
            return IntegerStatus.Incomplete;
        if (lf != (byte)'\n' || digits == 0)
            return IntegerStatus.Invalid;
        if (negative)
            value = -value;
        return IntegerStatus.Ok;
    }

    private static char Printable(byte b) => b is >= 32 and < 127 ? (char)b : '?';

    private static RespParseStatus Fail(string message, out string? error)
    {
        error = message;
        return RespParseStatus.Error;
    }
}
