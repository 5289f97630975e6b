using Microsoft.Extensions.Logging;

namespace KvnDb.Resp;

/// <summary>Log messages of the RESP front door (ids 60-69).</summary>
internal static partial class RespLog
{
    [LoggerMessage(61, LogLevel.Debug, "RESP client {ConnectionId} connected from {Address}")]
    public static partial void Connected(ILogger logger, long connectionId, string address);

    [LoggerMessage(62, LogLevel.Debug, "RESP client {ConnectionId} ({Address}) disconnected")]
    public static partial void Disconnected(ILogger logger, long connectionId, string address);

    [LoggerMessage(63, LogLevel.Warning, "RESP client {ConnectionId} ({Address}) broke the protocol ({Reason}); closing it")]
    public static partial void ProtocolError(ILogger logger, long connectionId, string address, string reason);

    [LoggerMessage(65, LogLevel.Warning, "RESP client {Address} left more than {Limit} bytes of replies unread; disconnected")]
    public static partial void OutputLimit(ILogger logger, string address, long limit);

    [LoggerMessage(66, LogLevel.Information, "RESP client {ConnectionId} ({Address}) did not authenticate in time; closing it")]
    public static partial void AuthTimeout(ILogger logger, long connectionId, string address);

    [LoggerMessage(64, LogLevel.Warning, "RESP authentication failed from {Address}")]
    public static partial void AuthFailed(ILogger logger, string address);
}
