using KvnDb.Testing;

namespace KvnDb.Chaos;

/// <summary>A router or node child process that can be killed and started again; its log goes to a file so a failed run can be read afterwards.</summary>
internal sealed class ManagedProcess(string name, string executable, IReadOnlyList<string> arguments, string logFile)
{
    private ChildProcess? _process;

    public string Name { get; } = name;

    public bool IsRunning => _process is { HasExited: false };

    public void Start(IEnumerable<string>? extraArguments = null)
    {
        var log = TextWriter.Synchronized(new StreamWriter(logFile, append: true) { AutoFlush = true });
        _process?.Dispose();
        _process = ChildProcess.Start(executable, [.. arguments, .. extraArguments ?? []], new ChildProcessOptions
        {
            Capture = false, // a long run's output goes to the file only
            OnLine = log.WriteLine,
        });
    }

    /// <summary>SIGKILL, no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited)
            return;
        await _process.KillAsync();
    }
}
