using System.Buffers.Binary;
using System.Text;

namespace KvnDb.Router.Ha;

/// <summary>
/// What one entry of the router group's Raft log says: <c>[u8 kind][payload]</c>. <see cref="MetadataKind"/>: the
/// router metadata document, whole and opaque (JSON, <c>Membership/RouterMetadataJson</c>); <see cref="LeaderKind"/>:
/// <c>[u64 term][u16 RESP port, 0: none][UTF-8 host:port]</c>, where the leader of that term takes clients and nodes. Entries of other kinds
/// (a later router's) are skipped, so a group can be upgraded one router at a time.
/// </summary>
internal static class GroupEntry
{
    public const byte MetadataKind = 1;
    public const byte LeaderKind = 2;

    public static byte[] Metadata(ReadOnlySpan<byte> document)
    {
        var entry = new byte[1 + document.Length];
        entry[0] = MetadataKind;
        document.CopyTo(entry.AsSpan(1));
        return entry;
    }

    public static byte[] Leader(LeaderRecord leader)
    {
        var entry = new byte[1 + 8 + 2 + Encoding.UTF8.GetByteCount(leader.Address)];
        entry[0] = LeaderKind;
        BinaryPrimitives.WriteInt64LittleEndian(entry.AsSpan(1), leader.Term);
        BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(9), (ushort)leader.RespPort);
        Encoding.UTF8.GetBytes(leader.Address, entry.AsSpan(11));
        return entry;
    }

    /// <summary>The leader announcement in <paramref name="payload"/> (without its kind byte), or false when it is cut short.</summary>
    public static bool TryReadLeader(ReadOnlySpan<byte> payload, out LeaderRecord leader)
    {
        leader = null!;
        if (payload.Length < 10)
            return false;
        leader = new LeaderRecord(BinaryPrimitives.ReadInt64LittleEndian(payload), Encoding.UTF8.GetString(payload[10..]),
            BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]));
        return true;
    }
}
