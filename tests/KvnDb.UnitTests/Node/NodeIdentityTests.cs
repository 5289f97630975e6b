using KvnDb.Node;
using KvnDb.UnitTests.Storage;

namespace KvnDb.UnitTests.Node;

public sealed class NodeIdentityTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void The_node_id_is_kept_with_the_data()
    {
        var first = new NodeIdentity(_directory.Path);
        Assert.NotEqual(Guid.Empty, first.NodeId);
        Assert.Equal(first.NodeId, new NodeIdentity(_directory.Path).NodeId);
        Assert.Equal(first.NodeId.ToString(), File.ReadAllText(Path.Combine(_directory.Path, "node-id")));
        Assert.False(File.Exists(Path.Combine(_directory.Path, "node-id.tmp")));
    }

    [Fact]
    public void A_reset_takes_a_new_node_id_and_forgets_the_history()
    {
        var identity = new NodeIdentity(_directory.Path);
        var before = identity.NodeId;
        identity.SetHistory(Guid.NewGuid());
        identity.Reset();
        Assert.NotEqual(before, identity.NodeId);
        Assert.Equal(Guid.Empty, identity.HistoryId);
        var reopened = new NodeIdentity(_directory.Path);
        Assert.Equal(identity.NodeId, reopened.NodeId);
        Assert.Equal(Guid.Empty, reopened.HistoryId);
    }

    [Fact]
    public void The_history_survives_a_restart()
    {
        var history = Guid.NewGuid();
        new NodeIdentity(_directory.Path).SetHistory(history);
        Assert.Equal(history, new NodeIdentity(_directory.Path).HistoryId);
    }

    [Fact]
    public void A_node_without_a_data_folder_is_a_new_node_each_time()
    {
        var a = new NodeIdentity(null);
        var b = new NodeIdentity(null);
        Assert.NotEqual(Guid.Empty, a.NodeId);
        Assert.NotEqual(a.NodeId, b.NodeId);
    }

    [Fact]
    public void An_unreadable_node_id_file_is_replaced()
    {
        File.WriteAllText(Path.Combine(_directory.Path, "node-id"), "not a guid");
        var identity = new NodeIdentity(_directory.Path);
        Assert.NotEqual(Guid.Empty, identity.NodeId);
        Assert.Equal(identity.NodeId, new NodeIdentity(_directory.Path).NodeId);
    }
}
