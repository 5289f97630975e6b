using KvnDb.Protocol;
using KvnDb.Router;
using KvnDb.Router.Membership;

namespace KvnDb.UnitTests.Router;

public sealed class AdoptionPolicyTests
{
    private static readonly Guid History = Guid.NewGuid();
    private static readonly Guid Member1 = Guid.NewGuid();
    private static readonly Guid Member2 = Guid.NewGuid();

    private static readonly RouterMetadata Metadata = new()
    {
        History = History,
        Members = [new InSyncMember(Member1, 1, false), new InSyncMember(Member2, 2, false)],
    };

    private static NodeLink Node(Guid id, ulong sequence, Guid? history = null, NodeHelloFlags flags = NodeHelloFlags.None) =>
        new(1, id, "test", new HelloClaims(history ?? History, sequence, flags, MaxRecord: 1 << 20), _ => { });

    [Fact]
    public void A_stale_or_empty_node_that_arrives_first_is_never_the_source()
    {
        var stale = Node(Guid.NewGuid(), 500);
        var empty = Node(Guid.NewGuid(), 0, Guid.Empty);
        var forged = Node(Guid.NewGuid(), ulong.MaxValue, Guid.NewGuid());
        Assert.Null(AdoptionPolicy.Choose([stale, empty, forged], Metadata, force: false));
        var member = Node(Member1, 1194);
        Assert.Same(member, AdoptionPolicy.Choose([stale, empty, forged, member], Metadata, force: false));
    }

    [Fact]
    public void The_most_advanced_member_is_chosen()
    {
        var behind = Node(Member1, 1190);
        var ahead = Node(Member2, 1194);
        Assert.Same(ahead, AdoptionPolicy.Choose([behind, ahead], Metadata, force: false));
    }

    [Fact]
    public void A_member_that_may_have_lost_writes_or_is_on_another_history_is_refused()
    {
        Assert.NotNull(AdoptionPolicy.WhyNot(Node(Member1, 10, flags: NodeHelloFlags.MayHaveLostWrites), Metadata));
        Assert.NotNull(AdoptionPolicy.WhyNot(Node(Member1, 10, Guid.NewGuid()), Metadata));
        Assert.Null(AdoptionPolicy.WhyNot(Node(Member1, 10), Metadata));
    }

    [Fact]
    public void A_fresh_cluster_or_one_that_had_only_in_process_nodes_starts_from_the_most_advanced_node()
    {
        var embeddedOnly = Metadata with { Members = [new InSyncMember(Guid.NewGuid(), 1, Embedded: true)] };
        var a = Node(Guid.NewGuid(), 3);
        var b = Node(Guid.NewGuid(), 9);
        Assert.Same(b, AdoptionPolicy.Choose([a, b], new RouterMetadata(), force: false));
        Assert.Same(b, AdoptionPolicy.Choose([a, b], embeddedOnly, force: false));
        Assert.Same(b, AdoptionPolicy.Choose([a, b], Metadata, force: true));
    }

    [Fact]
    public void A_reset_node_is_never_adopted_not_even_by_a_fresh_cluster_or_by_force()
    {
        var reset = Node(Member1, 5000, flags: NodeHelloFlags.Reset);
        Assert.Contains("reset", AdoptionPolicy.WhyNot(reset, Metadata));
        Assert.Null(AdoptionPolicy.Choose([reset], Metadata, force: false));
        Assert.Null(AdoptionPolicy.Choose([reset], new RouterMetadata(), force: false));
        Assert.Null(AdoptionPolicy.Choose([reset], Metadata, force: true));
        var behind = Node(Guid.NewGuid(), 3);
        Assert.Same(behind, AdoptionPolicy.Choose([reset, behind], new RouterMetadata(), force: false));
    }
}
