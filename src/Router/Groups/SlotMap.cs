using KvnDb.Protocol;

namespace KvnDb.Router.Groups;

/// <summary>
/// Which replica group owns each of the <see cref="KeySlot.Count"/> slots: one byte per slot (the group's
/// index), so routing a key is a CRC16 and an array read. Immutable: a change (slot migration) is a new map,
/// made durable first, then swapped in.
/// </summary>
internal sealed class SlotMap
{
    /// <summary>A group index is one byte (and one index past the last group is a migration's lane, <see cref="WithLane"/>).</summary>
    public const int MaxGroups = 254;

    private readonly byte[] _owner;

    private SlotMap(string[] groups, byte[] owner)
    {
        Groups = groups;
        _owner = owner;
    }

    /// <summary>Group names, by index.</summary>
    public IReadOnlyList<string> Groups { get; }

    /// <summary>The index of the group that owns <paramref name="slot"/>.</summary>
    public int GroupOf(int slot) => _owner[slot];

    /// <summary>The index of the group that owns <paramref name="key"/>'s slot.</summary>
    public int GroupOfKey(ReadOnlySpan<byte> key) => _owner[KeySlot.Of(key)];

    /// <summary>The slots <paramref name="group"/> owns, in order.</summary>
    public List<int> SlotsOf(int group)
    {
        var slots = new List<int>();
        for (var slot = 0; slot < _owner.Length; slot++)
            if (_owner[slot] == group)
                slots.Add(slot);
        return slots;
    }

    /// <summary>This map with <paramref name="slots"/> given to group <paramref name="group"/> (a migration's switch).</summary>
    public SlotMap With(IEnumerable<int> slots, int group)
    {
        var owner = (byte[])_owner.Clone();
        foreach (var slot in slots)
            owner[slot] = (byte)group;
        return new SlotMap([.. Groups], owner);
    }

    /// <summary>This map with one more group, <paramref name="group"/>, which owns no slot (a group added to a running router).</summary>
    public SlotMap WithGroup(string group) => new(Check([.. Groups, group]), (byte[])_owner.Clone());

    /// <summary>
    /// The routing map of a migration: <paramref name="slots"/> belong to a pseudo-group, the <em>lane</em>, whose index
    /// (returned in <paramref name="lane"/>) is one past the last group, so a request on moving slots is told from the others
    /// by the same lookup (<see cref="RequestGroups"/>); only <see cref="GroupRouter"/> and the relay use it.
    /// </summary>
    public SlotMap WithLane(IEnumerable<int> slots, out int lane)
    {
        lane = Groups.Count;
        var owner = (byte[])_owner.Clone();
        foreach (var slot in slots)
            owner[slot] = (byte)lane;
        return new SlotMap([.. Groups, "(moving)"], owner);
    }

    /// <summary>How many slots each group owns, by index.</summary>
    public int[] SlotCounts()
    {
        var counts = new int[Groups.Count];
        foreach (var owner in _owner)
            counts[owner]++;
        return counts;
    }

    /// <summary>
    /// Slots split evenly among the groups that own slots (in order: the first ones get the remainder); the other
    /// <paramref name="groups"/> exist and own nothing until slots are moved to them.
    /// </summary>
    public static SlotMap Even(IReadOnlyList<string> groups, int owning)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(owning, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(owning, groups.Count);
        var owner = new byte[KeySlot.Count];
        var slot = 0;
        for (var g = 0; g < owning; g++)
        {
            var share = KeySlot.Count / owning + (g < KeySlot.Count % owning ? 1 : 0);
            owner.AsSpan(slot, share).Fill((byte)g);
            slot += share;
        }
        return new SlotMap(Check(groups), owner);
    }

    /// <summary>The map stored as <paramref name="ranges"/>; <paramref name="groups"/> lists every group (those of the ranges first).</summary>
    public static SlotMap FromRanges(IReadOnlyList<SlotRange> ranges, IReadOnlyList<string> groups)
    {
        var names = Check(groups);
        var owner = new byte[KeySlot.Count];
        var covered = new bool[KeySlot.Count];
        foreach (var range in ranges)
        {
            var index = Array.IndexOf(names, range.Group);
            if (index < 0 || range.First < 0 || range.Last >= KeySlot.Count || range.First > range.Last)
                throw new InvalidDataException($"slot range {range.First}-{range.Last} of group '{range.Group}' is not a valid range of a known group");
            for (var slot = range.First; slot <= range.Last; slot++)
            {
                if (covered[slot])
                    throw new InvalidDataException($"slot {slot} is in two ranges of the slot map");
                covered[slot] = true;
                owner[slot] = (byte)index;
            }
        }
        var missing = Array.IndexOf(covered, false);
        if (missing >= 0)
            throw new InvalidDataException($"slot {missing} belongs to no group in the slot map");
        return new SlotMap(names, owner);
    }

    /// <summary>The map as ranges of consecutive slots of one group, in slot order (how the metadata stores it).</summary>
    public IReadOnlyList<SlotRange> ToRanges()
    {
        var ranges = new List<SlotRange>();
        var first = 0;
        for (var slot = 1; slot <= KeySlot.Count; slot++)
        {
            if (slot < KeySlot.Count && _owner[slot] == _owner[first])
                continue;
            ranges.Add(new SlotRange(first, slot - 1, Groups[_owner[first]]));
            first = slot;
        }
        return ranges;
    }

    private static string[] Check(IReadOnlyList<string> groups)
    {
        if (groups.Count is 0 or > MaxGroups)
            throw new ArgumentException($"a router has 1 to {MaxGroups} groups, not {groups.Count}");
        foreach (var name in groups)
            if (!HelloRequest.IsValidGroupName(name))
                throw new ArgumentException($"'{name}' is not a group name (1 to {HelloRequest.MaxGroupNameBytes} ASCII letters, digits, '-', '_' or '.')");
        if (groups.Distinct(StringComparer.Ordinal).Count() != groups.Count)
            throw new ArgumentException($"a group is named twice in {string.Join(",", groups)}");
        return [.. groups];
    }
}
