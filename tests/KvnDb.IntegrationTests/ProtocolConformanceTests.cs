using System.Globalization;
using KvnDb.Router;
using Xunit.Abstractions;

namespace KvnDb.IntegrationTests;

/// <summary>
/// docs/protocol.md checked the hard way: a client in another language written from the document alone
/// (tests/protocol-conformance/kvndb_client.py, Python 3 standard library) runs every client opcode and every
/// error a client can provoke against real routers. Skipped, saying so, when python3 is not installed.
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
        var script = Path.Combine(ProgramPaths.RepositoryRoot, "tests", "protocol-conformance", "kvndb_client.py");
        using var client = ChildProcess.Start(Python!, [script, "127.0.0.1", cluster.Router.Port.ToString(CultureInfo.InvariantCulture), "conformance",
            empty.Port.ToString(CultureInfo.InvariantCulture)], new ChildProcessOptions { Environment = new Dictionary<string, string?> { ["PYTHONDONTWRITEBYTECODE"] = "1" } });
        var exitCode = await client.WaitForExitAsync(TimeSpan.FromMinutes(2));
        output.WriteLine(client.Output);
        Assert.True(exitCode == 0, client.Output);
        Assert.Contains("checks hold", client.Stdout, StringComparison.Ordinal);
    }
}
