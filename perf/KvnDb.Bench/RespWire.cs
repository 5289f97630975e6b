using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;

namespace KvnDb.Bench;

/// <summary>
/// A minimal RESP2 client side: SET, GET and PING as multi-bulk commands, replies recognised by their
/// first byte (simple string, error, integer, bulk string).
/// </summary>
internal sealed class RespWire : WireProtocol
{
    public override int RequestSize(TestKind test, int keyLength, int valueLength) => test switch
    {
        TestKind.Set => "*3\r\n$3\r\nSET\r\n"u8.Length + BulkSize(keyLength) + BulkSize(valueLength),
        TestKind.Get => "*2\r\n$3\r\nGET\r\n"u8.Length + BulkSize(keyLength),
        TestKind.Incr => "*2\r\n$4\r\nINCR\r\n"u8.Length + BulkSize(keyLength),
        TestKind.SetNx => "*3\r\n$5\r\nSETNX\r\n"u8.Length + BulkSize(keyLength) + BulkSize(valueLength),
        _ => "*1\r\n$4\r\nPING\r\n"u8.Length,
    };

    public override int WriteRequest(Span<byte> destination, TestKind test, ulong requestId, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        switch (test)
        {
            case TestKind.Set:
            {
                var offset = Copy(destination, "*3\r\n$3\r\nSET\r\n"u8);
                offset += WriteBulk(destination[offset..], key);
                return offset + WriteBulk(destination[offset..], value);
            }
            case TestKind.Get:
            {
                var offset = Copy(destination, "*2\r\n$3\r\nGET\r\n"u8);
                return offset + WriteBulk(destination[offset..], key);
            }
            case TestKind.Incr:
            {
                Span<byte> counter = stackalloc byte[key.Length];
                CounterKey(key, counter);
                var offset = Copy(destination, "*2\r\n$4\r\nINCR\r\n"u8);
                return offset + WriteBulk(destination[offset..], counter);
            }
            case TestKind.SetNx:
            {
                var offset = Copy(destination, "*3\r\n$5\r\nSETNX\r\n"u8);
                offset += WriteBulk(destination[offset..], key);
                return offset + WriteBulk(destination[offset..], value);
            }
            default:
                return Copy(destination, "*1\r\n$4\r\nPING\r\n"u8);
        }
    }

    /// <summary>Length of the complete reply at the start of <paramref name="buffer"/>, or 0 when more bytes are needed.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a RESP reply this generator expects.</exception>
    public static int TryParseReply(ReadOnlySpan<byte> buffer, out bool isError)
    {
        isError = false;
        var lineEnd = buffer.IndexOf("\r\n"u8);
        if (lineEnd < 0)
            return 0;
        switch (buffer[0])
        {
            case (byte)'+' or (byte)':':
                return lineEnd + 2;
            case (byte)'-':
                isError = true;
                return lineEnd + 2;
            case (byte)'$':
                if (!Utf8Parser.TryParse(buffer[1..lineEnd], out long length, out var used) || used != lineEnd - 1 || length < -1)
                    throw new InvalidDataException("malformed RESP bulk length");
                if (length == -1)
                    return lineEnd + 2;
                var total = lineEnd + 2 + length + 2;
                return buffer.Length >= total ? (int)total : 0;
            default:
                throw new InvalidDataException($"unexpected RESP reply starting with '{(char)buffer[0]}'");
        }
    }

    /// <summary>
    /// RESP's own read loop (the native protocol's is <c>FrameLoop</c>): replies are found in the first
    /// segment when they fit, else in a copy of the buffer kept by the connection.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask ReceiveRepliesAsync(PipeReader input, ReplyBatch batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var done = ParseReplies(ref buffer, batch);
            if (done)
            {
                input.AdvanceTo(buffer.Start);
                return;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
                throw new BenchException("the server closed the connection");
        }
    }

    /// <summary>Takes complete replies from the start of <paramref name="buffer"/>; true once the batch is complete.</summary>
    private static bool ParseReplies(ref ReadOnlySequence<byte> buffer, ReplyBatch batch)
    {
        while (!buffer.IsEmpty)
        {
            var span = buffer.FirstSpan;
            var length = TryParseReply(span, out var isError);
            if (length == 0 && !buffer.IsSingleSegment)
                length = TryParseReply(span = batch.Contiguous(buffer), out isError);
            if (length == 0)
                return false;
            if (isError && batch.KeepsErrorText)
                batch.LastError = Encoding.UTF8.GetString(span[1..length]).TrimEnd();
            buffer = buffer.Slice(length);
            if (batch.OnReply(isError))
                return true;
        }
        return false;
    }

    public override async Task HandshakeAsync(LoadConnection connection, string password, CancellationToken cancellationToken)
    {
        if (password.Length == 0)
            return;
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        var request = new byte["*2\r\n$4\r\nAUTH\r\n"u8.Length + BulkSize(passwordBytes.Length)];
        var offset = Copy(request, "*2\r\n$4\r\nAUTH\r\n"u8);
        WriteBulk(request.AsSpan(offset), passwordBytes);
        await connection.SendAsync(request, cancellationToken).ConfigureAwait(false);
        connection.Batch.Begin(1, null, keepErrorText: true);
        await ReceiveRepliesAsync(connection.Input, connection.Batch, cancellationToken).ConfigureAwait(false);
        if (connection.Batch.LastError is { } refusal)
            throw new BenchException($"AUTH refused: {refusal}");
    }

    private static int BulkSize(int length) => 1 + Digits(length) + 2 + length + 2;

    private static int Digits(int value)
    {
        var digits = 1;
        for (; value >= 10; value /= 10)
            digits++;
        return digits;
    }

    private static int WriteBulk(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        destination[0] = (byte)'$';
        Utf8Formatter.TryFormat(bytes.Length, destination[1..], out var digits);
        var offset = 1 + digits;
        offset += Copy(destination[offset..], "\r\n"u8);
        offset += Copy(destination[offset..], bytes);
        return offset + Copy(destination[offset..], "\r\n"u8);
    }

    private static int Copy(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination);
        return bytes.Length;
    }
}
