using System.Text;
using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Router;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.IntegrationTests;

/// <summary>Two replica groups of two FASTER nodes each behind one router: slots route every request to its group.</summary>
public sealed class ReplicaGroupTests
{
    private const int Keys = 2000;

    [Fact]
    public async Task Keys_spread_evenly_and_each_node_applies_only_its_groups_writes()
    {
        using var folder = new TempDirectory();
        await using var groups = await TwoGroups.StartAsync(folder);
        var cluster = groups.Cluster;
        await using var client = await cluster.ConnectAsync();
        for (var i = 0; i < Keys; i++)
            await client.SetAsync($"key:{i}", $"value {i}");

        var map = cluster.Router.Cluster.Slots;
        var expected = new int[2];
        for (var i = 0; i < Keys; i++)
            expected[map.GroupOfKey(Encoding.UTF8.GetBytes($"key:{i}"))]++;
        // Within 5% of an even split.
        Assert.All(expected, count => Assert.InRange(count, Keys / 2 * 95 / 100, Keys / 2 * 105 / 100));

        foreach (var (node, group) in cluster.Nodes.Zip(Groups))
        {
            var index = map.Groups.ToList().IndexOf(group);
            // Acknowledged with write concern all: both nodes of the key's group applied every write, and nothing else.
            Assert.Equal(expected[index], node.Engine.Count);
            Assert.Equal((ulong)expected[index], node.Engine.LastSequence);
            Assert.All(node.Engine.Scan(), record => Assert.Equal(index, map.GroupOfKey(record.Key)));
        }
        Assert.Equal((ulong)Keys, cluster.Router.Cluster.Sequence);
        for (var i = 0; i < Keys; i += 97)
            Assert.Equal($"value {i}", await client.GetStringAsync($"key:{i}"));

        var info = await client.InfoAsync();
        Assert.Contains("groups: a,b", info);
        Assert.Contains($"group_a: slots=8192 sequence={expected[0]}", info);
        Assert.Contains($"group_b: slots=8192 sequence={expected[1]}", info);
    }

    [Fact]
    public async Task Multi_key_requests_across_groups_are_split_and_put_back_in_order()
    {
        using var folder = new TempDirectory();
        await using var groups = await TwoGroups.StartAsync(folder);
        var cluster = groups.Cluster;
        await using var client = await cluster.ConnectAsync();
        var keys = Enumerable.Range(0, 40).Select(i => $"multi:{i}").ToList();
        var map = cluster.Router.Cluster.Slots;
        Assert.Equal(2, keys.Select(k => map.GroupOfKey(Encoding.UTF8.GetBytes(k))).Distinct().Count());

        await client.MultiSetStringsAsync([.. keys.Where((_, i) => i % 3 != 0).Select(k => KeyValuePair.Create(k, "v" + k))]);
        var values = await client.MultiGetStringsAsync(keys);
        Assert.Equal(keys.Select((k, i) => i % 3 != 0 ? "v" + k : null), values);

        var listed = new List<string>();
        await foreach (var key in client.ListKeyStringsAsync("multi:"))
            listed.Add(key);
        Assert.Equal(keys.Where((_, i) => i % 3 != 0).Order(), listed.Order());

        var digest = await client.DigestAsync();
        Assert.Equal(4, digest.Count);
        // Each group's two replicas agree, and the groups' keys add up to every key once.
        var byGroup = digest.GroupBy(e => cluster.Router.Cluster.Nodes.Connected.Single(n => n.Id == e.NodeId).Group.Name).ToList();
        Assert.All(byGroup, g => Assert.Single(g.Select(e => (e.Digest.KeyCount, e.Digest.ContentHash)).Distinct()));
        Assert.Equal((ulong)listed.Count, byGroup.Aggregate(0UL, (sum, g) => sum + g.First().Digest.KeyCount));
    }

