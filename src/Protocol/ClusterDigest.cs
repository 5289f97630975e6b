using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>One node's line in a cluster digest reply.</summary>
public readonly record struct NodeDigestEntry(int NodeId, NodeState State, NodeDigest Digest);

/// <summary>
/// The router's digest reply to a client: <c>[u32 count]</c> then per node
/// <c>[u32 node id][u8 state][u64 keys][u64 last sequence][u64 digest]</c>.
/// </summary>
public static class ClusterDigest
{
    public const int EntrySize = 4 + 1 + NodeDigest.Size;

    public static int BodySize(int count) => 4 + count * EntrySize;

    public static void Write(Span<byte> destination, IReadOnlyList<NodeDigestEntry> entries)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)entries.Count);
        var offset = 4;
        foreach (var entry in entries)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[offset..], (uint)entry.NodeId);
            destination[offset + 4] = (byte)entry.State;
            entry.Digest.Write(destination[(offset + 5)..]);
            offset += EntrySize;
        }
    }

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
            NodeDigest.TryRead(entry[5..], out var digest);
            entries[i] = new NodeDigestEntry((int)BinaryPrimitives.ReadUInt32LittleEndian(entry), (NodeState)entry[4], digest);
        }
        return true;
    }
}
