using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>
/// Encodes RESP commands as native request frames into a reusable buffer, so they take the same
/// path through the cluster as requests from native clients. The request id is the RESP command's
/// number on its connection; the write concern is the default (all).
/// </summary>
internal static class NativeFrames
{
    /// <summary>A <see cref="KeyRequest"/> frame (Get, Exists, Delete, ListKeys).</summary>
    public static FrameHeader Key(ArrayBufferWriter<byte> output, Opcode opcode, ulong requestId, ReadOnlySpan<byte> key)
    {
        output.ResetWrittenCount();
        KeyRequest.Write(output, opcode, FrameFlags.None, requestId, key);
        return FrameHeader.Read(output.WrittenSpan);
    }

    /// <summary>A <see cref="SetRequest"/> frame.</summary>
    public static FrameHeader KeyValue(ArrayBufferWriter<byte> output, ulong requestId, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        output.ResetWrittenCount();
        SetRequest.Write(output, FrameFlags.None, requestId, key, value);
        return FrameHeader.Read(output.WrittenSpan);
    }

    /// <summary>A <see cref="SetWhenRequest"/> frame (SET with NX, XX or GET).</summary>
    public static FrameHeader SetWhen(ArrayBufferWriter<byte> output, ulong requestId, in SetWhenHeader header, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        output.ResetWrittenCount();
        SetWhenRequest.Write(output, FrameFlags.None, requestId, header, key, value);
        return FrameHeader.Read(output.WrittenSpan);
    }

    /// <summary>MultiGet (keys) or MultiSet (key, value pairs) from arguments 1 onwards, written with <see cref="CountedBodyWriter"/>.</summary>
    public static FrameHeader Counted(ArrayBufferWriter<byte> output, Opcode opcode, ulong requestId, in RespRequest request, int fieldsPerEntry)
    {
        output.ResetWrittenCount();
        var bodyLength = CountedBodyWriter.HeaderSize;
        for (var i = 1; i < request.Count; i++)
            bodyLength += CountedBodyWriter.FieldSize(request[i].Length);
        var body = new CountedBodyWriter(output, opcode, FrameFlags.None, requestId, bodyLength, (request.Count - 1) / fieldsPerEntry, fieldsPerEntry);
        for (var i = 1; i < request.Count; i++)
            body.Field(request[i]);
        body.Complete();
        return FrameHeader.Read(output.WrittenSpan);
    }
}
