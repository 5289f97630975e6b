using System.Globalization;
using System.Text;
using KvnDb.Client;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

public sealed class ReplicationTests
{
    [Fact]
    public async Task A_reset_node_joining_under_writes_ends_equal_to_its_peers_key_for_key()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { SnapshotChunkBytes = 4 * 1024, BacklogBytes = 16 * 1024 });
        await using var client = await cluster.ConnectAsync();
        await PreloadAsync(client, 5000);

        await using (var writer = LoadWriter.Start(client, keySpace: 3000))
        {
            await writer.WaitForWritesAsync(500);
            cluster.StartNode(); // a fresh node: full sync while the writer runs
            await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 3);
            await writer.WaitForWritesAsync(writer.Acknowledged + 500);
        }

        Assert.Equal(1, cluster.Router.Cluster.Stats.FullSyncs);
        await AssertReplicasEqualAsync(cluster, client, expectedNodes: 3);
    }

    [Fact]
    public async Task When_the_donor_dies_mid_sync_the_joiner_still_converges()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, new RouterOptions { SnapshotChunkBytes = 512, BacklogBytes = 16 * 1024 });
        await using var client = await cluster.ConnectAsync();
        await PreloadAsync(client, 20000);

        await using (var writer = LoadWriter.Start(client, keySpace: 5000))
        {
            await writer.WaitForWritesAsync(200);
            var joiner = cluster.StartNode();
            // Wait for the sync to be under way, then kill whichever node is donating.
            TestNode? donor = null;
            await Eventually.WaitAsync(() => (donor = FindDonor(cluster)) is not null);
            await donor!.StopAsync();
            await Eventually.WaitAsync(() => cluster.Router.NodeCount == 3 && cluster.Router.ServingNodeCount == 3);
            Assert.Equal(NodeState.Serving, cluster.Router.Cluster.Nodes.Connected.Single(n => n.Id == (int)joiner.Node.ConnectionId).State);
            Assert.Equal(1, cluster.Router.Cluster.Stats.SyncRestarts);
            await writer.WaitForWritesAsync(writer.Acknowledged + 300);
        }
        await AssertReplicasEqualAsync(cluster, client, expectedNodes: 3);
    }

    [Fact]
    public async Task A_node_rejoining_within_the_backlog_is_sent_only_the_gap()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();
        await PreloadAsync(client, 1000);

        var leaving = cluster.Nodes[1];
        await leaving.StopAsync();
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1);
        for (var i = 0; i < 250; i++)
            await client.SetAsync($"gap{i}", $"{i}");

        var replayedBefore = cluster.Router.Cluster.Stats.ReplayedWrites;
        cluster.StartNode(leaving.Engine, identity: leaving.Node.Identity); // same data, same history
        await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 2);

        Assert.Equal(250, cluster.Router.Cluster.Stats.ReplayedWrites - replayedBefore);
        Assert.Equal(0, cluster.Router.Cluster.Stats.FullSyncs);
        await AssertReplicasEqualAsync(cluster, client, expectedNodes: 2);
    }

    [Fact]
    public async Task A_node_rejoining_beyond_the_backlog_takes_a_full_sync()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { BacklogBytes = 64 * 1024 });
        await using var client = await cluster.ConnectAsync();
        await PreloadAsync(client, 500);

        var leaving = cluster.Nodes[1];
        await leaving.StopAsync();
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1);
        var value = new string('x', 1024);
        for (var i = 0; i < 300; i++) // ~300 KiB of writes: more than the backlog holds
            await client.SetAsync($"big{i}", value);
        await client.DeleteAsync("k7");

        cluster.StartNode(leaving.Engine, identity: leaving.Node.Identity);
        await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 2);

        Assert.Equal(1, cluster.Router.Cluster.Stats.FullSyncs);
        Assert.False(leaving.Engine.Exists("k7"u8), "a key deleted while the node was away must not survive its full sync");
        await AssertReplicasEqualAsync(cluster, client, expectedNodes: 2);
    }

    [Fact]
    public async Task Digest_reports_every_node_and_detects_a_divergent_replica()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();
        await PreloadAsync(client, 100);
        var digests = await client.DigestAsync();
        Assert.Equal(2, digests.Count);
        Assert.Equal(digests[0].Digest, digests[1].Digest);
        Assert.Equal(100UL, digests[0].Digest.KeyCount);

        // Corrupt one replica behind the router's back: the digest must show it.
        cluster.Nodes[0].Engine.Set("rogue"u8, "x"u8, cluster.Nodes[0].Engine.LastSequence);
        digests = await client.DigestAsync();
        Assert.NotEqual(digests[0].Digest, digests[1].Digest);

        var error = new StringWriter();
        var code = await KvnDb.Cli.ConsoleApp.RunAsync(["--port", cluster.Router.Port.ToString(CultureInfo.InvariantCulture), "digest"], new StringReader(""), new StringWriter(), error);
        Assert.Equal(2, code);
        Assert.Contains("differ", error.ToString());
    }

    internal static TestNode? FindDonor(TestCluster cluster)
    {
        var donorId = cluster.Router.Cluster.Syncs.ActiveDonorIds() is [var first, ..] ? first : 0;
        return donorId == 0 ? null : cluster.Nodes.FirstOrDefault(n => n.Node.ConnectionId == (ulong)donorId);
    }

    internal static async Task PreloadAsync(KvnDbClient client, int count)
    {
        var pairs = Enumerable.Range(0, count).Select(i => KeyValuePair.Create($"k{i}", $"v{i}")).ToArray();
        foreach (var batch in pairs.Chunk(500))
            await client.MultiSetStringsAsync(batch);
    }

    /// <summary>Every serving node holds exactly the same records (compared engine to engine) and reports the same digest.</summary>
    internal static async Task AssertReplicasEqualAsync(TestCluster cluster, KvnDbClient client, int expectedNodes)
    {
        var digests = await client.DigestAsync();
        Assert.Equal(expectedNodes, digests.Count(d => d.State == NodeState.Serving));
        Assert.Single(digests.Select(d => d.Digest).Distinct());

        var live = cluster.Nodes.Where(n => !n.Run.IsCompleted).ToList();
        var reference = Contents(live[0].Engine);
        foreach (var node in live.Skip(1))
        {
            var other = Contents(node.Engine);
            Assert.Equal(reference.Count, other.Count);
            foreach (var (key, value) in reference)
                Assert.True(other.TryGetValue(key, out var v) && v == value, $"key {key} differs");
        }
    }

    private static Dictionary<string, string> Contents(IStorageEngine engine) =>
        engine.Scan().ToDictionary(r => Encoding.UTF8.GetString(r.Key), r => Encoding.UTF8.GetString(r.Value.Span));
}
