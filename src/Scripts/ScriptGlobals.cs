using KvnDb.Client;
using Microsoft.Extensions.Logging;

namespace KvnDb.Scripts;

/// <summary>
/// What a script sees without declaring it: in C# its members are in scope (<c>Kv</c>, <c>Args</c>, ...);
/// in F# the host binds them as top-level values of the same names.
/// </summary>
public sealed class ScriptGlobals
{
    private readonly Lazy<KvnDbClient> _kv;

    internal ScriptGlobals(Func<KvnDbClient> connect, IList<string> args, ILogger log, string scriptPath, CancellationToken cancellation)
    {
        _kv = new Lazy<KvnDbClient>(connect, LazyThreadSafetyMode.ExecutionAndPublication);
        Args = args;
        Log = log;
        Cancellation = cancellation;
        ScriptPath = scriptPath;
    }

    /// <summary>The globals of the script now running; how the F# prelude reaches them.</summary>
    public static ScriptGlobals? Current { get; internal set; }

    /// <summary>
    /// A client connected to the router named on the command line (<c>--host</c>, <c>--port</c>, <c>-p</c>).
    /// It connects on first use, so a script that connects by itself (or not at all) needs no router.
    /// </summary>
    public KvnDbClient Kv => _kv.Value;

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
        if (_kv.IsValueCreated)
            await _kv.Value.DisposeAsync().ConfigureAwait(false);
    }
}
