using System.Buffers;
using System.Buffers.Text;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>
/// Turns native outcomes (status and reply body, as a node answered one operation or as one entry of a
/// transaction reply) into the RESP reply of a command of a given <see cref="ReplyShape"/>. The same code
/// answers a command sent alone, sent as a Batch of several operations, and queued by MULTI.
/// </summary>
internal static class ReplyRenderer
{
    public const int TtlSeconds = 0;
    public const int TtlMilliseconds = 1;
    public const int ExpireTimeSeconds = 2;
    public const int ExpireTimeMilliseconds = 3;

    /// <summary>
    /// A node's error as Redis words it: MISCONF for a disk that refuses writes, Redis Cluster's own CROSSSLOT line for keys
    /// of several groups (clients match it), ERR otherwise.
    /// </summary>
    public static string ErrorText(StatusCode status, ReadOnlySpan<byte> message) =>
        status == StatusCode.CrossSlot ? "CROSSSLOT Keys in request don't hash to the same slot"
        : (status == StatusCode.StorageUnavailable ? "MISCONF " : "ERR ") + Encoding.UTF8.GetString(message);

    /// <summary>The reply of a one-operation command. Returns false when the reply is an error (counted by the caller).</summary>
    public static bool RenderOutcome(IBufferWriter<byte> output, ReplyShape shape, StatusCode status, ReadOnlySpan<byte> body)
    {
        if (status.IsError())
        {
            RespWriter.WriteError(output, ErrorText(status, body));
            return false;
        }
        var ok = status == StatusCode.Ok;
        switch (shape.Kind)
        {
            case ReplyKind.Get:
                if (ok && ValueReply.TryRead(body, out var value))
                    RespWriter.WriteBulk(output, value);
                else
                    RespWriter.WriteNull(output, shape.Resp3);
                break;
            case ReplyKind.Write:
                RespWriter.WriteOk(output);
                break;
            case ReplyKind.ConditionalSet:
                RenderConditionalSet(output, shape, ok, body);
                break;
            case ReplyKind.Delete or ReplyKind.Exists:
                RespWriter.WriteInteger(output, ok ? 1 : 0);
                break;
            case ReplyKind.OldValue or ReplyKind.FloatValue:
                if (ok && VersionedValueReply.TryRead(body, out _, out var old, out var present) && present)
                    RespWriter.WriteBulk(output, old);
                else
                    RespWriter.WriteNull(output, shape.Resp3);
                break;
            case ReplyKind.Integer:
                VersionedNumberReply.TryRead(body, out _, out var number);
                RespWriter.WriteInteger(output, number);
                break;
            case ReplyKind.Flag:
                RespWriter.WriteInteger(output, ok ? 1 : 0);
                break;
            case ReplyKind.Rename:
                if (ok)
                    RespWriter.WriteOk(output);
                else
                {
                    RespWriter.WriteError(output, "ERR no such key");
                    return false;
                }
                break;
            case ReplyKind.TimeToLive:
                RenderTimeToLive(output, shape.Variant, ok, body);
                break;
            case ReplyKind.Strlen:
                RespWriter.WriteInteger(output, ok && ValueReply.TryRead(body, out var text) ? text.Length : 0);
                break;
            case ReplyKind.GetBit:
                var bit = 0;
                if (ok && ValueReply.TryRead(body, out var bits) && shape.First >> 3 < bits.Length)
                    bit = (bits[(int)(shape.First >> 3)] >> (7 - (int)(shape.First & 7))) & 1;
                RespWriter.WriteInteger(output, bit);
                break;
            case ReplyKind.GetRange:
                RespWriter.WriteBulk(output, ok && ValueReply.TryRead(body, out var whole) ? Range(whole, shape.First, shape.Last) : default);
                break;
            case ReplyKind.Type:
                RespWriter.WriteSimple(output, ok ? "string"u8 : "none"u8);
                break;
            case ReplyKind.ObjectEncoding:
                if (ok && ValueReply.TryRead(body, out var encoded))
                    RespWriter.WriteBulk(output, EncodingOf(encoded));
                else
                    RespWriter.WriteNull(output, shape.Resp3);
                break;
            case ReplyKind.KeyCount:
                KeyCountRequest.TryReadReply(body, out var count);
                RespWriter.WriteInteger(output, count);
                break;
            case ReplyKind.Scan:
                RenderScanPage(output, body);
                break;
            default:
                RespWriter.WriteError(output, $"ERR unexpected reply for a {shape.Kind} command");
                return false;
        }
        return true;
    }

