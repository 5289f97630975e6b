using System.Diagnostics;

namespace KvnDb.FaultTests.Network;

/// <summary>Runs the short administrative commands (<c>ip</c>, <c>nft</c>) that build and break the test network.</summary>
internal static class Shell
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="file"/> and returns its standard output; throws when it exits non-zero.</summary>
    public static async Task<string> RunAsync(string file, params string[] arguments)
    {
        var (exitCode, output, error) = await TryRunAsync(file, arguments).ConfigureAwait(false);
        return exitCode == 0
            ? output
            : throw new InvalidOperationException($"`{file} {string.Join(' ', arguments)}` exited {exitCode}: {error.Trim()}");
    }

    /// <summary>Runs <paramref name="file"/>; a missing program is exit code 127, as a shell reports it.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> TryRunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (127, "", ex.Message);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            try
            {
                await process.WaitForExitAsync().WaitAsync(CommandTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"`{file} {string.Join(' ', arguments)}` did not finish within {CommandTimeout}");
            }
            return (process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
        }
    }
}
