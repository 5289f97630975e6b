namespace KvnDb.Node.Storage;

/// <summary>Creates the engine named by <c>--engine</c>.</summary>
public static class StorageEngineFactory
{
    public static readonly IReadOnlyList<string> Names = ["ram", "dir"];

    public static IStorageEngine Create(StorageOptions options) => options.Engine switch
    {
        "ram" => new RamStorageEngine(),
        "dir" => new DirStorageEngine(RequireDirectory(options)),
        _ => throw new ArgumentException($"unknown engine '{options.Engine}' (expected one of: {string.Join(", ", Names)})"),
    };

    private static string RequireDirectory(StorageOptions options) =>
        options.DataDirectory ?? throw new ArgumentException($"engine '{options.Engine}' needs --data DIR");
}