    /// <summary>
    /// SCAN's <c>[cursor, [keys]]</c> from a node's page (shape checked by the router, NodeReplyRules). The cursor is
    /// the page's next position, across groups too (the slot in it names the group; docs/resp.md, "SCAN cursors").
    /// </summary>
    private static void RenderScanPage(IBufferWriter<byte> output, ReadOnlySpan<byte> body)
    {
        ScanKeysReply.TryRead(body, out var page);
        RespWriter.WriteArrayHeader(output, 2);
        Span<byte> digits = stackalloc byte[20];
        page.Next.TryFormat(digits, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        RespWriter.WriteBulk(output, digits[..written]);
        RespWriter.WriteArrayHeader(output, (int)page.Count);
        while (page.TryReadNext(out var key))
            RespWriter.WriteBulk(output, key);
    }

    /// <summary>
    /// The reply of a command whose operations are the next <see cref="ReplyShape.Parts"/> entries of a transaction
    /// reply (a Batch, or its share of EXEC). Returns the number of error replies written.
    /// </summary>
    public static int RenderEntries(IBufferWriter<byte> output, ReplyShape shape, ref TransactionReplyReader entries)
    {
        var parts = Math.Max(1, shape.Parts);
        switch (shape.Kind)
        {
            case ReplyKind.Delete or ReplyKind.Exists:
            {
                var hits = 0L;
                string? error = null;
                for (var i = 0; i < parts; i++)
                {
                    if (!entries.TryReadNext(out var status, out var body))
                        return Malformed(output);
                    if (status.IsError())
                        error ??= ErrorText(status, body);
                    else if (status == StatusCode.Ok)
                        hits++;
                }
                if (error is not null)
                {
                    RespWriter.WriteError(output, error);
                    return 1;
                }
                RespWriter.WriteInteger(output, hits);
                return 0;
            }
            case ReplyKind.MultiGet:
            {
                RespWriter.WriteArrayHeader(output, parts);
                for (var i = 0; i < parts; i++)
                {
                    if (!entries.TryReadNext(out var status, out var body))
                        return Malformed(output);
                    if (status == StatusCode.Ok && ValueReply.TryRead(body, out var value))
                        RespWriter.WriteBulk(output, value);
                    else
                        RespWriter.WriteNull(output, shape.Resp3);
                }
                return 0;
            }
            case ReplyKind.Write:
            {
                string? error = null;
                for (var i = 0; i < parts; i++)
                {
                    if (!entries.TryReadNext(out var status, out var body))
                        return Malformed(output);
                    if (status.IsError())
                        error ??= ErrorText(status, body);
                }
                if (error is not null)
                {
                    RespWriter.WriteError(output, error);
                    return 1;
                }
                RespWriter.WriteOk(output);
                return 0;
            }
            default:
            {
                if (!entries.TryReadNext(out var status, out var body))
                    return Malformed(output);
                for (var i = 1; i < parts; i++)
                    entries.TryReadNext(out _, out _);
                return RenderOutcome(output, shape, status, body) ? 0 : 1;
            }
        }
    }

    private static int Malformed(IBufferWriter<byte> output)
    {
        RespWriter.WriteError(output, "ERR malformed transaction reply from the node");
        return 1;
    }

    private static void RenderConditionalSet(IBufferWriter<byte> output, ReplyShape shape, bool written, ReadOnlySpan<byte> body)
    {
        if (shape.ReturnOld)
        {
            if (VersionedValueReply.TryRead(body, out _, out var old, out var present) && present)
                RespWriter.WriteBulk(output, old);
            else
                RespWriter.WriteNull(output, shape.Resp3);
        }
        else if (shape.IntegerReply)
            RespWriter.WriteInteger(output, written ? 1 : 0);
        else if (written)
            RespWriter.WriteOk(output);
        else
            RespWriter.WriteNull(output, shape.Resp3);
    }

    /// <summary>TTL and friends: -2 for a missing key, -1 for no expiry; seconds are rounded as Redis rounds them.</summary>
    private static void RenderTimeToLive(IBufferWriter<byte> output, int variant, bool found, ReadOnlySpan<byte> body)
    {
        if (!found || !TimeToLiveReply.TryRead(body, out _, out var expiresAt, out var remaining))
        {
            RespWriter.WriteInteger(output, -2);
            return;
        }
        if (expiresAt == 0)
        {
            RespWriter.WriteInteger(output, -1);
            return;
        }
        var milliseconds = variant is ExpireTimeSeconds or ExpireTimeMilliseconds ? expiresAt : Math.Max(0, remaining);
        RespWriter.WriteInteger(output, variant is TtlMilliseconds or ExpireTimeMilliseconds ? milliseconds : (milliseconds + 500) / 1000);
    }

    /// <summary>GETRANGE's bounds, as Redis 7.0 clamps them (negative counts from the end; an empty range is empty).</summary>
    public static ReadOnlySpan<byte> Range(ReadOnlySpan<byte> value, long start, long end)
    {
        long length = value.Length;
        if (start < 0 && end < 0 && start > end)
            return default;
        if (start < 0)
            start += length;
        if (end < 0)
            end += length;
        start = Math.Max(0, start);
        end = Math.Max(0, end);
        if (end >= length)
            end = length - 1;
        if (start > end || length == 0)
            return default;
        return value.Slice((int)start, (int)(end - start + 1));
    }

    /// <summary>What Redis's OBJECT ENCODING would say of a string value.</summary>
    private static ReadOnlySpan<byte> EncodingOf(ReadOnlySpan<byte> value)
    {
        if (value.Length is > 0 and <= 20 && Utf8Parser.TryParse(value, out long number, out var used) && used == value.Length
            && (value[0] != (byte)'0' || value.Length == 1) && !(value[0] == (byte)'-' && number == 0))
            return "int"u8;
        return value.Length <= 44 ? "embstr"u8 : "raw"u8;
    }
}
