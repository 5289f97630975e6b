using Microsoft.Extensions.Logging;

namespace KvnDb.NodeHost;

/// <summary>The node process's start and stop lines (ids 120-129).</summary>
internal static partial class NodeHostLog
{
    [LoggerMessage(120, LogLevel.Warning, "Reset: wiping {Count} keys; the node will copy its data from its peers")]
    public static partial void Resetting(ILogger logger, long count);

    [LoggerMessage(121, LogLevel.Information, "Node starting: engine {Engine}, {Count} keys, last sequence {LastSequence}, history {History}, node id {NodeId}")]
    public static partial void Starting(ILogger logger, string engine, long count, ulong lastSequence, Guid history, Guid nodeId);

    [LoggerMessage(122, LogLevel.Warning, "The previous run stopped without a final checkpoint (durability none): writes acknowledged after the last checkpoint may be lost; the node reports it until a sync completes")]
    public static partial void MayHaveLostWrites(ILogger logger);

    [LoggerMessage(123, LogLevel.Information, "Node stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(124, LogLevel.Critical, "{Message}")]
    public static partial void Fatal(ILogger logger, string message);
}
