namespace KvnDb.Scripts.Tests;

/// <summary>kvndb-script (or dotnet fsi) running as a real child process, with its output captured line by line.</summary>
internal sealed class ScriptProcess : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private readonly ChildProcess _process;

    private ScriptProcess(ChildProcess process) => _process = process;

    public static string RepoRoot => ProgramPaths.RepositoryRoot;

    public static string SamplesDirectory => Path.Combine(RepoRoot, "samples");

    /// <summary>kvndb-script.dll in the Scripts project's own output folder (same configuration as the tests).</summary>
    public static string HostDll { get; } = Path.Combine(ProgramPaths.OutputFolder("Scripts"), "kvndb-script.dll");

    /// <summary>Starts <c>dotnet kvndb-script.dll args...</c>.</summary>
    public static ScriptProcess StartHost(params string[] args) => Start([HostDll, .. args]);

    /// <summary>Starts <c>dotnet args...</c> (e.g. <c>fsi script.fsx</c>).</summary>
    public static ScriptProcess Start(IEnumerable<string> dotnetArgs, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var variables = new Dictionary<string, string?>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["KVNDB_PASSWORD"] = null,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            variables[name] = value;
        return new ScriptProcess(ChildProcess.Start("dotnet", dotnetArgs, new ChildProcessOptions
        {
            WorkingDirectory = workingDirectory ?? RepoRoot,
            Environment = variables,
        }));
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
        var exitCode = await _process.WaitForExitAsync(timeout ?? Timeout);
        return new ScriptResult(exitCode, _process.Stdout, _process.Stderr);
    }

    /// <summary>Completes when a line of standard output contains <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) => _process.WaitForLineAsync(text, timeout);

    /// <summary>Completes when a line of standard error contains <paramref name="text"/>.</summary>
    public Task WaitForErrorAsync(string text, TimeSpan timeout) => _process.WaitForLineAsync(text, timeout, standardError: true);

    /// <summary>Sends a POSIX signal, as a terminal does on Ctrl+C (INT).</summary>
    public Task SignalAsync(string signal) => _process.SignalAsync(signal);

    public void Dispose() => _process.Dispose();
}
