namespace KvnDb.Protocol;

/// <summary>
/// A set of hash slots as it travels in migration messages: <see cref="Size"/> bytes, one bit per slot, slot
/// <c>s</c> at bit <c>s % 8</c> of byte <c>s / 8</c> (<see cref="MigrationRead"/>, <see cref="FlushSlotsRequest"/>).
/// </summary>
public static class SlotSet
{
    /// <summary>16,384 bits.</summary>
    public const int Size = KeySlot.Count / 8;

    public static bool Contains(ReadOnlySpan<byte> set, int slot) => (set[slot >> 3] & (1 << (slot & 7))) != 0;

    /// <summary>Whether <paramref name="key"/>'s slot is in the set.</summary>
    public static bool ContainsKey(ReadOnlySpan<byte> set, ReadOnlySpan<byte> key) => Contains(set, KeySlot.Of(key));

    /// <summary>Writes the set of <paramref name="slots"/> into <paramref name="destination"/> (<see cref="Size"/> bytes).</summary>
    public static void Write(Span<byte> destination, IEnumerable<int> slots)
    {
        var set = destination[..Size];
        set.Clear();
        foreach (var slot in slots)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(slot);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, KeySlot.Count);
            set[slot >> 3] |= (byte)(1 << (slot & 7));
        }
    }

    public static byte[] Of(IEnumerable<int> slots)
    {
        var set = new byte[Size];
        Write(set, slots);
        return set;
    }

    /// <summary>The slots of a set, in order.</summary>
    public static List<int> Slots(ReadOnlySpan<byte> set)
    {
        var slots = new List<int>();
        for (var slot = 0; slot < KeySlot.Count; slot++)
            if (Contains(set, slot))
                slots.Add(slot);
        return slots;
    }
}
