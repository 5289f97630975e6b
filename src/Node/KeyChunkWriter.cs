using System.Buffers;
using System.Buffers.Binary;
using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>
/// Groups listed keys into chunk frames <c>[u32 count][field key]...</c> flagged More; the last
/// frame (possibly empty) has no More flag and ends the stream.
/// </summary>
internal sealed class KeyChunkWriter(IBufferWriter<byte> output, ulong requestId, int keysPerChunk)
{
    private const int MaxChunkBytes = 256 * 1024;
    private readonly List<byte[]> _keys = new(keysPerChunk);
    private int _bytes;

    /// <summary>Adds a key; returns true when a chunk was written and is worth flushing.</summary>
    public bool Add(byte[] key)
    {
        _keys.Add(key);
        _bytes += FrameWriter.FieldSize(key.Length);
        if (_keys.Count < keysPerChunk && _bytes < MaxChunkBytes)
            return false;
        Write(FrameFlags.Response | FrameFlags.More);
        return true;
    }

    public void Finish() => Write(FrameFlags.Response);

    private void Write(FrameFlags flags)
    {
        var bodyLength = 4 + _bytes;
        var span = output.GetSpan(ProtocolLimits.HeaderSize + bodyLength);
        new FrameHeader(bodyLength, Opcode.ListKeys, flags, StatusCode.Ok, requestId).Write(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ProtocolLimits.HeaderSize..], (uint)_keys.Count);
        var offset = ProtocolLimits.HeaderSize + 4;
        foreach (var key in _keys)
            offset += FrameWriter.WriteField(span[offset..], key);
        output.Advance(offset);
        _keys.Clear();
        _bytes = 0;
    }
}
