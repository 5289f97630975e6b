using System.Diagnostics;
using System.Globalization;

namespace KvnDb.Benchmarks;

/// <summary>A <c>kvndb-node</c> child process (ram engine) dialling a router: its allocations stay out of the benchmark's.</summary>
internal static class NodeProcess
{
    public static Process Start(int routerPort)
    {
        var start = new ProcessStartInfo(Executable())
        {
            ArgumentList = { "--engine", "ram", "--port", routerPort.ToString(CultureInfo.InvariantCulture) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("kvndb-node did not start");
        // Drained, so a chatty node never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static void Stop(Process process)
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
        process.Dispose();
    }

    /// <summary>The node in its own build output (this project references KvnDb.NodeHost so that it is built).</summary>
    private static string Executable()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (!File.Exists(Path.Combine(folder.FullName, "KvnDb.sln")))
                continue;
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;
            var path = Path.Combine(folder.FullName, "src", "NodeHost", "bin", configuration, "net10.0", "kvndb-node");
            return File.Exists(path) ? path : throw new FileNotFoundException($"kvndb-node is not built at {path}");
        }
        throw new FileNotFoundException($"KvnDb.sln not found above {AppContext.BaseDirectory}");
    }
}
