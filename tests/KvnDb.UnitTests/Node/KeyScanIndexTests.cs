using System.Buffers;
using System.Text;
using KvnDb.Node;
using KvnDb.Node.Scan;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Node;

/// <summary>
/// The node's scan index: its order matches a reference sorted set through splits and removals; pages walk every key
/// once, bounded per page; a position means the same on two nodes that hold the same keys, whatever order they came in.
/// </summary>
public sealed class KeyScanIndexTests
{
    private const long Now = 1_700_000_000_000;
    private ulong _sequence;

    [Fact]
    public void Ordered_set_keeps_the_order_of_a_reference_through_splits_and_removals()
    {
        var set = new OrderedKeySet();
        var reference = new SortedSet<(ulong Order, string Key)>(Comparer<(ulong Order, string Key)>.Create((a, b) =>
            a.Order != b.Order ? a.Order.CompareTo(b.Order) : string.CompareOrdinal(a.Key, b.Key)));
        var random = new Random(15);
        for (var step = 0; step < 40_000; step++)
        {
            var key = $"k{random.Next(3000)}";
            // Few distinct orders: ties between keys of one order are common and must be told apart by the key.
            var order = (ulong)(key.GetHashCode(StringComparison.Ordinal) & 0x3F) << 40;
            var bytes = Encoding.ASCII.GetBytes(key);
            if (random.Next(3) == 0)
                Assert.Equal(reference.Remove((order, key)), set.Remove(order, bytes));
            else
                Assert.Equal(reference.Add((order, key)), set.Add(order, bytes));
        }
        Assert.Equal(reference.Count, set.Count);
        Assert.Equal(reference.Select(e => e.Key), Walk(set, 0).Select(e => Encoding.ASCII.GetString(e.Key)));
        var middle = reference.ElementAt(reference.Count / 2).Order;
        Assert.Equal(reference.Where(e => e.Order >= middle).Select(e => e.Key), Walk(set, middle).Select(e => Encoding.ASCII.GetString(e.Key)));
        Assert.Empty(Walk(set, ulong.MaxValue));
        foreach (var (order, key) in reference.ToList())
            Assert.True(set.Remove(order, Encoding.ASCII.GetBytes(key)));
        Assert.Equal(0, set.Count);
        Assert.Empty(Walk(set, 0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(1000)]
    public void Pages_return_every_key_once_and_at_most_count(int count)
    {
        var store = new NodeStore(new RamStorageEngine());
        var keys = Enumerable.Range(0, 2000).Select(i => $"key:{i}").ToArray();
        foreach (var key in keys)
            Set(store, key);
        var (seen, pages) = ScanAll(store, (uint)count);
        Assert.Equal(keys.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
        Assert.All(pages, page => Assert.InRange(page.Keys.Count, 0, count));
    }

    [Fact]
    public void A_page_examines_at_most_ten_records_per_key_asked_for_so_dead_records_make_short_pages()
    {
        var store = new NodeStore(new RamStorageEngine());
        for (var i = 0; i < 5000; i++)
            Set(store, $"gone:{i}", expiresAt: Now - 1); // expired, not yet removed by a time mark
        Set(store, "live:1");
        Set(store, "live:2");
        var (seen, pages) = ScanAll(store, 1);
        Assert.Equal(["live:1", "live:2"], seen.Order(StringComparer.Ordinal));
        // Each page moved past at most ten records: 5,002 records take at least 501 pages, nearly all empty.
        Assert.True(pages.Count >= 501, $"{pages.Count} pages");
        Assert.Equal(pages.Count - 2, pages.Count(p => p.Keys.Count == 0));
    }

    [Fact]
    public void Match_runs_on_the_node_and_databases_are_scanned_apart_without_their_prefix()
    {
        var store = new NodeStore(new RamStorageEngine());
        foreach (var i in Enumerable.Range(0, 300))
            Set(store, $"user:{i}");
        Set(store, "order:1");
        var inThree = new byte[DatabaseKeys.PrefixSize + 6];
        DatabaseKeys.WritePrefix(inThree, 3);
        "user:7"u8.CopyTo(inThree.AsSpan(DatabaseKeys.PrefixSize));
        store.Write(inThree, "v"u8, 0, ++_sequence);

        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"user:{i}").Where(k => k.StartsWith("user:1", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
            ScanAll(store, 7, "user:1*"u8.ToArray()).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["user:7"], ScanAll(store, 10, database: 3).Keys);
        Assert.Equal(301, ScanAll(store, 50).Keys.Count); // database 0 does not see database 3's key
    }

    [Fact]
    public void A_position_from_one_node_continues_on_another_that_holds_the_same_keys()
    {
        var keys = Enumerable.Range(0, 3000).Select(i => $"k{i}").ToArray();
        var first = new NodeStore(new RamStorageEngine());
        var second = new NodeStore(new RamStorageEngine());
        foreach (var key in keys)
            Set(first, key);
        foreach (var key in keys.Reverse())
            Set(second, key); // another insertion order: another layout of blocks, same positions
        var seen = new List<string>();
        var position = 0UL;
        var turn = 0;
        do
        {
            var page = Page(turn++ % 2 == 0 ? first : second, position, 37);
            seen.AddRange(page.Keys);
            position = page.Next;
        }
        while (position != 0);
        Assert.Equal(keys.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_index_follows_deletes_flushes_time_marks_and_a_restart_of_the_store()
    {
        var engine = new RamStorageEngine();
        var store = new NodeStore(engine);
        Set(store, "a");
        Set(store, "b");
        Set(store, "soon", expiresAt: Now + 10);
        Set(store, "a"); // an update: still one key
        store.Delete("b"u8, Now, ++_sequence);
        Assert.Equal(["a", "soon"], ScanAll(store, 10).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1, store.RemoveExpired(Now + 20, ++_sequence));
        Assert.Equal(["a"], ScanAll(store, 10).Keys);
        Assert.Equal(["a"], ScanAll(new NodeStore(engine), 10).Keys); // rebuilt from the engine
        store.Flush(DatabaseKeys.All, Now, ++_sequence);
        Assert.Empty(ScanAll(store, 10).Keys);
        Assert.Equal(0, store.Keys.CountOf(0));
    }

    [Fact]
    public void A_bounded_page_stops_at_its_end_and_answers_the_end_as_the_next_position()
    {
        var store = new NodeStore(new RamStorageEngine());
        var keys = Enumerable.Range(0, 3000).Select(i => $"key:{i}").ToArray();
        foreach (var key in keys)
            Set(store, key);
        // Slots 0 to 4095, then 4096 to the last: the two runs of a router with two groups.
        var end = ScanKeysRequest.FirstPositionOf(4096);
        var first = new List<string>();
        var position = 0UL;
        while (position != end)
        {
            var output = new ArrayBufferWriter<byte>();
            store.Keys.WritePage(output, 1, 0, position, 50, default, store.Expiry, Now, end);
            Assert.True(ScanKeysReply.TryRead(output.WrittenSpan[ProtocolLimits.HeaderSize..], out var reply));
            while (reply.TryReadNext(out var key))
                first.Add(Encoding.UTF8.GetString(key));
            Assert.True(reply.Next > position && reply.Next <= end, "a bounded page never goes past its end");
            position = reply.Next;
        }
        Assert.Equal(keys.Where(k => KeySlot.Of(Encoding.UTF8.GetBytes(k)) < 4096).Order(StringComparer.Ordinal), first.Order(StringComparer.Ordinal));
        var rest = Page(store, end, 100_000);
        Assert.Equal(0UL, rest.Next);
        Assert.Equal(keys.Except(first).Order(StringComparer.Ordinal), rest.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Keys_in_a_slot_set_are_counted_and_left_out_of_a_key_count()
    {
        var store = new NodeStore(new RamStorageEngine());
        var keys = Enumerable.Range(0, 2000).Select(i => $"key:{i}").ToArray();
        foreach (var key in keys)
            Set(store, key);
        var namespaced = new byte[DatabaseKeys.PrefixSize + 5]; // key:1 of database 3: the same slot as in database 0
        DatabaseKeys.WritePrefix(namespaced, 3);
        "key:1"u8.CopyTo(namespaced.AsSpan(DatabaseKeys.PrefixSize));
        store.Write(namespaced, "v"u8, 0, ++_sequence);
        var slots = SomeSlots.Concat(Enumerable.Range(9000, 700)).ToHashSet();
        var set = SlotSet.Of(slots);
        var inSet = keys.Count(k => slots.Contains(KeySlot.Of(Encoding.UTF8.GetBytes(k))));
        Assert.InRange(inSet, 1, keys.Length - 1);
        Assert.Equal(inSet, store.Keys.CountInSlots(0, set));
        Assert.Equal(keys.Length - inSet, store.KeyCount(0, set));
        var inDatabase3 = slots.Contains(KeySlot.Of("key:1"u8)) ? 1 : 0;
        Assert.Equal(keys.Length + 1 - inSet - inDatabase3, store.KeyCount(DatabaseKeys.All, set));
        Assert.Equal(keys.Length, store.KeyCount(0, default));
    }

    [Theory]
    [InlineData("ram")]
    [InlineData("faster")]
    public async Task Overwritten_deleted_and_rewritten_keys_are_scanned_exactly_as_stored(string engine)
    {
        // The index hears of a key only when the engine says it is new: overwrites must neither duplicate nor drop it.
        using var folder = new KvnDb.Testing.TempDirectory();
        var store = new NodeStore(engine == "ram"
            ? new RamStorageEngine()
            : FasterStorageEngine.Open(folder.Path, new StorageOptions { Engine = "faster", DataDirectory = folder.Path, MemoryBytes = 64L << 20, CheckpointInterval = Timeout.InfiniteTimeSpan },
                Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        try
        {
            for (var round = 0; round < 3; round++)
            {
                foreach (var key in new[] { "a", "b", "c", "{x}d" })
                    Set(store, key);
            }
            store.Delete("b"u8, Now, ++_sequence);
            Set(store, "{x}d");
            Assert.Equal(["a", "c", "{x}d"], ScanAll(store, 10).Keys.Order(StringComparer.Ordinal));
            Set(store, "b");
            Assert.Equal(["a", "b", "c", "{x}d"], ScanAll(store, 1).Keys.Order(StringComparer.Ordinal));
        }
        finally
        {
            await store.Engine.DisposeAsync();
        }
    }

    private static readonly int[] SomeSlots = [0, 1, 2, 100, 5000, 5001, 16383];

    private void Set(NodeStore store, string key, long expiresAt = 0) =>
        store.Write(Encoding.UTF8.GetBytes(key), "v"u8, expiresAt, ++_sequence);

    private static (List<string> Keys, List<(List<string> Keys, ulong Next)> Pages) ScanAll(NodeStore store, uint count, byte[]? pattern = null, byte database = 0)
    {
        var keys = new List<string>();
        var pages = new List<(List<string> Keys, ulong Next)>();
        var position = 0UL;
        do
        {
            var page = Page(store, position, count, pattern, database);
            Assert.True(page.Next == 0 || page.Next > position, "positions only move forward");
            pages.Add(page);
            keys.AddRange(page.Keys);
            position = page.Next;
        }
        while (position != 0);
        Assert.Equal(keys.Count, keys.Distinct().Count());
        return (keys, pages);
    }

    private static (List<string> Keys, ulong Next) Page(NodeStore store, ulong position, uint count, byte[]? pattern = null, byte database = 0)
    {
        var output = new ArrayBufferWriter<byte>();
        store.Keys.WritePage(output, 1, database, position, count, pattern, store.Expiry, Now);
        var body = output.WrittenSpan[ProtocolLimits.HeaderSize..];
        Assert.True(NodeReplyRules.IsWellFormedRead(Opcode.ScanKeys, StatusCode.Ok, body, default));
        Assert.True(ScanKeysReply.TryRead(body, out var reply));
        var keys = new List<string>();
        while (reply.TryReadNext(out var key))
            keys.Add(Encoding.UTF8.GetString(key));
        return (keys, reply.Next);
    }

    private static List<ScanEntry> Walk(OrderedKeySet set, ulong from)
    {
        var entries = new List<ScanEntry>();
        var walker = set.From(from);
        while (walker.MoveNext())
            entries.Add(walker.Current);
        return entries;
    }
}
