using KvnDb.Client;
using Microsoft.Extensions.Logging;

namespace KvnDb.Scripts;

/// <summary>One run of a script: pick the engine by extension, compile, run with the globals, map the outcome to an exit code.</summary>
internal sealed class ScriptRunner(ScriptRunOptions options, ILoggerFactory loggerFactory, TextWriter errors)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("kvndb-script");

    public async Task<int> RunAsync(CancellationToken cancellation)
    {
        var scriptPath = Path.GetFullPath(options.ScriptPath);
        if (!File.Exists(scriptPath))
        {
            await errors.WriteLineAsync($"kvndb-script: {scriptPath}: no such file");
            return ExitCodes.Failure;
        }
        var extension = Path.GetExtension(scriptPath).ToLowerInvariant();
        if (extension is not (".csx" or ".fsx"))
        {
            await errors.WriteLineAsync($"kvndb-script: {scriptPath}: expected a .csx (C#) or .fsx (F#) script");
            return ExitCodes.Failure;
        }

        // Connect while the script compiles, asynchronously: Kv then never blocks a thread (16 workers touching
        // it at once starved the thread pool when the first of them connected synchronously).
        var connection = ConnectAsync(cancellation);
        var globals = new ScriptGlobals(connection, [.. options.ScriptArgs],
            loggerFactory.CreateLogger(Path.GetFileName(scriptPath)), scriptPath, cancellation);
        ScriptGlobals.Current = globals;
        try
        {
            return extension == ".csx"
                ? await RunCSharpAsync(scriptPath, globals, connection, cancellation).ConfigureAwait(false)
                : await RunFSharpAsync(scriptPath, connection, cancellation).ConfigureAwait(false);
        }
        finally
        {
            ScriptGlobals.Current = null;
            await globals.DisposeClientAsync().ConfigureAwait(false);
            await Console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task<int> RunCSharpAsync(string scriptPath, ScriptGlobals globals, Task connection, CancellationToken cancellation)
    {
        var cache = options.CacheDirectory is null ? null : new ScriptCache(options.CacheDirectory);
        var script = new CSharpScriptEngine(cache, _logger).Prepare(scriptPath, errors, cancellation);
        if (script is null)
            return ExitCodes.Failure;
        await UntilSettledAsync(connection).ConfigureAwait(false);
        object? result;
        try
        {
            result = await script.RunAsync(globals).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return Failed(ex, scriptPath, cancellation);
        }
        return result is int code ? code : Environment.ExitCode;
    }

    private async Task<int> RunFSharpAsync(string scriptPath, Task connection, CancellationToken cancellation)
    {
        await UntilSettledAsync(connection).ConfigureAwait(false);
        var outcome = new FSharpScriptEngine(_logger).Run(scriptPath, errors);
        if (outcome.CompileFailed)
            return ExitCodes.Failure;
        return outcome.Exception is null ? Environment.ExitCode : Failed(outcome.Exception, scriptPath, cancellation);
    }

    private int Failed(Exception exception, string scriptPath, CancellationToken cancellation)
    {
        var inner = ScriptErrorReporter.Unwrap(exception);
        if (inner is OperationCanceledException && cancellation.IsCancellationRequested)
        {
            errors.WriteLine($"{scriptPath}: cancelled");
            return ExitCodes.Cancelled;
        }
        errors.WriteLine(ScriptErrorReporter.Format(inner, scriptPath));
        ScriptLog.Failed(_logger, inner);
        return ExitCodes.Failure;
    }

    /// <summary>Waits for the connection attempt to succeed or fail (a failure is the script's business, at its first use of Kv).</summary>
    private static async Task UntilSettledAsync(Task connection) =>
        await connection.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    private async Task<KvnDbClient> ConnectAsync(CancellationToken cancellation)
    {
        await Task.Yield(); // the caller goes on compiling meanwhile
        var clientOptions = new KvnDbClientOptions
        {
            Host = options.Host,
            Port = options.Port,
            Routers = options.Routers,
            Password = options.Password,
            ConnectTimeout = options.ConnectTimeout,
        };
        ScriptLog.Connecting(_logger, options.Host, options.Port);
        return await KvnDbClient.ConnectAsync(clientOptions, cancellation).ConfigureAwait(false);
    }
}
