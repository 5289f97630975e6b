namespace KvnDb.Node;

/// <summary>A router of a group answered the hello with NotLeader: <see cref="Leader"/> is the leader's host:port (empty: unknown).</summary>
public sealed class RouterRedirectException(string leader)
    : IOException(leader.Length > 0 ? $"the router is a standby; the leader is {leader}" : "the router is a standby and knows no leader yet")
{
    public string Leader { get; } = leader;
}
