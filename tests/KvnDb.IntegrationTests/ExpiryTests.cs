using System.Text;
using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Router;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Expiry judged by the router's clock, here a fake one the test advances: reads skip expired keys on
/// every node from the first millisecond after the expiry, time marks remove them for real at one
/// sequence on every node, and syncs, replays and restarts carry expiries without resurrecting a key.
/// </summary>
public sealed class ExpiryTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    private RouterOptions Options(int chunkBytes = 256 * 1024, long backlogBytes = 64L << 20) => new()
    {
        Clock = _clock,
        BacklogBytes = backlogBytes,
        ReadPolicy = ReadPolicy.RoundRobin, // consecutive reads visit every node
        SnapshotChunkBytes = chunkBytes,
    };

    [Fact]
    public async Task A_key_with_a_200_ms_expiry_is_unreadable_after_it_on_every_node_and_gone_from_listings_and_digests()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3, Options());
        await using var client = await cluster.ConnectAsync();
        Assert.True((await client.SetAsync("session", "token", When.Always, TimeSpan.FromMilliseconds(200))).Written);
        await client.SetAsync("keep", "forever");

        var ttl = await client.TimeToLiveAsync("session");
        Assert.True(ttl.Exists);
        Assert.Equal(TimeSpan.FromMilliseconds(200), ttl.Remaining);
        Assert.Null((await client.TimeToLiveAsync("keep")).Remaining);

        _clock.Advance(TimeSpan.FromMilliseconds(200)); // at the expiry itself the key still lives (Redis: expired once past it)
        await AssertOnEveryNodeAsync(client, "session", "token");

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await AssertOnEveryNodeAsync(client, "session", null);
        Assert.False(await client.ExistsAsync("session"));
        Assert.False((await client.TimeToLiveAsync("session")).Exists);
        Assert.Null(await client.GetWithVersionAsync("session"));
        Assert.Equal(["keep"], await ListAsync(client));
        var digests = await client.DigestAsync();
        Assert.All(digests, d => Assert.Equal(1UL, d.Digest.KeyCount));
        Assert.Single(digests.Select(d => d.Digest).Distinct());

        // Removed for real: at its next check (every 100 ms of the router's clock) the router sends a time
        // mark, and every node deletes the key at that one sequence.
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        await Eventually.WaitAsync(() => cluster.Nodes.All(n => !n.Engine.Exists("session"u8) && n.Engine.Count == 1), what: "the expired key removed from every engine");
        await Eventually.WaitAsync(() => cluster.Router.Cluster.Expiry.Removed >= 1, what: "the mark's outcome counted");
        await CommandTests.AssertDigestsAgreeAsync(client, nodes: 3);
    }

    [Fact]
    public async Task Expire_persist_and_the_conditions_of_a_ttl_behave_as_in_redis()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, Options());
        await using var client = await cluster.ConnectAsync();
        Assert.False(await client.ExpireAsync("missing", TimeSpan.FromSeconds(1)));
        await client.SetAsync("k", "v");
        Assert.False(await client.ExpireAsync("k", TimeSpan.FromSeconds(10), ExpiryCondition.HasExpiry));
        Assert.True(await client.ExpireAsync("k", TimeSpan.FromSeconds(10), ExpiryCondition.NoExpiry));
        Assert.False(await client.ExpireAsync("k", TimeSpan.FromSeconds(5), ExpiryCondition.Later));
        Assert.True(await client.ExpireAsync("k", TimeSpan.FromSeconds(5), ExpiryCondition.Earlier));
        Assert.Equal(TimeSpan.FromSeconds(5), (await client.TimeToLiveAsync("k")).Remaining);
        Assert.Equal(1, await client.IncrementAsync("counter"));
        Assert.True(await client.ExpireAsync("counter", TimeSpan.FromSeconds(3)));
        Assert.Equal(2, await client.IncrementAsync("counter")); // an increment keeps the expiry
        Assert.Equal(TimeSpan.FromSeconds(3), (await client.TimeToLiveAsync("counter")).Remaining);
        await client.SetAsync("counter", "9"); // a plain set clears it
        Assert.Null((await client.TimeToLiveAsync("counter")).Remaining);

        Assert.True(await client.PersistAsync("k"));
        Assert.False(await client.PersistAsync("k"));
        Assert.Null((await client.TimeToLiveAsync("k")).Remaining);

        await client.SetAsync("kept", "v", When.Always, TimeSpan.FromSeconds(2));
        await client.SetAsync("kept", "w", When.Always, keepTtl: true);
        Assert.Equal(TimeSpan.FromSeconds(2), (await client.TimeToLiveAsync("kept")).Remaining);

        Assert.True(await client.ExpireAsync("k", TimeSpan.FromSeconds(-1))); // a time already past deletes the key
        Assert.False(await client.ExistsAsync("k"));

        _clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Null(await client.GetStringAsync("kept"));
        Assert.Equal("9", await client.GetStringAsync("counter"));
        await Eventually.WaitAsync(() => cluster.Nodes.All(n => n.Engine.Count == 1), what: "expired keys removed");
        await CommandTests.AssertDigestsAgreeAsync(client, nodes: 2);
    }

    [Fact]
    public async Task A_node_that_full_syncs_while_keys_expire_ends_with_equal_digests()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, Options(chunkBytes: 2048, backlogBytes: 16 * 1024)); // too small to replay: a full sync
        await using var client = await cluster.ConnectAsync();
        for (var i = 0; i < 1500; i++)
            await client.SetAsync($"e{i}", $"{i}", When.Always, TimeSpan.FromMilliseconds(50 + (i % 30) * 50));
        await ReplicationTests.PreloadAsync(client, 500);

        var joiner = cluster.StartNode();
        // While the snapshot streams: time passes (marks remove keys on the donor and the joiner alike),
        // and writes evaluated against current values land on keys the joiner may not have been sent yet.
        for (var step = 0; cluster.Router.ServingNodeCount < 3 || step < 40; step++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(50));
            await client.IncrementAsync($"e{step * 37 % 1500}");
            await client.SetAsync($"k{step}", "nx", When.NotExists);
            await client.ExpireAsync($"k{step + 100}", TimeSpan.FromMilliseconds(100));
            Assert.True(step < 10_000, "the joiner never finished its sync");
        }
        _clock.Advance(TimeSpan.FromSeconds(3));

        // The router's clock moves on while we wait, so its checks go on sending marks until nothing is due.
        try
        {
        await Eventually.WaitAsync(() =>
        {
            _clock.Advance(TimeSpan.FromMilliseconds(100));
            return cluster.Router.ServingNodeCount == 3 && cluster.Nodes.All(n => n.Engine.Count == cluster.Nodes[0].Engine.Count)
                && cluster.Router.Cluster.Expiry.NextDue == long.MaxValue;
        }, what: "every expired key removed everywhere");
        }
        catch (TimeoutException)
        {
            Assert.Fail(State(cluster)());
        }
        Assert.Equal(1, cluster.Router.Cluster.Stats.FullSyncs);
        await ReplicationTests.AssertReplicasEqualAsync(cluster, client, expectedNodes: 3);
        Assert.Equal(StoredValue(joiner, "k5"), StoredValue(cluster.Nodes[0], "k5"));
    }

    [Fact]
    public async Task A_node_that_replays_while_keys_expire_ends_with_equal_digests()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, Options());
        await using var client = await cluster.ConnectAsync();
        for (var i = 0; i < 200; i++)
            await client.SetAsync($"e{i}", "v", When.Always, TimeSpan.FromMilliseconds(100 + i * 10));
        await ReplicationTests.PreloadAsync(client, 100);

        var leaving = cluster.Nodes[1];
        await leaving.StopAsync();
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1);
        for (var step = 0; step < 20; step++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(100)); // marks remove keys while the node is away
            await client.IncrementAsync("counter");
        }
        var removedWhileAway = cluster.Router.Cluster.Expiry.Removed;
        Assert.True(removedWhileAway > 0);

        cluster.StartNode(leaving.Engine, identity: leaving.Node.Identity);
        await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 2);
        Assert.Equal(0, cluster.Router.Cluster.Stats.FullSyncs);
        Assert.True(cluster.Router.Cluster.Stats.ReplayedWrites > 0);
        await ReplicationTests.AssertReplicasEqualAsync(cluster, client, expectedNodes: 2);
    }

    [Fact]
    public async Task A_node_restarted_from_disk_does_not_resurrect_an_expired_key()
    {
        using var data = new TempDirectory();
        await using var cluster = await TestCluster.StartAsync(nodes: 1, Options());
        await using var client = await cluster.ConnectAsync();
        var identity = new NodeIdentity(data.Path);
        var faster = cluster.StartNode(OpenFaster(data.Path), identity: identity);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);

        await client.SetAsync("ephemeral", "v", When.Always, TimeSpan.FromMilliseconds(200));
        await client.SetAsync("durable", "v");
        await faster.StopAsync();
        await faster.Engine.DisposeAsync(); // a final checkpoint: the expiring key is on disk
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1);

        _clock.Advance(TimeSpan.FromMilliseconds(300));
        await Eventually.WaitAsync(() => !cluster.Nodes[0].Engine.Exists("ephemeral"u8), what: "the mark removed the key on the node that stayed");

        var reopened = OpenFaster(data.Path);
        Assert.True(reopened.Exists("ephemeral"u8), "the stopped node's disk still holds the key");
        var back = cluster.StartNode(reopened, identity: identity);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        await AssertOnEveryNodeAsync(client, "ephemeral", null);
        await Eventually.WaitAsync(() => !back.Engine.Exists("ephemeral"u8), what: "the replayed mark removed the key from disk too");
        await ReplicationTests.AssertReplicasEqualAsync(cluster, client, expectedNodes: 2);
        await back.StopAsync();
        await back.Engine.DisposeAsync();
    }

    private static Func<string> State(TestCluster cluster) => () =>
        $"serving {cluster.Router.ServingNodeCount}, counts {string.Join(",", cluster.Nodes.Select(n => n.Engine.Count))}, next due {cluster.Router.Cluster.Expiry.NextDue}, marks {cluster.Router.Cluster.Expiry.Marks}, removed {cluster.Router.Cluster.Expiry.Removed}, full syncs {cluster.Router.Cluster.Stats.FullSyncs}, extra on the joiner: {string.Join(" ", Extra(cluster))}";

    private static IEnumerable<string> Extra(TestCluster cluster)
    {
        var reference = cluster.Nodes[0].Engine.Scan().Select(r => Encoding.UTF8.GetString(r.Key)).ToHashSet();
        foreach (var r in cluster.Nodes[^1].Engine.Scan().Where(r => !reference.Contains(Encoding.UTF8.GetString(r.Key))))
            yield return $"{Encoding.UTF8.GetString(r.Key)}={Encoding.UTF8.GetString(r.Value.Span)}@{r.Sequence} exp {r.ExpiresAt}";
    }

    private static FasterStorageEngine OpenFaster(string directory) =>
        FasterStorageEngine.Open(directory, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = directory,
            MemoryBytes = 64L << 20,
            CheckpointInterval = System.Threading.Timeout.InfiniteTimeSpan,
        }, NullLogger.Instance);

    private static string? StoredValue(TestNode node, string key) =>
        node.Engine.TryGet(Encoding.UTF8.GetBytes(key), out var stored) ? Encoding.UTF8.GetString(stored.Value.Span) : null;

    /// <summary>Round-robin reads: one per node and more, so every serving node answers at least once.</summary>
    private static async Task AssertOnEveryNodeAsync(KvnDbClient client, string key, string? expected)
    {
        for (var i = 0; i < 6; i++)
            Assert.Equal(expected, await client.GetStringAsync(key));
    }

    private static async Task<List<string>> ListAsync(KvnDbClient client)
    {
        var keys = new List<string>();
        await foreach (var key in client.ListKeyStringsAsync())
            keys.Add(key);
        return keys;
    }
}
