using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Each node announces at hello the largest record it can store; the router refuses a write above the
/// smallest before sequencing it, so a write is stored by every node or by none (issue 19).
/// </summary>
public sealed class RecordLimitTests
{
    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    /// <summary>FASTER pages of 2 MiB (<c>--memory 16m</c>) and 4 MiB (<c>--memory 128m</c>), less the record overhead.</summary>
    private const long SmallLimit = (2L << 20) - 64;
    private const long LargeLimit = (4L << 20) - 64;

    [Fact]
    public async Task A_value_between_the_limits_of_two_nodes_is_refused_before_sequencing_and_stored_by_neither()
    {
        await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0 });
        using var smallData = new TempDirectory();
        using var largeData = new TempDirectory();
        await using var small = NodeProcess.Start(router, smallData.Path, memory: "16m");
        await using var large = NodeProcess.Start(router, largeData.Path, memory: "128m");
        await router.WaitForServingNodesAsync(2, Timeout);
        await using var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, RequestTimeout = Timeout });

        var info = await RouterInfo.ReadAsync(client);
        Assert.Equal(SmallLimit, info.RecordLimit);
        Assert.Equal([SmallLimit, LargeLimit], info.Nodes.Select(n => n.MaxRecord).Order());

        var fits = new string('f', 1 << 20);
        await client.SetAsync("fits", fits);
        var sequenceBefore = (await RouterInfo.ReadAsync(client)).Sequence;

        var between = new string('b', 3 << 20);
        var refused = await Assert.ThrowsAsync<KvnDbProtocolException>(async () => await client.SetAsync("between", between));
        Assert.Equal(StatusCode.RecordTooLarge, refused.Status);
        Assert.Contains($"record limit of {SmallLimit} bytes", refused.Message);
        Assert.Contains("--memory", refused.Message);
        // A multi-set is one write: one pair too large refuses all of it.
        var multi = await Assert.ThrowsAsync<KvnDbProtocolException>(() =>
            client.MultiSetStringsAsync([new("m-small", "x"), new("m-between", between)]));
        Assert.Equal(StatusCode.RecordTooLarge, multi.Status);

        // Refused before sequencing: no sequence was spent, and every node's digest (taken at one point of the
        // write stream) holds the one key that fits, identically.
        Assert.Equal(sequenceBefore, (await RouterInfo.ReadAsync(client)).Sequence);
        var digests = await client.DigestAsync();
        Assert.Equal(2, digests.Count);
        Assert.All(digests, d => Assert.Equal(1UL, d.Digest.KeyCount));
        Assert.Single(digests.Select(d => d.Digest.ContentHash).Distinct());
        Assert.False(await client.ExistsAsync("between"));
        Assert.False(await client.ExistsAsync("m-small"));
        Assert.Equal(fits, await client.GetStringAsync("fits"));

        // The small node leaves the cluster (and the in-sync set, the other member staying): the limit rises to the large one's.
        await NodeProcess.StopAsync(small);
        await Eventually.WaitAsync(async () => (await RouterInfo.ReadAsync(client)).RecordLimit == LargeLimit, Timeout, "the limit of the remaining node");
        await client.SetAsync("between", between);
        Assert.Equal(between, await client.GetStringAsync("between"));
        await NodeProcess.StopAsync(large);
    }

    [Fact]
    public async Task An_in_sync_member_that_is_away_still_bounds_writes()
    {
        await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0 });
        using var data = new TempDirectory();
        await using (var node = NodeProcess.Start(router, data.Path, memory: "16m"))
        {
            await router.WaitForServingNodesAsync(1, Timeout);
            await NodeProcess.StopAsync(node);
        }
        await Eventually.WaitAsync(() => router.NodeCount == 0, Timeout, "the node gone");

        // The last member stays in the set while away; its remembered limit still holds (writes are refused as
        // too large, not merely as unavailable).
        await using var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, RequestTimeout = Timeout });
        Assert.Equal(SmallLimit, (await RouterInfo.ReadAsync(client)).RecordLimit);
        var refused = await Assert.ThrowsAsync<KvnDbProtocolException>(async () => await client.SetAsync("k", new string('x', 3 << 20)));
        Assert.Equal(StatusCode.RecordTooLarge, refused.Status);
        Assert.Contains("away", refused.Message);
    }

    [Fact]
    public async Task Nodes_adopt_the_router_s_frame_and_key_limits_so_a_write_the_router_takes_every_node_takes()
    {
        // Issue 16: a 100 KB key was sequenced by a router with a larger key limit, then refused by both nodes.
        await using var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions { MaxKeySize = 128 * 1024, MaxFrameSize = 4 << 20 });
        var nodes = Enumerable.Range(0, 2).Select(_ => TestNode.Start(new NodeOptions
        {
            RouterPort = cluster.Router.Port,
            MaxFrameSize = 1 << 20, // smaller than the router's: the hello reply replaces it
            MaxKeySize = 1024,
        }, new RamStorageEngine(), new NodeIdentity(null))).ToList();
        try
        {
            await cluster.Router.WaitForServingNodesAsync(2, Timeout);
            await using var client = await cluster.ConnectAsync();
            var key = new string('k', 100_000);
            var value = new string('v', 2 << 20);
            await client.SetAsync(key, value);
            foreach (var node in nodes)
            {
                Assert.True(node.Engine.TryGet(System.Text.Encoding.UTF8.GetBytes(key), out var stored));
                using (stored)
                    Assert.Equal(value.Length, stored.Value.Length);
            }
            Assert.Equal(2, cluster.Router.ServingNodeCount); // no node dropped its link over a frame above its own default
        }
        finally
        {
            foreach (var node in nodes)
                await node.StopAsync();
        }
    }
}
