using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.Node.Storage;

/// <summary>Creates the engine named by <c>--engine</c>.</summary>
public static class StorageEngineFactory
{
    public static readonly IReadOnlyList<string> Names = ["faster", "ram", "dir"];

    public static IStorageEngine Create(StorageOptions options, ILoggerFactory? loggerFactory = null) => options.Engine switch
    {
        "faster" => FasterStorageEngine.Open(RequireDirectory(options), options, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<FasterStorageEngine>()),
        "ram" => new RamStorageEngine(),
        "dir" => new DirStorageEngine(RequireDirectory(options)),
        _ => throw new ArgumentException($"unknown engine '{options.Engine}' (expected one of: {string.Join(", ", Names)})"),
    };

    private static string RequireDirectory(StorageOptions options) =>
        options.DataDirectory ?? throw new ArgumentException($"engine '{options.Engine}' needs --data DIR");
}
