using KvnDb.Router.Expiry;
using KvnDb.Router.Membership;
using KvnDb.Router.Sync;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Groups;

/// <summary>
/// One replica group (docs/architecture.md, "Groups and slots"): the nodes that hold the keys of the group's
/// slots, each a full replica of the group, and everything the router keeps per group: its own sequence and
/// replication log (<see cref="WriteSequencer"/>), reads (<see cref="ReadRouter"/>), in-sync set, history and
/// joins (<see cref="ClusterMembership"/>, its part of the shared metadata), full syncs, digests and expiry.
/// A cluster of one group is exactly the router before groups.
/// </summary>
internal sealed class ReplicaGroup
{
    public ReplicaGroup(int index, string name, Cluster cluster, GroupMetadataView metadata, NodeNumbers numbers, ILoggerFactory loggerFactory)
    {
        Index = index;
        Name = name;
        var options = cluster.Options;
        Nodes = new NodeTable(cluster.Nodes);
        Sequencer = new WriteSequencer(options, cluster.Stats, cluster.Pending, cluster.RecordLimit, cluster.Clock,
            () => Membership!.UnavailableReason, cluster.OnApplyFailed, Nodes);
        Reads = new ReadRouter(options, cluster.Stats, cluster.Pending, Nodes, cluster.Clock, () => Membership!.UnavailableReason);
        Syncs = new SyncCoordinator(options, cluster.Stats, Nodes, Sequencer, loggerFactory.CreateLogger<SyncCoordinator>());
        Membership = new ClusterMembership(options, cluster.Stats, Nodes, Sequencer, Syncs, cluster.RecordLimit, cluster.Settle, metadata, numbers,
            loggerFactory.CreateLogger<ClusterMembership>());
        Digests = new DigestCoordinator(cluster.Pending, Nodes, Sequencer, Membership.MissingMembers);
        Expiry = new ExpiryScheduler(options, Sequencer, loggerFactory.CreateLogger<ExpiryScheduler>());
        Sequencer.ExpiryHint = Expiry.OnExpirySet;
        Sequencer.OnDivergence = cluster.OnDivergence;
        Membership.NodeAdmitted = ExpiryScheduler.Probe;
    }

    /// <summary>The group's index in the slot map.</summary>
    public int Index { get; }

    public string Name { get; }

    /// <summary>The group's nodes (their slots and bits are the cluster table's, unique across groups).</summary>
    public NodeTable Nodes { get; }

    public WriteSequencer Sequencer { get; }

    public ReadRouter Reads { get; }

    public SyncCoordinator Syncs { get; }

    public ClusterMembership Membership { get; }

    public DigestCoordinator Digests { get; }

    public ExpiryScheduler Expiry { get; }
}
