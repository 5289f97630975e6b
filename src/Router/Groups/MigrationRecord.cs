namespace KvnDb.Router.Groups;

/// <summary>Where a slot migration stands in the metadata (what a restarted router resumes from).</summary>
internal enum MigrationState
{
    /// <summary>The source owns the slots; the target is being filled (a restart starts the copy over).</summary>
    Copying = 0,

    /// <summary>The map gives the slots to the target; the source still has to delete its copies (a restart does that).</summary>
    Switched = 1,
}

/// <summary>
/// The durable record of a slot migration (<see cref="Membership.RouterMetadata.Migration"/>): written before anything
/// moves, changed to <see cref="MigrationState.Switched"/> in the same metadata change that gives the slots to
/// <see cref="To"/>, removed once <see cref="From"/> deleted its copies. <see cref="Slots"/> are ranges of the moving
/// slots (their group field names the target).
/// </summary>
internal sealed record MigrationRecord(string From, string To, IReadOnlyList<SlotRange> Slots, MigrationState State)
{
    /// <summary>The moving slots, in order.</summary>
    public IEnumerable<int> SlotNumbers() => Slots.SelectMany(r => Enumerable.Range(r.First, r.Last - r.First + 1));

    public static IReadOnlyList<SlotRange> RangesOf(IReadOnlyList<int> slots, string group)
    {
        var ranges = new List<SlotRange>();
        for (var i = 0; i < slots.Count;)
        {
            var first = slots[i];
            var last = first;
            while (++i < slots.Count && slots[i] == last + 1)
                last = slots[i];
            ranges.Add(new SlotRange(first, last, group));
        }
        return ranges;
    }
}
