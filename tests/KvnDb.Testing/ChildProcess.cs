using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KvnDb.Testing;

/// <summary>
/// A program running as a real child process (a router, a node, a script host), killed for real
/// (SIGKILL) or signalled (SIGTERM, SIGINT) when the test says so. Its output is drained line by line
/// so a chatty child never blocks on a full pipe; waits on a line complete when the line arrives
/// (an event, not a poll).
/// </summary>
public sealed class ChildProcess : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly ChildProcessOptions _options;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<LineWaiter> _waiters = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process, ChildProcessOptions options)
    {
        _process = process;
        _options = options;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What the process wrote to standard output so far (empty unless captured).</summary>
    public string Stdout
    {
        get
        {
            lock (_waiters)
                return _stdout.ToString();
        }
    }

    /// <summary>What the process wrote to standard error so far (empty unless captured).</summary>
    public string Stderr
    {
        get
        {
            lock (_waiters)
                return _stderr.ToString();
        }
    }

    /// <summary>Both streams, for failure messages.</summary>
    public string Output => $"stdout:\n{Stdout}\nstderr:\n{Stderr}";

    /// <summary>Starts a KvnDb program from its own project's build output (see <see cref="ProgramPaths"/>).</summary>
    public static ChildProcess StartProgram(string projectFolder, string program, IEnumerable<string> arguments, ChildProcessOptions? options = null, string topFolder = "src") =>
        Start(ProgramPaths.Executable(projectFolder, program, topFolder), arguments, options);

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> (each passed as one argument, no shell).</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, ChildProcessOptions? options = null)
    {
        options ??= new ChildProcessOptions();
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in options.Environment)
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(process, options);
        process.OutputDataReceived += (_, e) => child.Append(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data, error: true);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>A loopback port that was free a moment ago, for a child that must be restarted on the same port.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Completes when a line of standard output (or error) contains <paramref name="text"/>, including a line already written.</summary>
    public Task WaitForLineAsync(string text, TimeSpan timeout, bool standardError = false)
    {
        LineWaiter waiter;
        lock (_waiters)
        {
            if ((standardError ? _stderr : _stdout).ToString().Contains(text, StringComparison.Ordinal))
                return Task.CompletedTask;
            waiter = new LineWaiter(text, standardError);
            _waiters.Add(waiter);
            if ((standardError ? _stderrClosed : _stdoutClosed).Task.IsCompleted)
                waiter.Done.TrySetException(new InvalidOperationException($"'{text}' never appeared: the stream closed.\n{Output}"));
        }
        return WaitForLineCoreAsync(waiter, timeout);
    }

    private async Task WaitForLineCoreAsync(LineWaiter waiter, TimeSpan timeout)
    {
        try
        {
            await waiter.Done.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"'{waiter.Text}' did not appear within {timeout}.\n{Output}");
        }
    }

    /// <summary>Waits for the process to exit and its output to drain; returns the exit code. Kills it after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout).ConfigureAwait(false);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(ExitTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            KillTree();
            throw new TimeoutException($"{_process.StartInfo.FileName} {string.Join(' ', _process.StartInfo.ArgumentList)} did not finish within {timeout}.\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL (the whole tree): no shutdown code runs, as in a power cut of the process.</summary>
    public async Task KillAsync(TimeSpan? timeout = null)
    {
        KillTree();
        await _process.WaitForExitAsync().WaitAsync(timeout ?? ExitTimeout).ConfigureAwait(false);
    }

    /// <summary>SIGTERM (what a service manager sends); returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        await SignalAsync("TERM").ConfigureAwait(false);
        return await WaitForExitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Sends a POSIX signal by name (<c>INT</c> is what a terminal sends on Ctrl+C).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, Id.ToString(CultureInfo.InvariantCulture) } })!;
        await kill.WaitForExitAsync().WaitAsync(ExitTimeout).ConfigureAwait(false);
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill -{signal} {Id} failed");
    }

    private void KillTree()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
        }
    }

    private void Append(string? line, bool error)
    {
        if (line is null)
        {
            lock (_waiters)
            {
                (error ? _stderrClosed : _stdoutClosed).TrySetResult();
                foreach (var waiter in _waiters.Where(w => w.StandardError == error))
                    waiter.Done.TrySetException(new InvalidOperationException($"'{waiter.Text}' never appeared: the process closed its output.\n{_stdout}\n{_stderr}"));
            }
            return;
        }
        _options.OnLine?.Invoke(line);
        lock (_waiters)
        {
            if (_options.Capture)
                (error ? _stderr : _stdout).Append(line).Append('\n');
            foreach (var waiter in _waiters.Where(w => w.StandardError == error && line.Contains(w.Text, StringComparison.Ordinal)))
                waiter.Done.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        _process.Dispose();
    }

    public void Dispose()
    {
        KillTree();
        _process.Dispose();
    }

    private sealed record LineWaiter(string Text, bool StandardError)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
