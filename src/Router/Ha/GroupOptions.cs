using KvnDb.Protocol;

namespace KvnDb.Router.Ha;

/// <summary>How a router takes part in a router group (<c>--raft-port P --peers h1:p1,h2:p2,h3:p3</c>).</summary>
public sealed record GroupOptions
{
    /// <summary>Port of this router's Raft endpoint (on <see cref="RouterOptions.Host"/>).</summary>
    public required int RaftPort { get; init; }

    /// <summary>The Raft endpoints of every router of the group (this one's may be left out: it is added).</summary>
    public required IReadOnlyList<RouterAddress> Peers { get; init; }

    /// <summary>Where clients and nodes reach this router (<c>--advertise</c>); null: the host and port it listens on.</summary>
    public RouterAddress? Advertise { get; init; }

    /// <summary>
    /// Lower bound T of the randomised election timeout (in [T, 2T]): a leader not heard from this long is replaced. 400 ms:
    /// a SIGKILLed leader's successor is elected after about 1.67 T (DotNext's pre-vote waits for the later of the two
    /// followers' timeouts), while the lease still outlasts a 300 ms stall of the leader (<see cref="RouterGroup.HeartbeatThreshold"/>).
    /// </summary>
    public TimeSpan ElectionTimeout { get; init; } = DefaultElectionTimeout;

    /// <summary>The default of <see cref="ElectionTimeout"/> (<c>--election-timeout</c>).</summary>
    public static readonly TimeSpan DefaultElectionTimeout = TimeSpan.FromMilliseconds(400);
}
