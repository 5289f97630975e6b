using System.Diagnostics;

namespace KvnDb.IntegrationTests;

/// <summary>
/// The console (<c>kvndb</c>) as a real child process: arguments, bytes on standard input (closed after),
/// environment; returns the exit code, standard output as bytes (raw values stay raw) and standard error.
/// </summary>
internal static class ConsoleProcess
{
    public sealed record Result(int Code, byte[] Stdout, string Stderr)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Stdout);
    }

    public static async Task<Result> RunAsync(IEnumerable<string> args, byte[]? stdin = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(ProgramPaths.Executable("Cli", "kvndb"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment.Remove("KVNDB_PASSWORD");
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        try
        {
            var stdout = new MemoryStream();
            var reading = process.StandardOutput.BaseStream.CopyToAsync(stdout);
            var errors = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
                await process.StandardInput.BaseStream.WriteAsync(stdin);
            process.StandardInput.Close();
            await Task.WhenAll(reading, errors).WaitAsync(TestCluster.Timeout);
            await process.WaitForExitAsync().WaitAsync(TestCluster.Timeout);
            return new Result(process.ExitCode, stdout.ToArray(), await errors);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
    }
}
