using System.Text;
using KvnDb.Node.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace KvnDb.UnitTests.Storage;

/// <summary>The faster engine against real FASTER files in temp folders.</summary>
public sealed class FasterStorageEngineTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private FasterStorageEngine Open(DurabilityMode durability = DurabilityMode.None, TimeSpan? checkpointInterval = null, long memory = 64L << 20) =>
        FasterStorageEngine.Open(_directory.Path, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = _directory.Path,
            MemoryBytes = memory,
            CheckpointInterval = checkpointInterval ?? System.Threading.Timeout.InfiniteTimeSpan,
            Durability = durability,
        }, NullLogger.Instance);

    private static byte[] Key(int i) => Encoding.UTF8.GetBytes($"key:{i:D6}");

    private static byte[] ValueOf(int i) => Encoding.UTF8.GetBytes($"value-{i}-" + new string('x', i % 50));

    private static byte[]? Read(FasterStorageEngine engine, byte[] key, out ulong sequence)
    {
        sequence = 0;
        if (!engine.TryGet(key, out var stored))
            return null;
        using (stored)
        {
            sequence = stored.Sequence;
            return stored.Value.ToArray();
        }
    }

    [Fact]
    public async Task Restart_with_10k_keys_keeps_every_key_and_no_deleted_one()
    {
        const int keys = 10_000;
        var engine = Open();
        ulong sequence = 0;
        for (var i = 0; i < keys; i++)
            engine.Set(Key(i), ValueOf(i), ++sequence);
        for (var i = 0; i < keys; i += 10)
            Assert.True(engine.Delete(Key(i), ++sequence));
        Assert.False(engine.Delete(Key(-1), ++sequence));
        await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
        Assert.Equal(keys - keys / 10, engine.Count);
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open();
        Assert.Equal(sequence, reopened.LastSequence);
        Assert.Equal(keys - keys / 10, reopened.Count);
        for (var i = 0; i < keys; i++)
        {
            var value = Read(reopened, Key(i), out var stored);
            if (i % 10 == 0)
            {
                Assert.Null(value);
                Assert.False(reopened.Exists(Key(i)));
            }
            else
            {
                Assert.Equal(ValueOf(i), value);
                Assert.Equal((ulong)i + 1, stored);
                Assert.True(reopened.Exists(Key(i)));
            }
        }
    }

    [Fact]
    public async Task Large_and_empty_values_round_trip_from_memory_and_from_disk()
    {
        // 48 x 1 MiB with a 64 MiB budget (32 MiB of log memory): the early values are read back from disk.
        const int large = 48;
        var engine = Open();
        var random = new Random(7);
        var values = new byte[large][];
        for (var i = 0; i < large; i++)
        {
            values[i] = new byte[1 << 20];
            random.NextBytes(values[i]);
            engine.Set(Key(i), values[i], (ulong)i + 1);
        }
        engine.Set("empty"u8, [], large + 1);
        for (var i = 0; i < large; i++)
            Assert.Equal(values[i], Read(engine, Key(i), out _));
        Assert.Equal(Array.Empty<byte>(), Read(engine, "empty"u8.ToArray(), out var emptySequence));
        Assert.Equal((ulong)large + 1, emptySequence);
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open();
        Assert.Equal(large + 1, reopened.Count);
        for (var i = 0; i < large; i++)
            Assert.Equal(values[i], Read(reopened, Key(i), out _));
        Assert.Equal(Array.Empty<byte>(), Read(reopened, "empty"u8.ToArray(), out _));
    }

    [Fact]
    public async Task Listing_shows_only_live_keys_after_deletes_overwrites_and_recovery()
    {
        var engine = Open();
        ulong sequence = 0;
        var expected = new HashSet<string>();
        for (var i = 0; i < 500; i++)
        {
            var key = (i % 2 == 0 ? "a:" : "b:") + i;
            engine.Set(Encoding.UTF8.GetBytes(key), ValueOf(i), ++sequence);
            if (i % 2 == 0)
                expected.Add(key);
        }
        for (var i = 0; i < 500; i += 6)
        {
            engine.Set(Encoding.UTF8.GetBytes("a:" + i), "overwritten"u8, ++sequence); // a second record for the key
            engine.Delete(Encoding.UTF8.GetBytes("a:" + (i + 2)), ++sequence);
            expected.Remove("a:" + (i + 2));
        }
        engine.Delete("a:0"u8, ++sequence);
        engine.Set("a:0"u8, "back"u8, ++sequence); // deleted, then set again: listed once
        AssertListing(engine, expected);
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open();
        AssertListing(reopened, expected);
        Assert.Equal(expected.Count + 250, reopened.Count);
        Assert.Equal("back"u8.ToArray(), Read(reopened, "a:0"u8.ToArray(), out _));
    }

    private static void AssertListing(FasterStorageEngine engine, HashSet<string> expected)
    {
        var listed = engine.ListKeys("a:"u8.ToArray()).Select(k => Encoding.UTF8.GetString(k)).ToList();
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Equal(expected.OrderBy(k => k, StringComparer.Ordinal), listed.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(expected.Count + 250, engine.ListKeys(ReadOnlyMemory<byte>.Empty).Count());
    }

    [Fact]
    public async Task Listing_matches_count_when_most_records_are_on_disk()
    {
        // About 120 MB through a 16 MiB budget: most pages are evicted to disk and listed from there. With
        // 100k keys in a 2 MiB index, some reads walk chains through other keys' records on disk, where
        // FASTER's RecordMetadata reports the chain's head rather than the record found (a listing bug we had).
        const int keys = 100_000;
        static byte[] LoadKey(int i) => Encoding.UTF8.GetBytes($"c1-w{i % 8}-{i / 8}");
        var engine = Open(memory: 16L << 20);
        var big = new byte[100_000];
        ulong sequence = 0;
        for (var i = 0; i < keys; i++)
            engine.Set(LoadKey(i), i % 100 == 0 ? big : ValueOf(i), ++sequence);
        for (var i = 0; i < keys; i += 7)
            engine.Delete(LoadKey(i), ++sequence);
        var expected = Enumerable.Range(0, keys).Where(i => i % 7 != 0).Select(i => Encoding.UTF8.GetString(LoadKey(i))).ToHashSet();
        Assert.Equal(expected.Count, engine.Count);
        Assert.Equal(expected, engine.ListKeys(ReadOnlyMemory<byte>.Empty).Select(k => Encoding.UTF8.GetString(k)).ToHashSet());
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open(memory: 16L << 20);
        Assert.Equal(expected.Count, reopened.Count);
        var listed = reopened.ListKeys(ReadOnlyMemory<byte>.Empty).Select(k => Encoding.UTF8.GetString(k)).ToList();
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Equal(expected, listed.ToHashSet());
    }

    [Fact]
    public async Task Listing_after_repeated_crashes_shows_every_readable_key()
    {
        var big = new byte[100_000];
        ulong sequence = 0;
        var next = 0;
        for (var cycle = 0; cycle < 3; cycle++)
        {
            var engine = Open();
            AssertListingMatchesReads(engine, next);
            for (var i = 0; i < 5000; i++, next++)
            {
                engine.Set(Key(next), next % 97 == 0 ? big : ValueOf(next), ++sequence);
                if (i == 3000)
                {
                    await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
                    await engine.CheckpointAsync().WaitAsync(Timeout);
                }
            }
            await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
            await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout); // the last 2000 writes are lost

            engine = Open();
            AssertListingMatchesReads(engine, next);
            await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
    }

    private static void AssertListingMatchesReads(FasterStorageEngine engine, int written)
    {
        var listed = engine.ListKeys(ReadOnlyMemory<byte>.Empty).Select(k => Encoding.UTF8.GetString(k)).ToHashSet();
        var readable = Enumerable.Range(0, written).Where(i => engine.Exists(Key(i))).Select(i => Encoding.UTF8.GetString(Key(i))).ToHashSet();
        Assert.Equal(readable.Count, engine.Count);
        Assert.Equal(readable.OrderBy(k => k, StringComparer.Ordinal), listed.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Last_sequence_survives_restart_even_when_the_last_write_deleted_nothing()
    {
        var engine = Open();
        engine.Set("k"u8, "v"u8, 40);
        engine.Delete("missing"u8, 42);
        Assert.Equal(42UL, engine.LastSequence);
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open();
        Assert.Equal(42UL, reopened.LastSequence);
        Assert.Equal(1, reopened.Count);
    }

    [Fact]
    public async Task Torn_newest_checkpoint_falls_back_to_the_previous_one()
    {
        var engine = Open();
        for (var i = 0; i < 100; i++)
            engine.Set(Key(i), ValueOf(i), (ulong)i + 1);
        await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
        await engine.CheckpointAsync().WaitAsync(Timeout);
        for (var i = 100; i < 200; i++)
            engine.Set(Key(i), ValueOf(i), (ulong)i + 1);
        await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
        await engine.CheckpointAsync().WaitAsync(Timeout);
        await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout);

        // The newest checkpoint's metadata is cut in half, and a newer one never got its metadata at all.
        var checkpoints = new DirectoryInfo(Path.Combine(_directory.Path, "checkpoints", "cpr-checkpoints"))
            .GetDirectories().OrderByDescending(d => d.LastWriteTimeUtc).ToList();
        Assert.Equal(2, checkpoints.Count);
        var metadata = checkpoints[0].GetFiles("info.dat*").Single();
        var bytes = await File.ReadAllBytesAsync(metadata.FullName);
        var written = 4 + BitConverter.ToInt32(bytes, 0); // [i32 length][metadata], padded to a sector
        await File.WriteAllBytesAsync(metadata.FullName, bytes[..(written / 2)]);
        Directory.CreateDirectory(Path.Combine(checkpoints[0].Parent!.FullName, Guid.NewGuid().ToString()));

        await using var reopened = Open();
        Assert.Equal(100UL, reopened.LastSequence);
        Assert.Equal(100, reopened.Count);
        for (var i = 0; i < 200; i++)
            Assert.Equal(i < 100 ? ValueOf(i) : null, Read(reopened, Key(i), out _));
        Assert.Equal(100, reopened.ListKeys(ReadOnlyMemory<byte>.Empty).Count());
    }

    [Fact]
    public async Task Recovery_takes_the_newest_checkpoint_even_when_folder_times_were_reset()
    {
        var engine = Open();
        for (var i = 0; i < 200; i++)
        {
            engine.Set(Key(i), ValueOf(i), (ulong)i + 1);
            if (i is 99 or 199)
            {
                await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
                await engine.CheckpointAsync().WaitAsync(Timeout);
            }
        }
        await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout);

        // As after a copy that does not keep times: the older checkpoint's folder now looks newest.
        var checkpoints = new DirectoryInfo(Path.Combine(_directory.Path, "checkpoints", "cpr-checkpoints"))
            .GetDirectories().OrderBy(d => d.LastWriteTimeUtc).ToList();
        Assert.Equal(2, checkpoints.Count);
        Directory.SetLastWriteTimeUtc(checkpoints[0].FullName, DateTime.UtcNow.AddMinutes(1));

        await using var reopened = Open();
        Assert.Equal(200UL, reopened.LastSequence);
        Assert.Equal(200, reopened.Count);
    }

    [Fact]
    public async Task Fsync_writes_flushed_before_a_crash_are_replayed_from_the_write_ahead_log()
    {
        var engine = Open(DurabilityMode.Fsync);
        ulong sequence = 0;
        for (var i = 0; i < 1000; i++)
            engine.Set(Key(i), ValueOf(i), ++sequence);
        await engine.CheckpointAsync().WaitAsync(Timeout); // the WAL is then replayed on top of a checkpoint
        for (var i = 0; i < 1000; i += 3)
            engine.Delete(Key(i), ++sequence);
        for (var i = 1000; i < 2000; i++)
            engine.Set(Key(i), ValueOf(i), ++sequence);
        await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
        await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open(DurabilityMode.Fsync);
        Assert.Equal(sequence, reopened.LastSequence);
        Assert.Equal(2000 - 334, reopened.Count);
        for (var i = 0; i < 2000; i++)
            Assert.Equal(i < 1000 && i % 3 == 0 ? null : ValueOf(i), Read(reopened, Key(i), out _));
    }

    [Fact]
    public async Task Periodic_checkpoints_keep_data_across_a_crash_without_a_write_ahead_log()
    {
        var clock = new FakeTimeProvider();
        var interval = TimeSpan.FromMinutes(1);
        var engine = FasterStorageEngine.Open(_directory.Path, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = _directory.Path,
            MemoryBytes = 64L << 20,
            CheckpointInterval = interval,
            Durability = DurabilityMode.None,
            TimeProvider = clock,
        }, NullLogger.Instance);
        for (var i = 0; i < 300; i++)
            engine.Set(Key(i), ValueOf(i), (ulong)i + 1);
        await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
        Assert.Empty(CompletedCheckpoints()); // nothing before the interval has passed

        clock.Advance(interval);
        // The engine lists a checkpoint in checkpoints/completed once its files and bookkeeping are done.
        await Eventually.WaitAsync(() => CompletedCheckpoints().Length > 0, Timeout, "a periodic checkpoint");
        await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open();
        Assert.Equal(300UL, reopened.LastSequence);
        Assert.Equal(300, reopened.Count);
    }

    private string[] CompletedCheckpoints()
    {
        var file = Path.Combine(_directory.Path, "checkpoints", "completed");
        try
        {
            return File.Exists(file) ? File.ReadAllLines(file) : [];
        }
        catch (IOException)
        {
            return []; // being replaced at this moment
        }
    }

    [Theory]
    [InlineData(DurabilityMode.None)]
    [InlineData(DurabilityMode.Fsync)]
    public async Task Clear_forgets_keys_and_sequence_across_a_crash(DurabilityMode durability)
    {
        var engine = Open(durability);
        for (var i = 0; i < 1000; i++)
            engine.Set(Key(i), ValueOf(i), (ulong)i + 1);
        await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
        await engine.CheckpointAsync().WaitAsync(Timeout);
        engine.Clear();
        Assert.Equal(0UL, engine.LastSequence);
        Assert.Equal(0, engine.Count);
        Assert.Empty(engine.ListKeys(ReadOnlyMemory<byte>.Empty));
        engine.Set("after"u8, "clear"u8, 3);
        engine.MarkApplied(10);
        await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
        if (durability == DurabilityMode.Fsync)
            await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout); // the WAL must carry the set and the mark
        else
            await engine.DisposeAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open(durability);
        Assert.Equal(10UL, reopened.LastSequence);
        Assert.Equal(1, reopened.Count);
        Assert.Equal(["after"], reopened.ListKeys(ReadOnlyMemory<byte>.Empty).Select(k => Encoding.UTF8.GetString(k)));
        Assert.False(reopened.Exists(Key(1)));
    }

    [Fact]
    public async Task Scan_and_set_if_newer_see_values_and_sequences()
    {
        await using var engine = Open();
        engine.Set("a"u8, "1"u8, 1);
        engine.Set("b"u8, "2"u8, 2);
        engine.Set("a"u8, "3"u8, 3);
        engine.Delete("b"u8, 4);
        engine.Set("c"u8, ReadOnlySpan<byte>.Empty, 5);
        var records = engine.Scan().ToDictionary(r => Encoding.UTF8.GetString(r.Key), r => (Encoding.UTF8.GetString(r.Value.Span), r.Sequence));
        Assert.Equal(2, records.Count);
        Assert.Equal(("3", 3UL), records["a"]);
        Assert.Equal(("", 5UL), records["c"]);

        Assert.False(engine.SetIfNewer("a"u8, "old"u8, 2));
        Assert.True(engine.SetIfNewer("a"u8, "new"u8, 7));
        Assert.True(engine.SetIfNewer("d"u8, "d"u8, 6));
        Assert.Equal("new"u8.ToArray(), Read(engine, "a"u8.ToArray(), out var sequence));
        Assert.Equal(7UL, sequence);
        Assert.Equal(3, engine.Count);
    }

    [Fact]
    public void Memory_budget_sets_index_log_and_page_sizes()
    {
        var sizing = FasterSizing.FromBudget(512L << 20, withWriteAheadLog: true);
        Assert.Equal(2L << 20, sizing.IndexBytes); // 64Ki expected keys: a bucket per two
        Assert.Equal(64L << 20, sizing.MaxIndexBytes);
        Assert.Equal(16L << 20, sizing.PageBytes);
        Assert.Equal(32L << 20, sizing.WalMemoryBytes);
        Assert.Equal(256L << 20, sizing.LogMemoryBytes);
        Assert.Throws<ArgumentException>(() => FasterSizing.FromBudget(1L << 20, withWriteAheadLog: false));
        Assert.Equal(64L << 10, FasterSizing.FromBudget(512L << 20, false, expectedKeys: 5).IndexBytes);
        Assert.Equal(64L << 20, FasterSizing.FromBudget(512L << 20, false, expectedKeys: 100_000_000).IndexBytes);
    }
}
