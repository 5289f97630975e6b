using Microsoft.Extensions.Logging;

namespace KvnDb.NodeHost;

/// <summary>The node process's start and stop lines (ids 120-132).</summary>
internal static partial class NodeHostLog
{
    [LoggerMessage(120, LogLevel.Warning, "Reset ({Marker}): new node id {NodeId}; the {Count} keys held are kept until a donor's snapshot replaces them, and the node serves only once synced")]
    public static partial void ResetApplied(ILogger logger, string? marker, Guid nodeId, long count);

    [LoggerMessage(125, LogLevel.Warning, "A reset is still pending ({Marker}): the node waits for a donor to copy everything from and is never a source of truth")]
    public static partial void ResetPending(ILogger logger, string? marker);

    [LoggerMessage(126, LogLevel.Information, "New data folder {Directory}: stamped {Stamp}")]
    public static partial void FolderStamped(ILogger logger, string directory, string stamp);

    [LoggerMessage(127, LogLevel.Warning, "The file system of {Directory} cannot lock files: nothing stops a second node from opening the folder")]
    public static partial void FolderLockNotEnforced(ILogger logger, string directory);

    [LoggerMessage(128, LogLevel.Warning, "Reset requested ({Marker}): at its next start the node takes a new identity and copies everything from a donor{Running}")]
    public static partial void ResetRequested(ILogger logger, string marker, string running);

    [LoggerMessage(129, LogLevel.Critical, "Cannot request a reset of {Directory}: {Message}")]
    public static partial void ResetRequestFailed(ILogger logger, string directory, string message);

    [LoggerMessage(121, LogLevel.Information, "Node starting: {Name}, engine {Engine}, {Count} keys, last sequence {LastSequence}, history {History}, node id {NodeId}")]
    public static partial void Starting(ILogger logger, string name, string engine, long count, ulong lastSequence, Guid history, Guid nodeId);

    [LoggerMessage(122, LogLevel.Warning, "The previous run stopped without a final checkpoint (durability none): writes acknowledged after the last checkpoint may be lost; the node reports it until a sync completes")]
    public static partial void MayHaveLostWrites(ILogger logger);

    [LoggerMessage(123, LogLevel.Information, "Node stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(124, LogLevel.Critical, "{Message}")]
    public static partial void Fatal(ILogger logger, string message);

    [LoggerMessage(130, LogLevel.Information, "Storage closed in {ElapsedMs} ms")]
    public static partial void StorageClosed(ILogger logger, long elapsedMs);

    [LoggerMessage(132, LogLevel.Information, "HTTP on http://{Host}:{Port}/ (/metrics, /health)")]
    public static partial void HttpListening(ILogger logger, string host, int port);

    [LoggerMessage(131, LogLevel.Error, "Node stopped without its final checkpoint: {Reason}")]
    public static partial void FinalCheckpointFailed(ILogger logger, string reason);
}
