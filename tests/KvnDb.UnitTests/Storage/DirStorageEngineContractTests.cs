using KvnDb.Node.Storage;

namespace KvnDb.UnitTests.Storage;

/// <summary>The contract against the one-file-per-key engine in a temp folder.</summary>
public sealed class DirStorageEngineContractTests : PersistentStorageEngineContract
{
    private readonly TempDirectory _directory = new();

    protected override IStorageEngine Open() => new DirStorageEngine(_directory.Path);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }
}
