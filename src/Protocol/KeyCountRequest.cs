using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// The body of a <see cref="Opcode.KeyCount"/> and of a <see cref="Opcode.FlushKeys"/>: <c>[u8 database]</c>,
/// 0 to 15 (<see cref="DatabaseKeys"/>) or <see cref="DatabaseKeys.All"/>; KeyCount also takes <see cref="PerDatabase"/>.
/// A KeyCount reply is <c>[i64 count]</c>: the keys the node stores (expired keys not yet removed by a time mark
/// included, as Redis's DBSIZE counts them); for <see cref="PerDatabase"/> it is sixteen of them, database 0 first.
/// A router with several groups asks a group's nodes with a trailing <see cref="SlotSet"/> of the slots the group does
/// not own (<see cref="ExcludingSize"/> bytes): keys of those slots (a migration's copies) are left out of the count.
/// </summary>
public static class KeyCountRequest
{
    public const int Size = 1;

    public const int ReplySize = 8;

    /// <summary>KeyCount only: every database's count at once (INFO keyspace).</summary>
    public const byte PerDatabase = 0xFE;

    public const int PerDatabaseReplySize = 8 * DatabaseKeys.Count;

    /// <summary>A body with the slots to leave out (router to node).</summary>
    public const int ExcludingSize = Size + SlotSet.Size;

    public static int WriteBody(Span<byte> destination, byte database)
    {
        destination[0] = database;
        return Size;
    }

    /// <summary>Writes a body that leaves the keys of <paramref name="excludedSlots"/> (a <see cref="SlotSet"/>) out of the count.</summary>
    public static int WriteBody(Span<byte> destination, byte database, ReadOnlySpan<byte> excludedSlots)
    {
        destination[0] = database;
        excludedSlots[..SlotSet.Size].CopyTo(destination[Size..]);
        return ExcludingSize;
    }

    /// <summary>A KeyCount body as a node takes it: the database and, when present, the slots to leave out (else empty).</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out byte database, out ReadOnlySpan<byte> excludedSlots)
    {
        excludedSlots = default;
        if (body.Length == ExcludingSize)
        {
            excludedSlots = body[Size..];
            body = body[..Size];
        }
        return TryRead(body, out database);
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out byte database)
    {
        database = 0;
        if (body.Length != Size || (body[0] >= DatabaseKeys.Count && body[0] is not (DatabaseKeys.All or PerDatabase)))
            return false;
        database = body[0];
        return true;
    }

    public static void WriteReply(Span<byte> destination, long count) => BinaryPrimitives.WriteInt64LittleEndian(destination, count);

    /// <summary>The count of one database from a <see cref="PerDatabase"/> reply.</summary>
    public static long ReadCountOf(ReadOnlySpan<byte> body, int database) =>
        body.Length == PerDatabaseReplySize ? BinaryPrimitives.ReadInt64LittleEndian(body[(database * 8)..]) : 0;

    public static bool TryReadReply(ReadOnlySpan<byte> body, out long count)
    {
        count = 0;
        if (body.Length != ReplySize)
            return false;
        count = BinaryPrimitives.ReadInt64LittleEndian(body);
        return true;
    }
}
