using System.Diagnostics;

namespace KvnDb.Chaos;

/// <summary>A router or node child process; its log goes to a file so a failed run can be read afterwards.</summary>
internal sealed class ManagedProcess(string name, string executable, IReadOnlyList<string> arguments, string logFile)
{
    private Process? _process;

    public string Name { get; } = name;

    public bool IsRunning => _process is { HasExited: false };

    public void Start(IEnumerable<string>? extraArguments = null)
    {
        var start = new ProcessStartInfo(executable, [.. arguments, .. extraArguments ?? []])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        var log = TextWriter.Synchronized(new StreamWriter(logFile, append: true) { AutoFlush = true });
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>SIGKILL, no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited)
            return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }
}
