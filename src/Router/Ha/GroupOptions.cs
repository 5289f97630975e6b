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

    /// <summary>Lower bound of the randomised election timeout: a leader not heard from this long is replaced.</summary>
    public TimeSpan ElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(600);
}
