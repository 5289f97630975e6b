using Microsoft.Extensions.Logging;

namespace KvnDb.Scripts;

/// <summary>The script host's debug lines (ids 130-139).</summary>
internal static partial class ScriptLog
{
    [LoggerMessage(130, LogLevel.Debug, "Script failed")]
    public static partial void Failed(ILogger logger, Exception exception);

    [LoggerMessage(131, LogLevel.Debug, "Connecting to {Host}:{Port}")]
    public static partial void Connecting(ILogger logger, string host, int port);

    [LoggerMessage(132, LogLevel.Debug, "F# session ready")]
    public static partial void FSharpReady(ILogger logger);

    [LoggerMessage(133, LogLevel.Debug, "Loaded {Script} from the cache {Path} in {Elapsed:F0} ms")]
    public static partial void LoadedFromCache(ILogger logger, string script, string path, double elapsed);

    [LoggerMessage(134, LogLevel.Debug, "Compiled {Script} in {Elapsed:F0} ms")]
    public static partial void Compiled(ILogger logger, string script, double elapsed);
}
