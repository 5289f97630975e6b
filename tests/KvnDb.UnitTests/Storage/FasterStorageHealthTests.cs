using System.Text;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace KvnDb.UnitTests.Storage;

/// <summary>
/// The faster engine's disk footprint and storage health, against real FASTER files in temp folders. The
/// full-disk cases need a small file system of their own: they are in KvnDb.FaultTests (tmpfs, as root).
/// </summary>
public sealed class FasterStorageHealthTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private FasterStorageEngine Open(long expectedKeys = StorageOptions.DefaultExpectedKeys, long reserve = StorageOptions.DefaultReserveBytes, long memory = 64L << 20) =>
        FasterStorageEngine.Open(_directory.Path, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = _directory.Path,
            MemoryBytes = memory,
            ExpectedKeys = expectedKeys,
            ReserveBytes = reserve,
            CheckpointInterval = System.Threading.Timeout.InfiniteTimeSpan,
        }, NullLogger.Instance);

    private static byte[] Key(int i) => Encoding.UTF8.GetBytes($"key:{i:D8}");

    private static byte[] Value(int i) => Encoding.UTF8.GetBytes($"value-{i:D8}-{new string('v', 84)}"); // 100 bytes

    [Fact]
    public async Task A_store_of_five_keys_takes_little_disk_after_its_final_checkpoint()
    {
        var engine = Open();
        for (var i = 0; i < 5; i++)
            engine.Set(Key(i), Value(i), (ulong)i + 1);
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        Assert.Null(engine.Health.ShutdownFailure);

        var allocated = DiskUsage.AllocatedBytes(_directory.Path);
        output.WriteLine($"5 keys: {allocated} bytes allocated, {DiskUsage.ApparentBytes(_directory.Path)} apparent; largest: {DiskUsage.Largest(_directory.Path)}");
        // Before the index was sized from the keys, two 64 MiB index checkpoints made this ~129 MB.
        Assert.True(allocated < 8L << 20, $"5 keys take {allocated} bytes: {DiskUsage.Largest(_directory.Path)}");
    }

    /// <summary>What docs/storage.md quotes as the disk a node needs per key: distinct keys (16-byte keys, 100-byte values) written once, then a clean stop.</summary>
    [Theory]
    [InlineData(100_000)]
    public async Task Disk_per_key_stays_near_the_record_size_plus_the_index(int keys)
    {
        var engine = Open();
        for (var i = 0; i < keys; i++)
            engine.Set(Key(i), Value(i), (ulong)i + 1);
        var sizing = engine.Sizing;
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        Assert.Null(engine.Health.ShutdownFailure);

        var allocated = DiskUsage.AllocatedBytes(_directory.Path);
        output.WriteLine($"{sizing}; index {engine.IndexBytes} bytes at the end");
        output.WriteLine($"{keys} keys: {allocated} bytes allocated ({allocated / (double)keys:0.0} per key), {DiskUsage.ApparentBytes(_directory.Path)} apparent; largest: {DiskUsage.Largest(_directory.Path)}");
        // A record is ~140 bytes in the log; the index is a 64-byte bucket per two keys, kept in the two newest checkpoints.
        Assert.InRange(allocated / (double)keys, 100, 400);
    }

    [Fact]
    public async Task The_index_doubles_as_keys_outgrow_it_and_keeps_them_across_a_restart()
    {
        const int keys = 20_000;
        var engine = Open(expectedKeys: 1000);
        var initial = engine.IndexBytes;
        for (var i = 0; i < keys; i++)
            engine.Set(Key(i), Value(i), (ulong)i + 1);
        await engine.CheckpointAsync().WaitAsync(Timeout); // a log checkpoint: the index grows at full ones
        Assert.Equal(initial, engine.IndexBytes);
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout); // the final checkpoint is full
        Assert.Null(engine.Health.ShutdownFailure);

        await using var reopened = Open(expectedKeys: 1000);
        output.WriteLine($"index {initial} bytes for 1000 expected keys, {reopened.IndexBytes} after {keys} keys");
        Assert.True(reopened.IndexBytes >= keys / 2 * FasterSizing.BucketBytes, $"the index stayed at {reopened.IndexBytes} bytes for {keys} keys");
        Assert.Equal(keys, reopened.Count);
        Assert.Equal((ulong)keys, reopened.LastSequence);
        for (var i = 0; i < keys; i++)
        {
            Assert.True(reopened.TryGet(Key(i), out var stored), $"key {i} lost");
            using (stored)
                Assert.Equal(Value(i), stored.Value.ToArray());
        }
    }

    [Fact]
    public async Task Health_reports_the_last_checkpoint_its_age_and_the_free_space()
    {
        await using var engine = Open();
        var before = engine.Health.Report();
        Assert.Equal(NodeStorageState.Ok, before.Storage);
        Assert.Equal(NodeCheckpointState.None, before.LastCheckpoint);
        Assert.Equal(NodeStatusReport.Unknown, before.CheckpointAgeMs);
        Assert.InRange(before.FreeBytes, 1UL, NodeStatusReport.Unknown - 1);

        engine.Set("a"u8, "1"u8, 1);
        await engine.CheckpointAsync().WaitAsync(Timeout);
        var after = engine.Health.Report();
        Assert.Equal(NodeCheckpointState.Ok, after.LastCheckpoint);
        Assert.InRange(after.CheckpointAgeMs, 0UL, (ulong)Timeout.TotalMilliseconds);
        Assert.Equal(0UL, after.CheckpointsFailed);
        Assert.Equal("", after.Message);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public async Task A_reserve_the_disk_cannot_keep_refuses_every_write_before_it_is_applied()
    {
        var free = DiskSpace.FreeBytes(_directory.Path);
        Assert.True(free > 0, "free space of the temp folder's file system is unknown");
        await using var engine = Open(reserve: free + (1L << 40));

        Assert.True(engine.Health.RefusesWrites, "a store opened on a disk without room for its reserve takes writes");
        var refused = Assert.Throws<StorageUnavailableException>(() => engine.EnsureWritable(10, 10));
        Assert.Contains("--reserve-space", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0UL, engine.LastSequence);
        Assert.Equal(NodeStorageState.RefusingWrites, engine.Health.Report().Storage);
        // The probe finds no room either: the node stays out of service.
        Assert.False(await engine.ProbeStorageAsync(CancellationToken.None).AsTask().WaitAsync(Timeout));
    }
}
