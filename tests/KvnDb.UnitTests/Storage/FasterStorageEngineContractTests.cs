using KvnDb.Node.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.UnitTests.Storage;

/// <summary>The contract against the FASTER engine in a temp folder, with its write-ahead log (fsync durability).</summary>
public sealed class FasterStorageEngineContractTests : PersistentStorageEngineContract
{
    private readonly TempDirectory _directory = new();

    protected override IStorageEngine Open() => FasterStorageEngine.Open(_directory.Path, new StorageOptions
    {
        Engine = "faster",
        DataDirectory = _directory.Path,
        MemoryBytes = 64L << 20,
        CheckpointInterval = Timeout.InfiniteTimeSpan,
        Durability = DurabilityMode.Fsync,
    }, NullLogger.Instance);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }
}
