using KvnDb.Protocol;

namespace KvnDb.Router.Membership;

/// <summary>
/// Which connected node may become the source of truth after a router start (or once the last
/// in-sync node left): only a member of the last durable in-sync set, on that set's history, that
/// has lost nothing it acknowledged. A cluster whose set is empty, or held only the previous router
/// process's in-process nodes (their data died with it), starts fresh from the most advanced node;
/// <c>--force-adopt</c> does the same whatever the set (documented data loss). A node its operator reset
/// is never adopted, not even then: its data is what the operator asked to replace by a donor's.
/// </summary>
internal static class AdoptionPolicy
{
    public static bool StartsFresh(RouterMetadata metadata, bool force) =>
        force || metadata.Members.Count == 0 || metadata.Members.All(m => m.Embedded);

    public static bool IsEligible(NodeLink node, RouterMetadata metadata, bool force) =>
        !node.Hello.Flags.HasFlag(NodeHelloFlags.Reset) && (StartsFresh(metadata, force) || WhyNot(node, metadata) is null);

    /// <summary>Why a node cannot be adopted, or null when it can.</summary>
    public static string? WhyNot(NodeLink node, RouterMetadata metadata)
    {
        var claims = node.Hello;
        if (claims.Flags.HasFlag(NodeHelloFlags.Reset))
            return "it was reset and waits for a donor to copy everything from";
        if (!metadata.IsMember(node.NodeId))
            return "not a member of the last in-sync set";
        if (claims.Flags.HasFlag(NodeHelloFlags.MayHaveLostWrites))
            return "it restarted after an unclean stop without fsync durability and may have lost acknowledged writes";
        if (claims.History != metadata.History && !(claims.History == metadata.ParentHistory && claims.Sequence <= metadata.ForkSequence))
            return $"its data belongs to history {claims.History}, not the in-sync set's {metadata.History}";
        return null;
    }

    /// <summary>The most advanced eligible node (a node that may have lost writes or holds no history comes last), or null.</summary>
    public static NodeLink? Choose(IEnumerable<NodeLink> candidates, RouterMetadata metadata, bool force) =>
        candidates
            .Where(c => IsEligible(c, metadata, force))
            .OrderBy(c => c.Hello.Flags.HasFlag(NodeHelloFlags.MayHaveLostWrites))
            .ThenByDescending(c => c.Hello.History != Guid.Empty)
            .ThenByDescending(c => c.Hello.Sequence)
            .FirstOrDefault();
}