    [Fact]
    public async Task A_transaction_across_groups_is_refused_with_CrossSlot_and_one_within_a_group_commits()
    {
        using var folder = new TempDirectory();
        await using var groups = await TwoGroups.StartAsync(folder);
        var cluster = groups.Cluster;
        await using var client = await cluster.ConnectAsync();
        var map = cluster.Router.Cluster.Slots;
        var (inA, inB) = KeysOfTwoGroups(map);

        var refused = await Assert.ThrowsAnyAsync<KvnDbException>(async () =>
            await client.TransactionAsync(t => t.RequireAbsent(inA).Set(inA, "1").Set(inB, "2")));
        Assert.Equal(StatusCode.CrossSlot, refused.Status);
        Assert.Null(await client.GetStringAsync(inA));
        Assert.Null(await client.GetStringAsync(inB));

        // A hash tag puts both keys in one slot: the transaction is atomic in that group.
        var committed = await client.TransactionAsync(t => t.RequireAbsent("{user1}:a").Set("{user1}:a", "1").Set("{user1}:b", "2"));
        Assert.True(committed.Committed);
        var both = await client.MultiGetStringsAsync(["{user1}:a", "{user1}:b"]);
        Assert.Equal("1", both[0]);
        Assert.Equal("2", both[1]);
    }

    [Fact]
    public async Task Killing_a_node_of_one_group_leaves_the_other_group_untouched()
    {
        using var folder = new TempDirectory();
        await using var groups = await TwoGroups.StartAsync(folder);
        var cluster = groups.Cluster;
        await using var client = await cluster.ConnectAsync();
        var router = cluster.Router.Cluster;
        var a = router.GroupNamed("a")!;
        var b = router.GroupNamed("b")!;
        var (inA, inB) = KeysOfTwoGroups(router.Slots);
        await client.SetAsync(inA, "before");
        await client.SetAsync(inB, "before");
        var bMembers = b.Membership.Metadata.Members;
        var bSequence = b.Sequencer.Sequence;

        await cluster.Nodes[0].StopAsync(); // a node of group a
        await Eventually.WaitAsync(() => a.Membership.Metadata.Members.Count == 1 && a.Nodes.Connected.Length == 1, what: "group a's in-sync set without the stopped node");

        Assert.Equal(bMembers, b.Membership.Metadata.Members);
        Assert.Equal(2, b.Nodes.Serving.Length);
        Assert.Equal(bSequence, b.Sequencer.Sequence);
        await client.SetAsync(inB, "after");
        await client.SetAsync(inA, "after");
        Assert.Equal("after", await client.GetStringAsync(inB));
        Assert.Equal("after", await client.GetStringAsync(inA));
        Assert.All(cluster.Nodes.Skip(2), node => Assert.Equal(bSequence + 1, node.Engine.LastSequence));
    }

    [Fact]
    public async Task A_node_of_a_group_the_router_does_not_have_is_refused()
    {
        using var folder = new TempDirectory();
        await using var groups = await TwoGroups.StartAsync(folder);
        var cluster = groups.Cluster;
        // Not one of the cluster's nodes: it stops on its own, refused.
        var stray = TestNode.Start(new NodeOptions { RouterHost = "127.0.0.1", RouterPort = cluster.Router.Port, Group = "c" },
            new RamStorageEngine(), new NodeIdentity(null));
        var refused = await Assert.ThrowsAsync<NodeFatalException>(() => stray.Run.WaitAsync(TestCluster.Timeout));
        Assert.Contains("no group 'c'", refused.Message);
        Assert.Equal(4, cluster.Router.NodeCount);
    }

