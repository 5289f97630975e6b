using System.Buffers;
using System.Buffers.Binary;
using KvnDb.Protocol;

namespace KvnDb.Router.Resp;

/// <summary>
/// Encodes RESP commands as native request frames into a reusable buffer, so they take the same
/// path through the cluster as requests from native clients. The request id is the RESP command's
/// number on its connection; the write concern is the default (all).
/// </summary>
internal static class NativeFrames
{
    public static FrameHeader Key(ArrayBufferWriter<byte> output, Opcode opcode, ulong requestId, ReadOnlySpan<byte> key)
    {
        output.ResetWrittenCount();
        FrameWriter.WriteWithField(output, opcode, FrameFlags.None, StatusCode.Ok, requestId, key);
        return FrameHeader.Read(output.WrittenSpan);
    }

    public static FrameHeader KeyValue(ArrayBufferWriter<byte> output, Opcode opcode, ulong requestId, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        output.ResetWrittenCount();
        FrameWriter.WriteWithTwoFields(output, opcode, FrameFlags.None, requestId, key, value);
        return FrameHeader.Read(output.WrittenSpan);
    }

    /// <summary>MultiGet (keys) or MultiSet (key, value pairs): <c>[u32 count][field]...</c> from arguments 1 onwards.</summary>
    public static FrameHeader Counted(ArrayBufferWriter<byte> output, Opcode opcode, ulong requestId, in RespRequest request, int fieldsPerEntry)
    {
        output.ResetWrittenCount();
        var bodyLength = 4;
        for (var i = 1; i < request.Count; i++)
            bodyLength += FrameWriter.FieldSize(request[i].Length);
        var span = output.GetSpan(ProtocolLimits.HeaderSize + bodyLength);
        var header = new FrameHeader(bodyLength, opcode, FrameFlags.None, StatusCode.Ok, requestId);
        header.Write(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ProtocolLimits.HeaderSize..], (uint)((request.Count - 1) / fieldsPerEntry));
        var offset = ProtocolLimits.HeaderSize + 4;
        for (var i = 1; i < request.Count; i++)
            offset += FrameWriter.WriteField(span[offset..], request[i]);
        output.Advance(offset);
        return header;
    }
}
