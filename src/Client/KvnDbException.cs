using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>Base of every error KvnDb reports; <see cref="Status"/> is the wire status when there was one.</summary>
public class KvnDbException(string message, StatusCode status = StatusCode.InternalError, Exception? inner = null)
    : Exception(message, inner)
{
    public StatusCode Status { get; } = status;
}

/// <summary>The router refused the password.</summary>
public sealed class KvnDbAuthenticationException(string message) : KvnDbException(message, StatusCode.AuthFailed);

/// <summary>Client and router speak different protocol versions.</summary>
public sealed class KvnDbVersionMismatchException(string message) : KvnDbException(message, StatusCode.VersionMismatch);

/// <summary>No node could take the request (none connected, or all died before answering).</summary>
public sealed class KvnDbUnavailableException(string message) : KvnDbException(message, StatusCode.Unavailable);

/// <summary>The peer broke the protocol, or refused a malformed or oversized request.</summary>
public sealed class KvnDbProtocolException(string message, StatusCode status = StatusCode.ProtocolError)
    : KvnDbException(message, status);

/// <summary>The request got no answer within its timeout.</summary>
public sealed class KvnDbTimeoutException(string message) : KvnDbException(message, StatusCode.Unavailable);

/// <summary>The connection to the router failed or was lost while the request was in flight.</summary>
public sealed class KvnDbConnectionException(string message, Exception? inner = null)
    : KvnDbException(message, StatusCode.Unavailable, inner);

/// <summary>
/// The router is a standby of a router group: <see cref="Leader"/> is where the leader is (host:port; empty while none
/// is known). A client given <see cref="KvnDbClientOptions.Routers"/> follows it by itself.
/// </summary>
public sealed class KvnDbNotLeaderException(string leader)
    : KvnDbException(leader.Length > 0 ? $"this router is a standby; the leader is {leader}" : "this router is a standby and knows no leader yet", StatusCode.NotLeader)
{
    public string Leader { get; } = leader;
}
