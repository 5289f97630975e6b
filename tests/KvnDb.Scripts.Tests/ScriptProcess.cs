using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace KvnDb.Scripts.Tests;

/// <summary>kvndb-script (or dotnet fsi) running as a real child process, with its output captured line by line.</summary>
internal sealed class ScriptProcess : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ScriptProcess(Process process) => _process = process;

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SamplesDirectory => Path.Combine(RepoRoot, "samples");

    /// <summary>kvndb-script.dll in the Scripts project's own output folder (same configuration as the tests).</summary>
    public static string HostDll { get; } = Path.Combine(RepoRoot, "src", "Scripts", "bin",
        typeof(ScriptProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug",
        "net10.0", "kvndb-script.dll");

    public int Id => _process.Id;

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <summary>Starts <c>dotnet kvndb-script.dll args...</c>.</summary>
    public static ScriptProcess StartHost(params string[] args) => Start([HostDll, .. args]);

    /// <summary>Starts <c>dotnet args...</c> (e.g. <c>fsi script.fsx</c>).</summary>
    public static ScriptProcess Start(IEnumerable<string> dotnetArgs, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoRoot,
        };
        foreach (var arg in dotnetArgs)
            info.ArgumentList.Add(arg);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("KVNDB_PASSWORD");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var script = new ScriptProcess(process);
        process.OutputDataReceived += (_, e) => script.Append(script._stdout, script._stdoutClosed, e.Data);
        process.ErrorDataReceived += (_, e) => script.Append(script._stderr, script._stderrClosed, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return script;
    }

    /// <summary>Runs kvndb-script to the end and returns its exit code and output.</summary>
    public static async Task<ScriptResult> RunHostAsync(params string[] args)
    {
        using var process = StartHost(args);
        return await process.WaitAsync();
    }

    /// <summary>Runs kvndb-script to the end with extra environment variables.</summary>
    public static async Task<ScriptResult> RunHostAsync(string[] args, IReadOnlyDictionary<string, string> environment)
    {
        using var process = Start([HostDll, .. args], environment: environment);
        return await process.WaitAsync();
    }

    public static async Task<ScriptResult> RunAsync(IEnumerable<string> dotnetArgs, string? workingDirectory = null)
    {
        using var process = Start(dotnetArgs, workingDirectory);
        return await process.WaitAsync();
    }

    /// <summary>Waits for the process to exit (killing it after <see cref="Timeout"/>) and for its output to drain.</summary>
    public async Task<ScriptResult> WaitAsync(TimeSpan? timeout = null)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout ?? Timeout);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{_process.StartInfo.FileName} {string.Join(' ', _process.StartInfo.ArgumentList)} did not finish.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }
        return new ScriptResult(_process.ExitCode, Stdout, Stderr);
    }

    /// <summary>Waits until standard output contains <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) => WaitForAsync(() => Stdout, text, timeout);

    /// <summary>Waits until standard error contains <paramref name="text"/>.</summary>
    public Task WaitForErrorAsync(string text, TimeSpan timeout) => WaitForAsync(() => Stderr, text, timeout);

    private async Task WaitForAsync(Func<string> output, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!output().Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new TimeoutException($"'{text}' never appeared.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            await Task.Delay(20);
        }
    }

    /// <summary>Sends a POSIX signal, as a terminal does on Ctrl+C (INT).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        await kill.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, kill.ExitCode);
    }

    private void Append(StringBuilder buffer, TaskCompletionSource closed, string? line)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        lock (buffer)
            buffer.Append(line).Append('\n');
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KvnDb.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("KvnDb.sln not found above " + AppContext.BaseDirectory);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
