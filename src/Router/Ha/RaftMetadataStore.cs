using DotNext.Net.Cluster.Consensus.Raft;
using KvnDb.Router.Membership;

namespace KvnDb.Router.Ha;

/// <summary>
/// The metadata of a router group, kept in its Raft log: a change is durable once a majority of routers hold it
/// (committed and applied here), the group's form of "fsynced before any write is acknowledged under it". Only the
/// leader of the term this store was made for can save: once it is deposed, every save fails, so a deposed router
/// can never change the in-sync set (nor acknowledge a write that waits for such a change).
/// </summary>
internal sealed class RaftMetadataStore(IRaftCluster raft, RouterStateMachine state, long term, CancellationToken leadership) : IMetadataStore
{
    public string Location => $"the router group's Raft log (term {term})";

    public RouterMetadata Load() =>
        state.Document is { } document ? RouterMetadataJson.Deserialize(document, "the router group's metadata") : new RouterMetadata();

    public async ValueTask SaveAsync(RouterMetadata metadata, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(leadership, cancellationToken);
        if (leadership.IsCancellationRequested || raft.Term != term)
            throw new RouterDeposedException($"this router no longer leads the group (it led term {term}): the metadata change is not made");
        try
        {
            await raft.ReplicateAsync(GroupEntry.Metadata(RouterMetadataJson.Serialize(metadata)), token: linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NotLeaderException or OperationCanceledException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            throw new RouterDeposedException($"this router lost the group's leadership (term {term}) before the metadata change was committed: {ex.Message}", ex);
        }
    }
}