    [Fact]
    public async Task Resp_multi_key_commands_split_across_groups_and_a_MULTI_across_groups_is_CROSSSLOT()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions { Groups = ["a", "b"], RespPort = 0 });
        foreach (var group in Groups)
            cluster.StartNode(group: group);
        await cluster.Router.WaitForServingNodesAsync(Groups.Length, TestCluster.Timeout);
        await using var resp = await KvnDb.IntegrationTests.Resp.RawRespClient.ConnectAsync(cluster.Router.RespPort!.Value);
        var (inA, inB) = KeysOfTwoGroups(cluster.Router.Cluster.Slots);

        Assert.Equal("OK", await resp.CallAsync("MSET", inA, "1", inB, "2"));
        var values = Assert.IsType<object?[]>(await resp.CallAsync("MGET", inB, "absent", inA));
        Assert.Equal("2,,1", string.Join(",", values));
        Assert.Equal(2L, await resp.CallAsync("EXISTS", inA, inB, "absent"));
        Assert.Equal(2L, await resp.CallAsync("DBSIZE"));
        // A scan walks the groups slot by slot (GroupListingTests has the details).
        var scanned = new List<string>();
        var cursor = "0";
        do
        {
            var page = Assert.IsType<object?[]>(await resp.CallAsync("SCAN", cursor));
            cursor = Assert.IsType<string>(page[0]);
            scanned.AddRange(Assert.IsType<object?[]>(page[1]).Cast<string>());
        }
        while (cursor != "0");
        Assert.Equal(new[] { inA, inB }.Order(StringComparer.Ordinal), scanned.Order(StringComparer.Ordinal));
        Assert.Equal(2, Assert.IsType<object?[]>(await resp.CallAsync("KEYS", "*")).Length);

        Assert.Equal("OK", await resp.CallAsync("MULTI"));
        Assert.Equal("QUEUED", await resp.CallAsync("SET", inA, "x"));
        Assert.Equal("QUEUED", await resp.CallAsync("SET", inB, "y"));
        var exec = await resp.CallAsync("EXEC");
        Assert.StartsWith("CROSSSLOT Keys in request don't hash to the same slot", Assert.IsType<KvnDb.IntegrationTests.Resp.RespErrorReply>(exec).Message);
        Assert.Equal("1", await resp.CallAsync("GET", inA));

        Assert.Equal(2L, await resp.CallAsync("DEL", inA, inB));
        Assert.Equal(0L, await resp.CallAsync("DBSIZE"));
    }

    private static readonly string[] Groups = ["a", "a", "b", "b"];

    /// <summary>The router with groups a and b, nodes 0 and 1 in a, 2 and 3 in b; disposing it closes the stores too.</summary>
    private sealed class TwoGroups(TestCluster cluster, List<FasterStorageEngine> engines) : IAsyncDisposable
    {
        public TestCluster Cluster { get; } = cluster;

        public static async Task<TwoGroups> StartAsync(TempDirectory folder)
        {
            var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions { Groups = ["a", "b"], DataDirectory = folder.PathOf("router") });
            var engines = new List<FasterStorageEngine>();
            for (var i = 0; i < Groups.Length; i++)
            {
                var engine = OpenFaster(folder.PathOf($"node{i}"));
                engines.Add(engine);
                cluster.StartNode(engine, group: Groups[i]);
            }
            await cluster.Router.WaitForServingNodesAsync(Groups.Length, TestCluster.Timeout);
            return new TwoGroups(cluster, engines);
        }

        public async ValueTask DisposeAsync()
        {
            await Cluster.DisposeAsync();
            foreach (var engine in engines)
                await engine.DisposeAsync();
        }
    }

    private static (string InA, string InB) KeysOfTwoGroups(KvnDb.Router.Groups.SlotMap map)
    {
        var inA = Enumerable.Range(0, 100).Select(i => $"k{i}").First(k => map.GroupOfKey(Encoding.UTF8.GetBytes(k)) == 0);
        var inB = Enumerable.Range(0, 100).Select(i => $"k{i}").First(k => map.GroupOfKey(Encoding.UTF8.GetBytes(k)) == 1);
        return (inA, inB);
    }

    private static FasterStorageEngine OpenFaster(string directory) =>
        FasterStorageEngine.Open(directory, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = directory,
            MemoryBytes = 64L << 20,
            CheckpointInterval = Timeout.InfiniteTimeSpan,
        }, NullLogger.Instance);
}
