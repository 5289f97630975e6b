using KvnDb.Node.Storage;

namespace KvnDb.UnitTests.Storage;

/// <summary>The contract against the memory-only engine (a reopen starts empty).</summary>
public sealed class RamStorageEngineContractTests : StorageEngineContract
{
    protected override IStorageEngine Open() => new RamStorageEngine();
}
