using KvnDb.Testing;

namespace KvnDb.Chaos;

/// <summary>A router or node child process that can be killed, stopped, frozen and started again; its log goes to a file so a failed run can be read afterwards.</summary>
internal sealed class ManagedProcess(string name, string executable, IReadOnlyList<string> arguments, string logFile)
{
    private static readonly TimeSpan TerminateTimeout = TimeSpan.FromSeconds(30);

    private readonly TextWriter _log = TextWriter.Synchronized(new StreamWriter(logFile, append: true) { AutoFlush = true });
    private ChildProcess? _process;

    public string Name { get; } = name;

    public bool IsRunning => _process is { HasExited: false };

    public void Start(IEnumerable<string>? extraArguments = null)
    {
        _log.WriteLine($"---- chaos: start {Name} {string.Join(' ', extraArguments ?? [])}");
        _process?.Dispose();
        _process = ChildProcess.Start(executable, [.. arguments, .. extraArguments ?? []], new ChildProcessOptions
        {
            Capture = false, // a long run's output goes to the file only
            OnLine = line =>
            {
                _log.WriteLine(line);
                Watch?.Invoke(line);
            },
        });
    }

    /// <summary>Also sees every output line while set (a <see cref="FailoverTimeline"/> times the stages of a failover by them).</summary>
    public Action<string>? Watch { get; set; }

    /// <summary>The value that follows <paramref name="option"/> in the program's arguments, or null.</summary>
    public string? Argument(string option)
    {
        var index = arguments.ToList().IndexOf(option);
        return index >= 0 && index + 1 < arguments.Count ? arguments[index + 1] : null;
    }

    /// <summary>Runs the same program once with other arguments (a one-shot command such as <c>reset</c>) and waits for it to succeed.</summary>
    public async Task RunOnceAsync(IReadOnlyList<string> commandArguments)
    {
        await _log.WriteLineAsync($"---- chaos: run {Name} {string.Join(' ', commandArguments)}");
        using var command = ChildProcess.Start(executable, commandArguments, new ChildProcessOptions { Capture = false, OnLine = _log.WriteLine });
        var exitCode = await command.WaitForExitAsync(TerminateTimeout);
        if (exitCode != 0)
            throw new InvalidOperationException($"{Name}: {string.Join(' ', commandArguments)} exited with {exitCode}");
    }

    /// <summary>SIGKILL, no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited)
            return;
        await _process.KillAsync();
    }

    /// <summary>SIGTERM, the process shuts down on its own; SIGKILL if it has not exited after a generous timeout.</summary>
    public async Task<int?> TerminateAsync()
    {
        if (_process is null || _process.HasExited)
            return null;
        try
        {
            return await _process.TerminateAsync(TerminateTimeout);
        }
        catch (TimeoutException)
        {
            return null; // killed by the wait; the caller reports a shutdown that hung
        }
    }

    /// <summary>SIGSTOP: the process is frozen, its sockets stay open and its kernel keeps accepting bytes.</summary>
    public Task FreezeAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT after <see cref="FreezeAsync"/>.</summary>
    public Task ThawAsync() => SignalAsync("CONT");

    private Task SignalAsync(string signal) =>
        _process is null || _process.HasExited ? Task.CompletedTask : _process.SignalAsync(signal);
}
