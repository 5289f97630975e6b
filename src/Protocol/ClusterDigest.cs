using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// The router's digest reply to a client: <c>[u32 count]</c> then per node
/// <c>[u32 node number][u8 state][u8 in-sync member 0/1][u64 lag sequences][u64 keys][u64 last sequence][u64 digest]</c>.
/// </summary>
public static class ClusterDigest
{
    public const int EntrySize = 4 + 1 + 1 + 8 + NodeDigest.Size;

    public static int BodySize(int count) => 4 + count * EntrySize;

    public static void Write(Span<byte> destination, IReadOnlyList<NodeDigestEntry> entries)
    {
        var body = FrameBuilder.Body(destination[..BodySize(entries.Count)]);
        body.UInt32((uint)entries.Count);
        foreach (var entry in entries)
        {
            body.UInt32((uint)entry.NodeId);
            body.Byte((byte)entry.State);
            body.Byte(entry.InSync ? (byte)1 : (byte)0);
            body.UInt64(entry.Lag);
            entry.Digest.Write(body.Rest);
            body.Skip(NodeDigest.Size);
        }
        body.Complete();
    }

    /// <summary>The reply frame (to a client's Digest request).</summary>
    public static void WriteReply(IBufferWriter<byte> output, ulong requestId, IReadOnlyList<NodeDigestEntry> entries)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(BodySize(entries.Count), Opcode.Digest, FrameFlags.Response, StatusCode.Ok, requestId));
        Write(frame.Rest, entries);
        frame.Skip(BodySize(entries.Count));
        frame.Complete();
    }

    /// <summary>Decodes the entries; the array is sized from the bytes present, never from the claimed count alone.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out NodeDigestEntry[] entries)
    {
        entries = [];
        if (body.Length < 4)
            return false;
        var count = BinaryPrimitives.ReadUInt32LittleEndian(body);
        if (count > (uint)((body.Length - 4) / EntrySize))
            return false;
        entries = new NodeDigestEntry[count];
        for (var i = 0; i < count; i++)
        {
            var entry = body.Slice(4 + i * EntrySize, EntrySize);
            NodeDigest.TryRead(entry[14..], out var digest);
            entries[i] = new NodeDigestEntry(
                (int)BinaryPrimitives.ReadUInt32LittleEndian(entry),
                (NodeState)entry[4],
                entry[5] != 0,
                BinaryPrimitives.ReadUInt64LittleEndian(entry[6..]),
                digest);
        }
        return true;
    }
}
