using System.Text;
using KvnDb.Node.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace KvnDb.UnitTests.Storage;

/// <summary>Compaction of the faster log against real FASTER files: disk given back, nothing live lost, recovery whole.</summary>
public sealed class FasterCompactionTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private const long Segment = 4L << 20;
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private FasterStorageEngine Open(long compactMinBytes = 0, TimeProvider? clock = null) =>
        FasterStorageEngine.Open(_directory.Path, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = _directory.Path,
            MemoryBytes = 16L << 20, // 8 MiB of log in memory: most of what the tests write goes to disk
            LogSegmentBytes = Segment,
            CompactMinBytes = compactMinBytes,
            CheckpointInterval = clock is null ? System.Threading.Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(1),
            TimeProvider = clock ?? TimeProvider.System,
        }, NullLogger.Instance);

    private static byte[] Key(int i) => Encoding.UTF8.GetBytes($"key:{i:D6}");

    private static byte[] ValueOf(int i, int version) => Encoding.UTF8.GetBytes($"v{version}-{i}-" + new string('x', 8 * 1024));

    /// <summary>Writes keys 0..count-1, deletes two in three and overwrites one in six, then writes live filler past the memory.</summary>
    private static Dictionary<int, (byte[] Value, ulong Sequence, long ExpiresAt)> WriteChurn(FasterStorageEngine engine, ref ulong sequence, int count)
    {
        var live = new Dictionary<int, (byte[], ulong, long)>();
        for (var i = 0; i < count; i++)
        {
            engine.Set(Key(i), ValueOf(i, 1), ++sequence);
            live[i] = (ValueOf(i, 1), sequence, 0);
        }
        for (var i = 0; i < count; i++)
        {
            if (i % 3 != 0)
            {
                Assert.True(engine.Delete(Key(i), ++sequence));
                live.Remove(i);
            }
            else if (i % 2 == 0)
            {
                engine.Set(Key(i), ValueOf(i, 2), ++sequence);
                live[i] = (ValueOf(i, 2), sequence, 0);
            }
        }
        // Filler that stays live (half of it with an expiry), so the churned records leave the log's mutable (in-memory) part.
        for (var i = count; i < count + 1200; i++)
        {
            engine.Set(Key(i), ValueOf(i, 1), ++sequence, ExpiryOf(i));
            live[i] = (ValueOf(i, 1), sequence, ExpiryOf(i));
        }
        return live;
    }

    private static long ExpiryOf(int i) => i % 2 == 0 ? 1_900_000_000_000 + i : 0;

    private static void AssertHolds(FasterStorageEngine engine, Dictionary<int, (byte[] Value, ulong Sequence, long ExpiresAt)> live, int upTo)
    {
        Assert.Equal(live.Count, engine.Count);
        for (var i = 0; i < upTo; i++)
        {
            if (live.TryGetValue(i, out var expected))
            {
                Assert.True(engine.TryGet(Key(i), out var stored), $"key {i} lost");
                using (stored)
                {
                    Assert.Equal(expected.Sequence, stored.Sequence);
                    Assert.True(expected.Value.AsSpan().SequenceEqual(stored.Value.Span), $"key {i} has another value");
                    Assert.Equal(expected.ExpiresAt, stored.ExpiresAt);
                }
            }
            else
            {
                Assert.False(engine.Exists(Key(i)), $"deleted key {i} came back");
            }
        }
        var listed = engine.ListKeys(ReadOnlyMemory<byte>.Empty).Select(k => Encoding.UTF8.GetString(k)).ToHashSet();
        Assert.Equal(live.Keys.Select(i => Encoding.UTF8.GetString(Key(i))).ToHashSet(), listed);
    }

    [Fact]
    public async Task Compaction_gives_back_the_disk_of_deleted_and_overwritten_records_and_the_folder_recovers_whole()
    {
        const int count = 3000;
        ulong sequence = 0;
        var engine = Open();
        var live = WriteChurn(engine, ref sequence, count);
        await engine.CheckpointAsync().WaitAsync(Timeout);
        var diskBefore = engine.LogDiskBytes;

        var result = await engine.CompactAsync().WaitAsync(Timeout);

        Assert.True(result.Ran, result.SkippedBecause);
        Assert.True(result.LogBytesAfter < result.LogBytesBefore / 2, $"log {result.LogBytesBefore} -> {result.LogBytesAfter} bytes");
        Assert.True(engine.LogDiskBytes <= diskBefore - 3 * Segment, $"disk {diskBefore} -> {engine.LogDiskBytes} bytes");
        AssertHolds(engine, live, count + 1200);
        Assert.Equal(sequence, engine.LastSequence);

        // Writes go on after it, and the folder recovers exactly what was live (the kept checkpoints begin after the compacted part).
        engine.Set(Key(1), ValueOf(1, 3), ++sequence);
        live[1] = (ValueOf(1, 3), sequence, 0);
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        await using var reopened = Open();
        Assert.Equal(sequence, reopened.LastSequence);
        AssertHolds(reopened, live, count + 1200);
    }

    [Fact]
    public async Task An_open_scan_holds_compaction_off_until_it_is_disposed()
    {
        ulong sequence = 0;
        await using var engine = Open();
        var live = WriteChurn(engine, ref sequence, 1500);
        using (var scan = engine.Scan().GetEnumerator())
        {
            Assert.True(scan.MoveNext()); // a sync donor's snapshot, halfway
            var skipped = await engine.CompactAsync().WaitAsync(Timeout);
            Assert.False(skipped.Ran);
            Assert.Contains("scan", skipped.SkippedBecause, StringComparison.Ordinal);
            var seen = 1;
            while (scan.MoveNext())
                seen++;
            Assert.Equal(live.Count, seen);
        }
        var result = await engine.CompactAsync().WaitAsync(Timeout);
        Assert.True(result.Ran, result.SkippedBecause);
        AssertHolds(engine, live, 1500 + 1200);
    }

    [Fact]
    public async Task The_log_is_compacted_on_its_own_once_it_has_doubled_past_the_minimum_size()
    {
        var clock = new FakeTimeProvider();
        ulong sequence = 0;
        await using var engine = Open(compactMinBytes: 8L << 20, clock);
        var live = WriteChurn(engine, ref sequence, 3000);
        await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout); // the batch ends: the timer may checkpoint
        var before = engine.LogBytes;

        // Each tick checkpoints; the tick after the log crossed the thresholds compacts it.
        await Eventually.WaitAsync(() =>
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            return engine.LogBytes < before / 2;
        });
        AssertHolds(engine, live, 3000 + 1200);
    }
}
