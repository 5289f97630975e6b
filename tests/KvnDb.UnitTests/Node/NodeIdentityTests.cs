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

    [Fact]
    public void A_requested_reset_is_applied_once_and_stays_pending_across_restarts_until_a_sync_completes()
    {
        var before = new NodeIdentity(_directory.Path);
        before.SetHistory(Guid.NewGuid());
        Assert.False(before.IsResetPending);
        var marker = new ResetMarker(_directory.Path);
        marker.Request();
        Assert.True(marker.Exists);
        Assert.Null(marker.AppliedNodeId);

        var reset = new NodeIdentity(_directory.Path);
        Assert.True(reset.ResetAppliedNow);
        Assert.True(reset.IsResetPending);
        Assert.NotEqual(before.NodeId, reset.NodeId);
        Assert.Equal(Guid.Empty, reset.HistoryId);
        Assert.Equal(reset.NodeId, marker.AppliedNodeId);

        // A supervisor restart before the sync: the same new node, still waiting for a donor, not reset again.
        var restarted = new NodeIdentity(_directory.Path);
        Assert.False(restarted.ResetAppliedNow);
        Assert.True(restarted.IsResetPending);
        Assert.Equal(reset.NodeId, restarted.NodeId);

        restarted.SetHistory(Guid.NewGuid());
        restarted.ConfirmSynced();
        Assert.False(restarted.IsResetPending);
        Assert.False(marker.Exists);
        var afterSync = new NodeIdentity(_directory.Path);
        Assert.False(afterSync.IsResetPending);
        Assert.Equal(reset.NodeId, afterSync.NodeId);
    }

    [Fact]
    public void A_second_request_before_the_next_start_is_one_reset()
    {
        var marker = new ResetMarker(_directory.Path);
        marker.Request();
        marker.Request();
        var reset = new NodeIdentity(_directory.Path);
        Assert.True(reset.ResetAppliedNow);
        Assert.Equal(reset.NodeId, new NodeIdentity(_directory.Path).NodeId);
    }

    [Fact]
    public void A_reset_of_a_missing_folder_is_refused()
    {
        var missing = new ResetMarker(Path.Combine(_directory.Path, "nope"));
        Assert.Throws<DirectoryNotFoundException>(missing.Request);
    }
}
