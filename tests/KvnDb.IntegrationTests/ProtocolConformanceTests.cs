using System.Globalization;
using KvnDb.Node.Storage;
using KvnDb.Router;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace KvnDb.IntegrationTests;

/// <summary>
/// docs/protocol.md checked the hard way: a client in another language written from the document alone
/// (tests/protocol-conformance/kvndb_client.py, Python 3 standard library) runs every client opcode and every
/// error a client can provoke against real routers: one with two nodes and a password, one with no node
/// (Unavailable), one whose FASTER node stores records below 3 MiB and whose router-wide table holds one request
/// (RecordTooLarge, Busy), and one this test stops under the client (Closing). Skipped, saying so, when python3 is
/// not installed.
/// </summary>
public sealed class ProtocolConformanceTests(ITestOutputHelper output)
{
    private static readonly string? Python = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(dir => Path.Combine(dir, "python3"))
        .FirstOrDefault(File.Exists);

    [SkippableFact]
    public async Task A_python_client_written_from_the_protocol_document_passes_every_check()
    {
        Skip.If(Python is null, "python3 is not installed; skipping the protocol conformance client");
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { Password = "conformance", AuthFailureDelay = TimeSpan.FromMilliseconds(100) });
        await using var empty = await RouterHost.StartAsync(new RouterOptions { Port = 0 });

        using var data = new TempDirectory();
        await using var limits = await TestCluster.StartAsync(nodes: 0, new RouterOptions { MaxPendingRequests = 1 });
        limits.StartNode(FasterStorageEngine.Open(data.Path, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = data.Path,
            MemoryBytes = 16L << 20, // 2 MiB pages: records below 2 MiB
            CheckpointInterval = Timeout.InfiniteTimeSpan,
        }, NullLogger.Instance));
        await limits.Router.WaitForServingNodesAsync(1, TestCluster.Timeout);

        var closing = await RouterHost.StartAsync(new RouterOptions { Port = 0 });
        var closingStopped = false;
        try
        {
            await RunClientAsync(cluster, empty, limits, closing, () => closingStopped = true);
        }
        finally
        {
            if (!closingStopped)
                await closing.DisposeAsync();
        }
    }

    private async Task RunClientAsync(TestCluster cluster, RouterHost empty, TestCluster limits, RouterHost closing, Action stopped)
    {
        var script = Path.Combine(ProgramPaths.RepositoryRoot, "tests", "protocol-conformance", "kvndb_client.py");
        using var client = ChildProcess.Start(Python!, [script, "127.0.0.1", Port(cluster.Router.Port), "conformance", Port(empty.Port),
            Port(limits.Router.Port), Port(closing.Port)], new ChildProcessOptions { Environment = new Dictionary<string, string?> { ["PYTHONDONTWRITEBYTECODE"] = "1" } });
        await client.WaitForLineAsync("closing: ready", TimeSpan.FromMinutes(2));
        await closing.DisposeAsync(); // the client hears Closing, then the close
        stopped();
        var exitCode = await client.WaitForExitAsync(TimeSpan.FromMinutes(2));
        output.WriteLine(client.Output);
        Assert.True(exitCode == 0, client.Output);
        Assert.Contains("checks hold", client.Stdout, StringComparison.Ordinal);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
