using System.Diagnostics;
using System.Text.RegularExpressions;

namespace KvnDb.FaultTests.Network;

/// <summary>
/// A program running inside a host's namespace (<c>ip netns exec NS dotnet program.dll ...</c>; <c>ip</c>
/// execs the program, so the child's pid is the program's). Its output goes to a log file and a
/// bounded in-memory tail that tests can wait on. Freeze, thaw, terminate and kill are real signals.
/// </summary>
public sealed class LabProcess : IAsyncDisposable
{
    private const int TailLines = 4000;
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _lock = new();
    private readonly Queue<string> _tail = new();
    private long _lines;
    private readonly List<(Regex Pattern, Func<Match, bool> Accept, TaskCompletionSource<Match> Waiter)> _waiters = [];

    private LabProcess(string name, Process process, StreamWriter log)
    {
        Name = name;
        _process = process;
        _log = log;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public bool IsFrozen { get; private set; }

    /// <summary>The log file that holds all of the program's output.</summary>
    public string LogFile { get; private init; } = "";

    /// <summary>Starts <c>dotnet <paramref name="assembly"/></c> inside <paramref name="namespaceName"/>.</summary>
    public static LabProcess Start(string name, string namespaceName, string assembly, IEnumerable<string> arguments, string logFile)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["netns", "exec", namespaceName, "dotnet", assembly, .. arguments])
            start.ArgumentList.Add(argument);
        // Small heaps and one GC thread: five of these share two cores with the test.
        start.Environment["DOTNET_gcServer"] = "0";
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        log.WriteLine($"# {DateTime.UtcNow:O} ip {string.Join(' ', start.ArgumentList)}");
        var process = new Process { StartInfo = start };
        var lab = new LabProcess(name, process, log) { LogFile = logFile };
        process.OutputDataReceived += (_, e) => lab.Append(e.Data);
        process.ErrorDataReceived += (_, e) => lab.Append(e.Data);
        if (!process.Start())
            throw new InvalidOperationException($"{name} did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return lab;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        List<TaskCompletionSource<Match>>? matched = null;
        List<Match>? matches = null;
        lock (_lock)
        {
            _log.WriteLine(line);
            _lines++;
            _tail.Enqueue(line);
            if (_tail.Count > TailLines)
                _tail.Dequeue();
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var match = _waiters[i].Pattern.Match(line);
                if (!match.Success || !_waiters[i].Accept(match))
                    continue;
                (matched ??= []).Add(_waiters[i].Waiter);
                (matches ??= []).Add(match);
                _waiters.RemoveAt(i);
            }
        }
        for (var i = 0; matched is not null && i < matched.Count; i++)
            matched[i].TrySetResult(matches![i]);
    }

    /// <summary>Lines printed so far: a position to wait for lines after (<see cref="WaitForOutputAsync(Regex, Func{Match, bool}, TimeSpan, long)"/>).</summary>
    public long LinesPrinted
    {
        get
        {
            lock (_lock)
                return _lines;
        }
    }

    /// <summary>The last lines of output.</summary>
    public string Tail(int lines = 40)
    {
        lock (_lock)
            return string.Join('\n', _tail.Skip(Math.Max(0, _tail.Count - lines)));
    }

    /// <summary>Waits for an output line (already printed or still to come) that matches <paramref name="pattern"/>.</summary>
    public Task<Match> WaitForOutputAsync(Regex pattern, TimeSpan timeout) => WaitForOutputAsync(pattern, static _ => true, timeout);

    /// <summary>
    /// Waits for an output line that matches <paramref name="pattern"/> with a match <paramref name="accept"/> takes (a term
    /// above some number, ...), among the lines printed after the first <paramref name="after"/> (<see cref="LinesPrinted"/>).
    /// </summary>
    public async Task<Match> WaitForOutputAsync(Regex pattern, Func<Match, bool> accept, TimeSpan timeout, long after = 0)
    {
        var waiter = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            foreach (var line in _tail.Skip((int)Math.Max(0, after - (_lines - _tail.Count))))
            {
                var match = pattern.Match(line);
                if (match.Success && accept(match))
                    return match;
            }
            _waiters.Add((pattern, accept, waiter));
        }
        var exited = _process.WaitForExitAsync();
        try
        {
            var first = await Task.WhenAny(waiter.Task, exited).WaitAsync(timeout).ConfigureAwait(false);
            if (first == waiter.Task)
                return await waiter.Task.ConfigureAwait(false);
            throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}) before printing /{pattern}/:\n{Tail()}");
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} did not print /{pattern}/ within {timeout}:\n{Tail()}");
        }
        finally
        {
            lock (_lock)
                _waiters.RemoveAll(w => w.Waiter == waiter);
        }
    }

    /// <summary>SIGSTOP: the process keeps its sockets but runs no code, as a hung or paused host would.</summary>
    public void Freeze()
    {
        Native.Signal(Pid, Native.SigStop);
        IsFrozen = true;
    }

    /// <summary>SIGCONT.</summary>
    public void Thaw()
    {
        Native.Signal(Pid, Native.SigCont);
        IsFrozen = false;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
        }
        await _process.WaitForExitAsync().WaitAsync(ExitTimeout).ConfigureAwait(false);
    }

    /// <summary>SIGTERM (a clean stop: a node takes its final checkpoint); returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (IsFrozen)
            Thaw();
        if (!_process.HasExited)
            Native.Signal(Pid, Native.SigTerm);
        await _process.WaitForExitAsync().WaitAsync(timeout).ConfigureAwait(false);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync().ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
                _log.Dispose();
            _process.Dispose();
        }
    }
}
