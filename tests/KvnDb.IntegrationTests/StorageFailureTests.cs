using KvnDb.Client;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A node whose storage fails a write it was sent: it answers the error, leaves serving at once, is taken
/// out of the in-sync set, and rejoins once it can apply writes again; the writes go on, acknowledged by
/// the nodes still in sync. Real router, real nodes over loopback, and a real file-system failure: the
/// <c>dir</c> engine's keys folder turned into a file (the full-disk cases are in KvnDb.FaultTests).
/// </summary>
public sealed class StorageFailureTests
{
    [Fact]
    public async Task A_node_that_fails_to_apply_a_write_leaves_serving_and_catches_up_once_its_storage_works()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        using var data = new TempDirectory();
        var failing = cluster.StartNode(new DirStorageEngine(data.Path));
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        await using var client = await cluster.ConnectAsync();
        var acknowledged = new Dictionary<string, string>();
        for (var i = 0; i < 50; i++)
            await SetAsync(client, acknowledged, $"before{i}", $"{i}");

        // The keys folder becomes a file: every write to it fails with ENOTDIR.
        var keys = Path.Combine(data.Path, "keys");
        var aside = keys + ".aside";
        Directory.Move(keys, aside);
        await File.WriteAllTextAsync(keys, "not a folder");

        // The write the node fails is acknowledged anyway, by the node still in sync, once the failing one left the set.
        await SetAsync(client, acknowledged, "during0", "0");
        await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 1, what: "the failing node leaving serving");
        var info = await RouterInfo.ReadAsync(client);
        Assert.True(info.NodeApplyFailures >= 1, $"no apply failure counted\n{cluster.Router.Info}");
        Assert.Equal([1], info.InSync); // the ram node, the first to join
        Assert.True(failing.Engine.Health.WritesFailed >= 1);
        var departure = info.Departure(2);
        Assert.True(departure is not null && departure.Contains("failed to apply a write", StringComparison.Ordinal), $"info does not say why node 2 left\n{cluster.Router.Info}");

        // Writes go on without it, while it keeps trying to rejoin (and keeps failing the first write it is sent).
        for (var i = 1; i < 30; i++)
            await SetAsync(client, acknowledged, $"during{i}", $"{i}");

        // Its storage works again: it rejoins from the last sequence it holds and serves an equal replica.
        File.Delete(keys);
        Directory.Move(aside, keys);
        await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 2, what: "the repaired node serving again");
        for (var i = 0; i < 10; i++)
            await SetAsync(client, acknowledged, $"after{i}", $"{i}");
        await ReplicationTests.AssertReplicasEqualAsync(cluster, client, expectedNodes: 2);
        foreach (var (key, value) in acknowledged)
            Assert.Equal(value, await client.GetStringAsync(key));
        Assert.Null((await RouterInfo.ReadAsync(client)).Departure(2));
    }

    [Fact]
    public async Task The_last_in_sync_node_failing_a_write_gives_the_client_its_error_and_nothing_is_written_until_it_is_back()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0);
        using var data = new TempDirectory();
        var node = cluster.StartNode(new DirStorageEngine(data.Path));
        await cluster.Router.WaitForServingNodesAsync(1, TestCluster.Timeout);
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("a", "1");

        var keys = Path.Combine(data.Path, "keys");
        Directory.Move(keys, keys + ".aside");
        await File.WriteAllTextAsync(keys, "not a folder");

        // Its own failure reaches the client, with the node's reason; the next writes find nobody in sync.
        var failed = await Assert.ThrowsAnyAsync<KvnDbException>(async () => await client.SetAsync("b", "2"));
        Assert.Equal(StatusCode.InternalError, failed.Status);
        Assert.Contains("could not apply", failed.Message, StringComparison.Ordinal);
        Assert.Contains("not acknowledged", failed.Message, StringComparison.Ordinal);
        await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 0, what: "the node leaving serving");
        var refused = await Assert.ThrowsAsync<KvnDbUnavailableException>(async () => await client.SetAsync("c", "3"));
        Assert.Contains("failed to apply a write", refused.Message, StringComparison.Ordinal);

        File.Delete(keys);
        Directory.Move(keys + ".aside", keys);
        await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 1, what: "the repaired node serving again");
        Assert.Equal("1", await client.GetStringAsync("a"));
        // The failed write stayed in the router's log: the node applied it when it caught up (as the error said it might).
        Assert.Equal("2", await client.GetStringAsync("b"));
        Assert.Null(await client.GetStringAsync("c"));
        Assert.True(node.Engine.Health.WritesFailed >= 1);
    }

    private static async Task SetAsync(KvnDbClient client, Dictionary<string, string> acknowledged, string key, string value)
    {
        await client.SetAsync(key, value);
        acknowledged[key] = value;
    }
}
