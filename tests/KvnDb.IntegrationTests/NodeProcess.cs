using System.Globalization;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>Starts real <c>kvndb-node</c> child processes (the faster engine on a real folder) against an in-process router.</summary>
internal static class NodeProcess
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>A node on <paramref name="data"/> with the given FASTER memory budget (it sets the page size, hence the record limit).</summary>
    public static ChildProcess Start(RouterHost router, string data, string memory = "16m") =>
        Start(router.Port, ["--engine", "faster", "--data", data, "--memory", memory, "--checkpoint-interval", "0"], router.Options.NodePassword ?? "");

    public static ChildProcess Start(int port, IEnumerable<string> arguments, string password = "")
    {
        var all = new List<string>(arguments) { "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture) };
        if (password.Length > 0)
            all.AddRange(["--password", password]);
        return ChildProcess.StartProgram("NodeHost", "kvndb-node", all);
    }

    /// <summary>SIGTERM, as a service manager stops a node: it must exit 0 (its output is in the failure message otherwise).</summary>
    public static async Task StopAsync(ChildProcess node)
    {
        var exitCode = await node.TerminateAsync(Timeout);
        Assert.True(exitCode == 0, $"the node exited with {exitCode} after SIGTERM\n{node.Output}");
    }

    /// <summary>Runs <c>kvndb-node</c> with exactly these arguments (a one-shot command, or a start expected to fail) and waits for its exit.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        await using var process = ChildProcess.StartProgram("NodeHost", "kvndb-node", arguments);
        var exitCode = await process.WaitForExitAsync(Timeout);
        return (exitCode, process.Output);
    }
}
