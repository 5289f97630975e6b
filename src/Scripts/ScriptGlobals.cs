using KvnDb.Client;
using Microsoft.Extensions.Logging;

namespace KvnDb.Scripts;

/// <summary>
/// What a script sees without declaring it: in C# its members are in scope (<c>Kv</c>, <c>Args</c>, ...);
/// in F# the host binds them as top-level values of the same names.
/// </summary>
public sealed class ScriptGlobals
{
    private readonly Task<KvnDbClient> _kv;

    // connection: the attempt, started before the script and complete (or failed) before it runs.
    internal ScriptGlobals(Task<KvnDbClient> connection, IList<string> args, ILogger log, string scriptPath, CancellationToken cancellation)
    {
        _kv = connection;
        Args = args;
        Log = log;
        Cancellation = cancellation;
        ScriptPath = scriptPath;
    }

    /// <summary>The globals of the script now running; how the F# prelude reaches them.</summary>
    public static ScriptGlobals? Current { get; internal set; }

    /// <summary>
    /// A client connected to the router named on the command line (<c>--host</c>, <c>--port</c>, <c>-p</c>).
    /// The host connects (asynchronously) while the script compiles and before it runs, so using <c>Kv</c>
    /// never blocks a thread: any number of workers may touch it at once. A script that connects by itself
    /// (or not at all) needs no router: a failed connection is reported at the first line that uses <c>Kv</c>.
    /// </summary>
    public KvnDbClient Kv => _kv.IsCompleted
        ? Completed(_kv)
        : throw new InvalidOperationException("Kv was used before the host finished connecting (a bug of the host)");

    // The task is complete: this never waits; it returns the client or rethrows the connection's own failure.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD002:Avoid problematic synchronous waits", Justification = "only called on a completed task")]
    private static KvnDbClient Completed(Task<KvnDbClient> connection) => connection.GetAwaiter().GetResult();

    /// <summary>The arguments after <c>--</c> on the command line, as dotnet-script's <c>Args</c>.</summary>
    public IList<string> Args { get; }

    /// <summary>Logs to standard error (and to the <c>-l</c> file), so standard output stays the script's own.</summary>
    public ILogger Log { get; }

    /// <summary>Cancelled when the user presses Ctrl+C (or the process gets SIGTERM).</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Full path of the script file.</summary>
    public string ScriptPath { get; }

    /// <summary>Folder of the script file, for finding files that travel with it.</summary>
    public string ScriptDirectory => Path.GetDirectoryName(ScriptPath)!;

    /// <summary>Closes the client if the script used it.</summary>
    internal async ValueTask DisposeClientAsync()
    {
        await ((Task)_kv).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_kv.IsCompletedSuccessfully)
            await (await _kv.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
    }
}
