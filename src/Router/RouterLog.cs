using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>The router process's start and stop lines (ids 80-89).</summary>
internal static partial class RouterLog
{
    [LoggerMessage(80, LogLevel.Information, "Router listening on {Host}:{Port} (protocol {Version})")]
    public static partial void Listening(ILogger logger, string host, int port, int version);

    [LoggerMessage(81, LogLevel.Information, "RESP (Redis protocol) listener on {Host}:{Port}")]
    public static partial void RespListening(ILogger logger, string host, int port);

    [LoggerMessage(82, LogLevel.Information, "Router stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(83, LogLevel.Critical, "Cannot start on {Host}:{Port}: {Message}")]
    public static partial void CannotStart(ILogger logger, string host, int port, string message);
}
