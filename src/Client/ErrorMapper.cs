using System.Diagnostics.CodeAnalysis;
using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>Maps an error status and its message to the typed exception (throw helpers keep callers small).</summary>
internal static class ErrorMapper
{
    public static KvnDbException ToException(StatusCode status, string message) => status switch
    {
        StatusCode.AuthFailed => new KvnDbAuthenticationException(message),
        StatusCode.VersionMismatch => new KvnDbVersionMismatchException(message),
        StatusCode.Unavailable => new KvnDbUnavailableException(message),
        StatusCode.NotLeader => new KvnDbNotLeaderException(message),
        StatusCode.ProtocolError or StatusCode.FrameTooLarge or StatusCode.KeyTooLarge or StatusCode.RecordTooLarge or StatusCode.UnknownOpcode
            or StatusCode.NotAuthorized => new KvnDbProtocolException(message, status),
        _ => new KvnDbException(message, status),
    };

    [DoesNotReturn]
    public static void Throw(StatusCode status, string message) => throw ToException(status, message);
}
