namespace KvnDb.Router.Ha;

/// <summary>
/// What a router host is in its group: the active router of a term (the Raft leader, <see cref="IsActive"/>) or a
/// standby that redirects every hello to the leader. Fixed for the <see cref="RouterRole"/>'s life: a change of role
/// builds another role on the same host and ports (<see cref="RouterHost.ChangeRole"/>).
/// </summary>
internal sealed class GroupRole(RouterGroup group, bool active, long term)
{
    public bool IsActive { get; } = active;

    /// <summary>The Raft term this host leads (the fencing term sent to nodes); for a standby, the term when it started.</summary>
    public long Term { get; } = term;

    /// <summary>Where clients and nodes reach this router.</summary>
    public string Self => group.Advertised;

    /// <summary>The leader's address for a NotLeader reply, or empty when no leader is known now.</summary>
    public string Leader => group.LeaderAddress ?? "";

    public RouterGroup Group => group;

    /// <summary>True while this (active) router may acknowledge a write or answer a read: it leads its term and holds the leader lease.</summary>
    public bool HoldsLease => IsActive && group.HoldsLease(Term);

    /// <summary>The answer to a read this router may no longer answer: a later leader may have acknowledged writes its node lacks.</summary>
    public string ReadLeaseLost { get; } =
        $"this router's lease as the router group's leader (term {term}) ran out: a majority of routers did not answer in time, another may lead and hold newer writes; read again (the client finds the leader)";

    /// <summary>The answer to a write this router may no longer acknowledge.</summary>
    public string LeaseLost { get; } =
        $"this router's lease as the router group's leader (term {term}) ran out: a majority of routers did not answer in time, another may lead; the write was not acknowledged and may or may not have been applied";
}
