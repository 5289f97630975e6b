using System.Buffers;
using System.Runtime.InteropServices;
using KvnDb.Node.Commands;
using KvnDb.Protocol;

namespace KvnDb.Node.Scan;

/// <summary>
/// Every stored key of the node in scan order, per database, mirroring the engine (kept by <see cref="NodeStore"/>,
/// built from the engine at start): a SCAN page (<see cref="Opcode.ScanKeys"/>) starts at its position with two
/// binary searches and examines at most ten records per key asked for, whatever the engine (faster, ram, dir) and
/// however many dead records its log holds. It costs memory: each key once more (its bytes plus about 45 bytes).
/// Used from the link's loop only, like the store.
/// </summary>
internal sealed class KeyScanIndex
{
    /// <summary>Records a page examines per key asked for (Redis's SCAN examines ten buckets per COUNT).</summary>
    public const int ExaminedPerKey = 10;

    /// <summary>At most this many records per page, so one page costs the link's loop a few milliseconds at most.</summary>
    public const int MaxExamined = 100_000;

    /// <summary>A page stops growing past this many bytes of keys.</summary>
    public const int MaxPageBytes = 256 * 1024;

    private readonly OrderedKeySet[] _databases = new OrderedKeySet[DatabaseKeys.Count];
    private readonly List<ReadOnlyMemory<byte>> _page = [];

    public KeyScanIndex()
    {
        for (var i = 0; i < _databases.Length; i++)
            _databases[i] = new OrderedKeySet();
    }

    /// <summary>Keys held for a database (stored keys: expired ones not yet removed included).</summary>
    public long CountOf(int database) => _databases[database].Count;

    /// <summary>
    /// Keys held for a database whose slot is in <paramref name="slots"/> (a <see cref="SlotSet"/>): two binary searches
    /// per run of consecutive slots, then only those slots' keys (a count of the keys a group holds but does not own).
    /// </summary>
    public long CountInSlots(int database, ReadOnlySpan<byte> slots)
    {
        var set = _databases[database];
        long count = 0;
        for (var slot = 0; slot < KeySlot.Count; slot++)
        {
            if (!SlotSet.Contains(slots, slot))
                continue;
            var last = slot;
            while (last + 1 < KeySlot.Count && SlotSet.Contains(slots, last + 1))
                last++;
            var walker = set.From(ScanOrder.FirstOrderOfSlot(slot));
            while (walker.MoveNext() && ScanOrder.SlotOf(walker.Current.Order) <= last)
                count++;
            slot = last;
        }
        return count;
    }

    /// <summary>After a key is stored (new or not).</summary>
    public void Add(ReadOnlySpan<byte> storedKey)
    {
        var database = DatabaseKeys.DatabaseOf(storedKey);
        _databases[database].Add(ScanOrder.Of(OwnKey(storedKey, database)), storedKey);
    }

    /// <summary>After a stored key is deleted.</summary>
    public void Remove(ReadOnlySpan<byte> storedKey)
    {
        var database = DatabaseKeys.DatabaseOf(storedKey);
        _databases[database].Remove(ScanOrder.Of(OwnKey(storedKey, database)), storedKey);
    }

    public void Clear()
    {
        foreach (var set in _databases)
            set.Clear();
    }

    /// <summary>
    /// Writes the page that starts at <paramref name="position"/> as a <see cref="ScanKeysReply"/>: live keys (not
    /// expired at <paramref name="now"/>) that match <paramref name="pattern"/> (empty: all), at most
    /// <paramref name="count"/>, from at most <see cref="ExaminedPerKey"/> × count records. A page never ends inside a
    /// position (keys sharing one are returned together), so the next page starts past every key it examined. Positions
    /// at or above <paramref name="end"/> are not examined: once none is left below it, the next position is
    /// <paramref name="end"/> (0 when it is the limit), where a router with several groups continues in another group.
    /// </summary>
    public void WritePage(IBufferWriter<byte> output, ulong requestId, byte database, ulong position, uint count, ReadOnlySpan<byte> pattern,
        ExpiryIndex expiry, long now, ulong end = ScanKeysRequest.PositionLimit)
    {
        var bounded = end < ScanKeysRequest.PositionLimit;
        var examineLimit = (int)Math.Min((long)count * ExaminedPerKey, MaxExamined);
        var checkExpiry = expiry.Count > 0;
        var prefix = database == 0 ? 0 : DatabaseKeys.PrefixSize;
        var walker = _databases[database].From(ScanOrder.FirstOrderAt(position));
        var examined = 0;
        var bytes = 0;
        var last = ulong.MaxValue;
        var next = bounded ? end : 0UL; // when the walk runs out of keys below the end
        _page.Clear();
        try
        {
            while (walker.MoveNext())
            {
                var entry = walker.Current;
                var at = ScanOrder.PositionOf(entry.Order);
                if (at >= end)
                    break;
                if (at != last && (examined >= examineLimit || _page.Count >= count || bytes >= MaxPageBytes))
                {
                    next = last + 1; // more keys lie past this page
                    break;
                }
                last = at;
                examined++;
                if (checkExpiry && expiry.IsExpired(entry.Key, now))
                    continue;
                var key = entry.Key.AsMemory(prefix);
                if (!pattern.IsEmpty && !GlobPattern.IsMatch(pattern, key.Span))
                    continue;
                _page.Add(key);
                bytes += key.Length;
            }
            ScanKeysReply.Write(output, requestId, next, CollectionsMarshal.AsSpan(_page));
        }
        finally
        {
            _page.Clear();
        }
    }

    private static ReadOnlySpan<byte> OwnKey(ReadOnlySpan<byte> storedKey, int database) =>
        database == 0 ? storedKey : storedKey[DatabaseKeys.PrefixSize..];
}
