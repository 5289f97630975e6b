using KvnDb.Node.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.UnitTests.Storage;

/// <summary>The faster engine's <c>running</c> file: whether a store may have lost writes it acknowledged.</summary>
public sealed class RunningMarkerTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Marker => Path.Combine(_directory.Path, RunningMarker.FileName);

    private FasterStorageEngine Open(DurabilityMode durability) =>
        FasterStorageEngine.Open(_directory.Path, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = _directory.Path,
            MemoryBytes = 64L << 20,
            CheckpointInterval = System.Threading.Timeout.InfiniteTimeSpan,
            Durability = durability,
        }, NullLogger.Instance);

    [Fact]
    public async Task Durability_none_marks_a_running_store_and_a_clean_shutdown_clears_it()
    {
        var engine = Open(DurabilityMode.None);
        Assert.False(engine.MayHaveLostWrites);
        Assert.True(File.Exists(Marker));
        engine.Set("k"u8, "v"u8, 1);
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        Assert.False(File.Exists(Marker));

        await using var reopened = Open(DurabilityMode.None);
        Assert.False(reopened.MayHaveLostWrites);
    }

    [Fact]
    public async Task An_unclean_stop_with_durability_none_is_reported_until_a_sync_completes_even_across_clean_restarts()
    {
        var engine = Open(DurabilityMode.None);
        engine.Set("k"u8, "v"u8, 1);
        await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout);

        engine = Open(DurabilityMode.None);
        Assert.True(engine.MayHaveLostWrites);
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout); // clean, but nothing made the data whole again
        Assert.True(File.Exists(Marker));

        engine = Open(DurabilityMode.None);
        Assert.True(engine.MayHaveLostWrites);
        engine.ConfirmSynced();
        Assert.False(engine.MayHaveLostWrites);
        Assert.True(File.Exists(Marker)); // still running with durability none
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        Assert.False(File.Exists(Marker));

        await using var reopened = Open(DurabilityMode.None);
        Assert.False(reopened.MayHaveLostWrites);
    }

    [Fact]
    public async Task Durability_fsync_never_marks_the_store()
    {
        var engine = Open(DurabilityMode.Fsync);
        Assert.False(File.Exists(Marker));
        engine.Set("k"u8, "v"u8, 1);
        await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
        await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open(DurabilityMode.Fsync);
        Assert.False(reopened.MayHaveLostWrites);
        Assert.Equal(1, reopened.Count);
    }

    [Fact]
    public async Task A_marker_left_by_an_unclean_none_run_counts_under_fsync_until_a_sync_completes()
    {
        var engine = Open(DurabilityMode.None);
        await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout);

        engine = Open(DurabilityMode.Fsync);
        Assert.True(engine.MayHaveLostWrites);
        engine.ConfirmSynced();
        Assert.False(File.Exists(Marker));
        await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open(DurabilityMode.Fsync);
        Assert.False(reopened.MayHaveLostWrites);
    }
}
