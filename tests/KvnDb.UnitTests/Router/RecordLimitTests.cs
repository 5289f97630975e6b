using KvnDb.Protocol;
using KvnDb.Router;
using KvnDb.Router.Membership;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.UnitTests.Router;

public sealed class RecordLimitTests
{
    private const long RouterLimit = 64L << 20;

    private static NodeLink Node(int number, long maxRecord, Guid? id = null) =>
        new(number, id ?? Guid.NewGuid(), "test", new HelloClaims(Guid.Empty, 0, NodeHelloFlags.None, maxRecord), _ => { });

    [Fact]
    public void The_limit_is_the_smallest_of_the_connected_nodes_and_the_router()
    {
        var limit = new RecordLimit(RouterLimit, NullLogger.Instance);
        Assert.Equal(RouterLimit, limit.Current);
        var large = Node(1, 32L << 20);
        var small = Node(2, 2L << 20);
        limit.NodeConnected(large);
        Assert.Equal(32L << 20, limit.Current);
        limit.NodeConnected(small);
        Assert.Equal(2L << 20, limit.Current);
        Assert.Equal("node 2", limit.Holder);
        limit.NodeDisconnected(small);
        Assert.Equal(32L << 20, limit.Current);
        limit.NodeDisconnected(large);
        Assert.Equal(RouterLimit, limit.Current);
        Assert.Contains("--max-frame", limit.Holder);
    }

    [Fact]
    public void An_in_sync_member_that_is_away_still_bounds_writes_until_it_leaves_the_set()
    {
        var limit = new RecordLimit(RouterLimit, NullLogger.Instance);
        var id = Guid.NewGuid();
        var member = Node(3, 1L << 20, id);
        limit.NodeConnected(member);
        limit.MembersChanged([new InSyncMember(id, 3, false, 1L << 20)]);
        limit.NodeDisconnected(member);
        Assert.Equal(1L << 20, limit.Current);
        Assert.Equal("node 3, an in-sync member that is away", limit.Holder);
        limit.MembersChanged([]);
        Assert.Equal(RouterLimit, limit.Current);
    }

    [Fact]
    public void A_member_remembered_without_a_limit_counts_only_once_connected()
    {
        var limit = new RecordLimit(RouterLimit, NullLogger.Instance);
        var id = Guid.NewGuid();
        limit.MembersChanged([new InSyncMember(id, 1, false, MaxRecord: 0)]);
        Assert.Equal(RouterLimit, limit.Current);
        limit.NodeConnected(Node(1, 4L << 20, id));
        Assert.Equal(4L << 20, limit.Current);
    }
}
