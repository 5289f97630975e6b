namespace KvnDb.FaultTests.Linearizability;

/// <summary>One key's value read back after the run, once every fault was healed.</summary>
/// <param name="Key">The key read.</param>
/// <param name="Value">The value read, or null for a missing key.</param>
/// <param name="Verified">False when the read itself failed (nothing is known).</param>
public sealed record FinalRead(string Key, string? Value, bool Verified = true);

/// <summary>The keys whose read-back value no surviving acknowledged write explains.</summary>
public sealed record LostWrites(IReadOnlyList<string> LostKeys, IReadOnlyList<string> UnverifiedKeys, int AcknowledgedKeys);

/// <summary>
/// Checks the read-back after a run: for each key with an acknowledged write, the final value must be
/// what one of its last acknowledged writes left (an acknowledged write that no other acknowledged
/// write began after) or the value of a write whose outcome is unknown (it may have landed last). A
/// simpler, louder check than the full search, and it counts what was lost.
/// </summary>
public static class FinalState
{
    public static LostWrites FindLost(IEnumerable<Operation> history, IEnumerable<FinalRead> finals)
    {
        var byKey = history.Where(o => o.IsWrite).GroupBy(o => o.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var lost = new List<string>();
        var unverified = new List<string>();
        var acknowledgedKeys = 0;
        foreach (var final in finals)
        {
            if (!byKey.TryGetValue(final.Key, out var writes) || !writes.Any(w => w.IsAcknowledgedWrite))
                continue;
            acknowledgedKeys++;
            if (!final.Verified)
            {
                unverified.Add(final.Key);
                continue;
            }
            if (!Allowed(writes).Contains(final.Value ?? Absent))
                lost.Add(final.Key);
        }
        return new LostWrites(lost, unverified, acknowledgedKeys);
    }

    private const string Absent = "\0absent";

    private static HashSet<string> Allowed(List<Operation> writes)
    {
        var acknowledged = writes.Where(w => w.IsAcknowledgedWrite).ToList();
        var allowed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var write in acknowledged)
        {
            var superseded = acknowledged.Any(later => later.Invoke > write.Complete);
            if (!superseded)
                allowed.Add(write.Kind == OpKind.Set ? write.Value! : Absent);
        }
        foreach (var unknown in writes.Where(w => w.Outcome == OpOutcome.Indeterminate))
            allowed.Add(unknown.Kind == OpKind.Set ? unknown.Value! : Absent);
        return allowed;
    }
}
