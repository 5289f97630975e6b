namespace KvnDb.Node.Storage;

/// <summary>Which engine a node uses and where it keeps its files.</summary>
public sealed record StorageOptions
{
    public string Engine { get; init; } = "ram";

    public string? DataDirectory { get; init; }
}
