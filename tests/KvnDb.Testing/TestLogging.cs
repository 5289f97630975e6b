using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.Testing;

/// <summary>
/// The logs of in-process routers and nodes: none, unless <c>KVNDB_TEST_LOG</c> names a file. Then every router and
/// node of the run logs there at debug level (and to the console): the way to see what a rare failure went through.
/// </summary>
public static class TestLogging
{
    public static ILoggerFactory Factory { get; } =
        Environment.GetEnvironmentVariable("KVNDB_TEST_LOG") is { Length: > 0 } file
            ? KvnDb.Hosting.Logging.Create(verbose: true, file)
            : NullLoggerFactory.Instance;
}
