using System.Text;
using KvnDb.Node.Storage;

namespace KvnDb.UnitTests.Storage;

/// <summary>
/// What every storage engine promises the node, run against each engine by a derived class: the
/// same calls, the same answers. Persistent engines also keep all of it across a close and reopen
/// (<see cref="PersistentStorageEngineContract"/>).
/// Every call goes through <see cref="IStorageEngine"/>, as the node makes it.
/// </summary>
public abstract class StorageEngineContract : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private IStorageEngine? _engine;

    /// <summary>The engine under test, open on the test's own (empty at first) folder.</summary>
    protected IStorageEngine Engine => _engine ?? throw new InvalidOperationException("not open");

    /// <summary>Opens the engine on the test's folder (the same folder every time).</summary>
    protected abstract IStorageEngine Open();

    public Task InitializeAsync()
    {
        _engine = Open();
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        if (_engine is not null)
            await _engine.DisposeAsync().AsTask().WaitAsync(Timeout);
    }

    /// <summary>Flushes, closes cleanly and opens the engine again on the same folder.</summary>
    protected async Task ReopenAsync()
    {
        await Engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
        await Engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        _engine = null;
        _engine = Open();
    }

    protected static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    protected (byte[] Value, ulong Sequence)? Read(byte[] key)
    {
        if (!Engine.TryGet(key, out var stored))
            return null;
        using (stored)
            return (stored.Value.ToArray(), stored.Sequence);
    }

    protected List<string> Listed(string prefix) =>
        [.. Engine.ListKeys(B(prefix)).Select(k => Encoding.UTF8.GetString(k)).Order(StringComparer.Ordinal)];

    [Fact]
    public void Set_says_whether_the_key_is_new_which_is_all_the_scan_index_is_told()
    {
        Assert.True(Engine.Set(B("a"), B("1"), 1));
        Assert.False(Engine.Set(B("a"), B("2"), 2));
        Assert.False(Engine.Set(B("a"), B("3"), 3, expiresAt: 1_900_000_000_000));
        Assert.True(Engine.Set(B("b"), B("1"), 4));
        Assert.True(Engine.Delete(B("a"), 5));
        Assert.True(Engine.Set(B("a"), B("4"), 6));
        Assert.Equal(2, Engine.Count);
    }

    [Fact]
    public void An_empty_store_has_nothing_and_sequence_zero()
    {
        Assert.Equal(0UL, Engine.LastSequence);
        Assert.Equal(0, Engine.Count);
        Assert.Null(Read(B("missing")));
        Assert.False(Engine.Exists(B("missing")));
        Assert.False(Engine.Delete(B("missing"), 1));
        Assert.Empty(Engine.ListKeys(ReadOnlyMemory<byte>.Empty));
        Assert.Empty(Engine.Scan());
    }

    [Fact]
    public void Set_get_overwrite_delete_and_exists_keep_value_sequence_and_count()
    {
        Engine.Set(B("a"), B("1"), 1);
        Engine.Set(B("b"), B("2"), 2);
        Assert.Equal((B("1"), 1UL), Read(B("a")));
        Assert.True(Engine.Exists(B("a")));
        Assert.Equal(2, Engine.Count);

        Engine.Set(B("a"), B("one"), 3); // an overwrite is not a second key
        Assert.Equal((B("one"), 3UL), Read(B("a")));
        Assert.Equal(2, Engine.Count);

        Assert.True(Engine.Delete(B("a"), 4));
        Assert.False(Engine.Exists(B("a")));
        Assert.Null(Read(B("a")));
        Assert.False(Engine.Delete(B("a"), 5));
        Assert.Equal(1, Engine.Count);

        Engine.Set(B("a"), B("back"), 6); // deleted, then set again
        Assert.Equal((B("back"), 6UL), Read(B("a")));
        Assert.Equal(2, Engine.Count);
    }

    [Fact]
    public void Last_sequence_is_the_highest_applied_including_deletes_of_missing_keys()
    {
        Engine.Set(B("k"), B("v"), 10);
        Assert.Equal(10UL, Engine.LastSequence);
        Engine.Delete(B("missing"), 12); // counts as applied though it deleted nothing
        Assert.Equal(12UL, Engine.LastSequence);
        Engine.Set(B("old"), B("v"), 11); // an older sequence (a snapshot record) does not move it back
        Assert.Equal(12UL, Engine.LastSequence);
        Assert.Equal(11UL, Read(B("old"))!.Value.Sequence);
    }

    [Fact]
    public void Mark_applied_raises_the_last_sequence_without_data_and_never_lowers_it()
    {
        Engine.Set(B("k"), B("v"), 5);
        Engine.MarkApplied(20);
        Assert.Equal(20UL, Engine.LastSequence);
        Engine.MarkApplied(7);
        Assert.Equal(20UL, Engine.LastSequence);
        Assert.Equal(1, Engine.Count);
        Assert.Equal((B("v"), 5UL), Read(B("k")));
    }

    [Fact]
    public void Listing_by_prefix_shows_each_live_key_once()
    {
        ulong sequence = 0;
        foreach (var key in new[] { "a:1", "a:2", "a:3", "ab", "b:1", "a" })
            Engine.Set(B(key), B("v"), ++sequence);
        Engine.Set(B("a:2"), B("again"), ++sequence);
        Engine.Delete(B("a:3"), ++sequence);

        Assert.Equal(["a:1", "a:2"], Listed("a:"));
        Assert.Equal(["a", "a:1", "a:2", "ab"], Listed("a"));
        Assert.Equal(["a", "a:1", "a:2", "ab", "b:1"], Listed(""));
        Assert.Empty(Listed("c"));
        Assert.Empty(Listed("a:1x")); // a prefix longer than the key does not match it
    }

    [Fact]
    public void Scan_yields_every_live_record_with_its_current_value_and_sequence()
    {
        Engine.Set(B("a"), B("1"), 1);
        Engine.Set(B("b"), B("2"), 2);
        Engine.Set(B("a"), B("3"), 3);
        Engine.Delete(B("b"), 4);
        Engine.Set(B("c"), [], 5);

        var records = Engine.Scan().ToDictionary(r => Encoding.UTF8.GetString(r.Key), r => (Encoding.UTF8.GetString(r.Value.Span), r.Sequence));
        Assert.Equal(2, records.Count);
        Assert.Equal(("3", 3UL), records["a"]);
        Assert.Equal(("", 5UL), records["c"]);
    }

    [Fact]
    public void Set_if_newer_applies_only_a_newer_sequence_or_an_absent_key()
    {
        Engine.Set(B("a"), B("current"), 5);
        Assert.False(Engine.SetIfNewer(B("a"), B("older"), 4));
        Assert.False(Engine.SetIfNewer(B("a"), B("same"), 5));
        Assert.Equal((B("current"), 5UL), Read(B("a")));

        Assert.True(Engine.SetIfNewer(B("a"), B("newer"), 6));
        Assert.Equal((B("newer"), 6UL), Read(B("a")));
        Assert.True(Engine.SetIfNewer(B("fresh"), B("x"), 3)); // absent: any sequence applies
        Assert.Equal((B("x"), 3UL), Read(B("fresh")));
        Assert.Equal(2, Engine.Count);
        Assert.Equal(6UL, Engine.LastSequence);
    }

    [Fact]
    public void Clear_forgets_every_key_and_the_last_sequence_and_the_store_works_after()
    {
        for (var i = 0; i < 50; i++)
            Engine.Set(B($"k{i}"), B($"v{i}"), (ulong)i + 1);
        Engine.MarkApplied(100);

        Engine.Clear();
        Assert.Equal(0UL, Engine.LastSequence);
        Assert.Equal(0, Engine.Count);
        Assert.Empty(Engine.ListKeys(ReadOnlyMemory<byte>.Empty));
        Assert.Empty(Engine.Scan());
        Assert.False(Engine.Exists(B("k1")));

        Engine.Set(B("after"), B("clear"), 3);
        Assert.Equal((B("clear"), 3UL), Read(B("after")));
        Assert.Equal(1, Engine.Count);
        Assert.Equal(3UL, Engine.LastSequence);
    }

    [Fact]
    public void Empty_values_are_values_not_absences()
    {
        Engine.Set(B("empty"), [], 1);
        Assert.True(Engine.Exists(B("empty")));
        Assert.Equal((Array.Empty<byte>(), 1UL), Read(B("empty")));
        Assert.Equal(["empty"], Listed(""));
        Assert.Equal(1, Engine.Count);
    }

    [Fact]
    public void Large_values_round_trip_byte_for_byte()
    {
        var random = new Random(11);
        var values = new[] { 64 << 10, 1 << 20, (1 << 20) + 3 }.Select(size =>
        {
            var value = new byte[size];
            random.NextBytes(value);
            return value;
        }).ToArray();
        for (var i = 0; i < values.Length; i++)
            Engine.Set(B($"large{i}"), values[i], (ulong)i + 1);
        for (var i = 0; i < values.Length; i++)
            Assert.Equal(values[i], Read(B($"large{i}"))!.Value.Value);
        Assert.Equal(values.Length, Engine.Scan().Count(r => r.Value.Length >= 64 << 10));
    }

    /// <summary>Keys are bytes, not text: zeros, 0xFF, invalid UTF-8, keys that prefix each other, and a key too long for a file name.</summary>
    public static readonly byte[][] BinaryKeys =
    [
        [0x00], [0x00, 0x00], [0xFF], [0xFF, 0xFE, 0x00, 0x01], [0xC3], [0x61], [0x61, 0x00], [0x61, 0x00, 0x62],
        [.. Enumerable.Range(0, 300).Select(i => (byte)i)],
        [.. Enumerable.Range(0, 300).Select(i => (byte)i), 0x00],
    ];

    [Fact]
    public void Binary_keys_are_stored_listed_and_scanned_exactly()
    {
        for (var i = 0; i < BinaryKeys.Length; i++)
            Engine.Set(BinaryKeys[i], [(byte)i], (ulong)i + 1);
        AssertBinaryKeys();

        Assert.True(Engine.Delete(BinaryKeys[6], 100)); // "a\0" goes; "a" and "a\0b" stay
        Assert.True(Engine.Exists(BinaryKeys[5]));
        Assert.True(Engine.Exists(BinaryKeys[7]));
        Assert.Equal(
            new[] { BinaryKeys[5], BinaryKeys[7] }.Select(Convert.ToHexString).Order(),
            Engine.ListKeys(new byte[] { 0x61 }).Select(Convert.ToHexString).Order());
        Assert.Equal(
            new[] { BinaryKeys[8], BinaryKeys[9] }.Select(Convert.ToHexString).Order(),
            Engine.ListKeys(BinaryKeys[8].AsMemory(0, 200)).Select(Convert.ToHexString).Order());
    }

    protected void AssertBinaryKeys()
    {
        for (var i = 0; i < BinaryKeys.Length; i++)
            Assert.Equal(([(byte)i], (ulong)i + 1), Read(BinaryKeys[i]));
        Assert.Equal(BinaryKeys.Select(Convert.ToHexString).Order(), Engine.ListKeys(ReadOnlyMemory<byte>.Empty).Select(Convert.ToHexString).Order());
        Assert.Equal(BinaryKeys.Select(Convert.ToHexString).Order(), Engine.Scan().Select(r => Convert.ToHexString(r.Key)).Order());
        Assert.Equal(BinaryKeys.Length, Engine.Count);
    }

    [Fact]
    public async Task A_reopened_empty_store_is_empty()
    {
        await ReopenAsync();
        Assert.Equal(0UL, Engine.LastSequence);
        Assert.Equal(0, Engine.Count);
        Assert.Empty(Engine.ListKeys(ReadOnlyMemory<byte>.Empty));
    }
}
